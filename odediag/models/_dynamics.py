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

# Each activation with its derivative written in terms of the pre-activation a.
# Written out because forward-mode tangents need σ'(a) next to σ(a).
_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "tanh": (torch.tanh, lambda a: 1 - torch.tanh(a) ** 2),
    "softplus": (nn.functional.softplus, torch.sigmoid),
    "sigmoid": (torch.sigmoid, lambda a: torch.sigmoid(a) * (1 - torch.sigmoid(a))),
    "relu": (torch.relu, lambda a: (a > 0).to(a.dtype)),
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
        _validate_architecture(dim, width, depth, activation)
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
            Tangent vectors V in h, shape (batch, d, k); V = I gives J itself.

        Returns
        -------
        f : torch.Tensor
            Shape (batch, d).
        JV : torch.Tensor
            Shape (batch, d, k): J(t, h) V per sample, differentiable in the
            parameters, h and V.
        """
        sigma, dsigma = _ACTIVATIONS[self.activation]
        z = self._input(t, h)
        dz = tangents
        for i, layer in enumerate(self.hidden):
            a = layer(z)
            # t carries no tangent, so only the state columns of W act on V.
            weight = layer.weight[:, : self.dim] if i == 0 else layer.weight
            da = weight @ dz
            z = sigma(a)
            dz = dsigma(a).unsqueeze(-1) * da
        return self.output(z), self.output.weight @ dz


def _validate_architecture(dim: int, width: int, depth: int, activation: str) -> None:
    if dim < 1:
        raise invalid("dim", dim, "use a state dimension of 1 or more")
    if width < 1:
        raise invalid("width", width, "use at least one hidden unit")
    if depth < 1:
        raise invalid("depth", depth, "use at least one hidden layer")
    if activation not in _ACTIVATIONS:
        raise invalid("activation", activation, f"choose one of {ACTIVATIONS}")
