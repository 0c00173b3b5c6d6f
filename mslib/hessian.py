"""Curvature of ``loss_fn(theta)``: gradients, Hessian-vector products and top eigenpairs.

Hessian-vector products use double backward through a gradient graph that is built once and kept:
each further product then costs one backward pass through that graph (measured about 1.4 gradient
evaluations on the digits MLP), which is what makes Lanczos cheap.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from threadpoolctl import threadpool_limits
from torch import Tensor

from . import _checks
from .lanczos import top_ritz_pairs

LossFn = Callable[[Tensor], Tensor]

#: Below this dimension ``sharpness`` forms the dense Hessian (d products) instead of running Lanczos.
DENSE_LIMIT = 32


def loss_and_gradient(loss_fn: LossFn, theta: Tensor) -> tuple[Tensor, Tensor]:
    """``(L(theta), grad L(theta))``, both detached; the gradient has shape (d,)."""
    theta = theta.detach().requires_grad_(True)
    loss = loss_fn(theta)
    (grad,) = torch.autograd.grad(loss, theta)
    return loss.detach(), grad


class HessianOperator:
    """``H @ v`` at a fixed ``theta``, reusing one gradient graph for every product.

    Attributes:
        dim: the dimension d of theta.
        products: how many Hessian-vector products have been taken.
    """

    def __init__(self, loss_fn: LossFn, theta: Tensor):
        _checks.callable_arg("loss_fn", loss_fn)
        theta = _checks.flat_vector("theta", theta)
        self._theta = theta.detach().requires_grad_(True)
        (self._grad,) = torch.autograd.grad(loss_fn(self._theta), self._theta, create_graph=True)
        self.dim = theta.numel()
        self.products = 0

    def __call__(self, v: Tensor) -> Tensor:
        """``H @ v`` for ``v`` of shape (d,)."""
        return self.matvec(_checks.flat_vector("v", v, self.dim).to(self._theta))

    def matvec(self, v: Tensor) -> Tensor:
        """``H @ v`` without checking ``v`` (a finite (d,) tensor of theta's dtype): for the inner
        loops of Lanczos, where the check would cost about 5% of a product on large networks."""
        self.products += 1
        if not self._grad.requires_grad:  # the loss is affine in theta: H = 0
            return torch.zeros_like(v)
        (Hv,) = torch.autograd.grad(self._grad, self._theta, grad_outputs=v, retain_graph=True, allow_unused=True)
        return torch.zeros_like(v) if Hv is None else Hv.detach()

    def dense(self) -> Tensor:
        """The full Hessian, shape (d, d), symmetrized (d products: small problems only)."""
        eye = torch.eye(self.dim, dtype=self._theta.dtype, device=self._theta.device)
        H = torch.stack([self(e) for e in eye])
        return 0.5 * (H + H.T)


def hvp(loss_fn: LossFn, theta: Tensor, v: Tensor) -> Tensor:
    """The Hessian of ``loss_fn`` at ``theta`` (d,) times ``v`` (d,); returns shape (d,)."""
    return HessianOperator(loss_fn, theta)(v)


def dense_hessian(loss_fn: LossFn, theta: Tensor) -> Tensor:
    """The full Hessian at ``theta``, shape (d, d). Costs d Hessian-vector products."""
    return HessianOperator(loss_fn, theta).dense()


#: The ways ``top_eigs`` finds eigenpairs, ARPACK's restarted Lanczos or Lanczos without restarts.
METHODS = ("arpack", "lanczos")


def top_eigs(
    loss_fn: LossFn, theta: Tensor, k: int = 1, tol: float = 1e-4, *, v0: Tensor | None = None, seed: int = 0,
    krylov: int | None = None, method: str = "arpack",
) -> tuple[Tensor, Tensor]:
    """The ``k`` largest (algebraic) Hessian eigenvalues at ``theta`` by Lanczos, in float64 whatever
    the dtype of ``theta``.

    Args:
        k: how many eigenpairs; must be smaller than the dimension d.
        tol: relative residual tolerance, ARPACK's test ``||H u - value u|| <= tol |value|`` for each
            pair (0 means machine precision). The eigenvalues' own errors are much smaller, about the
            squared residual over the gap to the next eigenvalue.
        v0: starting vector of shape (d,), e.g. the previous eigenvector along a trajectory;
            by default a Gaussian vector drawn with ``seed`` (so results are reproducible).
        krylov: the Krylov space size (> k). For ``"arpack"`` ARPACK's ``ncv``, by default
            ``max(2k + 1, 20)``; a warm start from a good ``v0`` converges in a smaller space. For
            ``"lanczos"`` the most steps before handing over to ARPACK, by default ``max(4k, 40)``.
        method: ``"arpack"`` (default): ARPACK's implicitly restarted Lanczos
            (``scipy.sparse.linalg.eigsh``), robust for many eigenvalues or tight tolerances.
            ``"lanczos"``: Lanczos without restarts and with partial reorthogonalization, stopped as
            soon as the k pairs pass the test (``lanczos.top_ritz_pairs``); for a few eigenvalues at
            a loose tolerance it needs fewer products, and less work per product on large networks
            (the book's Performance appendix compares the two). It hands over to ARPACK (from the sum of its Ritz vectors) if it has not converged within
            ``krylov`` steps.

    Returns:
        ``values`` of shape (k,), descending, and ``vectors`` of shape (d, k), unit columns.
    """
    d = _checks.flat_vector("theta", theta).numel()
    _checks.count("k", k, minimum=1)
    if k >= d:
        raise ValueError(f"k must be smaller than the dimension d={d} for Lanczos, got k={k}; use dense_hessian")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < 1:
        raise ValueError(f"tol must be a number in [0, 1), got {tol}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if krylov is not None:
        krylov = min(_checks.count("krylov", krylov, minimum=k + 1), d)
    if v0 is None:
        generator = torch.Generator().manual_seed(seed)
        v0 = torch.randn(d, generator=generator, dtype=torch.float64)
    else:
        v0 = _checks.nonzero_vector("v0", v0, d)
    op = HessianOperator(loss_fn, theta)
    if method == "lanczos":
        values, vectors, converged = top_ritz_pairs(op.matvec, v0.to(theta), k, tol, krylov or min(max(4 * k, 40), d))
        if converged:
            return values.to(device=theta.device), vectors
        v0, krylov = vectors.sum(dim=1), None
    return _arpack(op, k, tol, v0, krylov)


def _arpack(op: HessianOperator, k: int, tol: float, v0: Tensor, krylov: int | None) -> tuple[Tensor, Tensor]:
    """ARPACK's ``k`` largest eigenpairs of ``op`` from ``v0`` (d,) in a Krylov space of ``krylov``:
    values (k,) descending, vectors (d, k)."""
    theta = op._theta

    def matvec(x: np.ndarray) -> np.ndarray:
        v = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(-1)).to(theta)
        return op.matvec(v).double().cpu().numpy()

    operator = LinearOperator((op.dim, op.dim), matvec=matvec, dtype=np.float64)
    # ARPACK's BLAS threads busy-wait between calls and steal the cores that torch needs for the
    # Hessian-vector products: one BLAS thread makes a Lanczos run about 2.5x faster on 2 cores.
    with threadpool_limits(1, user_api="blas"):
        values, vectors = eigsh(operator, k=k, which="LA", tol=tol, v0=v0.double().cpu().numpy(), ncv=krylov)
    order = np.argsort(values)[::-1]
    values = torch.from_numpy(values[order].copy()).to(device=theta.device)
    vectors = torch.from_numpy(vectors[:, order].copy()).to(device=theta.device, dtype=theta.dtype)
    return values, vectors


#: Krylov space of a warm-started ARPACK run, after the early-stopping Lanczos (``WARM_STEPS``) failed.
WARM_KRYLOV = 10
#: Most Lanczos steps of a warm-started sharpness measurement before it hands over to ARPACK.
WARM_STEPS = 24


def sharpness(loss_fn: LossFn, theta: Tensor, *, v0: Tensor | None = None, tol: float = 1e-4) -> tuple[float, Tensor]:
    """``S(theta) = lambda_max(H(theta))`` and its unit eigenvector (d,), for any dimension.

    Uses the dense Hessian when d < ``DENSE_LIMIT`` (exact, and Lanczos needs k < d) and
    ``top_eigs`` otherwise. ``v0`` warm-starts from a previous eigenvector: Lanczos then stops as
    soon as the top Ritz pair's residual is below ``tol`` times its value (ARPACK's test), which
    takes a few products when ``v0`` is close; after ``WARM_STEPS`` steps it hands over to ARPACK
    from the best Ritz vector, in a Krylov space of ``WARM_KRYLOV``.
    """
    theta = _checks.flat_vector("theta", theta)
    if theta.numel() < DENSE_LIMIT:
        values, vectors = torch.linalg.eigh(dense_hessian(loss_fn, theta))
        return float(values[-1]), vectors[:, -1]
    if v0 is None:
        values, vectors = top_eigs(loss_fn, theta, k=1, tol=tol)
        return float(values[0]), vectors[:, 0]
    v0 = _checks.nonzero_vector("v0", v0, theta.numel()).to(theta)
    op = HessianOperator(loss_fn, theta)
    values, vectors, converged = top_ritz_pairs(op.matvec, v0, 1, tol, WARM_STEPS)
    if not converged:
        values, vectors = _arpack(op, 1, tol, vectors[:, 0], min(WARM_KRYLOV, theta.numel() - 1))
    return float(values[0]), vectors[:, 0]


def sharpness_along(loss_fn: LossFn, thetas: Tensor) -> Tensor:
    """``lambda_max`` of the dense Hessian at each row of ``thetas`` (n, d), for small d
    (below ``DENSE_LIMIT``): all at once with ``torch.func``; shape (n,)."""
    if not isinstance(thetas, Tensor) or thetas.ndim != 2:
        raise ValueError(f"thetas must be a tensor of shape (n, d), got {getattr(thetas, 'shape', type(thetas))}")
    if thetas.shape[1] >= DENSE_LIMIT:
        raise ValueError(f"sharpness_along forms dense Hessians: d must be below {DENSE_LIMIT}, got {thetas.shape[1]}")
    hessians = torch.vmap(torch.func.hessian(loss_fn))(thetas.detach())
    return torch.linalg.eigvalsh(0.5 * (hessians + hessians.transpose(1, 2)))[:, -1]
