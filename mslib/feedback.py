"""Feedback on exercise answers: the registry of checks, and ``check(label, answer)``.

A *check* judges a student's answer to one exercise, named by the exercise's label. It recomputes
its reference with mslib (no answer is stored anywhere), compares with a tolerance, and says what is
wrong without giving the value away ("too large: is your x* on the right branch?"). The checks of
the course live in :mod:`mslib.exercises`; a notebook calls ::

    mslib.check("ex-eos-log-cosh-orbit", x_star)

and sees one line of feedback. Two environment variables connect checks to the course's tooling:

- ``MSLIB_STRICT_CHECKS=1`` (set by ``make`` and the tests): a failing check raises
  :class:`CheckFailed`, so a solution that stops passing its own check fails the build;
- ``MSLIB_FEEDBACK_LOG=path`` (set by the grader): every verdict is appended to ``path`` as a JSON
  line, which is how ``python -m mslib.classroom grade`` learns the scores.

Not to be confused with ``mslib._checks``, which validates the arguments of mslib's functions.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import torch

STRICT_ENV = "MSLIB_STRICT_CHECKS"
LOG_ENV = "MSLIB_FEEDBACK_LOG"


@dataclass(frozen=True)
class Feedback:
    """The verdict of a check: a ``score`` in [0, 1] (the fraction of parts right) and a message."""

    label: str
    score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score >= 1.0

    def __str__(self) -> str:
        return f"{'✔' if self.passed else '✘'} {self.label}: {self.message}"


@dataclass(frozen=True)
class Part:
    """One judged part of an answer: right or not, and what to look at when it is not."""

    ok: bool
    message: str = ""


class AnswerError(Exception):
    """An answer of the wrong kind (a list where a number was expected, NaN, a missing key)."""


class CheckFailed(AssertionError):
    """Raised by :func:`check` in strict mode (``MSLIB_STRICT_CHECKS=1``) when a check fails."""


@dataclass(frozen=True)
class Check:
    """A registered check: the exercise ``label``, what the answer is (``expects``), the judge."""

    label: str
    expects: str
    judge: Callable[..., Part | list[Part]]


_REGISTRY: dict[str, Check] = {}
Judge = Callable[..., Part | list[Part]]


def register(label: str, expects: str) -> Callable[[Judge], Judge]:
    """Decorator: register ``judge(answer, **given) -> Part | list[Part]`` as the check of ``label``.

    ``expects`` says in a few words what the answer is ("the step size η, a number"); student
    notebooks print it in the stub of the exercise, and feedback repeats it when an answer has the
    wrong kind. ``given`` are objects of the chapter the reference needs (a trained ``loss_fn``,
    ``theta``); a judge raises :class:`AnswerError` for an answer of the wrong kind.
    """
    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty string, got {label!r}")
    if not isinstance(expects, str) or not expects:
        raise TypeError(f"expects must be a non-empty string, got {expects!r}")

    def decorate(judge: Judge) -> Judge:
        if label in _REGISTRY:
            raise ValueError(f"label {label!r} already has a check ({_REGISTRY[label].judge.__qualname__})")
        _REGISTRY[label] = Check(label, expects, judge)
        return judge

    return decorate


def registered() -> Mapping[str, Check]:
    """Every registered check, by exercise label (read-only)."""
    return MappingProxyType(_REGISTRY)


def _lookup(label: Any) -> Check:
    if not isinstance(label, str):
        raise TypeError(f"label must be a string (the exercise's label), got {type(label).__name__}")
    if label not in _REGISTRY:
        raise ValueError(f"label: no check is registered for {label!r}; known labels: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[label]


def evaluate(label: str, answer: Any, **given: Any) -> Feedback:
    """Judge ``answer`` to exercise ``label``; returns the :class:`Feedback` without printing it."""
    entry = _lookup(label)
    try:
        parts = entry.judge(answer, **given)
    except AnswerError as wrong_kind:
        return Feedback(label, 0.0, f"{wrong_kind} (expected: {entry.expects})")
    parts = [parts] if isinstance(parts, Part) else list(parts)
    if not parts:
        raise ValueError(f"the check of {label!r} judged no part of the answer")
    right = sum(part.ok for part in parts)
    message = "correct." if right == len(parts) else "; ".join(part.message for part in parts if not part.ok)
    return Feedback(label, right / len(parts), message)


def check(label: str, answer: Any, **given: Any) -> None:
    """Judge ``answer`` to exercise ``label`` and print one line of feedback.

    Keyword arguments are the chapter's objects the check needs (its ``expects`` and the exercise
    say which). With ``MSLIB_FEEDBACK_LOG`` set, the verdict is also appended to that file (for the
    grader); with ``MSLIB_STRICT_CHECKS=1``, a failing check raises :class:`CheckFailed`.
    """
    verdict = evaluate(label, answer, **given)
    print(verdict)
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(verdict)) + "\n")
    if os.environ.get(STRICT_ENV) == "1" and not verdict.passed:
        raise CheckFailed(str(verdict))


# --- judging helpers for the checks ---------------------------------------------------------------


def as_number(answer: Any, name: str) -> float:
    """``answer`` as a finite float (a Python or NumPy number, or a one-element tensor)."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    elif hasattr(answer, "item") and getattr(answer, "size", None) == 1:  # NumPy scalars and arrays
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise AnswerError(f"{name} should be a number, got {type(answer).__name__}")
    if not math.isfinite(answer):
        raise AnswerError(f"{name} is {answer}: the computation overflowed or divided by zero")
    return float(answer)


