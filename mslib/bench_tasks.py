"""The benchmark's comparisons, one function per task, each on one ``Problem``: mslib against
PyHessian and loss-landscapes (or their faithful re-implementations in ``peers``), timed in turns.

Every function returns a list of rows (dicts): ``task``, ``method``, ``seconds`` (median over
repeats), and where they apply ``hvps`` (median Hessian-vector products), ``rel_error`` (against a
converged reference) and task-specific values. ``python -m mslib.bench`` runs them all.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from . import peers
from .directions import filter_normalized_direction
from .hessian import HessianOperator, top_eigs
from .landscape import slice_2d
from .nets import FlatLoss
from .spectrum import hutchinson_trace, spectral_density

Row = dict[str, object]


@dataclass
class Problem:
    """A network, its data and a point: ``loss_fn(theta)`` and the same as ``criterion(model(X), Y)``
    with the model's parameters set to ``theta`` (what the peers take)."""

    name: str
    model: nn.Sequential
    X: Tensor
    Y: Tensor
    loss_fn: FlatLoss
    theta: Tensor

    @property
    def d(self) -> int:
        return self.theta.numel()

    @staticmethod
    def criterion(out: Tensor, Y: Tensor) -> Tensor:
        """mslib's ``mse`` loss, ``1/(2n) sum_i ||f(x_i) - y_i||^2``, as a peer's criterion."""
        return 0.5 * ((out - Y) ** 2).sum(dim=-1).mean()

    def set_model(self, theta: Tensor) -> nn.Sequential:
        """The model with its parameters set to ``theta`` (d,)."""
        nn.utils.vector_to_parameters(theta.detach().clone(), self.model.parameters())
        return self.model


def timed(f: Callable[[], object]) -> tuple[float, object]:
    """Seconds of one call of ``f`` and its result."""
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def rel_error(values, reference: Tensor) -> float:
    """Largest relative error of ``values`` sorted descending against ``reference`` (descending)."""
    v = torch.sort(torch.as_tensor(list(values), dtype=torch.float64), descending=True).values
    return float(((v - reference) / reference.abs()).abs().max())


def _median_rows(samples: dict[str, list[dict]], task: str, **common) -> list[Row]:
    """One row per method: the median of each numeric field over its repeats."""
    rows = []
    for method, runs in samples.items():
        row: Row = {"task": task, "method": method, **common}
        for key in runs[0]:
            row[key] = statistics.median(r[key] for r in runs)
        rows.append(row)
    return rows


#: The top-5 methods of mslib: (row name, ``top_eigs`` keywords).
TOP5_METHODS = {
    "mslib Lanczos, tol 1e-2 (no restarts)": {"tol": 1e-2, "method": "lanczos"},
    "mslib ARPACK, tol 1e-2, krylov 12": {"tol": 1e-2, "krylov": 12},
    "mslib ARPACK, default tol 1e-4": {},
}


def top5(p: Problem, repeats: int, use_peers: bool) -> list[Row]:
    """Top-5 eigenvalues: mslib at a loose tolerance (PyHessian's accuracy; Lanczos without restarts,
    and ARPACK) and ARPACK at its default, against PyHessian's power iteration at its defaults (max
    100 steps, tol 1e-3)."""
    reference, _ = top_eigs(p.loss_fn, p.theta, k=5, tol=1e-10)
    samples: dict[str, list[dict]] = {name: [] for name in [*TOP5_METHODS, "PyHessian power iteration, defaults"]}
    for rep in range(repeats):
        for method in samples:
            if method in TOP5_METHODS:
                kwargs = TOP5_METHODS[method]
                seconds, (values, _), hvps = _counted(lambda: top_eigs(p.loss_fn, p.theta, k=5, seed=rep, **kwargs))
            else:
                seconds, (values, hvps) = timed(lambda: _pyhessian_top(p, 5, rep, use_peers))
            samples[method].append({"seconds": seconds, "hvps": hvps, "rel_error": rel_error(values, reference)})
    return _median_rows(samples, "top-5 eigenvalues", problem=p.name, d=p.d, reference=reference.tolist())


def _pyhessian_top(p: Problem, top_n: int, seed: int, use_peers: bool) -> tuple[list[float], int]:
    """PyHessian's top eigenvalues (its object built on the model at ``p.theta``), or power
    iteration re-implemented on mslib's operator where the peer is not used; and the HVP count."""
    if use_peers:
        torch.manual_seed(seed)
        h = peers.PyHessian(p.set_model(p.theta), p.X, p.Y, p.criterion)
        values = h.eigenvalues(top_n=top_n)
        h.release()
        return values, h.products
    op = HessianOperator(p.loss_fn, p.theta)
    values, _ = peers.power_iteration(op, p.d, top_n, seed=seed)
    return values, op.products


