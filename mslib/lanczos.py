"""Lanczos with reorthogonalization: the engine under ``top_eigs(method="lanczos")``, warm-started
``sharpness`` and stochastic Lanczos quadrature.

m products from a unit vector q_0 build an orthonormal basis Q (m, d) of the Krylov space
span{q_0, H q_0, ..., H^(m-1) q_0} and the tridiagonal matrix T = Q H Q^T (m, m): ``alphas`` on its
diagonal, ``betas`` beside it. An eigenpair (value, s) of T gives the Ritz pair (value, Q^T s), whose
residual norm ``||H Q^T s - value Q^T s||`` is ``beta_m |s_m|`` (the last beta times the last entry of
s), known without another product: that is how a run knows when to stop.

In floating point the Lanczos vectors lose their orthogonality as Ritz pairs converge, and copies
("ghosts") of converged eigenvalues appear. Full reorthogonalization against the whole basis (one
preallocated (steps, d) matrix: two matrix-vector products per step, four when ``orthogonalize``
repeats its pass) prevents it; on a large network that is a third of a step's time. Partial
reorthogonalization (Simon, 1984) instead tracks estimates ``omega[k]`` of ``q_(j+1) . q_k`` by a
recurrence that costs O(m) numbers per step, and reorthogonalizes only when one exceeds sqrt(eps)
(then also at the next step). Keeping the basis orthogonal to sqrt(eps) is enough for Ritz values
accurate to working precision.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

Operator = Callable[[Tensor], Tensor]


def semi_orthogonal(dtype: torch.dtype) -> float:
    """The orthogonality level that partial reorthogonalization keeps: sqrt(eps) of ``dtype``."""
    return math.sqrt(torch.finfo(dtype).eps)


def orthogonalize(w: Tensor, Q: Tensor) -> Tensor:
    """``w`` (d,) minus its projection on the orthonormal rows of ``Q`` (k, d): classical
    Gram-Schmidt, repeated once only when the first pass removed most of ``w`` (the DGKS test that
    ARPACK uses), so that Lanczos reads its basis once per step in the usual case."""
    norm = w.norm()
    w = w - Q.T @ (Q @ w)
    if w.norm() < 0.7071 * norm:
        w = w - Q.T @ (Q @ w)
    return w


class Lanczos:
    """A Lanczos run on ``op`` (``op(v) = H v`` for v of shape (d,)) from ``v`` (d,), at most ``steps``
    products; ``step()`` takes the next one. ``partial=False`` reorthogonalizes every step against the
    whole basis instead of only where the estimates ask for it.

    Attributes:
        alphas: diagonal of T, one per step.
        betas: one per step; ``betas[j]`` is the norm of the new direction found at step j, the
            off-diagonal entry below ``alphas[j]`` (the last one is the residual factor beta_m).
        basis: the (steps, d) matrix whose first ``len(self)`` rows are Q.
        reorthogonalizations: how many steps reorthogonalized against the whole basis.
    """

    def __init__(self, op: Operator, v: Tensor, steps: int, *, partial: bool = True):
        self.op = op
        self.basis = v.new_empty((steps, v.numel()))
        self.basis[0] = v / v.norm()
        self.alphas: list[float] = []
        self.betas: list[float] = []
        self.partial = partial
        self._eps = float(torch.finfo(v.dtype).eps)
        self.reorthogonalizations = 0
        self._omega = [1.0]  # estimates of q_j . q_k, k = 0..j
        self._omega_before: list[float] = []  # the same for q_(j-1)
        self._reorthogonalize_next = False

    def __len__(self) -> int:
        return len(self.alphas)

    @property
    def invariant(self) -> bool:
        """True when the Krylov space is invariant under H (the last beta is about 0), so that its
        Ritz pairs are exact."""
        return len(self) > 0 and self.betas[-1] <= 1e-10 * max(abs(a) for a in self.alphas)

    @property
    def done(self) -> bool:
        """True when no further step can be taken, because the basis is full or the Krylov space
        is invariant."""
        return len(self) == self.basis.shape[0] or self.invariant

    def step(self) -> None:
        """One product: T grows by a row and column, Q by a vector (while there is room)."""
        if self.done:
            raise RuntimeError("this Lanczos run cannot take another step (basis full or Krylov space invariant)")
        j = len(self)
        q = self.basis[j]
        w = self.op(q)
        alpha = float(w @ q)
        w = torch.add(w, q, alpha=-alpha)
        if j > 0:
            w = torch.add(w, self.basis[j - 1], alpha=-self.betas[-1])
        if self.partial:
            correction = float(w @ q)  # local reorthogonalization against q_j: two cheap passes
            w, alpha = torch.add(w, q, alpha=-correction), alpha + correction
        self.alphas.append(alpha)
        beta = float(w.norm())
        losing = self.partial and self._advance_estimates(beta)
        if not self.partial or losing or self._reorthogonalize_next:
            w = orthogonalize(w, self.basis[: j + 1])
            beta = float(w.norm())
            self.reorthogonalizations += 1
            if self.partial:  # Simon's rule: the next vector inherits the loss, so it is cleaned too
                self._reorthogonalize_next = not self._reorthogonalize_next
                self._omega = [self._roundoff(beta)] * (j + 1) + [1.0]
        self.betas.append(beta)
        if not self.done:
            self.basis[j + 1] = w / beta

    def _roundoff(self, beta: float) -> float:
        """The level of |q_(j+1) . q_k| that rounding alone leaves, eps ||T|| / beta (1 when beta is
        at that level itself: the new direction is noise)."""
        norm = max(abs(a) for a in self.alphas) + 2 * max(self.betas, default=0.0)
        return self._eps * norm / beta if beta > self._eps * norm else 1.0

    def _advance_estimates(self, beta: float) -> bool:
        """Advances the estimates to ``q_(j+1) . q_k`` (Simon's recurrence, from the three-term
        relations of q_j and q_k) and says whether one exceeds sqrt(eps)."""
        j, a, b = len(self) - 1, self.alphas, self.betas
        now, before, noise = self._omega, self._omega_before, self._roundoff(beta)
        new = []
        for k in range(j):
            value = b[k] * now[k + 1] + (a[k] - a[j]) * now[k] - (b[j - 1] * before[k] if j > 0 else 0.0)
            if k > 0:
                value += b[k - 1] * now[k - 1]
            value = value / beta if noise < 1 else 1.0
            new.append(value + math.copysign(noise, value))
        self._omega_before, self._omega = now, new + [noise, 1.0]
        return noise >= 1 or any(abs(x) > math.sqrt(self._eps) for x in new)

    def tridiagonal(self) -> Tensor:
        """T, shape (m, m), float64."""
        off = torch.tensor(self.betas[: len(self) - 1], dtype=torch.float64)
        return torch.diag(torch.tensor(self.alphas, dtype=torch.float64)) + torch.diag(off, 1) + torch.diag(off, -1)

    def ritz(self, k: int) -> tuple[Tensor, Tensor, Tensor]:
        """The ``k`` largest Ritz values (k,) in descending order (fewer while m < k), their residual
        norms (k,) and their coordinates in the basis, the columns of a (m, k) matrix."""
        values, S = torch.linalg.eigh(self.tridiagonal())
        k = min(k, len(self))
        values, S = values[-k:].flip(0), S[:, -k:].flip(1)
        return values, self.betas[-1] * S[-1].abs(), S

    def vectors(self, coords: Tensor) -> Tensor:
        """Unit Ritz vectors, the columns of a (d, k) matrix, from their coordinates (m, k)."""
        vectors = coords.T.to(self.basis.dtype) @ self.basis[: coords.shape[0]]  # (k, d): a row-major product
        return (vectors / vectors.norm(dim=1, keepdim=True)).T


def top_ritz_pairs(op: Operator, v0: Tensor, k: int, tol: float, steps: int) -> tuple[Tensor, Tensor, bool]:
    """The ``k`` largest Ritz values (k,), descending, their unit Ritz vectors (d, k) and whether they
    converged: Lanczos from ``v0`` (d,), stopped as soon as every one of the k pairs passes ARPACK's
    test (``residual <= tol * abs(value)``), or after ``steps`` products, or when the Krylov space is
    invariant (converged if it holds k values). No restarts, and partial reorthogonalization: for a
    few eigenvalues at a loose tolerance this needs fewer products than ARPACK's restarted Krylov
    space, and less work per product."""
    run = Lanczos(op, v0, steps)
    while True:
        run.step()
        if len(run) >= k:
            values, residuals, coords = run.ritz(k)
            converged = bool((residuals <= tol * values.abs()).all()) or run.invariant
            if converged or run.done:
                return values, run.vectors(coords), converged
        elif run.done:
            values, _, coords = run.ritz(k)
            return values, run.vectors(coords), False
