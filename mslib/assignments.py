"""The course's exercises as data, read from the chapter sources, and student notebooks made from them.

A chapter is a MyST Markdown notebook. Its exercises follow one convention (the instructor guide of
the book shows it whole)::

    ```{exercise-start} A short title
    :label: ex-chapter-topic
    :difficulty: medium
    :minutes: 15
    ```
    The statement.
    ```{exercise-end}
    ```

    ```{solution-start} ex-chapter-topic
    :class: dropdown
    ```
    Prose and code cells of the solution.
    ```{solution-end}
    ```

    ```{code-cell} ipython3
    mslib.check("ex-chapter-topic", answer)
    ```

:func:`read_exercises` returns them as :class:`Exercise` records (the Assignments page of the book
is a table of them); :func:`student_notebook` turns a chapter into a notebook without solutions,
a stub in place of each, and the check cells kept.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

from . import exercises as _exercises  # noqa: F401  (registers the checks)
from .feedback import registered

DIFFICULTIES = ("easy", "medium", "hard")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w-]+)\}\s*(?P<argument>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
_CHAPTER_LABEL = re.compile(r"^\((?P<label>[\w-]+)\)=\s*$")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter, as its source declares it.

    Attributes:
        chapter: the chapter's file stem, e.g. ``"01_quadratic"``.
        number: its position among the chapter's exercises, from 1.
        label: the exercise's label, which its solution and its check name.
        title: the short title given after ``{exercise-start}`` ("" if none).
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"`` (``None`` if not given).
        minutes: the time it is expected to take (``None`` if not given).
        statement: the exercise's text (MyST Markdown).
        solution_has_code: whether the solution contains code cells.
        check: the source of the check cell that follows the solution, or ``None``.
    """

    chapter: str
    number: int
    label: str
    title: str
    difficulty: str | None
    minutes: int | None
    statement: str
    solution_has_code: bool
    check: str | None

    @property
    def gaps(self) -> list[str]:
        """What the exercise lacks of the course's convention (empty when it follows it)."""
        gaps = [] if self.title else ["a title after {exercise-start}"]
        gaps += [] if self.difficulty else [":difficulty:"]
        gaps += [] if self.minutes else [":minutes:"]
        gaps += [] if self.check or not self.solution_has_code else ["a check cell after its solution"]
        return gaps


@dataclass(frozen=True)
class _Block:
    """A top-level directive of a MyST file: ``name``, ``argument``, options and body; lines
    ``start`` (the opening fence) to ``stop`` (one past the closing fence)."""

    name: str
    argument: str
    options: dict[str, str]
    body: list[str]
    start: int
    stop: int


def _blocks(lines: list[str]) -> list[_Block]:
    """Every top-level fenced directive, in order. Fenced blocks, directives or plain code, are
    skipped whole: a directive shown inside a code block is not one."""
    found, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise ValueError(f"line {i + 1}: the fenced block {lines[i].strip()!r} is never closed")
        if directive := _DIRECTIVE.match(opening["info"].strip()):
            body, options = lines[i + 1 : end], {}
            while body and (option := _OPTION.match(body[0])):
                options[option["key"]] = option["value"]
                body = body[1:]
            found.append(_Block(directive["name"], directive["argument"], options, body, i, end + 1))
        i = end + 1
    return found


@dataclass(frozen=True)
class _Found:
    """An exercise with where it stands: its opening (and, gated, closing) block and the lines of
    its solution (one block, or the gated start to end)."""

    exercise: Exercise
    opening: _Block
    closing: _Block | None
    solution: tuple[int, int]


def _parse(source: Path) -> tuple[list[str], list[_Found]]:
    lines = source.read_text(encoding="utf-8").splitlines()
    blocks = _blocks(lines)
    found: list[_Found] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.name not in ("exercise", "exercise-start"):
            if block.name in ("exercise-end", "solution", "solution-start", "solution-end"):
                raise ValueError(f"{source}:{block.start + 1}: {{{block.name}}} outside an exercise")
            i += 1
            continue
        where = f"{source}:{block.start + 1}"
        closing = None
        if block.name == "exercise-start":
            i += 1
            if i >= len(blocks) or blocks[i].name != "exercise-end":
                raise ValueError(f"{where}: {{exercise-start}} needs an {{exercise-end}} before the next directive")
            closing = blocks[i]
            statement = lines[block.stop : closing.start]
        else:
            statement = block.body
        i += 1
        if i >= len(blocks) or blocks[i].name not in ("solution", "solution-start"):
            raise ValueError(f"{where}: the exercise needs a solution right after it (solution-start ... solution-end)")
        solution_open = blocks[i]
        has_code = False
        if solution_open.name == "solution-start":
            j = i + 1
            while j < len(blocks) and blocks[j].name != "solution-end":
                has_code |= blocks[j].name == "code-cell"
                j += 1
            if j == len(blocks):
                raise ValueError(f"{source}:{solution_open.start + 1}: {{solution-start}} without {{solution-end}}")
            solution, i = (solution_open.start, blocks[j].stop), j + 1
        else:
            solution, i = (solution_open.start, solution_open.stop), i + 1
        check_cell = None
        follows = i < len(blocks) and not "".join(lines[solution[1] : blocks[i].start]).strip()
        if follows and blocks[i].name == "code-cell":
            check_cell = blocks[i]
        exercise = _exercise(source, len(found) + 1, block, statement, solution_open, has_code, check_cell, where)
        found.append(_Found(exercise, block, closing, solution))
    return lines, found


