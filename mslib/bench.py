"""mslib against PyHessian and loss-landscapes: ``python -m mslib.bench`` (or ``make bench``).

Not a test: in one process, on the same problems (MLPs on the digits, and on the digits upsampled
to 28 x 28, up to 269k parameters), it repeats each measurement of ``bench_tasks`` and prints
medians, HVP counts, relative errors against converged references and the ratios the course
targets; ``--out`` writes them, with the machine and versions, to a JSON file (the book's
Performance page reads ``book/_static/performance.json``). ``--smoke`` runs tiny sizes in seconds
with no peers (their algorithms re-implemented in ``peers``), as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Callable

import torch

from . import bench_tasks, peers
from .bench_tasks import Problem, Row
from .data import digits
from .directions import random_direction
from .dynamics import gd
from .hessian import HessianOperator, hvp, loss_and_gradient
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


def problem(name: str, widths: list[int], n: int, *, steps: int, lr: float = 0.1) -> Problem:
    """A tanh MLP ``widths`` on ``n`` digits (inputs upsampled to 28 x 28 when ``widths[0]`` is
    784), in float64, after ``steps`` of GD from its seeded initialization (a trained-ish point)."""
    X, Y = digits(n, seed=0)
    if widths[0] == 28 * 28:
        X = torch.nn.functional.interpolate(X.reshape(n, 1, 8, 8), size=(28, 28), mode="bilinear",
                                            align_corners=False).reshape(n, -1)
    model = mlp(widths, seed=0)
    loss_fn, theta = flatten(model, X, Y)
    if steps:
        theta = gd(loss_fn, theta, lr, steps, show_progress=False).theta
    return Problem(name, model, X, Y, loss_fn, theta)


#: (name, widths, samples, GD steps to the benchmark's point) of the full run and of --smoke.
FULL = [("digits MLP 64-32-10", [64, 32, 10], 1000, 200), ("digits MLP 64-64-10", [64, 64, 10], 1000, 200),
        ("28x28 MLP 784-64-10", [784, 64, 10], 256, 100), ("28x28 MLP 784-256-256-10", [784, 256, 256, 10], 256, 100)]
SMOKE = [("smoke 64-8-10", [64, 8, 10], 100, 5), ("smoke 784-8-10", [784, 8, 10], 32, 5)]


def run(smoke: bool = False, use_peers: bool | None = None, repeats: int | None = None) -> dict:
    """Every comparison on every problem; returns the record (machine, versions, settings, rows).

    ``use_peers``: call PyHessian and loss-landscapes (default: where installed, never in smoke
    mode); without them PyHessian's algorithms run re-implemented and loss-landscapes is skipped.
    """
    if use_peers is None:
        use_peers = not smoke and peers.version("pyhessian") is not None and peers.version("loss-landscapes") is not None
    repeats = repeats or (1 if smoke else 3)
    rows: list[Row] = []
    for name, widths, n, steps in SMOKE if smoke else FULL:
        p = problem(name, widths, n, steps=steps)
        big = p.d > 100_000
        _log(f"{name}: d = {p.d}")
        rows += bench_tasks.top5(p, repeats, use_peers)
        rows += bench_tasks.tracking(p, 2 if smoke else (4 if big else 10), use_peers)
        probes, lanczos_steps = (2, 5) if smoke else ((3, 30) if big else (10, 50))
        rows += bench_tasks.density_and_trace(p, probes, lanczos_steps, 2 if big else repeats, exact=p.d <= 5000,
                                              use_peers=use_peers)
        rows += bench_tasks.slices(p, 11 if smoke else 51, 2 if big else repeats, use_peers)
        rows += bench_tasks.filter_biases(p, use_peers)
    return {"machine": machine(), "versions": versions(), "smoke": smoke, "peers_called": use_peers,
            "repeats": repeats, "torch_threads": torch.get_num_threads(), "rows": rows, "targets": targets(rows)}


def _log(message: str) -> None:
    if not os.environ.get("MSLIB_QUIET"):
        print(message, flush=True)


def machine() -> dict[str, object]:
    """Where the numbers were measured."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def versions() -> dict[str, str | None]:
    """Versions of mslib, torch and the peers (None where a peer is not installed)."""
    from importlib.metadata import version

    return {"mslib": version("mslib"), "torch": torch.__version__, "scipy": version("scipy"),
            "pyhessian": peers.version("pyhessian"), "loss-landscapes": peers.version("loss-landscapes")}


