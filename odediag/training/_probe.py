"""Spectral and energy measurements of a model on a fixed probe batch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import xarray as xr

from odediag.models import NeuralODEClassifier
from odediag.training._records import PROBE_VARIABLES

# Output times at which f and J are evaluated along the probe trajectories.
N_PROBE_TIMES = 11

_SPECTRAL = (
    "condition_number_mean",
    "condition_number_max",
    "spectral_radius_mean",
    "spectral_radius_max",
    "stiffness_ratio_mean",
)


def probe(
    model: NeuralODEClassifier,
    x_probe: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
) -> dict[str, float]:
    """Measure the model's field on the probe batch and its test accuracy.

    Parameters
    ----------
    model
        The classifier.
    x_probe
        Fixed probe points, shape (n, 2).
    x_test, y_test
        Test points and labels.

    Returns
    -------
    dict
        One value for each of :data:`~odediag.training.PROBE_VARIABLES`.
        Spectral values come from the traced spectrum of a plain solve (no
        penalty column) from the probe points; where the trace has no
        spectrum they are NaN.
    """
    with torch.no_grad():
        states, trace = model.trajectory(x_probe, N_PROBE_TIMES, spectrum=True)
        logits, test_trace = model(x_test)
    values: dict[str, float] = {"probe_nfe": float(trace.nfe)}
    values.update(spectral_summary(trace))
    values.update(trajectory_summary(model, states))
    values["test_accuracy"] = _accuracy(logits, y_test)
    values["test_nfe"] = float(test_trace.nfe)
    assert set(values) == set(PROBE_VARIABLES)
    return values


def spectral_summary(trace: Any) -> dict[str, float]:
    """Condition number, spectral radius and stiffness over accepted steps.

    Statistics are over accepted steps and samples. The mean condition number
    leaves out infinite values (an exactly singular J); the maximum keeps
    them, so a singular J shows as an infinite maximum.
    """
    nan = dict.fromkeys(_SPECTRAL, math.nan)
    nan["stability_limited_share"] = math.nan
    dataset = trace.to_dataset() if hasattr(trace, "to_dataset") else None
    if dataset is None or "condition_number" not in dataset:
        return nan
    accepted = dataset["accepted"]
    kappa = dataset["condition_number"].where(accepted)
    radius = dataset["spectral_radius"].where(accepted)
    stiffness = dataset["stiffness_ratio"].where(accepted)
    return {
        "condition_number_mean": _mean(kappa.where(np.isfinite(kappa))),
        "condition_number_max": float(kappa.max()),
        "spectral_radius_mean": _mean(radius),
        "spectral_radius_max": float(radius.max()),
        "stiffness_ratio_mean": _mean(stiffness.where(np.isfinite(stiffness))),
        "stability_limited_share": stability_limited_share(dataset),
    }


def stability_limited_share(dataset: xr.Dataset) -> float:
    """Share of accepted steps whose size stability, not accuracy, limited.

    Uses :func:`odediag.stiffness.stability_limited`; NaN where that function
    is not available.
    """
    try:
        from odediag.stiffness import stability_limited
    except ImportError:
        return math.nan
    limited = stability_limited(dataset).astype(float)
    return _mean(limited.where(dataset["accepted"]))


def trajectory_summary(
    model: NeuralODEClassifier, states: torch.Tensor
) -> dict[str, float]:
    """Mean ‖f‖² and mean ‖J‖_F at the output times of the probe solve.

    Parameters
    ----------
    model
        The classifier whose field is measured.
    states
        Shape (n_times, batch, state_dim), at ``model.times(n_times)``.
    """
    times = model.times(states.shape[0])
    kinetic, frobenius = [], []
    with torch.no_grad():
        for t, h in zip(times, states, strict=True):
            f, J = model.dynamics.jacobian(t, h)
            kinetic.append(f.square().sum(-1))
            frobenius.append(torch.linalg.matrix_norm(J))
    return {
        "kinetic_energy": float(torch.stack(kinetic).mean()),
        "jacobian_frobenius": float(torch.stack(frobenius).mean()),
    }


def _mean(values: xr.DataArray) -> float:
    return float(values.mean(skipna=True))


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=-1) == labels).float().mean())
