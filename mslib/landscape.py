"""The loss away from a point: directions, 1-D and 2-D slices, growth exponents, the quadratic model.

Slices evaluate many parameter vectors at once with ``torch.vmap``, in chunks that bound memory.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from . import _checks
from .hessian import HessianOperator, loss_and_gradient

LossFn = Callable[[Tensor], Tensor]

#: Parameter vectors evaluated together by one vmapped call.
DEFAULT_CHUNK = 64


def random_direction(theta: Tensor, *, seed: int = 0) -> Tensor:
    """A unit vector of the shape, dtype and device of ``theta`` (d,), uniform on the sphere."""
    theta = _checks.flat_vector("theta", theta)
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
    return (v / v.norm()).to(theta)


def _evaluate(loss_fn: LossFn, points: Callable[[int, int], Tensor], n: int, chunk_size: int) -> Tensor:
    """``loss_fn`` at ``points(start, stop)`` (rows of shape (stop - start, d)) for all n rows."""
    batched = torch.vmap(loss_fn)
    with torch.no_grad():
        parts = [batched(points(start, min(start + chunk_size, n))) for start in range(0, n, chunk_size)]
    return torch.cat(parts).double()


def slice_1d(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """``L(theta + t * direction)`` for each ``t`` in ``ts``; returns shape (len(ts),), float64.

    ``direction`` is used as given (not normalized): ``t`` is in units of its length.
    """
    _checks.callable_arg("loss_fn", loss_fn)
    theta = _checks.flat_vector("theta", theta).detach()
    direction = _checks.nonzero_vector("direction", direction, theta.numel()).to(theta)
    ts = _checks.grid("ts", ts)
    chunk_size = _checks.count("chunk_size", chunk_size, minimum=1)
    t = ts.to(theta)
    return _evaluate(loss_fn, lambda a, b: theta + t[a:b, None] * direction, len(ts), chunk_size)


def slice_2d(
    loss_fn: LossFn, theta: Tensor, d1: Tensor, d2: Tensor, ts1, ts2, *, chunk_size: int = DEFAULT_CHUNK
) -> Tensor:
    """``L(theta + s * d1 + t * d2)`` on the grid ``s in ts1``, ``t in ts2``; shape (len(ts1), len(ts2))."""
    _checks.callable_arg("loss_fn", loss_fn)
    theta = _checks.flat_vector("theta", theta).detach()
    d1 = _checks.nonzero_vector("d1", d1, theta.numel()).to(theta)
    d2 = _checks.nonzero_vector("d2", d2, theta.numel()).to(theta)
    s, t = _checks.grid("ts1", ts1).to(theta), _checks.grid("ts2", ts2).to(theta)
    chunk_size = _checks.count("chunk_size", chunk_size, minimum=1)
    ss, tt = (g.reshape(-1) for g in torch.meshgrid(s, t, indexing="ij"))
    values = _evaluate(loss_fn, lambda a, b: theta + ss[a:b, None] * d1 + tt[a:b, None] * d2, len(ss), chunk_size)
    return values.reshape(len(s), len(t))


def growth_exponent(ts, values) -> Tensor:
    """Local log-log slopes ``p(t) = d log(values) / d log|t|``, one per point of ``ts``.

    Quadratic growth gives 2, ``|t|^p`` gives p. ``values`` are loss increases (``L - L(theta*)``),
    all > 0; ``|ts|`` must be strictly monotone (use one side of a symmetric slice at a time).
    Second-order central differences inside, one-sided at the two ends; shape (len(ts),).
    """
    ts = _checks.grid("ts", ts)
    values = _checks.grid("values", values)
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
    return torch.gradient(values.log(), spacing=(log_t,))[0]


def symmetric_increase(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """The even part of the loss increase along a line, ``(L(θ+tv) + L(θ-tv))/2 - L(θ)``; shape (len(ts),).

    Averaging the two sides cancels every odd Taylor term, the gradient term included, so at a
    point where training stopped with a small but nonzero gradient the increase still starts as
    ``t^2/2 v^T H v`` (see ``quadratic_increase``). Meant for ``ts > 0``.
    """
    ts = _checks.grid("ts", ts)
    both = slice_1d(loss_fn, theta, direction, torch.cat([ts, -ts, ts.new_zeros(1)]), chunk_size=chunk_size)
    n = len(ts)
    return 0.5 * (both[:n] + both[n : 2 * n]) - both[-1]


def beyond_linear(loss_fn: LossFn, theta: Tensor, direction: Tensor, ts, *, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """The loss change beyond the linear term, ``L(θ+tv) - L(θ) - t ∇L(θ)·v``; shape (len(ts),).

    At a minimum this is simply the loss increase; where training stopped with a small gradient it
    removes the gradient's share, so what is left starts as ``t^2/2 v^T H v``.
    """
    ts = _checks.grid("ts", ts)
    values = slice_1d(loss_fn, theta, direction, torch.cat([ts, ts.new_zeros(1)]), chunk_size=chunk_size)
    _, grad = loss_and_gradient(loss_fn, theta)
    slope = float(grad @ direction.to(grad))
    return values[:-1] - values[-1] - slope * ts


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
