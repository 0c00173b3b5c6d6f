"""The classroom loop: the exercise convention, student notebooks, checks and their feedback, the
sandbox, and grading (scores, contained failures, throughput)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

import mslib
from mslib import assignments, classroom, feedback, grading

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = assignments.chapters_with_exercises(ROOT)


# --- the convention --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", CHAPTERS, ids=[source.stem for source in CHAPTERS])
def test_every_exercise_follows_the_convention(source):
    """Title, label, difficulty, minutes, a gated solution and, for code, a registered check."""
    exercises = assignments.read_exercises(source)
    assert exercises, f"{source.name} has no exercises"
    for exercise in exercises:
        assert exercise.gaps == [], f"{exercise.label} lacks {', '.join(exercise.gaps)}"
        assert exercise.label in feedback.registered()


def test_labels_are_unique_and_every_check_has_its_exercise():
    labels = [exercise.label for source in CHAPTERS for exercise in assignments.read_exercises(source)]
    assert len(labels) == len(set(labels))
    assert set(feedback.registered()) <= set(labels), "a check is registered for an exercise no chapter has"


def test_bad_exercises_are_named_with_their_line(tmp_path):
    source = tmp_path / "bad.md"
    source.write_text("# A\n\n```{exercise-start} T\n:label: ex-a\n:difficulty: impossible\n```\nDo.\n"
                      "```{exercise-end}\n```\n\n```{solution-start} ex-a\n```\nDone.\n```{solution-end}\n```\n")
    with pytest.raises(ValueError, match=r"bad.md:3: :difficulty: must be one of easy, medium, hard"):
        assignments.read_exercises(source)
    source.write_text("```{exercise-start} T\n:label: ex-a\n```\nDo.\n```{exercise-end}\n```\n")
    with pytest.raises(ValueError, match="needs a solution right after it"):
        assignments.read_exercises(source)
    with pytest.raises(ValueError, match="source"):
        assignments.read_exercises(tmp_path / "missing.md")


def test_assignments_table_lists_every_exercise_with_its_time():
    table = assignments.assignments_markdown(ROOT)
    for source in CHAPTERS:
        for exercise in assignments.read_exercises(source):
            assert f"<{exercise.label}>` | `{exercise.label}` |" in table
    stated = sum(exercise.minutes or 0 for source in CHAPTERS for exercise in assignments.read_exercises(source))
    assert f"about {stated // 60} h {stated % 60:02d} min" in table


# --- student notebooks -----------------------------------------------------------------------------

_SOLUTION = re.compile(r"^```\{solution-start\}.*?^```\{solution-end\}\n```$", re.M | re.S)


@pytest.mark.parametrize("source", CHAPTERS, ids=[source.stem for source in CHAPTERS])
def test_student_notebook_contains_no_solution_text(source):
    text = source.read_text()
    outside = _SOLUTION.sub("", text)
    solution_lines = {line.strip() for block in _SOLUTION.findall(text) for line in block.splitlines()[3:-2]}
    telling = {line for line in solution_lines if len(line) > 12 and line not in outside}
    assert len(telling) > 10
    notebook = assignments.student_notebook(source)
    nbformat.validate(notebook)
    student = "\n".join(cell.source for cell in notebook.cells)
    leaked = sorted(line for line in telling if line in student)
    assert not leaked, f"solution text in the student notebook: {leaked[:3]}"
    assert "{solution" not in student and "{exercise" not in student
    exercises = assignments.read_exercises(source)
    assert notebook.metadata["mslib"] == {"chapter": source.stem, "exercises": [e.label for e in exercises]}
    assert "jupytext" not in notebook.metadata
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    for exercise in exercises:
        stubs = [cell for cell in code if f'NotImplementedError("{exercise.label}:' in cell.source]
        assert len(stubs) == 1 and "\n...\n" in stubs[0].source
        if exercise.check:
            assert code[code.index(stubs[0]) + 1].source == exercise.check, "the check cell follows the stub"
            assert feedback.registered()[exercise.label].expects in " ".join(stubs[0].source.replace("# ", "").split())


def test_student_command_never_overwrites_without_force(tmp_path, capsys):
    assert classroom.main(["student", "01", "03_edge", "--out", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["01_quadratic.ipynb", "03_edge_of_stability.ipynb"]
    (tmp_path / "01_quadratic.ipynb").write_text("edited by hand")
    assert classroom.main(["student", "01", "04", "--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "01_quadratic.ipynb").read_text() == "edited by hand"
    assert not (tmp_path / "04_lr_decay.ipynb").exists(), "nothing is written when one target exists"
    assert classroom.main(["student", "01", "--out", str(tmp_path), "--force"]) == 0
    assert nbformat.read(tmp_path / "01_quadratic.ipynb", as_version=4).metadata["mslib"]["chapter"] == "01_quadratic"
    assert classroom.main(["student", "no-such-chapter", "--out", str(tmp_path)]) == 2
    assert "known:" in capsys.readouterr().err


# --- checks and their feedback ---------------------------------------------------------------------


def test_checks_answer_by_direction_without_revealing_the_value():
    x_star = mslib.period_two_orbit(mslib.toys.log_cosh(), 4.0)
    assert feedback.evaluate("ex-eos-log-cosh-orbit", x_star).passed
    for wrong, direction in ((1.01 * x_star, "too large"), (0.99 * x_star, "too small")):
        verdict = feedback.evaluate("ex-eos-log-cosh-orbit", wrong)
        assert verdict.score == 0 and direction in verdict.message
        assert f"{x_star:.3f}"[:4] not in verdict.message
    verdict = feedback.evaluate("ex-eos-log-cosh-orbit", [x_star])
    assert verdict.score == 0 and "should be a number" in verdict.message and "expected:" in verdict.message
    assert "overflowed" in feedback.evaluate("ex-eos-log-cosh-orbit", math.nan).message


def test_checks_of_several_parts_give_partial_credit():
    verdict = feedback.evaluate("ex-multiscale-activation", {"tanh": 0.05, "gelu": 0.05})
    assert verdict.score == 0.5 and "gelu exponent is too small" in verdict.message
    assert feedback.evaluate("ex-multiscale-activation", {"tanh activation": 0.05, "GELU": 2.0}).passed
    assert "one key containing 'gelu'" in feedback.evaluate("ex-multiscale-activation", {"tanh": 0.0}).message
    reached = sorted(mslib.exercises._decays_reaching_the_well())
    assert feedback.evaluate("ex-decay-when", reached).passed
    assert "1 of your T does not end in the well" in feedback.evaluate("ex-decay-when", reached + [900]).message
    assert "missing" in feedback.evaluate("ex-decay-when", reached[1:]).message


def test_check_prints_logs_and_is_strict_only_when_asked(tmp_path, monkeypatch, capsys):
    log = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(feedback.LOG_ENV, str(log))
    monkeypatch.delenv(feedback.STRICT_ENV, raising=False)
    assert mslib.check("ex-eos-doubling", 3.0) is None
    assert capsys.readouterr().out.startswith("✘ ex-eos-doubling: the step size is too small")
    monkeypatch.setenv(feedback.STRICT_ENV, "1")
    with pytest.raises(feedback.CheckFailed, match="too large"):
        mslib.check("ex-eos-doubling", 4.0)
    mslib.check("ex-eos-doubling", 2 * math.exp(0.5))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [entry["score"] for entry in entries] == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="label: no check is registered for 'ex-nothing'"):
        mslib.check("ex-nothing", 1)
    with pytest.raises(TypeError, match="label must be a string"):
        mslib.check(3, 1)
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        feedback.evaluate("ex-quadratic-power-iteration", 1.0, loss_fn=mslib.toys.log_cosh(), theta=[0.0])


def test_every_toy_check_is_cheap():
    """Checks whose references need no network recompute in well under a second once cached."""
    answers = {"ex-quadratic-best-step": 2 / 4.5, "ex-eos-log-cosh-orbit": 2.0, "ex-eos-doubling": 3.3,
               "ex-eos-other-architecture": [6.5], "ex-decay-when": [100], "ex-decay-cosine": (1, 1),
               "ex-decay-three-scales": {"two": 1, "direct": 1, "constant": 1},
               "ex-multiscale-activation": {"tanh": 0, "gelu": 2}}
    for label, answer in answers.items():
        feedback.evaluate(label, answer)  # first call: builds the cached reference
        start = time.perf_counter()
        feedback.evaluate(label, answer)
        assert time.perf_counter() - start < 0.5, label


# --- the sandbox -----------------------------------------------------------------------------------


def test_sandbox_keeps_changes_inside_its_folder(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    log = tmp_path / "refused.log"
    script = textwrap.dedent(f"""
        import os, shutil, subprocess
        from mslib import sandbox
        sandbox.install_guard({str(root)!r}, {str(log)!r})
        os.chdir({str(root)!r})
        def refused(action):
            try:
                action()
            except PermissionError:
                return True
            return False
        assert refused(lambda: open({str(outside / 'victim.txt')!r}, "w"))
        assert refused(lambda: open("../outside/new.txt", "a"))
        assert refused(lambda: os.remove({str(outside / 'victim.txt')!r}))
        assert refused(lambda: shutil.rmtree({str(outside)!r}))
        assert refused(lambda: os.rename({str(outside / 'victim.txt')!r}, "stolen.txt"))
        assert refused(lambda: subprocess.run(["true"]))
        assert refused(lambda: os.kill(os.getppid(), 0))
        os.symlink({str(outside)!r}, "link")
        assert refused(lambda: open("link/victim.txt", "w"))
        os.makedirs("a/b")
        open("a/b/mine.txt", "w").write("fine")
        shutil.rmtree("a")
        open({str(outside / 'victim.txt')!r}).read()
        print("contained")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "contained" in result.stdout, result.stderr[-2000:]
    assert (outside / "victim.txt").read_text() == "precious"
    assert sorted(path.name for path in outside.iterdir()) == ["victim.txt"]
    assert len(log.read_text().splitlines()) == 8


