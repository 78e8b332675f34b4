"""The instrumented SciPy solve: SciPy's result unchanged, every attempt recorded."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import xarray as xr

import odediag
from odediag.problems import linear, rober, vdp, vdpol
from odediag.solvers import problem_functions, solve_ivp, solve_problem
from odediag.solvers._scipy_jacobian import spectrum_jacobian

METHODS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")
RK_METHODS = ("RK23", "RK45", "DOP853")
NEWTON_METHODS = ("Radau", "BDF")
MU = 10.0  # Van der Pol stiffness: a few rejections for every method


def vdp_fun(t, y):
    return np.array([y[1], MU * (1 - y[0] ** 2) * y[1] - y[0]])


def vdp_jac(t, y):
    return np.array([[0.0, 1.0], [-2 * MU * y[0] * y[1] - 1, MU * (1 - y[0] ** 2)]])


def lotka_volterra(t, y, a, b):
    return np.array([a * y[0] - b * y[0] * y[1], -3.0 * y[1] + y[0] * y[1]])


# name: (positional arguments of solve_ivp, keyword arguments)
CASES = {
    "vdp": ((vdp_fun, (0.0, 10.0), [2.0, 0.0]), {"jac": vdp_jac}),
    "lotka_volterra_t_eval": (
        (lotka_volterra, (0.0, 15.0), [1.0, 1.0]),
        {"args": (1.5, 1.0), "t_eval": np.linspace(0.0, 15.0, 31)},
    ),
    "vdp_dense_output": (
        (vdp_fun, (0.0, 6.0), [2.0, 0.0]),
        {"dense_output": True, "rtol": 1e-7, "atol": 1e-9},
    ),
}


def _kwargs(method, kwargs):
    kwargs = {"rtol": 1e-6, "atol": 1e-8, **kwargs}
    if method in RK_METHODS:
        kwargs.pop("jac", None)  # SciPy warns that explicit methods ignore it
    return kwargs


def _solve_both(method, case):
    args, kwargs = CASES[case]
    kwargs = _kwargs(method, kwargs)
    expected = scipy.integrate.solve_ivp(*args, method=method, **kwargs)
    result, trace = solve_ivp(*args, method=method, **kwargs)
    return expected, result, trace


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("method", METHODS)
def test_result_equals_plain_solve_ivp_bit_for_bit(method, case):
    expected, result, trace = _solve_both(method, case)
    assert np.array_equal(result.t, expected.t)
    assert np.array_equal(result.y, expected.y)
    for name in ("nfev", "njev", "nlu", "status", "message", "success"):
        assert result[name] == expected[name], name
    if expected.sol is not None:
        times = np.concatenate([expected.t, np.linspace(*expected.sol.ts[[0, -1]], 97)])
        assert np.array_equal(result.sol(times), expected.sol(times))


@pytest.mark.parametrize("method", METHODS)
def test_accepted_rows_are_the_solution_steps(method):
    expected, result, trace = _solve_both(method, "vdp")
    ds = trace.to_dataset()
    accepted = ds.accepted.values
    assert accepted.sum() == len(result.t) - 1
    t, h = ds.t.values[accepted], ds.h.values[accepted]
    assert np.array_equal(t, result.t[:-1])
    np.testing.assert_allclose(t + h, result.t[1:], rtol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_trace_nfe_is_cumulative_and_ends_at_result_nfev(method):
    _, result, trace = _solve_both(method, "vdp")
    nfe = trace.log.column("nfe")
    assert np.all(np.diff(nfe) >= 0)
    assert nfe[-1] == result.nfev == trace.nfe
    assert trace.to_dataset().attrs["nfe_total"] == result.nfev


@pytest.mark.parametrize("method", ("Radau", "BDF", "LSODA"))
def test_trace_njev_and_nlu_end_at_result_counts(method):
    _, result, trace = _solve_both(method, "vdp")
    assert trace.log.column("njev")[-1] == result.njev
    assert trace.log.column("nlu")[-1] == result.nlu


@pytest.mark.parametrize("method", RK_METHODS)
def test_rk_error_ratio_below_one_exactly_on_accepted_rows(method):
    _, _, trace = _solve_both(method, "vdp")
    ds = trace.to_dataset()
    assert trace.n_rejected > 0
    assert np.array_equal(ds.accepted.values, ds.error_ratio.values < 1)


def test_rk45_spends_six_evaluations_per_attempt_after_two_to_start():
    _, result, trace = _solve_both("RK45", "vdp")
    assert result.nfev == 2 + 6 * trace.n_steps
    np.testing.assert_array_equal(
        trace.log.column("nfe"), 2 + 6 * np.arange(1, trace.n_steps + 1)
    )


def test_rk45_on_a_stiff_problem_records_rejected_steps():
    fun, _ = problem_functions(vdpol())
    _, trace = solve_ivp(fun, (0.0, 2e-4), [2.0, 0.0], method="RK45")
    assert trace.n_rejected > 0
    assert not trace.to_dataset().accepted.values.all()


def test_hairer_estimate_is_h_lambda_on_a_linear_problem():
    lam = -50.0
    _, trace = solve_ivp(lambda t, y: lam * y, (0.0, 1.0), [1.0], method="RK45")
    ds = trace.to_dataset()
    accepted = ds.accepted.values
    hairer = ds.hairer_h_lambda.values
    np.testing.assert_allclose(
        hairer[accepted], ds.h.values[accepted] * abs(lam), rtol=1e-10
    )
    assert np.isnan(hairer[~accepted]).all()


@pytest.mark.parametrize("method", ("RK23", "DOP853", "Radau", "BDF", "LSODA"))
def test_hairer_estimate_is_nan_outside_rk45(method):
    _, _, trace = _solve_both(method, "vdp")
    assert np.isnan(trace.log.column("hairer_h_lambda")).all()


@pytest.mark.parametrize(
    ("method", "order"), [("RK23", 3), ("RK45", 5), ("DOP853", 8), ("Radau", 5)]
)
def test_fixed_order_methods_record_their_order(method, order):
    _, _, trace = _solve_both(method, "vdp")
    assert (trace.log.column("order") == order).all()


def test_bdf_records_its_varying_order():
    _, _, trace = _solve_both("BDF", "vdp")
    orders = set(trace.log.column("order").tolist())
    assert orders <= {1, 2, 3, 4, 5}
    assert len(orders) > 1


@pytest.mark.parametrize("method", NEWTON_METHODS)
def test_newton_methods_record_rejection_cause_and_iterations(method):
    fun, jac = problem_functions(vdpol())
    _, trace = solve_ivp(
        fun, (0.0, 2.0), [2.0, 0.0], method=method, rtol=1e-6, atol=1e-8
    )
    ds = trace.to_dataset()
    accepted = ds.accepted.values
    cause = ds.rejection_cause.values
    ratio = ds.error_ratio.values
    assert (cause[accepted] == "").all()
    assert set(cause[~accepted]) <= {"error", "newton"}
    assert (cause == "error").any()
    assert (ratio[cause == "error"] > 1).all()
    assert np.isnan(ratio[cause == "newton"]).all()
    assert (ratio[accepted] <= 1).all()
    assert (ds.newton_iterations.values >= 1).all()


@pytest.mark.parametrize("method", RK_METHODS + NEWTON_METHODS)
def test_a_rejected_attempt_is_retried_from_the_same_time_with_smaller_h(method):
    fun, _ = problem_functions(vdpol())
    span = (0.0, 2e-4) if method in RK_METHODS else (0.0, 2.0)
    _, trace = solve_ivp(fun, span, [2.0, 0.0], method=method, rtol=1e-6)
    ds = trace.to_dataset()
    rejected = np.flatnonzero(~ds.accepted.values[:-1])
    assert rejected.size > 0
    t, h = ds.t.values, ds.h.values
    assert np.array_equal(t[rejected + 1], t[rejected])
    assert (h[rejected + 1] < h[rejected]).all()
    if "rejection_cause" in ds:
        newton = rejected[ds.rejection_cause.values[rejected] == "newton"]
        # h is t_new - t, rounded at the size of t.
        spacing = 4 * np.spacing(np.abs(t).max())
        np.testing.assert_allclose(h[newton + 1], h[newton] / 2, atol=spacing)


@pytest.mark.parametrize("method", METHODS)
def test_backward_integration_equals_scipy_with_positive_h(method):
    kwargs = _kwargs(method, {"jac": vdp_jac})
    expected = scipy.integrate.solve_ivp(
        vdp_fun, (3.0, 0.0), [2.0, 0.0], method=method, **kwargs
    )
    result, trace = solve_ivp(vdp_fun, (3.0, 0.0), [2.0, 0.0], method=method, **kwargs)
    assert np.array_equal(result.y, expected.y)
    assert result.nfev == expected.nfev == trace.nfe
    assert (trace.log.column("h") > 0).all()
    assert trace.n_accepted == len(expected.t) - 1


def test_bdf_newton_failures_appear_as_rejections():
    fun, _ = problem_functions(vdpol())
    _, trace = solve_ivp(
        fun, (0.0, 2.0), [2.0, 0.0], method="BDF", rtol=1e-6, atol=1e-8
    )
    assert (trace.log.column("rejection_cause") == "newton").any()


def test_lsoda_rows_are_accepted_internal_steps():
    _, result, trace = _solve_both("LSODA", "vdp")
    ds = trace.to_dataset()
    assert ds.accepted.values.all()
    assert np.isnan(ds.error_ratio.values).all()
    assert set(ds.lsoda_method.values) <= {"adams", "bdf"}


# --------------------------------------------------------------------------
# failures


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["rober", "vdpol"])
def test_explicit_method_on_stiff_problem_stops_at_max_steps(name):
    problem = {"rober": rober, "vdpol": vdpol}[name]()
    with pytest.raises(odediag.SolveError, match="max_steps") as caught:
        solve_problem(problem, "RK45", rtol=1e-6, atol=1e-10, max_steps=300)
    trace = caught.value.trace
    assert trace.status == "max_steps"
    assert trace.n_steps >= 300
    assert trace.nfe == caught.value.result.nfev
    assert caught.value.result.status == -1
    assert trace.to_dataset().attrs["status"] == "max_steps"


@pytest.mark.timeout(60)
def test_lsoda_through_a_blow_up_stops_at_max_steps():
    # Plain SciPy LSODA keeps stepping here until memory runs out.
    with pytest.raises(odediag.SolveError) as caught, np.errstate(over="ignore"):
        solve_ivp(lambda t, y: y**2, (0.0, 2.0), [1.0], method="LSODA", max_steps=2000)
    assert caught.value.trace.status == "max_steps"


@pytest.mark.parametrize("method", ["RK45", "Radau", "BDF"])
def test_step_size_underflow_is_step_underflow_with_partial_trace(method):
    with pytest.raises(odediag.SolveError) as caught:
        solve_ivp(lambda t, y: y**2, (0.0, 2.0), [1.0], method=method)
    trace = caught.value.trace
    assert trace.status == "step_underflow"
    assert "spacing between numbers" in trace.message
    assert trace.n_steps > 10
    assert trace.to_dataset().t.values[-1] == pytest.approx(1.0, abs=0.01)


def _nan_after_half(t, y):
    return np.full_like(y, np.nan) if t > 0.5 else -y


@pytest.mark.parametrize("method", ["RK45", "LSODA"])
def test_non_finite_derivatives_end_with_status_nonfinite(method):
    with pytest.raises(odediag.SolveError) as caught:
        solve_ivp(_nan_after_half, (0.0, 2.0), [1.0], method=method)
    assert caught.value.trace.status == "nonfinite"


def test_exception_in_fun_is_a_failed_solve_keeping_the_steps():
    def fun(t, y):
        if t > 0.5:
            raise ZeroDivisionError("boom")
        return -y

    with pytest.raises(odediag.SolveError, match="boom") as caught:
        solve_ivp(fun, (0.0, 2.0), [1.0])
    assert caught.value.trace.status == "failed"
    assert caught.value.trace.n_steps >= 1
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_terminal_event_is_a_success_like_scipy():
    def hit_zero(t, y):
        return y[0]

    hit_zero.terminal = True
    expected = scipy.integrate.solve_ivp(
        vdp_fun, (0.0, 10.0), [2.0, 0.0], events=hit_zero
    )
    result, trace = solve_ivp(vdp_fun, (0.0, 10.0), [2.0, 0.0], events=hit_zero)
    assert result.status == expected.status == 1
    assert np.array_equal(result.t_events[0], expected.t_events[0])
    assert trace.status == "success"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"method": "RK99"}, "method"),
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": 2.5}, "max_steps"),
        ({"t_eval": [20.0]}, "t_eval"),
    ],
)
def test_invalid_arguments_raise_input_errors(kwargs, argument):
    with pytest.raises(odediag.OdediagInputError, match=argument):
        solve_ivp(vdp_fun, (0.0, 10.0), [2.0, 0.0], **kwargs)


# --------------------------------------------------------------------------
# spectrum


def _spectrum_traces():
    """One RK45 solve, spectra from the three Jacobian sources."""
    problem = vdp(mu=MU)
    fun, jac = problem_functions(problem)
    span, y0 = (0.0, 5.0), problem.y0.numpy()
    traces = {}
    with pytest.warns(UserWarning, match="no effect"):
        _, traces["analytic"] = solve_ivp(fun, span, y0, spectrum=True, jac=jac)
    _, traces["autograd"] = solve_ivp(fun, span, y0, spectrum=True)
    _, traces["finite_differences"] = solve_ivp(
        lambda t, y: fun(t, y), span, y0, spectrum=True
    )
    return traces


@pytest.fixture(scope="module")
def spectrum_traces():
    return _spectrum_traces()


@pytest.mark.parametrize(
    ("source", "tolerance"), [("autograd", 1e-14), ("finite_differences", 1e-8)]
)
def test_spectrum_from_analytic_jac_equals_the_other_sources(
    spectrum_traces, source, tolerance
):
    reference = spectrum_traces["analytic"].to_dataset()
    other = spectrum_traces[source].to_dataset()
    assert other.attrs["jacobian_source"] == source
    radius = reference.spectral_radius.values[..., None]
    for name in ("eig_real", "eig_imag", "singular_value"):
        difference = np.abs(other[name].values - reference[name].values) / radius
        assert np.nanmax(difference) < tolerance, name


def test_spectrum_is_recorded_at_accepted_steps_only(spectrum_traces):
    ds = spectrum_traces["autograd"].to_dataset()
    measured = np.isfinite(ds.spectral_radius.values[:, 0])
    assert np.array_equal(measured, ds.accepted.values)


def test_spectrum_does_not_change_the_solve(spectrum_traces):
    fun, _ = problem_functions(vdp(mu=MU))
    expected = scipy.integrate.solve_ivp(fun, (0.0, 5.0), [2.0, 0.0])
    for trace in spectrum_traces.values():
        assert trace.nfe == expected.nfev
        assert trace.n_accepted == len(expected.t) - 1


def test_spectrum_evaluations_are_counted_apart(spectrum_traces):
    accepted = spectrum_traces["autograd"].n_accepted
    assert spectrum_traces["autograd"].nfe_spectrum == accepted
    assert spectrum_traces["finite_differences"].nfe_spectrum == 2 * 2 * accepted


@pytest.mark.parametrize("name", ["rober", "vdpol"])
@pytest.mark.parametrize("vectorized", [False, True])
def test_jacobians_agree_to_the_accuracy_of_their_source(name, vectorized):
    problem = {"rober": rober, "vdpol": vdpol}[name]()
    fun, jac = problem_functions(problem)
    n = problem.dim
    analytic = spectrum_jacobian(fun, jac, None, vectorized, n)
    autograd = spectrum_jacobian(fun, None, None, vectorized, n)
    central = spectrum_jacobian(lambda t, y: fun(t, y), None, None, vectorized, n)
    rng = np.random.default_rng(0)
    for y in problem.y0.numpy() + rng.uniform(0.0, 0.5, size=(5, n)):
        J = analytic.evaluate(0.0, y)
        scale = np.abs(J).max()
        np.testing.assert_allclose(autograd.evaluate(0.0, y), J, atol=1e-14 * scale)
        np.testing.assert_allclose(central.evaluate(0.0, y), J, atol=1e-9 * scale)


def test_constant_jac_matrix_is_an_analytic_source():
    A = np.array([[-1.0, 0.0], [0.0, -100.0]])
    _, trace = solve_ivp(
        lambda t, y: A @ y, (0.0, 1.0), [1.0, 1.0], method="Radau", jac=A, spectrum=True
    )
    ds = trace.to_dataset()
    assert ds.attrs["jacobian_source"] == "analytic"
    np.testing.assert_allclose(ds.spectral_radius.values[ds.accepted.values], 100.0)


# --------------------------------------------------------------------------
# problems, attributes, files


def test_problem_functions_accept_scipy_vectorized_layout():
    fun, _ = problem_functions(vdp(mu=MU))
    Y = np.array([[2.0, 1.0, 0.5], [0.0, 0.3, -1.0]])
    expected = np.stack([vdp_fun(0.0, column) for column in Y.T], axis=1)
    np.testing.assert_allclose(fun(0.0, Y), expected, rtol=1e-15)


def test_problem_functions_refuse_a_batch_of_states():
    batched = linear()
    batched.y0 = batched.y0.expand(3, -1)
    with pytest.raises(odediag.OdediagInputError, match="one state"):
        problem_functions(batched)


def test_solve_problem_gives_implicit_methods_the_analytic_jacobian():
    result, trace = solve_problem(
        vdp(mu=MU), "Radau", rtol=1e-6, atol=1e-8, spectrum=True
    )
    assert result.success
    ds = trace.to_dataset()
    assert ds.attrs["jacobian_source"] == "analytic"
    assert ds.attrs["problem"] == "vdp"


def test_trace_attributes_follow_the_schema():
    _, _, trace = _solve_both("BDF", "vdp")
    attrs = trace.to_dataset().attrs
    assert attrs["backend"] == "scipy"
    assert attrs["method"] == "scipy:BDF"
    assert attrs["rtol"] == 1e-6 and attrs["atol"] == 1e-8
    assert attrs["phase"] == "forward"
    assert (attrs["t_start"], attrs["t_end"]) == (0.0, 10.0)
    assert attrs["status"] == "success"
    assert attrs["scipy_version"] == scipy.__version__


@pytest.mark.parametrize("method", ["BDF", "LSODA"])
def test_trace_with_string_columns_survives_netcdf(tmp_path, method):
    _, _, trace = _solve_both(method, "vdp")
    path = trace.save(tmp_path / "trace.nc")
    reopened = xr.open_dataset(path).load()
    original = trace.to_dataset()
    for name in original.data_vars:
        np.testing.assert_array_equal(reopened[name].values, original[name].values)


def test_other_solver_classes_record_accepted_steps():
    class EulerSolver(scipy.integrate.OdeSolver):
        """A trivial explicit Euler to stand for a user's solver."""

        def __init__(self, fun, t0, y0, t_bound, vectorized, **options):
            super().__init__(fun, t0, y0, t_bound, vectorized)
            self.h = 0.1

        def _step_impl(self):
            self.y = self.y + self.h * self.fun(self.t, self.y)
            self.t = min(self.t + self.h, self.t_bound)
            return True, None

        def _dense_output_impl(self):
            raise NotImplementedError

    result, trace = solve_ivp(lambda t, y: -y, (0.0, 1.0), [1.0], method=EulerSolver)
    assert trace.n_accepted == len(result.t) - 1
    assert math.isnan(trace.log.column("error_ratio")[0])
    assert trace.to_dataset().attrs["method"] == "scipy:EulerSolver"
