"""A neural-ODE classifier: lift, flow with f, read out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from odediag._errors import invalid
from odediag.models._dynamics import MLPDynamics, validate_architecture
from odediag.models._regularisers import (
    PenalisedDynamics,
    model_state_norm,
    simpson_weights,
)
from odediag.models._solve import solve
from odediag.models._validate import check_integer, check_positive

METHODS = ("dopri5", "bosh3", "fehlberg2", "adaptive_heun", "dopri8")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and solver settings of a :class:`NeuralODEClassifier`.

    The defaults are ours: Josias and Brink (2022) publish neither the
    architecture nor the tolerances. With them and the training defaults of
    :class:`~odediag.training.TrainConfig`, an unregularised model's
    evaluations per dopri5 solve grow from 14 at initialisation to 38-44
    after 300 iterations, the effect the regularisers are meant to curb; see
    ``docs/moons-models.md``.

    Attributes
    ----------
    data_dim
        Input dimension (2 for the moons).
    augment
        Extra zero-initialised state dimensions (augmented neural ODEs,
        Dupont et al. 2019); the state has ``data_dim + augment`` components.
    width, depth, activation, time_dependent
        The field's MLP; see :class:`MLPDynamics`.
    n_classes
        Outputs of the linear readout.
    t_end
        The flow runs over [0, t_end].
    method, rtol, atol
        torchdiffeq adaptive method and tolerances.
    max_steps
        Attempted steps after which a solve stops with status ``max_steps``
        (:class:`~odediag.SolveError`). A trained field needs tens of steps;
        one blown up by a too large learning rate needs millions, and the
        budget turns that hang into a recorded failure.
    """

    data_dim: int = 2
    augment: int = 0
    width: int = 64
    depth: int = 2
    activation: str = "tanh"
    time_dependent: bool = True
    n_classes: int = 2
    t_end: float = 1.0
    method: str = "dopri5"
    rtol: float = 1e-3
    atol: float = 1e-3
    max_steps: int = 10_000

    def __post_init__(self) -> None:
        for name in ("data_dim", "augment", "width", "depth", "n_classes"):
            check_integer(name, getattr(self, name))
        validate_architecture(self.data_dim, self.width, self.depth, self.activation)
        if self.augment < 0:
            raise invalid("augment", self.augment, "use 0 or more extra dimensions")
        if self.n_classes < 2:
            raise invalid("n_classes", self.n_classes, "use 2 or more classes")
        check_positive("t_end", self.t_end, "use a positive, finite end time")
        if self.method not in METHODS:
            raise invalid("method", self.method, f"choose one of {METHODS}")
        check_positive("rtol", self.rtol, "use a positive tolerance, e.g. 1e-3")
        check_positive("atol", self.atol, "use a positive tolerance, e.g. 1e-3")
        check_integer("max_steps", self.max_steps)
        if self.max_steps < 1:
            raise invalid("max_steps", self.max_steps, "allow 1 or more steps")

    @property
    def state_dim(self) -> int:
        """Dimension of the ODE state h."""
        return self.data_dim + self.augment

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dictionary, for checkpoints and dataset attributes."""
        return asdict(self)


class NeuralODEClassifier(nn.Module):
    """Classifier logits = W h(T) + b, with dh/dt = f(t, h), h(0) = (x, 0).

    Every forward solve goes through odediag's solver wrapper and returns the
    solve's trace next to its result.

    Parameters
    ----------
    config
        Architecture and solver settings.

    References
    ----------
    Chen, R. T. Q., Rubanova, Y., Bettencourt, J. and Duvenaud, D. (2018).
    Neural ordinary differential equations. NeurIPS 2018.
    Dupont, E., Doucet, A. and Teh, Y. W. (2019). Augmented neural ODEs.
    NeurIPS 2019, section 4.
    """

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        self.config = config or ModelConfig()
        c = self.config
        self.dynamics = MLPDynamics(
            c.state_dim, c.width, c.depth, c.activation, c.time_dependent
        )
        self.readout = nn.Linear(c.state_dim, c.n_classes)

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """Initial states (x, 0), shape (batch, state_dim)."""
        zeros = torch.zeros(*x.shape[:-1], self.config.augment, dtype=x.dtype)
        return torch.cat([x, zeros], dim=-1)

    def times(self, n_times: int = 2) -> torch.Tensor:
        """Output times, ``n_times`` equally spaced over [0, t_end]."""
        return torch.linspace(0.0, self.config.t_end, n_times)

    def _solver_settings(self) -> dict[str, Any]:
        c = self.config
        return {
            "rtol": c.rtol,
            "atol": c.atol,
            "method": c.method,
            "max_steps": c.max_steps,
        }

    def trajectory(
        self,
        x: torch.Tensor,
        n_times: int = 2,
        adjoint: bool = False,
        spectrum: bool = False,
    ) -> tuple[torch.Tensor, Any]:
        """Solve from the lifted x; states of shape (n_times, batch, state_dim)."""
        states, trace = solve(
            self.dynamics,
            self.lift(x),
            self.times(n_times),
            adjoint=adjoint,
            spectrum=spectrum,
            problem="moons-classifier",
            **self._solver_settings(),
        )
        return states, trace

    def forward(
        self, x: torch.Tensor, adjoint: bool = False, spectrum: bool = False
    ) -> tuple[torch.Tensor, Any]:
        """Logits of shape (batch, n_classes) and the solve's trace."""
        states, trace = self.trajectory(x, adjoint=adjoint, spectrum=spectrum)
        return self.readout(states[-1]), trace

    def penalised(
        self, x: torch.Tensor, field: PenalisedDynamics, adjoint: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """Logits, integrated penalty per sample (shape (batch,)) and the trace.

        The regulariser's ``integration`` decides how ∫ R dt is formed (see
        :class:`Regulariser`); either way the solver's steps, and so the
        trace, are those the model's own dynamics call for.
        """
        if field.regulariser.integration == "nodes":
            return self._penalised_at_nodes(x, field, adjoint)
        d = self.config.state_dim
        states, trace = solve(
            field,
            field.start_solve(self.lift(x)),
            self.times(),
            adjoint=adjoint,
            options={"norm": model_state_norm(d)},
            problem="moons-classifier-penalised",
            **self._solver_settings(),
        )
        final = states[-1]
        return self.readout(final[..., :d]), final[..., d], trace

    def _penalised_at_nodes(
        self, x: torch.Tensor, field: PenalisedDynamics, adjoint: bool
    ) -> tuple[torch.Tensor, torch.Tensor, Any]:
        n_nodes = field.regulariser.n_nodes
        states, trace = self.trajectory(x, n_times=n_nodes, adjoint=adjoint)
        times = self.times(n_nodes)
        rows = states.reshape(-1, states.shape[-1])
        row_times = times.repeat_interleave(states.shape[1]).unsqueeze(-1)
        field.resample(tuple(rows.shape))
        _, penalty = field.field_and_penalty(row_times, rows)
        weights = simpson_weights(times).unsqueeze(-1)
        integral = (weights * penalty.reshape(n_nodes, -1)).sum(dim=0)
        return self.readout(states[-1]), integral, trace
