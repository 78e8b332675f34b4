"""Stiffness attribution and verdicts, on hand-built traces and real solves."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.integrate
import torch
import xarray as xr

import odediag
from odediag import OdediagInputError
from odediag.stability import stability_boundary
from odediag.stiffness import (
    analyse,
    flagged_intervals,
    hairer_announcement,
    longest_alternation,
    stability_limited,
    stability_margin,
)

DOPRI5_BOUND = stability_boundary("dopri5")


def make_trace(
    h_lambda=None,
    accepted=None,
    h=None,
    method: str = "dopri5",
    hairer=None,
    **extra,
) -> xr.Dataset:
    """A schema-following trace with chosen h·λ per step.

    ``h_lambda`` has shape (step, sample, mode) (or (step,) for one real
    mode); eigenvalues are h·λ / h, NaN at rejected steps as a solver writes.
    """
    n = len(accepted if accepted is not None else h_lambda)
    accepted = np.ones(n, bool) if accepted is None else np.asarray(accepted, bool)
    h = np.full(n, 0.01) if h is None else np.asarray(h, float)
    t = np.concatenate([[0.0], np.cumsum(np.where(accepted, h, 0.0))[:-1]])
    data = {
        "t": ("step", t),
        "h": ("step", h),
        "accepted": ("step", accepted),
        "error_ratio": ("step", np.where(accepted, 0.5, 2.0)),
        "nfe": ("step", 2 + 6 * np.arange(1, n + 1)),
        "hairer_h_lambda": (
            "step",
            np.full(n, np.nan) if hairer is None else np.asarray(hairer, float),
        ),
    }
    if h_lambda is not None:
        z = np.asarray(h_lambda, dtype=complex)
        z = z.reshape(n, 1, 1) if z.ndim == 1 else z
        eig = np.where(accepted[:, None, None], z / h[:, None, None], np.nan)
        radius = np.abs(eig).max(axis=-1)
        ones = np.where(np.isnan(radius), np.nan, 1.0)
        data.update(
            eig_real=(("step", "sample", "mode"), eig.real),
            eig_imag=(("step", "sample", "mode"), eig.imag),
            spectral_radius=(("step", "sample"), radius),
            h_spectral_radius=(("step", "sample"), h[:, None] * radius),
            stiffness_ratio=(
                ("step", "sample"),
                ones,
            ),
            condition_number=(
                ("step", "sample"),
                ones,
            ),
        )
    for name, values in extra.items():
        data[name] = ("step", np.asarray(values))
    attrs = {
        "odediag_trace": 1,
        "backend": "scipy" if method.startswith("scipy:") else "torchdiffeq",
        "method": method,
        "problem": "handmade",
        "status": "success",
        "t_start": 0.0,
        "t_end": float(t[-1] + h[-1]),
        "rtol": 1e-6,
        "atol": 1e-8,
        "nfe_total": int(2 + 6 * n),
    }
    return xr.Dataset(data, coords={"step": np.arange(n)}, attrs=attrs)


# --- attribution of single steps -------------------------------------------


@pytest.mark.parametrize(
    ("h_lambda", "expected"),
    [
        (-0.9 * DOPRI5_BOUND, True),
        (-0.5 * DOPRI5_BOUND, False),
        (-1.2 * DOPRI5_BOUND, True),
        (0.9 * DOPRI5_BOUND, False),  # growing mode: accuracy, not stability
        (0.85 * 3.2966 * np.exp(0.75j * np.pi), True),  # on the 135° ray
        (0.5 * 3.2966 * np.exp(0.75j * np.pi), False),
    ],
)
def test_step_is_stability_limited_when_h_lambda_nears_the_boundary(h_lambda, expected):
    trace = make_trace([h_lambda])
    assert bool(stability_limited(trace)[0]) is expected


def test_rejected_steps_are_never_stability_limited():
    trace = make_trace([-3.0, -3.0], accepted=[False, True])
    assert stability_limited(trace).values.tolist() == [False, True]


def test_margin_is_the_largest_over_decaying_modes():
    trace = make_trace(np.array([[[-1.0, -2.0, 5.0]]]))
    assert float(stability_margin(trace)[0, 0]) == pytest.approx(2.0 / DOPRI5_BOUND)


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.5])
def test_threshold_outside_unit_interval_is_a_user_error(threshold):
    with pytest.raises(OdediagInputError, match="invalid threshold"):
        stability_limited(make_trace([-1.0]), threshold)


@pytest.mark.parametrize(
    ("hairer", "expected"), [(0.9 * DOPRI5_BOUND, True), (0.3 * DOPRI5_BOUND, False)]
)
def test_without_spectrum_dopri5_falls_back_on_hairers_estimate(hairer, expected):
    limited = stability_limited(make_trace(accepted=[True], hairer=[hairer]))
    assert limited.attrs["evidence"] == "hairer"
    assert bool(limited[0]) is expected


def test_without_spectrum_or_hairer_estimate_nothing_is_attributed():
    limited = stability_limited(make_trace(accepted=[True] * 3, method="bosh3"))
    assert limited.attrs["evidence"] == "none"
    assert not limited.any()


@pytest.mark.parametrize("method", ["scipy:Radau", "scipy:BDF"])
def test_implicit_step_far_outside_explicit_regions_is_not_stability_limited(method):
    trace = make_trace([-1e4, -1e4], method=method, order=[5, 5])
    assert not stability_limited(trace).any()


# --- intervals, alternations, Hairer's counters ---------------------------


def _intervals(flags):
    flags = np.asarray(flags, bool)
    t = np.arange(flags.size, dtype=float)
    return [(i.start, i.end) for i in flagged_intervals(t, np.ones(flags.size), flags)]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([0, 0, 1, 0, 0, 0, 0], []),  # a single isolated step
        ([1, 1, 1, 1, 0, 0, 0, 1, 1, 1], [(0.0, 10.0)]),  # 3-step gap merged
        ([1, 1, 1] + [0] * 10 + [1, 1, 1], [(0.0, 3.0), (13.0, 16.0)]),
        ([0] * 5, []),
    ],
)
def test_stiff_intervals_merge_short_gaps_and_drop_isolated_steps(flags, expected):
    assert _intervals(flags) == expected


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        ([1, 1, 1, 1], 1),
        ([1, 0, 1, 0, 1, 0], 6),
        ([1, 1, 0, 1, 0, 1, 1], 5),
        ([], 0),
    ],
)
def test_longest_alternation_counts_accept_reject_runs(accepted, expected):
    assert longest_alternation(np.array(accepted, bool)) == expected


@pytest.mark.parametrize(
    ("estimates", "announced_step"),
    [
        ([4.0] * 20, 14),
        ([4.0] * 10 + [1.0] * 6 + [4.0] * 20, 30),  # six calm steps reset
        ([4.0] * 10 + [1.0] * 5 + [4.0] * 20, 19),  # five do not
        ([4.0] * 14, None),
    ],
)
def test_hairer_announcement_replays_dopri5_counters(estimates, announced_step):
    trace = make_trace(accepted=[True] * len(estimates), hairer=estimates, h=None)
    expected = None if announced_step is None else float(trace["t"][announced_step])
    assert hairer_announcement(trace) == expected


# --- verdicts on hand-built traces ----------------------------------------


def _stiff_then_calm() -> xr.Dataset:
    """10 accuracy-limited steps, then 20 at 0.95 of the boundary."""
    z = [-0.2] * 10 + [-0.95 * DOPRI5_BOUND] * 20
    return make_trace(z, h=[0.01] * 10 + [0.02] * 20)


def test_verdict_finds_onset_and_fractions_of_a_stiff_stretch():
    verdict = analyse(_stiff_then_calm())
    assert verdict.stiff is True
    assert verdict.stiff_onset == pytest.approx(0.1)
    assert verdict.stiff_intervals == [[pytest.approx(0.1), pytest.approx(0.5)]]
    assert verdict.stability_limited_fraction == pytest.approx(20 / 30)
    assert verdict.nfe_stability_limited_fraction == pytest.approx(120 / 182)


@pytest.mark.parametrize(
    ("t_start", "t_end", "expected"),
    [(0.0, 0.45, [0.1, 0.45]), (0.2, 0.5, [0.2, 0.5])],
    ids=["end past t_end", "start before t_start"],
)
def test_stiff_intervals_are_clipped_to_the_span_of_the_solve(t_start, t_end, expected):
    trace = _stiff_then_calm().assign_attrs(t_start=t_start, t_end=t_end)
    assert analyse(trace).stiff_intervals == [pytest.approx(expected)]


@pytest.mark.parametrize(("real", "grow"), [(2.0, True), (-2.0, False)])
def test_verdict_tells_when_the_largest_modes_grow(real, grow):
    z = np.zeros((10, 1, 2), complex)
    z[:, 0, 0], z[:, 0, 1] = -0.01, real * 0.01
    verdict = analyse(make_trace(z))
    assert verdict.largest_modes_grow is grow
    assert verdict.growing_modes["max_real"] == pytest.approx(max(real, -1.0))


def test_rounding_noise_on_a_rotation_is_not_growth():
    trace = make_trace(np.full((10, 1, 2), 1e-18 + 0.05j))
    assert analyse(trace).growing_modes["share"] == 0.0


def test_verdict_recommends_an_implicit_method_from_the_onset():
    recommendation = analyse(_stiff_then_calm()).recommendation
    assert "scipy:Radau" in recommendation and "t ≈ 0.1" in recommendation


def test_accuracy_limited_trace_is_not_stiff():
    verdict = analyse(make_trace([-0.3] * 30))
    assert verdict.stiff is False and verdict.stiff_onset is None


def test_verdict_is_json_safe_with_nan_and_inf():
    trace = _stiff_then_calm()
    trace["condition_number"][12, 0] = np.inf
    document = json.dumps(analyse(trace).to_dict(), allow_nan=False)
    assert json.loads(document)["condition_number"]["max"] == "inf"


def test_limiting_sample_is_the_one_with_largest_h_rho():
    z = np.zeros((6, 3, 1), complex)
    z[:, 1, 0] = -3.0
    z[:, 0, 0] = -1.0
    z[:, 2, 0] = -0.5
    verdict = analyse(make_trace(z))
    assert (verdict.limiting_sample, verdict.limiting_sample_share) == (1, 1.0)


def test_trace_without_spectrum_says_how_to_get_it():
    verdict = analyse(make_trace(accepted=[True] * 20, hairer=[4.0] * 20))
    assert verdict.evidence == "hairer" and verdict.stiff is True
    assert any("--spectrum" in note for note in verdict.notes)


def test_long_accept_reject_alternation_is_evidence_without_spectrum():
    accepted = [True, False] * 12
    verdict = analyse(make_trace(accepted=accepted, method="bosh3"))
    assert (verdict.evidence, verdict.stiff) == ("rejections", True)


def test_lsoda_trace_without_spectrum_uses_its_switch_to_bdf():
    modes = ["adams"] * 5 + ["bdf"] * 10
    trace = make_trace(
        accepted=[True] * 15, method="scipy:LSODA", lsoda_method=modes, order=[2] * 15
    )
    verdict = analyse(trace)
    assert verdict.evidence == "lsoda"
    assert verdict.stiff_onset == pytest.approx(float(trace["t"][5]))


@pytest.mark.parametrize(("h_lambda", "stiff"), [(-50.0, True), (-0.5, False)])
def test_implicit_trace_is_stiff_where_steps_exceed_explicit_stability(h_lambda, stiff):
    verdict = analyse(make_trace([h_lambda] * 10, method="scipy:Radau"))
    assert verdict.stiff is stiff
    assert ("keep an implicit method" in verdict.recommendation) is stiff


# --- inputs that are not (usable) traces ----------------------------------


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda: make_trace([-1.0] * 3).isel(step=slice(0, 0)), "empty trace"),
        (lambda: "trace.nc", "load_trace"),
        (lambda: None, "xarray.Dataset"),
        (lambda: xr.Dataset({"x": ("a", [1.0])}), "not an odediag trace"),
    ],
    ids=["empty", "path", "none", "foreign"],
)
def test_analyse_rejects_what_is_not_a_trace_in_one_line(make_input, message):
    with pytest.raises(OdediagInputError, match=message) as error:
        analyse(make_input())
    assert "\n" not in str(error.value)


def test_analyse_takes_the_trace_object_of_a_solve():
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    _, trace = odediag.odeint(lambda t, y: -y, y0, t, spectrum=True)
    verdict = analyse(trace)
    assert verdict.stiff is False and verdict.n_steps == trace.n_steps


@pytest.mark.parametrize("spectrum", [True, False], ids=["spectrum", "no-spectrum"])
def test_all_rejected_trace_gives_a_verdict_without_warnings(spectrum):
    z = [-2.0] * 6 if spectrum else None
    trace = make_trace(z, accepted=[False] * 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = analyse(trace)
    assert verdict.stiff is None and verdict.n_accepted == 0
    assert any("accepted no step" in note for note in verdict.notes)


def test_unknown_method_with_spectrum_says_its_region_is_unknown():
    verdict = analyse(make_trace([-0.95 * DOPRI5_BOUND] * 10, method="bogus"))
    assert verdict.evidence == "rejections" and verdict.margin is None
    assert any("region of method 'bogus' is unknown" in n for n in verdict.notes)
    assert not any("no Jacobian spectrum" in n for n in verdict.notes)


def test_trace_without_step_sizes_sets_its_spectrum_aside():
    trace = make_trace([-0.95 * DOPRI5_BOUND] * 10)
    trace["h"][:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = analyse(trace)
    assert verdict.evidence == "rejections" and verdict.margin is None
    assert any("no finite step size h" in n for n in verdict.notes)


def test_steps_without_h_end_where_the_next_step_starts():
    trace = make_trace(accepted=[True] * 10, hairer=[3.3] * 10)
    trace["h"][:] = np.nan
    [[start, end]] = analyse(trace).stiff_intervals
    assert (start, end) == (0.0, pytest.approx(0.1))


# --- real solves against LSODA's switch ------------------------------------


def _dopri5_trace(name: str, t_end: float, rtol: float, atol: float, **params):
    problem = odediag.builtin_problem(name, **params)
    t = torch.tensor([problem.t_span[0], t_end], dtype=torch.float64)
    _, trace = odeint_traced(problem, t, rtol, atol)
    return trace.to_dataset()


def odeint_traced(problem, t, rtol, atol):
    return odediag.odeint(
        problem.f,
        problem.y0,
        t,
        rtol=rtol,
        atol=atol,
        method="dopri5",
        spectrum=True,
        jac=problem.jac,
        problem=problem.name,
    )


def _lsoda_switch_time(name: str, t_end: float, rtol: float, atol: float) -> float:
    """Time of LSODA's first step in BDF mode (IWORK(19) = 2)."""
    problem = odediag.builtin_problem(name)

    def f(t, y):
        return problem.f(torch.tensor(t), torch.as_tensor(y)).numpy()

    solver = scipy.integrate.LSODA(
        f, 0.0, problem.y0.double().numpy(), t_end, rtol=rtol, atol=atol
    )
    integrator = getattr(solver._lsoda_solver, "_integrator", None)
    if integrator is None or not hasattr(integrator, "iwork"):
        pytest.skip("this SciPy's LSODA does not expose its method indicator")
    while solver.status == "running":
        solver.step()
        if integrator.iwork[18] == 2:
            return solver.t
    pytest.fail(f"LSODA never switched to BDF on {name} before t = {t_end}")


