"""Per-sample saturation: how the magnitudes of the data set the scales of a loss.

Moving a first-layer weight by ``t`` changes sample i's pre-activation by about ``t r_i``
(``r_i = |x_i|``); with a bounded activation that sample's loss saturates once ``t r_i >> 1``.
Along such a direction the loss is then about ``mean_i g(r_i t)`` with ``g(s) ~ s^2`` for small
``s`` and ``g`` bounded: ``mixture_loss`` is that scalar model. On a network, each sample's own
curve is ``symmetric_increase(loss_fn.sample_losses, theta, direction, ts)`` (shape
(len(ts), n)), and ``half_saturation`` reads off the scale at which a group of samples saturates.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from . import _checks
from .data import on_sphere
from .growth import growth_profile
from .nets import FlatLoss, flatten, teacher_student

#: Per-sample loss profiles ``g(s)`` of the scalar model: bounded (``tanh2``) or not (``quadratic``).
#:
#: :meta hide-value:
PROFILES: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh2": lambda s: torch.tanh(s) ** 2,
    "quadratic": lambda s: s**2,
}


def mixture_loss(ts, magnitudes: Tensor, *, g: str = "tanh2") -> Tensor:
    """The scalar model ``L(t) = mean_i g(r_i t)`` at each ``t`` of ``ts``; shape (len(ts),), float64.

    Args:
        ts: distances, shape (m,).
        magnitudes: the samples' magnitudes ``r_i``, shape (n,).
        g: the per-sample profile, a key of ``PROFILES``.
    """
    ts = _checks.grid("ts", ts)
    r = _checks.flat_vector("magnitudes", magnitudes).double()
    if g not in PROFILES:
        raise ValueError(f"g must be one of {sorted(PROFILES)}, got {g!r}")
    return PROFILES[g](ts[:, None] * r[None, :]).mean(dim=1)


def half_saturation(ts, values) -> float:
    """The first ``t`` at which a rising, saturating curve reaches half its last value.

    Interpolated linearly in ``log t`` between the two grid points around the crossing; ``ts``
    must increase and reach far enough for ``values[-1]`` to be the saturated level.
    """
    ts = _checks.grid("ts", ts)
    values = _checks.grid("values", values)
    if values.shape != ts.shape:
        raise ValueError(f"values must have the shape of ts {tuple(ts.shape)}, got {tuple(values.shape)}")
    if not (ts > 0).all() or not (ts.diff() > 0).all():
        raise ValueError("ts must be positive and increasing")
    half = 0.5 * float(values[-1])
    above = (values >= half).nonzero()
    k = int(above[0])
    if k == 0:
        raise ValueError("values are already above half their last value at ts[0]: start the grid lower")
    t0, t1, v0, v1 = ts[k - 1].log(), ts[k].log(), float(values[k - 1]), float(values[k])
    return float((t0 + (half - v0) / (v1 - v0) * (t1 - t0)).exp())


def preactivation_rates(loss_fn: FlatLoss, direction: Tensor) -> Tensor:
    """How fast each sample's first-layer pre-activations move along ``direction``; shape (n,).

    Moving the parameters by ``t * direction`` moves sample i's pre-activation of hidden unit j by
    ``t * s_ij`` (the first layer is affine); this returns ``s_i = max_j |s_ij|``, the rate of the
    sample's fastest unit, which sets the distance ``~1/s_i`` at which the sample saturates.
    """
    if not isinstance(loss_fn, FlatLoss):
        raise TypeError(f"loss_fn must be a FlatLoss from mslib.flatten, got {type(loss_fn).__name__}")
    direction = _checks.nonzero_vector("direction", direction, loss_fn.dim)
    first = loss_fn.model[0]
    if not isinstance(first, torch.nn.Linear):
        raise ValueError("the model's first layer must be a torch.nn.Linear")
    moves = loss_fn.unflatten(direction.to(loss_fn.X))
    weight = moves[loss_fn.names[0]]
    bias = moves[loss_fn.names[1]] if first.bias is not None else 0.0
    return (loss_fn.X @ weight.T + bias).abs().max(dim=1).values


def intermediate_range(rates: Tensor, *, margin: float = 10.0) -> tuple[float, float]:
    """The distances ``(margin / max_i s_i, 1 / (margin min_i s_i))``: past the saturation of the
    fastest sample and before that of the slowest, each by a factor ``margin``."""
    rates = _checks.flat_vector("rates", rates)
    margin = _checks.positive("margin", margin)
    low, high = margin / float(rates.max()), 1.0 / (margin * float(rates.min()))
    if not low < high:
        raise ValueError(f"the rates span too few scales for margin {margin}: {low:.3g} >= {high:.3g}")
    return low, high


def magnitude_network(magnitudes: Tensor, *, seed: int = 0, n_inputs: int = 8, hidden: int = 16,
                      perturbation: float = 0.3, activation: str = "tanh") -> tuple[FlatLoss, Tensor, Tensor]:
    """The origin chapter's construction: inputs ``x_i = r_i z_i`` (``z_i`` uniform on the unit
    sphere of R^n_inputs, seeded with ``seed``), labelled by a two-layer teacher
    (``teacher_student`` seeded with ``seed + 1``).

    Returns:
        ``(loss_fn, theta_teacher, student_start)``: the MSE loss of the data, the teacher's flat
        parameters (a minimum with loss 0, shape (d,)) and a student's start (d,).
    """
    X = on_sphere(magnitudes, n_inputs, seed=seed)
    teacher, Y, student_start = teacher_student(X, hidden, seed=seed + 1, perturbation=perturbation,
                                                activation=activation)
    loss_fn, theta_teacher = flatten(teacher, X, Y)
    return loss_fn, theta_teacher, student_start


def intermediate_exponent(loss_fn: FlatLoss, theta: Tensor, direction: Tensor, ts, *, margin: float = 10.0) -> float:
    """The mean growth exponent along ``direction`` over its ``intermediate_range`` (from the
    direction's ``preactivation_rates``), measured by ``growth_profile`` on the grid ``ts``."""
    profile = growth_profile(loss_fn, theta, direction, ts)
    low, high = intermediate_range(preactivation_rates(loss_fn, direction), margin=margin)
    inside = profile.exponent_between(low, high)
    if inside.numel() == 0:
        raise ValueError(f"ts has no point in the intermediate range [{low:.3g}, {high:.3g}]")
    return float(inside.mean())
