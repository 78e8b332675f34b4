"""``odediag train``: train a neural-ODE classifier of the two moons."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import torch
from tqdm import tqdm

from odediag import OdediagInputError, training
from odediag.models import ModelConfig, MoonsConfig
from odediag.training import TrainConfig, prepare_run_dir, save_run
from odediag_cli._common import friendly_errors

T = TypeVar("T")

_DEFAULT = TrainConfig()
_MODEL = ModelConfig()
_DATA = MoonsConfig()


def _training_options(command):
    options = [
        click.option(
            "--regulariser",
            "-r",
            default=_DEFAULT.regulariser,
            show_default=True,
            help="none, frobenius, spectral, condition or kinetic.",
        ),
        click.option(
            "--weight",
            "-w",
            type=float,
            default=_DEFAULT.weight,
            show_default=True,
            help="Weight λ of the penalty.",
        ),
        click.option(
            "--estimator",
            default=_DEFAULT.estimator,
            show_default=True,
            help="exact; hutchinson (frobenius); power (spectral).",
        ),
        click.option(
            "--integration",
            default=_DEFAULT.integration,
            show_default=True,
            help="state (extra ODE state) or nodes (Simpson on dense output).",
        ),
        click.option(
            "--iterations",
            "-n",
            type=int,
            default=_DEFAULT.iterations,
            show_default=True,
            help="Adam steps.",
        ),
        click.option(
            "--batch-size",
            type=int,
            default=_DEFAULT.batch_size,
            show_default=True,
            help="Points per step.",
        ),
        click.option(
            "--learning-rate",
            type=float,
            default=_DEFAULT.learning_rate,
            show_default=True,
            help="Adam step size.",
        ),
        click.option(
            "--seed",
            type=int,
            default=_DEFAULT.seed,
            show_default=True,
            help="Seed of weights, batches and probe vectors.",
        ),
        click.option(
            "--adjoint/--backprop",
            default=_DEFAULT.adjoint,
            show_default=True,
            help="Gradients by the adjoint method or by backpropagation.",
        ),
        click.option(
            "--probe-every",
            type=int,
            default=_DEFAULT.probe_every,
            show_default=True,
            help="Iterations between spectrum and test probes.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _model_options(command):
    options = [
        click.option(
            "--width",
            type=int,
            default=_MODEL.width,
            show_default=True,
            help="Hidden units per layer of f.",
        ),
        click.option(
            "--depth",
            type=int,
            default=_MODEL.depth,
            show_default=True,
            help="Hidden layers of f.",
        ),
        click.option(
            "--activation",
            default=_MODEL.activation,
            show_default=True,
            help="tanh, softplus, sigmoid or relu.",
        ),
        click.option(
            "--augment",
            type=int,
            default=_MODEL.augment,
            show_default=True,
            help="Augmented state dimensions.",
        ),
        click.option(
            "--time/--no-time",
            "time_dependent",
            default=_MODEL.time_dependent,
            show_default=True,
            help="Whether f depends on t.",
        ),
        click.option(
            "--method",
            default=_MODEL.method,
            show_default=True,
            help="torchdiffeq adaptive method.",
        ),
        click.option(
            "--rtol",
            type=float,
            default=_MODEL.rtol,
            show_default=True,
            help="Relative tolerance.",
        ),
        click.option(
            "--atol",
            type=float,
            default=_MODEL.atol,
            show_default=True,
            help="Absolute tolerance.",
        ),
        click.option(
            "--max-steps",
            type=int,
            default=_MODEL.max_steps,
            show_default=True,
            help="Attempted steps after which a solve, and the run, stop.",
        ),
        click.option(
            "--noise",
            type=float,
            default=_DATA.noise,
            show_default=True,
            help="Noise of the moons.",
        ),
        click.option(
            "--samples",
            type=int,
            default=_DATA.n_samples,
            show_default=True,
            help="Points in the data set.",
        ),
        click.option(
            "--data-seed",
            type=int,
            default=_DATA.seed,
            show_default=True,
            help="Seed of the data set and split.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("train")
@_training_options
@_model_options
@click.option(
    "--output",
    "-o",
    "run_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Run folder for run.nc, config.json and model.pt; created if missing.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="torch threads; more only slow down tensors this small.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@friendly_errors
def train(run_dir: Path, threads: int, quiet: bool, **options) -> None:
    """Train a neural-ODE classifier of the two moons, recording every step.

    Writes RUN_DIR/run.nc (per-iteration loss, NFE, probes), config.json and
    model.pt. Ctrl-C stops training and still writes what was recorded; so
    does a solve that fails (e.g. after --max-steps steps of a field blown up
    by a too large --learning-rate).
    """
    config = _config(options)
    prepare_run_dir(run_dir, argument="--output")
    torch.set_num_threads(threads)
    with tqdm(total=config.iterations, disable=quiet, unit="it") as bar:
        result = training.train(config, progress=_progress(bar))
    paths = save_run(result, run_dir)
    status = result.dataset.attrs["status"]
    done = result.dataset.attrs["iterations_completed"]
    click.echo(f"{status}: {done} iterations, written to {paths['run.nc'].parent}")
    if status == "interrupted":
        raise click.exceptions.Exit(130)
    if status == "solve_failed":
        raise click.ClickException(
            f"{result.dataset.attrs['message']}; in training this is most often a "
            "field blown up by too large a --learning-rate"
        )
    if status != "completed":
        raise click.ClickException(result.dataset.attrs["message"])


def _config(options: dict) -> TrainConfig:
    model_keys = (
        "width",
        "depth",
        "activation",
        "augment",
        "time_dependent",
        "method",
        "rtol",
        "atol",
        "max_steps",
    )
    model_options = {k: options.pop(k) for k in model_keys}
    model = _checked(lambda: ModelConfig(**model_options), {"time_dependent": "--time"})
    data_options = {
        "n_samples": options.pop("samples"),
        "noise": options.pop("noise"),
        "seed": options.pop("data_seed"),
    }
    data = _checked(
        lambda: MoonsConfig(**data_options),
        {"n_samples": "--samples", "seed": "--data-seed"},
    )
    return _checked(lambda: TrainConfig(model=model, data=data, **options), {})


def _checked(make: Callable[[], T], options: dict[str, str]) -> T:
    """``make()``, with its input errors naming the option, not the field.

    Parameters
    ----------
    make
        Builds a configuration from the options.
    options
        Field name → option name where the option is not ``--field-name``.
    """
    try:
        return make()
    except OdediagInputError as error:
        raise click.ClickException(_option_message(str(error), options)) from None


def _option_message(message: str, options: dict[str, str]) -> str:
    """``invalid seed -1: ...`` → ``invalid --data-seed -1: ...``."""
    word, _, rest = message.partition(" ")
    field, _, tail = rest.partition(" ")
    if word != "invalid" or not tail:
        return message
    option = options.get(field, "--" + field.replace("_", "-"))
    return f"invalid {option} {tail}"


def _progress(bar: tqdm):
    def update(iteration: int, record: dict[str, float]) -> None:
        bar.set_postfix(
            loss=f"{record['loss']:.3f}", nfe=int(record["nfe_forward"]), refresh=False
        )
        bar.update(1)

    return update
