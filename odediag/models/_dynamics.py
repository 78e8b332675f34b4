"""The vector field f(t, h) of a neural ODE: a multilayer perceptron.

Besides ``f`` itself, the module pushes tangent vectors through its layers in
the same pass (forward-mode differentiation written out by hand), so a penalty
on the Jacobian J = ∂f/∂h costs one widened forward pass instead of a
``vmap`` of reverse-mode Jacobians.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from odediag._errors import invalid

_aten = torch.ops.aten


# Each activation σ with the map (tangent, a, σ(a)) -> σ'(a) · tangent. The
# maps are ATen's own differentiable backward kernels: one fused operation
# where 1 - tanh(a)² · tangent written out would be four, and at this size
# the cost of a training step is the number of operations, not their size.
def _relu_tangent(da, a, z):
    return _aten.threshold_backward(da, a, 0)


_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "tanh": (torch.tanh, lambda da, a, z: _aten.tanh_backward(da, z)),
    "softplus": (
        nn.functional.softplus,
        lambda da, a, z: _aten.softplus_backward(da, a, 1, 20),
    ),
    "sigmoid": (torch.sigmoid, lambda da, a, z: _aten.sigmoid_backward(da, z)),
    "relu": (torch.relu, _relu_tangent),
}

ACTIVATIONS = tuple(_ACTIVATIONS)


class MLPDynamics(nn.Module):
    """Multilayer perceptron vector field f(t, h) of a neural ODE.

    Parameters
    ----------
    dim
        Dimension d of the state h (data dimension plus augmented dimensions).
    width
        Units of each hidden layer.
    depth
        Number of hidden layers (at least 1).
    activation
        One of :data:`ACTIVATIONS`.
    time_dependent
        If true, t is appended to the input of the first layer (a
        non-autonomous field); otherwise f depends on h only.

    Notes
    -----
    The field acts on each row of a batch independently, so the Jacobian of a
    batch is block diagonal and one d × d block per sample describes it.
    """

    def __init__(
        self,
        dim: int,
        width: int = 64,
        depth: int = 2,
        activation: str = "tanh",
        time_dependent: bool = True,
    ):
        super().__init__()
        validate_architecture(dim, width, depth, activation)
        self.dim = dim
        self.time_dependent = time_dependent
        self.activation = activation
        n_in = dim + int(time_dependent)
        sizes = [n_in] + [width] * depth
        self.hidden = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.output = nn.Linear(width, dim)

    def _input(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        # t is a scalar, or one time per row of shape (batch, 1).
        if not self.time_dependent:
            return h
        t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
        return torch.cat([h, t_column], dim=-1)

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Evaluate f(t, h) for a batch h of shape (..., d)."""
        sigma, _ = _ACTIVATIONS[self.activation]
        z = self._input(t, h)
        for layer in self.hidden:
            z = sigma(layer(z))
        return self.output(z)

    def jvp(
        self, t: torch.Tensor, h: torch.Tensor, tangents: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Evaluate f(t, h) and the products J·V in one pass.

        Parameters
        ----------
        t
            Time, a scalar tensor.
        h
            States, shape (batch, d).
        tangents
            Tangent vectors V in h, shape (batch, d, k).

        Returns
        -------
        f : torch.Tensor
            Shape (batch, d).
        JV : torch.Tensor
            Shape (batch, d, k): J(t, h) V per sample, differentiable in the
            parameters, h and V.
        """
        first = nn.functional.linear(tangents.permute(2, 0, 1), self._state_weight())
        f, columns = self._push_tangents(t, h, first)
        return f, columns.permute(1, 2, 0)

    def jacobian(
        self, t: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Evaluate f(t, h) and J = ∂f/∂h, shapes (batch, d) and (batch, d, d).

        Same as ``jvp`` with V = I, but the first layer's tangents are its
        weight columns, so no product is formed for them.
        """
        first = self._state_weight().T.unsqueeze(1)
        f, columns = self._push_tangents(t, h, first)
        return f, columns.permute(1, 2, 0)

    def _state_weight(self) -> torch.Tensor:
        # t carries no tangent, so only the state columns of W act on V.
        return self.hidden[0].weight[:, : self.dim]

    def _push_tangents(
        self, t: torch.Tensor, h: torch.Tensor, da: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward pass carrying k tangents; ``da`` are the first layer's.

        Tangents are laid out (k, batch, width), tangent index first, so the
        elementwise products with σ'(a) of shape (batch, width) broadcast
        over the outermost dimension only, which keeps them contiguous in
        memory (a (batch, k, width) layout made them several times slower),
        and each layer applies to all tangents in one matrix product.
        Returns f and the tangents of f, shape (k, batch, d).
        """
        sigma, tangent = _ACTIVATIONS[self.activation]
        a = self.hidden[0](self._input(t, h))
        z = sigma(a)
        dz = tangent(da, a, z)
        for layer in self.hidden[1:]:
            a = layer(z)
            da = nn.functional.linear(dz, layer.weight)
            z = sigma(a)
            dz = tangent(da, a, z)
        return self.output(z), nn.functional.linear(dz, self.output.weight)


def validate_architecture(dim: int, width: int, depth: int, activation: str) -> None:
    """Raise :class:`~odediag.OdediagInputError` for an impossible MLP."""
    if dim < 1:
        raise invalid("dim", dim, "use a state dimension of 1 or more")
    if width < 1:
        raise invalid("width", width, "use at least one hidden unit")
    if depth < 1:
        raise invalid("depth", depth, "use at least one hidden layer")
    if activation not in _ACTIVATIONS:
        raise invalid("activation", activation, f"choose one of {ACTIVATIONS}")
