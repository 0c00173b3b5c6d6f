"""Data with controlled magnitudes and the teacher-student helper (groundwork for the origin chapter)."""

import pytest
import torch

import mslib


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5])
def test_power_law_magnitudes_have_the_requested_tail(alpha):
    r = mslib.power_law_magnitudes(20000, alpha, seed=0)
    assert r.shape == (20000,) and float(r.min()) >= 1.0 and float(r.max()) <= 1e4
    assert mslib.tail_exponent(r) == pytest.approx(alpha, rel=0.05)
    assert torch.equal(r, mslib.power_law_magnitudes(20000, alpha, seed=0))


def test_cluster_magnitudes_and_inputs_on_spheres():
    r = mslib.cluster_magnitudes(10, [1.0, 100.0], [0.8, 0.2])
    assert r.tolist() == [1.0] * 8 + [100.0] * 2
    assert mslib.cluster_magnitudes(4, [2.0, 3.0]).tolist() == [2.0, 2.0, 3.0, 3.0]
    X = mslib.on_sphere(r, 5, seed=1)
    assert X.shape == (10, 5) and torch.allclose(X.norm(dim=1), r)
    with pytest.raises(ValueError, match="shares"):
        mslib.cluster_magnitudes(10, [1.0, 2.0], [0.5, 0.6])
    with pytest.raises(ValueError, match="alpha"):
        mslib.power_law_magnitudes(10, -1.0)
    with pytest.raises(ValueError, match="high must exceed low"):
        mslib.power_law_magnitudes(10, 1.0, low=5.0, high=2.0)


def test_teacher_student_keeps_every_preactivation_of_order_one():
    r = mslib.power_law_magnitudes(500, 1.0, seed=2)
    X = mslib.on_sphere(r, 6, seed=3)
    model, Y, start = mslib.teacher_student(X, 12, seed=4, perturbation=0.1)
    loss_fn, teacher = mslib.flatten(model, X, Y)
    assert float(loss_fn(teacher)) == 0.0 and Y.shape == (500, 1)
    with torch.no_grad():
        preactivations = X @ model[0].weight.T + model[0].bias
    assert float(preactivations.abs().max()) < 1.0, "even the largest input stays in tanh's non-saturated range"
    assert 0 < float((start - teacher).norm() / teacher.norm()) < 0.2
    with pytest.raises(ValueError, match="perturbation"):
        mslib.teacher_student(X, 4, perturbation=-1.0)
