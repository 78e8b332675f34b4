"""SciPy's stiff solvers, traced, on the Bari test set: reference values, switches.

Errors are measured in units of the requested tolerance, atol + rtol·|y_ref|,
against the published reference solutions (Mazzia, Magherini & Iavernaro,
Test Set for IVP Solvers, Report 43/2006, Release 2.3).
"""

from __future__ import annotations

import numpy as np
import pytest

import odediag
from odediag.problems import rober, vdpol, vdpolm
from odediag.solvers import solve_problem

PROBLEMS = {"rober": rober, "vdpol": vdpol, "vdpolm": vdpolm}

RTOL = 1e-8
# atol below the smallest component that matters: rober's y2 ends near 1e-13,
# vdpolm's y2 near 1e-3.
ATOL = {"rober": 1e-14, "vdpol": 1e-10, "vdpolm": 1e-13}

# Tolerances bound the local error; the global error at the end of the span
# is that local error accumulated over ~10^3 steps. Radau IIA (order 5, with
# its stiffly accurate last stage) lands far inside one unit; SciPy's BDF
# (variable order 1-5) between 2 and 15 units on these problems at rtol
# 1e-7..1e-9, which bounds it here.
UNITS = {"Radau": 1.0, "BDF": 20.0}


def _error_in_tolerance_units(problem, y, atol):
    return np.abs(y - problem.y_ref) / (atol + RTOL * np.abs(problem.y_ref))


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("method", ["Radau", "BDF"])
def test_implicit_method_lands_on_the_reference_solution(method, name):
    problem = PROBLEMS[name]()
    result, trace = solve_problem(
        problem, method, rtol=RTOL, atol=ATOL[name], max_steps=None
    )
    error = _error_in_tolerance_units(problem, result.y[:, -1], ATOL[name])
    assert error.max() < UNITS[method], error
    assert trace.status == "success"
    assert trace.nfe == result.nfev


@pytest.mark.parametrize("name", ["rober", "vdpolm"])
def test_lsoda_switches_between_adams_and_bdf_show_in_the_trace(name):
    problem = PROBLEMS[name]()
    _, trace = solve_problem(problem, "LSODA", rtol=1e-6, atol=1e-10, max_steps=None)
    used = trace.log.column("lsoda_method")
    assert used[0] == "adams"  # LSODA always starts non-stiff
    assert {"adams", "bdf"} <= set(used.tolist())
    switches = np.count_nonzero(used[1:] != used[:-1])
    assert switches >= 1


def test_lsoda_uses_bdf_for_most_of_robertson():
    _, trace = solve_problem(rober(), "LSODA", rtol=1e-6, atol=1e-10, max_steps=None)
    used = trace.log.column("lsoda_method")
    assert np.mean(used == "bdf") > 0.5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["RK23", "RK45", "DOP853"])
def test_explicit_methods_exhaust_the_budget_on_vdpolm(method):
    with pytest.raises(odediag.SolveError) as caught:
        solve_problem(vdpolm(), method, rtol=1e-6, atol=1e-8, max_steps=2000)
    trace = caught.value.trace
    assert trace.status == "max_steps"
    # Stiffness, not accuracy, holds the steps: they stay tiny in the slow phase.
    assert trace.to_dataset().t.values[-1] < 10.0
