"""The built book, shared by every test that reads it: built once per test session.

``jupyter-book build`` runs into a fresh temporary folder, so its jupyter-cache is empty and every
chapter executes afresh (edits to mslib cannot hide behind the cache). For quick iteration on the
page checks, ``BOOK_HTML=_build/html pytest tests/test_book_build.py tests/test_browser.py``
checks an existing build instead; the build test itself is then skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mslib.progress import QUIET_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
PREBUILT_VARIABLE = "BOOK_HTML"
BUILD_TIMEOUT_S = 1200


@dataclass(frozen=True)
class Book:
    """The HTML output folder of a build, its exit status and the end of its log."""

    html: Path
    returncode: int
    log: str
    prebuilt: bool = False


def build(out: Path) -> Book:
    """Build the whole book into ``out`` with warnings as errors (``-W -n --keep-going``), without
    progress bars (they would become outputs of the chapters' cells)."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env={**os.environ, QUIET_VARIABLE: "1"},
    )
    return Book(out / "_build" / "html", result.returncode, result.stdout[-6000:] + result.stderr[-6000:])


def prebuilt() -> Book | None:
    """The existing build named by ``$BOOK_HTML``, if set."""
    folder = os.environ.get(PREBUILT_VARIABLE)
    if not folder:
        return None
    html = (ROOT / folder).resolve()
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"${PREBUILT_VARIABLE}={folder} holds no built book (no index.html)")
    return Book(html, 0, "", prebuilt=True)


def pages(html: Path) -> list[Path]:
    """Every page of a built book: its HTML files, less Sphinx's assets, copied sources and the
    redirecting ``index.html``."""
    found = []
    for page in sorted(html.rglob("*.html")):
        relative = page.relative_to(html)
        if relative.parts[0].startswith("_") or 'http-equiv="Refresh"' in page.read_text()[:2000]:
            continue
        found.append(page)
    return found
