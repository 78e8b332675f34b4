"""The instrumented torchdiffeq solve: no observer effect, complete records."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchdiffeq
import xarray as xr

import odediag
from odediag.problems import linear, lotka_volterra, vdp
from odediag.solvers import ADAPTIVE_METHODS, FIXED_GRID_METHODS

T = torch.tensor([0.0, 0.5, 1.0, 2.0], dtype=torch.float64)


class Counting:
    """Counts calls of a right-hand side, as a reference NFE."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, t, y):
        self.calls += 1
        return self.f(t, y)


def _problem_cases():
    v = vdp(mu=5.0)
    lv = lotka_volterra()
    y_batch = torch.stack([v.y0, v.y0 * 0.5, -v.y0])
    return {
        "vdp": (v.f, v.y0),
        "lotka_volterra": (lv.f, lv.y0),
        "vdp_batched": (v.f, y_batch),
    }


@pytest.mark.parametrize("case", sorted(_problem_cases()))
@pytest.mark.parametrize("method", ADAPTIVE_METHODS)
def test_adaptive_solution_and_nfe_equal_plain_torchdiffeq(method, case):
    f, y0 = _problem_cases()[case]
    plain_f, traced_f = Counting(f), Counting(f)
    kwargs = dict(rtol=1e-5, atol=1e-7, method=method)
    expected = torchdiffeq.odeint(plain_f, y0, T, **kwargs)
    solution, trace = odediag.odeint(traced_f, y0, T, **kwargs)
    assert torch.equal(solution, expected)
    assert traced_f.calls == plain_f.calls == trace.nfe


@pytest.mark.parametrize("method", FIXED_GRID_METHODS)
def test_fixed_grid_solution_and_nfe_equal_plain_torchdiffeq(method):
    f, y0 = _problem_cases()["vdp_batched"]
    plain_f, traced_f = Counting(f), Counting(f)
    options = {"step_size": 0.01}
    if "adams" in method:
        # torchdiffeq's default order 12 Adams methods are unstable here.
        options["max_order"] = 4
    kwargs = dict(method=method, options=options)
    expected = torchdiffeq.odeint(plain_f, y0, T, **kwargs)
    solution, trace = odediag.odeint(traced_f, y0, T, **kwargs)
    assert torch.equal(solution, expected)
    assert traced_f.calls == plain_f.calls == trace.nfe
    assert trace.n_steps == 200 and trace.n_rejected == 0
    assert np.isnan(trace.to_dataset().error_ratio).all()


@pytest.mark.parametrize(
    "options",
    [
        {"step_t": torch.tensor([0.3, 0.7, 1.5])},
        {"jump_t": torch.tensor([0.3, 0.7, 1.5])},
        {"step_t": torch.tensor([0.25]), "jump_t": torch.tensor([1.1])},
    ],
    ids=["step_t", "jump_t", "both"],
)
def test_step_and_jump_options_leave_solution_unchanged(options):
    f, y0 = _problem_cases()["vdp"]
    plain_f, traced_f = Counting(f), Counting(f)
    expected = torchdiffeq.odeint(plain_f, y0, T, rtol=1e-6, atol=1e-8, options=options)
    solution, trace = odediag.odeint(
        traced_f, y0, T, rtol=1e-6, atol=1e-8, options=options
    )
    assert torch.equal(solution, expected)
    assert traced_f.calls == plain_f.calls == trace.nfe


def test_recorded_h_is_the_clipped_step_at_step_t():
    f, y0 = _problem_cases()["vdp"]
    grid = torch.tensor([0.3, 0.7, 1.5], dtype=torch.float64)
    _, trace = odediag.odeint(f, y0, T, rtol=1e-6, atol=1e-8, options={"step_t": grid})
    ds = trace.to_dataset()
    ends = (ds.t + ds.h).where(ds.accepted, drop=True).values
    for point in grid.tolist():
        assert np.isclose(ends, point, rtol=0, atol=1e-15).any()


def test_dopri5_nfe_is_two_plus_six_per_attempt():
    p = vdp(mu=10.0)
    _, trace = odediag.odeint(p.f, p.y0, torch.tensor([0.0, 10.0]).double(), rtol=1e-6)
    assert trace.n_rejected > 0
    assert trace.nfe == 2 + 6 * trace.n_steps
    assert trace.to_dataset().nfe.values[-1] == trace.nfe


