"""The first-layer fast path of slices (mslib.first_layer) equals the generic vmapped path."""

import pytest
import torch

import mslib
from mslib import first_layer


def _generic(loss_fn):
    return lambda theta: loss_fn(theta)  # not a FlatLoss: the generic path


@pytest.mark.parametrize("loss, activation", [("mse", "tanh"), ("ce", "relu")])
def test_fast_slice_2d_equals_generic(loss, activation):
    X, Y = mslib.digits(200, seed=0)
    loss_fn, theta = mslib.flatten(mslib.mlp([64, 16, 12, 10], activation, seed=1), X, Y, loss=loss)
    assert first_layer.applies(loss_fn)
    d1, d2 = mslib.random_direction(theta, seed=2), mslib.random_direction(theta, seed=3)
    ts1, ts2 = torch.linspace(-3, 3, 7, dtype=torch.float64), torch.linspace(-2, 2, 5, dtype=torch.float64)
    fast = mslib.slice_2d(loss_fn, theta, d1, d2, ts1, ts2, chunk_size=8)
    generic = mslib.slice_2d(_generic(loss_fn), theta, d1, d2, ts1, ts2, chunk_size=8)
    assert torch.allclose(fast, generic, rtol=1e-12, atol=1e-12)
    ts = torch.linspace(-5, 5, 11, dtype=torch.float64)
    assert torch.allclose(mslib.slice_1d(loss_fn, theta, d1, ts), mslib.slice_1d(_generic(loss_fn), theta, d1, ts),
                          rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("plain", [True, False])
def test_fast_path_tails_equal_generic(plain):
    """A tail of Linear layers (one without bias) and activations is evaluated layer by layer in
    batched products; any other tail (here with a LayerNorm) through vmap. Both equal the generic path."""
    torch.manual_seed(0)
    X, Y = mslib.digits(100, seed=0)
    middle = torch.nn.Identity() if plain else torch.nn.LayerNorm(16, dtype=torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16, dtype=torch.float64), torch.nn.GELU(), middle,
                                torch.nn.Linear(16, 12, bias=False, dtype=torch.float64), torch.nn.Sigmoid(),
                                torch.nn.Linear(12, 10, dtype=torch.float64))
    loss_fn, theta = mslib.flatten(model, X, Y, loss="ce")
    assert first_layer.PlaneLoss(loss_fn, theta, theta[None, :])._plain is plain
    d1, d2 = mslib.random_direction(theta, seed=2), mslib.random_direction(theta, seed=3)
    ts = torch.linspace(-2, 2, 5, dtype=torch.float64)
    fast = mslib.slice_2d(loss_fn, theta, d1, d2, ts, ts, chunk_size=3)
    assert torch.allclose(fast, mslib.slice_2d(_generic(loss_fn), theta, d1, d2, ts, ts), rtol=1e-12, atol=1e-12)


def test_fast_path_only_where_it_applies():
    X, Y = mslib.digits(50, seed=0)
    loss_fn, theta = mslib.flatten(mslib.mlp([64, 8, 10], seed=0), X, Y)
    assert first_layer.applies(loss_fn)
    assert not first_layer.applies(_generic(loss_fn))
    single = torch.nn.Sequential(torch.nn.Linear(64, 10, dtype=torch.float64))
    assert not first_layer.applies(mslib.flatten(single, X, Y)[0])  # nothing after the first layer
