"""The check of every exercise of the course, by chapter, registered under the exercise's label.

Each check recomputes its reference with mslib (nothing is stored to be read off), compares the
answer with a tolerance, and hints at what went wrong without giving the value. References that do
not depend on the chapter's objects are cached (``functools.lru_cache``), so a check costs well
under a second after its first call. Checks that need a chapter's trained network take it as keyword
arguments (``loss_fn=``, ``theta=``), as the exercise's check cell shows. See the instructor guide
of the book for how to add one.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import torch
from scipy.optimize import brentq
from torch import Tensor

from . import _checks, schedules, toys
from .data import cluster_magnitudes, digits, power_law_magnitudes
from .directions import parameter_mask, random_direction
from .dynamics import gd
from .feedback import AnswerError, Part, as_number, as_numbers, compare, pick, register, unpack
from .growth import (
    curvature,
    find_plateaus,
    growth_exponent,
    growth_profile,
    quadratic_increase,
    quadratic_radius,
    symmetric_increase,
    validity_radius,
)
from .hessian import dense_hessian, sharpness
from .nets import FlatLoss, flatten, mlp
from .orbits import orbit_multiplier, period_two_orbit
from .saturation import intermediate_exponent, intermediate_range, magnitude_network, mixture_loss


def _float64(*values: float) -> Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _network_point(loss_fn: Any, theta: Any) -> tuple[FlatLoss, Tensor]:
    _checks.callable_arg("loss_fn", loss_fn)
    return loss_fn, _checks.flat_vector("theta", theta)


def _steps(answer: Any, name: str) -> int:
    steps = as_number(answer, name)
    return int(steps)


# --- Chapter 1: the quadratic approximation --------------------------------------------------------


@functools.lru_cache
def _bowl_curvatures() -> tuple[float, float]:
    """Smallest and largest Hessian eigenvalue of the chapter's two-dimensional quadratic."""
    bowl = toys.quadratic(torch.diag(_float64(4.0, 0.5)))
    values = torch.linalg.eigvalsh(dense_hessian(bowl, torch.zeros(2, dtype=torch.float64)))
    return float(values[0]), float(values[-1])


@register("ex-quadratic-best-step", expects="the constant step size with the smallest worst-case multiplier (a number)")
def _best_step(answer: Any) -> Part:
    lr = as_number(answer, "the step size")
    lam_min, lam_max = _bowl_curvatures()
    if lr <= 0:
        return Part(False, "the step size must be positive")
    if lr >= 2 / lam_max:
        return Part(False, "the step size is too large: there |1 − ηλ_max| ≥ 1, and GD diverges along the "
                           "sharpest direction")
    return compare(lr, 2 / (lam_min + lam_max), name="the step size", atol=0.02,
                   too_large="the sharp direction's multiplier |1 − ηλ_max| is now the worst one; where do the two "
                             "multipliers balance?",
                   too_small="the flat direction (λ = 0.5) is the slow one, and a larger step speeds it up until the "
                             "sharp direction's multiplier catches up")


@register("ex-quadratic-power-iteration", expects="your power-iteration estimate of the sharpness (a number)")
def _power_iteration(answer: Any, *, loss_fn: Any, theta: Any) -> Part:
    estimate = as_number(answer, "the estimate")
    loss_fn, theta = _network_point(loss_fn, theta)
    top, _ = sharpness(loss_fn, theta, tol=1e-8)
    return compare(estimate, top, name="the estimate", rtol=2e-4,
                   too_large="the Rayleigh quotient vᵀHv of a unit vector cannot exceed λ₁; is v normalized?",
                   too_small="power iteration approaches λ₁ from below; iterate until it agrees with top_eigs "
                             "to 1e-4")


@register("ex-quadratic-second-direction",
          expects="the 10% radius along u2 (both sides) and that of the even part alone (a tuple of two numbers)")