def test_accepted_steps_have_error_ratio_at_most_one_and_rejected_above():
    p = vdp(mu=10.0)
    _, trace = odediag.odeint(p.f, p.y0, torch.tensor([0.0, 10.0]).double(), rtol=1e-6)
    ds = trace.to_dataset()
    assert (ds.error_ratio.where(ds.accepted, drop=True) <= 1).all()
    assert (ds.error_ratio.where(~ds.accepted, drop=True) > 1).all()


def test_accepted_steps_tile_the_time_span():
    p = vdp(mu=10.0)
    _, trace = odediag.odeint(p.f, p.y0, torch.tensor([0.0, 10.0]).double(), rtol=1e-6)
    ds = trace.to_dataset().where(lambda d: d.accepted, drop=True)
    t, h = ds.t.values, ds.h.values
    assert t[0] == 0.0
    np.testing.assert_allclose(t[1:], t[:-1] + h[:-1], rtol=1e-14)
    assert t[-1] + h[-1] >= 10.0


def test_solution_matches_analytic_linear_solution_in_tolerance_units():
    p = linear(eigenvalues=(-1.0, -3.0), t_end=2.0)
    rtol, atol = 1e-8, 1e-10
    t = torch.tensor([0.0, 2.0], dtype=torch.float64)
    solution, _ = odediag.odeint(p.f, p.y0, t, rtol=rtol, atol=atol)
    exact = torch.exp(torch.tensor([-2.0, -6.0], dtype=torch.float64))
    error = (solution[-1] - exact).abs() / (atol + rtol * exact.abs())
    assert error.max() < 10


def test_reversed_time_records_real_times_and_positive_sizes():
    f, y0 = _problem_cases()["vdp"]
    t = torch.tensor([2.0, 0.0], dtype=torch.float64)
    expected = torchdiffeq.odeint(f, y0, t, rtol=1e-6)
    solution, trace = odediag.odeint(f, y0, t, rtol=1e-6)
    ds = trace.to_dataset()
    assert torch.equal(solution, expected)
    assert ds.t.values[0] == 2.0 and (ds.h > 0).all()
    assert (np.diff(ds.t.where(ds.accepted, drop=True).values) < 0).all()


def test_tuple_state_is_traced_like_torchdiffeq():
    def f(t, state):
        x, v = state
        return v, -x

    y0 = (torch.tensor([1.0]), torch.tensor([0.0]))
    expected = torchdiffeq.odeint(f, y0, T)
    solution, trace = odediag.odeint(f, y0, T)
    assert all(torch.equal(a, b) for a, b in zip(solution, expected, strict=True))
    assert trace.n_accepted > 0


# --------------------------------------------------------------------------
# autograd and the adjoint


def test_gradients_through_traced_solve_equal_plain(mlp, batch):
    t = torch.tensor([0.0, 1.0])
    expected = torchdiffeq.odeint(mlp, batch, t, rtol=1e-5, atol=1e-6)[-1].sum()
    grads_plain = torch.autograd.grad(expected, list(mlp.parameters()))
    solution, trace = odediag.odeint(mlp, batch, t, rtol=1e-5, atol=1e-6)
    grads = torch.autograd.grad(solution[-1].sum(), list(mlp.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_plain, strict=True))
    # One vector-Jacobian product per evaluation on the graph: all but the
    # rejected attempts' stages.
    assert trace.nfe_backward == trace.nfe - 6 * trace.n_rejected


def test_adjoint_records_backward_solve_apart_from_forward(mlp, batch):
    t = torch.tensor([0.0, 1.0])
    kwargs = dict(rtol=1e-5, atol=1e-6)
    plain = Counting(mlp)
    expected = torchdiffeq.odeint_adjoint(mlp, batch, t, **kwargs)
    expected[-1].pow(2).sum().backward()
    grads_plain = [p.grad.clone() for p in mlp.parameters()]
    mlp.zero_grad()

    solution, trace = odediag.odeint_adjoint(mlp, batch, t, **kwargs)
    assert torch.equal(solution, expected)
    forward_nfe = trace.nfe
    solution[-1].pow(2).sum().backward()
    grads = [p.grad for p in mlp.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_plain, strict=True))
    assert trace.nfe == forward_nfe
    back = trace.backward
    assert back is not None and back.n_accepted > 0 and back.nfe > 0
    assert back.nfe == 2 + 6 * back.n_steps
    assert back.to_dataset().attrs["phase"] == "backward"
    assert back.status == "success"
    del plain


