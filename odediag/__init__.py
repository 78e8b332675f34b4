"""odediag: measurements of why an ODE solve, or a neural ODE, is expensive.

The public API is the names below; every module behind them is private.
"""

from odediag._errors import (
    OdediagError,
    OdediagInputError,
    OdediagWarning,
    SolveError,
)
from odediag.problems import Problem, builtin_names, builtin_problem, load_problem
from odediag.solvers import odeint, odeint_adjoint
from odediag.spectrum import batched_jacobian, spectral_measures
from odediag.trace import Trace, check_trace, load_trace, save_trace

__version__ = "0.1.0"

__all__ = [
    "OdediagError",
    "OdediagInputError",
    "OdediagWarning",
    "Problem",
    "SolveError",
    "Trace",
    "__version__",
    "batched_jacobian",
    "builtin_names",
    "builtin_problem",
    "check_trace",
    "load_problem",
    "load_trace",
    "odeint",
    "odeint_adjoint",
    "save_trace",
    "spectral_measures",
]
