"""pytest plugin: every chapter in ``_toc.yml`` becomes a notebook that nbval runs cell by cell.

Chapters are MyST Markdown; jupytext converts each into ``_build/nbtest/<name>.ipynb`` (ignored by
git) and nbval executes it in a fresh kernel, one test item per cell. A chapter listed in the table
of contents but missing on disk is a collection error, never a silent skip. After the run, each
chapter's total cell time is checked against the course's budget of 60 s.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import jupytext
import pytest
from nbval.plugin import IPyNbFile

from mslib.assignments import toc_files  # the build and browser tests import it from here too
from mslib.feedback import STRICT_ENV

CHAPTER_BUDGET_S = 60.0
NOTEBOOK_DIR = Path("_build") / "nbtest"

# Every exercise's solution must pass its own check: a failing mslib.check raises in the kernels
# that nbval and the book build start from this process (they inherit its environment).
os.environ.setdefault(STRICT_ENV, "1")


def is_executable(source: Path) -> bool:
    """A MyST notebook: its front matter names a kernel (as MyST-NB decides; a page that only shows
    a ``{code-cell}`` inside an example fence is not one)."""
    text = source.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    front_matter = text.split("---\n", 2)[1]
    return "kernelspec:" in front_matter


class TocFile(pytest.File):
    """Collects one nbval notebook per executable page of the table of contents."""

    def collect(self):
        out = self.path.parent / NOTEBOOK_DIR
        out.mkdir(parents=True, exist_ok=True)
        for source in toc_files(self.path):
            if not source.exists():
                raise FileNotFoundError(f"_toc.yml lists {source.name}, which does not exist")
            if not is_executable(source):
                continue
            target = out / (source.stem + ".ipynb")
            jupytext.write(jupytext.read(source), target)
            yield IPyNbFile.from_parent(self, path=target)


def pytest_collect_file(file_path: Path, parent):
    if file_path.name == "_toc.yml":
        return TocFile.from_parent(parent, path=file_path)
    return None


_chapter_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" and re.search(r"::Cell \d+$", report.nodeid):
        _chapter_seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _chapter_seconds:
        return
    terminalreporter.section("chapter execution times (nbval, sum of cell times)")
    for chapter, seconds in _chapter_seconds.items():
        flag = "" if seconds <= CHAPTER_BUDGET_S else f"  OVER THE {CHAPTER_BUDGET_S:.0f} s BUDGET"
        terminalreporter.write_line(f"{seconds:7.1f} s  {chapter}{flag}")


def pytest_sessionfinish(session, exitstatus) -> None:
    if any(seconds > CHAPTER_BUDGET_S for seconds in _chapter_seconds.values()) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items) -> None:
    """Unit tests first, then the chapters, then the whole-book build (slowest, most global)."""
    rank = lambda item: 2 if item.get_closest_marker("book_build") else (1 if isinstance(item.parent, IPyNbFile) else 0)  # noqa: E731
    items.sort(key=rank)
