"""Training runs: per-iteration records, probes, interruption, combining runs."""

import json
import math

import numpy as np
import pytest
import torch
import xarray as xr

from odediag import OdediagInputError
from odediag.models import ModelConfig, MoonsConfig, load_checkpoint
from odediag.training import (
    ITERATION_VARIABLES,
    PROBE_VARIABLES,
    TrainConfig,
    _loop,
    combine_runs,
    prepare_run_dir,
    save_run,
    train,
)


def tiny(**overrides):
    """A configuration that trains in well under a second per iteration."""
    settings = {
        "iterations": 3,
        "batch_size": 16,
        "probe_every": 2,
        "probe_size": 8,
        "model": ModelConfig(width=8),
        "data": MoonsConfig(n_samples=60),
    }
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture
def traces(monkeypatch):
    """Record the trace of every training step's forward solve."""
    recorded = []
    forward = _loop._Run._forward

    def recording(self, x):
        logits, penalty, trace = forward(self, x)
        recorded.append(trace)
        return logits, penalty, trace

    monkeypatch.setattr(_loop._Run, "_forward", recording)
    return recorded


@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("regulariser", ["none", "frobenius"])
def test_recorded_counts_equal_the_traces(traces, adjoint, regulariser):
    result = train(tiny(adjoint=adjoint, regulariser=regulariser))
    ds = result.dataset
    for name in ("nfe", "nfe_backward", "n_accepted", "n_rejected"):
        column = "nfe_forward" if name == "nfe" else name
        assert ds[column].values.tolist() == [getattr(t, name) for t in traces]
    assert (ds["nfe_backward"] > 0).all()


def test_dataset_has_every_variable_and_the_configuration():
    ds = train(tiny(regulariser="spectral", weight=0.1, seed=3)).dataset
    assert set(ITERATION_VARIABLES) | set(PROBE_VARIABLES) <= set(ds.data_vars)
    assert ds.sizes == {"iteration": 3}
    assert ds.attrs["regulariser"] == "spectral" and ds.attrs["seed"] == 3
    assert ds.attrs["weight"] == 0.1 and ds.attrs["model_width"] == 8
    assert ds.attrs["status"] == "completed" and ds.attrs["interrupted"] == 0
    penalised = ds["loss"] - ds["cross_entropy"]
    np.testing.assert_allclose(penalised, 0.1 * ds["penalty"], rtol=1e-5, atol=1e-7)


def test_probes_are_taken_every_k_iterations_and_at_the_last():
    ds = train(tiny(iterations=4, probe_every=2)).dataset
    probed = np.isfinite(ds["test_accuracy"].values)
    assert probed.tolist() == [True, False, True, True]
    names = ("condition_number_mean", "spectral_radius_max", "kinetic_energy")
    for name in (*names, "stability_limited_share", "jacobian_frobenius"):
        assert np.isfinite(ds[name].values[probed]).all(), name
    assert (
        (ds["condition_number_max"] >= ds["condition_number_mean"]).values[probed].all()
    )


def test_equal_configurations_give_equal_runs():
    a, b = train(tiny()).dataset, train(tiny()).dataset
    np.testing.assert_array_equal(a["loss"], b["loss"])
    np.testing.assert_array_equal(a["nfe_forward"], b["nfe_forward"])


def test_interrupted_run_keeps_what_it_recorded():
    def interrupt(iteration, record):
        if iteration == 1:
            raise KeyboardInterrupt

    result = train(tiny(iterations=5), progress=interrupt)
    assert result.interrupted
    ds = result.dataset
    assert ds.sizes["iteration"] == 2
    assert ds.attrs["interrupted"] == 1 and ds.attrs["status"] == "interrupted"
    assert ds.attrs["iterations_completed"] == 2
    assert np.isfinite(ds["loss"]).all()


