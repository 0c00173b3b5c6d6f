"""Grading submitted notebooks: each runs in its own sandboxed kernel and every check is scored.

For each ``<student>.ipynb`` of a folder, :func:`grade` copies the notebook into a fresh temporary
folder, clears its outputs, and executes it there with nbclient in a kernel started by
:mod:`mslib.sandbox` (memory, CPU and file-size limits; writes outside the folder refused), with a
wall-clock timeout for the whole notebook. Cells that raise do not stop the run. Every
``mslib.check`` call appends its verdict to a log in the folder (``MSLIB_FEEDBACK_LOG``); the last
verdict of each exercise is its score. The submission itself is only ever read.

The result is a list of :class:`Row`: one per student and exercise (score in [0, 1], feedback), a
``(total)`` row per student that also says how the run went (timed out, kernel died, not a
notebook, operations refused), and ``(class)`` rows with each exercise's mean.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import feedback, sandbox
from .assignments import Exercise, course_root, read_exercises

KERNEL_NAME = "mslib-sandbox"
TOTAL, CLASS = "(total)", "(class)"
#: Output a cell may send back, in characters of its messages; more is dropped (a print loop
#: cannot fill the grader's memory). Errors always come through.
MAX_OUTPUT_CHARS = 5_000_000


@dataclass(frozen=True)
class Limits:
    """What one notebook may use: wall-clock seconds for the whole notebook, address space in MB,
    and threads for torch and BLAS (1 lets several notebooks share the cores)."""

    timeout_s: float = 600.0
    memory_mb: int = 4096
    threads: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, (int, float)) or not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be a number of seconds > 0, got {self.timeout_s!r}")
        for name in ("memory_mb", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


@dataclass
class Run:
    """What happened when one notebook was executed.

    Attributes:
        status: ``"ran"``, ``"timed out"``, ``"kernel died"``, ``"not a notebook"`` or ``"failed"``.
        detail: a sentence on the status (the error, the cell that was running).
        seconds: wall-clock time of the execution.
        verdicts: the last feedback of each exercise label the notebook checked.
        cells: the executed notebook's cells (outputs included), empty if it never ran.
        refused: the operations the sandbox refused, as logged.
    """

    status: str
    detail: str = ""
    seconds: float = 0.0
    verdicts: dict[str, feedback.Feedback] = field(default_factory=dict)
    cells: list = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One line of the grades: ``score`` is a fraction of ``max_score`` (``None``: not graded)."""

    student: str
    exercise: str
    score: float | None
    max_score: float
    feedback: str


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` with outputs cleared; ``ValueError`` if it is not a valid notebook."""
    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # JSON, encoding and schema errors all mean "not a notebook"
        raise ValueError(f"not a valid notebook: {type(error).__name__}: {str(error).splitlines()[0][:200]}") from None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def _kernel_spec(folder: Path) -> Path:
    """A kernelspec folder whose kernel is ``python -m mslib.sandbox``, this Python."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "mslib.sandbox", "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "mslib sandbox", "language": "python"}))
    return folder


def _kernel_env(root: Path, log: Path, limits: Limits) -> dict[str, str]:
    threads = str(limits.threads)
    home = root / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MSLIB_", "JPY_"))}
    env.update({
        sandbox.ROOT_ENV: str(root), sandbox.LOG_ENV: str(log),
        sandbox.MEMORY_ENV: str(limits.memory_mb),
        sandbox.CPU_ENV: str(int(limits.timeout_s * limits.threads) + 60),
        sandbox.FILE_ENV: "512",
        feedback.LOG_ENV: str(root / ".mslib-feedback.jsonl"),
        "MSLIB_QUIET": "1",
        "HOME": str(home), "TMPDIR": str(root / "tmp"), "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".jupyter-data"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
    })
    (root / "tmp").mkdir()
    # Matplotlib's configuration inside the folder, with a copy of the grader's font cache (a
    # rebuild takes seconds).
    import matplotlib
    import matplotlib.font_manager  # noqa: F401  (builds the grader's cache if there is none)

    config = home / ".matplotlib"
    config.mkdir()
    for cache in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(cache, config)
    env["MPLCONFIGDIR"] = str(config)
    return env


def _verdicts(log: Path, labels: set[str]) -> dict[str, feedback.Feedback]:
    """The last verdict per label in a feedback log; lines that do not parse are skipped."""
    verdicts: dict[str, feedback.Feedback] = {}
    if not log.is_file():
        return verdicts
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            label, score, message = entry["label"], float(entry["score"]), str(entry["message"])
        except (ValueError, KeyError, TypeError):
            continue
        if label in labels and 0.0 <= score <= 1.0:
            verdicts[label] = feedback.Feedback(label, score, message)
    return verdicts


class _CappedClient(NotebookClient):
    """nbclient's client, keeping at most ``MAX_OUTPUT_CHARS`` of output per cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._output_chars: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):
        size = self._output_chars.get(cell_index, 0) + len(json.dumps(msg["content"], default=str))
        self._output_chars[cell_index] = size
        if size > MAX_OUTPUT_CHARS and msg["msg_type"] != "error":
            return None
        return super().output(outs, msg, display_id, cell_index)


async def run_notebook(notebook: nbformat.NotebookNode, labels: set[str], limits: Limits, kernels: Path) -> Run:
    """Execute ``notebook`` in a sandboxed kernel inside a fresh temporary folder, and collect the
    verdicts of the checks of ``labels``. Never raises for anything the notebook does."""
    work = Path(tempfile.mkdtemp(prefix="mslib-grade-"))
    root, log = work / "notebook", work / "refused.log"
    root.mkdir()
    nbformat.write(notebook, root / "submission.ipynb")
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    start = time.monotonic()
    deadline = start + limits.timeout_s
    current = {"cell": 0}  # the index of the cell being executed, for the report

    def note_cell(cell, cell_index: int) -> None:
        current["cell"] = cell_index

    client = _CappedClient(notebook, km=km, allow_errors=True, startup_timeout=120, kernel_name=KERNEL_NAME,
                           timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
                           on_cell_execute=note_cell)
    running = lambda: f"cell {current['cell'] + 1}"  # noqa: E731  (counted from 1, as in JupyterLab)
    kernel_log = open(work / "kernel.log", "wb")
    try:
        await asyncio.wait_for(client.async_execute(env=_kernel_env(root, log, limits), cwd=str(root),
                                                    stdout=kernel_log, stderr=kernel_log), limits.timeout_s + 60)
        run = Run("ran")
    except (CellTimeoutError, asyncio.TimeoutError):
        run = Run("timed out", f"stopped after {limits.timeout_s:g} s in {running()}")
    except DeadKernelError:
        run = Run("kernel died", f"the kernel died in {running()} (over the {limits.memory_mb} MB memory limit, "
                                 f"out of CPU time, or it exited){_last_line(work / 'kernel.log')}")
    except Exception as error:  # the kernel did not start, or the client failed: report, never stop the others
        run = Run("failed", f"{type(error).__name__}: {str(error)[:300]}{_last_line(work / 'kernel.log')}")
    finally:
        kernel_log.close()
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:  # already dead
            pass
        if client.kc is not None:
            client.kc.stop_channels()
    run.seconds = time.monotonic() - start
    run.cells = list(notebook.cells)
    run.verdicts = _verdicts(root / ".mslib-feedback.jsonl", labels)
    run.refused = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []
    shutil.rmtree(work, ignore_errors=True)
    return run


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
             if line.strip() and "running over TCP without encryption" not in line] if path.is_file() else []
    return f"; the kernel's last words: {lines[-1][:200]}" if lines else ""


def _error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {str(output.get('evalue', ''))[:200]}"
    return None


def _missing_verdict(exercise: Exercise, run: Run) -> str:
    """Why an exercise's check left no verdict, from the executed cells."""
    if not run.cells:
        return f"not graded: {run.detail or run.status}"
    code = [cell for cell in run.cells if cell.cell_type == "code"]
    at = next((i for i, cell in enumerate(code) if f'"{exercise.label}"' in cell.source
               or f"'{exercise.label}'" in cell.source), None)
    if at is None:
        return "no cell of the notebook calls this exercise's check (was the check cell deleted?)"
    if code[at].get("execution_count") is None:
        return f"not reached: the notebook {run.status} before this exercise's check"
    before = _error(code[at - 1]) if at > 0 else None
    if before and before.startswith("NotImplementedError"):
        return "not attempted: the solution cell still raises NotImplementedError"
    error = _error(code[at])
    if error:
        above = f" (the one above raised {before})" if before else ""
        return f"the check did not run: its cell raised {error}{above}"
    return "the check cell ran but left no verdict (did the notebook delete or replace the feedback log?)"


def _rows_of(student: str, exercises: list[Exercise], run: Run) -> list[Row]:
    rows = []
    for exercise in exercises:
        if exercise.check is None:
            rows.append(Row(student, exercise.label, None, 1.0, "no automatic check: grade by hand"))
        elif exercise.label in run.verdicts:
            verdict = run.verdicts[exercise.label]
            rows.append(Row(student, exercise.label, verdict.score, 1.0, verdict.message))
        else:
            rows.append(Row(student, exercise.label, 0.0, 1.0, _missing_verdict(exercise, run)))
    graded = [row for row in rows if row.score is not None]
    errors = [(i + 1, _error(cell)) for i, cell in enumerate(run.cells) if _error(cell)]
    notes = [f"{run.status} in {run.seconds:.1f} s" + (f": {run.detail}" if run.detail else "")]
    if errors:
        notes.append(f"{len(errors)} cell(s) raised, the first: cell {errors[0][0]}, {errors[0][1]}")
    if run.refused:
        notes.append(f"the sandbox refused {len(run.refused)} operation(s), first: {run.refused[0][:200]}")
    rows.append(Row(student, TOTAL, sum(row.score for row in graded), float(len(graded)), "; ".join(notes)))
    return rows


def _chapter_of(notebook: nbformat.NotebookNode) -> str | None:
    chapter = notebook.metadata.get("mslib", {}).get("chapter")
    return chapter if isinstance(chapter, str) else None


def class_rows(rows: list[Row]) -> list[Row]:
    """``(class)`` rows: the mean score of each exercise and of the totals, and how many passed."""
    by_exercise: dict[str, list[Row]] = {}
    for row in rows:
        if row.score is not None and row.student != CLASS:
            by_exercise.setdefault(row.exercise, []).append(row)
    summary = []
    for exercise, graded in by_exercise.items():
        mean = sum(row.score for row in graded) / len(graded)
        full = sum(row.max_score > 0 and row.score >= row.max_score for row in graded)
        summary.append(Row(CLASS, exercise, round(mean, 4), max(row.max_score for row in graded),
                           f"{full} of {len(graded)} students {'with full marks' if exercise == TOTAL else 'passed'}"))
    return summary


async def _grade(submissions: list[Path], chapters: dict[Path, str | None], book: Path, limits: Limits,
                 jobs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="mslib-kernels-") as kernels:
        spec = _kernel_spec(Path(kernels))
        gate = asyncio.Semaphore(jobs)

        async def one(path: Path) -> list[Row]:
            student = path.stem
            chapter = chapters[path]
            source = book / f"{chapter}.md" if chapter else None
            if source is None or not source.is_file():
                return [Row(student, TOTAL, 0.0, 0.0, f"not graded: cannot tell which chapter it answers "
                                                     f"({chapter or 'no mslib.chapter in its metadata'})")]
            exercises = read_exercises(source)
            try:
                notebook = read_submission(path)
            except ValueError as error:
                return _rows_of(student, exercises, Run("not a notebook", str(error)))
            async with gate:
                run = await run_notebook(notebook, {exercise.label for exercise in exercises}, limits, spec)
            return _rows_of(student, exercises, run)

        results = await asyncio.gather(*(one(path) for path in submissions))
    rows = [row for result in results for row in result]
    return rows + class_rows(rows)


def grade(folder: str | Path, *, chapter: str | None = None, book: str | Path | None = None,
          limits: Limits = Limits(), jobs: int = 1) -> list[Row]:
    """Grade every ``*.ipynb`` of ``folder`` (the file's stem is the student's name).

    Args:
        chapter: the chapter all submissions answer (a source stem such as ``"01_quadratic"``); by
            default each notebook's ``mslib.chapter`` metadata, which student versions carry
            (unreadable notebooks take the chapter the readable ones agree on).
        book: the folder of the chapter sources (default: ``book/`` of the course).
        limits: time, memory and threads of each notebook.
        jobs: how many notebooks run at once.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: {folder} is not a folder")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a grading.Limits, got {type(limits).__name__}")
    book = Path(book) if book is not None else course_root() / "book"
    submissions = sorted(path for path in folder.glob("*.ipynb") if path.is_file() and not path.name.startswith("."))
    chapters: dict[Path, str | None] = {}
    for path in submissions:
        try:
            chapters[path] = chapter or _chapter_of(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
        except Exception:  # reported as "not a notebook" when graded
            chapters[path] = None
    named = Counter(name for name in chapters.values() if name)
    if not chapter and len(named) == 1:
        chapters = {path: name or next(iter(named)) for path, name in chapters.items()}
    return asyncio.run(_grade(submissions, chapters, book, limits, jobs))


def write_csv(rows: list[Row], out: str | Path) -> None:
    """The grades as CSV: student, exercise, score, max_score, feedback (an empty score: by hand)."""
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise", "score", "max_score", "feedback"])
        for row in rows:
            writer.writerow([row.student, row.exercise, "" if row.score is None else f"{row.score:g}",
                             f"{row.max_score:g}", row.feedback])


def summary(rows: list[Row]) -> str:
    """A short text table: each student's total and run status, then the class means."""
    lines = []
    for row in rows:
        if row.exercise == TOTAL and row.student != CLASS:
            lines.append(f"{row.student:24s} {row.score:5.2f} / {row.max_score:g}   {row.feedback}")
    lines.append("")
    for row in rows:
        if row.student == CLASS:
            lines.append(f"{row.exercise:32s} mean {row.score:5.2f} / {row.max_score:g}   {row.feedback}")
    return "\n".join(lines)
