"""Per-iteration records of a training run, as an xarray Dataset."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr

# Recorded at every iteration: name -> (dtype, units, meaning).
ITERATION_VARIABLES: dict[str, tuple[type, str, str]] = {
    "loss": (np.float64, "1", "objective: cross_entropy + weight * penalty"),
    "cross_entropy": (np.float64, "1", "mean cross-entropy of the batch"),
    "penalty": (np.float64, "1", "batch mean of the integrated penalty ∫R dt"),
    "accuracy": (np.float64, "1", "accuracy on the training batch"),
    "nfe_forward": (np.int64, "1", "function evaluations of the forward solve"),
    "nfe_backward": (np.int64, "1", "evaluations or VJPs of the backward pass"),
    "n_accepted": (np.int64, "1", "accepted steps of the forward solve"),
    "n_rejected": (np.int64, "1", "rejected steps of the forward solve"),
    "wall_time": (np.float64, "s", "wall time of the iteration"),
}

# Measured on the fixed probe batch every K iterations; NaN in between.
PROBE_VARIABLES: dict[str, tuple[str, str]] = {
    "condition_number_mean": ("1", "mean σmax/σmin over accepted steps, samples"),
    "condition_number_max": ("1", "max σmax/σmin over accepted steps, samples"),
    "spectral_radius_mean": ("1/time", "mean max|λ| over accepted steps, samples"),
    "spectral_radius_max": ("1/time", "max max|λ| over accepted steps, samples"),
    "stiffness_ratio_mean": ("1", "mean stiffness ratio where defined"),
    "stability_limited_share": ("1", "share of steps limited by stability"),
    "kinetic_energy": ("1/time^2", "mean ‖f‖² along the probe trajectories"),
    "jacobian_frobenius": ("1/time", "mean ‖J‖_F along the probe trajectories"),
    "probe_nfe": ("1", "function evaluations of the plain probe solve"),
    "test_accuracy": ("1", "accuracy on the test set"),
    "test_nfe": ("1", "function evaluations of the plain test-set solve"),
}


class Records:
    """Preallocated columns filled one iteration at a time.

    Parameters
    ----------
    n_iterations
        Planned iterations; :meth:`to_dataset` keeps only the completed ones.
    """

    def __init__(self, n_iterations: int):
        self.completed = 0
        self.columns = {
            name: np.zeros(n_iterations, dtype=dtype)
            for name, (dtype, _, _) in ITERATION_VARIABLES.items()
        }
        self.columns.update(
            {name: np.full(n_iterations, np.nan) for name in PROBE_VARIABLES}
        )

    def add(self, values: Mapping[str, float]) -> None:
        """Record the values of the next iteration (all of ITERATION_VARIABLES)."""
        for name in ITERATION_VARIABLES:
            self.columns[name][self.completed] = values[name]
        self.completed += 1

    def add_probe(self, values: Mapping[str, float]) -> None:
        """Record probe values for the iteration last added."""
        for name, value in values.items():
            self.columns[name][self.completed - 1] = value

    def to_dataset(self, attrs: Mapping[str, Any]) -> xr.Dataset:
        """The completed iterations as a Dataset with dimension ``iteration``."""
        n = self.completed
        data_vars = {
            name: ("iteration", column[:n], _variable_attrs(name))
            for name, column in self.columns.items()
        }
        coords = {"iteration": np.arange(n, dtype=np.int64)}
        return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs))


def _variable_attrs(name: str) -> dict[str, str]:
    if name in ITERATION_VARIABLES:
        _, units, meaning = ITERATION_VARIABLES[name]
    else:
        units, meaning = PROBE_VARIABLES[name]
    return {"units": units, "long_name": meaning}


def combine_runs(runs: Iterable[xr.Dataset]) -> xr.Dataset:
    """Combine run datasets along new dimensions ``regulariser`` and ``seed``.

    Parameters
    ----------
    runs
        Datasets from :func:`~odediag.training.train` (or reopened
        ``run.nc`` files); each names its regulariser and seed in its
        attributes.

    Returns
    -------
    xarray.Dataset
        Dimensions (regulariser, seed, iteration). Runs of different lengths
        (an interrupted one) and missing (regulariser, seed) pairs are padded
        with NaN. The weight of each run becomes a variable ``weight``;
        attributes the runs disagree on are dropped.
    """
    expanded = [_expand_run(run) for run in runs]
    if not expanded:
        raise ValueError("combine_runs needs at least one run")
    return xr.merge(
        expanded, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts"
    )


def _expand_run(run: xr.Dataset) -> xr.Dataset:
    run = run.assign(weight=float(run.attrs["weight"]))
    return run.expand_dims(
        regulariser=[str(run.attrs["regulariser"])], seed=[int(run.attrs["seed"])]
    )
