"""Instrumented solvers: torchdiffeq's and SciPy's, recording every step."""

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
    "odeint",
    "odeint_adjoint",
]