# --- grading ---------------------------------------------------------------------------------------


def _notebook(path: Path, chapter: str, *sources: str) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata["mslib"] = {"chapter": chapter}
    nbformat.write(notebook, path)


def _rows(rows: list[grading.Row]) -> dict[tuple[str, str], grading.Row]:
    return {(row.student, row.exercise): row for row in rows}


def test_grading_contains_broken_looping_and_malicious_notebooks(tmp_path):
    """Each bad notebook gets clear rows; none stops the others or touches a file outside its folder."""
    submissions, outside = tmp_path / "submissions", tmp_path / "outside"
    submissions.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    victim = str(outside / "victim.txt")
    check = 'import mslib\nmslib.check("ex-eos-log-cosh-orbit", mslib.period_two_orbit(mslib.toys.log_cosh(), 4.0))'
    chapter = "03_edge_of_stability"
    _notebook(submissions / "raises.ipynb", chapter, "1 / 0", check)
    _notebook(submissions / "loops.ipynb", chapter, check, "while True:\n    print('spam' * 1000)")
    _notebook(submissions / "vandal.ipynb", chapter, check,
              f"open({victim!r}, 'w').write('gotcha')", f"import os\nos.remove({victim!r})",
              f"import shutil\nshutil.rmtree({str(outside)!r})", f"import os\nos.system('rm -rf {outside}')",
              f"open({str(submissions / 'raises.ipynb')!r}, 'w').write('{{}}')",
              "import os\nos.remove(os.environ['MSLIB_FEEDBACK_LOG'])")
    _notebook(submissions / "hog.ipynb", chapter, "import numpy\nx = numpy.empty(6 * 2**30, dtype=numpy.uint8)", check)
    (submissions / "garbage.ipynb").write_text('{"cells": [')
    before = {path.name: path.read_bytes() for path in submissions.iterdir()}

    start = time.perf_counter()
    rows = _rows(grading.grade(submissions, limits=grading.Limits(timeout_s=15, memory_mb=3072), jobs=2))
    assert time.perf_counter() - start < 60, "the looping notebook held up the others"

    assert {path.name: path.read_bytes() for path in submissions.iterdir()} == before
    assert (outside / "victim.txt").read_text() == "precious"
    orbit = "ex-eos-log-cosh-orbit"
    assert rows["raises", orbit].score == 1, "a cell that raises does not stop the notebook"
    assert "cell 1, ZeroDivisionError" in rows["raises", grading.TOTAL].feedback
    assert rows["loops", orbit].score == 1
    looped = rows["loops", grading.TOTAL].feedback
    assert looped.startswith("timed out") and "in cell 2" in looped
    assert "the sandbox refused 5 operation(s)" in rows["vandal", grading.TOTAL].feedback
    assert rows["vandal", orbit].score == 0 and "no verdict" in rows["vandal", orbit].feedback
    assert rows["hog", orbit].score == 1, "the kernel survives a refused allocation"
    assert "MemoryError" in rows["hog", grading.TOTAL].feedback
    assert rows["garbage", grading.TOTAL].feedback.startswith("not a notebook")
    assert rows["garbage", orbit].score == 0 and "not a valid notebook" in rows["garbage", orbit].feedback
    for student in ("raises", "loops", "vandal", "hog", "garbage"):
        assert rows[student, "ex-eos-doubling"].score == 0
        assert rows[student, "ex-eos-doubling"].feedback
    assert rows[grading.CLASS, orbit].score == pytest.approx(3 / 5)


