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
    max_steps: int | None = None,
    adjoint: bool = False,
    spectrum: bool = False,
    problem: str = "",
) -> tuple[torch.Tensor, Any]:
    """Solve dy/dt = func(t, y) with odediag's instrumented solver.

    ``max_steps`` bounds the attempted steps of the forward solve (status
    ``max_steps``) and, for the adjoint method, those of the backward solve
    per output interval (torchdiffeq's ``max_num_steps``, which stops
    ``backward()`` with an AssertionError).

    Returns
    -------
    solution, trace
        As :func:`odediag.odeint`; the trace's ``nfe_backward`` is valid after
        ``backward()`` for direct backpropagation and the adjoint alike.
    """
    options = dict(options or {})
    common = dict(
        rtol=rtol,
        atol=atol,
        method=method,
        options=options,
        max_steps=max_steps,
        spectrum=spectrum,
        problem=problem,
    )
    if not adjoint:
        return odeint(func, y0, t, **common)
    # torchdiffeq would copy ``options`` less "norm" for the backward solve.
    backward = {k: v for k, v in options.items() if k != "norm"}
    if max_steps is not None:
        backward["max_num_steps"] = max_steps
    return odeint_adjoint(func, y0, t, adjoint_options=backward, **common)


def solver_backend() -> str:
    """Name of the solver :func:`solve` uses, for run attributes."""
    return "odediag.odeint"