def test_adjoint_requires_module_or_params_like_torchdiffeq():
    with pytest.raises(ValueError, match="nn.Module"):
        odediag.odeint_adjoint(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]))


# --------------------------------------------------------------------------
# spectrum


def test_spectrum_matches_analytic_eigenvalues_of_linear_system():
    p = linear(eigenvalues=(-1.0, -50.0), t_end=1.0)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    _, trace = odediag.odeint(p.f, p.y0, t, rtol=1e-6, spectrum=True)
    ds = trace.to_dataset().where(lambda d: d.accepted, drop=True)
    np.testing.assert_allclose(
        ds.eig_real.values[:, 0], [[-50.0, -1.0]] * ds.sizes["step"]
    )
    np.testing.assert_allclose(ds.stiffness_ratio, 50.0)
    np.testing.assert_allclose(ds.condition_number, 50.0)
    np.testing.assert_allclose(ds.h_spectral_radius.values[:, 0], 50.0 * ds.h.values)


def test_spectrum_leaves_solution_and_nfe_unchanged(mlp, batch):
    t = torch.tensor([0.0, 1.0])
    plain, traced = Counting(mlp), Counting(mlp)
    with torch.no_grad():
        expected = torchdiffeq.odeint(plain, batch, t, rtol=1e-5)
        solution, trace = odediag.odeint(traced, batch, t, rtol=1e-5, spectrum=True)
    assert torch.equal(solution, expected)
    assert plain.calls == trace.nfe
    assert trace.nfe_spectrum == trace.n_accepted


def test_batched_spectrum_equals_per_sample_jacobians(mlp, batch):
    t = torch.tensor([0.0, 0.5])
    with torch.no_grad():
        _, trace = odediag.odeint(mlp, batch, t, spectrum=True)
    ds = trace.to_dataset()
    first = ds.isel(step=0)
    for i in range(batch.shape[0]):
        J = torch.func.jacrev(lambda y: mlp(0.0, y))(batch[i]).detach().double()
        sv = torch.linalg.svdvals(J).numpy()
        np.testing.assert_allclose(first.singular_value[i], sv, rtol=1e-5)
    assert ds.sizes["sample"] == batch.shape[0]


def test_analytic_jacobian_gives_same_spectrum_as_autograd():
    p = vdp(mu=20.0)
    t = torch.tensor([0.0, 3.0], dtype=torch.float64)
    _, auto = odediag.odeint(p.f, p.y0, t, spectrum=True)
    _, exact = odediag.odeint(p.f, p.y0, t, spectrum=True, jac=p.jac)
    a, b = auto.to_dataset(), exact.to_dataset()
    np.testing.assert_allclose(a.eig_real, b.eig_real, rtol=1e-12, atol=1e-12)
    assert b.attrs["jacobian_source"] == "analytic"


@pytest.mark.parametrize(
    ("eigenvalues", "ratio"),
    [
        ((-1.0, -100.0), 100.0),
        ((-300.0, 0.5), 600.0),  # Van der Pol's slow phase: fast decay, slow growth
        ((-1.0, -100.0, 0.0), 100.0),  # a conserved quantity does not count
        ((-5.0,), 1.0),
        ((2.0, 3.0), math.nan),  # nothing decays: nothing can be stiff
    ],
)
def test_stiffness_ratio_is_fastest_decay_over_slowest_rate(eigenvalues, ratio):
    J = np.diag(eigenvalues)[None]
    result = odediag.spectral_measures(J)["stiffness_ratio"][0]
    np.testing.assert_allclose(result, ratio)


def test_rotation_has_no_stiffness_ratio():
    rotation = np.array([[[0.0, 1.0], [-1.0, 0.0]]])
    assert np.isnan(odediag.spectral_measures(rotation)["stiffness_ratio"][0])


