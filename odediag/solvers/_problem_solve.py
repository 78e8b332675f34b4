"""Solve a :class:`~odediag.Problem` with any traced method, by name."""

from __future__ import annotations

from collections.abc import Callable

import torch

from odediag._errors import invalid
from odediag.problems import Problem, validate_t_span
from odediag.solvers._scipy import SCIPY_METHODS, solve_problem
from odediag.solvers._torchdiffeq import METHODS, odeint
from odediag.trace import Trace

SCIPY_PREFIX = "scipy:"


def trace_problem(
    problem: Problem,
    method: str = "dopri5",
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    t_span: tuple[float, float] | None = None,
    spectrum: bool = True,
    max_steps: int | None = None,
    options: dict | None = None,
    progress: Callable[[float], None] | None = None,
) -> Trace:
    """Trace ``problem`` with a torchdiffeq method or ``"scipy:NAME"``.

    Parameters
    ----------
    problem
        The initial value problem.
    method
        A torchdiffeq method (``"dopri5"``) or a SciPy one (``"scipy:Radau"``).
    rtol, atol
        Tolerances; must be positive.
    t_span
        Overrides ``problem.t_span``.
    spectrum
        Record the Jacobian spectrum at accepted steps (analytic Jacobian when
        the problem has one).
    max_steps
        Attempted-step budget; the solve ends with status ``max_steps``.
    options
        Method options passed through to the solver.
    progress
        Called with the current time after each accepted step.

    Returns
    -------
    Trace
        Also returned when the solve failed or Ctrl-C stopped it: look at
        ``trace.status``. Input errors raise :class:`~odediag.OdediagInputError`.
    """
    from odediag._errors import SolveError, SolveInterrupted

    if not isinstance(problem, Problem):
        raise invalid(
            "problem", problem, "give an odediag.Problem (see odediag.builtin_problem)"
        )
    check_method(method)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol > 0:
            raise invalid(name, tol, "tolerances must be positive, e.g. 1e-6")
    t0, t1 = validate_t_span(t_span if t_span is not None else problem.t_span)
    try:
        if method.startswith(SCIPY_PREFIX):
            return _trace_scipy(
                problem, method, rtol, atol, (t0, t1), spectrum, max_steps, options
            )
        t = torch.tensor([t0, t1], dtype=problem.y0.dtype)
        _, trace = odeint(
            problem.f,
            problem.y0,
            t,
            rtol=rtol,
            atol=atol,
            method=method,
            options=options,
            spectrum=spectrum,
            jac=problem.jac,
            max_steps=max_steps,
            problem=problem.name,
            progress=progress,
        )
    except (SolveError, SolveInterrupted) as error:
        return error.trace
    return trace


def check_method(method: str) -> str:
    """Raise :class:`~odediag.OdediagInputError` unless ``method`` is traceable."""
    if not isinstance(method, str) or not method:
        raise invalid("method", method, f"give one of {', '.join(METHODS)}")
    if method.startswith(SCIPY_PREFIX):
        name = method[len(SCIPY_PREFIX) :]
        if name not in SCIPY_METHODS:
            raise invalid(
                "method",
                method,
                f"SciPy methods are scipy:{', scipy:'.join(SCIPY_METHODS)}",
            )
    elif method not in METHODS:
        raise invalid(
            "method",
            method,
            f"choose one of {', '.join(METHODS)}, or scipy:NAME for SciPy",
        )
    return method


def _trace_scipy(problem, method, rtol, atol, t_span, spectrum, max_steps, options):
    _, trace = solve_problem(
        problem,
        method[len(SCIPY_PREFIX) :],
        rtol=rtol,
        atol=atol,
        spectrum=spectrum,
        max_steps=max_steps,
        t_span=t_span,
        **(options or {}),
    )
    return trace
