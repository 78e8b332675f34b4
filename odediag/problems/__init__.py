"""Initial value problems: the :class:`Problem` type, built-ins, user problems."""

from odediag.problems._builtin import (
    BUILTIN,
    Param,
    builtin_names,
    builtin_problem,
    linear,
    lotka_volterra,
    rober,
    vdp,
    vdpol,
    vdpolm,
)
from odediag.problems._loading import load_problem
from odediag.problems._problem import Problem, validate_t_span

__all__ = [
    "BUILTIN",
    "Param",
    "Problem",
    "builtin_names",
    "builtin_problem",
    "linear",
    "load_problem",
    "lotka_volterra",
    "rober",
    "validate_t_span",
    "vdp",
    "vdpol",
    "vdpolm",
]
