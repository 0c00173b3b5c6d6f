"""Explorers: one frame, shown two ways.

A frame has ``setup(fig)``, which draws what never changes on an empty figure, and
``update(value)``, which moves what depends on the slider value (``mslib.plots.GDExplorerFrame``
is one). ``live`` wires a frame to an ipywidgets slider for a running kernel; ``kernel_free``
renders it at a list of values into frames behind a JavaScript slider, which works in the static
HTML book with no kernel. Heavy work that does not depend on the value (grids, spectra) belongs
outside, done once.
"""

from __future__ import annotations

import io
from typing import Protocol, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import _checks

class Frame(Protocol):
    def setup(self, fig: Figure) -> None: ...

    def update(self, value: float) -> None: ...


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes, fast: Agg draw, then PIL with light compression (matplotlib's
    own encoder is several times slower, which matters inside a 150 ms widget update)."""
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    out = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(out, format="png", compress_level=1)
    return out.getvalue()


def live(frame: Frame, *, name: str, low: float, high: float, value: float, step: float | None = None, log: bool = False,
         description: str | None = None, figsize: tuple[float, float] = (7.0, 3.4), dpi: int = 80):
    """A slider named ``name`` and a picture of ``frame`` that follows it.

    Returns an ``ipywidgets.VBox`` of ``(slider, image)``. One figure is set up once and updated in
    place, so a slider move costs ``frame.update`` plus one render. The first picture, at ``value``,
    is a complete static figure. ``log=True`` gives a logarithmic slider.
    """
    import ipywidgets as w

    _check_frame(frame)
    low, high = _checks.positive("low", low), _checks.positive("high", high)
    if not low <= value <= high:
        raise ValueError(f"value must lie in [low, high] = [{low}, {high}], got {value}")
    label = description or name
    if log:
        slider = w.FloatLogSlider(value=value, base=10, min=np.log10(low), max=np.log10(high), step=step or 0.01,
                                  description=label, continuous_update=False)
    else:
        slider = w.FloatSlider(value=value, min=low, max=high, step=step or (high - low) / 200, description=label,
                               continuous_update=False, readout_format=".3f")
    # Fixed margins instead of the course's constrained layout, which alone costs ~50 ms a frame.
    fig = Figure(figsize=figsize, dpi=dpi, layout="none")
    image = w.Image(format="png")

    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.85, wspace=0.3)
    frame.setup(fig)

    def update(change: dict | None = None) -> None:
        frame.update(slider.value)
        image.value = png_bytes(fig)

    slider.observe(update, names="value")
    update()
    return w.VBox([slider, image])


def render_frames(frame: Frame, values: Sequence[float], *, figsize: tuple[float, float] = (7.0, 3.4), dpi: int = 72,
                  interval_ms: int = 400) -> str:
    """HTML of ``frame`` at each of ``values`` behind matplotlib's JavaScript frame slider.

    Self-contained (frames as embedded PNGs, no external scripts): it works in the static book.
    """
    _check_frame(frame)
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one slider value")
    fig = plt.figure(figsize=figsize, dpi=dpi)
    frame.setup(fig)

    def show(value: float) -> list:
        frame.update(value)
        return []

    animation = FuncAnimation(fig, show, frames=values, init_func=lambda: [], interval=interval_ms, blit=False, repeat=False)
    html = animation.to_jshtml(fps=max(1, 1000 // interval_ms), default_mode="once")
    plt.close(fig)
    return html


def kernel_free(frame: Frame, values: Sequence[float], **kwargs):
    """``render_frames`` wrapped for display in a notebook cell (an ``IPython.display.HTML``)."""
    from IPython.display import HTML

    return HTML(render_frames(frame, values, **kwargs))


def _check_frame(frame: Frame) -> None:
    if not (callable(getattr(frame, "setup", None)) and callable(getattr(frame, "update", None))):
        raise TypeError(f"frame must have setup(fig) and update(value) methods, got {type(frame).__name__}")
