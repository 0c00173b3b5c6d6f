import math

import pytest
import torch

import mslib


def test_slice_1d_equals_pointwise_evaluation(small_net):
    loss_fn, theta = small_net
    direction = mslib.random_direction(theta, seed=3)
    ts = torch.linspace(-2, 2, 37, dtype=torch.float64)
    batched = mslib.slice_1d(loss_fn, theta, direction, ts, chunk_size=8)
    pointwise = torch.stack([loss_fn(theta + t * direction) for t in ts])
    assert torch.allclose(batched, pointwise, rtol=1e-12, atol=0)


def test_slice_2d_equals_pointwise_evaluation(small_net):
    loss_fn, theta = small_net
    d1, d2 = mslib.random_direction(theta, seed=1), mslib.random_direction(theta, seed=2)
    ts1, ts2 = [-1.0, 0.0, 0.5], [0.25, 1.5]
    grid = mslib.slice_2d(loss_fn, theta, d1, d2, ts1, ts2, chunk_size=4)
    assert grid.shape == (3, 2)
    for i, s in enumerate(ts1):
        for j, t in enumerate(ts2):
            assert float(grid[i, j]) == pytest.approx(float(loss_fn(theta + s * d1 + t * d2)), rel=1e-12)


def test_random_direction_is_unit_and_seeded():
    theta = torch.zeros(50, dtype=torch.float32)
    a, b = mslib.random_direction(theta, seed=4), mslib.random_direction(theta, seed=4)
    assert torch.equal(a, b) and a.dtype == torch.float32
    assert float(a.norm()) == pytest.approx(1.0, rel=1e-6)
    assert not torch.equal(a, mslib.random_direction(theta, seed=5))


def test_growth_exponent_of_quadratic_and_power_laws():
    ts = torch.logspace(-3, 2, 40, dtype=torch.float64)
    assert torch.allclose(mslib.growth_exponent(ts, 0.5 * 3.0 * ts**2), torch.full_like(ts, 2.0), atol=1e-10)
    for p in (0.5, 1.4, 3.0):
        assert torch.allclose(mslib.growth_exponent(-ts, ts**p), torch.full_like(ts, p), atol=1e-10)
    # sqrt(1+t^2) - 1 has p(t) = t f'(t) / f(t) = t^2 / (sqrt(1+t^2) (sqrt(1+t^2) - 1)): 2 near 0, 1 far away
    ts = torch.logspace(-3, 3, 400, dtype=torch.float64)
    increase = mslib.slice_1d(mslib.toys.sqrt_bowl(), torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), ts)
    root = torch.sqrt(1 + ts**2)
    assert torch.allclose(mslib.growth_exponent(ts, increase), ts**2 / (root * (root - 1)), atol=2e-3)


@pytest.mark.parametrize(
    "ts, values, match",
    [([1.0, 2.0], [1.0, 0.0], "values must all be > 0"), ([1.0, -1.0, 2.0], [1.0, 1.0, 2.0], "strictly monotone"),
     ([0.0, 1.0], [1.0, 1.0], "nonzero"), ([1.0, 2.0], [1.0], "shape"), ([1.0], [1.0], "two points")],
)
def test_growth_exponent_rejects_bad_input(ts, values, match):
    with pytest.raises(ValueError, match=match):
        mslib.growth_exponent(ts, values)


def test_symmetric_increase_and_beyond_linear_remove_the_gradient_term():
    A = torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=torch.float64)
    theta, v = torch.tensor([0.4, -0.2], dtype=torch.float64), torch.tensor([0.6, 0.8], dtype=torch.float64)
    ts = torch.linspace(0.1, 3, 13, dtype=torch.float64)
    loss_fn = mslib.toys.quadratic(A)
    expected = 0.5 * float(v @ A @ v) * ts**2
    assert torch.allclose(mslib.symmetric_increase(loss_fn, theta, v, ts), expected, rtol=1e-12)
    assert torch.allclose(mslib.quadratic_increase(loss_fn, theta, v, ts), expected, rtol=1e-12)
    assert mslib.curvature(loss_fn, theta, 3 * v) == pytest.approx(float(v @ A @ v))
    for t in (ts, -ts):  # off the minimum, removing the linear term leaves exactly t^2/2 v^T A v
        assert torch.allclose(mslib.beyond_linear(loss_fn, theta, v, t), expected, rtol=1e-10)


