"""Argument checks shared by mslib's public functions.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the offending argument, so
a learner who passes a wrong shape or a negative step size is told which argument to fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import torch
from torch import Tensor


def callable_arg(name: str, value: Any) -> Callable:
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def flat_vector(name: str, value: Any, d: int | None = None) -> Tensor:
    """A floating-point 1-D tensor, of length ``d`` when given."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim != 1:
        raise ValueError(f"{name} must be a flat 1-D vector, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    if d is not None and value.numel() != d:
        raise ValueError(f"{name} must have {d} entries (the dimension of theta), got {value.numel()}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite entries")
    return value


def nonzero_vector(name: str, value: Any, d: int | None = None) -> Tensor:
    value = flat_vector(name, value, d)
    if not bool(value.abs().max() > 0):
        raise ValueError(f"{name} must be a nonzero direction")
    return value


def positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def count(name: str, value: Any, minimum: int = 0) -> int:
    """An integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def grid(name: str, value: Any) -> Tensor:
    """Slice coordinates: a non-empty 1-D sequence of finite numbers, returned as float64."""
    ts = torch.as_tensor(value, dtype=torch.float64)
    if ts.ndim != 1 or ts.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {tuple(ts.shape)}")
    if not torch.isfinite(ts).all():
        raise ValueError(f"{name} contains NaN or infinite entries")
    return ts
