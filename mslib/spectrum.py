"""The whole Hessian spectrum at once: a density of eigenvalues by stochastic Lanczos quadrature.

For a probe vector v, m steps of Lanczos on H give a tridiagonal matrix whose eigenvalues (Ritz
values, the nodes) and squared first eigenvector components (the weights) form a Gauss quadrature
for the spectral measure seen from v: ``v^T f(H) v ≈ sum_j w_j f(node_j)``, exact for polynomials
of degree up to 2m - 1. Averaging over random probes estimates ``tr f(H) / d`` (Ghorbani et al.,
2019; Yao et al., 2020).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from . import _checks
from .hessian import HessianOperator
from .lanczos import Lanczos

LossFn = Callable[[Tensor], Tensor]


@dataclass
class SpectralDensity:
    """Quadrature of the Hessian's eigenvalue distribution.

    Attributes:
        nodes: Ritz values, shape (probes, m), float64.
        weights: their weights, shape (probes, m); each row sums to 1.
    """

    nodes: Tensor
    weights: Tensor

    def moment(self, k: int) -> float:
        """The estimate of ``tr(H^k) / d``, the k-th moment of the eigenvalue distribution."""
        _checks.count("k", k)
        return float((self.weights * self.nodes**k).sum(dim=1).mean())

    def mass_above(self, level: float) -> float:
        """The estimated fraction of eigenvalues larger than ``level``."""
        return float((self.weights * (self.nodes > level)).sum(dim=1).mean())

    def quantile(self, q: float) -> float:
        """The eigenvalue below which a fraction ``q`` of the spectrum lies (pooled over probes)."""
        if not 0 <= q <= 1:
            raise ValueError(f"q must lie in [0, 1], got {q}")
        nodes, weights = self.nodes.reshape(-1), self.weights.reshape(-1)
        order = torch.argsort(nodes)
        cumulative = torch.cumsum(weights[order], 0) / weights.sum()
        index = min(int(torch.searchsorted(cumulative, torch.tensor(q, dtype=cumulative.dtype))), len(nodes) - 1)
        return float(nodes[order][index])

    def smoothed(self, grid: Tensor, width: float, *, log: bool = False) -> Tensor:
        """The density on ``grid`` (shape (g,)), each node spread as a Gaussian of ``width``.

        With ``log=True`` the grid and width are in ``log10 |λ|`` and the density is that of
        ``log10 |λ|`` (what a log axis shows); nodes at exactly 0 are dropped.
        """
        width = _checks.positive("width", width)
        x = torch.as_tensor(grid, dtype=torch.float64)
        nodes, weights = self.nodes.reshape(-1), self.weights.reshape(-1) / self.nodes.shape[0]
        if log:
            keep = nodes != 0
            nodes, weights = nodes[keep].abs().log10(), weights[keep]
        kernel = torch.exp(-0.5 * ((x[:, None] - nodes[None, :]) / width) ** 2) / (width * math.sqrt(2 * math.pi))
        return kernel @ weights


def spectral_density(loss_fn: LossFn, theta: Tensor, *, probes: int = 10, steps: int = 40, seed: int = 0) -> SpectralDensity:
    """Stochastic Lanczos quadrature of the Hessian at ``theta`` (d,).

    Args:
        probes: how many Rademacher probe vectors (the estimate's noise falls as 1/sqrt(probes)).
        steps: Lanczos steps per probe (m; capped at d). Costs ``probes * steps`` Hessian-vector
            products; partial reorthogonalization (``lanczos.Lanczos``) keeps the nodes free of ghosts.
        seed: seed of the probes.
    """
    op = HessianOperator(loss_fn, theta)
    d = op.dim
    probes = _checks.count("probes", probes, minimum=1)
    steps = min(_checks.count("steps", steps, minimum=1), d)
    generator = torch.Generator().manual_seed(seed)
    all_nodes, all_weights = [], []
    for _ in range(probes):
        v = (torch.randint(0, 2, (d,), generator=generator, dtype=torch.float64) * 2 - 1) / math.sqrt(d)
        run = Lanczos(op.matvec, v.to(theta), steps)
        while not run.done:
            run.step()
        nodes, vectors = torch.linalg.eigh(run.tridiagonal())
        weights = vectors[0] ** 2
        pad = steps - len(nodes)  # an early, exact stop leaves fewer nodes: pad with zero weight
        all_nodes.append(torch.cat([nodes, nodes.new_zeros(pad)]))
        all_weights.append(torch.cat([weights, weights.new_zeros(pad)]))
    return SpectralDensity(torch.stack(all_nodes), torch.stack(all_weights))


def hutchinson_trace(loss_fn: LossFn, theta: Tensor, *, probes: int = 100, seed: int = 0) -> tuple[float, Tensor]:
    """Hutchinson's estimate of ``tr H`` at ``theta`` (d,): the mean of ``v^T H v`` over Rademacher
    probes ``v``; returns the estimate and the samples, shape (probes,). Costs ``probes`` products."""
    op = HessianOperator(loss_fn, theta)
    probes = _checks.count("probes", probes, minimum=1)
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(probes):
        v = (torch.randint(0, 2, (op.dim,), generator=generator, dtype=torch.float64) * 2 - 1).to(theta)
        samples.append(float(v @ op.matvec(v)))
    values = torch.tensor(samples, dtype=torch.float64)
    return float(values.mean()), values
