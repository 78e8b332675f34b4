"""Writing a training run to a folder: records, configuration, model."""

from __future__ import annotations

import json
import os
from pathlib import Path

from odediag.models import save_checkpoint
from odediag.training._loop import TrainResult

RUN_FILES = ("run.nc", "config.json", "model.pt")


def save_run(result: TrainResult, directory: str | os.PathLike) -> dict[str, Path]:
    """Write ``run.nc``, ``config.json`` and ``model.pt`` into ``directory``.

    Parameters
    ----------
    result
        What :func:`~odediag.training.train` returned, interrupted or not.
    directory
        Created (with parents) when missing; existing run files are replaced.

    Returns
    -------
    dict
        File name → path written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / name for name in RUN_FILES}
    result.dataset.to_netcdf(paths["run.nc"])
    summary = {
        "config": result.config.to_dict(),
        "status": result.dataset.attrs["status"],
        "iterations_completed": result.dataset.attrs["iterations_completed"],
    }
    paths["config.json"].write_text(json.dumps(summary, indent=2) + "\n")
    save_checkpoint(paths["model.pt"], result.model, result.config.to_dict())
    return paths