@contextlib.contextmanager
def counting_products() -> Iterator[Callable[[], int]]:
    """Counts the ``HessianOperator`` products made inside the block: yields a callable that
    returns the count so far."""
    count = [0]
    original = HessianOperator.matvec

    def counted(op: HessianOperator, v: Tensor) -> Tensor:
        count[0] += 1
        return original(op, v)

    HessianOperator.matvec = counted
    try:
        yield lambda: count[0]
    finally:
        HessianOperator.matvec = original


def _counted(f: Callable[[], object]) -> tuple[float, object, int]:
    """Seconds of one call of ``f``, its result, and the Hessian-vector products it made."""
    with counting_products() as count:
        seconds, result = timed(f)
    return seconds, result, count()


def tracking(p: Problem, steps: int, use_peers: bool) -> list[Row]:
    """Sharpness after every step of GD (step size 1.5 / S): HVPs per measurement of Lanczos warm
    started from the previous eigenvector (stopping at ARPACK's residual test), cold ARPACK at the same
    tolerance, and PyHessian cold (top-1 at its defaults)."""
    from .hessian import loss_and_gradient, sharpness

    s0, vector = sharpness(p.loss_fn, p.theta)
    lr, theta = 1.5 / s0, p.theta.clone()
    samples: dict[str, list[dict]] = {"mslib warm (early-stopping Lanczos)": [], "mslib cold (ARPACK)": [],
                                      "PyHessian cold, defaults": []}
    for k in range(steps):
        theta = theta - lr * loss_and_gradient(p.loss_fn, theta)[1]
        seconds, (s_warm, vector), hvps = _counted(lambda: sharpness(p.loss_fn, theta, v0=vector))
        samples["mslib warm (early-stopping Lanczos)"].append({"seconds": seconds, "hvps": hvps, "sharpness": s_warm})
        seconds, (s_cold, _), hvps = _counted(lambda: sharpness(p.loss_fn, theta))
        samples["mslib cold (ARPACK)"].append({"seconds": seconds, "hvps": hvps, "sharpness": s_cold})
        step_problem = Problem(p.name, p.model, p.X, p.Y, p.loss_fn, theta)
        seconds, (values, hvps) = timed(lambda: _pyhessian_top(step_problem, 1, k, use_peers))
        samples["PyHessian cold, defaults"].append({"seconds": seconds, "hvps": hvps, "sharpness": values[0]})
    return _median_rows(samples, "sharpness tracking (per GD step)", problem=p.name, d=p.d, steps=steps)


def density_and_trace(p: Problem, probes: int, lanczos_steps: int, repeats: int, exact: bool, use_peers: bool) -> list[Row]:
    """SLQ with the same probes and Lanczos steps (mslib against PyHessian's loop re-implemented,
    as its own ``density`` cannot run on torch 2.x), and Hutchinson with the number of probes
    PyHessian's ``trace`` took to converge. Moments ``tr H / d`` and ``tr H^2 / d`` (and the trace)
    against the exact values from the dense Hessian where ``exact``."""
    truth: dict[str, float] = {}
    if exact:
        H = HessianOperator(p.loss_fn, p.theta).dense()
        truth = {"m1": float(torch.trace(H)) / p.d, "m2": float((H * H).sum()) / p.d, "trace": float(torch.trace(H))}
        del H
    slq: dict[str, list[dict]] = {"mslib spectral_density": [], "PyHessian density loop (re-implemented)": []}
    hutch: dict[str, list[dict]] = {"mslib hutchinson_trace": [], "PyHessian trace, defaults": []}
    for rep in range(repeats):
        seconds, dens = timed(lambda: spectral_density(p.loss_fn, p.theta, probes=probes, steps=lanczos_steps, seed=rep))
        slq["mslib spectral_density"].append({"seconds": seconds, "hvps": probes * lanczos_steps,
                                             "m1": dens.moment(1), "m2": dens.moment(2)})

        def peer_density():
            op = HessianOperator(p.loss_fn, p.theta)
            return peers.pyhessian_style_density(op, p.d, steps=lanczos_steps, probes=probes, seed=rep)

        seconds, (nodes, weights) = timed(peer_density)
        slq["PyHessian density loop (re-implemented)"].append(
            {"seconds": seconds, "hvps": probes * lanczos_steps, "m1": float((weights * nodes).sum(1).mean()),
             "m2": float((weights * nodes**2).sum(1).mean())})
        seconds, (samples, n) = timed(lambda: _pyhessian_trace(p, rep, use_peers))
        hutch["PyHessian trace, defaults"].append({"seconds": seconds, "hvps": n, "trace": float(samples.mean())})
        seconds, (estimate, _) = timed(lambda: hutchinson_trace(p.loss_fn, p.theta, probes=n, seed=rep))
        hutch["mslib hutchinson_trace"].append({"seconds": seconds, "hvps": n, "trace": estimate})
    rows = _median_rows(slq, "SLQ density", problem=p.name, d=p.d, probes=probes, lanczos_steps=lanczos_steps)
    rows += _median_rows(hutch, "Hutchinson trace", problem=p.name, d=p.d)
    for row in rows:
        row.update({f"exact_{key}": value for key, value in truth.items()})
    return rows


