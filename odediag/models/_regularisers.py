"""Regularisers of a neural ODE, integrated along the trajectory.

A regulariser R(t, h) is integrated over the time span as one extra state
column, r(T) = ∫ R(t, h(t)) dt, as Finlay et al. (2020) do for the kinetic and
Jacobian terms. Integrating (rather than sampling R at the solver's accepted
steps) makes the penalty a property of the trajectory: it does not change
when the solver takes more or fewer steps, and an adaptive solver cannot lower
it by stepping differently.

The extra column is kept out of the solver's error norm (see
:func:`model_state_norm`), so the step sizes, and with them the number of
function evaluations, are set by the model's dynamics alone.

References
----------
Finlay, C., Jacobsen, J.-H., Nurbekyan, L. and Oberman, A. (2020). How to train
your neural ODE: the world of Jacobian and kinetic regularization. ICML 2020,
section 3.
Josias, S. and Brink, W. (2022). Jacobian norm regularisation and conditioning
in neural ODEs. SACAIR 2022, CCIS 1734, pp. 31-45.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from odediag._errors import invalid
from odediag.models._estimators import (
    hutchinson_frobenius,
    power_iteration_spectral,
    rademacher,
)
from odediag.models._penalties import (
    condition_penalty,
    frobenius_penalty,
    spectral_penalty,
)

REGULARISERS = ("none", "frobenius", "spectral", "condition", "kinetic")

# How ∫ R dt is computed: by the solver as an extra state column, or by
# Simpson's rule at equally spaced nodes of the solver's dense output.
INTEGRATIONS = ("state", "nodes")

# Estimators each regulariser accepts; the first is the default.
ESTIMATORS: dict[str, tuple[str, ...]] = {
    "none": ("exact",),
    "kinetic": ("exact",),
    "frobenius": ("exact", "hutchinson"),
    "spectral": ("exact", "power"),
    "condition": ("exact",),
}

_EXACT: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "frobenius": frobenius_penalty,
    "spectral": spectral_penalty,
    "condition": condition_penalty,
}


@dataclass(frozen=True)
class Regulariser:
    """Which penalty R(t, h) to integrate, and how to compute it.

    Attributes
    ----------
    name
        ``none``; ``frobenius`` (‖J‖²_F); ``spectral`` (σ²max(J));
        ``condition`` ((log κ)², κ = σmax/σmin, see
        :func:`~odediag.models.condition_penalty`); ``kinetic`` (‖f‖²).
    estimator
        ``exact`` (J from d forward-mode tangents, then closed forms);
        ``hutchinson`` for ``frobenius``; ``power`` for ``spectral``.
    n_power_iterations
        Iterations of the ``power`` estimator.
    integration
        ``state``: r' = R integrated by the solver as an extra state column
        (left out of the error norm). ``nodes``: Simpson's rule over
        ``n_nodes`` equally spaced times of the solver's dense output, all
        nodes in one batched evaluation after the solve.
    n_nodes
        Simpson nodes (odd, at least 3) for ``nodes``.
    """

    name: str = "none"
    estimator: str = "exact"
    n_power_iterations: int = 4
    integration: str = "state"
    n_nodes: int = 5

    def __post_init__(self) -> None:
        validate_regulariser(self.name, self.estimator)
        if self.n_power_iterations < 0:
            raise invalid(
                "n_power_iterations", self.n_power_iterations, "use 0 or more"
            )
        if self.integration not in INTEGRATIONS:
            raise invalid("integration", self.integration, f"use one of {INTEGRATIONS}")
        if self.n_nodes < 3 or self.n_nodes % 2 == 0:
            raise invalid("n_nodes", self.n_nodes, "use an odd number, 3 or more")

    @property
    def active(self) -> bool:
        """Whether there is a penalty to integrate."""
        return self.name != "none"


def validate_regulariser(name: str, estimator: str = "exact") -> None:
    """Raise :class:`~odediag.OdediagInputError` for an unknown combination."""
    if name not in REGULARISERS:
        raise invalid("regulariser", name, f"choose one of {REGULARISERS}")
    if estimator not in ESTIMATORS[name]:
        raise invalid("estimator", estimator, f"{name} accepts {ESTIMATORS[name]}")


def model_state_norm(dim: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """Error norm over the first ``dim`` columns of the state only.

    Parameters
    ----------
    dim
        Columns of the model state; later columns (integrated penalties) are
        left out.

    Returns
    -------
    callable
        RMS norm, the torchdiffeq default, over ``state[..., :dim]``; pass it
        as ``options={"norm": ...}``.
    """

    def norm(state: torch.Tensor) -> torch.Tensor:
        return state[..., :dim].pow(2).mean().sqrt()

    return norm


class PenalisedDynamics(nn.Module):
    """The vector field extended by one column that integrates a penalty.

    The state has shape (batch, d + 1): the model state h and r, with
    dh/dt = f(t, h) and dr/dt = R(t, h).

    Parameters
    ----------
    dynamics
        The model's field, with ``jacobian(t, h)`` and ``jvp(t, h, V)``
        methods (see :class:`~odediag.models.MLPDynamics`).
    regulariser
        Which penalty R, and its estimator.
    generator
        Source of the probe vectors drawn by :meth:`start_solve`.
    """

    def __init__(
        self,
        dynamics: nn.Module,
        regulariser: Regulariser,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if not regulariser.active:
            raise invalid("regulariser", regulariser.name, "nothing to integrate")
        self.dynamics = dynamics
        self.regulariser = regulariser
        self.generator = generator or torch.Generator().manual_seed(0)
        self._probe: torch.Tensor | None = None

    def resample(self, shape: tuple[int, ...]) -> None:
        """Draw new probe vectors (Hutchinson, power iteration) of ``shape``."""
        self._probe = rademacher(tuple(shape), self.generator)

    def start_solve(self, h0: torch.Tensor) -> torch.Tensor:
        """Draw this solve's probe vectors and return the initial state (h0, 0)."""
        self.resample(tuple(h0.shape))
        zero = torch.zeros(*h0.shape[:-1], 1, dtype=h0.dtype)
        return torch.cat([h0, zero], dim=-1)

    def forward(self, t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        h = state[..., :-1]
        f, penalty = self.field_and_penalty(t, h)
        return torch.cat([f, penalty.unsqueeze(-1)], dim=-1)

    def field_and_penalty(
        self, t: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return f(t, h), shape (batch, d), and R(t, h), shape (batch,).

        ``t`` is a scalar or one time per row, shape (batch, 1).
        """
        name, estimator = self.regulariser.name, self.regulariser.estimator
        if name == "kinetic":
            f = self.dynamics(t, h)
            return f, f.square().sum(dim=-1)
        if estimator == "hutchinson":
            return hutchinson_frobenius(self.dynamics, t, h, self._probe_for(h))
        if estimator == "power":
            return power_iteration_spectral(
                self.dynamics,
                t,
                h,
                self._probe_for(h),
                self.regulariser.n_power_iterations,
            )
        f, J = self.dynamics.jacobian(t, h)
        return f, _EXACT[name](J)

    def _probe_for(self, h: torch.Tensor) -> torch.Tensor:
        if self._probe is None or self._probe.shape != h.shape:
            self.resample(tuple(h.shape))
        return self._probe


def simpson_weights(times: torch.Tensor) -> torch.Tensor:
    """Weights of Simpson's rule on equally spaced ``times`` (odd count).

    References
    ----------
    Press, W. H. et al. (2007). Numerical Recipes, 3rd ed., section 4.1
    (extended Simpson's rule, error O(h⁴)).
    """
    n = len(times)
    weights = torch.ones(n, dtype=times.dtype)
    weights[1:-1:2] = 4
    weights[2:-1:2] = 2
    return weights * (times[1] - times[0]) / 3
