"""Networks as loss functions of one flat parameter vector.

``flatten(model, X, Y)`` binds a module to its data and returns ``loss_fn(theta)`` that calls the
module functionally (``torch.func.functional_call``): the module itself is never mutated, and every
tool in mslib (Hessians, slices, dynamics) then treats a network exactly like a toy.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from . import _checks

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
LOSSES = ("mse", "ce")
LossFn = Callable[[Tensor], Tensor]


def mlp(widths: Sequence[int], activation: str = "tanh", *, seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """A fully connected network ``widths[0] -> widths[1] -> ... -> widths[-1]``.

    The activation follows every hidden layer (not the output). Weights use PyTorch's default
    initialization drawn from a generator seeded with ``seed``.
    """
    widths = list(widths)
    if len(widths) < 2:
        raise ValueError(f"widths needs at least an input and an output width, got {widths}")
    for w in widths:
        _checks.count("widths", w, minimum=1)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class FlatLoss:
    """``loss_fn(theta)``: the loss of ``model`` on ``(X, Y)`` at the flat parameters ``theta`` (d,).

    ``mse`` is ``1/(2n) sum_i ||f(x_i) - y_i||^2``; ``ce`` is the mean cross-entropy with ``Y`` as
    target probabilities (one-hot rows give the usual classification loss).
    """

    def __init__(self, model: nn.Module, X: Tensor, Y: Tensor, loss: str = "mse"):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if not isinstance(X, Tensor) or not isinstance(Y, Tensor):
            raise TypeError("X and Y must be torch tensors")
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"X and Y must have the same number of rows, got {X.shape[0]} and {Y.shape[0]}")
        self.model, self.X, self.Y, self.loss = model, X, Y, loss
        params = dict(model.named_parameters())
        self.names = list(params)
        self.shapes = [p.shape for p in params.values()]
        self.sizes = [p.numel() for p in params.values()]
        self.dim = sum(self.sizes)

    def unflatten(self, theta: Tensor) -> dict[str, Tensor]:
        """The parameter dict of ``theta`` (views, no copies)."""
        chunks = torch.split(theta, self.sizes)
        return {name: chunk.view(shape) for name, chunk, shape in zip(self.names, chunks, self.shapes)}

    @property
    def n(self) -> int:
        """How many samples the loss averages over."""
        return self.X.shape[0]

    def outputs(self, theta: Tensor, X: Tensor | None = None) -> Tensor:
        """Network outputs at ``theta`` on ``X`` (default: the bound data), shape (n, out)."""
        return functional_call(self.model, self.unflatten(theta), (self.X if X is None else X,))

    def batch_loss(self, theta: Tensor, rows: Tensor) -> Tensor:
        """The loss at ``theta`` averaged over the samples ``rows`` only (indices, shape (b,))."""
        return self._average(self.outputs(theta, self.X[rows]), self.Y[rows])

    def __call__(self, theta: Tensor) -> Tensor:
        return self._average(self.outputs(theta), self.Y)

    def sample_losses(self, theta: Tensor) -> Tensor:
        """Each sample's own loss at ``theta``, shape (n,); ``loss_fn(theta)`` is their mean."""
        return self._per_sample(self.outputs(theta), self.Y)

    def _per_sample(self, out: Tensor, Y: Tensor) -> Tensor:
        if self.loss == "mse":
            return 0.5 * ((out - Y) ** 2).sum(dim=-1)
        return nn.functional.cross_entropy(out, Y, reduction="none")

    def _average(self, out: Tensor, Y: Tensor) -> Tensor:
        return self._per_sample(out, Y).mean()


class Restricted:
    """The loss as a function of some parameters only, the others held at ``theta``'s values.

    ``restricted(sub)`` is ``loss_fn`` at ``theta`` with the entries selected by ``mask`` replaced
    by ``sub`` (shape (k,), k = ``mask.sum()``): a loss of one flat vector like any other, so every
    mslib tool (``gd``, ``top_eigs``, slices) works on it, e.g. to train only the first layer.
    """

    def __init__(self, loss_fn: LossFn, theta: Tensor, mask: Tensor):
        _checks.callable_arg("loss_fn", loss_fn)
        self.theta = _checks.flat_vector("theta", theta).detach()
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != self.theta.shape:
            raise ValueError(f"mask must be a boolean tensor of shape {tuple(self.theta.shape)}")
        if not mask.any():
            raise ValueError("mask must select at least one parameter")
        self.loss_fn = loss_fn
        self.index = mask.nonzero().squeeze(1)

    def part(self, theta: Tensor) -> Tensor:
        """The selected entries of a full parameter vector ``theta`` (d,); shape (k,)."""
        return theta[self.index]

    def embed(self, sub: Tensor) -> Tensor:
        """The full parameter vector (d,) with the selected entries set to ``sub`` (k,)."""
        return self.theta.index_put((self.index,), sub)

    def __call__(self, sub: Tensor) -> Tensor:
        return self.loss_fn(self.embed(sub))


def flatten(model: nn.Module, X: Tensor, Y: Tensor, loss: str = "mse") -> tuple[FlatLoss, Tensor]:
    """Bind ``model`` to data: returns ``(loss_fn, theta0)`` with ``theta0`` the module's current
    parameters as one detached vector of shape (d,)."""
    loss_fn = FlatLoss(model, X, Y, loss)
    theta0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
    return loss_fn, theta0


def teacher_student(X: Tensor, hidden: int, *, seed: int = 0, perturbation: float = 0.1,
                    activation: str = "tanh") -> tuple[nn.Sequential, Tensor, Tensor]:
    """A two-layer teacher (tanh by default) that labels ``X`` (n, p), and a student's starting point near it.

    The teacher's first-layer weights are scaled by ``1 / max_i |x_i|``, so that every
    pre-activation is at most about 1 at the teacher: the network sits in the non-saturated regime
    of tanh for every sample, whatever its magnitude. Output weights are PyTorch's default.

    Returns:
        ``(model, Y, theta_start)``: the module (holding the teacher's weights), the labels (n, 1),
        and the teacher's flat parameters with each entry multiplied by ``1 + perturbation * N(0, 1)``
        (seeded), where a student starts before training.
    """
    if not isinstance(X, Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor of shape (n, p), got {getattr(X, 'shape', type(X))}")
    _checks.count("hidden", hidden, minimum=1)
    perturbation = float(perturbation)
    if perturbation < 0:
        raise ValueError(f"perturbation must be >= 0, got {perturbation}")
    model = mlp([X.shape[1], hidden, 1], activation, seed=seed, dtype=X.dtype)
    with torch.no_grad():
        model[0].weight.mul_(1.0 / float(X.norm(dim=1).max()))
        model[0].bias.zero_()
        Y = model(X)
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    noise = torch.randn(theta.numel(), generator=torch.Generator().manual_seed(seed + 1), dtype=theta.dtype)
    return model, Y, theta * (1 + perturbation * noise)