def test_grading_twenty_notebooks_of_chapter_1(tmp_path, capsys):
    """The instructor version scores 100%, the untouched student version 0 with feedback, and 20
    notebooks take at most 1.5 times 20 runs of one (two kernels at a time, one thread each)."""
    source = ROOT / "book" / "01_quadratic.md"
    exercises = [exercise.label for exercise in assignments.read_exercises(source)]
    alone, class_folder = tmp_path / "alone", tmp_path / "class"
    alone.mkdir()
    class_folder.mkdir()
    nbformat.write(assignments.student_notebook(source), alone / "untouched.ipynb")
    start = time.perf_counter()
    single = _rows(grading.grade(alone, jobs=1))
    chapter_seconds = time.perf_counter() - start

    nbformat.write(assignments.instructor_notebook(source), class_folder / "teacher.ipynb")
    for i in range(1, 20):
        nbformat.write(assignments.student_notebook(source), class_folder / f"student{i:02d}.ipynb")
    start = time.perf_counter()
    rows = _rows(grading.grade(class_folder, jobs=2))
    class_seconds = time.perf_counter() - start
    ratio = class_seconds / (20 * chapter_seconds)
    with capsys.disabled():
        print(f"\n    grading 20 notebooks of chapter 1: {class_seconds:.0f} s; one alone: {chapter_seconds:.1f} s; "
              f"ratio {ratio:.2f}")
    assert ratio <= 1.5

    for label in exercises:
        assert rows["teacher", label].score == 1 and rows["teacher", label].feedback == "correct."
        for student in ("untouched", "student07"):
            row = (single if student == "untouched" else rows)[student, label]
            assert row.score == 0
            assert row.feedback == "not attempted: the solution cell still raises NotImplementedError"
    assert rows["teacher", grading.TOTAL].score == len(exercises)
    assert rows[grading.CLASS, grading.TOTAL].score == pytest.approx(len(exercises) / 20)
    assert rows[grading.CLASS, grading.TOTAL].feedback == "1 of 20 students with full marks"


def test_grade_command_writes_csv_and_refuses_to_overwrite(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "ada.ipynb").write_text("not json")
    out = tmp_path / "grades.csv"
    assert classroom.main(["grade", str(submissions), "--out", str(out), "--chapter", "04_lr_decay"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "student,exercise,score,max_score,feedback"
    assert lines[1].startswith("ada,ex-decay-when,0,1,not graded: not a valid notebook")
    assert "ada" in capsys.readouterr().out
    assert classroom.main(["grade", str(submissions), "--out", str(out)]) == 2
    assert classroom.main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "g.csv")]) == 2
    with pytest.raises(ValueError, match="timeout_s"):
        grading.Limits(timeout_s=0)
