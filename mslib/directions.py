"""Directions in parameter space to slice the loss along: random, restricted to some parameters,
and filter-normalized (Li et al., 2018). Eigen-directions come from ``hessian.top_eigs``."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

from . import _checks
from .nets import FlatLoss


def random_direction(theta: Tensor, *, seed: int = 0, mask: Tensor | None = None) -> Tensor:
    """A unit vector of the shape, dtype and device of ``theta`` (d,), uniform on the sphere.

    With a boolean ``mask`` of shape (d,), the direction is uniform on the unit sphere of the
    masked coordinates and zero elsewhere (e.g. ``parameter_mask(loss_fn, ["0.weight"])``).
    """
    theta = _checks.flat_vector("theta", theta)
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != theta.shape:
            raise ValueError(f"mask must be a boolean tensor of shape {tuple(theta.shape)}")
        if not mask.any():
            raise ValueError("mask must select at least one coordinate")
        v = v * mask.to(v.device)
    return (v / v.norm()).to(theta)


def parameter_mask(loss_fn: FlatLoss, names: Iterable[str]) -> Tensor:
    """Boolean mask of shape (d,) selecting the named parameters (see ``loss_fn.names``)."""
    _require_flat_loss(loss_fn)
    names = list(names)
    unknown = [n for n in names if n not in loss_fn.names]
    if unknown:
        raise ValueError(f"names {unknown} are not parameters of the model; it has {loss_fn.names}")
    parts = [torch.full((size,), name in names, dtype=torch.bool) for name, size in zip(loss_fn.names, loss_fn.sizes)]
    return torch.cat(parts)


def filter_normalized_direction(loss_fn: FlatLoss, theta: Tensor, *, seed: int = 0) -> Tensor:
    """A Gaussian direction rescaled filter by filter to the norms of ``theta`` (Li et al., 2018).

    Each row of a weight matrix (the incoming weights of one unit: a "filter") gets the norm of the
    same row of ``theta``; bias vectors get zero, as in Li et al.'s reference implementation. The
    result has shape (d,) and is *not* unit: ``t = 1`` moves every filter by its own size, which
    makes slices comparable across layers and networks with different weight scales.
    """
    _require_flat_loss(loss_fn)
    theta = _checks.flat_vector("theta", theta, loss_fn.dim)
    generator = torch.Generator().manual_seed(seed)
    raw = torch.randn(loss_fn.dim, generator=generator, dtype=torch.float64).to(theta)
    parts = []
    for d, w in zip(loss_fn.unflatten(raw).values(), loss_fn.unflatten(theta).values()):
        if d.ndim < 2:
            parts.append(torch.zeros_like(d).reshape(-1))
            continue
        d_rows, w_rows = d.reshape(d.shape[0], -1), w.reshape(w.shape[0], -1)
        scale = w_rows.norm(dim=1, keepdim=True) / d_rows.norm(dim=1, keepdim=True)
        parts.append((d_rows * scale).reshape(-1))
    direction = torch.cat(parts)
    if not bool(direction.abs().max() > 0):
        raise ValueError("theta has no nonzero filters to normalize against")
    return direction


def _require_flat_loss(loss_fn) -> None:
    if not isinstance(loss_fn, FlatLoss):
        raise TypeError(f"loss_fn must be a FlatLoss from mslib.flatten (it knows the layers), got {type(loss_fn).__name__}")
