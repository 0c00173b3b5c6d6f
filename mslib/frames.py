"""Explorer frames: the pictures behind the course's sliders.

Each frame draws what never changes once, in ``setup(fig)``, and moves its lines in
``update(**controls)``; ``mslib.widgets`` shows a frame live (ipywidgets) or as precomputed
frames for the web book. Frames draw what their ``run`` callables compute; they compute nothing.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .dynamics import Trajectory
from .growth import GrowthProfile
from .plots import PALETTE, ROLE, _np, landscape


class GDExplorerFrame:
    """An explorer frame: a 2-D landscape with a GD path on the left; on the right the run's loss
    (log scale) or its sharpness against step, with a threshold such as ``2/lr`` dashed.

    ``setup(fig)`` draws what never changes (the landscape, axes, labels) once; ``update(lr=...)``
    (one control, any name) asks ``run(value)`` for a ``Trajectory`` (kept iterates; measured
    sharpness for ``right="sharpness"``) and moves the existing lines. Redrawing only the lines
    keeps a widget update well inside the course's 150 ms budget.

    Args:
        ts1, ts2, values: a precomputed 2-D slice, ``values[i, j]`` at ``(ts1[i], ts2[j])``.
        run: ``run(value) -> Trajectory``, the computation behind the slider.
        title: ``title(value) -> str``.
        steps_shown: how many iterates of the path to draw.
        right: ``"loss"`` or ``"sharpness"``.
        right_range: fixed limits of the right panel's vertical axis (log scale for the loss).
        threshold: ``threshold(value) -> level`` drawn dashed on the right panel, or ``None``.
        log_levels: log-spaced landscape contours (needs a positive landscape).
    """

    def __init__(self, ts1, ts2, values, run, title, *, steps_shown: int = 40, right: str = "loss",
                 right_range: tuple[float, float] = (1e-8, 1e4), threshold=None, log_levels: bool = True):
        if right not in ("loss", "sharpness"):
            raise ValueError(f"right must be 'loss' or 'sharpness', got {right!r}")
        self.ts1, self.ts2, self.values = ts1, ts2, values
        self.run, self.title, self.steps_shown = run, title, steps_shown
        self.right, self.right_range, self.threshold, self.log_levels = right, right_range, threshold, log_levels

    def setup(self, fig: Figure) -> None:
        ax_land, self.ax_right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        landscape(ax_land, self.ts1, self.ts2, self.values, log=self.log_levels)
        t1, t2 = _np(self.ts1), _np(self.ts2)
        ax_land.set_xlim(t1.min(), t1.max())
        ax_land.set_ylim(t2.min(), t2.max())
        ax_land.set_aspect("auto")
        ax_land.set_xlabel("θ₁")
        ax_land.set_ylabel("θ₂")
        (self.path_line,) = ax_land.plot([], [], "-o", color="white", lw=0.8, ms=2.5)
        (self.start_marker,) = ax_land.plot([], [], "s", color=PALETTE["orange"], ms=6)
        if self.right == "loss":
            (self.curve,) = self.ax_right.semilogy([], [], color=ROLE["loss"])
            self.ax_right.set_ylabel("loss L(θ_k)")
        else:
            (self.curve,) = self.ax_right.plot([], [], color=ROLE["top"])
            self.ax_right.set_ylabel("sharpness λ_max(θ_k)")
        (self.level,) = self.ax_right.plot([], [], "--", color=ROLE["threshold"], lw=1.2)
        (self.diverged_marker,) = self.ax_right.plot([], [], "x", color=ROLE["threshold"], ms=9, mew=2)
        self.ax_right.set_ylim(*self.right_range)
        self.ax_right.set_xlabel("step k")
        self.status = self.ax_right.set_title(" ", fontsize=9, color=ROLE["threshold"])
        self.suptitle = fig.suptitle(" ", fontsize=11)

    def update(self, **values: float) -> None:
        (value,) = values.values()  # driven by one control, whatever its name
        trajectory: Trajectory = self.run(value)
        iterates = _np(trajectory.thetas)[: self.steps_shown]
        self.path_line.set_data(iterates[:, 0], iterates[:, 1])
        self.start_marker.set_data(iterates[:1, 0], iterates[:1, 1])
        if self.right == "loss":
            curve = _np(trajectory.loss)
            steps = np.arange(len(curve))
        else:
            curve, steps = _np(trajectory.sharpness), _np(trajectory.sharpness_steps)
        self.curve.set_data(steps, curve)
        last = max(len(trajectory.loss) - 1, 1)
        self.ax_right.set_xlim(0, last)
        if self.threshold is not None:
            self.level.set_data([0, last], [self.threshold(value)] * 2)
        if trajectory.diverged and self.right == "loss":
            self.diverged_marker.set_data([len(curve) - 1], [min(curve[-1], self.right_range[1])])
        else:
            self.diverged_marker.set_data([], [])
        self.status.set_text(f"diverged at step {trajectory.diverged_at}" if trajectory.diverged else " ")
        self.suptitle.set_text(self.title(value))


def _curve_with_iterates(ax: Axes, xs: np.ndarray, fs: np.ndarray):
    """A 1-D loss curve on ``ax``; returns the (empty) line that marks iterates on it."""
    ax.plot(xs, fs, color=ROLE["loss"])
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(0, fs.max())
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    (points,) = ax.plot([], [], "o", color=ROLE["top"], ms=5)
    return points


class OrbitExplorerFrame:
    """An explorer frame for GD on a 1-D loss: the curve with the last iterates on it and the
    period-2 orbit ``±x*`` marked (left), and the iterates against step (right).

    Args:
        xs, fs: the loss curve, precomputed (shape (g,) each).
        run: ``run(lr) -> (Trajectory with kept iterates, x_star or None)``.
        title: ``title(lr) -> str``.
        last: how many final iterates to mark on the curve.
    """

    def __init__(self, xs, fs, run, title, *, last: int = 12):
        self.xs, self.fs, self.run, self.title, self.last = _np(xs), _np(fs), run, title, last

    def setup(self, fig: Figure) -> None:
        self.ax_curve, self.ax_steps = fig.subplots(1, 2)
        self.points = _curve_with_iterates(self.ax_curve, self.xs, self.fs)
        self.orbit_lines = [self.ax_curve.axvline(0, ls="--", color=ROLE["model"], lw=1.2) for _ in range(2)]
        (self.steps_line,) = self.ax_steps.plot([], [], "-o", ms=2, lw=0.8, color=ROLE["top"])
        self.ax_steps.set_ylim(self.xs.min(), self.xs.max())
        self.ax_steps.set_xlabel("step k")
        self.ax_steps.set_ylabel("iterate x_k")
        self.status = self.ax_steps.set_title(" ", fontsize=9)
        self.suptitle = fig.suptitle(" ", fontsize=11)

    def update(self, **values: float) -> None:
        (lr,) = values.values()
        trajectory, x_star = self.run(lr)
        xs, fs = _np(trajectory.thetas)[:, 0], _np(trajectory.loss)
        self.points.set_data(xs[-self.last :], fs[-self.last :])
        self.steps_line.set_data(np.arange(len(xs)), xs)
        self.ax_steps.set_xlim(0, max(len(xs) - 1, 1))
        for line, x in zip(self.orbit_lines, (x_star, -x_star) if x_star is not None else (np.nan, np.nan)):
            line.set_xdata([x, x])
        if trajectory.diverged:
            self.status.set_text(f"diverged at step {trajectory.diverged_at}")
        elif x_star is not None:
            self.status.set_text(f"period-2 orbit ±{x_star:.3f}")
        else:
            self.status.set_text("converges to 0")
        self.suptitle.set_text(self.title(lr))


class SliceExplorerFrame:
    """An explorer frame for growth profiles: the loss increase along a chosen direction up to a
    chosen reach (left, linear or log-log axes, quadratic model dashed) and its growth exponent
    (right, reach marked). ``update(direction=..., reach=..., scale="log"|"linear")``.

    Args:
        profiles: ``{name: GrowthProfile}``, precomputed with ``mslib.growth_profile``.
    """

    def __init__(self, profiles: dict[str, GrowthProfile]):
        if not profiles:
            raise ValueError("profiles must not be empty")
        self.profiles = profiles

    def setup(self, fig: Figure) -> None:
        self.ax_increase, self.ax_exponent = fig.subplots(1, 2)
        (self.increase_line,) = self.ax_increase.plot([], [], color=ROLE["loss"], label="loss increase")
        (self.model_line,) = self.ax_increase.plot([], [], "--", color=ROLE["model"], label="quadratic model")
        self.ax_increase.set_xlabel("distance t")
        self.ax_increase.set_ylabel("loss increase (even part)")
        self.ax_increase.legend(loc="upper left")
        (self.exponent_line,) = self.ax_exponent.semilogx([], [], color=ROLE["loss"])
        self.ax_exponent.axhline(2, color="grey", lw=1, ls=":")
        self.reach_line = self.ax_exponent.axvline(1, color=ROLE["threshold"], lw=1.2, ls="--")
        low = min(float(p.ts[0]) for p in self.profiles.values())
        high = max(float(p.ts[-1]) for p in self.profiles.values())
        self.ax_exponent.set_xlim(low, high)
        top = max(float(p.exponent.max()) for p in self.profiles.values())
        self.ax_exponent.set_ylim(-0.1, max(2.5, top + 0.2))
        self.ax_exponent.set_xlabel("distance t")
        self.ax_exponent.set_ylabel("growth exponent p(t)")
        self.title = fig.suptitle(" ", fontsize=11)

    def update(self, *, direction: str, reach: float, scale: str) -> None:
        profile = self.profiles[direction]
        ts = _np(profile.ts)
        shown = ts <= reach
        if shown.sum() < 2:
            shown[:2] = True
        increase, model = _np(profile.increase)[shown], _np(profile.model)[shown]
        self.increase_line.set_data(ts[shown], increase)
        self.model_line.set_data(ts[shown], model)
        self.ax_increase.set_xscale(scale)
        self.ax_increase.set_yscale(scale)
        left = ts[shown][0] if scale == "log" else 0.0
        self.ax_increase.set_xlim(left, ts[shown][-1])
        low = min(increase.min(), model.min()) if scale == "log" else 0.0
        self.ax_increase.set_ylim(low, 1.05 * max(increase.max(), model.max()))
        self.exponent_line.set_data(ts, _np(profile.exponent))
        self.reach_line.set_xdata([ts[shown][-1]] * 2)
        self.title.set_text(f"{direction}: 10% radius of the quadratic model {profile.radius:.3g}")


class ScheduleExplorerFrame:
    """An explorer frame for step-size schedules on a 1-D loss: the curve with the iterates of the
    last steps on it (left) and the loss against step on a log axis, with the decay steps marked
    (right). ``update(**controls)`` passes every control to ``run``.

    Args:
        xs, fs: the loss curve, precomputed (shape (g,) each).
        run: ``run(**controls) -> (Trajectory with kept iterates, decay steps)``.
        title: ``title(**controls) -> str``.
        loss_range: fixed limits of the loss axis.
        last: how many final iterates to mark on the curve.
    """

    def __init__(self, xs, fs, run, title, *, loss_range: tuple[float, float] = (1e-12, 10.0), last: int = 20):
        self.xs, self.fs, self.run, self.title = _np(xs), _np(fs), run, title
        self.loss_range, self.last = loss_range, last

    def setup(self, fig: Figure) -> None:
        self.ax_curve, self.ax_loss = fig.subplots(1, 2)
        self.points = _curve_with_iterates(self.ax_curve, self.xs, self.fs)
        (self.loss_line,) = self.ax_loss.semilogy([], [], color=ROLE["loss"])
        self.decay_lines = [self.ax_loss.axvline(0, color=ROLE["threshold"], ls="--", lw=1) for _ in range(3)]
        self.ax_loss.set_ylim(*self.loss_range)
        self.ax_loss.set_xlabel("step k")
        self.ax_loss.set_ylabel("loss f(x_k)")
        self.suptitle = fig.suptitle(" ", fontsize=11)

    def update(self, **controls) -> None:
        trajectory, decays = self.run(**controls)
        xs, loss = _np(trajectory.thetas)[:, 0], _np(trajectory.loss)
        self.points.set_data(xs[-self.last :], loss[-self.last :])
        shown = np.maximum(loss, self.loss_range[0])  # a loss of exactly 0 sits on the axis floor
        self.loss_line.set_data(np.arange(len(loss)), shown)
        self.ax_loss.set_xlim(0, max(len(loss) - 1, 1))
        for line, step in zip(self.decay_lines, list(decays) + [np.nan] * len(self.decay_lines)):
            line.set_xdata([step, step])
        self.suptitle.set_text(self.title(**controls))


class ScaleExplorerFrame:
    """An explorer frame for a family of growth profiles indexed by one number (a tail exponent,
    a cluster magnitude): the loss increase on log-log axes (left, quadratic model dashed, axes
    fixed across the family so that settings compare) and the growth exponent (right), with a
    predicted exponent drawn as a horizontal line and predicted scales as vertical ones.
    ``update(value=...)`` (one control, any name) shows the precomputed setting nearest to it.

    Args:
        profiles: ``{value: GrowthProfile}``, precomputed with ``mslib.growth_profile``.
        title: ``title(value) -> str``.
        level: ``level(value) -> exponent`` predicted in the intermediate range, or ``None``.
        scales: ``scales(value) -> distances`` where scales are predicted, or ``None``.
    """

    def __init__(self, profiles: dict[float, GrowthProfile], title, *, level=None, scales=None, max_scales: int = 3):
        if not profiles:
            raise ValueError("profiles must not be empty")
        self.profiles, self.title, self.level, self.scales = profiles, title, level, scales
        self.keys = np.array(sorted(profiles))
        self.max_scales = max_scales

    def setup(self, fig: Figure) -> None:
        self.ax_increase, self.ax_exponent = fig.subplots(1, 2)
        (self.increase_line,) = self.ax_increase.loglog([], [], color=ROLE["loss"], label="network")
        (self.model_line,) = self.ax_increase.loglog([], [], "--", color=ROLE["model"], label="quadratic model")
        self.ax_increase.set_xlabel("distance t")
        self.ax_increase.set_ylabel("loss increase")
        self.ax_increase.legend(loc="upper left")
        (self.exponent_line,) = self.ax_exponent.semilogx([], [], color=ROLE["loss"])
        self.ax_exponent.axhline(2, color="grey", lw=1, ls=":")
        (self.level_line,) = self.ax_exponent.plot([], [], "--", color=ROLE["threshold"], lw=1.2)
        self.scale_lines = [self.ax_exponent.axvline(np.nan, color=ROLE["model"], lw=1, ls="--") for _ in range(self.max_scales)]
        ts = np.concatenate([_np(p.ts) for p in self.profiles.values()])
        increase = np.concatenate([_np(p.increase) for p in self.profiles.values()])
        for ax in (self.ax_increase, self.ax_exponent):
            ax.set_xlim(ts.min(), ts.max())
        self.ax_increase.set_ylim(increase.min(), 3 * increase.max())
        self.ax_exponent.set_ylim(-0.1, 2.3)
        self.ax_exponent.set_xlabel("distance t")
        self.ax_exponent.set_ylabel("growth exponent p(t)")
        self.suptitle = fig.suptitle(" ", fontsize=11)

    def update(self, **values: float) -> None:
        (value,) = values.values()
        key = float(self.keys[np.abs(np.log(self.keys) - np.log(value)).argmin()])
        profile = self.profiles[key]
        ts = _np(profile.ts)
        self.increase_line.set_data(ts, _np(profile.increase))
        self.model_line.set_data(ts, _np(profile.model))
        self.exponent_line.set_data(ts, _np(profile.exponent))
        level = np.nan if self.level is None else self.level(key)
        self.level_line.set_data([ts[0], ts[-1]], [level, level])
        scales = [] if self.scales is None else list(self.scales(key))[: self.max_scales]
        for line, t in zip(self.scale_lines, scales + [np.nan] * self.max_scales):
            line.set_xdata([t, t])
        self.suptitle.set_text(self.title(key))
