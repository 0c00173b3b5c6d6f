"""The course's figure style and drawing helpers for static figures. They draw what the compute
modules return and compute nothing themselves (the explorers' pictures are in ``frames``).

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from torch import Tensor

from .growth import GrowthProfile

#: Okabe & Ito (2008), colour-blind-safe.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: Roles used across chapters, so one idea keeps one colour throughout the book.
ROLE = {
    "loss": PALETTE["blue"],
    "model": PALETTE["orange"],
    "threshold": PALETTE["vermillion"],
    "top": PALETTE["vermillion"],
    "random": PALETTE["green"],
    "path": PALETTE["black"],
}
LANDSCAPE_CMAP = "cividis"


def use_style() -> None:
    """Set the course's matplotlib style (call once per chapter, in the setup cell)."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            # Opaque white, whatever the notebook backend's default: a transparent figure's dark
            # text would vanish on the web book's dark theme.
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.prop_cycle": mpl.cycler(color=[PALETTE[c] for c in ("blue", "orange", "green", "vermillion", "sky", "purple", "black")]),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "font.size": 10,
            "lines.linewidth": 1.8,
            "image.cmap": LANDSCAPE_CMAP,
        }
    )


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


def landscape(ax: Axes, ts1, ts2, values, *, levels: int = 14, log: bool = True, decades: float = 3.0,
              colorbar_label: str | None = None) -> None:
    """Filled contours of a 2-D slice ``values[i, j]`` at ``(ts1[i], ts2[j])``. Log-spaced levels
    over ``decades`` below the maximum by default, so that both a narrow and a wide scale show
    (anything lower gets the lowest colour)."""
    v = _np(values).T
    if log:
        lowest = v.max() * 10.0**-decades
        lev = np.geomspace(lowest, v.max(), levels)
        filled = ax.contourf(_np(ts1), _np(ts2), np.maximum(v, lowest), levels=lev, norm=mpl.colors.LogNorm(), cmap=LANDSCAPE_CMAP)
    else:
        filled = ax.contourf(_np(ts1), _np(ts2), v, levels=levels, cmap=LANDSCAPE_CMAP)
    ax.contour(filled, colors="white", linewidths=0.4, alpha=0.6)
    ax.set_aspect("equal")
    ax.grid(False)
    if colorbar_label:
        bar = ax.figure.colorbar(filled, ax=ax, label=colorbar_label, shrink=0.85)
        if log:
            bar.locator = mpl.ticker.LogLocator()
            bar.formatter = mpl.ticker.LogFormatterSciNotation()
            bar.update_ticks()


def path(ax: Axes, thetas, *, color: str = ROLE["path"], label: str | None = None) -> None:
    """An optimizer's iterates (n, 2) as dots joined by thin lines, the start marked by a square."""
    p = _np(thetas)
    ax.plot(p[:, 0], p[:, 1], "-o", color=color, lw=0.8, ms=3, label=label)
    ax.plot(p[0, 0], p[0, 1], "s", color=color, ms=6)






def growth_loglog(ax: Axes, ts, increase, model_increase=None, *, label: str, color: str) -> None:
    """Loss increase ``L(θ*+tv) - L(θ*)`` against ``|t|`` on log-log axes, with the quadratic
    model dashed in the same colour when given."""
    ax.loglog(_np(ts), _np(increase), color=color, label=label)
    if model_increase is not None:
        ax.loglog(_np(ts), _np(model_increase), "--", color=color, lw=1.2, alpha=0.8, label=f"{label}: quadratic model")
    ax.set_xlabel("distance |t| from the minimum")
    ax.set_ylabel("loss increase L(θ*+tv) − L(θ*)")


def growth(ax_increase: Axes, ax_exponent: Axes, profile: GrowthProfile, *, label: str, color: str,
           model: bool = True) -> None:
    """A ``GrowthProfile`` on two axes: the even loss increase against ``t`` on log-log axes (with
    the quadratic model dashed) and the growth exponent ``p(t)`` against ``t`` (2 = quadratic)."""
    ts = _np(profile.ts)
    ax_increase.loglog(ts, _np(profile.increase), color=color, label=label)
    if model:
        ax_increase.loglog(ts, _np(profile.model), "--", color=color, lw=1.1, alpha=0.8)
    ax_increase.set_xlabel("distance t along the direction")
    ax_increase.set_ylabel("loss increase (even part)")
    ax_exponent.semilogx(ts, _np(profile.exponent), color=color, label=label)
    ax_exponent.axhline(2, color="grey", lw=1, ls=":")
    ax_exponent.set_xlabel("distance t along the direction")
    ax_exponent.set_ylabel("growth exponent p(t)")


def spectrum(ax: Axes, values: Sequence[float] | Tensor, *, label: str | None = None, color: str | None = None) -> None:
    """Eigenvalues by rank on a log axis (positive ones)."""
    v = _np(values)
    ranks = np.arange(1, len(v) + 1)
    ax.semilogy(ranks[v > 0], v[v > 0], "o", ms=4, label=label, color=color)
    plain = mpl.ticker.FuncFormatter(lambda y, _: f"{y:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("rank i")
    ax.set_ylabel("Hessian eigenvalue λ_i")
