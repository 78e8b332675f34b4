"""Training neural-ODE classifiers with regularisers, recording every iteration."""

from odediag.training._config import TrainConfig
from odediag.training._loop import TrainResult, train
from odediag.training._output import RUN_FILES, prepare_run_dir, save_run
from odediag.training._probe import (
    probe,
    spectral_summary,
    stability_limited_share,
    trajectory_summary,
)
from odediag.training._records import (
    ITERATION_VARIABLES,
    PROBE_VARIABLES,
    Records,
    combine_runs,
)

__all__ = [
    "ITERATION_VARIABLES",
    "PROBE_VARIABLES",
    "RUN_FILES",
    "Records",
    "TrainConfig",
    "TrainResult",
    "combine_runs",
    "prepare_run_dir",
    "probe",
    "save_run",
    "spectral_summary",
    "stability_limited_share",
    "train",
    "trajectory_summary",
]