def _second_direction(answer: Any, *, loss_fn: Any, theta: Any, direction: Any, ts: Any) -> list[Part]:
    radius, radius_even = (as_number(r, name) for r, name in
                           zip(unpack(answer, ["r2", "r2_even"], "the answer"), ["r2", "r2_even"]))
    loss_fn, theta = _network_point(loss_fn, theta)
    model = quadratic_increase(loss_fn, theta, direction, ts)
    even = validity_radius(ts, symmetric_increase(loss_fn, theta, direction, ts), model)
    return [
        compare(radius, quadratic_radius(loss_fn, theta, direction, ts), name="r2", rtol=0.05,
                too_large="the radius is where the first of the two sides leaves the 10% band, measured beyond the "
                          "linear term",
                too_small="is the model's error measured beyond the linear term (the gradient is not exactly 0)?"),
        compare(radius_even, even, name="r2_even", rtol=0.05,
                too_large="compare symmetric_increase with quadratic_increase along the same u2 and grid",
                too_small="the even part averages the two sides, which cancels the gradient and cubic terms"),
    ]


# --- Chapter 2: the multiscale structure of real losses --------------------------------------------


@functools.lru_cache
def _far_exponent(activation: str) -> float:
    """Mean growth exponent for 100 <= t <= 1000 along a random first-layer direction of the
    exercise's [64, 32, 10] network on 500 digits. Far out it is set by the activation (saturating
    or not), not by training, so the untrained network gives the reference cheaply."""
    X, Y = digits(500, seed=0)
    loss_fn, theta = flatten(mlp([64, 32, 10], activation=activation, seed=0), X, Y)
    v = random_direction(theta, mask=parameter_mask(loss_fn, ["0.weight"]))
    profile = growth_profile(loss_fn, theta, v, torch.logspace(1.5, 3.5, 41, dtype=torch.float64))
    return float(profile.exponent_between(100, 1000).mean())


@register("ex-multiscale-activation",
          expects='the mean growth exponent for 100 ≤ t ≤ 1000 of each activation (a dict {"tanh": p, "gelu": p})')
def _activation(answer: Any) -> list[Part]:
    exponents = pick(answer, {"tanh": "tanh", "gelu": "gelu"}, "the answer")
    hints = {
        "tanh": ("far out the tanh units saturate and the loss stops growing; is your direction confined to the "
                 "first layer (mslib.parameter_mask)?",
                 "the mean of p(t) over 100 ≤ t ≤ 1000 should be close to, not below, the plateau's 0"),
        "gelu": ("is it the mean of p(t) over 100 ≤ t ≤ 1000 (GrowthProfile.exponent_between)?",
                 "GELU grows linearly for large positive inputs, so the outputs keep growing; did you train with "
                 "activation='gelu' and look at 100 ≤ t ≤ 1000?"),
    }
    return [compare(as_number(exponents[name], f"the {name} exponent"), _far_exponent(name),
                    name=f"the {name} exponent", atol=0.3, too_large=hints[name][0], too_small=hints[name][1])
            for name in ("tanh", "gelu")]


@register("ex-multiscale-taylor-radius",
          expects="the distances where the cubic and the quartic term reach 10% (a tuple of two numbers)")
def _taylor_radius(answer: Any, *, loss_fn: Any, theta: Any, direction: Any) -> list[Part]:
    cubic, quartic = (as_number(r, name) for r, name in
                      zip(unpack(answer, ["cubic_radius", "quartic_radius"], "the answer"),
                          ["cubic_radius", "quartic_radius"]))
    loss_fn, theta = _network_point(loss_fn, theta)
    h = 1e-3
    c, c_plus, c_minus = (curvature(loss_fn, theta + s * h * direction, direction) for s in (0, 1, -1))
    third, fourth = (c_plus - c_minus) / (2 * h), (c_plus - 2 * c + c_minus) / h**2
    return [
        compare(cubic, 0.3 * c / abs(third), name="cubic_radius", rtol=0.05,
                too_large="solve |L'''| t / (3λ₁) = 0.1 for t; is L''' the central difference of the curvature "
                          "divided by 2h?",
                too_small="solve |L'''| t / (3λ₁) = 0.1 for t, with λ₁ the curvature along u1 at θ*"),
        compare(quartic, math.sqrt(1.2 * c / abs(fourth)), name="quartic_radius", rtol=0.05,
                too_large="solve |L''''| t² / (12λ₁) = 0.1 for t; is L'''' the second difference divided by h²?",
                too_small="solve |L''''| t² / (12λ₁) = 0.1 for t (a square root)"),
    ]


@register("ex-multiscale-random-direction",
          expects='the even loss increase at t = 100 along each part (a dict {"first-layer part": ..., '
                  '"last-layer part": ...})')
