import math

import pytest
import torch

import mslib

SQRT_BOWL, LOG_COSH = mslib.toys.sqrt_bowl(), mslib.toys.log_cosh()
UNIT_PARABOLA = mslib.toys.quadratic(torch.eye(1, dtype=torch.float64))


@pytest.mark.parametrize("lr", [2.1, 2.5, 3.0, 5.0, 20.0])
def test_orbit_of_sqrt_bowl_has_its_closed_form(lr):
    x_star = mslib.period_two_orbit(SQRT_BOWL, lr)
    assert x_star == pytest.approx(math.sqrt(lr**2 / 4 - 1), rel=1e-12)
    # f''(x*) = (1 + x*^2)^(-3/2) = 8 / lr^3
    assert mslib.orbit_multiplier(SQRT_BOWL, lr, x_star) == pytest.approx(abs(1 - 8 / lr**2), rel=1e-10)


@pytest.mark.parametrize("lr, x_star", [(2.5, 0.8880), (3.0, 1.2878), (5.0, 2.4641)])
def test_orbit_of_log_cosh_solves_tanh_equation(lr, x_star):
    x = mslib.period_two_orbit(LOG_COSH, lr)
    assert x == pytest.approx(x_star, abs=5e-5)
    assert math.tanh(x) / x == pytest.approx(2 / lr, rel=1e-12)


def test_gd_settles_on_the_predicted_orbit_and_no_orbit_below_threshold_or_for_a_parabola():
    for loss_fn in (SQRT_BOWL, LOG_COSH):
        run = mslib.gd(loss_fn, torch.tensor([0.3], dtype=torch.float64), 2.5, 400)
        x_star = mslib.period_two_orbit(loss_fn, 2.5)
        assert abs(abs(float(run.theta[0])) - x_star) < 1e-6
        assert mslib.period_two_orbit(loss_fn, 1.5) is None
    assert mslib.period_two_orbit(UNIT_PARABOLA, 2.5) is None


def test_bifurcation_sweep_matches_orbits_and_marks_divergence():
    lrs, points = mslib.bifurcation(LOG_COSH, [1.5, 2.5, 5.0], 0.3, burn_in=3000, keep=4)
    assert points.shape == (3, 4)
    assert float(points[0].abs().max()) < 1e-12
    for row, lr in zip(points[1:], (2.5, 5.0)):
        assert torch.allclose(row.abs(), torch.full((4,), mslib.period_two_orbit(LOG_COSH, lr), dtype=torch.float64), atol=1e-6)
    _, parabola = mslib.bifurcation(UNIT_PARABOLA, [1.5, 2.5], 0.3, burn_in=200, keep=2)
    assert not torch.isnan(parabola[0]).any() and torch.isnan(parabola[1]).all()
    with pytest.raises(ValueError, match="lrs"):
        mslib.bifurcation(LOG_COSH, [1.0, -1.0], 0.3)


def test_project_gives_coordinates_along_directions():
    thetas = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    e = torch.eye(2, dtype=torch.float64)
    assert torch.equal(mslib.project(thetas, e), thetas)
    assert torch.equal(mslib.project(thetas, e[:, 0], origin=torch.tensor([1.0, 0.0], dtype=torch.float64)),
                       torch.tensor([0.0, 2.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="directions"):
        mslib.project(thetas, torch.ones(3, dtype=torch.float64))


def test_orbit_functions_reject_bad_input():
    with pytest.raises(ValueError, match="lr"):
        mslib.period_two_orbit(LOG_COSH, -1.0)
    with pytest.raises(TypeError, match="loss_fn"):
        mslib.period_two_orbit(3.0, 2.5)


def test_sharpening_ramp_settles_at_the_predicted_point():
    ramp = mslib.toys.sharpening_ramp(0.01)
    run = mslib.gd(ramp, torch.tensor([0.1, 3.0], dtype=torch.float64), 0.5, 3000, keep_iterates=True)
    x, y = run.thetas[-1].abs()
    assert float(y) == pytest.approx(4 * 1.01, abs=1e-6) and float(x) == pytest.approx(math.sqrt(0.0201), abs=1e-6)
    sharpness = mslib.sharpness_along(ramp, run.thetas)
    assert sharpness.shape == (3001,)
    assert float(sharpness[-1]) == pytest.approx(mslib.sharpness(ramp, run.thetas[-1])[0], rel=1e-12)
    assert float(sharpness[-1]) == pytest.approx(3.926, abs=1e-3)
    with pytest.raises(ValueError, match="d must be below"):
        mslib.sharpness_along(ramp, torch.zeros(2, 40, dtype=torch.float64))
