"""The whole book builds with warnings as errors, executing every chapter afresh; then checks of
the built pages that need no browser: media weight, heading order, opaque figures (legible in
dark mode) and the notebook downloads. The browser checks are in test_browser.py."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jupytext
import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from tests.bookbuild import PREBUILT_VARIABLE, ROOT, Book, pages
from tests.nbchapters import toc_files

pytestmark = pytest.mark.book_build

MEDIA_BUDGET_BYTES = 5_000_000
#: A base64 data URI as it stands in the page (matplotlib's animation HTML breaks lines with "\").
DATA_URI = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\\\s]+)")
MEDIA_ATTRIBUTES = {"img": "src", "source": "src", "video": "src", "audio": "src", "embed": "src", "object": "data"}


def test_book_builds_without_warnings(book: Book):
    """A fresh output folder means a fresh jupyter-cache: edits to mslib cannot hide behind it."""
    if book.prebuilt:
        pytest.skip(f"checking the prebuilt book in {book.html} (${PREBUILT_VARIABLE}), not building it")
    assert book.returncode == 0, book.log
    for source in toc_files(ROOT / "_toc.yml"):
        page = book.html / source.relative_to(ROOT).with_suffix(".html")
        assert page.exists(), f"{page.name} was not built"


def local_media(page: Path) -> set[Path]:
    """The files that a page's media elements (images, video, embedded objects) load."""
    soup = BeautifulSoup(page.read_text(), "html.parser")
    found = set()
    for tag in soup.find_all(list(MEDIA_ATTRIBUTES)):
        url = urlsplit(tag.get(MEDIA_ATTRIBUTES[tag.name]) or "")
        if url.path and not url.scheme and not url.netloc:
            found.add((page.parent / unquote(url.path)).resolve())
    return found


def media_bytes(page: Path) -> int:
    """What a page's media weigh: its files plus every inline data URI, as the page carries them."""
    inline = sum(len(match.group(0)) for match in DATA_URI.finditer(page.read_text()))
    return inline + sum(path.stat().st_size for path in local_media(page) if path.is_file())


def test_every_page_embeds_under_5_mb_of_media(book_html: Path, capsys):
    weights = {page.relative_to(book_html).as_posix(): media_bytes(page) for page in pages(book_html)}
    with capsys.disabled():
        print("\nmedia per page:", ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in weights.items()))
    heavy = {name: size for name, size in weights.items() if size > MEDIA_BUDGET_BYTES}
    assert not heavy, f"pages over the {MEDIA_BUDGET_BYTES / 1e6:.0f} MB media budget: {heavy}"


def heading_levels(page: Path) -> list[int]:
    """The levels of a page's headings (h1 = 1, ...) in its main content, in document order,
    less the theme's print-only header (hidden on screen and from screen readers)."""
    main = BeautifulSoup(page.read_text(), "html.parser").find("main") or BeautifulSoup("", "html.parser")
    headings = main.find_all(re.compile(r"^h[1-6]$"))
    return [int(tag.name[1]) for tag in headings if not tag.find_parent(class_="onlyprint")]


def test_headings_start_at_h1_and_skip_no_level(book_html: Path):
    problems = []
    for page in pages(book_html):
        levels = heading_levels(page)
        skips = [f"h{a} then h{b}" for a, b in zip(levels, levels[1:]) if b > a + 1]
        if levels[:1] != [1] or levels.count(1) != 1 or skips:
            problems.append(f"{page.relative_to(book_html)}: {levels[:12]} {skips}")
    assert not problems, "heading order: one h1 first, then no skipped level:\n" + "\n".join(problems)


def page_pngs(page: Path) -> dict[str, bytes]:
    """Every PNG a page shows (its image files and inline data URIs), by a short name."""
    found = {path.name: path.read_bytes() for path in local_media(page) if path.suffix == ".png" and path.is_file()}
    for number, match in enumerate(DATA_URI.finditer(page.read_text())):
        if match.group("type") == "image/png":
            found[f"inline PNG {number}"] = base64.b64decode(re.sub(r"[\\\s]", "", match.group("data")))
    return found


def test_figures_are_opaque_so_they_stay_legible_in_dark_mode(book_html: Path):
    """A transparent figure shows dark text on the dark theme's background: every PNG must be opaque."""
    transparent = []
    for page in pages(book_html):
        for name, data in page_pngs(page).items():
            alpha = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))[..., 3]
            if alpha.min() < 255:
                transparent.append(f"{page.name}: {name} ({(alpha < 255).mean():.0%} of its pixels)")
    assert not transparent, "transparent figures:\n" + "\n".join(transparent)


def test_notebook_pages_offer_their_ipynb_for_download(book_html: Path):
    """Each page written as a notebook links an .ipynb, converted from its source at build time."""
    notebooks = [s for s in toc_files(ROOT / "_toc.yml") if "kernelspec" in jupytext.read(s).metadata]
    assert notebooks, "no notebook page found in _toc.yml"
    for source in notebooks:
        relative = source.relative_to(ROOT).with_suffix(".ipynb")
        page = book_html / relative.with_suffix(".html")
        assert f'_sources/{relative.as_posix()}"' in page.read_text(), f"{page.name} has no .ipynb download"
        notebook = nbformat.read(book_html / "_sources" / relative, as_version=4)
        nbformat.validate(notebook)
        code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        assert code == [cell.source for cell in jupytext.read(source).cells if cell.cell_type == "code"]