def _random_direction_parts(answer: Any, *, loss_fn: Any, theta: Any) -> list[Part]:
    increases = pick(answer, {"first": "the first-layer part", "last": "the last-layer part"}, "the answer")
    loss_fn, theta = _network_point(loss_fn, theta)
    r = random_direction(theta, seed=0)  # the chapter's random direction of network A
    layers = {"the first-layer part": loss_fn.names[:2], "the last-layer part": loss_fn.names[-2:]}
    parts = []
    for name, names in layers.items():
        reference = float(symmetric_increase(loss_fn, theta, r * parameter_mask(loss_fn, names), _float64(100.0)))
        parts.append(compare(as_number(increases[name], name), reference, name=name, rtol=1e-3,
                             too_large="is it the even increase (mslib.symmetric_increase) at t = 100 along r times "
                                       "the layer's mask, with r = mslib.random_direction(theta_A, seed=0)?",
                             too_small="is it the increase at t = 100 along the masked part of r, not along r "
                                       "rescaled to unit length?"))
    return parts


# --- Chapter 3: the Edge of Stability ---------------------------------------------------------------


def _gaussian_well(theta: Tensor) -> Tensor:
    return (1 - torch.exp(-theta**2 / 2)).sum()


@register("ex-eos-log-cosh-orbit", expects="x*, the amplitude of the period-2 orbit on log cosh for η = 4 (a number)")
def _log_cosh_orbit(answer: Any) -> Part:
    x_star = as_number(answer, "x*")
    if x_star <= 0:
        return Part(False, "x* should be positive: the orbit is ±x*, report its positive point")
    return compare(x_star, period_two_orbit(toys.log_cosh(), 4.0), name="x*", atol=1e-6,
                   too_large="tanh(x)/x falls as x grows, and at your x* it is already below 2/η; is your bisection "
                             "keeping the correct half?",
                   too_small="at your x* the ratio tanh(x)/x is still above 2/η; bisect further, or check the "
                             "update of the bracket")


@functools.lru_cache
def _doubling_step() -> float:
    """The step size where the period-2 orbit of 1 - exp(-x²/2) loses stability (multiplier 1)."""
    excess = lambda lr: orbit_multiplier(_gaussian_well, lr, period_two_orbit(_gaussian_well, lr)) - 1  # noqa: E731
    return float(brentq(excess, 2.5, 6.0, xtol=1e-12))


@register("ex-eos-doubling", expects="the step size η at which the period-2 orbit loses stability (a number)")
def _doubling(answer: Any) -> Part:
    lr = as_number(answer, "the step size")
    return compare(lr, _doubling_step(), name="the step size", rtol=1e-3,
                   too_large="just below your η the orbit is already unstable; where does f''(x*) change sign?",
                   too_small="at your η the orbit is still stable, since f''(x*) > 0 there; follow x* further out")


@register("ex-eos-other-architecture",
          expects="the sharpness measurements of network B from step 1000 on (a tensor, list or number)")
def _other_architecture(answer: Any) -> Part:
    single = isinstance(answer, (int, float))
    values = [as_number(answer, "the sharpness")] if single else as_numbers(answer, "the sharpness")
    edge = 2 / 0.3
    low, high = min(values), max(values)
    if low < 0.9 * edge:
        return Part(False, "the sharpness is too small: it has not reached the edge yet; did you run all 1500 steps "
                           "with η = 0.3, and keep only the measurements from step 1000 on?")
    if high > 1.1 * edge:
        return Part(False, "the sharpness is too large: at η = 0.3 it cannot stay that high; is the step size 0.3?")
    return Part(True)


# --- Chapter 4: learning-rate decay -----------------------------------------------------------------


def _bowl_plus_well_start() -> tuple[Any, Tensor]:
    return toys.bowl_plus_well(0.01, 0.01), _float64(2.0)


@functools.lru_cache
def _decays_reaching_the_well() -> frozenset[int]:
    """The decay steps T in 100, ..., 900 after which the 1000-step run ends in the well.

    The runs share their first T steps at η = 0.5, so one run keeps those iterates and each decay
    continues from its x_T at 0.005: the same iterates as ``step_decay(0.5, [T], 0.01)``.
    """
    f, x0 = _bowl_plus_well_start()
    big = gd(f, x0, 0.5, 900, keep_iterates=True).thetas
    return frozenset(T for T in range(100, 1000, 100) if float(gd(f, big[T], 0.005, 1000 - T).loss[-1]) < 1e-12)