def test_saved_run_reopens_and_its_model_loads(tmp_path):
    result = train(tiny())
    paths = save_run(result, tmp_path / "run")
    reopened = xr.open_dataset(paths["run.nc"])
    xr.testing.assert_allclose(reopened, result.dataset)
    assert json.loads(paths["config.json"].read_text())["status"] == "completed"
    model, config = load_checkpoint(paths["model.pt"])
    assert TrainConfig.from_dict(config) == result.config
    x = torch.randn(3, 2)
    torch.testing.assert_close(model(x)[0], result.model(x)[0])


def test_combine_runs_adds_regulariser_and_seed_dimensions():
    runs = [
        train(tiny(regulariser=r, seed=s, iterations=n)).dataset
        for r, s, n in [("none", 0, 2), ("none", 1, 2), ("kinetic", 0, 1)]
    ]
    combined = combine_runs(runs)
    assert dict(combined.sizes) == {"regulariser": 2, "seed": 2, "iteration": 2}
    assert math.isnan(combined["loss"].sel(regulariser="kinetic", seed=1)[0])
    assert math.isnan(combined["loss"].sel(regulariser="kinetic", seed=0)[1])
    assert "regulariser" not in combined.attrs and "rtol" not in combined.attrs
    assert combined.attrs["model_rtol"] == runs[0].attrs["model_rtol"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"weight": -1.0},
        {"iterations": 0},
        {"regulariser": "lasso"},
        {"estimator": "power"},
        {"learning_rate": 0.0},
        {"learning_rate": math.inf},
        {"learning_rate": math.nan},
        {"weight": math.inf},
        {"weight": math.nan},
        {"seed": -1},
        {"iterations": 2.5},
        {"model": {"width": 8}},
    ],
)
def test_bad_configuration_is_an_input_error(overrides):
    with pytest.raises(OdediagInputError):
        tiny(**overrides)


def test_configuration_rejects_unknown_keys():
    with pytest.raises(OdediagInputError):
        TrainConfig.from_dict({"learning_rte": 0.1})


def test_configuration_rejects_unknown_model_keys():
    with pytest.raises(OdediagInputError, match="model keys"):
        TrainConfig.from_dict({"model": {"widht": 8}})


@pytest.mark.parametrize("adjoint", [False, True], ids=["backprop", "adjoint"])
def test_blown_up_field_ends_the_run_at_the_step_budget(adjoint):
    config = tiny(
        learning_rate=1e10, adjoint=adjoint, model=ModelConfig(width=8, max_steps=200)
    )
    ds = train(config).dataset
    assert ds.attrs["status"] == "solve_failed"
    assert "200" in ds.attrs["message"]
    assert 1 <= ds.attrs["iterations_completed"] == ds.sizes["iteration"] < 3
    assert np.isfinite(ds["loss"]).all()


def _file(tmp_path):
    (tmp_path / "taken").write_text("x")
    return tmp_path / "taken", "it is a file"


def _under_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    return tmp_path / "taken" / "run", "cannot create it"


def _folder_for_a_run_file(tmp_path):
    (tmp_path / "run" / "model.pt").mkdir(parents=True)
    return tmp_path / "run", "model.pt in it is a folder"


@pytest.mark.parametrize("make", [_file, _under_a_file, _folder_for_a_run_file])
def test_unusable_run_folder_is_a_one_line_input_error(tmp_path, make):
    directory, message = make(tmp_path)
    with pytest.raises(OdediagInputError, match=message) as error:
        prepare_run_dir(directory)
    assert "\n" not in str(error.value)


def test_preparing_a_run_folder_keeps_existing_files_and_adds_none(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.nc").write_bytes(b"an earlier run")
    prepare_run_dir(tmp_path / "old")
    prepare_run_dir(tmp_path / "new" / "run")
    assert (tmp_path / "old" / "run.nc").read_bytes() == b"an earlier run"
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["run.nc"]
    assert list((tmp_path / "new" / "run").iterdir()) == []
