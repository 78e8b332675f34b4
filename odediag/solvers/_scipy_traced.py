"""Subclasses of SciPy's ``OdeSolver`` classes that record every attempt.

:func:`scipy.integrate.solve_ivp` accepts a solver class as ``method``. For
each solve we build a subclass of the requested class whose overrides call
the original methods and only read what they computed, so the solution,
``nfev``, ``njev`` and ``nlu`` are SciPy's, bit for bit. The one departure
is the step budget: when ``max_steps`` attempts are used up, ``_step_impl``
reports a failed step without computing it, and SciPy ends the solve there.

How each family is observed:

* Runge–Kutta (RK23, RK45, DOP853): ``_estimate_error_norm`` is called once
  per attempt with the stages ``K`` and the step h; the attempt is accepted
  exactly when the norm it returns is below 1.
* Radau, BDF: the attempts run inside one ``_step_impl`` call; they are seen
  through :mod:`odediag.solvers._scipy_hooks`.
* LSODA: see below.
* Any other ``OdeSolver`` subclass: one row per accepted step, error ratio
  NaN.

LSODA
-----
SciPy runs ODEPACK's LSODA with ``itask = 5``: each ``_step_impl`` call
returns after exactly one successful internal step. After it we read
(0-based indices into SciPy's ``iwork``/``rwork``; ODEPACK's 1-based names
in brackets) ``iwork[12]`` (NJE: Jacobians, equal to the LU count, which
SciPy reports as both ``njev`` and ``nlu``), ``iwork[13]`` (NQU: order of
the step) and ``iwork[18]`` (MUSED: 1 Adams, 2 BDF), and SciPy's ``nfev``,
equal to NFE (``iwork[11]``).

What is missing: the attempts LSODA rejects inside that call (failed error
tests and failed corrector convergence, each retried with a smaller h) are
not visible one by one, and LSODA keeps no count of them; nor is the error
norm of the accepted step. What is recorded instead: every row is an
accepted step with ``error_ratio`` NaN, whose ``nfe`` includes the
evaluations of the attempts rejected before it, and whose ``h`` is the step
actually taken (equal to HU, ``rwork[10]``). A call that fails
(``istate`` < 0) adds one rejected row at the step size LSODA was
attempting (HCUR, ``rwork[11]``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate._ivp.base import OdeSolver
from scipy.integrate._ivp.bdf import BDF
from scipy.integrate._ivp.lsoda import LSODA
from scipy.integrate._ivp.radau import Radau
from scipy.integrate._ivp.rk import RK45, RungeKutta

from odediag.solvers import _scipy_hooks
from odediag.solvers._scipy_recording import NewtonSteps, ScipyRecording

RADAU_ORDER = 5  # Radau IIA with three stages (Hairer & Wanner II, §IV.5)

# LSODA's iwork(19) MUSED: method of the last successful step.
LSODA_METHODS = {1: "adams", 2: "bdf"}

# Extra trace columns of each family, in the order the rows append them.
RK_COLUMNS = {"order": np.int64}
NEWTON_COLUMNS = {
    "order": np.int64,
    "newton_iterations": np.int64,
    "rejection_cause": np.dtype("U6"),
    "njev": np.int64,
    "nlu": np.int64,
}
LSODA_COLUMNS = {
    "order": np.int64,
    "njev": np.int64,
    "nlu": np.int64,
    "lsoda_method": np.dtype("U5"),
}


class _Traced:
    """Budget, non-finite check and spectrum around every step."""

    _recording: ScipyRecording

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._recording.solver = self

    def _step_impl(self):
        recording = self._recording
        stop = recording.check_can_step(self)
        if stop is not None:
            return False, stop
        t, y = self.t, self.y
        if recording.jacobian is not None:
            y = y.copy()
        success, message = self._traced_step()
        if success and recording.jacobian is not None:
            recording.record_jacobian(t, y)
        return success, message

    def _traced_step(self):
        return super()._step_impl()


class _TracedRungeKutta(_Traced):
    """Rows from ``_estimate_error_norm``, Hairer's estimate for RK45."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hairer_weights = _hairer_weights(self) if isinstance(self, RK45) else None

    def _estimate_error_norm(self, K, h, scale):
        error_norm = super()._estimate_error_norm(K, h, scale)
        accepted = error_norm < 1
        hairer = math.nan
        if accepted and self._hairer_weights is not None:
            hairer = _hairer_h_lambda(K, self._hairer_weights)
        elif not accepted:
            self._recording.nonfinite_error = not math.isfinite(error_norm)
        self._recording.log.append(
            self.t, abs(h), accepted, error_norm, self.nfev, hairer, self.order
        )
        return error_norm


