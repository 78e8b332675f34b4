"""``odediag train`` on the command line."""

from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from odediag import training
from odediag.models import load_checkpoint
from odediag.training import _loop
from odediag_cli.main import cli

TINY = ["-n", "2", "--batch-size", "16", "--samples", "60", "--width", "8", "-q"]


def run(*arguments):
    return CliRunner().invoke(cli, ["train", *arguments])


def test_train_has_help_text():
    result = run("--help")
    assert result.exit_code == 0
    assert "--regulariser" in result.output and "--adjoint" in result.output


def test_train_writes_run_config_and_model(tmp_path):
    out = tmp_path / "run"
    result = run(*TINY, "-r", "condition", "-w", "0.2", "--seed", "4", "-o", str(out))
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(out / "run.nc")
    assert ds.sizes["iteration"] == 2
    assert ds.attrs["regulariser"] == "condition" and ds.attrs["seed"] == 4
    model, config = load_checkpoint(out / "model.pt")
    assert config["weight"] == 0.2 and config["model"]["width"] == 8
    assert (out / "config.json").is_file()


def test_train_with_adjoint_records_backward_evaluations(tmp_path):
    result = run(*TINY, "--adjoint", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "run.nc")
    assert ds.attrs["adjoint"] == 1 and (ds["nfe_backward"] > 0).all()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["-r", "lasso"], "regulariser"),
        (["-w", "-1"], "weight"),
        (["-n", "0"], "iterations"),
        (["-r", "spectral", "--estimator", "hutchinson"], "estimator"),
        (["--activation", "gelu"], "activation"),
        (["-w", "inf"], "--weight"),
        (["-w", "nan"], "--weight"),
        (["--learning-rate", "nan"], "--learning-rate"),
        (["--learning-rate", "inf"], "--learning-rate"),
        (["--noise", "nan"], "--noise"),
        (["--data-seed", "-1"], "--data-seed"),
        (["--samples", "5"], "--samples"),
        (["--max-steps", "0"], "--max-steps"),
    ],
)
def test_bad_input_is_one_line_and_non_zero_exit(tmp_path, arguments, message):
    result = run(*arguments, "-o", str(tmp_path / "run"))
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_interrupted_training_writes_partial_run(tmp_path, monkeypatch):
    step = _loop._Run.step
    calls = []

    def interrupting_step(self):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(_loop._Run, "step", interrupting_step)
    arguments = [a if a != "2" else "10" for a in TINY]
    result = run(*arguments, "-o", str(tmp_path))
    assert result.exit_code == 130
    assert "interrupted" in result.output
    ds = xr.open_dataset(tmp_path / "run.nc")
    assert ds.sizes["iteration"] == 2 and ds.attrs["interrupted"] == 1
    load_checkpoint(tmp_path / "model.pt")


def _parent_is_a_file(tmp_path):
    (tmp_path / "notnc.nc").write_text("x")
    return tmp_path / "notnc.nc" / "sub", "cannot create it"


def _a_file(tmp_path):
    (tmp_path / "notnc.nc").write_text("x")
    return tmp_path / "notnc.nc", "it is a file"


def _run_file_is_a_folder(tmp_path):
    (tmp_path / "run" / "run.nc").mkdir(parents=True)
    return tmp_path / "run", "run.nc in it is a folder"


def _under_proc(tmp_path):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs the /proc file system, where no folder can be made")
    return Path("/proc/odediag-run"), "cannot create it"


@pytest.mark.parametrize(
    "make", [_parent_is_a_file, _a_file, _run_file_is_a_folder, _under_proc]
)
def test_unusable_run_folder_fails_before_training(tmp_path, monkeypatch, make):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "train", no_training)
    directory, message = make(tmp_path)
    result = run(*TINY, "-o", str(directory))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--output" in lines[0] and message in lines[0]


def test_blown_up_training_stops_at_the_step_budget_and_keeps_the_run(tmp_path):
    arguments = [a if a != "2" else "3" for a in TINY]
    result = run(
        *arguments, "--learning-rate", "1e10", "--max-steps", "200", "-o", str(tmp_path)
    )
    assert result.exit_code == 1
    assert "solve_failed" in result.output and "--learning-rate" in result.output
    ds = xr.open_dataset(tmp_path / "run.nc")
    assert ds.attrs["status"] == "solve_failed" and ds.sizes["iteration"] >= 1
    load_checkpoint(tmp_path / "model.pt")
