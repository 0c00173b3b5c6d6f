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


BIAS_MODES = ("zero", "filter")


def filter_normalized_direction(loss_fn: FlatLoss, theta: Tensor, *, seed: int = 0, bias: str = "zero") -> Tensor:
    """A Gaussian direction rescaled filter by filter to the norms of ``theta`` (Li et al., 2018).

    Each row of a weight matrix (the incoming weights of one unit: a "filter") gets the norm of the
    same row of ``theta``. Biases, by ``bias``:

    - ``"zero"`` (default): bias directions are zero, as in Li et al.'s reference implementation;
    - ``"filter"``: a bias entry belongs to its unit's filter: the row ``[W_i, b_i]`` of the
      direction gets the norm of the row ``[W_i, b_i]`` of ``theta`` (a bias with no weight
      matrix of matching rows before it is zero).

    (loss-landscapes instead rescales each bias entry to ``|b_i|``, a direction that is not random
    at all in the biases.) The result has shape (d,) and is *not* unit: ``t = 1`` moves every filter
    by its own size, which makes slices comparable across layers and networks of different scales.
    """
    _require_flat_loss(loss_fn)
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {BIAS_MODES}, got {bias!r}")
    theta = _checks.flat_vector("theta", theta, loss_fn.dim)
    generator = torch.Generator().manual_seed(seed)
    raw = torch.randn(loss_fn.dim, generator=generator, dtype=torch.float64).to(theta)
    directions, weights = loss_fn.unflatten(raw), loss_fn.unflatten(theta)
    parts = {name: torch.zeros_like(d) for name, d in directions.items()}
    for name, d in directions.items():
        if d.ndim < 2:
            continue
        rows = [d.reshape(d.shape[0], -1)]
        ref = [weights[name].reshape(d.shape[0], -1)]
        bias_name = name.removesuffix("weight") + "bias" if name.endswith("weight") else None
        joined = bias == "filter" and bias_name in directions and directions[bias_name].shape == (d.shape[0],)
        if joined:
            rows.append(directions[bias_name][:, None])
            ref.append(weights[bias_name][:, None])
        d_rows, w_rows = torch.cat(rows, dim=1), torch.cat(ref, dim=1)
        scaled = d_rows * (w_rows.norm(dim=1, keepdim=True) / d_rows.norm(dim=1, keepdim=True))
        parts[name] = scaled[:, : rows[0].shape[1]].reshape(d.shape)
        if joined:
            parts[bias_name] = scaled[:, -1]
    direction = torch.cat([p.reshape(-1) for p in parts.values()])
    if not bool(direction.abs().max() > 0):
        raise ValueError("theta has no nonzero filters to normalize against")
    return direction


def _require_flat_loss(loss_fn) -> None:
    if not isinstance(loss_fn, FlatLoss):
        raise TypeError(f"loss_fn must be a FlatLoss from mslib.flatten (it knows the layers), got {type(loss_fn).__name__}")
