"""Per-sample saturation (the origin chapter's mechanism), per-sample losses and restricted losses."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import mslib  # noqa: E402
from mslib import frames, saturation, widgets  # noqa: E402
from mslib.nets import Restricted  # noqa: E402


def small_network(magnitudes, **kwargs):
    X = mslib.on_sphere(magnitudes, 4, seed=0)
    model, Y, start = mslib.teacher_student(X, 6, seed=1, **kwargs)
    loss_fn, theta = mslib.flatten(model, X, Y)
    return loss_fn, theta, start


def test_mixture_loss_is_the_mean_of_the_profile_and_grows_like_alpha():
    ts = torch.tensor([0.5, 2.0], dtype=torch.float64)
    r = torch.tensor([1.0, 3.0], dtype=torch.float64)
    expected = 0.5 * (torch.tanh(ts) ** 2 + torch.tanh(3 * ts) ** 2)
    assert torch.allclose(saturation.mixture_loss(ts, r), expected)
    assert torch.allclose(saturation.mixture_loss(ts, r, g="quadratic"), 0.5 * (ts**2 + 9 * ts**2))
    r = mslib.power_law_magnitudes(20000, 1.0, seed=0)
    grid = torch.logspace(-3, -1, 21, dtype=torch.float64)
    slope = mslib.growth_exponent(grid, saturation.mixture_loss(grid, r)).mean()
    assert float(slope) == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match="g must be one of"):
        saturation.mixture_loss(ts, r, g="cubic")


def test_half_saturation_interpolates_in_log_t():
    ts = torch.logspace(-3, 3, 61, dtype=torch.float64)
    assert saturation.half_saturation(ts, torch.tanh(ts / 0.7) ** 2) == pytest.approx(0.7 * 0.8814, rel=0.02)
    with pytest.raises(ValueError, match="start the grid lower"):
        saturation.half_saturation(ts, torch.ones_like(ts))
    with pytest.raises(ValueError, match="values must have the shape"):
        saturation.half_saturation(ts, ts[:-1])


def test_preactivation_rates_and_intermediate_range():
    r = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)
    loss_fn, theta, _ = small_network(r)
    direction = mslib.random_direction(theta, seed=0)
    rates = saturation.preactivation_rates(loss_fn, direction)
    moves = loss_fn.unflatten(direction)
    expected = (loss_fn.X @ moves["0.weight"].T + moves["0.bias"]).abs().max(dim=1).values
    assert torch.allclose(rates, expected)
    assert saturation.intermediate_range(torch.tensor([1.0, 1e4])) == pytest.approx((1e-3, 0.1))
    with pytest.raises(ValueError, match="too few scales"):
        saturation.intermediate_range(torch.tensor([1.0, 10.0]))
    with pytest.raises(TypeError, match="loss_fn must be a FlatLoss"):
        saturation.preactivation_rates(lambda th: th.sum(), direction)


def test_sample_losses_average_to_the_loss_and_each_sample_saturates_at_its_own_scale():
    r = mslib.cluster_magnitudes(200, [1.0, 100.0])
    loss_fn, theta, start = small_network(r)
    assert torch.allclose(loss_fn.sample_losses(start).mean(), loss_fn(start))
    v = mslib.random_direction(theta, seed=2, mask=mslib.parameter_mask(loss_fn, ["0.weight"]))
    ts = torch.logspace(-5, 4, 91, dtype=torch.float64)
    per_sample = mslib.symmetric_increase(loss_fn.sample_losses, theta, v, ts)
    assert per_sample.shape == (91, 200)
    small = saturation.half_saturation(ts, per_sample[:, r == 1.0].mean(dim=1))
    large = saturation.half_saturation(ts, per_sample[:, r == 100.0].mean(dim=1))
    assert small / large == pytest.approx(100, rel=0.3)


def test_restricted_loss_trains_a_subset_and_validates_its_mask():
    loss_fn, theta, start = small_network(torch.ones(50, dtype=torch.float64))
    mask = mslib.parameter_mask(loss_fn, ["0.weight", "0.bias"])
    restricted = Restricted(loss_fn, theta, mask)
    sub = restricted.part(start)
    assert sub.shape == (int(mask.sum()),)
    full = restricted.embed(sub)
    assert torch.equal(full[mask], sub) and torch.equal(full[~mask], theta[~mask])
    assert torch.allclose(restricted(sub), loss_fn(full))
    grad_full = mslib.loss_and_gradient(loss_fn, full)[1]
    assert torch.allclose(mslib.loss_and_gradient(restricted, sub)[1], grad_full[mask])
    assert torch.allclose(mslib.slice_1d(restricted, sub, torch.ones_like(sub), [0.0, 0.1])[0], restricted(sub))
    with pytest.raises(ValueError, match="mask must be a boolean"):
        Restricted(loss_fn, theta, mask.double())
    with pytest.raises(ValueError, match="at least one"):
        Restricted(loss_fn, theta, torch.zeros_like(mask))


def test_teacher_student_with_relu_labels_with_relu():
    X = mslib.on_sphere(torch.ones(20, dtype=torch.float64), 3, seed=0)
    model, Y, _ = mslib.teacher_student(X, 4, activation="relu")
    assert isinstance(model[1], torch.nn.ReLU)
    with pytest.raises(ValueError, match="activation"):
        mslib.teacher_student(X, 4, activation="swish")


def test_scale_explorer_frame_draws_every_setting_and_picks_the_nearest():
    ts = torch.logspace(-3, 1, 21, dtype=torch.float64)
    toy = lambda theta: torch.tanh(theta).pow(2).sum()  # noqa: E731
    profiles = {a: mslib.growth_profile(toy, torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64) * a, ts)
                for a in (1.0, 10.0)}
    frame = frames.ScaleExplorerFrame(profiles, title=lambda a: f"a = {a}", level=lambda a: 1.0, scales=lambda a: [1 / a])
    fig = plt.figure()
    frame.setup(fig)
    for value in (0.01, 3.5, 1e6):
        frame.update(a=value)
        assert frame.suptitle.get_text() == ("a = 1.0" if value < 3.2 else "a = 10.0")
        assert widgets.png_bytes(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="profiles must not be empty"):
        frames.ScaleExplorerFrame({}, title=str)


def test_magnitude_network_and_intermediate_exponent_follow_alpha():
    r = mslib.power_law_magnitudes(1000, 1.0, seed=1)
    loss_fn, theta, start = saturation.magnitude_network(r, seed=2)
    assert float(loss_fn(theta)) == 0.0 and torch.allclose(loss_fn.X.norm(dim=1), r)
    assert float(loss_fn(start)) > 0
    v = mslib.random_direction(theta, seed=4, mask=mslib.parameter_mask(loss_fn, ["0.weight"]))
    p = saturation.intermediate_exponent(loss_fn, theta, v, torch.logspace(-7, 1, 81, dtype=torch.float64))
    assert p == pytest.approx(1.0, abs=0.2)
    with pytest.raises(ValueError, match="no point in the intermediate range"):
        saturation.intermediate_exponent(loss_fn, theta, v, torch.logspace(-9, -8, 5, dtype=torch.float64))
