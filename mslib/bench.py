"""Benchmarks of mslib's hot paths: ``python -m mslib.bench`` (or ``make bench``).

Not a test: it prints medians over repeats, measured in one process on this machine. The
Hessian-vector product is compared with the gradient it is built from, on the digits MLP.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

from .data import digits
from .hessian import HessianOperator, hvp, loss_and_gradient
from .directions import random_direction
from .nets import flatten, mlp


def interleaved_medians(functions: dict[str, Callable[[], object]], repeats: int = 30) -> dict[str, float]:
    """Median seconds per call of each function, timed in turns so machine load hits all alike."""
    for f in functions.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, f in functions.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def hvp_cost(widths: tuple[int, ...] = (64, 64, 10), n: int = 1000, repeats: int = 30) -> dict[str, float]:
    """Seconds per gradient, per product through a kept graph, and per standalone ``hvp`` call,
    on a tanh MLP on ``n`` digits, with the two ratios to the gradient."""
    X, Y = digits(n, seed=0)
    loss_fn, theta = flatten(mlp(list(widths), seed=0), X, Y)
    v = random_direction(theta, seed=0)
    operator = HessianOperator(loss_fn, theta)
    medians = interleaved_medians(
        {
            "gradient": lambda: loss_and_gradient(loss_fn, theta),
            "hvp_kept_graph": lambda: operator(v),
            "hvp_standalone": lambda: hvp(loss_fn, theta, v),
        },
        repeats,
    )
    medians["ratio_kept_graph"] = medians["hvp_kept_graph"] / medians["gradient"]
    medians["ratio_standalone"] = medians["hvp_standalone"] / medians["gradient"]
    return medians


def main() -> None:
    torch.set_grad_enabled(True)
    result = hvp_cost()
    print("Hessian-vector product vs gradient, tanh MLP 64-64-10 on 1000 digits (float64), medians of 30:")
    print(f"  gradient             {1e3 * result['gradient']:7.2f} ms")
    print(f"  HVP, kept graph      {1e3 * result['hvp_kept_graph']:7.2f} ms  = {result['ratio_kept_graph']:.2f} gradients")
    print(f"  HVP, standalone call {1e3 * result['hvp_standalone']:7.2f} ms  = {result['ratio_standalone']:.2f} gradients")


if __name__ == "__main__":
    main()
