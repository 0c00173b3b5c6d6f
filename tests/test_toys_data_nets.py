import copy
import math

import pytest
import torch

import mslib

ZERO = torch.zeros(1, dtype=torch.float64)


@pytest.mark.parametrize(
    "loss_fn, x, value",
    [(mslib.toys.sqrt_bowl(), 2.0, math.sqrt(5) - 1), (mslib.toys.log_cosh(), 0.7, math.log(math.cosh(0.7))),
     (mslib.toys.log_cosh(), 800.0, 800 - math.log(2)),
     (mslib.toys.bowl_plus_well(0.01, 0.01), 0.02, 0.0002 + 0.01 * (1 - math.exp(-4)))],
)
def test_toy_values(loss_fn, x, value):
    assert float(loss_fn(torch.tensor([x], dtype=torch.float64))) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    "loss_fn, curvature",
    [(mslib.toys.sqrt_bowl(), 1.0), (mslib.toys.log_cosh(), 1.0), (mslib.toys.bowl_plus_well(0.01, 0.01), 201.0)],
)
def test_toy_curvature_at_minimum(loss_fn, curvature):
    assert float(mslib.dense_hessian(loss_fn, ZERO)[0, 0]) == pytest.approx(curvature, rel=1e-10)


def test_toys_reject_bad_input():
    with pytest.raises(ValueError, match="symmetric"):
        mslib.toys.quadratic(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        mslib.toys.quadratic(torch.ones(2, 3))
    with pytest.raises(ValueError, match="delta"):
        mslib.toys.bowl_plus_well(0.01, 0.0)


def test_digits_shapes_standardization_and_seed():
    X, Y = mslib.digits(300, seed=2)
    assert X.shape == (300, 64) and Y.shape == (300, 10) and X.dtype == torch.float64
    assert torch.equal(Y.sum(1), torch.ones(300, dtype=torch.float64))
    varying = X.std(0) > 0
    assert torch.allclose(X.mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(X.std(0)[varying], torch.ones(int(varying.sum()), dtype=torch.float64))
    assert torch.equal(mslib.digits(300, seed=2)[0], X) and not torch.equal(mslib.digits(300, seed=3)[0], X)
    assert mslib.digits()[0].shape == (1797, 64)
    with pytest.raises(ValueError, match="n must be at most 1797"):
        mslib.digits(5000)


def test_mlp_is_seeded_and_validated():
    a, b = mslib.mlp([4, 3, 2], seed=7), mslib.mlp([4, 3, 2], seed=7)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert isinstance(a[1], torch.nn.Tanh) and len(a) == 3
    with pytest.raises(ValueError, match="activation"):
        mslib.mlp([4, 2], activation="swish")
    with pytest.raises(ValueError, match="widths"):
        mslib.mlp([4])


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_flatten_matches_module_and_does_not_mutate_it(loss):
    X, Y = mslib.digits(50, seed=0)
    model = mslib.mlp([64, 5, 10], seed=0)
    before = copy.deepcopy(model.state_dict())
    loss_fn, theta0 = mslib.flatten(model, X, Y, loss=loss)
    assert theta0.shape == (64 * 5 + 5 + 5 * 10 + 10,) and loss_fn.dim == theta0.numel()
    out = model(X).detach()
    expected = 0.5 * ((out - Y) ** 2).sum(1).mean() if loss == "mse" else torch.nn.functional.cross_entropy(out, Y.argmax(1))
    assert float(loss_fn(theta0)) == pytest.approx(float(expected), rel=1e-12)
    loss_fn(theta0 + 1.0)
    mslib.gd(loss_fn, theta0, 0.1, 3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_flatten_rejects_bad_input():
    X, Y = mslib.digits(10)
    with pytest.raises(ValueError, match="loss"):
        mslib.flatten(mslib.mlp([64, 10]), X, Y, loss="hinge")
    with pytest.raises(ValueError, match="same number of rows"):
        mslib.flatten(mslib.mlp([64, 10]), X, Y[:5])
    with pytest.raises(TypeError, match="model"):
        mslib.flatten(lambda x: x, X, Y)
