"""The configuration of one training run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from odediag._errors import invalid
from odediag.models import ModelConfig, MoonsConfig, Regulariser
from odediag.models._data import MAX_SEED
from odediag.models._validate import check_integer, check_number, check_positive


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; equal configs give equal runs.

    Attributes
    ----------
    regulariser, estimator, integration, weight
        The penalty R integrated along the flow, how R and its integral are
        computed (see :class:`~odediag.models.Regulariser`), and its weight λ
        in the objective cross-entropy + λ · mean ∫ R dt.
    iterations
        Adam steps.
    batch_size
        Training points per step, drawn with replacement.
    learning_rate
        Adam step size.
    seed
        Seed of the initial weights, the batches and the probe vectors (the
        data set has its own seed in ``data``).
    adjoint
        Gradients by the adjoint method instead of backpropagation through
        the solver's operations.
    probe_every
        Iterations between probes of the spectrum and the test accuracy
        (every K-th iteration and the last one).
    probe_size
        Training points in the fixed probe batch.
    model, data
        Architecture and solver settings; data set and split.
    """

    regulariser: str = "none"
    estimator: str = "exact"
    integration: str = "nodes"
    weight: float = 0.05
    iterations: int = 300
    batch_size: int = 128
    learning_rate: float = 3e-2
    seed: int = 0
    adjoint: bool = False
    probe_every: int = 25
    probe_size: int = 128
    model: ModelConfig = field(default_factory=ModelConfig)
    data: MoonsConfig = field(default_factory=MoonsConfig)

    def __post_init__(self) -> None:
        _ = self.regulariser_spec  # validates the combination
        check_number("weight", self.weight, 0, "use a finite weight of 0 or more")
        _check_count("iterations", self.iterations, 1, "train at least 1 step")
        _check_count("batch_size", self.batch_size, 1, "use 1 or more points")
        _check_count("probe_every", self.probe_every, 1, "probe every 1+ steps")
        _check_count("probe_size", self.probe_size, 1, "probe 1 or more points")
        _check_count("seed", self.seed, 0, f"use a seed from 0 to {MAX_SEED}")
        if self.seed >= MAX_SEED:  # seed + 1 seeds the penalty's probe vectors
            raise invalid("seed", self.seed, f"use a seed from 0 to {MAX_SEED - 1}")
        check_positive(
            "learning_rate", self.learning_rate, "use a positive, finite rate"
        )
        if not isinstance(self.model, ModelConfig):
            raise invalid("model", self.model, "pass a ModelConfig")
        if not isinstance(self.data, MoonsConfig):
            raise invalid("data", self.data, "pass a MoonsConfig")

    @property
    def regulariser_spec(self) -> Regulariser:
        """The :class:`~odediag.models.Regulariser` this run integrates."""
        return Regulariser(
            self.regulariser, self.estimator, integration=self.integration
        )

    def to_dict(self) -> dict[str, Any]:
        """Nested plain-type dictionary (JSON and checkpoint friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an input error."""
        values = dict(_known_keys(cls, "configuration", values))
        values["model"] = ModelConfig(
            **_known_keys(ModelConfig, "model", values.get("model", {}))
        )
        values["data"] = MoonsConfig(
            **_known_keys(MoonsConfig, "data", values.get("data", {}))
        )
        return cls(**values)

    def to_attrs(self) -> dict[str, Any]:
        """Flat netCDF-safe attributes: model_* and data_* prefixed, bools as 0/1."""
        flat: dict[str, Any] = {}
        for key, value in self.to_dict().items():
            if isinstance(value, dict):
                flat.update({f"{key}_{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return {k: int(v) if isinstance(v, bool) else v for k, v in flat.items()}


def _known_keys(cls: type, name: str, values: Any) -> Mapping[str, Any]:
    """``values`` as a mapping holding only fields of the dataclass ``cls``."""
    if not isinstance(values, Mapping):
        raise invalid(name, values, "give a dictionary of settings")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise invalid(f"{name} keys", unknown, f"use only {sorted(known)}")
    return values


def _check_count(name: str, value: int, low: int, fix: str) -> None:
    check_integer(name, value)
    if not value >= low:
        raise invalid(name, value, fix)