def test_singular_jacobian_has_infinite_condition_number():
    # Robertson's Jacobian is singular: its rows sum to zero (mass conservation).
    rober = odediag.builtin_problem("rober")
    y = torch.tensor([0.5, 1e-5, 0.5], dtype=torch.float64)
    J = rober.jac(torch.tensor(0.0), y).numpy()[None]
    assert odediag.spectral_measures(J)["condition_number"][0] == np.inf


def test_hairer_estimate_equals_h_times_eigenvalue_on_stiff_linear_system():
    p = linear(eigenvalues=(-1.0, -1000.0), t_end=1.0)
    _, trace = odediag.odeint(
        p.f, p.y0, torch.tensor([0.0, 1.0]).double(), spectrum=True
    )
    ds = (
        trace.to_dataset()
        .where(lambda d: d.accepted, drop=True)
        .isel(step=slice(-50, None))
    )
    exact = ds.h_spectral_radius[:, 0].values
    # The estimate is a Rayleigh-type quotient along the last stage difference:
    # never above h·ρ for a normal J, and close to it once the stiff mode leads.
    assert (ds.hairer_h_lambda.values <= exact * (1 + 1e-12)).all()
    np.testing.assert_allclose(ds.hairer_h_lambda, exact, rtol=0.03)


# --------------------------------------------------------------------------
# failures are data


def test_step_underflow_keeps_partial_trace():
    def blow_up(t, y):
        return y**2

    with pytest.raises(odediag.SolveError) as caught:
        odediag.odeint(
            blow_up, torch.tensor([1.0]).double(), torch.tensor([0.0, 2.0]).double()
        )
    trace = caught.value.trace
    assert trace.status in {"step_underflow", "nonfinite"}
    assert trace.n_accepted > 10
    assert trace.to_dataset().attrs["status"] == trace.status


def test_max_steps_stops_with_status_and_trace():
    p = linear()
    with pytest.raises(odediag.SolveError, match="max_steps") as caught:
        odediag.odeint(p.f, p.y0, torch.tensor([0.0, 10.0]).double(), max_steps=100)
    assert caught.value.trace.status == "max_steps"
    assert caught.value.trace.n_steps == 100


def test_nonfinite_state_in_fixed_grid_solve_is_reported():
    def f(t, y):
        return y * 1e300

    with pytest.raises(odediag.SolveError) as caught:
        odediag.odeint(
            f, torch.ones(1).double(), T, method="euler", options={"step_size": 0.1}
        )
    assert caught.value.trace.status == "nonfinite"


def test_exception_in_func_becomes_failed_status():
    def f(t, y):
        if t > 0.5:
            raise RuntimeError("boom")
        return -y

    with pytest.raises(odediag.SolveError, match="boom") as caught:
        odediag.odeint(f, torch.ones(1).double(), T)
    assert caught.value.trace.status == "failed"
    assert caught.value.trace.n_accepted > 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "rk45"}, "choose one of"),
        ({"method": "scipy_solver"}, "solve_ivp"),
        ({"rtol": -1e-3}, "rtol"),
        ({"atol": math.nan}, "atol"),
        ({"max_steps": 0}, "max_steps"),
    ],
)
def test_bad_arguments_raise_one_line_errors(kwargs, match):
    with pytest.raises(odediag.OdediagInputError, match=match) as caught:
        odediag.odeint(lambda t, y: -y, torch.ones(1), T, **kwargs)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------
# dataset and files


def test_dataset_has_schema_variables_units_and_attributes(tmp_path):
    p = vdp(mu=10.0)
    _, trace = odediag.odeint(
        p.f, p.y0, torch.tensor([0.0, 2.0]).double(), spectrum=True, problem="vdp"
    )
    ds = trace.to_dataset()
    for name in (
        "t",
        "h",
        "accepted",
        "error_ratio",
        "nfe",
        "eig_real",
        "eig_imag",
        "singular_value",
        "condition_number",
        "spectral_radius",
        "stiffness_ratio",
    ):
        assert {"units", "long_name"} <= set(ds[name].attrs), name
    assert ds.eig_real.dims == ("step", "sample", "mode")
    for key in (
        "method",
        "rtol",
        "atol",
        "problem",
        "status",
        "message",
        "nfe_total",
        "odediag_version",
        "torch_version",
        "torchdiffeq_version",
    ):
        assert key in ds.attrs, key
    path = odediag.save_trace(trace, tmp_path / "trace.nc")
    reopened = xr.open_dataset(path)
    xr.testing.assert_identical(reopened.load(), ds)
    assert reopened.accepted.dtype == bool


