"""The classroom command: student notebooks and grading.

    python -m mslib.classroom student [CHAPTER ...] --out DIR [--force] [--solutions]
    python -m mslib.classroom grade SUBMISSIONS_DIR --out grades.csv [--timeout SECONDS] [--force]

``student`` writes one notebook per chapter (all chapters with exercises by default; a chapter is
named by its source path, its stem ``01_quadratic`` or a unique prefix ``01``) with the solutions
replaced by stubs (see :mod:`mslib.assignments`). ``grade`` runs every ``<student>.ipynb`` of a
folder in a sandboxed kernel and writes one CSV row per student and exercise (see
:mod:`mslib.grading`). Neither overwrites an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

from . import assignments, grading


def resolve_chapters(names: list[str], root: Path | None = None) -> list[Path]:
    """Chapter sources named by path, stem or unique stem prefix (all with exercises when empty)."""
    available = assignments.chapters_with_exercises(root)
    if not names:
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".md" and path.is_file():
            found.append(path)
            continue
        matches = [source for source in available if source.stem == name] or \
                  [source for source in available if source.stem.startswith(name)]
        if len(matches) != 1:
            known = ", ".join(source.stem for source in available)
            raise ValueError(f"chapters: {name!r} names {len(matches)} chapters with exercises; known: {known}")
        found.append(matches[0])
    return found


def write_student_versions(chapters: list[Path], out: Path, *, force: bool = False,
                           solutions: bool = False) -> list[Path]:
    """Write ``out/<stem>.ipynb`` for each chapter; nothing is written if one exists and not ``force``.

    With ``solutions``, the instructor versions (solutions kept) instead: grading them is a dry run.
    """
    targets = [out / f"{source.stem}.ipynb" for source in chapters]
    existing = [target for target in targets if target.exists()]
    if existing and not force:
        raise FileExistsError(f"out: {', '.join(map(str, existing))} already exist(s); pass --force to overwrite")
    make = assignments.instructor_notebook if solutions else assignments.student_notebook
    notebooks = [make(source) for source in chapters]  # all parse before any is written
    out.mkdir(parents=True, exist_ok=True)
    for notebook, target in zip(notebooks, targets):
        nbformat.write(notebook, target)
    return targets


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mslib.classroom", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student notebooks (solutions replaced by stubs)")
    student.add_argument("chapters", nargs="*", help="chapters (path, stem or prefix); default: all with exercises")
    student.add_argument("--out", required=True, type=Path, help="folder for the notebooks")
    student.add_argument("--force", action="store_true", help="overwrite existing notebooks")
    student.add_argument("--solutions", action="store_true",
                         help="write the instructor versions (solutions kept) instead, e.g. to dry-run grading")
    grade = commands.add_parser("grade", help="execute and score every <student>.ipynb of a folder")
    grade.add_argument("submissions", type=Path, help="folder of submitted notebooks, one per student")
    grade.add_argument("--out", required=True, type=Path, help="the CSV file of grades")
    grade.add_argument("--timeout", type=float, default=grading.Limits.timeout_s,
                       help="seconds each notebook may run in all (default: %(default)s)")
    grade.add_argument("--memory", type=int, default=grading.Limits.memory_mb,
                       help="address space of each kernel in MB (default: %(default)s)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="notebooks run at once (default: the number of cores, %(default)s)")
    grade.add_argument("--threads", type=int, default=grading.Limits.threads,
                       help="torch and BLAS threads of each kernel (default: %(default)s)")
    grade.add_argument("--chapter", help="the chapter all submissions answer (default: from each notebook)")
    grade.add_argument("--book", type=Path, help="folder of the chapter sources (default: the course's book/)")
    grade.add_argument("--force", action="store_true", help="overwrite an existing grades file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad arguments or files in the way)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "student":
            for target in write_student_versions(resolve_chapters(args.chapters), args.out, force=args.force,
                                                 solutions=args.solutions):
                print(f"wrote {target}")
            return 0
        if args.out.exists() and not args.force:
            raise FileExistsError(f"out: {args.out} already exists; pass --force to overwrite")
        limits = grading.Limits(timeout_s=args.timeout, memory_mb=args.memory, threads=args.threads)
        rows = grading.grade(args.submissions, chapter=args.chapter, book=args.book, limits=limits, jobs=args.jobs)
        grading.write_csv(rows, args.out)
        print(grading.summary(rows))
        print(f"\nwrote {args.out}")
        return 0
    except (ValueError, TypeError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