@register("ex-decay-when", expects="the decay steps T (of 100, 200, ..., 900) whose run ends in the well (a list)")
def _decay_when(answer: Any) -> Part:
    chosen = {int(T) for T in as_numbers(answer, "the list of T")}
    reference = _decays_reaching_the_well()
    missing, extra = len(reference - chosen), len(chosen - reference)
    if not missing and not extra:
        return Part(True)
    problems = []
    if missing:
        problems.append(f"{missing} T that end in the well {'is' if missing == 1 else 'are'} missing")
    if extra:
        problems.append(f"{extra} of your T {'does' if extra == 1 else 'do'} not end in the well")
    return Part(False, " and ".join(problems) + "; for each T, is the loss after all 1000 steps below 1e-12?")


def _three_scales(theta: Tensor) -> Tensor:
    wells = 0.1 * (1 - torch.exp(-theta**2 / 0.1**2)) + 0.01 * (1 - torch.exp(-theta**2 / 0.01**2))
    return (theta**2 / 2 + wells).sum()


@functools.lru_cache
def _steps_to_converge() -> dict[str, int]:
    """Steps each schedule of the exercise needs to bring f3's loss below 1e-10, from x0 = 2, within
    the budget of 2000. A shorter run first: its iterates are the first ones of the long run."""
    designs = {"two stages": schedules.step_decay(0.5, [100, 300], 0.1),
               "direct": schedules.step_decay(0.5, [100], 0.01),
               "constant 0.005": schedules.Constant(0.005)}
    _, x0 = _bowl_plus_well_start()
    needed = {}
    for name, schedule in designs.items():
        for steps in (800, 2000):
            below = (gd(_three_scales, x0, None, steps, schedule=schedule).loss < 1e-10).nonzero()
            if len(below):
                needed[name] = int(below[0])
                break
    return needed


@register("ex-decay-three-scales",
          expects='the steps each schedule needs to reach a loss below 1e-10 (a dict {"two stages": ..., '
                  '"direct": ..., "constant 0.005": ...})')
def _decay_three_scales(answer: Any) -> list[Part]:
    needed = pick(answer, {"two": "two stages", "direct": "direct", "constant": "constant 0.005"}, "the answer")
    reference = _steps_to_converge()
    return [compare(_steps(needed[name], f"the step count of {name!r}"), reference[name],
                    name=f"the step count of {name!r}", atol=1,
                    too_large="is the schedule passed as schedule= (with lr=None), starting from x0 = 2?",
                    too_small="is it the first step at which the loss is below 1e-10?") for name in reference]


@register("ex-decay-cosine", expects="the step where η falls below 2/λ_narrow and the step where the loss falls "
                                     "below 1e-10 (a tuple of two whole numbers)")
def _decay_cosine(answer: Any) -> list[Part]:
    crossing, entered = (_steps(value, name) for value, name in
                         zip(unpack(answer, ["crossing", "entered"], "the answer"), ["crossing", "entered"]))
    f, x0 = _bowl_plus_well_start()
    narrow = float(dense_hessian(f, torch.zeros(1, dtype=torch.float64)))
    cosine = schedules.Cosine(0.5, 600)
    reference_crossing = next(k for k in range(600) if cosine(k) < 2 / narrow)
    reference_entered = int((gd(f, x0, None, 800, schedule=cosine).loss < 1e-10).nonzero()[0])
    return [
        compare(crossing, reference_crossing, name="crossing", atol=1,
                too_large="is it the first step whose step size is below 2/λ_narrow (λ_narrow = f''(0))?",
                too_small="is it compared with 2/λ_narrow, the narrow scale's threshold, not the wide one's?"),
        compare(entered, reference_entered, name="entered", atol=1,
                too_large="is it the first step at which the loss is below 1e-10?",
                too_small="the well can only catch the iterate once the step size is below its threshold"),
    ]


# --- Chapter 5: where the scales come from ---------------------------------------------------------


def _first_layer_direction(loss_fn: FlatLoss, theta: Tensor, seed: int) -> Tensor:
    """A random direction of the first-layer weights, as the chapter's exercises draw it."""
    return random_direction(theta, seed=seed, mask=parameter_mask(loss_fn, [loss_fn.names[0]]))


