"""Benchmarks of mslib's hot paths: ``python -m mslib.bench`` (or ``make bench``).

Not a test: it prints medians over repeats, measured in one process on this machine: the
Hessian-vector product against the gradient it is built from, slices against the forward-pass
limit, and the cost of sharpness tracking during gradient descent, all on the digits MLP.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

from .data import digits
from .dynamics import gd
from .hessian import HessianOperator, hvp, loss_and_gradient
from .directions import random_direction
from .landscape import slice_1d
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


def slice_throughput(points: int = 10_000, dtype: torch.dtype = torch.float64) -> dict[str, float]:
    """Points per second of ``slice_1d`` on the digits MLP, and the forward-pass limit (one
    full-batch forward per point, timed alone)."""
    X, Y = digits(1000, seed=0, dtype=dtype)
    loss_fn, theta = flatten(mlp([64, 64, 10], seed=0, dtype=dtype), X, Y)
    v = random_direction(theta, seed=0)
    ts = torch.linspace(-10, 10, points, dtype=torch.float64)
    with torch.no_grad():
        forward = interleaved_medians({"forward": lambda: loss_fn(theta)}, repeats=50)["forward"]
    start = time.perf_counter()
    slice_1d(loss_fn, theta, v, ts)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "points_per_second": points / seconds, "limit_points_per_second": 1 / forward,
            "ratio_to_limit": forward * points / seconds}


def tracking_overhead(lr: float = 0.4, steps: int = 3000, every: int = 150) -> dict[str, float]:
    """Seconds of the chapter's Edge-of-Stability run with and without sharpness tracking."""
    X, Y = digits(1000, seed=0)
    loss_fn, theta0 = flatten(mlp([64, 64, 10], seed=0), X, Y)
    gd(loss_fn, theta0, lr, 5, sharpness_every=1)  # warm-up: the first double backward is slow
    start = time.perf_counter()
    gd(loss_fn, theta0, lr, steps)
    plain = time.perf_counter() - start
    start = time.perf_counter()
    gd(loss_fn, theta0, lr, steps, sharpness_every=every)
    tracked = time.perf_counter() - start
    return {"plain": plain, "tracked": tracked, "overhead": tracked / plain - 1}


def main() -> None:
    result = hvp_cost()
    print("Hessian-vector product vs gradient, tanh MLP 64-64-10 on 1000 digits (float64), medians of 30:")
    print(f"  gradient             {1e3 * result['gradient']:7.2f} ms")
    print(f"  HVP, kept graph      {1e3 * result['hvp_kept_graph']:7.2f} ms  = {result['ratio_kept_graph']:.2f} gradients")
    print(f"  HVP, standalone call {1e3 * result['hvp_standalone']:7.2f} ms  = {result['ratio_standalone']:.2f} gradients")
    for dtype in (torch.float64, torch.float32):
        sl = slice_throughput(dtype=dtype)
        print(f"slice_1d, 10^4 points, {dtype}: {sl['seconds']:.2f} s, {sl['points_per_second']:.0f} points/s "
              f"= {sl['ratio_to_limit']:.2f} x the forward-pass limit ({sl['limit_points_per_second']:.0f}/s)")
    tr = tracking_overhead()
    print(f"gd 3000 steps, eta 0.4: {tr['plain']:.1f} s plain, {tr['tracked']:.1f} s with sharpness every 150 steps "
          f"(+{tr['overhead']:.0%})")


if __name__ == "__main__":
    main()
