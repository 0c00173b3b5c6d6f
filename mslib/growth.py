"""How the loss grows away from a point: local growth exponents, plateaus, and the quadratic model.

The growth exponent ``p(t) = d log(L(θ+tv) - L(θ)) / d log|t|`` is 2 where the loss is quadratic,
below 2 where it grows subquadratically, and near 0 on a plateau.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from . import _checks
from .hessian import HessianOperator, loss_and_gradient
from .landscape import DEFAULT_CHUNK, slice_1d

LossFn = Callable[[Tensor], Tensor]


def growth_exponent(ts, values, *, window: int = 0) -> Tensor:
    """Local log-log slopes ``p(t) = d log(values) / d log|t|``, one per point of ``ts``.

    Quadratic growth gives 2, ``|t|^p`` gives p. ``values`` are loss increases (``L - L(theta*)``),
    all > 0; ``|ts|`` must be strictly monotone (use one side of a slice at a time, or
    ``symmetric_increase``). With ``window = 0``, second-order central differences (one-sided at
    the ends); with ``window = w > 0``, the least-squares slope over the ``2w + 1`` neighbouring
    points (fewer at the ends), which damps round-off noise in tiny increases. Shape (len(ts),).
    """
    ts = _checks.grid("ts", ts)
    values = _checks.grid("values", values)
    window = _checks.count("window", window)
    if values.shape != ts.shape:
        raise ValueError(f"values must have the shape of ts {tuple(ts.shape)}, got {tuple(values.shape)}")
    if len(ts) < 2:
        raise ValueError("ts needs at least two points for a slope")
    if not (values > 0).all():
        raise ValueError("values must all be > 0 (pass loss increases L - L(theta*), not raw losses at a minimum)")
    if not (ts != 0).all():
        raise ValueError("ts must be nonzero (the log-log slope is taken against log|t|)")
    log_t = ts.abs().log()
    steps = log_t.diff()
    if not ((steps > 0).all() or (steps < 0).all()):
        raise ValueError("|ts| must be strictly monotone (slice each side of 0 separately)")
    log_v = values.log()
    if window == 0:
        return torch.gradient(log_v, spacing=(log_t,))[0]
    slopes = torch.empty_like(log_t)
    for i in range(len(ts)):
        x, y = log_t[max(0, i - window) : i + window + 1], log_v[max(0, i - window) : i + window + 1]
        x = x - x.mean()
        slopes[i] = (x * (y - y.mean())).sum() / (x * x).sum()
    return slopes


def find_plateaus(ts, increase, *, window: int = 2, flat_below: float = 0.5, depth: float = 0.3,
                  min_decades: float = 0.3) -> list[tuple[float, float]]:
    """Plateaus between scales, found automatically as dips of the growth exponent.

    A plateau is a local minimum of ``p(t)`` (``growth_exponent`` with ``window``) below
    ``flat_below`` (with 0.5, doubling ``t`` raises the loss by under 41% where a parabola
    quadruples it) that lies at least ``depth`` below the growth on *both* sides (its topographic
    prominence). Its extent is where ``p`` stays within ``depth / 2`` of the bottom, and it must
    span at least ``min_decades``. A loss that saturates for
    good has no growth after it and is not a plateau between scales. ``ts`` must be log-spaced and
    increasing in ``|t|``.

    Returns the ``(start, end)`` in ``|t|`` of each plateau, on the grid.
    """
    from scipy.signal import find_peaks

    ts = _checks.grid("ts", ts)
    increase = _checks.grid("increase", increase)
    log_t = ts.abs().log10()
    step = log_t.diff()
    if not (step > 0).all():
        raise ValueError("|ts| must increase")
    if not torch.allclose(step, step.mean().expand_as(step), rtol=1e-6, atol=1e-12):
        raise ValueError("ts must be log-spaced (e.g. torch.logspace)")
    flat_below = _checks.positive("flat_below", flat_below)
    depth = _checks.positive("depth", depth)
    min_decades = _checks.positive("min_decades", min_decades)
    p = growth_exponent(ts, increase, window=window).numpy()
    dips, _ = find_peaks(-p, height=-flat_below, prominence=depth)
    plateaus = []
    for k in dips:
        level = p[k] + depth / 2  # the plateau: where p stays within half the required depth of its bottom
        left, right = k, k
        while left > 0 and p[left - 1] < level:
            left -= 1
        while right < len(p) - 1 and p[right + 1] < level:
            right += 1
        if float(log_t[right] - log_t[left]) >= min_decades:
            plateaus.append((float(ts[left].abs()), float(ts[right].abs())))
    return plateaus


def _two_sided(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts: Tensor, chunk_size: int) -> tuple[Tensor, Tensor, Tensor]:
    """``L(θ+tv)``, ``L(θ-tv)`` (each shape (len(ts),)) and ``L(θ)``, from one batched slice."""
    values = slice_1d(loss_fn, theta, direction, torch.cat([ts, -ts, ts.new_zeros(1)]), chunk_size=chunk_size)
    n = len(ts)
    return values[:n], values[n : 2 * n], values[-1]


def _slope(loss_fn: LossFn, theta: Tensor, direction: Tensor) -> float:
    """The directional derivative ``∇L(θ)·v``."""
    _, grad = loss_and_gradient(loss_fn, theta)
    return float(grad @ direction.to(grad))


def symmetric_increase(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """The even part of the loss increase along a line, ``(L(θ+tv) + L(θ-tv))/2 - L(θ)``; shape (len(ts),).

    Averaging the two sides cancels every odd Taylor term, the gradient term included, so at a
    point where training stopped with a small but nonzero gradient the increase still starts as
    ``t^2/2 v^T H v`` (see ``quadratic_increase``). Meant for ``ts > 0``.
    """
    plus, minus, centre = _two_sided(loss_fn, theta, direction, _checks.grid("ts", ts), chunk_size)
    return 0.5 * (plus + minus) - centre


def beyond_linear(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """The loss change beyond the linear term, ``L(θ+tv) - L(θ) - t ∇L(θ)·v``; shape (len(ts),).

    At a minimum this is simply the loss increase; where training stopped with a small gradient it
    removes the gradient's share, so what is left starts as ``t^2/2 v^T H v``.
    """
    ts = _checks.grid("ts", ts)
    values = slice_1d(loss_fn, theta, direction, torch.cat([ts, ts.new_zeros(1)]), chunk_size=chunk_size)
    return values[:-1] - values[-1] - _slope(loss_fn, theta, direction) * ts


def curvature(loss_fn: LossFn, theta: Tensor, direction: Tensor) -> float:
    """``v^T H v / v^T v``: the curvature of the loss along ``direction`` at ``theta``."""
    direction = _checks.nonzero_vector("direction", direction, _checks.flat_vector("theta", theta).numel()).to(theta)
    return float(direction @ HessianOperator(loss_fn, theta)(direction) / (direction @ direction))


def quadratic_increase(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts) -> Tensor:
    """The quadratic model's loss increase ``t^2/2 v^T H v`` at each ``t`` (v as given); shape (len(ts),)."""
    direction = _checks.nonzero_vector("direction", direction, _checks.flat_vector("theta", theta).numel())
    ts = _checks.grid("ts", ts)
    return 0.5 * curvature(loss_fn, theta, direction) * float(direction @ direction) * ts**2


