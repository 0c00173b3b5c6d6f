"""Toy losses: explicit functions of a flat parameter vector theta of shape (d,).

Every toy is built by a factory that returns ``loss_fn(theta) -> scalar tensor``. The separable toys
apply a one-dimensional profile to each coordinate and sum, so ``d = 1`` gives the textbook 1-D
function and larger ``d`` a sum of independent copies. All are written with plain tensor
operations, so they work under ``torch.vmap`` (batched slices) and double backward (Hessians).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from . import _checks

LossFn = Callable[[Tensor], Tensor]


def quadratic(A: Tensor) -> LossFn:
    """``L(theta) = 1/2 theta^T A theta`` for a symmetric matrix ``A`` of shape (d, d).

    Its Hessian is ``A`` everywhere, so gradient descent multiplies the error along eigenvector i
    of ``A`` by ``1 - lr * lambda_i`` each step.
    """
    if not isinstance(A, Tensor) or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix tensor, got {getattr(A, 'shape', type(A))}")
    if not A.is_floating_point():
        raise TypeError(f"A must have a floating dtype, got {A.dtype}")
    if not torch.allclose(A, A.T):
        raise ValueError("A must be symmetric")
    A = A.detach().clone()

    def loss_fn(theta: Tensor) -> Tensor:
        return 0.5 * theta @ (A @ theta)

    return loss_fn


def sqrt_bowl() -> LossFn:
    """``sum_i sqrt(1 + theta_i^2) - 1``: curvature 1 at 0, grows only linearly far away."""

    def loss_fn(theta: Tensor) -> Tensor:
        return (torch.sqrt(1 + theta**2) - 1).sum()

    return loss_fn


def log_cosh() -> LossFn:
    """``sum_i log cosh(theta_i)``: curvature 1 at 0, linear growth far away.

    Written as ``x + softplus(-2x) - log 2``: smooth at 0 (so autograd's curvature there is 1) and
    free of overflow at large ``|x|``.
    """

    def loss_fn(theta: Tensor) -> Tensor:
        return (theta + torch.nn.functional.softplus(-2 * theta) - math.log(2.0)).sum()

    return loss_fn


def bowl_plus_well(eps: float, delta: float) -> LossFn:
    """``|theta|^2 / 2 + eps (1 - exp(-|theta|^2 / delta^2))``: a wide bowl and a narrow well.

    Curvature at 0 is ``1 + 2 eps / delta^2`` in every direction (the narrow scale); away from the
    well, 1 (the wide scale). The well is ``eps`` deep and ``delta`` wide; it is radial, so in any
    dimension there is one well, at the bottom of the bowl.
    """
    eps = _checks.positive("eps", eps)
    delta = _checks.positive("delta", delta)

    def loss_fn(theta: Tensor) -> Tensor:
        r2 = (theta**2).sum()
        return 0.5 * r2 + eps * (1 - torch.exp(-r2 / delta**2))

    return loss_fn


def sharpening_ramp(c: float) -> LossFn:
    """A two-parameter model of progressive sharpening: ``f(x, y) = y (sqrt(1 + x^2) - 1) - c y``.

    ``theta = (x, y)``. The curvature in ``x`` at ``x = 0`` is ``y``, and while ``x`` is small the
    gradient in ``y`` is ``-c``: gradient descent raises ``y`` (sharpens) by ``lr c`` per step until
    ``y`` passes ``2/lr`` and ``x`` starts to oscillate; the pair then settles where the average of
    ``sqrt(1 + x^2) - 1`` over the oscillation equals ``c``.
    """
    c = _checks.positive("c", c)

    def loss_fn(theta: Tensor) -> Tensor:
        x, y = theta[0], theta[1]
        return y * (torch.sqrt(1 + x**2) - 1) - c * y

    return loss_fn
