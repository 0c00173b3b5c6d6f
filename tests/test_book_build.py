"""The whole book builds with warnings as errors, executing every chapter afresh."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.nbchapters import toc_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.book_build
def test_book_builds_without_warnings(tmp_path):
    """A fresh output folder means a fresh jupyter-cache: edits to mslib cannot hide behind it."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    html = tmp_path / "_build" / "html"
    for source in toc_files(ROOT / "_toc.yml"):
        page = html / source.relative_to(ROOT).with_suffix(".html")
        assert page.exists(), f"{page.name} was not built"
