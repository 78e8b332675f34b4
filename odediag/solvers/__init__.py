"""Instrumented solvers: torchdiffeq's and SciPy's, recording every step."""

from odediag.solvers._problem_solve import SCIPY_METHODS, check_method, trace_problem
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
]
