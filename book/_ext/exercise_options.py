"""Sphinx extension: the course's ``:difficulty:`` and ``:minutes:`` options on sphinx-exercise.

sphinx-exercise's ``{exercise}`` and ``{exercise-start}`` directives accept only a label, classes
and flags. This extension adds the two options of the course's exercise convention (see
:mod:`mslib.assignments`), checked the same way, and shows them as a line at the top of the
exercise ("Medium, about 15 minutes."). ``mslib.assignments`` reads the same options from the
chapter sources for student notebooks and the Assignments page.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx_exercise.directive import ExerciseDirective, ExerciseStartDirective

from mslib.assignments import DIFFICULTIES, effort


def _difficulty(value: str) -> str:
    return directives.choice(value, DIFFICULTIES)


def _with_effort(base: type[ExerciseDirective]) -> type[ExerciseDirective]:
    """``base`` with the two options, and their line inserted at the top of the exercise's body."""

    class WithEffort(base):  # type: ignore[valid-type, misc]
        option_spec = {**base.option_spec, "difficulty": _difficulty, "minutes": directives.positive_int}

        def run(self) -> list[nodes.Node]:
            result = super().run()
            line = effort(self.options.get("difficulty"), self.options.get("minutes"))
            if result and line:
                body = next(child for child in result[0].children if isinstance(child, nodes.section))
                body.insert(0, nodes.paragraph("", "", nodes.emphasis(line, line), classes=["exercise-effort"]))
            return result

    WithEffort.__name__ = WithEffort.__qualname__ = f"{base.__name__}WithEffort"
    return WithEffort


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_exercise")
    app.add_directive("exercise", _with_effort(ExerciseDirective), override=True)
    app.add_directive("exercise-start", _with_effort(ExerciseStartDirective), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