def validity_radius(ts, increase, model_increase, rel_tol: float = 0.1) -> float:
    """The smallest ``|t|`` on the grid where ``|increase - model_increase| / model_increase > rel_tol``.

    Returns ``inf`` when the model stays within ``rel_tol`` on the whole grid; the answer is only as
    fine as the grid.
    """
    ts = _checks.grid("ts", ts)
    increase = _checks.grid("increase", increase)
    model_increase = _checks.grid("model_increase", model_increase)
    if not (increase.shape == model_increase.shape == ts.shape):
        raise ValueError("ts, increase and model_increase must have the same shape")
    if not (model_increase > 0).all():
        raise ValueError("model_increase must be > 0 (the model of a loss increase along a direction of positive curvature)")
    rel_tol = _checks.positive("rel_tol", rel_tol)
    outside = ts.abs()[(increase - model_increase).abs() / model_increase > rel_tol]
    return float(outside.min()) if len(outside) else math.inf


def quadratic_radius(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, rel_tol: float = 0.1) -> float:
    """The 10% (``rel_tol``) radius of the quadratic model along ``±direction``: the smallest
    ``|t|`` of the grid ``ts > 0`` at which ``beyond_linear`` on either side departs from
    ``quadratic_increase`` by more than ``rel_tol``; ``inf`` if neither does."""
    ts = _positive_grid(ts)
    plus, minus, centre = _two_sided(loss_fn, theta, direction, ts, DEFAULT_CHUNK)
    model = quadratic_increase(loss_fn, theta, direction, ts)
    return _radius_of_sides(ts, plus, minus, centre, _slope(loss_fn, theta, direction), model, rel_tol)


