"""Writing a training run to a folder: records, configuration, model."""

from __future__ import annotations

import json
import os
from pathlib import Path

from odediag._errors import invalid
from odediag.models import save_checkpoint
from odediag.training._loop import TrainResult

RUN_FILES = ("run.nc", "config.json", "model.pt")


def prepare_run_dir(
    directory: str | os.PathLike, argument: str = "directory"
) -> dict[str, Path]:
    """Create the run folder and check that every run file can be written.

    Call it before training, so that a folder that cannot take the run is
    reported before any work is done, not after. Each file is opened for
    appending, which creates no content and truncates nothing; files that
    did not exist are removed again. (``os.access`` would not do: it answers
    yes to root for files root cannot write, e.g. under ``/proc``.)

    Parameters
    ----------
    directory
        The run folder; created with its parents when missing.
    argument
        Name of the argument in the error message (``--output`` on the
        command line).

    Returns
    -------
    dict
        File name → path, for :func:`save_run`.

    Raises
    ------
    OdediagInputError
        When ``directory`` is a file, cannot be created, or a run file in it
        cannot be written (a folder in its place, no permission).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise invalid(argument, str(directory), "it is a file; give a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise invalid(
            argument,
            str(directory),
            f"cannot create it ({error.strerror}); give a folder you can write to",
        ) from None
    paths = {name: directory / name for name in RUN_FILES}
    for path in paths.values():
        _check_writable(path, argument)
    return paths


def _check_writable(path: Path, argument: str) -> None:
    if path.is_dir():
        raise invalid(
            argument,
            str(path.parent),
            f"{path.name} in it is a folder; remove it or give another folder",
        )
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise invalid(
            argument,
            str(path.parent),
            f"cannot write {path.name} there ({error.strerror}); "
            "give a folder you can write to",
        ) from None
    if not existed:
        path.unlink(missing_ok=True)


def save_run(result: TrainResult, directory: str | os.PathLike) -> dict[str, Path]:
    """Write ``run.nc``, ``config.json`` and ``model.pt`` into ``directory``.

    Parameters
    ----------
    result
        What :func:`~odediag.training.train` returned, interrupted or not.
    directory
        Created (with parents) when missing; existing run files are replaced.
        Checked with :func:`prepare_run_dir` first.

    Returns
    -------
    dict
        File name → path written.
    """
    paths = prepare_run_dir(directory)
    result.dataset.to_netcdf(paths["run.nc"])
    summary = {
        "config": result.config.to_dict(),
        "status": result.dataset.attrs["status"],
        "iterations_completed": result.dataset.attrs["iterations_completed"],
    }
    paths["config.json"].write_text(json.dumps(summary, indent=2) + "\n")
    save_checkpoint(paths["model.pt"], result.model, result.config.to_dict())
    return paths