def test_validity_radius_of_log_cosh():
    # log cosh vs its model t^2/2: relative error (t^2/2 - log cosh t)/(t^2/2) reaches 10% at t = 0.8433
    ts = torch.linspace(0.001, 2, 2000, dtype=torch.float64)
    zero, one = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    increase = mslib.symmetric_increase(mslib.toys.log_cosh(), zero, one, ts)
    model = mslib.quadratic_increase(mslib.toys.log_cosh(), zero, one, ts)
    assert 0.8433 < mslib.validity_radius(ts, increase, model) < 0.8433 + 0.0011
    assert mslib.validity_radius(ts, model, model) == math.inf
    with pytest.raises(ValueError, match="model_increase must be > 0"):
        mslib.validity_radius(ts, increase, -model)


def test_slices_reject_bad_input(small_net):
    loss_fn, theta = small_net
    zero = torch.zeros_like(theta)
    with pytest.raises(ValueError, match="direction must be a nonzero direction"):
        mslib.slice_1d(loss_fn, theta, zero, [0.0, 1.0])
    with pytest.raises(ValueError, match="direction must have 460 entries"):
        mslib.slice_1d(loss_fn, theta, torch.ones(3, dtype=torch.float64), [0.0, 1.0])
    with pytest.raises(ValueError, match="ts"):
        mslib.slice_1d(loss_fn, theta, theta, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="d2 must be a nonzero direction"):
        mslib.slice_2d(loss_fn, theta, theta, zero, [0.0], [1.0])
    with pytest.raises(ValueError, match="chunk_size"):
        mslib.slice_1d(loss_fn, theta, theta, [0.0], chunk_size=0)


def test_windowed_growth_exponent_damps_noise():
    generator = torch.Generator().manual_seed(0)
    ts = torch.logspace(-2, 2, 81, dtype=torch.float64)
    noisy = ts**1.5 * torch.exp(0.05 * torch.randn(81, generator=generator, dtype=torch.float64))
    raw = mslib.growth_exponent(ts, noisy)
    smooth = mslib.growth_exponent(ts, noisy, window=3)
    assert float((smooth - 1.5).abs().max()) < 0.5 * float((raw - 1.5).abs().max())
    assert float((smooth[3:-3] - 1.5).abs().max()) < 0.3
    exact = mslib.growth_exponent(ts, ts**1.5, window=3)
    assert torch.allclose(exact, torch.full_like(ts, 1.5), atol=1e-10)


def test_find_plateaus_between_two_scales():
    # L(t) = mean over two magnitudes r of tanh(r t)^2 (science.md, C8): saturates near t ~ 1/100 at
    # 0.5, then rises toward 1 near t ~ 1
    ts = torch.logspace(-4, 2, 241, dtype=torch.float64)
    values = 0.5 * (torch.tanh(100 * ts) ** 2 + torch.tanh(ts) ** 2)
    plateaus = mslib.find_plateaus(ts, values)
    assert len(plateaus) == 1
    start, end = plateaus[0]
    assert 0.01 < start < 0.05 and 0.2 < end < 0.6, plateaus
    # and its contrast and width are what decide: too shallow or too narrow a dip is not a plateau
    assert mslib.find_plateaus(ts, values, depth=0.5) == []
    assert mslib.find_plateaus(ts, values, min_decades=2.0) == []
    # one scale: the loss saturates once, at the end of the range; that separates nothing
    assert mslib.find_plateaus(ts, torch.tanh(ts) ** 2) == []
    assert mslib.find_plateaus(ts, ts**2) == []
    with pytest.raises(ValueError, match="increase"):
        mslib.find_plateaus(ts.flip(0), values.flip(0))
    with pytest.raises(ValueError, match="log-spaced"):
        mslib.find_plateaus(torch.linspace(0.1, 1, 50, dtype=torch.float64), torch.linspace(0.1, 1, 50) ** 2)


def test_quadratic_radius_and_growth_profile_on_log_cosh():
    zero, one = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    ts = torch.linspace(0.001, 2, 2000, dtype=torch.float64)
    assert 0.8433 < mslib.quadratic_radius(mslib.toys.log_cosh(), zero, one, ts) < 0.8433 + 0.0011
    profile = mslib.growth_profile(mslib.toys.log_cosh(), zero, one, torch.logspace(-3, 3, 121, dtype=torch.float64))
    assert float(profile.exponent[0]) == pytest.approx(2.0, abs=1e-3)
    assert float(profile.exponent[-1]) == pytest.approx(1.0, abs=0.01)  # log cosh t ~ |t|
    assert torch.allclose(profile.model, 0.5 * profile.ts**2)
    assert len(profile.exponent_between(0.001, 0.01)) == 21
    with pytest.raises(ValueError, match="ts must be > 0"):
        mslib.quadratic_radius(mslib.toys.log_cosh(), zero, one, -ts)
