import math

import pytest
import torch

import mslib

A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
EIGVALS, EIGVECS = torch.linalg.eigh(A)
LAMBDA_MAX = float(EIGVALS[-1])


def test_gd_on_quadratic_multiplies_each_eigen_error_by_one_minus_lr_lambda():
    theta0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    lr, steps = 0.3, 25
    run = mslib.gd(mslib.toys.quadratic(A), theta0, lr, steps, keep_iterates=True)
    assert run.thetas.shape == (steps + 1, 2) and run.loss.shape == (steps + 1,)
    coords = run.thetas @ EIGVECS  # (n, 2): error along each eigenvector
    k = torch.arange(steps + 1, dtype=torch.float64)[:, None]
    expected = (theta0 @ EIGVECS) * (1 - lr * EIGVALS) ** k
    assert torch.allclose(coords, expected, rtol=1e-10, atol=1e-14)


def test_gd_reports_divergence_with_step_index():
    lr = 1.1 * 2 / LAMBDA_MAX
    run = mslib.gd(mslib.toys.quadratic(A), torch.tensor([1.0, 1.0], dtype=torch.float64), lr, 5000)
    assert run.diverged and isinstance(run.diverged_at, int)
    assert len(run.loss) == run.diverged_at and torch.isfinite(run.loss).all()
    assert run.loss[-1] <= 1e10 and mslib.toys.quadratic(A)(run.theta) == pytest.approx(float(run.loss[-1]))
    growth = abs(1 - lr * LAMBDA_MAX)
    # the loss grows by growth^2 per step, from about 1 to above 1e10
    assert run.diverged_at == pytest.approx(math.log(1e10) / (2 * math.log(growth)), rel=0.1)


def test_gd_converges_below_threshold_and_reports_nan_as_divergence():
    run = mslib.gd(mslib.toys.quadratic(A), torch.tensor([1.0, 1.0], dtype=torch.float64), 0.95 * 2 / LAMBDA_MAX, 2000)
    assert not run.diverged and run.loss[-1] < 1e-20
    nan_at_3 = lambda th: (th**2).sum() * (float("nan") if float(th[0].detach()) < 0.2 else 1.0)  # noqa: E731
    run = mslib.gd(nan_at_3, torch.tensor([1.0], dtype=torch.float64), 0.25, 10)
    assert run.diverged_at == 3 and len(run.loss) == 3


def test_schedule_overrides_lr_and_is_recorded():
    run = mslib.gd(mslib.toys.quadratic(A), torch.ones(2, dtype=torch.float64), None, 6, schedule=lambda k: 0.1 * (k + 1))
    assert torch.allclose(run.lrs, 0.1 * torch.arange(1, 7, dtype=torch.float64))


def test_sharpness_tracking_on_quadratic_and_network(small_net):
    run = mslib.gd(mslib.toys.quadratic(A), torch.ones(2, dtype=torch.float64), 0.1, 10, sharpness_every=5)
    assert run.sharpness_steps.tolist() == [0, 5, 10]
    assert torch.allclose(run.sharpness, torch.full((3,), LAMBDA_MAX, dtype=torch.float64))
    loss_fn, theta = small_net
    run = mslib.gd(loss_fn, theta, 0.1, 4, sharpness_every=2)
    assert run.sharpness[0] == pytest.approx(float(mslib.top_eigs(loss_fn, theta)[0][0]), rel=1e-6)


def test_minimize_reaches_the_minimum_of_a_quadratic():
    b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    theta = mslib.minimize(lambda th: mslib.toys.quadratic(A)(th - b), torch.zeros(2, dtype=torch.float64))
    assert torch.allclose(theta, b, atol=1e-8)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [((-0.1, 5), {}, ValueError, "lr"), ((0.0, 5), {}, ValueError, "lr"), ((None, 5), {}, TypeError, "lr"),
     ((0.1, -1), {}, ValueError, "steps"), ((0.1, 5), {"sharpness_every": -2}, ValueError, "sharpness_every"),
     ((None, 5), {"schedule": lambda k: -1.0}, ValueError, r"schedule\(0\)"),
     ((None, 5), {"schedule": 3}, TypeError, "schedule")],
)
def test_gd_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        mslib.gd(mslib.toys.quadratic(A), torch.ones(2, dtype=torch.float64), *args, **kwargs)


def test_gd_rejects_bad_theta0():
    with pytest.raises(TypeError, match="theta0"):
        mslib.gd(mslib.toys.quadratic(A), [1.0, 2.0], 0.1, 5)
    with pytest.raises(ValueError, match="theta0"):
        mslib.gd(mslib.toys.quadratic(A), torch.ones(1, 2, dtype=torch.float64), 0.1, 5)