def _exercise(source: Path, number: int, block: _Block, statement: list[str], solution: _Block, has_code: bool,
              check_cell: _Block | None, where: str) -> Exercise:
    """The exercise's record; a ``ValueError`` for what is wrong (a missing or unknown label, a bad
    option value). What is only missing is left to ``Exercise.gaps``."""
    label = block.options.get("label", "")
    if not label:
        raise ValueError(f"{where}: the exercise needs a :label:")
    if solution.argument != label:
        raise ValueError(f"{where}: the solution names {solution.argument!r}, not the exercise's label {label!r}")
    difficulty = block.options.get("difficulty")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ValueError(f"{where}: :difficulty: must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    minutes = block.options.get("minutes")
    if minutes is not None and (not minutes.isdigit() or int(minutes) <= 0):
        raise ValueError(f"{where}: :minutes: must be a whole number of minutes > 0, got {minutes!r}")
    check = None
    if check_cell is not None and re.search(rf"check\(\s*[\"']{re.escape(label)}[\"']", "\n".join(check_cell.body)):
        check = "\n".join(check_cell.body).strip()
        if label not in registered():
            raise ValueError(f"{where}: no check is registered for {label!r} (add one to mslib/exercises.py)")
    return Exercise(source.stem, number, label, block.argument, difficulty, int(minutes) if minutes else None,
                    "\n".join(statement).strip(), has_code, check)


def read_exercises(source: str | Path) -> list[Exercise]:
    """The exercises of one chapter source (``.md``), in order.

    A ``ValueError`` names the line of an exercise that cannot be used: no label, no solution right
    after it, a solution for another label, a bad option value, a check of an unknown label.
    """
    source = Path(source)
    if not source.is_file():
        raise ValueError(f"source: {source} is not a file")
    return [found.exercise for found in _parse(source)[1]]


def chapter_label(source: str | Path) -> str | None:
    """The label of a chapter's first ``(label)=`` target, which ``{ref}`` links to, or ``None``."""
    for line in Path(source).read_text(encoding="utf-8").splitlines():
        if match := _CHAPTER_LABEL.match(line):
            return match["label"]
    return None


def toc_files(toc_path: str | Path) -> list[Path]:
    """The source files of every page in a Jupyter Book ``_toc.yml``, in reading order."""
    toc_path = Path(toc_path)
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    found: list[str] = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                found.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [toc_path.parent / (f if f.endswith(".md") else f + ".md") for f in found]


def course_root(start: str | Path | None = None) -> Path:
    """The folder holding ``_toc.yml``: ``start`` (default: the working directory) or a parent, else
    the folder above mslib (an editable install inside the course's repository)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        if (folder / "_toc.yml").is_file():
            return folder
    raise ValueError(f"start: no _toc.yml in {here} or above it, nor beside mslib")


def chapters_with_exercises(root: str | Path | None = None) -> list[Path]:
    """The chapter sources of the table of contents that contain exercises, in reading order."""
    root = course_root(root)
    return [source for source in toc_files(root / "_toc.yml") if source.is_file() and read_exercises(source)]


# --- student notebooks -----------------------------------------------------------------------------


def _answer_expression(check: str) -> str | None:
    """The source of the answer passed to ``check(label, answer, ...)`` in a check cell."""
    try:
        tree = ast.parse(check)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "check":
            if len(node.args) >= 2:
                return ast.get_source_segment(check, node.args[1])
    return None


def _stub(exercise: Exercise) -> list[str]:
    if not exercise.solution_has_code:
        return ["**Your answer.** *(Write it here.)*"]
    comment = f"Your solution to {exercise.label}."
    if exercise.check:
        expects = registered()[exercise.label].expects
        answer = _answer_expression(exercise.check)
        comment += (f" The check in the next cell reads `{answer}`: {expects}." if answer
                    else f" The check in the next cell expects {expects}.")
    return ["```{code-cell} ipython3",
            *textwrap.wrap(comment, width=96, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False),
            "...",
            f'raise NotImplementedError("{exercise.label}: replace this cell with your solution")',
            "```"]


def effort(difficulty: str | None, minutes: int | None) -> str:
    """The line the book shows at the top of an exercise, "Medium, about 15 minutes." ("" if neither)."""
    words = ([difficulty] if difficulty else []) + ([f"about {minutes} minutes"] if minutes else [])
    return (", ".join(words) + ".").capitalize() if words else ""


def _heading(exercise: Exercise) -> list[str]:
    title = f": {exercise.title}" if exercise.title else ""
    note = " ".join(part for part in (effort(exercise.difficulty, exercise.minutes), f"Label: `{exercise.label}`.")
                    if part)
    return [f"### Exercise {exercise.number}{title}", "", f"*{note}*", ""]


_BANNER = """**Student version.** The solutions of this chapter's exercises are removed. Each exercise has a
cell that raises `NotImplementedError` until you replace it with your solution; the cell after it
calls `mslib.check`, which tells you whether your answer is right and, if not, what to look at."""


def student_text(source: str | Path) -> str:
    """The MyST text of a chapter's student version: solutions replaced by stubs, each exercise's
    directive replaced by a plain heading (so it reads well in JupyterLab), check cells kept."""
    source = Path(source)
    lines, found = _parse(source)
    replacements: list[tuple[int, int, list[str]]] = []
    for item in found:
        if item.closing is None:  # a one-block {exercise}: the heading replaces its opening, its body stays
            body_start = item.opening.stop - 1 - len(item.opening.body)
            replacements += [(item.opening.start, body_start, _heading(item.exercise)),
                             (item.opening.stop - 1, item.opening.stop, [])]
        else:
            replacements += [(item.opening.start, item.opening.stop, _heading(item.exercise)),
                             (item.closing.start, item.closing.stop, [])]
        replacements.append((*item.solution, _stub(item.exercise)))
    for start, stop, new in sorted(replacements, reverse=True):
        lines[start:stop] = new
    return "\n".join(lines) + "\n"


def _notebook(text: str, source: Path) -> nbformat.NotebookNode:
    notebook = jupytext.reads(text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["mslib"] = {"chapter": source.stem,
                                  "exercises": [exercise.label for exercise in read_exercises(source)]}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def student_notebook(source: str | Path) -> nbformat.NotebookNode:
    """A chapter's student version as a notebook: no solutions, stubs, checks kept, no outputs.

    Its metadata ``mslib`` names the chapter and its exercises, which the grader reads.
    """
    source = Path(source)
    notebook = _notebook(student_text(source), source)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(_BANNER))
    return notebook


def instructor_notebook(source: str | Path) -> nbformat.NotebookNode:
    """A chapter as a notebook with its solutions, and the metadata of a student version: grading
    it is the dry run of an assignment (every check should pass)."""
    source = Path(source)
    read_exercises(source)  # the same convention checks as a student version
    return _notebook(source.read_text(encoding="utf-8"), source)


# --- the Assignments page ---------------------------------------------------------------------------


def assignments_markdown(root: str | Path | None = None) -> str:
    """A MyST table of every exercise of the course, chapter by chapter, with difficulty and time."""
    lines = []
    total = 0
    for source in chapters_with_exercises(root):
        exercises = read_exercises(source)
        minutes = sum(exercise.minutes or 0 for exercise in exercises)
        unknown = sum(exercise.minutes is None for exercise in exercises)
        total += minutes
        label = chapter_label(source)
        chapter = f"{{ref}}`{label}`" if label else source.stem
        estimate = f"about {minutes} minutes" + (f" (and {unknown} without an estimate)" if unknown else "")
        lines += [f"**{chapter}**: {len(exercises)} exercises, {estimate}.", "",
                  "| exercise | label | difficulty | time | feedback |", "|---|---|---|---|---|"]
        lines += [f"| {{ref}}`{exercise.title or exercise.label} <{exercise.label}>` | `{exercise.label}` "
                  f"| {exercise.difficulty or '—'} | {f'{exercise.minutes} min' if exercise.minutes else '—'} "
                  f"| {'automatic check' if exercise.check else 'by hand'} |" for exercise in exercises]
        lines.append("")
    lines.append(f"In all, about {total // 60} h {total % 60:02d} min of exercises.")
    return "\n".join(lines)
