"""Data sets that ship with the installed packages (nothing is downloaded)."""

from __future__ import annotations

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