# LSODA switches to BDF only once BDF promises steps several times longer
# (its RATIO = 5 hysteresis), so it lags the first stability-limited steps of
# an explicit method; the onset must come before the switch, within 5×.
@pytest.mark.parametrize(("name", "t_end"), [("vdpol", 3e-4), ("rober", 0.1)])
def test_dopri5_onset_precedes_lsodas_switch_to_bdf(name, t_end):
    verdict = analyse(_dopri5_trace(name, t_end, 1e-4, 1e-6))
    switch = _lsoda_switch_time(name, t_end, 1e-4, 1e-6)
    assert verdict.stiff is True
    assert switch / 5 <= verdict.stiff_onset <= switch


@pytest.mark.parametrize(
    ("name", "params"),
    [("linear", {"eigenvalues": (-1.0, -2.0)}), ("lotka_volterra", {})],
)
def test_non_stiff_problems_are_not_stiff(name, params):
    problem = odediag.builtin_problem(name, **params)
    verdict = analyse(_dopri5_trace(name, problem.t_span[1], 1e-5, 1e-7, **params))
    assert verdict.stiff is False
    assert verdict.stability_limited_fraction == 0


def test_hairer_estimate_matches_exact_h_rho_on_vdpol():
    verdict = analyse(_dopri5_trace("vdpol", 3e-4, 1e-4, 1e-6))
    assert verdict.hairer["ratio_to_exact"]["median"] == pytest.approx(1, abs=0.02)


