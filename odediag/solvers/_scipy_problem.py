"""One problem definition for both backends: torch functions as NumPy callables.

A :class:`~odediag.problems.Problem` holds torch code. SciPy calls ``fun(t, y)``
with a float64 array of shape ``(n,)``, or ``(n, k)`` when ``vectorized``.
The wrappers here hand torch a tensor that shares the array's memory
(``torch.from_numpy``, no copy) and give SciPy back the array behind torch's
result, again without a copy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from odediag._errors import invalid
from odediag.problems import Problem

NumpyFunction = Callable[[float, np.ndarray], np.ndarray]


def problem_functions(problem: Problem) -> tuple[NumpyFunction, NumpyFunction | None]:
    """NumPy right-hand side and Jacobian of ``problem`` for SciPy's solvers.

    Parameters
    ----------
    problem
        A problem whose state is one sample, ``y0`` of shape ``(d,)``.

    Returns
    -------
    fun : callable
        ``fun(t, y) -> dy/dt``, float64 arrays of shape ``(d,)``, or ``(d, k)``
        for ``k`` states at once (SciPy's ``vectorized=True`` layout). The
        torch function is kept as ``fun.torch_rhs``; :func:`odediag.solve_ivp`
        takes Jacobians of it by autograd for ``spectrum=True``.
    jac : callable or None
        ``jac(t, y) -> ∂f/∂y`` of shape ``(d, d)``, or ``None`` when the
        problem has no analytic Jacobian.

    Raises
    ------
    OdediagInputError
        When ``problem.y0`` is a batch of states: SciPy solves one at a time.
    """
    if problem.y0.ndim != 1:
        raise invalid(
            "problem",
            problem.name,
            f"its y0 has shape {tuple(problem.y0.shape)}; SciPy solves one state "
            "of shape (d,) at a time, so build the problem with one sample",
        )
    fun = numpy_rhs(problem.f)
    jac = numpy_jacobian(problem.jac) if problem.jac is not None else None
    return fun, jac


def numpy_rhs(f: Callable) -> NumpyFunction:
    """Wrap a torch ``f(t, y)`` (``y[..., i]`` indexing) as a NumPy function.

    A 2-D ``y`` of shape ``(d, k)`` holds ``k`` states as columns (SciPy's
    vectorized layout); torch sees its transpose, ``(k, d)``, a batch.
    """

    def fun(t, y):
        x = _tensor(y)
        if y.ndim == 2:
            return f(_time(t), x.T).detach().numpy().T
        return f(_time(t), x).detach().numpy()

    fun.torch_rhs = f
    return fun


def numpy_jacobian(jac: Callable) -> NumpyFunction:
    """Wrap a torch ``jac(t, y) -> (d, d)`` as a NumPy function."""

    def jacobian(t, y):
        return jac(_time(t), _tensor(y)).detach().numpy()

    return jacobian


def _time(t) -> torch.Tensor:
    return torch.tensor(float(t), dtype=torch.float64)


def _tensor(y: np.ndarray) -> torch.Tensor:
    try:
        return torch.from_numpy(y)
    except (ValueError, TypeError):  # negative strides, or not an ndarray
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64))