def _radius_of_sides(ts: Tensor, plus: Tensor, minus: Tensor, centre: Tensor, slope: float, model: Tensor,
                     rel_tol: float) -> float:
    """``quadratic_radius`` from an already computed two-sided slice."""
    return min(validity_radius(ts, plus - centre - slope * ts, model, rel_tol),
               validity_radius(ts, minus - centre + slope * ts, model, rel_tol))


def _positive_grid(ts) -> Tensor:
    ts = _checks.grid("ts", ts)
    if not (ts > 0).all():
        raise ValueError("ts must be > 0 (both sides are measured)")
    return ts


@dataclass
class GrowthProfile:
    """How the loss grows along one direction, measured by ``growth_profile``.

    Attributes:
        ts: distances ``t > 0`` (n,) where the even increase is resolved (> 0).
        increase: the even part of the loss increase, ``symmetric_increase`` (n,).
        model: the quadratic model's increase ``t^2/2 v^T H v`` (n,).
        exponent: the local growth exponent of ``increase`` (n,).
        radius: the 10% radius of the quadratic model on either side (``quadratic_radius``).
    """

    ts: Tensor
    increase: Tensor
    model: Tensor
    exponent: Tensor
    radius: float

    def exponent_between(self, low: float, high: float) -> Tensor:
        """The growth exponents at ``low <= t <= high``."""
        return self.exponent[(self.ts >= low) & (self.ts <= high)]


def growth_profile(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, window: int = 2,
                   rel_tol: float = 0.1) -> GrowthProfile:
    """The course's measurement protocol along one direction, from a point where training stopped:
    the even part of the slice (the gradient term cancels), the quadratic model, the local growth
    exponent (least squares over ``2 window + 1`` points of a log-spaced ``ts``), and the radius
    where the model's error passes ``rel_tol``.

    Points where the increase is not resolved above round-off (``<= 0``) are dropped.
    """
    ts = _positive_grid(ts)
    plus, minus, centre = _two_sided(loss_fn, theta, direction, ts, DEFAULT_CHUNK)
    increase = 0.5 * (plus + minus) - centre
    resolved = increase > 0
    ts, plus, minus, increase = ts[resolved], plus[resolved], minus[resolved], increase[resolved]
    model = quadratic_increase(loss_fn, theta, direction, ts)
    return GrowthProfile(
        ts=ts,
        increase=increase,
        model=model,
        exponent=growth_exponent(ts, increase, window=window),
        radius=_radius_of_sides(ts, plus, minus, centre, _slope(loss_fn, theta, direction), model, rel_tol),
    )
