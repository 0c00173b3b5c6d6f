"""Gradient descent on ``loss_fn(theta)``, with step-size schedules and sharpness tracking."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from . import _checks
from .hessian import loss_and_gradient, sharpness as measure_sharpness
from .nets import FlatLoss
from .progress import progress

LossFn = Callable[[Tensor], Tensor]
Schedule = Callable[[int], float]


@dataclass
class Trajectory:
    """What a run of gradient descent did.

    Attributes:
        loss: ``L(theta_k)`` for every iterate reached, shape (n,), float64. A run of ``steps``
            updates that stays finite has ``n = steps + 1``.
        theta: the last finite iterate, shape (d,).
        lrs: the step size used for each update, shape (n - 1,).
        sharpness_steps: the steps k at which the sharpness was measured, shape (m,).
        sharpness: ``lambda_max(H(theta_k))`` at those steps, shape (m,).
        diverged_at: the first step k whose loss was non-finite or above the divergence threshold
            (the run stopped there; ``loss`` holds the steps before it), or ``None``.
        thetas: every iterate, shape (n, d), when the run was asked to keep them; else ``None``.
    """

    loss: Tensor
    theta: Tensor
    lrs: Tensor
    sharpness_steps: Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    sharpness: Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.float64))
    diverged_at: int | None = None
    thetas: Tensor | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def gd(
    loss_fn: LossFn,
    theta0: Tensor,
    lr: float | None,
    steps: int,
    *,
    schedule: Schedule | None = None,
    sharpness_every: int = 0,
    sharpness_tol: float = 1e-3,
    keep_iterates: bool = False,
    diverge_above: float = 1e10,
    show_progress: bool | None = None,
) -> Trajectory:
    """Full-batch gradient descent ``theta_{k+1} = theta_k - lr_k grad L(theta_k)``.

    Args:
        loss_fn: the loss of a flat parameter vector.
        theta0: the starting point, shape (d,); it is not modified.
        lr: the constant step size (may be ``None`` when ``schedule`` is given).
        steps: how many updates to take.
        schedule: ``schedule(k) -> step size`` for update k; overrides ``lr``.
        sharpness_every: measure ``lambda_max(H)`` every this many steps (0: never); each
            measurement warm-starts Lanczos from the previous eigenvector.
        sharpness_tol: Lanczos' relative residual tolerance for those measurements; the
            eigenvalue's own error is of the order of its square (1e-3 gives about 1e-5).
        keep_iterates: keep every iterate in ``Trajectory.thetas`` (memory n x d).
        diverge_above: a loss above this counts as divergence, like a non-finite one.
        show_progress: a progress bar; ``None`` shows one for long interactive runs.

    Returns:
        A ``Trajectory``. Divergence stops the run and is reported in ``diverged_at``; it never
        raises.
    """
    _checks.callable_arg("loss_fn", loss_fn)
    return _descend(loss_fn, lambda k, theta: loss_and_gradient(loss_fn, theta), theta0, lr, steps, schedule,
                    sharpness_every, sharpness_tol, keep_iterates, diverge_above, show_progress, "gd")


def sgd(
    loss_fn: FlatLoss,
    theta0: Tensor,
    lr: float | None,
    steps: int,
    *,
    batch_size: int,
    seed: int = 0,
    schedule: Schedule | None = None,
    sharpness_every: int = 0,
    sharpness_tol: float = 1e-3,
    keep_iterates: bool = False,
    diverge_above: float = 1e10,
    show_progress: bool | None = None,
) -> Trajectory:
    """Mini-batch stochastic gradient descent on a network loss from ``flatten``.

    Each epoch visits the samples in a fresh random order drawn from ``seed`` (so runs repeat
    exactly), in batches of ``batch_size``; the last, smaller batch of an epoch is dropped. Update k
    steps along the gradient of the batch loss. ``Trajectory.loss`` records the *full-batch* loss at
    every iterate, so that runs of SGD and GD compare directly. The other arguments are those of
    ``gd``.
    """
    if not isinstance(loss_fn, FlatLoss):
        raise TypeError(f"loss_fn must be a FlatLoss from mslib.flatten (SGD needs its samples), got {type(loss_fn).__name__}")
    batch_size = _checks.count("batch_size", batch_size, minimum=1)
    if batch_size > loss_fn.n:
        raise ValueError(f"batch_size must be at most the number of samples {loss_fn.n}, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    per_epoch = loss_fn.n // batch_size
    order: list[Tensor] = []

    def batch_step(k: int, theta: Tensor) -> tuple[Tensor, Tensor]:
        if k % per_epoch == 0:
            order[:] = list(torch.randperm(loss_fn.n, generator=generator)[: per_epoch * batch_size].split(batch_size))
        rows = order[k % per_epoch]
        with torch.no_grad():
            full = loss_fn(theta)
        _, grad = loss_and_gradient(lambda th: loss_fn.batch_loss(th, rows), theta)
        return full, grad

    return _descend(loss_fn, batch_step, theta0, lr, steps, schedule, sharpness_every, sharpness_tol,
                    keep_iterates, diverge_above, show_progress, "sgd")


def _descend(loss_fn: LossFn, step: Callable[[int, Tensor], tuple[Tensor, Tensor]], theta0: Tensor,
             lr: float | None, steps: int, schedule: Schedule | None, sharpness_every: int, sharpness_tol: float,
             keep_iterates: bool, diverge_above: float, show_progress: bool | None, name: str) -> Trajectory:
    """The loop shared by ``gd`` and ``sgd``: ``step(k, theta) -> (loss at theta, direction)``."""
    theta = _checks.flat_vector("theta0", theta0).detach().clone()
    steps = _checks.count("steps", steps)
    sharpness_every = _checks.count("sharpness_every", sharpness_every)
    sharpness_tol = _checks.positive("sharpness_tol", sharpness_tol)
    diverge_above = _checks.positive("diverge_above", diverge_above)
    if schedule is None:
        lr = _checks.positive("lr", lr)
        step_size: Schedule = lambda k: lr  # noqa: E731
    else:
        step_size = _checks.callable_arg("schedule", schedule)

    losses: list[float] = []
    lrs: list[float] = []
    iterates: list[Tensor] = []
    sharp_steps: list[int] = []
    sharp_values: list[float] = []
    eigenvector: Tensor | None = None
    diverged_at = None
    last_finite = theta

    for k in progress(range(steps + 1), steps + 1, show_progress, name):
        loss, direction = step(k, theta)
        value = float(loss)
        if not (math.isfinite(value) and value <= diverge_above and torch.isfinite(direction).all()):
            diverged_at = k
            break
        losses.append(value)
        last_finite = theta
        if keep_iterates:
            iterates.append(theta)
        if sharpness_every and k % sharpness_every == 0:
            s, eigenvector = measure_sharpness(loss_fn, theta, v0=eigenvector, tol=sharpness_tol)
            sharp_steps.append(k)
            sharp_values.append(s)
        if k == steps:
            break
        eta = _checks.positive(f"the step size schedule({k})", step_size(k))
        lrs.append(eta)
        theta = theta - eta * direction

    return Trajectory(
        loss=torch.tensor(losses, dtype=torch.float64),
        theta=last_finite,
        lrs=torch.tensor(lrs[: max(len(losses) - 1, 0)], dtype=torch.float64),
        sharpness_steps=torch.tensor(sharp_steps, dtype=torch.long),
        sharpness=torch.tensor(sharp_values, dtype=torch.float64),
        diverged_at=diverged_at,
        thetas=torch.stack(iterates) if keep_iterates and iterates else None,
    )


def minimize(loss_fn: LossFn, theta0: Tensor, *, max_evals: int = 2000, grad_tol: float = 1e-9) -> Tensor:
    """A (local) minimum near ``theta0`` by L-BFGS with a strong-Wolfe line search; shape (d,).

    A fast way to reach the bottom of a basin when the path there is not the object of study
    (use ``gd`` when it is). Deterministic; ``theta0`` is not modified.
    """
    _checks.callable_arg("loss_fn", loss_fn)
    theta = _checks.flat_vector("theta0", theta0).detach().clone().requires_grad_(True)
    max_evals = _checks.count("max_evals", max_evals, minimum=1)
    grad_tol = _checks.positive("grad_tol", grad_tol)
    optimizer = torch.optim.LBFGS(
        [theta], lr=1.0, max_iter=max_evals, max_eval=max_evals, history_size=20,
        tolerance_grad=grad_tol, tolerance_change=1e-15, line_search_fn="strong_wolfe",
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = loss_fn(theta)
        loss.backward()
        return loss

    optimizer.step(closure)
    return theta.detach()


def project(thetas: Tensor, directions: Tensor, origin: Tensor | None = None) -> Tensor:
    """Coordinates of iterates along directions: ``(thetas - origin) @ directions``.

    Args:
        thetas: iterates, shape (n, d) (e.g. ``Trajectory.thetas``).
        directions: shape (d,) or (d, k), e.g. eigenvectors from ``top_eigs``.
        origin: shape (d,); default 0.

    Returns:
        Shape (n,) for one direction, (n, k) for k.
    """
    if not isinstance(thetas, Tensor) or thetas.ndim != 2:
        raise ValueError(f"thetas must be a tensor of shape (n, d), got {getattr(thetas, 'shape', type(thetas))}")
    if not isinstance(directions, Tensor) or directions.ndim not in (1, 2) or directions.shape[0] != thetas.shape[1]:
        raise ValueError(f"directions must have shape (d,) or (d, k) with d = {thetas.shape[1]}")
    if origin is not None:
        thetas = thetas - _checks.flat_vector("origin", origin, thetas.shape[1])
    return thetas @ directions.to(thetas)