def _hairer_weights(solver: RungeKutta) -> np.ndarray:
    """w with g7 − g6 = h Σ_j w_j K_j for RK45's stages 6 and 7 at c = 1.

    Zero-padded to the 7 rows of ``K`` so that no slice is needed per step.

    Stage 6 is evaluated at g6 = y + h Σ_j A[5, j] K_j, stage 7 (the first
    stage of the next step) at g7 = y_new = y + h Σ_j B_j K_j.
    """
    assert solver.C[-1] == 1.0, "RK45's sixth stage sits at c = 1"
    weights = np.zeros(len(solver.K))  # the last row, K7 itself, weighs 0
    weights[: len(solver.B)] = solver.B
    weights[: solver.A.shape[1]] -= solver.A[-1]
    return weights


def _hairer_h_lambda(K: np.ndarray, weights: np.ndarray) -> float:
    """Hairer's h·|λ| ≈ h‖K7 − K6‖ / ‖g7 − g6‖ = ‖K7 − K6‖ / ‖Σ w_j K_j‖.

    Euclidean norms, as in DOPRI5's stiffness test (Hairer & Wanner,
    Solving ODEs II, 2nd ed., 1996, §IV.2, stiffness detection in DOPRI5).
    """
    dk = K[-1] - K[-2]
    dg = weights @ K
    # Squared norms by vdot: several times cheaper than np.linalg.norm on the
    # short vectors of small systems, and right for complex states too.
    den = np.vdot(dg, dg).real
    return math.sqrt(np.vdot(dk, dk).real / den) if den > 0 else math.nan


class _TracedNewton(_Traced):
    """Radau and BDF: attempts observed through the module hooks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._steps = NewtonSteps(
            self._recording, self, first_norm_only=isinstance(self, BDF)
        )

    def _traced_step(self):
        steps = self._steps
        steps.begin(self.order if isinstance(self, BDF) else RADAU_ORDER)
        previous = _scipy_hooks.current()
        _scipy_hooks.set_current(steps)
        try:
            success, message = super()._traced_step()
        finally:
            _scipy_hooks.set_current(previous)
        steps.end(success)
        return success, message


class _TracedLSODA(_Traced):
    """LSODA: one row per internal step, read from ODEPACK's work arrays.

    What is and is not visible is described in the module notes.
    """

    def _traced_step(self):
        t = self.t
        success, message = super()._traced_step()
        integrator = self._lsoda_solver._integrator
        iwork, rwork = integrator.iwork, integrator.rwork
        h = self.t - t if success else rwork[11]
        self._recording.log.append(
            t,
            abs(h),
            success,
            math.nan,
            self.nfev,
            math.nan,
            iwork[13],
            iwork[12],
            iwork[12],
            LSODA_METHODS.get(int(iwork[18]), ""),
        )
        if not success:
            self._recording.lsoda_istate = integrator.istate
        return success, message


class _TracedOther(_Traced):
    """Any other ``OdeSolver``: accepted steps only, no error ratio."""

    def _traced_step(self):
        t = self.t
        success, message = super()._traced_step()
        if success:
            self._recording.log.append(
                t, abs(self.t - t), True, math.nan, self.nfev, math.nan
            )
        return success, message


def extra_columns(method: type[OdeSolver]) -> dict:
    """The trace columns a solve with ``method`` records beyond the base ones."""
    return _family(method)[1]


def traced_class(method: type[OdeSolver], recording: ScipyRecording) -> type:
    """A subclass of ``method`` recording into ``recording``, for one solve."""
    mixin = _family(method)[0]
    if mixin is _TracedNewton:
        _scipy_hooks.install()
    return type(f"Traced{method.__name__}", (mixin, method), {"_recording": recording})


def _family(method: type[OdeSolver]) -> tuple[type, dict]:
    if issubclass(method, RungeKutta):
        return _TracedRungeKutta, RK_COLUMNS
    if issubclass(method, Radau | BDF):
        return _TracedNewton, NEWTON_COLUMNS
    if issubclass(method, LSODA):
        return _TracedLSODA, LSODA_COLUMNS
    return _TracedOther, {}
