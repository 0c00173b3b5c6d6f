"""Slices of a network whose first layer is affine, with that layer's work done once.

Along a plane ``theta + sum_j c_j u_j`` the first layer's pre-activations are affine in the
coefficients ``c``: ``Z(c) = X W^T + b + sum_j c_j (X U_j^T + u_j^b)``, where ``U_j`` and ``u_j^b``
are the parts of ``u_j`` that hold the first weight matrix and bias. Computing ``X W^T`` and each
``X U_j^T`` once turns the first layer of every later evaluation into a few scaled additions of
(n, h) matrices, instead of an (n, p) x (p, h) product: a slice then runs faster than one full
forward pass per point, most of all when the input width p is large (784 for images).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .nets import ACTIVATIONS, FlatLoss


def applies(loss_fn: object) -> bool:
    """Whether ``loss_fn`` is a ``FlatLoss`` of an ``nn.Sequential`` that starts with a plain
    ``nn.Linear`` on 2-D inputs and has parameters after it (the case this module speeds up)."""
    if not isinstance(loss_fn, FlatLoss):
        return False
    model = loss_fn.model
    return (isinstance(model, nn.Sequential) and len(model) > 1 and type(model[0]) is nn.Linear
            and loss_fn.X.ndim == 2 and 0 < _first_count(loss_fn) < len(loss_fn.names))


def _first_count(loss_fn: FlatLoss) -> int:
    """How many leading entries of ``loss_fn.names`` (``named_parameters`` order) are the first layer's."""
    return sum(1 for name in loss_fn.names if name.startswith("0."))


#: Element-wise modules that a plain tail may hold besides ``nn.Linear`` (see ``PlaneLoss``): ``mlp``'s activations.
ELEMENTWISE = tuple(ACTIVATIONS.values())

#: How many elements of the pre-activations, shape (points, n, h), one batch may hold, 2 MiB in
#: float64; larger batches spill out of the cache, and the element-wise work after the first layer dominates.
BATCH_ELEMENTS = 2**18


class PlaneLoss:
    """``loss_fn(theta + c @ directions)`` for rows ``c`` of coefficients (b, m), with the first
    layer's products precomputed; ``directions`` has shape (m, d).

    Precomputation costs m + 1 first-layer products on the data; each batch of points then costs
    one fused ``base + C @ slopes`` for the pre-activations and the layers after the first. When
    those are ``nn.Linear`` layers and element-wise activations only (a plain tail, as in ``mlp``),
    each layer of a batch is one batched product with the bias added inside it; any other tail
    runs through ``torch.vmap`` of ``functional_call``.
    """

    def __init__(self, loss_fn: FlatLoss, theta: Tensor, directions: Tensor):
        first = _first_count(loss_fn)
        split = sum(loss_fn.sizes[:first])
        self._loss_fn = loss_fn
        self._names, self._shapes, self._sizes = loss_fn.names[first:], loss_fn.shapes[first:], loss_fn.sizes[first:]
        self._tail = loss_fn.model[1:]
        self._plain = all(type(m) is nn.Linear or type(m) in ELEMENTWISE for m in self._tail)
        with torch.no_grad():
            base = _pre_activations(loss_fn, theta)  # (n, h)
            self._shape = base.shape
            self._base = base.reshape(1, -1)
            self._slopes = torch.stack([_pre_activations(loss_fn, u).reshape(-1) for u in directions])  # (m, n h)
        self._rest0, self._rest_dirs = theta[split:], directions[:, split:]
        #: points per batch that keep the pre-activations within ``BATCH_ELEMENTS``
        self.batch = max(1, BATCH_ELEMENTS // base.numel())

    def __call__(self, C: Tensor) -> Tensor:
        """The loss at each row of ``C`` (b, m); shape (b,)."""
        Z = torch.addmm(self._base, C, self._slopes).view(C.shape[0], *self._shape)
        rest = self._rest0 + C @ self._rest_dirs
        if self._plain:
            return self._plain_tail(Z, rest)
        return torch.vmap(self._after_first)(Z, rest)

    def _plain_tail(self, Z: Tensor, rest: Tensor) -> Tensor:
        """The loss at each point of a batch from its pre-activations ``Z`` (b, n, h) and its
        parameters after the first layer ``rest`` (b, r), one batched product per layer; shape (b,).
        Faster than the vmapped tail, which adds each layer's bias in a pass of its own."""
        b = Z.shape[0]
        parts = torch.split(rest, self._sizes, dim=1)
        params = {name: part.view(b, *shape) for name, part, shape in zip(self._names, parts, self._shapes)}
        out = Z
        for name, module in self._tail.named_children():
            if type(module) is nn.Linear:
                weight_t, bias = params[f"{name}.weight"].transpose(1, 2), params.get(f"{name}.bias")
                out = torch.bmm(out, weight_t) if bias is None else torch.baddbmm(bias[:, None, :], out, weight_t)
            else:
                out = module(out)
        n, k = out.shape[1:]
        Y = self._loss_fn.Y.expand(b, n, k).reshape(b * n, k)
        return self._loss_fn._per_sample(out.reshape(b * n, k), Y).view(b, n).mean(dim=1)

    def _after_first(self, Z: Tensor, rest: Tensor) -> Tensor:
        params = {n: part.view(shape) for n, part, shape in zip(self._names, torch.split(rest, self._sizes), self._shapes)}
        return self._loss_fn._average(functional_call(self._tail, params, (Z,)), self._loss_fn.Y)


def _pre_activations(loss_fn: FlatLoss, theta: Tensor) -> Tensor:
    """The first layer's output ``X W^T + b`` at the parameters ``theta`` (d,); shape (n, h)."""
    params = loss_fn.unflatten(theta)
    weight, bias = params["0.weight"], params.get("0.bias")
    return nn.functional.linear(loss_fn.X, weight, bias)
