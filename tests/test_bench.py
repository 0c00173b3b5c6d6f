"""The benchmark's accuracy side: mslib agrees with the peers' algorithms (re-implemented in
mslib.peers, and the peers themselves where installed) on small problems; and the benchmark runs
end to end in smoke mode. Timings are never asserted here (python -m mslib.bench reports them)."""

import json

import pytest
import torch

import mslib
from mslib import bench, peers
from mslib.hessian import HessianOperator


@pytest.fixture(scope="module")
def digits_net():
    X, Y = mslib.digits(200, seed=0)
    model = mslib.mlp([64, 12, 10], seed=0)
    loss_fn, theta = mslib.flatten(model, X, Y)
    theta = mslib.gd(loss_fn, theta, 0.1, 50, show_progress=False).theta
    torch.nn.utils.vector_to_parameters(theta.clone(), model.parameters())
    return model, X, Y, loss_fn, theta


def test_power_iteration_agrees_with_lanczos(digits_net):
    _, _, _, loss_fn, theta = digits_net
    reference, _ = mslib.top_eigs(loss_fn, theta, k=3, tol=1e-10)
    values, vectors = peers.power_iteration(HessianOperator(loss_fn, theta), theta.numel(), 3, max_iter=1000, tol=1e-9)
    assert vectors.shape == (theta.numel(), 3)
    assert torch.allclose(torch.tensor(values[:1], dtype=torch.float64), reference[:1], rtol=1e-4)
    assert torch.allclose(torch.sort(torch.tensor(values, dtype=torch.float64), descending=True).values, reference, rtol=1e-2)


def test_pyhessian_style_density_and_mslib_give_the_exact_moments_of_a_diagonal_hessian():
    diagonal = torch.linspace(-1.0, 5.0, 40, dtype=torch.float64)
    loss = lambda th: 0.5 * (diagonal * th**2).sum()  # noqa: E731
    theta = torch.zeros(40, dtype=torch.float64)
    exact = [float(diagonal.mean()), float((diagonal**2).mean())]
    density = mslib.spectral_density(loss, theta, probes=3, steps=10)
    nodes, weights = peers.pyhessian_style_density(HessianOperator(loss, theta), 40, steps=10, probes=3)
    peer = [float((weights * nodes**k).sum(1).mean()) for k in (1, 2)]
    # v^T D^k v = tr D^k / d for every normalized Rademacher v; Gauss quadrature is exact for k <= 2m - 1
    assert [density.moment(1), density.moment(2)] == pytest.approx(exact, rel=1e-6)
    assert peer == pytest.approx(exact, rel=1e-6)


def test_pyhessian_itself_agrees_where_installed(digits_net):
    pytest.importorskip("pyhessian")
    model, X, Y, loss_fn, theta = digits_net
    reference, _ = mslib.top_eigs(loss_fn, theta, k=1, tol=1e-10)
    torch.manual_seed(0)
    h = peers.PyHessian(model, X, Y, bench.Problem.criterion)
    value = h.eigenvalues(top_n=1, maxIter=1000, tol=1e-8)[0]
    h.release()
    assert value == pytest.approx(float(reference[0]), rel=1e-4) and h.products > 1


def test_loss_landscapes_sets_biases_to_their_magnitudes_where_installed(digits_net):
    pytest.importorskip("loss_landscapes")
    model = digits_net[0]
    direction = peers.loss_landscapes_filter_direction(model)
    for d, w in zip(direction, model.parameters()):
        if d.ndim == 1:  # element-wise: not random at all in the biases (mslib: zero, or joined to the filter)
            assert torch.allclose(d, w.detach().abs())


def test_benchmark_smoke_mode_writes_its_record(tmp_path):
    out = tmp_path / "performance.json"
    record = bench.main(["--smoke", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["smoke"] and not saved["peers_called"] and saved["versions"]["torch"] == torch.__version__
    tasks = {r["task"] for r in saved["rows"]}
    assert {"top-5 eigenvalues", "sharpness tracking (per GD step)", "SLQ density", "Hutchinson trace",
            "11x11 slice", "filter normalization"} <= tasks
    top5 = [r for r in record["rows"] if r["task"] == "top-5 eigenvalues"]
    assert all(r["rel_error"] < 1e-6 for r in top5 if r["method"].startswith("mslib ARPACK, default"))
    assert all(r["rel_error"] < 3e-2 for r in top5 if r["method"].startswith("mslib Lanczos, tol 1e-2"))
    assert all(t["measured"] > 0 for t in saved["targets"])
