"""odediag: measurements of why an ODE solve, or a neural ODE, is expensive.

The public API is the names below; every module behind them is private. The
reports and figures live in :mod:`odediag.report` (which imports matplotlib),
the moons models in :mod:`odediag.models` and training in
:mod:`odediag.training`.
"""

from odediag._errors import (
    OdediagError,
    OdediagInputError,
    OdediagWarning,
    SolveError,
    SolveInterrupted,
)
from odediag.problems import Problem, builtin_names, builtin_problem, load_problem
from odediag.solvers import odeint, odeint_adjoint, solve_ivp, trace_problem
from odediag.spectrum import batched_jacobian, spectral_measures
from odediag.stability import butcher_tableau, stability_boundary, stability_region
from odediag.stiffness import StiffnessVerdict, stability_limited, stability_margin
from odediag.stiffness import analyse as analyse_stiffness
from odediag.trace import Trace, check_trace, load_trace, save_trace

__version__ = "0.1.0"

__all__ = [
    "OdediagError",
    "OdediagInputError",
    "OdediagWarning",
    "Problem",
    "SolveError",
    "SolveInterrupted",
    "StiffnessVerdict",
    "Trace",
    "__version__",
    "analyse_stiffness",
    "batched_jacobian",
    "builtin_names",
    "builtin_problem",
    "butcher_tableau",
    "check_trace",
    "load_problem",
    "load_trace",
    "odeint",
    "odeint_adjoint",
    "save_trace",
    "solve_ivp",
    "spectral_measures",
    "stability_boundary",
    "stability_limited",
    "stability_margin",
    "stability_region",
    "trace_problem",
]
