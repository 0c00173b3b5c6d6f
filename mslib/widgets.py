"""Explorers: one frame, shown two ways.

A frame has ``setup(fig)``, which draws what never changes on an empty figure, and
``update(**values)``, which moves what depends on the controls (``mslib.frames`` holds the
course's frames). ``live`` wires a frame to ipywidgets controls for a running kernel;
``kernel_free`` renders it at a list of settings into frames behind a JavaScript slider, which
works in the static HTML book with no kernel. Work that does not depend on the controls (grids,
slices, spectra) belongs outside, done once, so that an update stays cheap.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import _checks


class Frame(Protocol):
    def setup(self, fig: Figure) -> None: ...

    def update(self, **values: Any) -> None: ...


@dataclass(frozen=True)
class Slider:
    """A float control from ``low`` to ``high`` (logarithmic when ``log``), starting at ``value``."""

    low: float
    high: float
    value: float
    log: bool = False
    description: str | None = None

    def __post_init__(self) -> None:
        if _checks.positive("high", self.high) <= _checks.positive("low", self.low):
            raise ValueError(f"high must exceed low, got low={self.low}, high={self.high}")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value must lie in [low, high] = [{self.low}, {self.high}], got {self.value}")

    def widget(self, name: str):
        import ipywidgets as w

        label = self.description or name
        if self.log:
            lo, hi = np.log10(self.low), np.log10(self.high)
            return w.FloatLogSlider(value=self.value, base=10, min=lo, max=hi, step=(hi - lo) / 100,
                                    description=label, continuous_update=False)
        return w.FloatSlider(value=self.value, min=self.low, max=self.high, step=(self.high - self.low) / 200,
                             description=label, continuous_update=False, readout_format=".3g")


@dataclass(frozen=True)
class Choice:
    """A choice among ``options`` (labels, or numbers for frames precomputed at those values),
    starting at ``value`` (default: the first): buttons, or a slider when ``slider`` is set."""

    options: tuple
    value: Any = None
    description: str | None = None
    slider: bool = False

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("options must not be empty")
        if self.value is not None and self.value not in self.options:
            raise ValueError(f"value must be one of {self.options}, got {self.value!r}")

    def widget(self, name: str):
        import ipywidgets as w

        start = self.options[0] if self.value is None else self.value
        label = self.description or name
        if self.slider:
            return w.SelectionSlider(options=[(f"{v:g}" if isinstance(v, float) else str(v), v) for v in self.options],
                                     value=start, description=label, continuous_update=False)
        return w.ToggleButtons(options=list(self.options), value=start, description=label)


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes, fast: Agg draw, then PIL with light compression (matplotlib's
    own encoder is several times slower, which matters inside a 150 ms widget update)."""
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    out = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(out, format="png", compress_level=1)
    return out.getvalue()


def live(frame: Frame, *, figsize: tuple[float, float] = (7.0, 3.4), dpi: int = 80,
         **controls: Slider | Choice):
    """Controls (one per keyword: a ``Slider`` or a ``Choice``) and a picture of ``frame`` that
    follows them.

    Returns an ``ipywidgets.VBox`` of the control widgets followed by the image. One figure is set
    up once and updated in place, so a move costs ``frame.update`` plus one render. The first
    picture, at the controls' starting values, is a complete static figure. A frame draws on one
    figure: give each explorer its own frame.
    """
    import ipywidgets as w

    _check_frame(frame)
    if not controls:
        raise ValueError("live needs at least one control (a Slider or Choice keyword argument)")
    for name, control in controls.items():
        if not isinstance(control, (Slider, Choice)):
            raise TypeError(f"control {name} must be a Slider or a Choice, got {type(control).__name__}")
    inputs = {name: control.widget(name) for name, control in controls.items()}
    # Fixed margins instead of the course's constrained layout, which alone costs ~50 ms a frame.
    fig = Figure(figsize=figsize, dpi=dpi, layout="none")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.85, wspace=0.3)
    frame.setup(fig)
    image = w.Image(format="png")

    def update(change: dict | None = None) -> None:
        frame.update(**{name: widget.value for name, widget in inputs.items()})
        image.value = png_bytes(fig)

    for widget in inputs.values():
        widget.observe(update, names="value")
    update()
    return w.VBox([*inputs.values(), image])


def render_frames(frame: Frame, *, figsize: tuple[float, float] = (7.0, 3.4), dpi: int = 72, interval_ms: int = 400,
                  alt: str | None = None, **settings: Sequence[Any]) -> str:
    """HTML of ``frame`` at every combination of ``settings`` (one list of values per control, the
    last varying fastest) behind matplotlib's JavaScript frame slider.

    Self-contained (frames as embedded PNGs, no external scripts or stylesheets): it works in the
    static book, offline. ``alt`` describes the picture for screen readers (default: which settings
    the frames show); the slider is labelled too.
    """
    _check_frame(frame)
    if not settings or any(len(values) == 0 for values in settings.values()):
        raise ValueError("settings need at least one value for each control, e.g. lr=[0.1, 0.2]")
    names = list(settings)
    combinations = [dict(zip(names, values)) for values in itertools.product(*settings.values())]
    fig = plt.figure(figsize=figsize, dpi=dpi)
    frame.setup(fig)

    def show(values: dict) -> list:
        frame.update(**values)
        return []

    animation = FuncAnimation(fig, show, frames=combinations, init_func=lambda: [], interval=interval_ms,
                              blit=False, repeat=False)
    html = animation.to_jshtml(fps=max(1, 1000 // interval_ms), default_mode="once")
    plt.close(fig)
    return _accessible(html, alt or _describe(settings, len(combinations)))


def _describe(settings: dict[str, Sequence[Any]], count: int) -> str:
    """A default alt text: how many frames, and the values of each control they show."""
    def value(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    ranges = [f"{name} = {value(v[0])}" + (f" to {value(v[-1])}" if len(v) > 1 else "") for name, v in settings.items()]
    return f"Interactive figure, {count} precomputed frames for {', '.join(ranges)}; the slider below changes the frame."


def _accessible(html: str, alt: str) -> str:
    """matplotlib's animation HTML with alt text on the frame, a labelled slider, and without its
    font-awesome stylesheet from a CDN (the book's theme draws the button icons itself; the buttons
    also carry text labels)."""
    text = escape(alt, quote=True)
    html = html.replace("<img id=\"_anim_img", f'<img alt="{text}" id="_anim_img', 1)
    html = html.replace('class="anim-slider"', 'class="anim-slider" aria-label="choose the frame"', 1)
    return re.sub(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>\n?', "", html)


def kernel_free(frame: Frame, **kwargs):
    """``render_frames`` wrapped for display in a notebook cell (an ``IPython.display.HTML``)."""
    from IPython.display import HTML

    return HTML(render_frames(frame, **kwargs))


def _check_frame(frame: Frame) -> None:
    if not (callable(getattr(frame, "setup", None)) and callable(getattr(frame, "update", None))):
        raise TypeError(f"frame must have setup(fig) and update(**values) methods, got {type(frame).__name__}")
