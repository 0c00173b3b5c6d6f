import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

import mslib  # noqa: E402
from mslib import frames, plots, widgets  # noqa: E402
from mslib.progress import QUIET_VARIABLE, interactive  # noqa: E402
from tests.bookbuild import ROOT  # noqa: E402
from tests.nbchapters import toc_files  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
#: Colours a figure may name besides the palette's: neutrals, the same for every kind of colour vision.
NEUTRALS = {"black", "k", "white", "w", "grey", "gray", "lightgrey", "lightgray", "darkgrey", "darkgray", "none"}
#: Colour maps of uniform lightness, readable with colour-vision deficiencies and in greyscale.
UNIFORM_MAPS = {"cividis", "viridis"}
COLOUR_ARGUMENT = re.compile(r"\b(?:colors?|c|facecolor|edgecolor|mfc|mec|markerfacecolor|markeredgecolor)\s*=\s*[\"']([^\"']+)[\"']")
CMAP_ARGUMENT = re.compile(r"\bcmap\s*=\s*[\"']([^\"']+)[\"']")


@pytest.fixture
def frame_factory():
    bowl = mslib.toys.quadratic(torch.diag(torch.tensor([4.0, 0.5], dtype=torch.float64)))
    span = torch.linspace(-2, 2, 21, dtype=torch.float64)
    e1, e2 = torch.eye(2, dtype=torch.float64)
    grid = mslib.slice_2d(bowl, torch.zeros(2, dtype=torch.float64), e1, e2, span, span)
    start = torch.tensor([-1.5, 1.0], dtype=torch.float64)

    def make():
        return frames.GDExplorerFrame(span, span, grid, run=lambda lr: mslib.gd(bowl, start, lr, 30, keep_iterates=True),
                                     title=lambda lr: f"lr={lr}")

    return make


def test_live_explorer_redraws_on_slider_moves_including_divergence(frame_factory):
    box = widgets.live(frame_factory(), lr=widgets.Slider(0.01, 5.0, 0.3))
    slider, image = box.children
    first = bytes(image.value)
    assert first.startswith(PNG_SIGNATURE)
    for value in (5.0, 0.01, 0.3):  # extremes: a fast divergence and a crawl
        slider.value = value
        assert bytes(image.value).startswith(PNG_SIGNATURE)
    slider.value = 0.45
    assert bytes(image.value) != first


def test_kernel_free_twin_embeds_one_frame_per_value(frame_factory):
    html = widgets.render_frames(frame_factory(), lr=[0.1, 0.3, 0.6])
    assert "<script" in html and html.count("data:image/png;base64") == 3
    assert "http" not in html.split("<script")[1].split("</script>")[0], "no external resources"
    assert "<link" not in html, "no stylesheet from a CDN: the twin works offline"
    assert 'alt="Interactive figure, 3 precomputed frames for lr = 0.1 to 0.6;' in html
    assert 'aria-label="choose the frame"' in html


def test_kernel_free_twin_takes_an_alt_text(frame_factory):
    html = widgets.render_frames(frame_factory(), alt='GD paths "for" three step sizes', lr=[0.1, 0.3])
    assert 'alt="GD paths &quot;for&quot; three step sizes"' in html


def test_widgets_reject_bad_input(frame_factory):
    with pytest.raises(TypeError, match="frame"):
        widgets.live(lambda fig, v: None, lr=widgets.Slider(0.1, 1.0, 0.5))
    with pytest.raises(ValueError, match="value must lie"):
        widgets.Slider(0.1, 1.0, 2.0)
    with pytest.raises(ValueError, match="high must exceed low"):
        widgets.Slider(1.0, 0.1, 0.5)
    with pytest.raises(ValueError, match="value must be one of"):
        widgets.Choice(("a", "b"), "c")
    with pytest.raises(TypeError, match="control lr"):
        widgets.live(frame_factory(), lr=(0.1, 1.0))
    with pytest.raises(ValueError, match="settings"):
        widgets.render_frames(frame_factory(), lr=[])


def test_progress_is_quiet_when_asked(monkeypatch):
    monkeypatch.setenv(QUIET_VARIABLE, "1")
    assert not interactive()


def test_other_frames_draw_and_update():
    import matplotlib.pyplot as plt

    log_cosh = mslib.toys.log_cosh()
    xs = torch.linspace(-3, 3, 61, dtype=torch.float64)
    curve = mslib.slice_1d(log_cosh, torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), xs)
    start = torch.tensor([0.3], dtype=torch.float64)
    orbit = frames.OrbitExplorerFrame(xs, curve, run=lambda lr: (mslib.gd(log_cosh, start, lr, 30, keep_iterates=True),
                                                                  mslib.period_two_orbit(log_cosh, lr)),
                                     title=lambda lr: f"{lr}")
    box = widgets.live(orbit, lr=widgets.Choice((1.5, 2.5, 100.0), 2.5, slider=True))
    box.children[0].value = 100.0  # diverging: parabola-like overshoot on the slider's extreme is drawn, not raised
    box.children[0].value = 1.5
    assert bytes(box.children[1].value).startswith(PNG_SIGNATURE)
    ts = torch.logspace(-2, 1, 31, dtype=torch.float64)
    profile = mslib.growth_profile(log_cosh, torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), ts)
    frame = frames.SliceExplorerFrame({"only": profile})
    fig = plt.figure()
    frame.setup(fig)
    for reach, scale in ((0.01, "log"), (10.0, "linear"), (1.0, "log")):
        frame.update(direction="only", reach=reach, scale=scale)
        widgets.png_bytes(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="value must be one of"):
        widgets.Choice((0.1, 0.2), 0.3, slider=True)


def test_figures_use_colour_blind_safe_colours_on_an_opaque_background():
    """The course style and every colour a chapter or mslib names: Okabe-Ito, neutrals, cividis."""
    assert set(plots.PALETTE.values()) == OKABE_ITO
    plots.use_style()
    assert {c.upper() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]} <= OKABE_ITO
    assert matplotlib.rcParams["image.cmap"] in UNIFORM_MAPS and plots.LANDSCAPE_CMAP in UNIFORM_MAPS
    assert matplotlib.colors.to_rgba(matplotlib.rcParams["figure.facecolor"])[3] == 1.0
    sources = [*toc_files(ROOT / "_toc.yml"), *sorted((ROOT / "mslib").glob("*.py"))]
    named = {(path.name, colour) for path in sources for colour in COLOUR_ARGUMENT.findall(path.read_text())
             if colour.lower() not in NEUTRALS and colour.upper() not in OKABE_ITO}
    maps = {(path.name, cmap) for path in sources for cmap in CMAP_ARGUMENT.findall(path.read_text())
            if cmap not in UNIFORM_MAPS}
    assert not named | maps, f"colours outside the Okabe-Ito palette (use plots.PALETTE or ROLE): {named | maps}"
