"""Checkpoints of trained classifiers: writing, validating, reading back.

A checkpoint is a dictionary of plain types and tensors, so it loads with
``torch.load(..., weights_only=True)`` and no pickled code runs on loading:

``format``
    :data:`CHECKPOINT_FORMAT`, to tell our files from any other ``.pt`` file.
``version``
    :data:`CHECKPOINT_VERSION` of the layout.
``config``
    The run configuration as nested dictionaries; ``model`` and ``data`` hold
    the fields of :class:`ModelConfig` and :class:`MoonsConfig`.
``state_dict``
    The classifier's parameters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from odediag._errors import OdediagInputError, invalid
from odediag.models._classifier import ModelConfig, NeuralODEClassifier
from odediag.models._data import MoonsConfig, moons_data

CHECKPOINT_FORMAT = "odediag-moons-classifier"
CHECKPOINT_VERSION = 1

_FIX = "pass a model.pt written by 'odediag train'"


def save_checkpoint(
    path: str | os.PathLike, model: NeuralODEClassifier, config: Mapping[str, Any]
) -> Path:
    """Write ``model`` and its run configuration to ``path``.

    Parameters
    ----------
    path
        Destination file, conventionally ``model.pt``.
    model
        The classifier.
    config
        Nested plain-type configuration with ``model`` and ``data`` entries,
        e.g. ``TrainConfig.to_dict()``.
    """
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": dict(config),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }
    path = Path(path)
    torch.save(checkpoint, path)
    return path


def load_checkpoint(
    path: str | os.PathLike,
) -> tuple[NeuralODEClassifier, dict[str, Any]]:
    """Read a checkpoint back as a classifier in eval mode and its configuration.

    Raises
    ------
    OdediagInputError
        One line naming the file when it is missing, unreadable, corrupt, not
        an odediag checkpoint, of a newer layout, or inconsistent.
    """
    checkpoint = _read(Path(path))
    _check_layout(checkpoint, path)
    config = checkpoint["config"]
    try:
        model = NeuralODEClassifier(ModelConfig(**config["model"]))
        MoonsConfig(**config.get("data", {}))
        model.load_state_dict(checkpoint["state_dict"])
    except (OdediagInputError, KeyError, TypeError, RuntimeError) as error:
        reason = str(error).splitlines()[0]
        raise invalid(
            "checkpoint", str(path), f"inconsistent ({reason}); {_FIX}"
        ) from error
    return model.eval(), config


def load_model(path: str | os.PathLike) -> NeuralODEClassifier:
    """The classifier stored in a checkpoint; see :func:`load_checkpoint`."""
    return load_checkpoint(path)[0]


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise invalid("checkpoint", str(path), f"no such file; {_FIX}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt file
        name = type(error).__name__
        raise invalid(
            "checkpoint", str(path), f"unreadable ({name}); {_FIX}"
        ) from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != (
        CHECKPOINT_FORMAT
    ):
        raise invalid("checkpoint", str(path), f"not an odediag model; {_FIX}")
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        fix = f"layout {checkpoint.get('version')!r} is not {CHECKPOINT_VERSION}"
        raise invalid("checkpoint", str(path), f"{fix}; {_FIX}")
    return checkpoint


def _check_layout(checkpoint: dict[str, Any], path: str | os.PathLike) -> None:
    """The entries a loader reads exist and have the types it expects."""
    config = checkpoint.get("config")
    state = checkpoint.get("state_dict")
    problems = []
    if not isinstance(config, dict):
        problems.append("no 'config' dictionary")
    else:
        problems += _config_part(config, "model", ModelConfig, required=True)
        problems += _config_part(config, "data", MoonsConfig, required=False)
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        problems.append("no 'state_dict' of named tensors")
    if problems:
        what = ", ".join(problems)
        raise invalid("checkpoint", str(path), f"not an odediag model ({what}); {_FIX}")


def _config_part(
    config: dict[str, Any], part: str, cls: type, required: bool
) -> list[str]:
    """What is wrong with ``config[part]``, the fields of dataclass ``cls``."""
    if part not in config and not required:
        return []
    values = config.get(part)
    if not isinstance(values, dict):
        return [f"no 'config.{part}' dictionary"]
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    return [f"unknown 'config.{part}' keys {unknown}"] if unknown else []


def checkpoint_test_points(
    config: Mapping[str, Any],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Test points and labels of the data set a checkpoint was trained on.

    Parameters
    ----------
    config
        The configuration from :func:`load_checkpoint`.

    Returns
    -------
    x_test, y_test
        Shapes (n, 2) and (n,); drawn again from the data configuration, which
        gives the same points on every machine.
    """
    data = moons_data(MoonsConfig(**config.get("data", {})))
    return data.x_test, data.y_test


def checkpoint_problem(path: str | os.PathLike):
    """The initial value problem of a checkpoint's model on its test points.

    Returns
    -------
    odediag.Problem
        ``f`` the trained field (parameters frozen), ``y0`` the test points
        lifted into the ODE state (shape (n_test, state_dim)), ``t_span``
        (0, t_end); ``params`` holds the model's solver settings (``method``,
        ``rtol``, ``atol``) and architecture.
    """
    from odediag.problems import Problem

    model, config = load_checkpoint(path)
    model.requires_grad_(False)
    x_test, _ = checkpoint_test_points(config)
    return Problem(
        f=model.dynamics,
        y0=model.lift(x_test),
        t_span=(0.0, model.config.t_end),
        name=f"moons-model:{Path(path).name}",
        params=model.config.to_dict(),
        description="trained neural-ODE field of a two-moons classifier",
    )


def default_model_path() -> Path:
    """Path of the small unregularised model shipped with odediag."""
    return Path(str(resources.files("odediag") / "_data" / "moons_default.pt"))
