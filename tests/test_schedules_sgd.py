import math

import pytest
import torch

import mslib
from mslib import schedules


def test_schedules_give_the_documented_step_sizes():
    assert [schedules.Constant(0.3)(k) for k in (0, 10)] == [0.3, 0.3]
    decay = schedules.step_decay(1.0, [10, 20], 0.1)
    assert [decay(k) for k in (0, 9, 10, 19, 20, 100)] == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    cosine = schedules.Cosine(1.0, 100, final=0.1)
    assert cosine(0) == pytest.approx(1.0) and cosine(50) == pytest.approx(0.55) and cosine(100) == pytest.approx(0.1)
    assert cosine(500) == pytest.approx(0.1)
    assert schedules.Cosine(1.0, 10)(10) > 0, "a step size is never exactly 0"
    warm = schedules.WarmUp(schedules.Constant(0.5), 5)
    assert [warm(k) for k in range(6)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.5])
    assert "StepDecay" in repr(decay)


@pytest.mark.parametrize(
    "make, match",
    [(lambda: schedules.Constant(-1.0), "lr"), (lambda: schedules.step_decay(1.0, [20, 10]), "increasing"),
     (lambda: schedules.step_decay(1.0, [0]), "decay_at"), (lambda: schedules.step_decay(1.0, [5], 0.0), "factor"),
     (lambda: schedules.Cosine(1.0, 0), "steps"), (lambda: schedules.Cosine(1.0, 10, final=2.0), "final"),
     (lambda: schedules.WarmUp("fast", 5), "then")],
)
def test_schedules_reject_bad_input(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_gd_follows_a_schedule_on_a_quadratic():
    A = torch.diag(torch.tensor([1.0], dtype=torch.float64))
    decay = schedules.step_decay(0.5, [3], 0.1)
    run = mslib.gd(mslib.toys.quadratic(A), torch.ones(1, dtype=torch.float64), None, 5, schedule=decay, keep_iterates=True)
    expected = torch.tensor([1, 0.5, 0.25, 0.125, 0.125 * 0.95, 0.125 * 0.95**2], dtype=torch.float64)
    assert torch.allclose(run.thetas[:, 0], expected)


@pytest.fixture(scope="module")
def net():
    X, Y = mslib.digits(120, seed=5)
    return mslib.flatten(mslib.mlp([64, 8, 10], seed=5), X, Y)


def test_sgd_with_full_batches_is_gd(net):
    loss_fn, theta0 = net
    sgd = mslib.sgd(loss_fn, theta0, 0.1, 20, batch_size=120, seed=3)
    gd = mslib.gd(loss_fn, theta0, 0.1, 20)
    assert torch.allclose(sgd.theta, gd.theta, rtol=1e-12, atol=1e-14)
    assert torch.allclose(sgd.loss, gd.loss, rtol=1e-12)


def test_sgd_is_seeded_records_full_losses_and_visits_every_sample_each_epoch(net):
    loss_fn, theta0 = net
    a = mslib.sgd(loss_fn, theta0, 0.1, 30, batch_size=40, seed=1)
    b = mslib.sgd(loss_fn, theta0, 0.1, 30, batch_size=40, seed=1)
    c = mslib.sgd(loss_fn, theta0, 0.1, 30, batch_size=40, seed=2)
    assert torch.equal(a.theta, b.theta) and not torch.equal(a.theta, c.theta)
    assert a.loss.shape == (31,) and float(a.loss[0]) == pytest.approx(float(loss_fn(theta0)))
    # three batches of 40 cover the 120 samples once: their mean gradient is the full gradient
    one_epoch = mslib.sgd(loss_fn, theta0, 1e-9, 3, batch_size=40, seed=4)
    assert torch.allclose((theta0 - one_epoch.theta) / 1e-9 / 3, mslib.loss_and_gradient(loss_fn, theta0)[1], rtol=1e-4, atol=1e-8)


def test_batch_loss_is_the_loss_of_the_rows(net):
    loss_fn, theta0 = net
    rows = torch.tensor([3, 7, 11])
    sub, _ = mslib.flatten(loss_fn.model, loss_fn.X[rows], loss_fn.Y[rows])
    assert float(loss_fn.batch_loss(theta0, rows)) == pytest.approx(float(sub(theta0)), rel=1e-12)


def test_sgd_rejects_bad_input(net):
    loss_fn, theta0 = net
    with pytest.raises(ValueError, match="batch_size"):
        mslib.sgd(loss_fn, theta0, 0.1, 5, batch_size=500)
    with pytest.raises(TypeError, match="FlatLoss"):
        mslib.sgd(mslib.toys.log_cosh(), torch.zeros(1, dtype=torch.float64), 0.1, 5, batch_size=1)
    with pytest.raises(ValueError, match="lr"):
        mslib.sgd(loss_fn, theta0, -0.1, 5, batch_size=10)


def test_bowl_plus_well_is_radial():
    f = mslib.toys.bowl_plus_well(0.01, 0.01)
    H = mslib.dense_hessian(f, torch.zeros(2, dtype=torch.float64))
    assert torch.allclose(H, 201 * torch.eye(2, dtype=torch.float64))
    assert float(f(torch.tensor([0.3, 0.4], dtype=torch.float64))) == pytest.approx(0.125 + 0.01 * (1 - math.exp(-2500)))
