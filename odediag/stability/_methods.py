"""The methods odediag traces, with their tableaux and stability regions.

Coefficients are read at run time from the installed libraries wherever they
expose them (torchdiffeq's adaptive solvers carry a ``tableau``; SciPy's
explicit solvers carry ``A``, ``B``, ``C``; SciPy's ``BDF`` keeps its NDF
constants on the instance), so the region drawn is that of the code that ran.
torchdiffeq's fixed-grid steps and Radau IIA hide their coefficients inside
functions; those are written here from the literature and checked against
their order conditions like the others.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from odediag._errors import invalid
from odediag.stability._region import (
    AbstractStabilityRegion,
    MultistepRegion,
    RungeKuttaRegion,
)
from odediag.stability._tableau import ButcherTableau

TORCHDIFFEQ_ADAPTIVE = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")
TORCHDIFFEQ_FIXED = ("euler", "midpoint", "heun2", "heun3", "rk4")
SCIPY_EXPLICIT = ("scipy:RK23", "scipy:RK45", "scipy:DOP853")
SCIPY_IMPLICIT = ("scipy:Radau", "scipy:BDF", "scipy:LSODA")

# Fixed-grid tableaux (A, b) of torchdiffeq's ``fixed_grid.py``; c = A 1.
# rk4 there is Kutta's 3/8 rule (``rk4_alt_step_func``), not the classical
# RK4; both have the same stability polynomial, since every explicit
# s-stage method of order s ≤ 4 has R(z) = Σ_{k≤s} z^k / k!.
_FIXED_GRID = {
    # Forward Euler.
    "euler": ([[0.0]], [1.0]),
    # Explicit midpoint rule (Runge 1895).
    "midpoint": ([[0, 0], [1 / 2, 0]], [0, 1]),
    # Heun's second-order method (explicit trapezoidal rule).
    "heun2": ([[0, 0], [1, 0]], [1 / 2, 1 / 2]),
    # Heun's third-order method (Heun 1900; Butcher 2016, §232).
    "heun3": ([[0, 0, 0], [1 / 3, 0, 0], [0, 2 / 3, 0]], [1 / 4, 0, 3 / 4]),
    # Kutta's 3/8 rule (Kutta 1901; Hairer, Nørsett & Wanner 1993, Table II.1.2).
    "rk4": (
        [[0, 0, 0, 0], [1 / 3, 0, 0, 0], [-1 / 3, 1, 0, 0], [1, -1, 1, 0]],
        [1 / 8, 3 / 8, 3 / 8, 1 / 8],
    ),
}

# Three-stage Radau IIA of order 5, SciPy's ``Radau`` (Hairer & Wanner 1996,
# Table IV.5.6).
_S6 = math.sqrt(6)
_RADAU_IIA = (
    [
        [(88 - 7 * _S6) / 360, (296 - 169 * _S6) / 1800, (-2 + 3 * _S6) / 225],
        [(296 + 169 * _S6) / 1800, (88 + 7 * _S6) / 360, (-2 - 3 * _S6) / 225],
        [(16 - _S6) / 36, (16 + _S6) / 36, 1 / 9],
    ],
    [(16 - _S6) / 36, (16 + _S6) / 36, 1 / 9],
)


def method_names() -> tuple[str, ...]:
    """Every method name :func:`stability_region` accepts."""
    return TORCHDIFFEQ_ADAPTIVE + TORCHDIFFEQ_FIXED + SCIPY_EXPLICIT + SCIPY_IMPLICIT


def canonical_name(method: str) -> str:
    """The odediag spelling of ``method``: SciPy names get a ``scipy:`` prefix."""
    if method in method_names():
        return method
    if f"scipy:{method}" in method_names():
        return f"scipy:{method}"
    raise invalid("method", method, f"use one of {', '.join(method_names())}")


@functools.cache
def butcher_tableau(method: str) -> ButcherTableau:
    """Butcher tableau of a Runge–Kutta method odediag traces.

    Parameters
    ----------
    method
        ``"dopri5"``, ``"rk4"``, ``"scipy:RK45"``, ``"scipy:Radau"``, ...;
        SciPy names may omit the prefix.

    Returns
    -------
    ButcherTableau
        Checked against its order conditions on construction.
    """
    name = canonical_name(method)
    if name in TORCHDIFFEQ_ADAPTIVE:
        return _torchdiffeq_tableau(name)
    if name in TORCHDIFFEQ_FIXED:
        A, b = _FIXED_GRID[name]
        order = _torchdiffeq_solver(name).order
        source = "literature; torchdiffeq._impl.fixed_grid"
        return ButcherTableau(name, A, b, np.sum(A, axis=1), order, source)
    if name in SCIPY_EXPLICIT:
        return _scipy_tableau(name)
    if name == "scipy:Radau":
        A, b = _RADAU_IIA
        return ButcherTableau(name, A, b, np.sum(A, axis=1), 5, "Radau IIA")
    raise invalid("method", method, "it is a multistep method with no tableau")


def _torchdiffeq_solver(name: str) -> type:
    from torchdiffeq._impl.odeint import SOLVERS

    return SOLVERS[name]


def _torchdiffeq_tableau(name: str) -> ButcherTableau:
    """Tableau from torchdiffeq's ``_ButcherTableau(alpha, beta, c_sol, ...)``.

    ``alpha`` holds the nodes c_2..c_s, ``beta[i]`` row i + 2 of A, and
    ``c_sol`` the weights b; FSAL methods list the final evaluation as an
    extra stage of weight 0, which leaves R(z) unchanged.
    """
    solver = _torchdiffeq_solver(name)
    raw = solver.tableau
    stages = len(raw.alpha) + 1
    A = np.zeros((stages, stages))
    for row, beta in enumerate(raw.beta, start=1):
        A[row, : len(beta)] = np.asarray(beta, dtype=np.float64)
    b = np.asarray(raw.c_sol, dtype=np.float64)
    c = np.concatenate([[0.0], np.asarray(raw.alpha, dtype=np.float64)])
    return ButcherTableau(name, A, b, c, solver.order, f"torchdiffeq {name}")


def _scipy_tableau(name: str) -> ButcherTableau:
    import scipy.integrate

    solver = getattr(scipy.integrate, name.removeprefix("scipy:"))
    stages = solver.n_stages
    # RK45.A omits its all-zero last column; DOP853.A is square.
    given = np.asarray(solver.A, dtype=np.float64)[:stages, :stages]
    A = np.zeros((stages, stages))
    A[:, : given.shape[1]] = given
    b = np.asarray(solver.B, dtype=np.float64)[:stages]
    c = np.asarray(solver.C, dtype=np.float64)[:stages]
    return ButcherTableau(name, A, b, c, solver.order, f"scipy.integrate.{name[6:]}")


@functools.cache
def _scipy_ndf_kappa() -> np.ndarray:
    """κ of SciPy's NDF orders 0..5, recovered from a ``BDF`` instance.

    SciPy stores α_k = (1 − κ_k) γ_k and γ_k, not κ itself.
    """
    import scipy.integrate

    solver = scipy.integrate.BDF(lambda t, y: -y, 0.0, np.ones(1), 1.0)
    kappa = np.zeros_like(solver.gamma)
    kappa[1:] = 1 - solver.alpha[1:] / solver.gamma[1:]
    return kappa


@functools.cache
def stability_region(
    method: str, order: int | None = None, lsoda_method: str | None = None
) -> AbstractStabilityRegion:
    """Linear stability region of a method, at a given order for multistep ones.

    Parameters
    ----------
    method
        Any name of :func:`method_names`; SciPy names may omit ``scipy:``.
    order
        Order of the formula used at the step, needed for ``scipy:BDF`` and
        for ``scipy:LSODA`` in BDF mode (1 to 5); ignored for Runge–Kutta.
    lsoda_method
        ``"bdf"`` or ``"adams"`` for ``scipy:LSODA``.

    Returns
    -------
    AbstractStabilityRegion

    Raises
    ------
    OdediagInputError
        For an unknown method, a missing or invalid multistep order, or LSODA
        in Adams mode (see Notes).

    Notes
    -----
    LSODA's Adams mode solves its implicit Adams–Moulton corrector by
    functional iteration, so the step is limited by the iteration's
    convergence as much as by the Adams–Moulton region; odediag does not model
    that, and the stiffness analysis leaves those steps unattributed.
    """
    name = canonical_name(method)
    if name in ("scipy:BDF", "scipy:LSODA"):
        return _multistep_region(name, order, lsoda_method)
    alpha = np.pi / 2 if name == "scipy:Radau" else 0.0
    return RungeKuttaRegion(butcher_tableau(name), alpha=alpha)


def _multistep_region(
    name: str, order: int | None, lsoda_method: str | None
) -> MultistepRegion:
    if order is None or not 1 <= int(order) <= 5:
        raise invalid("order", order, f"{name} needs the step's order, 1 to 5")
    if name == "scipy:BDF":
        return MultistepRegion(name, int(order), _scipy_ndf_kappa()[int(order)])
    if lsoda_method != "bdf":
        raise invalid(
            "lsoda_method", lsoda_method, "only LSODA's 'bdf' mode has a region here"
        )
    return MultistepRegion(name, int(order), 0.0)
