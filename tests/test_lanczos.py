"""Lanczos runs on operators whose spectrum is known: orthogonality kept by full and by partial
reorthogonalization (and lost without either, so the checks can fail), exact stops on invariant
Krylov spaces, and Ritz pairs that converge to the top of the spectrum."""

import pytest
import torch

from mslib.lanczos import Lanczos, semi_orthogonal, top_ritz_pairs

D = 2000
#: Five separated top eigenvalues above a bulk in [0, 10): Lanczos converges to the top fast, which is
#: exactly when plain Lanczos loses orthogonality and repeats them ("ghosts").
SPECTRUM = torch.cat([torch.tensor([100.0, 90.0, 50.0, 49.5, 30.0], dtype=torch.float64),
                      10 * torch.rand(D - 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)])


def diagonal(v: torch.Tensor) -> torch.Tensor:
    return SPECTRUM * v


def start(seed: int = 1) -> torch.Tensor:
    return torch.randn(D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def run_to_end(run: Lanczos) -> Lanczos:
    while not run.done:
        run.step()
    return run


def top_ritz_values(run: Lanczos, k: int) -> torch.Tensor:
    return torch.linalg.eigvalsh(run.tridiagonal()).flip(0)[:k]


@pytest.mark.parametrize("partial", [False, True])
def test_reorthogonalization_keeps_the_basis_orthogonal_and_free_of_ghosts(partial):
    run = run_to_end(Lanczos(diagonal, start(), 150, partial=partial))
    Q = run.basis[: len(run)]
    loss = float((Q @ Q.T - torch.eye(len(run), dtype=torch.float64)).abs().max())
    assert loss < (semi_orthogonal(torch.float64) if partial else 1e-12)
    assert torch.allclose(top_ritz_values(run, 6)[:5], SPECTRUM[:5], rtol=1e-12)
    assert float(top_ritz_values(run, 6)[5]) < 10, "the sixth Ritz value comes from the bulk, not a ghost"
    if partial:
        assert 0 < run.reorthogonalizations < len(run) / 2, "partial: only some steps reorthogonalize"


def test_without_reorthogonalization_ghosts_appear(monkeypatch):
    run = Lanczos(diagonal, start(), 150, partial=True)
    monkeypatch.setattr(run, "_advance_estimates", lambda beta: False)
    run_to_end(run)
    assert float(top_ritz_values(run, 2)[1]) == pytest.approx(100.0, rel=1e-10), "a copy of the top eigenvalue"


def test_invariant_krylov_space_stops_the_run_with_exact_values():
    three = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64).repeat_interleave(10)
    run = run_to_end(Lanczos(lambda v: three * v, torch.ones(30, dtype=torch.float64), 20, partial=True))
    assert run.invariant and len(run) == 3
    values, residuals, _ = run.ritz(2)
    assert values.tolist() == pytest.approx([3.0, 2.0], rel=1e-12) and float(residuals.max()) < 1e-10
    with pytest.raises(RuntimeError, match="cannot take another step"):
        run.step()


def test_partial_reorthogonalization_in_float32_keeps_its_own_precision():
    run = run_to_end(Lanczos(lambda v: SPECTRUM.float() * v, start().float(), 60))
    Q = run.basis[: len(run)].double()
    assert float((Q @ Q.T - torch.eye(len(run), dtype=torch.float64)).abs().max()) < 2 * semi_orthogonal(torch.float32)
    assert torch.allclose(top_ritz_values(run, 3), SPECTRUM[:3], rtol=1e-5)


def test_zero_operator_is_invariant_at_once():
    run = run_to_end(Lanczos(torch.zeros_like, start(), 10, partial=True))
    assert run.invariant and len(run) == 1 and run.alphas == [0.0]


def test_top_ritz_pairs_stop_at_the_residual_test():
    values, vectors, converged = top_ritz_pairs(diagonal, start(), 3, 1e-8, 200)
    assert converged
    assert torch.allclose(values, SPECTRUM[:3], rtol=1e-12)
    residuals = (SPECTRUM[:, None] * vectors - vectors * values).norm(dim=0)
    assert bool((residuals <= 1e-8 * values).all())
    values, _, converged = top_ritz_pairs(diagonal, start(), 3, 1e-8, 5)
    assert not converged and values.shape == (3,)
