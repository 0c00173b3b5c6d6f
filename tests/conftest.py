"""Shared fixtures: a small digits network in float64, trained a little, so curvature is generic;
the built book, shared by the build test and the page and browser checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch._decomp.decompositions_for_jvp  # noqa: F401  (see below)

import mslib
from tests import bookbuild

# torch.func's forward-mode AD parses torch's own sources with `ast` the first time it runs. On
# Python 3.11.7 that parse fails with "AST constructor recursion depth mismatch" when the grader's
# kernel-client threads are alive at the same moment (a race on CPython's AST recursion counter, fixed in
# later releases), so it is done up front.


@pytest.fixture(scope="session")
def small_net():
    """(loss_fn, theta) of a 64-6-10 tanh MLP on 200 digits after 200 GD steps (d = 460)."""
    X, Y = mslib.digits(200, seed=1)
    loss_fn, theta0 = mslib.flatten(mslib.mlp([64, 6, 10], seed=1), X, Y)
    return loss_fn, mslib.gd(loss_fn, theta0, 0.2, 200).theta


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> bookbuild.Book:
    """The whole book, built once for the session (or the prebuilt one named by $BOOK_HTML)."""
    return bookbuild.prebuilt() or bookbuild.build(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="session")
def book_html(book: bookbuild.Book) -> Path:
    """The HTML folder of a book that built; the page checks skip when the build itself failed."""
    if book.returncode != 0:
        pytest.skip("the book did not build: test_book_builds_without_warnings reports why")
    return book.html
