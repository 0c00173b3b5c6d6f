"""Period-2 orbits of gradient descent on one-dimensional even losses, and bifurcation sweeps.

For an even ``f`` with a minimum at 0, gradient descent ``x -> x - lr f'(x)`` has a symmetric
period-2 orbit ``±x*`` when ``x* - lr f'(x*) = -x*``, that is ``f'(x*)/x* = 2/lr``. The orbit is
stable when ``|1 - lr f''(x*)| < 1`` (the map's derivative is the same at both points).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from . import _checks

LossFn = Callable[[Tensor], Tensor]


def _derivative(loss_fn: LossFn, order: int) -> Callable[[float], float]:
    """``x -> f^(order)(x)`` for a loss of a 1-element vector, by autograd in float64."""

    def derivative(x: float) -> float:
        point = torch.tensor([float(x)], dtype=torch.float64, requires_grad=True)
        value = loss_fn(point)
        for _ in range(order):
            (value,) = torch.autograd.grad(value, point, create_graph=True)
            value = value.sum()
        return float(value.detach())

    return derivative


def period_two_orbit(loss_fn: LossFn, lr: float, *, search_up_to: float = 1e6) -> float | None:
    """The amplitude ``x* > 0`` of GD's symmetric period-2 orbit on an even 1-D loss, or ``None``.

    Solves ``2 x - lr f'(x) = 0`` by bracketing on a log grid of ``(0, search_up_to]`` and Brent's
    method. ``None`` means no orbit in that range: ``lr < 2/f''(0)`` (GD converges) or
    ``f'(x)/x`` never falls to ``2/lr`` (a quadratic, for instance: GD diverges). When ``f'(x)/x``
    decreases (subquadratic growth) the root is unique.
    """
    from scipy.optimize import brentq

    _checks.callable_arg("loss_fn", loss_fn)
    lr = _checks.positive("lr", lr)
    search_up_to = _checks.positive("search_up_to", search_up_to)
    slope = _derivative(loss_fn, 1)
    gap = lambda x: 2 * x - lr * slope(x)  # noqa: E731  (< 0 inside the orbit when lr > 2/f''(0))
    grid = [search_up_to * 10.0**-e for e in range(12, -1, -1)] if search_up_to > 1e-9 else [search_up_to]
    previous = grid[0]
    if gap(previous) >= 0:
        return None
    for x in grid[1:]:
        if gap(x) > 0:
            return float(brentq(gap, previous, x, xtol=1e-15, rtol=1e-15, maxiter=200))
        previous = x
    return None


def orbit_multiplier(loss_fn: LossFn, lr: float, x_star: float) -> float:
    """``|1 - lr f''(x*)|``: the period-2 orbit ``±x*`` is stable when this is below 1."""
    lr = _checks.positive("lr", lr)
    return abs(1 - lr * _derivative(loss_fn, 2)(x_star))


def bifurcation(loss_fn: LossFn, lrs, x0: float, *, burn_in: int = 2000, keep: int = 64,
                diverge_above: float = 1e8) -> tuple[Tensor, Tensor]:
    """Where GD settles on a 1-D loss, for many step sizes at once.

    Runs ``x -> x - lr f'(x)`` from ``x0`` for every ``lr`` in ``lrs`` (vectorized), discards
    ``burn_in`` steps and keeps the next ``keep`` iterates.

    Returns:
        ``lrs`` (m,) and ``points`` (m, keep): the settled iterates, ``nan`` for a run that
        diverged (``|x|`` above ``diverge_above``).
    """
    _checks.callable_arg("loss_fn", loss_fn)
    lrs = _checks.grid("lrs", lrs)
    if not (lrs > 0).all():
        raise ValueError("lrs must all be > 0")
    burn_in = _checks.count("burn_in", burn_in)
    keep = _checks.count("keep", keep, minimum=1)
    if not math.isfinite(x0):
        raise ValueError(f"x0 must be finite, got {x0}")
    slope = torch.vmap(torch.func.grad(lambda x: loss_fn(x.reshape(1))))
    x = torch.full_like(lrs, float(x0))
    alive = torch.ones_like(lrs, dtype=torch.bool)
    points = []
    for step in range(burn_in + keep):
        x = torch.where(alive, x - lrs * slope(x), x)
        alive &= torch.isfinite(x) & (x.abs() <= diverge_above)
        x = torch.where(alive, x, torch.zeros_like(x))
        if step >= burn_in:
            points.append(torch.where(alive, x, torch.full_like(x, math.nan)))
    points = torch.stack(points, dim=1)
    points[~alive] = math.nan
    return lrs, points
