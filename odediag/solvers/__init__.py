"""Instrumented solvers: torchdiffeq's and SciPy's, recording every step."""

from odediag.solvers._problem_solve import check_method, trace_problem
from odediag.solvers._scipy import (
    DEFAULT_MAX_STEPS,
    SCIPY_METHODS,
    solve_ivp,
    solve_problem,
)
from odediag.solvers._scipy_problem import problem_functions
from odediag.solvers._torchdiffeq import (
    ADAPTIVE_METHODS,
    FIXED_GRID_METHODS,
    METHODS,
    odeint,
    odeint_adjoint,
)

__all__ = [
    "ADAPTIVE_METHODS",
    "FIXED_GRID_METHODS",
    "METHODS",
    "SCIPY_METHODS",
    "check_method",
    "odeint",
    "odeint_adjoint",
    "trace_problem",
    "DEFAULT_MAX_STEPS",
    "problem_functions",
    "solve_ivp",
    "solve_problem",
]
