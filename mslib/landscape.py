"""Slices: the loss along a line or over a plane through a point.

Slices evaluate many parameter vectors at once with ``torch.vmap``, in chunks that bound memory.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from . import _checks

LossFn = Callable[[Tensor], Tensor]

#: Parameter vectors evaluated together by one vmapped call.
DEFAULT_CHUNK = 64


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