def test_step_log_of_a_million_steps_stays_under_200_mb():
    import tracemalloc

    from odediag.trace import BASE_COLUMNS, StepLog

    tracemalloc.start()
    log = StepLog(BASE_COLUMNS)
    for i in range(1_000_000):
        log.append(0.1 * i, 0.1, True, 0.5, 6 * i, math.nan)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(log) == 1_000_000
    assert peak < 200 * 2**20


@pytest.mark.parametrize(
    ("y0", "t", "kwargs", "match"),
    [
        ([1.0], T, {}, "y0"),
        (torch.tensor([math.nan]), T, {}, "finite"),
        (torch.ones(1), torch.tensor(1.0), {}, "1-D tensor"),
        (torch.ones(1), torch.tensor([0.0, math.inf]), {}, "finite"),
        (torch.ones(1), torch.tensor([0, 1]), {}, "floating point"),
        (torch.ones(1), T, {"max_steps": 1.5}, "whole number"),
        (torch.ones(1), T, {"batched": "yes"}, "batched"),
        (torch.ones(1), T, {"rtol": "1e-3"}, "string"),
    ],
    ids=[
        "list_y0",
        "nan_y0",
        "scalar_t",
        "inf_t",
        "int_t",
        "float_steps",
        "str_batched",
        "str_rtol",
    ],
)
def test_bad_states_and_times_raise_input_errors(y0, t, kwargs, match):
    with pytest.raises(odediag.OdediagInputError, match=match):
        odediag.odeint(lambda t, y: -y, y0, t, **kwargs)


def test_jac_of_wrong_shape_is_an_input_error():
    p = vdp(mu=1.0)
    with pytest.raises(odediag.OdediagInputError, match="jac"):
        odediag.odeint(p.f, p.y0, T, spectrum=True, jac=lambda t, y: torch.eye(3))


def test_partial_trace_with_nonfinite_jacobian_still_saves(tmp_path):
    p = vdp(mu=50.0)
    with pytest.raises(odediag.SolveError) as caught:
        odediag.odeint(
            p.f,
            p.y0,
            torch.tensor([0.0, 10.0]).double(),
            method="euler",
            options={"step_size": 0.5},
            spectrum=True,
        )
    trace = caught.value.trace
    assert trace.status == "nonfinite"
    trace.save(tmp_path / "partial.nc")
    ds = xr.open_dataset(tmp_path / "partial.nc")
    assert ds.sizes["step"] == trace.n_steps


def test_keyboard_interrupt_carries_the_partial_trace():
    calls = 0

    def f(t, y):
        nonlocal calls
        calls += 1
        if calls == 100:
            raise KeyboardInterrupt
        return -y

    with pytest.raises(KeyboardInterrupt) as caught:
        odediag.odeint(f, torch.ones(1).double(), torch.tensor([0.0, 1e3]).double())
    assert caught.value.trace.status == "interrupted"
    assert caught.value.trace.n_steps > 5


def test_callers_own_step_callbacks_still_run():
    class WithCallbacks:
        def __init__(self):
            self.accepted = 0

        def __call__(self, t, y):
            return -y

        def callback_accept_step(self, t0, y0, dt):
            self.accepted += 1

    func = WithCallbacks()
    _, trace = odediag.odeint(func, torch.ones(1).double(), T)
    assert func.accepted == trace.n_accepted > 0


def test_adjoint_backward_solve_obeys_the_step_budget(mlp, batch):
    t = torch.tensor([0.0, 1.0])
    solution, trace = odediag.odeint_adjoint(
        mlp, batch, t, rtol=1e-9, atol=1e-9, max_steps=30
    )
    with pytest.raises(odediag.SolveError) as caught:
        solution[-1].pow(2).sum().backward()
    assert caught.value.trace is trace.backward
    assert trace.backward.status == "max_steps"