def as_numbers(answer: Any, name: str) -> list[float]:
    """``answer`` as a non-empty list of finite floats (a sequence, array or tensor of numbers)."""
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().reshape(-1).tolist()
    elif hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise AnswerError(f"{name} should be a sequence of numbers, got {type(answer).__name__}")
    values = [as_number(value, f"each entry of {name}") for value in answer]
    if not values:
        raise AnswerError(f"{name} is empty")
    return values


def unpack(answer: Any, names: Sequence[str], what: str) -> list[Any]:
    """The entries of a tuple or list answer of ``len(names)`` entries (``names`` say what they are)."""
    if isinstance(answer, (str, bytes, Mapping)) or not isinstance(answer, Sequence) or len(answer) != len(names):
        raise AnswerError(f"{what} should be a tuple of {len(names)}: ({', '.join(names)})")
    return list(answer)


def pick(answer: Any, keys: Mapping[str, str], name: str) -> dict[str, Any]:
    """Values of a dict answer whose keys contain each marker word, by the names of ``keys``.

    ``keys`` maps a marker (``"first"``) to the name the feedback uses (``"the first-layer part"``),
    so ``{"first-layer part": a, "last-layer part": b}`` and ``{"first": a, "last": b}`` both work.
    """
    if not isinstance(answer, Mapping):
        raise AnswerError(f"{name} should be a dict, got {type(answer).__name__}")
    found = {}
    for marker, described in keys.items():
        matches = [key for key in answer if isinstance(key, str) and marker in key.lower()]
        if len(matches) != 1:
            raise AnswerError(f"{name} should have one key containing {marker!r} (for {described})")
        found[described] = answer[matches[0]]
    return found


def compare(value: float, reference: float, *, name: str, rtol: float = 0.0, atol: float = 0.0,
            too_large: str, too_small: str) -> Part:
    """Right when ``|value - reference| <= atol + rtol |reference|``; else a hint by direction.

    The message says "``name`` is too large: ``too_large``" (or too small), never the reference.
    """
    if abs(value - reference) <= atol + rtol * abs(reference):
        return Part(True)
    if value > reference:
        return Part(False, f"{name} is too large: {too_large}")
    return Part(False, f"{name} is too small: {too_small}")