def _pyhessian_trace(p: Problem, seed: int, use_peers: bool) -> tuple[Tensor, int]:
    """PyHessian's Hutchinson samples at its defaults (or the same loop on mslib's operator)."""
    if use_peers:
        torch.manual_seed(seed)
        h = peers.PyHessian(p.set_model(p.theta), p.X, p.Y, p.criterion)
        samples = h.trace()
        h.release()
        return torch.tensor(samples), len(samples)
    _, samples = hutchinson_trace(p.loss_fn, p.theta, probes=10, seed=seed)
    return samples, 10


def slices(p: Problem, points: int, repeats: int, use_peers: bool) -> list[Row]:
    """A ``points`` x ``points`` slice over the plane of two filter-normalized directions: mslib
    (first-layer fast path, and the generic vmapped path) against loss-landscapes' ``random_plane``,
    and the forward-pass limit (one full-batch forward per point, timed alone)."""
    d1 = filter_normalized_direction(p.loss_fn, p.theta, seed=1)
    d2 = filter_normalized_direction(p.loss_fn, p.theta, seed=2)
    ts = torch.linspace(-1, 1, points, dtype=torch.float64)
    generic = lambda theta: p.loss_fn(theta)  # noqa: E731  (not a FlatLoss: the generic path)
    methods: dict[str, Callable[[], object]] = {
        "mslib slice_2d (first-layer fast path)": lambda: slice_2d(p.loss_fn, p.theta, d1, d2, ts, ts),
        "mslib slice_2d (generic vmap)": lambda: slice_2d(generic, p.theta, d1, d2, ts, ts),
    }
    if use_peers:
        model = p.set_model(p.theta)
        methods["loss-landscapes random_plane"] = lambda: peers.loss_landscapes_plane(model, p.X, p.Y, p.criterion,
                                                                                      steps=points)
    samples: dict[str, list[dict]] = {name: [] for name in methods}
    samples["forward-pass limit"] = []
    for _ in range(repeats):
        with torch.no_grad():  # the limit is timed in each repeat, in turn with the methods
            limit = points**2 * statistics.median(timed(lambda: p.loss_fn(p.theta))[0] for _ in range(30))
        samples["forward-pass limit"].append({"seconds": limit, "x_forward_limit": 1.0})
        for name, f in methods.items():
            seconds, _ = timed(f)
            samples[name].append({"seconds": seconds, "x_forward_limit": limit / seconds})
    return _median_rows(samples, f"{points}x{points} slice", problem=p.name, d=p.d)


def filter_biases(p: Problem, use_peers: bool) -> list[Row]:
    """How biases are treated by filter normalization: mslib's ``bias="filter"`` rows ``[W_i, b_i]``
    have ``theta``'s row norms; loss-landscapes sets every bias entry to ``|b_i|`` (not random)."""
    direction = p.loss_fn.unflatten(filter_normalized_direction(p.loss_fn, p.theta, seed=1, bias="filter"))
    weights = p.loss_fn.unflatten(p.theta)
    rows_ok = all(
        torch.allclose(torch.cat([direction[n], direction[n[:-6] + "bias"][:, None]], 1).norm(dim=1),
                       torch.cat([weights[n], weights[n[:-6] + "bias"][:, None]], 1).norm(dim=1), rtol=1e-10)
        for n in direction if n.endswith("weight"))
    row: Row = {"task": "filter normalization", "method": "mslib bias='filter'", "problem": p.name, "d": p.d,
                "rows_match_theta": rows_ok}
    result = [row]
    if use_peers:
        ll = peers.loss_landscapes_filter_direction(p.set_model(p.theta))
        biases = [(b, w) for b, w in zip(ll, p.model.parameters()) if b.ndim == 1]
        result.append({"task": "filter normalization", "method": "loss-landscapes filter", "problem": p.name, "d": p.d,
                       "biases_equal_abs_theta": all(torch.allclose(b, w.detach().abs()) for b, w in biases)})
    return result
