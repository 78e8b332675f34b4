"""The training loop: Adam on cross-entropy plus an integrated penalty."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import xarray as xr
from torch.nn import functional as F

from odediag import __version__
from odediag._errors import SolveError
from odediag.models import (
    MoonsData,
    NeuralODEClassifier,
    PenalisedDynamics,
    moons_data,
    solver_backend,
)
from odediag.training._config import TrainConfig
from odediag.training._probe import probe
from odediag.training._records import Records

Progress = Callable[[int, Mapping[str, float]], None]


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    model
        The trained classifier (as far as training got).
    dataset
        Per-iteration records; see :func:`train`.
    config
        The run's configuration.
    interrupted
        Whether a KeyboardInterrupt stopped the run early.
    """

    model: NeuralODEClassifier
    dataset: xr.Dataset
    config: TrainConfig
    interrupted: bool


class _Run:
    """The state of one run: model, optimiser, penalty field, data, RNGs."""

    def __init__(self, config: TrainConfig):
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = NeuralODEClassifier(config.model)
        self.optimiser = torch.optim.Adam(
            self.model.parameters(), lr=config.learning_rate
        )
        self.batches = torch.Generator().manual_seed(config.seed)
        self.field = _penalised_field(self.model, config)
        self.data: MoonsData = moons_data(config.data)
        self.x_probe = self.data.x_train[: config.probe_size]

    def step(self) -> dict[str, float]:
        """One Adam step on a fresh batch; returns the iteration's record."""
        start = time.perf_counter()
        x, y = self._batch()
        self.optimiser.zero_grad()
        logits, penalty, trace = self._forward(x)
        cross_entropy = F.cross_entropy(logits, y)
        loss = cross_entropy + self.config.weight * penalty
        self._backward(loss, trace)
        self.optimiser.step()
        return {
            "loss": loss.item(),
            "cross_entropy": cross_entropy.item(),
            "penalty": penalty.item(),
            "accuracy": float((logits.argmax(-1) == y).float().mean()),
            "nfe_forward": trace.nfe,
            "nfe_backward": trace.nfe_backward,
            "n_accepted": trace.n_accepted,
            "n_rejected": trace.n_rejected,
            "wall_time": time.perf_counter() - start,
        }

    def _backward(self, loss: torch.Tensor, trace: Any) -> None:
        try:
            loss.backward()
        except AssertionError as error:
            # torchdiffeq's own checks in the adjoint solve (its step budget
            # max_num_steps, step underflow) stop backward() with an assert.
            if not self.config.adjoint:
                raise
            raise SolveError(
                f"the adjoint solve of the backward pass stopped: {error}",
                trace.backward or trace,
            ) from error

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.data.x_train)
        index = torch.randint(0, n, (self.config.batch_size,), generator=self.batches)
        return self.data.x_train[index], self.data.y_train[index]

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
        adjoint = self.config.adjoint
        if self.field is None:
            logits, trace = self.model(x, adjoint=adjoint)
            return logits, torch.zeros(()), trace
        logits, penalty, trace = self.model.penalised(x, self.field, adjoint=adjoint)
        return logits, penalty.mean(), trace

    def probe(self) -> dict[str, float]:
        """Probe measurements; see :func:`~odediag.training.probe`."""
        return probe(self.model, self.x_probe, self.data.x_test, self.data.y_test)


def _penalised_field(
    model: NeuralODEClassifier, config: TrainConfig
) -> PenalisedDynamics | None:
    regulariser = config.regulariser_spec
    if not regulariser.active:
        return None
    generator = torch.Generator().manual_seed(config.seed + 1)
    return PenalisedDynamics(model.dynamics, regulariser, generator)


def train(config: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train a neural-ODE classifier on the two moons and record every step.

    Parameters
    ----------
    config
        The run's configuration.
    progress
        Called after each iteration with its index and record.

    Returns
    -------
    TrainResult
        ``dataset`` has dimension ``iteration`` with the variables of
        :data:`ITERATION_VARIABLES` at every iteration and those of
        :data:`PROBE_VARIABLES` every ``probe_every`` iterations and at the
        last one (NaN in between). Its attributes hold the flattened
        configuration, ``status`` (``completed``, ``interrupted``,
        ``solve_failed``), ``message``, ``interrupted`` (0/1) and
        ``iterations_completed``.

    Notes
    -----
    A KeyboardInterrupt ends the loop, not the run: the records so far are
    returned with ``interrupted`` set, and the model as last updated. A solve
    that fails (:class:`~odediag.SolveError`) ends it the same way, with
    ``status`` ``solve_failed`` and the solver's message. Every solve has a
    budget of ``config.model.max_steps`` attempted steps, so a field blown up
    by a too large learning rate fails this way instead of running for hours.
    """
    run = _Run(config)
    records = Records(config.iterations)
    status, message = "completed", ""
    try:
        _loop(run, records, progress)
    except KeyboardInterrupt:
        status, message = "interrupted", "stopped by KeyboardInterrupt"
    except SolveError as error:
        status, message = "solve_failed", str(error)
    attrs = {**_attrs(config, records), "status": status, "message": message}
    attrs["interrupted"] = int(status == "interrupted")
    dataset = records.to_dataset(attrs)
    return TrainResult(run.model, dataset, config, status == "interrupted")


def _loop(run: _Run, records: Records, progress: Progress | None) -> None:
    n = run.config.iterations
    for i in range(n):
        records.add(run.step())
        if i % run.config.probe_every == 0 or i == n - 1:
            records.add_probe(run.probe())
        if progress is not None:
            progress(i, _last(records))


def _last(records: Records) -> dict[str, float]:
    i = records.completed - 1
    return {name: column[i].item() for name, column in records.columns.items()}


def _attrs(config: TrainConfig, records: Records) -> dict:
    return {
        **config.to_attrs(),
        "iterations_completed": records.completed,
        "solver_backend": solver_backend(),
        "odediag_version": __version__,
        "torch_version": torch.__version__,
    }
