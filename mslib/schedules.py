"""Step-size schedules: callables ``schedule(k) -> step size`` for update k, to pass to ``gd`` and
``sgd`` as ``schedule=``. Each validates its arguments and describes itself in ``repr``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from . import _checks

Schedule = Callable[[int], float]


@dataclass(frozen=True)
class Constant:
    """``lr`` at every step."""

    lr: float

    def __post_init__(self) -> None:
        _checks.positive("lr", self.lr)

    def __call__(self, k: int) -> float:
        return self.lr


@dataclass(frozen=True)
class StepDecay:
    """``lr``, multiplied by ``factor`` at each step in ``decay_at`` (e.g. 0.1 at 1000 and 2000)."""

    lr: float
    decay_at: tuple[int, ...]
    factor: float = 0.1

    def __post_init__(self) -> None:
        _checks.positive("lr", self.lr)
        _checks.positive("factor", self.factor)
        for step in self.decay_at:
            _checks.count("decay_at", step, minimum=1)
        if list(self.decay_at) != sorted(set(self.decay_at)):
            raise ValueError(f"decay_at must be strictly increasing, got {self.decay_at}")

    def __call__(self, k: int) -> float:
        return self.lr * self.factor ** sum(k >= step for step in self.decay_at)


@dataclass(frozen=True)
class Cosine:
    """From ``lr`` down to ``final`` along half a cosine over ``steps`` updates, then ``final``."""

    lr: float
    steps: int
    final: float = 0.0

    def __post_init__(self) -> None:
        _checks.positive("lr", self.lr)
        _checks.count("steps", self.steps, minimum=1)
        if not (isinstance(self.final, (int, float)) and 0 <= self.final <= self.lr):
            raise ValueError(f"final must lie in [0, lr], got {self.final}")

    def __call__(self, k: int) -> float:
        progress = min(k, self.steps) / self.steps
        value = self.final + 0.5 * (self.lr - self.final) * (1 + math.cos(math.pi * progress))
        return max(value, 1e-300)  # a step size of exactly 0 is not a step


@dataclass(frozen=True)
class WarmUp:
    """``then(k)`` scaled up linearly from ``then(0)/steps`` over the first ``steps`` updates."""

    then: Schedule
    steps: int

    def __post_init__(self) -> None:
        _checks.callable_arg("then", self.then)
        _checks.count("steps", self.steps, minimum=1)

    def __call__(self, k: int) -> float:
        return self.then(k) * min(1.0, (k + 1) / self.steps)


def step_decay(lr: float, decay_at: Sequence[int], factor: float = 0.1) -> StepDecay:
    """``StepDecay`` from any sequence of decay steps."""
    return StepDecay(lr, tuple(decay_at), factor)
