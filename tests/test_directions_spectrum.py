import pytest
import torch

import mslib


@pytest.fixture(scope="module")
def net():
    X, Y = mslib.digits(100, seed=3)
    loss_fn, theta0 = mslib.flatten(mslib.mlp([64, 5, 10], seed=3), X, Y)
    return loss_fn, mslib.gd(loss_fn, theta0, 0.2, 100).theta


def test_parameter_mask_and_masked_random_direction(net):
    loss_fn, theta = net
    mask = mslib.parameter_mask(loss_fn, ["0.weight"])
    assert int(mask.sum()) == 64 * 5 and bool(mask[: 64 * 5].all())
    v = mslib.random_direction(theta, seed=1, mask=mask)
    assert float(v.norm()) == pytest.approx(1.0) and bool((v[~mask] == 0).all())
    with pytest.raises(ValueError, match="not parameters"):
        mslib.parameter_mask(loss_fn, ["9.weight"])
    with pytest.raises(ValueError, match="at least one"):
        mslib.random_direction(theta, mask=torch.zeros_like(mask))
    with pytest.raises(ValueError, match="boolean"):
        mslib.random_direction(theta, mask=mask.double())


def test_filter_normalized_direction_matches_filter_norms(net):
    loss_fn, theta = net
    d = mslib.filter_normalized_direction(loss_fn, theta, seed=2)
    for name, (dp, wp) in zip(loss_fn.names, zip(loss_fn.unflatten(d).values(), loss_fn.unflatten(theta).values())):
        if dp.ndim == 2:
            assert torch.allclose(dp.norm(dim=1), wp.norm(dim=1), rtol=1e-12), name
        else:
            assert bool((dp == 0).all()), f"bias {name} must get a zero direction"
    assert torch.equal(d, mslib.filter_normalized_direction(loss_fn, theta, seed=2))
    with pytest.raises(TypeError, match="FlatLoss"):
        mslib.filter_normalized_direction(lambda th: th.sum(), theta)


def test_spectral_density_moments_match_the_dense_spectrum():
    """The quadrature is exact for moments up to 2 steps - 1; the error is the probes' noise. For
    this network (d = 310) one Rademacher probe estimates the 4th moment with a relative standard
    deviation of 0.34, so 500 probes put 5% beyond three standard deviations."""
    X, Y = mslib.digits(300, seed=3)
    loss_fn, theta0 = mslib.flatten(mslib.mlp([64, 4, 10], seed=3), X, Y)
    theta = mslib.minimize(loss_fn, theta0)
    eigenvalues = torch.linalg.eigvalsh(mslib.dense_hessian(loss_fn, theta))
    density = mslib.spectral_density(loss_fn, theta, probes=500, steps=10, seed=0)
    assert density.nodes.shape == density.weights.shape == (500, 10)
    assert torch.allclose(density.weights.sum(1), torch.ones(500, dtype=torch.float64))
    for k in (1, 2, 3, 4):
        exact = float((eigenvalues**k).mean())
        assert density.moment(k) == pytest.approx(exact, rel=0.05), k
    assert float(density.nodes.max()) <= float(eigenvalues.max()) * (1 + 1e-8)
    assert float(density.nodes.min()) >= float(eigenvalues.min()) - 1e-8 * float(eigenvalues.abs().max())
    assert density.quantile(1.0) == pytest.approx(float(density.nodes.max()))
    assert density.quantile(0.0) <= density.quantile(0.5) <= density.quantile(0.9)
    grid = torch.linspace(float(eigenvalues.min()) - 1, float(eigenvalues.max()) + 1, 4001, dtype=torch.float64)
    area = float(torch.trapezoid(density.smoothed(grid, 0.05), grid))
    assert area == pytest.approx(1.0, rel=1e-3)


def test_spectral_density_is_exact_on_a_small_quadratic():
    eigenvalues = torch.tensor([5.0, 1.0, 0.1, 0.01], dtype=torch.float64)
    loss_fn = mslib.toys.quadratic(torch.diag(eigenvalues))
    density = mslib.spectral_density(loss_fn, torch.zeros(4, dtype=torch.float64), probes=3, steps=10)
    # Rademacher probes see every eigenvalue with weight exactly 1/4, and 4 steps span the space
    assert density.moment(3) == pytest.approx(float((eigenvalues**3).mean()), rel=1e-10)
    assert density.mass_above(0.05) == pytest.approx(0.75, rel=1e-10)


def test_spectral_density_rejects_bad_input(net):
    loss_fn, theta = net
    with pytest.raises(ValueError, match="probes"):
        mslib.spectral_density(loss_fn, theta, probes=0)
    with pytest.raises(ValueError, match="q must lie"):
        mslib.spectral_density(loss_fn, theta, probes=1, steps=3).quantile(1.5)


def test_filter_normalization_joins_biases_to_their_filters():
    X, Y = mslib.digits(50, seed=0)
    loss_fn, theta = mslib.flatten(mslib.mlp([64, 8, 10], seed=1), X, Y)
    zero = loss_fn.unflatten(mslib.filter_normalized_direction(loss_fn, theta, seed=2))
    joined = loss_fn.unflatten(mslib.filter_normalized_direction(loss_fn, theta, seed=2, bias="filter"))
    w = loss_fn.unflatten(theta)
    for layer in ("0", "2"):
        assert torch.count_nonzero(zero[f"{layer}.bias"]) == 0
        rows = torch.cat([joined[f"{layer}.weight"], joined[f"{layer}.bias"][:, None]], dim=1)
        ref = torch.cat([w[f"{layer}.weight"], w[f"{layer}.bias"][:, None]], dim=1)
        assert torch.allclose(rows.norm(dim=1), ref.norm(dim=1), rtol=1e-12)
        assert torch.count_nonzero(joined[f"{layer}.bias"]) == joined[f"{layer}.bias"].numel()
    with pytest.raises(ValueError, match="bias"):
        mslib.filter_normalized_direction(loss_fn, theta, bias="elementwise")


def test_hutchinson_trace_is_unbiased_on_a_quadratic():
    A = torch.diag(torch.arange(1.0, 9.0, dtype=torch.float64))
    estimate, samples = mslib.hutchinson_trace(lambda th: 0.5 * th @ A @ th, torch.zeros(8, dtype=torch.float64), probes=3)
    assert samples.shape == (3,) and abs(estimate - 36.0) < 1e-12  # v^T D v = tr D for Rademacher v