@functools.lru_cache
def _three_cluster_plateaus() -> tuple[tuple[float, float], ...]:
    r = cluster_magnitudes(2000, [1.0, 10.0, 1000.0], [0.7, 0.2, 0.1])
    loss_fn, theta, _ = magnitude_network(r)
    profile = growth_profile(loss_fn, theta, _first_layer_direction(loss_fn, theta, 0),
                             torch.logspace(-5, 2.5, 76, dtype=torch.float64))
    return tuple(find_plateaus(profile.ts, profile.increase))


@register("ex-origin-three-clusters", expects="the plateaus found by mslib.find_plateaus (a list of (start, end) pairs)")
def _three_clusters(answer: Any) -> list[Part]:
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Sequence):
        raise AnswerError(f"the plateaus should be a list of (start, end) pairs, got {type(answer).__name__}")
    found = [as_numbers(pair, "each plateau") for pair in answer]
    if any(len(pair) != 2 for pair in found):
        raise AnswerError("each plateau should be a (start, end) pair")
    reference = _three_cluster_plateaus()
    parts = [compare(len(found), len(reference), name="the number of plateaus",
                     too_large="a plateau needs a gap between two scales wider than one cluster's own rise: which "
                               "gaps are that wide?",
                     too_small="is the grid log-spaced and wide enough (1e-5 to 10^2.5) to contain every scale?")]
    if parts[0].ok:
        overlap = all(start < ref_end and ref_start < end for (start, end), (ref_start, ref_end) in zip(found, reference))
        parts.append(Part(overlap, "the plateau is not where the chapter's construction puts it: is the slice taken "
                                   "at the teacher, along random_direction(theta, seed=0) masked to the first-layer "
                                   "weights?"))
    return parts


@functools.lru_cache
def _intermediate_exponents(alpha: float, activation: str) -> tuple[float, float]:
    """The scalar model's and the network's mean exponent over the intermediate range, for the
    power-law magnitudes of the chapter (seed 1) and its network (seed 2), direction seed 4."""
    r = power_law_magnitudes(2000, alpha, seed=1)
    grid = torch.logspace(-6, 1, 71, dtype=torch.float64)
    low, high = intermediate_range(r)
    inside = (grid >= low) & (grid <= high)
    scalar = float(growth_exponent(grid, mixture_loss(grid, r))[inside].mean())
    loss_fn, theta, _ = magnitude_network(r, seed=2, activation=activation)
    network = intermediate_exponent(loss_fn, theta, _first_layer_direction(loss_fn, theta, 4),
                                    torch.logspace(-7, 1, 81, dtype=torch.float64))
    return scalar, network


@register("ex-origin-relu", expects="the mean growth exponent of the ReLU network over the intermediate range (a number)")
def _origin_relu(answer: Any) -> Part:
    p = as_number(answer, "the exponent")
    _, reference = _intermediate_exponents(1.0, "relu")
    return compare(p, reference, name="the exponent", atol=0.05,
                   too_large="is it the mean over the intermediate range only (saturation.intermediate_exponent)?",
                   too_small="close to α = 1? Then the teacher still uses tanh: pass activation='relu' to "
                             "magnitude_network")


@register("ex-origin-alpha", expects="the mean growth exponents for α = 0.75, as a pair (scalar model, network)")
def _origin_alpha(answer: Any) -> list[Part]:
    scalar, network = (as_number(value, name) for value, name in
                       zip(unpack(answer, ["scalar model", "network"], "the answer"), ["the scalar model's exponent", "the network's exponent"]))
    reference_scalar, reference_network = _intermediate_exponents(0.75, "tanh")
    return [
        compare(scalar, reference_scalar, name="the scalar model's exponent", atol=0.02,
                too_large="is the average taken over intermediate_range(r) only, not down to t = 0 where p = 2?",
                too_small="is the average taken over intermediate_range(r) only, not out to where every sample "
                          "has saturated?"),
        compare(network, reference_network, name="the network's exponent", atol=0.05,
                too_large="is the direction restricted to the first-layer weights, and the grid logspace(-7, 1, 81)?",
                too_small="is the range the direction's own (preactivation_rates of the direction), not the "
                          "magnitudes'?"),
    ]
