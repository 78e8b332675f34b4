"""Instrumented SciPy solves: ``solve_ivp`` and ``solve_problem``.

:func:`solve_ivp` takes :func:`scipy.integrate.solve_ivp`'s arguments, runs
SciPy's own solver through a recording subclass (see
:mod:`odediag.solvers._scipy_traced`) and returns SciPy's result, bit for
bit, with a trace of every attempted step.

What each method records beyond the base columns:

========  ==========================================================
RK23      ``order`` (3)
RK45      ``order`` (5); ``hairer_h_lambda`` at accepted steps
DOP853    ``order`` (8)
Radau     ``order`` (5), ``newton_iterations``, ``rejection_cause``,
          ``njev``, ``nlu``
BDF       the same, ``order`` varying from 1 to 5
LSODA     ``order``, ``njev``, ``nlu``, ``lsoda_method``; accepted steps
          only, without error ratio: LSODA's rejected attempts happen
          inside ODEPACK and are not visible (details in
          :class:`odediag.solvers._scipy_traced._TracedLSODA`)
========  ==========================================================

``newton_iterations`` counts every Newton iteration of the attempt, including
those of a first solve that failed with an old Jacobian and was retried with
a fresh one at the same h.

Known gaps
----------
* LSODA's rejected attempts are not recorded (see above).
* The step budget is checked between steps, so the rejected attempts of the
  step in progress may take a solve a few attempts past ``max_steps``.
* Radau and BDF stop a Newton iteration that meets a non-finite ``f``
  without saying so: such an attempt is recorded as a ``"newton"``
  rejection, and a solve that ends that way has status ``step_underflow``
  rather than ``nonfinite``. A Radau step whose error norm is NaN counts
  as accepted, as in SciPy (``NaN > 1`` is false), and its row says so,
  with ``error_ratio`` NaN; a non-finite state stops the next step with
  ``nonfinite``.
* A ``jac`` given with an explicit method is used for the spectrum, and
  SciPy warns that the solver ignores it (:func:`solve_problem` does not
  pass it to explicit methods).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.integrate
from scipy.integrate._ivp.base import OdeSolver
from scipy.integrate._ivp.bdf import BDF
from scipy.integrate._ivp.common import OdeSolution
from scipy.integrate._ivp.ivp import METHODS as _SCIPY_METHODS
from scipy.integrate._ivp.lsoda import LSODA
from scipy.integrate._ivp.radau import Radau

from odediag._errors import OdediagInputError, SolveError, SolveInterrupted, invalid
from odediag._versions import versions
from odediag.problems import Problem, validate_t_span
from odediag.solvers._scipy_jacobian import SpectrumJacobian, spectrum_jacobian
from odediag.solvers._scipy_problem import problem_functions
from odediag.solvers._scipy_recording import ScipyRecording
from odediag.solvers._scipy_traced import extra_columns, traced_class
from odediag.trace import Trace

SCIPY_METHODS = tuple(_SCIPY_METHODS)  # RK23, RK45, DOP853, Radau, BDF, LSODA

# Methods that use a Jacobian, so solve_problem hands them the analytic one.
IMPLICIT_METHODS = (Radau, BDF, LSODA)

# A budget of attempted steps for solve_problem: an explicit method on a stiff
# problem (RK45 would need some 2·10^6 steps on vdpolm) ends with status
# "max_steps" within a minute instead of running for ten minutes or more.
DEFAULT_MAX_STEPS = 100_000

# SciPy's defaults, which every built-in method shares.
_DEFAULT_RTOL, _DEFAULT_ATOL = 1e-3, 1e-6

# LSODA istate values that mean the step size could not be made to work.
_LSODA_UNDERFLOW = (-4, -5)


def solve_ivp(
    fun: Callable,
    t_span: Sequence[float],
    y0,
    method: str | type[OdeSolver] = "RK45",
    t_eval=None,
    dense_output: bool = False,
    events=None,
    vectorized: bool = False,
    args: tuple | None = None,
    *,
    spectrum: bool = False,
    max_steps: int | None = None,
    problem: str = "",
    **options: Any,
):
    """Solve like :func:`scipy.integrate.solve_ivp` and record every attempt.

    Parameters
    ----------
    fun, t_span, y0, method, t_eval, dense_output, events, vectorized, args
        Exactly as for :func:`scipy.integrate.solve_ivp`.
    spectrum
        Record the Jacobian ∂f/∂y at the start of every accepted step and its
        eigenvalues and singular values. The Jacobian comes from ``jac`` when
        given, else from autograd when ``fun`` was made by
        :func:`problem_functions`, else from central differences (the trace's
        ``jacobian_source`` and ``jacobian_accuracy`` say which). These
        evaluations are outside the solve and counted in ``nfe_spectrum``.
    max_steps
        Stop once this many steps were attempted, with status ``max_steps``.
        ``None`` (default) sets no budget, as in SciPy.
    problem
        Name stored in the trace.
    **options
        Passed to the solver, as for :func:`scipy.integrate.solve_ivp`
        (``rtol``, ``atol``, ``jac``, ``first_step``, ...).

    Returns
    -------
    result : scipy.integrate._ivp.ivp.OdeResult
        What :func:`scipy.integrate.solve_ivp` returns for these arguments.
    trace : Trace
        Every attempted step; ``trace.to_dataset()`` gives the xarray view.

    Raises
    ------
    SolveError
        When the solve stops early: step budget spent (``max_steps``), step
        size below the spacing of floating-point numbers or LSODA's repeated
        failures (``step_underflow``), a non-finite state (``nonfinite``),
        an exception raised by ``fun`` (``failed``). ``error.trace`` holds
        every step recorded; ``error.result`` SciPy's partial result when
        SciPy returned one.
    OdediagInputError
        For an unknown method, an invalid ``max_steps``, or arguments that
        SciPy rejects before the first step.
    """
    method_class = _method_class(method)
    _validate(spectrum, max_steps)
    validate_span_and_tolerances(t_span, options)
    jacobian = None
    if spectrum:
        n = np.size(y0)
        jacobian = spectrum_jacobian(fun, options.get("jac"), args, vectorized, n)
    scipy_kwargs = {
        "t_eval": t_eval,
        "dense_output": dense_output,
        "events": events,
        "vectorized": vectorized,
        "args": args,
    }
    return _traced_solve(
        fun,
        t_span,
        y0,
        method_class,
        scipy_kwargs,
        options,
        jacobian,
        max_steps,
        problem,
    )


def solve_problem(
    problem: Problem,
    method: str = "RK45",
    *,
    rtol: float = _DEFAULT_RTOL,
    atol: float = _DEFAULT_ATOL,
    spectrum: bool = False,
    max_steps: int | None = DEFAULT_MAX_STEPS,
    t_span: Sequence[float] | None = None,
    **options: Any,
):
    """Solve a :class:`~odediag.problems.Problem` with a SciPy method, traced.

    The problem's analytic Jacobian, when it has one, goes to the methods
    that use one (Radau, BDF, LSODA) and to the spectrum; without one the
    spectrum takes Jacobians of the torch code by autograd.

    Parameters
    ----------
    problem
        The problem; its ``y0`` must be one state, shape ``(d,)``.
    method
        One of :data:`SCIPY_METHODS`.
    rtol, atol
        Tolerances.
    spectrum
        Record Jacobian spectra at accepted steps (see :func:`solve_ivp`).
    max_steps
        Budget of attempted steps; ``None`` for none.
    t_span
        Time span replacing ``problem.t_span``, e.g. a shorter one.
    **options
        Further options of the SciPy solver (``first_step``, ``max_step``).

    Returns
    -------
    result, trace
        As for :func:`solve_ivp`.

    Raises
    ------
    SolveError, OdediagInputError
        As for :func:`solve_ivp`.
    """
    method_class = _method_class(method)
    _validate(spectrum, max_steps)
    span = problem.t_span if t_span is None else validate_t_span(t_span)
    fun, jac = problem_functions(problem)
    options = {**options, "rtol": rtol, "atol": atol}
    if jac is not None and issubclass(method_class, IMPLICIT_METHODS):
        options["jac"] = jac
    jacobian = None
    if spectrum:
        jacobian = spectrum_jacobian(fun, jac, None, False, problem.dim)
    y0 = problem.y0.detach().to("cpu").double().numpy().copy()
    return _traced_solve(
        fun, span, y0, method_class, {}, options, jacobian, max_steps, problem.name
    )


def _traced_solve(
    fun,
    t_span,
    y0,
    method_class: type[OdeSolver],
    scipy_kwargs: dict,
    options: dict,
    jacobian: SpectrumJacobian | None,
    max_steps: int | None,
    problem: str,
):
    attrs = _attrs(t_span, method_class, options, problem, jacobian)
    trace = Trace(
        attrs, spectrum=jacobian is not None, extra_columns=extra_columns(method_class)
    )
    recording = ScipyRecording(trace, max_steps, jacobian)
    solver_class = traced_class(method_class, recording)
    try:
        result = scipy.integrate.solve_ivp(
            fun, t_span, y0, method=solver_class, **scipy_kwargs, **options
        )
    except KeyboardInterrupt:
        if recording.solver is not None:
            trace.nfe = int(recording.solver.nfev)
        trace.finish("interrupted", "stopped by Ctrl-C; the steps so far are kept")
        raise SolveInterrupted(trace) from None
    except Exception as error:
        _raise_from_exception(error, recording)
    if dense_output_differs(method_class) and result.sol is not None:
        result.sol = _alt_segment_solution(result.sol)
    trace.nfe = int(result.nfev)
    status, message = _outcome(result, recording)
    trace.finish(status, message)
    if status != "success":
        failure = SolveError(f"{status}: {message}", trace)
        failure.result = result
        raise failure
    return result, trace


def _method_class(method) -> type[OdeSolver]:
    if isinstance(method, str) and method in _SCIPY_METHODS:
        return _SCIPY_METHODS[method]
    if inspect.isclass(method) and issubclass(method, OdeSolver):
        return method
    raise invalid(
        "method",
        method,
        f"choose one of {', '.join(SCIPY_METHODS)} or pass an OdeSolver subclass",
    )


def validate_span_and_tolerances(t_span, options: dict) -> None:
    """One-line errors for what SciPy would reject late or loop forever on."""
    try:
        t0, t1 = (float(v) for v in t_span)
    except (TypeError, ValueError):
        raise invalid("t_span", t_span, "give two times (t0, t1)") from None
    if not (math.isfinite(t0) and math.isfinite(t1)) or t0 == t1:
        raise invalid("t_span", t_span, "give two different finite times")
    for name in ("rtol", "atol"):
        if name not in options:
            continue
        try:
            values = np.asarray(options[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid(name, options[name], "give a positive number") from None
        if not np.isfinite(values).all() or (values < 0).any():
            raise invalid(name, options[name], "tolerances must be finite and >= 0")


def _validate(spectrum, max_steps) -> None:
    if not isinstance(spectrum, bool | np.bool_):
        raise invalid("spectrum", spectrum, "pass True or False")
    if max_steps is None:
        return
    if isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer):
        raise invalid("max_steps", max_steps, "give a positive integer or None")
    if max_steps < 1:
        raise invalid("max_steps", max_steps, "give a positive integer or None")


def _attrs(t_span, method_class, options, problem, jacobian) -> dict:
    t_start, t_end = (float(v) for v in t_span)
    return {
        "backend": "scipy",
        "method": f"scipy:{method_class.__name__}",
        "rtol": _scalar_or_array(options.get("rtol", _DEFAULT_RTOL)),
        "atol": _scalar_or_array(options.get("atol", _DEFAULT_ATOL)),
        "problem": problem,
        "t_start": t_start,
        "t_end": t_end,
        "phase": "forward",
        "jacobian_source": jacobian.source if jacobian is not None else "",
        "jacobian_accuracy": jacobian.accuracy if jacobian is not None else "",
        **versions(),
    }


def _scalar_or_array(value):
    array = np.asarray(value, dtype=np.float64).ravel()
    return float(array[0]) if array.size == 1 else array


def dense_output_differs(method_class: type[OdeSolver]) -> bool:
    """Whether SciPy builds this method's ``OdeSolution`` with ``alt_segment``.

    ``solve_ivp`` tests ``method in [BDF, LSODA]`` by identity, which our
    subclass fails; at the step times themselves the interpolant would then
    come from the other neighbouring segment. We rebuild the solution with
    the flag SciPy would have used.
    """
    return method_class in (BDF, LSODA)


def _alt_segment_solution(sol: OdeSolution) -> OdeSolution:
    return OdeSolution(sol.ts, sol.interpolants, alt_segment=True)


def _outcome(result, recording: ScipyRecording) -> tuple[str, str]:
    if result.status == 0:
        return "success", "the solve reached the end of its time span"
    if result.status == 1:
        return "success", f"a terminal event ended the solve at t = {result.t[-1]:.6g}"
    if recording.stop_status is not None:
        return recording.stop_status, recording.stop_message
    if _went_nonfinite(result, recording):
        return "nonfinite", (
            "the error estimate or the state became non-finite; the dynamics "
            f"blow up or the step was unstable (SciPy: {result.message})"
        )
    if recording.lsoda_istate is not None:
        status = (
            "step_underflow" if recording.lsoda_istate in _LSODA_UNDERFLOW else "failed"
        )
        return status, f"LSODA failed with istate {recording.lsoda_istate}"
    return "step_underflow", (
        f"SciPy: {result.message} The problem is likely stiff or singular there"
    )


def _went_nonfinite(result, recording: ScipyRecording) -> bool:
    if recording.nonfinite_error:
        return True
    return result.y.size > 0 and not np.all(np.isfinite(result.y[:, -1]))


def _raise_from_exception(error: Exception, recording: ScipyRecording):
    if isinstance(error, OdediagInputError):
        raise error
    if not recording.started:
        if isinstance(error, ValueError | TypeError):
            raise OdediagInputError(
                f"scipy.integrate.solve_ivp rejected the arguments: {error}"
            ) from error
        raise error
    trace = recording.trace
    if recording.solver is not None:
        trace.nfe = int(recording.solver.nfev)
    message = f"the solve raised {type(error).__name__}: {error}"
    # SciPy's LU factorisation refuses a Jacobian with infs or NaNs.
    nonfinite = "infs or nans" in str(error).lower()
    status = "nonfinite" if nonfinite else "failed"
    trace.finish(status, message)
    raise SolveError(f"{status}: {message}", trace) from error
