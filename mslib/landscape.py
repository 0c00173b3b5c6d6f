"""Slices: the loss along a line or over a plane through a point.

Slices evaluate many parameter vectors at once with ``torch.vmap``, in chunks that bound memory.
A network whose first layer is an ``nn.Linear`` (a ``FlatLoss`` of an ``nn.Sequential``) takes a
fast path: that layer's products with the data are computed once per slice (``first_layer``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from . import _checks, first_layer

LossFn = Callable[[Tensor], Tensor]

#: Parameter vectors evaluated together by one vmapped call.
DEFAULT_CHUNK = 64


def _evaluate(loss_fn: LossFn, theta: Tensor, directions: Tensor, coefficients: Tensor, chunk_size: int) -> Tensor:
    """``loss_fn(theta + c @ directions)`` for each row ``c`` of ``coefficients`` (n, m);
    ``directions`` has shape (m, d). Returns shape (n,), float64."""
    if first_layer.applies(loss_fn):
        batched = first_layer.PlaneLoss(loss_fn, theta, directions)
        rows = lambda a, b: coefficients[a:b]  # noqa: E731
        chunk_size = min(chunk_size, batched.batch)
    else:
        batched = torch.vmap(loss_fn)
        rows = lambda a, b: theta + coefficients[a:b] @ directions  # noqa: E731
    n = coefficients.shape[0]
    with torch.no_grad():
        parts = [batched(rows(start, min(start + chunk_size, n))) for start in range(0, n, chunk_size)]
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
    return _evaluate(loss_fn, theta, direction[None, :], t[:, None], chunk_size)


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
    grid = torch.stack([g.reshape(-1) for g in torch.meshgrid(s, t, indexing="ij")], dim=1)
    values = _evaluate(loss_fn, theta, torch.stack([d1, d2]), grid, chunk_size)
    return values.reshape(len(s), len(t))
