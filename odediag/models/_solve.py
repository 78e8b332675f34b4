"""The one place where models and training call an ODE solver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from odediag.solvers import odeint, odeint_adjoint


def solve(
    func: nn.Module,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    rtol: float,
    atol: float,
    method: str,
    options: Mapping[str, Any] | None = None,
    adjoint: bool = False,
    spectrum: bool = False,
    problem: str = "",
) -> tuple[torch.Tensor, Any]:
    """Solve dy/dt = func(t, y) with odediag's instrumented solver.

    Returns
    -------
    solution, trace
        As :func:`odediag.odeint`; the trace's ``nfe_backward`` is valid after
        ``backward()`` for direct backpropagation and the adjoint alike.
    """
    solver = odeint_adjoint if adjoint else odeint
    return solver(
        func,
        y0,
        t,
        rtol=rtol,
        atol=atol,
        method=method,
        options=dict(options or {}),
        spectrum=spectrum,
        problem=problem,
    )


def solver_backend() -> str:
    """Name of the solver :func:`solve` uses, for run attributes."""
    return "odediag.odeint"
