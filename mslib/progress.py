"""Progress bars that show for a person at a screen and stay quiet in tests and builds."""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")

#: Setting this environment variable (the Makefile does, for tests and builds) silences progress bars.
QUIET_VARIABLE = "MSLIB_QUIET"


def interactive() -> bool:
    """True in a terminal or a Jupyter kernel, unless ``MSLIB_QUIET`` is set."""
    if os.environ.get(QUIET_VARIABLE):
        return False
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def progress(items: Iterable[T], total: int, show: bool | None, desc: str) -> Iterable[T]:
    """``items``, wrapped in a tqdm bar when ``show`` is True (or ``None`` and interactive)."""
    if show is None:
        show = interactive() and total >= 500
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc=desc, leave=False)