def _get(rows: list[Row], problem: str, task: str, prefix: str) -> Row | None:
    return next((r for r in rows if r["problem"] == problem and r["task"].startswith(task)
                 and str(r["method"]).startswith(prefix)), None)


def targets(rows: list[Row]) -> list[dict[str, object]]:
    """Each target of the issue on each problem: the measured ratio, the goal and whether it is met."""
    out = []

    def add(problem, target, measured, goal):
        out.append({"problem": problem, "target": target, "measured": measured, "goal": goal, "met": measured >= goal})

    for problem in dict.fromkeys(r["problem"] for r in rows):
        peer = _get(rows, problem, "top-5", "PyHessian")
        loose, default = _get(rows, problem, "top-5", "mslib Lanczos, tol"), _get(rows, problem, "top-5", "mslib ARPACK, default")
        add(problem, "top-5 at PyHessian's accuracy: x faster", peer["seconds"] / loose["seconds"], 3.0)
        add(problem, "top-5 at mslib's default tol: x more accurate", peer["rel_error"] / max(default["rel_error"], 1e-16), 1000.0)
        add(problem, "top-5 at mslib's default tol: x faster (no slower)", peer["seconds"] / default["seconds"], 1.0)
        warm, cold = _get(rows, problem, "sharpness", "mslib warm"), _get(rows, problem, "sharpness", "mslib cold")
        peer_cold = _get(rows, problem, "sharpness", "PyHessian")
        add(problem, "tracking: cold / warm HVPs", cold["hvps"] / warm["hvps"], 2.0)
        add(problem, "tracking: PyHessian cold / warm HVPs", peer_cold["hvps"] / warm["hvps"], 2.0)
        for task, prefix in (("SLQ", "PyHessian"), ("Hutchinson", "PyHessian")):
            ours, theirs = _get(rows, problem, task, "mslib"), _get(rows, problem, task, prefix)
            add(problem, f"{task}: x faster", theirs["seconds"] / ours["seconds"], 1.0)
        fast = _get(rows, problem, "51x51", "mslib slice_2d (first") or _get(rows, problem, "11x11", "mslib slice_2d (first")
        ll = _get(rows, problem, "51x51", "loss-landscapes")
        if ll is not None:
            add(problem, "slice: x faster than loss-landscapes", ll["seconds"] / fast["seconds"],
                2.0 if _get(rows, problem, "51x51", "forward")["d"] > 100_000 else 1.0)
        add(problem, "slice: x the forward-pass limit", fast["x_forward_limit"], 1.1)
    return out


def report(record: dict) -> str:
    """The record as plain-text tables: one line per measurement, then the targets."""
    lines = [f"mslib benchmark ({'smoke' if record['smoke'] else 'full'}; peers called: {record['peers_called']}; "
             f"medians of {record['repeats']}; torch threads {record['torch_threads']}); {record['versions']}"]
    problem = None
    for r in record["rows"]:
        if r["problem"] != problem:
            problem = r["problem"]
            lines.append(f"\n{problem} (d = {r['d']})")
        fields = [f"{r['task']:<32} {r['method']:<42}"]
        if "seconds" in r:
            fields.append(f"{1e3 * r['seconds']:10.1f} ms")
        for key, fmt in (("hvps", "{:5.0f} HVPs"), ("rel_error", "rel.err {:.1e}"), ("x_forward_limit", "{:.2f} x limit"),
                         ("m1", "m1 {:.4g}"), ("m2", "m2 {:.4g}"), ("trace", "tr {:.4g}"), ("exact_m1", "(exact m1 {:.4g}"),
                         ("exact_m2", "m2 {:.4g}"), ("exact_trace", "tr {:.4g})"), ("rows_match_theta", "rows match theta: {}"),
                         ("biases_equal_abs_theta", "biases = |b|: {}")):
            if key in r and not (key.startswith("exact") and r["task"] not in ("SLQ density", "Hutchinson trace")):
                fields.append(fmt.format(r[key]))
        lines.append("  " + "  ".join(fields))
    lines.append("\ntargets:")
    for t in record["targets"]:
        lines.append(f"  {t['problem']:<26} {t['target']:<52} {t['measured']:10.2f}  (goal >= {t['goal']:g})  "
                     f"{'met' if t['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m mslib.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds, no peers")
    parser.add_argument("--out", help="write the record as JSON to this file")
    parser.add_argument("--repeats", type=int, help="repeats of each measurement (default 3; 1 in smoke mode)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: comparable, and kind to a shared machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = run(smoke=args.smoke, repeats=args.repeats)
    print(report(record))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=1)
    return record


if __name__ == "__main__":
    main()
