"""The built book in a real browser: headless Chromium (Debian's package), driven by Playwright.

Every page is opened offline: the build folder is served on 127.0.0.1, MathJax (which the pages
load from a CDN) is answered from a local copy (npm's ``mathjax@3``, which ``make test`` installs
under ``.venv/npm``), and every other request that would leave the machine is refused and listed.
Each page is checked for JavaScript errors from the book's own scripts, images that load and have
alt text, kernel-free sliders that change the frame, rendered maths and internal links that
resolve. Screenshots of every page of the table of contents at two widths, and in dark mode, are
kept in ``_build/browser-artifacts/``; at the narrow width no page may scroll sideways. Without Chromium (``make test`` installs it with apt-get
where it can), the module is skipped with that reason.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

import pytest

from tests.bookbuild import ROOT, pages
from tests.nbchapters import toc_files

pytestmark = pytest.mark.book_build

CHROMIUM = Path("/usr/bin/chromium")
#: Without these Chromium keeps reaching for Google's services, which a closed network refuses.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
MATHJAX = ROOT / ".venv" / "npm" / "node_modules" / "mathjax"
MATHJAX_CDN = re.compile(r"^https://cdn\.jsdelivr\.net/npm/mathjax@3/(?P<path>[^?#]*)")
ARTIFACTS = ROOT / "_build" / "browser-artifacts"
WIDTHS = (1280, 420)
HEIGHT = 900

#: Run in a page once it has loaded: force lazy images to load, then wait for them and for MathJax.
SETTLE = """async () => {
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""
#: Then report its images, maths and links.
INSPECT = """() => {
  const maths = [...document.querySelectorAll(".math")];
  return {
    images: [...document.images].map(img => ({src: img.currentSrc.slice(0, 100), alt: img.getAttribute("alt") || "",
                                              width: img.naturalWidth})),
    math: {total: maths.length, rendered: maths.filter(m => m.querySelector("mjx-container")).length,
           errors: document.querySelectorAll("mjx-merror").length, loaded: Boolean(window.MathJax && MathJax.version)},
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  };
}"""
#: Switch the theme between light and dark as its own button does.
MODE = "mode => { document.documentElement.dataset.mode = mode; document.documentElement.dataset.theme = mode; }"


@dataclass
class PageReport:
    """What one page showed in the browser."""

    name: str
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    sliders: list[dict] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian Chromium under Playwright (never a browser that Playwright downloads)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium with apt-get where it can")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(book_html: Path) -> Iterator[str]:
    """The built book served on a free port of 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(book_html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def offline_route(report: PageReport, route) -> None:
    """Answer MathJax's CDN from the local copy; refuse (and list) every other request off the machine."""
    url = route.request.url
    match = MATHJAX_CDN.match(url)
    local = MATHJAX / match.group("path") if match else None
    if local is not None and local.is_file():
        route.fulfill(path=str(local))
        return
    report.blocked.append(url)
    route.abort()


def open_offline(context, site: str, report: PageReport):
    """A new page that stays offline and records into ``report`` uncaught exceptions, console
    errors of the book's own scripts (those served from ``site``, or inline) and failed local requests."""
    page = context.new_page()
    page.route(re.compile(r"^(?!" + re.escape(site) + ")https?://"), functools.partial(offline_route, report))

    def ours(url: str) -> bool:
        return not url or url.startswith(site)

    def on_exception(error) -> None:
        if ours(_first_url(error.stack or "")):
            report.errors.append(f"uncaught {error.name}: {error.message}")

    def on_console(message) -> None:
        if message.type == "error" and ours(message.location.get("url", "")):
            report.errors.append(f"console error: {message.text}")

    def on_failure(request) -> None:
        if request.url.startswith(site):
            report.errors.append(f"failed to load {request.url}: {request.failure}")

    def on_response(response) -> None:
        if response.url.startswith(site) and response.status >= 400:
            report.errors.append(f"HTTP {response.status} for {response.url}")

    page.on("pageerror", on_exception)
    page.on("console", on_console)
    page.on("requestfailed", on_failure)
    page.on("response", on_response)
    return page


def _first_url(stack: str) -> str:
    found = re.search(r"(https?|file)://[^\s)]+", stack)
    return found.group(0) if found else ""


def move_sliders(page) -> list[dict]:
    """Press End then Home on each kernel-free slider; report whether its frame changed and came back."""
    moved = []
    for slider in page.locator("input.anim-slider").all():
        image = page.locator("#" + slider.get_attribute("id").replace("_anim_slider", "_anim_img"))
        first = image.get_attribute("src")
        slider.press("End")
        last = image.get_attribute("src")
        slider.press("Home")
        moved.append({"id": slider.get_attribute("id"), "frames": int(slider.get_attribute("max")) + 1,
                      "changed": bool(first) and last != first, "back": image.get_attribute("src") == first})
    return moved


def load(page, url: str | None = None) -> None:
    """Load ``url`` (or reload the page) and let it settle: images decoded, maths typeset."""
    if url is None:
        page.reload(wait_until="load")
    else:
        page.goto(url, wait_until="load")
    page.evaluate(SETTLE)


def screenshots(page, stem: str) -> dict[int, int]:
    """Full-page screenshots at each width (the page loaded afresh at that width, as a phone would),
    and at the first width in dark mode too; returns the width the page needed at each screen width
    (more than the screen means sideways scrolling)."""
    needed = {}
    for width in WIDTHS:
        if width != page.viewport_size["width"]:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            load(page)
        modes = ("light", "dark") if width == WIDTHS[0] else ("light",)
        for mode in modes:
            page.evaluate(MODE, mode)
            page.screenshot(path=ARTIFACTS / f"{stem}-{width}{'-dark' if mode == 'dark' else ''}.png", full_page=True)
        needed[width] = page.evaluate("() => document.documentElement.scrollWidth")
    return needed


def visit(context, site: str, name: str, photograph: bool) -> PageReport:
    """Open one page offline, inspect it, move its sliders and, when asked, photograph it."""
    report = PageReport(name)
    page = open_offline(context, site, report)
    load(page, site + name)
    inspected = page.evaluate(INSPECT)
    report.images, report.math, report.links = inspected["images"], inspected["math"], inspected["links"]
    report.sliders = move_sliders(page)
    if photograph:
        report.widths = screenshots(page, Path(name).stem)
    page.close()
    return report


@pytest.fixture(scope="module")
def reports(chromium, site: str, book_html: Path) -> dict[str, PageReport]:
    """Every page of the book opened once; the pages of the table of contents also photographed."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    photographed = {source.relative_to(ROOT).with_suffix(".html").as_posix() for source in toc_files(ROOT / "_toc.yml")}
    context = chromium.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    names = [path.relative_to(book_html).as_posix() for path in pages(book_html)]
    found = {name: visit(context, site, name, name in photographed) for name in names}
    context.close()
    return found


def test_no_javascript_errors_from_the_book(reports: dict[str, PageReport], capsys):
    refused = sorted({url for report in reports.values() for url in report.blocked})
    found = {kind: sum(len(getattr(report, kind)) for report in reports.values()) for kind in ("images", "sliders", "links")}
    found["maths"] = sum(report.math.get("total", 0) for report in reports.values())
    with capsys.disabled():
        print(f"\n{len(reports)} pages opened offline ({', '.join(f'{n} {kind}' for kind, n in found.items())});"
              f" requests refused: {refused or 'none'}")
    errors = [f"{name}: {error}" for name, report in reports.items() for error in report.errors]
    assert not errors, "\n".join(errors)


def test_every_image_loads_and_has_alt_text(reports: dict[str, PageReport]):
    images = [(name, image) for name, report in reports.items() for image in report.images]
    assert images, "no image found in the book"
    bad = [f"{name}: {image['src']} " + ("did not load" if not image["width"] else "has no alt text")
           for name, image in images if not image["width"] or not image["alt"].strip()]
    assert not bad, "\n".join(bad)


def test_every_kernel_free_slider_changes_the_frame(reports: dict[str, PageReport]):
    sliders = [(name, slider) for name, report in reports.items() for slider in report.sliders]
    assert sliders, "no kernel-free slider found in the book"
    stuck = [f"{name}: {slider}" for name, slider in sliders if not (slider["changed"] and slider["back"])]
    assert not stuck, "sliders that did not change their frame:\n" + "\n".join(stuck)


def test_maths_renders(reports: dict[str, PageReport]):
    if not MATHJAX.is_dir():
        pytest.skip(f"no local MathJax in {MATHJAX}: `make test` installs it with npm")
    maths = {name: report.math for name, report in reports.items()}
    assert sum(math["total"] for math in maths.values()), "no maths found in the book"
    bad = [f"{name}: {math}" for name, math in maths.items()
           if math["rendered"] < math["total"] or math["errors"] or (math["total"] and not math["loaded"])]
    assert not bad, "maths not rendered by MathJax:\n" + "\n".join(bad)


@functools.lru_cache(maxsize=None)
def anchors(page: Path) -> frozenset[str]:
    """The ids and names a page defines, which a link's #fragment may point to."""
    return frozenset(re.findall(r'\b(?:id|name)="([^"]+)"', page.read_text()))


def broken(link: str, site: str, book_html: Path) -> str | None:
    """Why a link into the book does not resolve (None when it does)."""
    url = urlsplit(link)
    target = book_html / unquote(url.path.removeprefix(urlsplit(site).path))
    target = target / "index.html" if target.is_dir() else target
    if not target.is_file():
        return "no such file"
    if url.fragment and target.suffix == ".html" and unquote(url.fragment) not in anchors(target):
        return f"no #{url.fragment} in {target.name}"
    return None


def test_internal_links_resolve(reports: dict[str, PageReport], site: str, book_html: Path):
    links = {(name, link) for name, report in reports.items() for link in report.links if link.startswith(site)}
    assert links, "no internal link found"
    bad = sorted(f"{name} -> {link}: {why}" for name, link in links if (why := broken(link, site, book_html)))
    assert not bad, "\n".join(bad)


def test_pages_fit_narrow_screens(reports: dict[str, PageReport]):
    """No page scrolls sideways on a phone: long names wrap, wide code and tables scroll in their box."""
    wide = [f"{name}: {needed} px wide on a {width} px screen" for name, report in reports.items()
            for width, needed in report.widths.items() if needed > width]
    assert not wide, "\n".join(wide)


def test_screenshots_are_kept(reports: dict[str, PageReport], capsys):
    expected = len(toc_files(ROOT / "_toc.yml")) * (len(WIDTHS) + 1)
    shots = sorted(ARTIFACTS.glob("*.png"))
    with capsys.disabled():
        print(f"\n{len(shots)} screenshots ({' and '.join(map(str, WIDTHS))} px wide, and dark mode) in {ARTIFACTS}")
    assert len(shots) == expected and all(shot.stat().st_size > 0 for shot in shots)
