"""The moons data, the MLP field and its Jacobian, the classifier, checkpoints."""

import math

import pytest
import torch

from odediag import OdediagInputError, SolveError
from odediag.models import (
    ACTIVATIONS,
    MLPDynamics,
    ModelConfig,
    MoonsConfig,
    NeuralODEClassifier,
    checkpoint_problem,
    checkpoint_test_points,
    default_model_path,
    load_checkpoint,
    load_model,
    moons_data,
    save_checkpoint,
)


def autograd_jacobian(field, t, h):
    rows = [torch.autograd.functional.jacobian(lambda x: field(t, x), y) for y in h]
    return torch.stack(rows)


def test_moons_data_is_the_same_for_the_same_configuration():
    a, b = (
        moons_data(MoonsConfig(n_samples=100)),
        moons_data(MoonsConfig(n_samples=100)),
    )
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert len(a.x_train) == 70 and len(a.x_test) == 30
    assert a.y_test.float().mean().item() == pytest.approx(0.5)


@pytest.mark.parametrize(
    "values",
    [
        {"n_samples": 5},
        {"n_samples": 100.5},
        {"noise": -0.1},
        {"noise": math.nan},
        {"noise": math.inf},
        {"seed": -1},
        {"seed": 2**32},
        {"test_fraction": math.nan},
    ],
)
def test_moons_config_rejects_bad_values(values):
    with pytest.raises(OdediagInputError):
        MoonsConfig(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"rtol": math.nan},
        {"atol": math.inf},
        {"t_end": math.nan},
        {"width": 8.5},
        {"max_steps": 0},
        {"n_classes": 1},
    ],
)
def test_model_config_rejects_bad_values(values):
    with pytest.raises(OdediagInputError):
        ModelConfig(**values)


def test_classifier_solve_stops_at_its_step_budget():
    model = NeuralODEClassifier(ModelConfig(width=8, max_steps=1))
    with pytest.raises(SolveError) as error:
        model(torch.randn(4, 2))
    assert error.value.trace.status == "max_steps"


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dim, time_dependent", [(2, True), (3, False)])
def test_field_jacobian_equals_autograd_jacobian(activation, dim, time_dependent):
    torch.manual_seed(0)
    field = MLPDynamics(dim, 8, 2, activation, time_dependent).double()
    h = torch.randn(5, dim, dtype=torch.float64)
    t = torch.tensor(0.3, dtype=torch.float64)
    f, J = field.jacobian(t, h)
    torch.testing.assert_close(f, field(t, h))
    torch.testing.assert_close(J, autograd_jacobian(field, t, h))


def test_field_jvp_equals_jacobian_times_tangents():
    torch.manual_seed(1)
    field = MLPDynamics(3, 8, 3).double()
    h, V = torch.randn(4, 3).double(), torch.randn(4, 3, 2).double()
    t = torch.tensor(0.0).double()
    _, JV = field.jvp(t, h, V)
    torch.testing.assert_close(JV, autograd_jacobian(field, t, h) @ V)


def test_field_accepts_one_time_per_row():
    field = MLPDynamics(2, 8)
    h, t = torch.randn(3, 2), torch.tensor([[0.0], [0.5], [1.0]])
    rows = torch.stack([field(t[i, 0], h[i : i + 1])[0] for i in range(3)])
    torch.testing.assert_close(field(t, h), rows)


@pytest.mark.parametrize(
    "arguments", [{"dim": 0}, {"width": 0}, {"depth": 0}, {"activation": "gelu"}]
)
def test_field_rejects_bad_architecture(arguments):
    with pytest.raises(OdediagInputError):
        MLPDynamics(**{"dim": 2, **arguments})


def test_classifier_returns_logits_and_the_solve_trace():
    model = NeuralODEClassifier(ModelConfig(width=8, augment=1))
    x = torch.randn(6, 2)
    assert model.lift(x).shape == (6, 3)
    logits, trace = model(x)
    assert logits.shape == (6, 2)
    assert trace.nfe > 0 and trace.status == "success"


@pytest.fixture
def checkpoint(tmp_path):
    config = {"model": ModelConfig(width=8).to_dict(), "data": {"n_samples": 60}}
    torch.manual_seed(0)
    model = NeuralODEClassifier(ModelConfig(width=8))
    return save_checkpoint(tmp_path / "model.pt", model, config), model


def test_checkpoint_round_trip_gives_the_same_model(checkpoint):
    path, model = checkpoint
    loaded, config = load_checkpoint(path)
    x = torch.randn(4, 2)
    torch.testing.assert_close(loaded(x)[0], model(x)[0])
    assert config["data"] == {"n_samples": 60}
    assert isinstance(load_model(path), NeuralODEClassifier)


def test_checkpoint_problem_holds_the_field_and_lifted_test_points(checkpoint):
    path, model = checkpoint
    problem = checkpoint_problem(path)
    x_test, _ = checkpoint_test_points(load_checkpoint(path)[1])
    assert problem.y0.shape == (len(x_test), 2)
    assert problem.t_span == (0.0, model.config.t_end)
    assert problem.params["rtol"] == model.config.rtol
    t = torch.tensor(0.2)
    torch.testing.assert_close(problem.f(t, problem.y0), model.dynamics(t, x_test))


def _corrupt(path):
    path.write_bytes(b"PK\x03\x04 not really a zip file")


def _foreign(path):
    torch.save({"weights": torch.zeros(2)}, path)


def _newer(path):
    torch.save({"format": "odediag-moons-classifier", "version": 99}, path)


def _mismatched(path):
    state = {"hidden.0.weight": torch.zeros(1)}
    config = {"model": {}, "data": {}}
    blob = {"format": "odediag-moons-classifier", "version": 1}
    torch.save({**blob, "config": config, "state_dict": state}, path)


def _layout(**entries):
    def write(path):
        blob = {"format": "odediag-moons-classifier", "version": 1}
        torch.save({**blob, **entries}, path)

    return write


_STATE = {"readout.bias": torch.zeros(2)}


@pytest.mark.parametrize(
    "write",
    [
        _layout(state_dict=_STATE),
        _layout(config=[1, 2], state_dict=_STATE),
        _layout(config={"data": {}}, state_dict=_STATE),
        _layout(config={"model": {"widht": 8}}, state_dict=_STATE),
        _layout(config={"model": {}, "data": 3}, state_dict=_STATE),
        _layout(config={"model": {}}),
        _layout(config={"model": {}}, state_dict={"readout.bias": [0.0]}),
    ],
    ids=[
        "no-config",
        "config-not-dict",
        "no-model",
        "unknown-model-key",
        "data-not-dict",
        "no-state",
        "state-not-tensors",
    ],
)
def test_checkpoint_of_wrong_layout_is_not_an_odediag_model(tmp_path, write):
    path = tmp_path / "model.pt"
    write(path)
    with pytest.raises(OdediagInputError, match="not an odediag model") as error:
        load_checkpoint(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("write", [_corrupt, _foreign, _newer, _mismatched, None])
def test_bad_checkpoint_is_one_line_input_error(tmp_path, write):
    path = tmp_path / "model.pt"
    if write is not None:
        write(path)
    with pytest.raises(OdediagInputError) as error:
        load_checkpoint(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_default_model_is_small_and_loads():
    path = default_model_path()
    if not path.exists():
        pytest.skip("the default model is made by studies/make_default_model.py")
    assert path.stat().st_size < 100_000
    model, config = load_checkpoint(path)
    x_test, y_test = checkpoint_test_points(config)
    with torch.no_grad():
        logits, _ = model(x_test)
    assert (logits.argmax(-1) == y_test).float().mean() > 0.8