def test_backward_solve_gets_intervals_running_backward_in_time():
    trace = make_trace([-0.95 * DOPRI5_BOUND] * 10)
    trace["t"] = ("step", 1.0 - trace["t"].values)
    trace.attrs.update(t_start=1.0, t_end=0.9, phase="backward")
    [[start, end]] = analyse(trace).stiff_intervals
    assert (start, end) == (pytest.approx(1.0), pytest.approx(0.9))


# --- SciPy's implicit methods ----------------------------------------------


def _scipy_verdict(name: str, method: str, t_end: float):
    from odediag.solvers import solve_problem

    problem = odediag.builtin_problem(name)
    _, trace = solve_problem(
        problem, method, rtol=1e-4, atol=1e-6, spectrum=True, t_span=(0.0, t_end)
    )
    return analyse(trace.to_dataset())


@pytest.mark.parametrize("method", ["Radau", "BDF", "LSODA"])
def test_implicit_solve_of_rober_is_stiff_and_keeps_the_method(method):
    verdict = _scipy_verdict("rober", method, 40.0)
    assert verdict.stiff is True
    assert verdict.recommendation.startswith("keep an implicit method")


@pytest.mark.parametrize("method", ["Radau", "LSODA"])
def test_implicit_solve_of_lotka_volterra_is_not_stiff(method):
    assert _scipy_verdict("lotka_volterra", method, 15.0).stiff is False


def test_fixed_grid_trace_names_the_largest_stable_step():
    trace = make_trace([-2.5] * 5, h=[0.05] * 5, method="euler")
    verdict = analyse(trace)
    assert any("5 steps were beyond it" in n and "h ≈ 0.04" in n for n in verdict.notes)
