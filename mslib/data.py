"""Data sets that ship with the installed packages (nothing is downloaded)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from . import _checks

DIGITS_SIZE = 1797


def digits(n: int | None = None, *, seed: int = 0, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """scikit-learn's handwritten digits: 8x8 images, 10 classes.

    Args:
        n: how many samples to keep, drawn without replacement with ``seed``; ``None`` keeps all 1797.
        seed: seed of the subset draw.
        dtype: floating dtype of the returned tensors.

    Returns:
        ``X`` of shape (n, 64), each pixel standardized over the subset (constant pixels stay 0),
        and one-hot targets ``Y`` of shape (n, 10).
    """
    from sklearn.datasets import load_digits

    if n is not None:
        _checks.count("n", n, minimum=1)
        if n > DIGITS_SIZE:
            raise ValueError(f"n must be at most {DIGITS_SIZE} (the size of digits), got {n}")
    images, labels = load_digits(return_X_y=True)
    if n is not None:
        keep = np.random.default_rng(seed).choice(DIGITS_SIZE, size=n, replace=False)
        images, labels = images[keep], labels[keep]
    X = torch.as_tensor(images, dtype=torch.float64)
    std = X.std(dim=0)
    X = (X - X.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))
    Y = torch.nn.functional.one_hot(torch.as_tensor(labels), num_classes=10).to(torch.float64)
    return X.to(dtype), Y.to(dtype)


def power_law_magnitudes(n: int, alpha: float, *, low: float = 1.0, high: float = 1e4, seed: int = 0) -> Tensor:
    """``n`` magnitudes with density proportional to ``r^(-1-alpha)`` on ``[low, high]``, shape (n,).

    Drawn by inverting the truncated Pareto distribution function, float64, seeded.
    """
    _checks.count("n", n, minimum=1)
    alpha = _checks.positive("alpha", alpha)
    low, high = _checks.positive("low", low), _checks.positive("high", high)
    if high <= low:
        raise ValueError(f"high must exceed low, got low={low}, high={high}")
    u = torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return low * (1 - u * (1 - (high / low) ** (-alpha))) ** (-1 / alpha)


def tail_exponent(magnitudes: Tensor, *, low: float = 1.0, high: float = 1e4) -> float:
    """The maximum-likelihood ``alpha`` of a truncated power law on ``[low, high]`` for ``magnitudes``."""
    from scipy.optimize import brentq

    r = _checks.flat_vector("magnitudes", magnitudes).double()
    if not ((r >= low) & (r <= high)).all():
        raise ValueError("magnitudes must lie in [low, high]")
    mean_log = float((r / low).log().mean())
    ratio = math.log(high / low)

    def score(alpha: float) -> float:  # derivative of the mean log-likelihood
        return 1 / alpha - mean_log - ratio * (high / low) ** (-alpha) / (1 - (high / low) ** (-alpha))

    return float(brentq(score, 1e-6, 50.0))


def cluster_magnitudes(n: int, values: Sequence[float], shares: Sequence[float] | None = None) -> Tensor:
    """``n`` magnitudes taking the given ``values``, in proportions ``shares`` (default: equal);
    shape (n,), the first ``round(n * shares[0])`` samples get ``values[0]``, and so on."""
    _checks.count("n", n, minimum=1)
    values = [_checks.positive("values", v) for v in values]
    if not values:
        raise ValueError("values must not be empty")
    shares = [1.0 / len(values)] * len(values) if shares is None else [_checks.positive("shares", w) for w in shares]
    if len(shares) != len(values) or abs(sum(shares) - 1) > 1e-9:
        raise ValueError("shares must give one positive share per value, summing to 1")
    counts = [round(n * w) for w in shares[:-1]]
    counts.append(n - sum(counts))
    return torch.cat([torch.full((c,), v, dtype=torch.float64) for v, c in zip(values, counts)])


def on_sphere(magnitudes: Tensor, dim: int, *, seed: int = 0) -> Tensor:
    """Inputs ``x_i = r_i z_i`` with ``z_i`` uniform on the unit sphere of R^dim; shape (n, dim)."""
    r = _checks.flat_vector("magnitudes", magnitudes).double()
    _checks.count("dim", dim, minimum=1)
    z = torch.randn(len(r), dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return r[:, None] * z / z.norm(dim=1, keepdim=True)
