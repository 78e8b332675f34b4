"""``odediag train`` on the command line."""

import pytest
import torch
import xarray as xr
from click.testing import CliRunner

from odediag.models import load_checkpoint
from odediag.training import _loop
from odediag_cli.main import cli

TINY = ["-n", "2", "--batch-size", "16", "--samples", "60", "--width", "8", "-q"]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
