"""Shared fixtures: a small digits network in float64, trained a little, so curvature is generic."""

from __future__ import annotations

import pytest
import torch

import mslib


@pytest.fixture(scope="session")
def small_net():
    """(loss_fn, theta) of a 64-6-10 tanh MLP on 200 digits after 200 GD steps (d = 460)."""
    X, Y = mslib.digits(200, seed=1)
    loss_fn, theta0 = mslib.flatten(mslib.mlp([64, 6, 10], seed=1), X, Y)
    return loss_fn, mslib.gd(loss_fn, theta0, 0.2, 200).theta


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)
