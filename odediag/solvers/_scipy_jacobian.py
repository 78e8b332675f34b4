"""Jacobians ∂f/∂y for the spectrum of a SciPy solve, from the best source.

In order of preference: the ``jac`` the caller gave SciPy (a callable or a
constant matrix), autograd through the torch code behind a function made by
:func:`odediag.solvers.problem_functions`, and central differences of ``fun``.
None of these touches the solve: they are extra evaluations, counted apart
in the trace's ``nfe_spectrum``.

Finite differences: SciPy's own ``num_jac`` (used by Radau and BDF) takes
forward differences with a step adapted between calls, accurate to about
√ε ≈ 1e-8 relative, and ``scipy.optimize._numdiff`` is private API. We take
central differences with the step δ_j = ε^(1/3)·max(1, |y_j|), which
balances the truncation error O(δ²) against rounding O(ε/δ) at an error of
about ε^(2/3) ≈ 4e-11 relative to the scale of f and its third derivative
(Nocedal & Wright, Numerical Optimization, 2nd ed., 2006, §8.1, eq. (8.9)).
That costs 2n evaluations of ``fun`` per Jacobian, one call when
``vectorized``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import issparse

from odediag.spectrum import batched_jacobian

_EPS = np.finfo(np.float64).eps
_CENTRAL_STEP = _EPS ** (1 / 3)  # relative step of the central differences

FD_ACCURACY = (
    "central differences with step eps**(1/3)*max(1,|y_j|): relative error "
    "about 1e-10 for smooth, well-scaled f"
)


@dataclass(frozen=True)
class SpectrumJacobian:
    """Where the spectrum's Jacobians come from, and what each one costs.

    Attributes
    ----------
    evaluate
        ``evaluate(t, y) -> J``, a float64 array of shape ``(n, n)``.
    source
        ``"analytic"``, ``"autograd"`` or ``"finite_differences"``.
    accuracy
        One line on how accurate ``J`` is, stored in the trace.
    cost
        Evaluations counted in ``nfe_spectrum`` per Jacobian: one for
        ``jac`` or autograd (as the torchdiffeq backend counts), ``2n``
        calls of ``fun`` for central differences.
    """

    evaluate: Callable[[float, np.ndarray], np.ndarray]
    source: str
    accuracy: str
    cost: int


def spectrum_jacobian(fun, jac, args, vectorized: bool, n: int) -> SpectrumJacobian:
    """Choose the Jacobian of the spectrum for ``solve_ivp(fun, ..., jac=jac)``.

    Parameters
    ----------
    fun, jac, args, vectorized
        As given to :func:`scipy.integrate.solve_ivp` (``jac`` from its
        options; ``None`` when absent).
    n
        Size of the state.
    """
    extra = tuple(args) if args is not None else ()
    if jac is not None and callable(jac):
        return SpectrumJacobian(
            lambda t, y: _dense(jac(t, y, *extra)), "analytic", "as given by jac", 1
        )
    if jac is not None:
        constant = _dense(jac)
        return SpectrumJacobian(
            lambda t, y: constant, "analytic", "constant matrix given as jac", 1
        )
    torch_rhs = getattr(fun, "torch_rhs", None)
    if torch_rhs is not None and not extra:
        return SpectrumJacobian(
            lambda t, y: autograd_jacobian(torch_rhs, t, y),
            "autograd",
            "exact up to rounding (torch autograd)",
            1,
        )
    return SpectrumJacobian(
        lambda t, y: central_differences(fun, t, y, extra, vectorized),
        "finite_differences",
        FD_ACCURACY,
        2 * n,
    )


def autograd_jacobian(f: Callable, t: float, y: np.ndarray) -> np.ndarray:
    """∂f/∂y of a torch ``f(t, y)`` at a NumPy state, shape ``(n, n)``."""
    t_ = torch.tensor(float(t), dtype=torch.float64)
    y_ = torch.tensor(y, dtype=torch.float64)
    return batched_jacobian(f, t_, y_, batched=False)[0].numpy()


def central_differences(
    fun: Callable, t: float, y: np.ndarray, args: tuple, vectorized: bool
) -> np.ndarray:
    """∂f/∂y by central differences (see the module notes), shape ``(n, n)``."""
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    delta = _CENTRAL_STEP * np.maximum(1.0, np.abs(y))
    plus = y[:, None] + np.diag(delta)
    minus = y[:, None] - np.diag(delta)
    # The steps as represented, so the quotient divides by what was taken.
    width = np.diag(plus) - np.diag(minus)
    columns = np.hstack([plus, minus])
    if vectorized:
        values = np.asarray(fun(t, columns, *args), dtype=np.float64)
    else:
        values = np.stack(
            [np.asarray(fun(t, c, *args), dtype=np.float64) for c in columns.T.copy()],
            axis=1,
        )
    return (values[:, :n] - values[:, n:]) / width


def _dense(J) -> np.ndarray:
    if issparse(J):
        J = J.toarray()
    return np.asarray(J, dtype=np.float64)
