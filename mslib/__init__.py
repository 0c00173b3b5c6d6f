"""mslib: tools for the multiscale structure of loss landscapes.

Everything is a loss function of one flat parameter vector ``theta`` (shape (d,)); every tool takes
``(loss_fn, theta, ...)`` and works the same on a 1-D toy and on a network.
"""

from . import toys
from .data import digits
from .dynamics import Trajectory, gd, minimize
from .hessian import HessianOperator, dense_hessian, hvp, loss_and_gradient, sharpness, top_eigs
from .landscape import (
    beyond_linear,
    curvature,
    growth_exponent,
    quadratic_increase,
    random_direction,
    slice_1d,
    slice_2d,
    symmetric_increase,
    validity_radius,
)
from .nets import FlatLoss, flatten, mlp

__all__ = [
    "beyond_linear",
    "FlatLoss",
    "HessianOperator",
    "Trajectory",
    "curvature",
    "dense_hessian",
    "digits",
    "flatten",
    "gd",
    "growth_exponent",
    "hvp",
    "loss_and_gradient",
    "minimize",
    "mlp",
    "quadratic_increase",
    "random_direction",
    "sharpness",
    "slice_1d",
    "slice_2d",
    "symmetric_increase",
    "top_eigs",
    "toys",
    "validity_radius",
]
