"""The benchmark's peers, PyHessian and loss-landscapes, called on mslib's problems; and faithful
re-implementations of the PyHessian algorithms, for tests and where the peer cannot run.

The peers are installed only for the benchmark (``requirements-bench.txt``); nothing in the book
or the tests needs them. PyHessian 0.1's ``density`` calls ``torch.eig``, which torch 2.x no longer
has, so its stochastic Lanczos quadrature runs here as ``pyhessian_style_density``: the same loop
(one Gram-Schmidt pass against every Lanczos vector) with ``torch.linalg.eigh`` for the
tridiagonal matrix. Power iteration (``power_iteration``) repeats ``hessian.eigenvalues``.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import warnings
from typing import Callable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

Operator = Callable[[Tensor], Tensor]


def version(name: str) -> str | None:
    """The installed version of the distribution ``name``, or None where it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        importlib.import_module(name.replace("-", "_").lower())
        return installed(name)
    except (ImportError, PackageNotFoundError):
        return None


def power_iteration(op: Operator, d: int, top_n: int = 1, *, max_iter: int = 100, tol: float = 1e-3,
                    seed: int = 0, dtype: torch.dtype = torch.float64) -> tuple[list[float], Tensor]:
    """PyHessian's ``eigenvalues(maxIter, tol, top_n)`` on an operator ``op(v) = H v`` (v of shape (d,)).

    For each eigenvalue in turn: a Gaussian start, then up to ``max_iter`` steps of deflated
    power iteration (orthogonalized against the eigenvectors found so far), stopping when the
    Rayleigh quotient changes by less than ``tol`` relatively. Returns the eigenvalues in the
    order found and the vectors as the columns of a (d, top_n) tensor.
    """
    generator = torch.Generator().manual_seed(seed)
    values: list[float] = []
    vectors: list[Tensor] = []
    for _ in range(top_n):
        v = torch.randn(d, generator=generator, dtype=dtype)
        v = v / (v.norm() + 1e-6)
        value = None
        for _ in range(max_iter):
            for u in vectors:
                v = v - (v @ u) * u
            v = v / (v.norm() + 1e-6)
            Hv = op(v)
            current = float(Hv @ v)
            v = Hv / (Hv.norm() + 1e-6)
            if value is not None and abs(value - current) / (abs(value) + 1e-6) < tol:
                break
            value = current
        values.append(current)
        vectors.append(v)
    return values, torch.stack(vectors, dim=1)


def pyhessian_style_density(op: Operator, d: int, *, steps: int = 100, probes: int = 1, seed: int = 0,
                            dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """PyHessian's ``density(iter=steps, n_v=probes)``: nodes and weights, each (probes, steps).

    Rademacher probes, Lanczos with one classical Gram-Schmidt pass against every earlier vector
    per step (vector by vector, as PyHessian does), then the eigenpairs of the tridiagonal matrix
    (``torch.linalg.eigh`` where PyHessian called the removed ``torch.eig``).
    """
    generator = torch.Generator().manual_seed(seed)
    all_nodes, all_weights = [], []
    for _ in range(probes):
        v = (torch.randint(0, 2, (d,), generator=generator) * 2 - 1).to(dtype)
        v = v / (v.norm() + 1e-6)
        basis, alphas, betas = [v], [], []
        w = torch.zeros(d, dtype=dtype)
        for i in range(steps):
            if i > 0:
                beta = float(w.norm())
                betas.append(beta)
                for u in basis:  # PyHessian's orthnormal(w, v_list)
                    w = w - (w @ u) * u
                v = w / (w.norm() + 1e-6)
                basis.append(v)
            Hv = op(v)
            alpha = float(Hv @ v)
            alphas.append(alpha)
            w = Hv - alpha * v - (betas[-1] * basis[-2] if i > 0 else 0)
        T = torch.diag(torch.tensor(alphas)) + torch.diag(torch.tensor(betas), 1) + torch.diag(torch.tensor(betas), -1)
        nodes, vectors = torch.linalg.eigh(T.double())
        all_nodes.append(nodes)
        all_weights.append(vectors[0] ** 2)
    return torch.stack(all_nodes), torch.stack(all_weights)


class PyHessian:
    """PyHessian 0.1's ``hessian`` object on a model, data and criterion, counting its
    Hessian-vector products (``products``). Runs with float64 as torch's default dtype, since
    PyHessian draws its vectors with ``torch.randn(shape)`` in the default dtype."""

    def __init__(self, model: nn.Module, X: Tensor, Y: Tensor, criterion: Callable[[Tensor, Tensor], Tensor]):
        import pyhessian  # noqa: F401  (the benchmark's extra requirement)

        self._module = sys.modules["pyhessian.hessian"]
        self.products = 0
        with self._counting():
            model.zero_grad(set_to_none=True)
            self._hessian = self._module.hessian(model, criterion, data=(X, Y), cuda=False)
        self._model = model

    @contextlib.contextmanager
    def _counting(self) -> Iterator[None]:
        original = self._module.hessian_vector_product

        def counted(*args):
            self.products += 1
            return original(*args)

        default = torch.get_default_dtype()
        self._module.hessian_vector_product = counted
        torch.set_default_dtype(torch.float64)
        try:
            with warnings.catch_warnings():  # PyHessian's own loss.backward(create_graph=True); release() breaks the cycle
                warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
                yield
        finally:
            self._module.hessian_vector_product = original
            torch.set_default_dtype(default)

    def eigenvalues(self, top_n: int = 1, **kwargs) -> list[float]:
        """PyHessian's power iteration, at its defaults unless ``kwargs`` say otherwise."""
        with self._counting():
            values, _ = self._hessian.eigenvalues(top_n=top_n, **kwargs)
        return values

    def trace(self, **kwargs) -> list[float]:
        """PyHessian's Hutchinson samples ``v^T H v`` (their mean estimates tr H)."""
        with self._counting():
            return self._hessian.trace(**kwargs)

    def release(self) -> None:
        """Drop the gradient graph PyHessian keeps in the parameters' ``.grad`` (a reference cycle)."""
        self._model.zero_grad(set_to_none=True)
        del self._hessian


def loss_landscapes_plane(model: nn.Module, X: Tensor, Y: Tensor, criterion: Callable[[Tensor, Tensor], Tensor],
                          *, steps: int, distance: float = 1.0, normalization: str = "filter") -> np.ndarray:
    """loss-landscapes' ``random_plane``: the loss on a ``steps`` x ``steps`` grid of the plane of two
    normalized random directions through ``model``'s parameters (model copied, not mutated)."""
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    with torch.no_grad():
        return loss_landscapes.random_plane(model, Loss(criterion, X, Y), distance=distance, steps=steps,
                                            normalization=normalization, deepcopy_model=True)


def loss_landscapes_filter_direction(model: nn.Module, seed: int = 0) -> list[Tensor]:
    """A direction filter-normalized by loss-landscapes (uniform [0, 1) entries, as it draws them),
    one tensor per parameter: for the check of how it treats biases."""
    from loss_landscapes.model_interface.model_parameters import rand_u_like
    from loss_landscapes.model_interface.model_wrapper import wrap_model

    torch.manual_seed(seed)
    start = wrap_model(model).get_module_parameters()
    direction = rand_u_like(start)
    direction.filter_normalize_(start)
    return [p.detach().clone() for p in direction.parameters]
