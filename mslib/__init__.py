"""mslib: tools for the multiscale structure of loss landscapes.

Everything is a loss function of one flat parameter vector ``theta`` (shape (d,)); every tool takes
``(loss_fn, theta, ...)`` and works the same on a 1-D toy and on a network.
"""

from . import exercises, feedback, schedules, toys
from .data import cluster_magnitudes, digits, on_sphere, power_law_magnitudes, tail_exponent
from .directions import filter_normalized_direction, parameter_mask, random_direction
from .dynamics import Trajectory, gd, minimize, project, sgd
from .feedback import check
from .growth import (
    GrowthProfile,
    beyond_linear,
    curvature,
    find_plateaus,
    growth_exponent,
    growth_profile,
    quadratic_increase,
    quadratic_radius,
    symmetric_increase,
    validity_radius,
)
from .hessian import HessianOperator, dense_hessian, hvp, loss_and_gradient, sharpness, sharpness_along, top_eigs
from .landscape import slice_1d, slice_2d
from .nets import FlatLoss, flatten, mlp, teacher_student
from .orbits import bifurcation, orbit_multiplier, period_two_orbit
from .spectrum import SpectralDensity, hutchinson_trace, spectral_density

__all__ = [
    "FlatLoss",
    "GrowthProfile",
    "HessianOperator",
    "SpectralDensity",
    "Trajectory",
    "beyond_linear",
    "bifurcation",
    "check",
    "cluster_magnitudes",
    "curvature",
    "dense_hessian",
    "digits",
    "exercises",
    "feedback",
    "filter_normalized_direction",
    "find_plateaus",
    "flatten",
    "gd",
    "growth_exponent",
    "growth_profile",
    "hutchinson_trace",
    "hvp",
    "loss_and_gradient",
    "minimize",
    "mlp",
    "on_sphere",
    "orbit_multiplier",
    "parameter_mask",
    "period_two_orbit",
    "power_law_magnitudes",
    "project",
    "quadratic_increase",
    "quadratic_radius",
    "random_direction",
    "schedules",
    "sgd",
    "sharpness",
    "sharpness_along",
    "slice_1d",
    "slice_2d",
    "spectral_density",
    "symmetric_increase",
    "tail_exponent",
    "teacher_student",
    "top_eigs",
    "toys",
    "validity_radius",
]
