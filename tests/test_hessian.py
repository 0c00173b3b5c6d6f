import pytest
import torch

import mslib


def rel(a, b):
    return float((a - b).norm() / b.norm())


def test_hvp_matches_dense_hessian_times_v(small_net, rng):
    loss_fn, theta = small_net
    H = torch.autograd.functional.hessian(loss_fn, theta)
    for _ in range(3):
        v = torch.randn(theta.numel(), generator=rng, dtype=torch.float64)
        assert rel(mslib.hvp(loss_fn, theta, v), H @ v) < 1e-8


def test_hvp_matches_finite_difference_of_gradients(small_net, rng):
    loss_fn, theta = small_net
    v = torch.randn(theta.numel(), generator=rng, dtype=torch.float64)
    h = 1e-5
    g_plus = mslib.loss_and_gradient(loss_fn, theta + h * v)[1]
    g_minus = mslib.loss_and_gradient(loss_fn, theta - h * v)[1]
    assert rel(mslib.hvp(loss_fn, theta, v), (g_plus - g_minus) / (2 * h)) < 1e-6


def test_dense_hessian_of_quadratic_is_its_matrix():
    A = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 4.0]], dtype=torch.float64)
    H = mslib.dense_hessian(mslib.toys.quadratic(A), torch.randn(3, dtype=torch.float64))
    assert torch.allclose(H, A, atol=1e-12)


def test_operator_counts_products_and_handles_affine_loss():
    op = mslib.HessianOperator(lambda th: th.sum(), torch.zeros(4, dtype=torch.float64))
    assert torch.equal(op(torch.ones(4, dtype=torch.float64)), torch.zeros(4, dtype=torch.float64))
    assert op.products == 1


def test_top_eigs_match_eigvalsh_on_small_network(small_net):
    loss_fn, theta = small_net
    exact = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta)).flip(0)
    values, vectors = mslib.top_eigs(loss_fn, theta, k=5)
    assert values.shape == (5,) and vectors.shape == (theta.numel(), 5)
    assert torch.all(values[:-1] >= values[1:]), "values must be descending"
    assert float(((values - exact[:5]).abs() / exact[:5].abs()).max()) < 1e-6
    residual = mslib.hvp(loss_fn, theta, vectors[:, 0]) - values[0] * vectors[:, 0]
    assert float(residual.norm()) < 1e-4 * float(values[0])


def test_top_eigs_is_reproducible(small_net):
    loss_fn, theta = small_net
    a = mslib.top_eigs(loss_fn, theta, k=2)[0]
    b = mslib.top_eigs(loss_fn, theta, k=2)[0]
    assert torch.equal(a, b)


def test_sharpness_on_tiny_and_large_problems(small_net):
    A = torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64))
    s, v = mslib.sharpness(mslib.toys.quadratic(A), torch.zeros(2, dtype=torch.float64))
    assert s == pytest.approx(3.0) and abs(float(v[0])) == pytest.approx(1.0)
    assert mslib.sharpness(mslib.toys.log_cosh(), torch.zeros(1, dtype=torch.float64))[0] == pytest.approx(1.0)
    loss_fn, theta = small_net
    assert mslib.sharpness(loss_fn, theta)[0] == pytest.approx(float(mslib.top_eigs(loss_fn, theta)[0][0]), rel=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"k": 0}, "k"), ({"k": 460}, "k must be smaller"), ({"k": 2.5}, "k"), ({"tol": -1.0}, "tol"),
     ({"v0": torch.zeros(460, dtype=torch.float64)}, "v0"), ({"method": "power"}, "method must be one of")],
)
def test_top_eigs_rejects_bad_input(small_net, kwargs, match):
    loss_fn, theta = small_net
    with pytest.raises((ValueError, TypeError), match=match):
        mslib.top_eigs(loss_fn, theta, **kwargs)


def test_hvp_rejects_bad_input(small_net):
    loss_fn, theta = small_net
    with pytest.raises(ValueError, match="v must have 460 entries"):
        mslib.hvp(loss_fn, theta, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="theta must be a flat 1-D vector"):
        mslib.hvp(loss_fn, theta.reshape(2, -1), theta)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        mslib.hvp("loss", theta, theta)


def test_hvp_costs_at_most_two_and_a_half_gradients():
    """The course's speed contract for curvature: measured in turns with the gradient, so machine
    load affects both alike."""
    from mslib.bench import hvp_cost

    result = hvp_cost(repeats=15)
    assert result["ratio_kept_graph"] < 2.5, result


def test_top_eigs_warm_start_in_a_small_krylov_space(small_net):
    loss_fn, theta = small_net
    values, vectors = mslib.top_eigs(loss_fn, theta, k=1)
    warm, _ = mslib.top_eigs(loss_fn, theta, k=1, v0=vectors[:, 0], krylov=4)
    assert float(warm[0]) == pytest.approx(float(values[0]), rel=1e-8)
    with pytest.raises(ValueError, match="krylov"):
        mslib.top_eigs(loss_fn, theta, k=2, krylov=2)


def test_warm_sharpness_stops_early_and_agrees(small_net):
    from mslib.bench_tasks import counting_products

    loss_fn, theta = small_net
    reference, vectors = mslib.top_eigs(loss_fn, theta, k=1, tol=1e-12)
    nearby = vectors[:, 0] + 1e-3 * mslib.random_direction(theta, seed=5)
    with counting_products() as count:
        value, vector = mslib.sharpness(loss_fn, theta, v0=nearby, tol=1e-6)
    assert abs(value - float(reference[0])) < 1e-8 * abs(float(reference[0]))
    assert abs(float(vector @ vectors[:, 0])) > 1 - 1e-6
    assert count() < 10


def test_top_eigs_lanczos_method_matches_the_dense_spectrum(small_net):
    from mslib.bench_tasks import counting_products

    loss_fn, theta = small_net
    exact = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta)).flip(0)[:5]
    with counting_products() as count:
        values, vectors = mslib.top_eigs(loss_fn, theta, k=5, tol=1e-8, method="lanczos")
    assert values.shape == (5,) and vectors.shape == (theta.numel(), 5)
    assert float(((values - exact).abs() / exact.abs()).max()) < 1e-10
    residuals = torch.stack([mslib.hvp(loss_fn, theta, u) for u in vectors.T], 1) - vectors * values
    assert float(residuals.norm(dim=0).max()) <= 1e-8 * float(values[0]) * 1.01
    assert count() <= 40, "no restart: it stopped inside its Krylov space"


def test_top_eigs_lanczos_hands_over_to_arpack_when_its_space_is_too_small(small_net):
    from mslib.bench_tasks import counting_products

    loss_fn, theta = small_net
    exact = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta)).flip(0)[:3]
    with counting_products() as count:
        values, _ = mslib.top_eigs(loss_fn, theta, k=3, tol=1e-10, method="lanczos", krylov=4)
    assert float(((values - exact).abs() / exact.abs()).max()) < 1e-8
    assert count() > 4, "four Lanczos steps cannot resolve three eigenvalues to 1e-10: ARPACK took over"
