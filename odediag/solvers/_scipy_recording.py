"""What a traced SciPy solve records: rows, the step budget, the spectrum.

:class:`ScipyRecording` is shared by every traced solver class;
:class:`NewtonSteps` turns the Newton results and error norms observed in
one Radau or BDF step (see :mod:`odediag.solvers._scipy_hooks`) into one
row per attempt.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from odediag.solvers._scipy_jacobian import SpectrumJacobian
from odediag.trace import Trace


class ScipyRecording:
    """One solve's trace, budget and Jacobian source.

    Parameters
    ----------
    trace
        Where rows go; its columns match the traced solver class.
    max_steps
        Attempted steps after which the solve stops, or ``None``.
    jacobian
        Source of the Jacobians for the spectrum, or ``None`` without one.
    """

    def __init__(
        self, trace: Trace, max_steps: int | None, jacobian: SpectrumJacobian | None
    ):
        self.trace = trace
        self.log = trace.log
        self.max_steps = max_steps
        self.jacobian = jacobian
        self.solver = None
        self.started = False
        self.stop_status: str | None = None
        self.stop_message = ""
        self.lsoda_istate: int | None = None
        # Whether the last attempt's error estimate was inf or NaN.
        self.nonfinite_error = False

    def check_can_step(self, solver) -> str | None:
        """Why the solve must stop before the next step, or None.

        The budget is checked between steps: a step whose attempts are
        rejected may take the count a few attempts over ``max_steps``.
        """
        self.started = True
        if self.max_steps is not None and len(self.log) >= self.max_steps:
            return self._stop(
                "max_steps",
                f"stopped after {len(self.log)} attempted steps at "
                f"t = {solver.t:.6g} (max_steps = {self.max_steps}); raise "
                "max_steps, or use an implicit method if the problem is stiff",
            )
        if not np.isfinite(solver.y).all():
            return self._stop(
                "nonfinite",
                f"the state became non-finite at t = {solver.t:.6g}; the "
                "dynamics blow up there or the step was unstable",
            )
        return None

    def record_jacobian(self, t: float, y: np.ndarray) -> None:
        """Add the Jacobian at ``(t, y)`` to the spectrum of the last row."""
        J = self.jacobian.evaluate(t, y)
        self.trace.nfe_spectrum += self.jacobian.cost
        self.trace.spectrum.add(len(self.log) - 1, torch.from_numpy(J)[None])

    def _stop(self, status: str, message: str) -> str:
        self.stop_status = status
        self.stop_message = message
        return message


class NewtonSteps:
    """Rows for the attempts of one Radau or BDF step, from observed calls.

    Within a step every attempt ends in one of three ways, seen as calls:

    * Newton fails with a current Jacobian: the next Newton call has a
      smaller h (rejection cause ``"newton"``). A Newton failure with an old
      Jacobian is retried at the same h after a fresh one: same attempt.
    * Newton converges and the error norm exceeds 1: the next Newton call
      starts the next attempt (cause ``"error"``). Radau may recompute the
      norm once for a step already rejected; the last value counts.
    * The error norm is at most 1: the step returns, accepted. BDF then
      takes two more norms to choose the next order, which are ignored.

    Counters (``nfe``, ``njev``, ``nlu``) of a rejected attempt are read
    when its last call returns, before the next attempt factorises again.
    """

    def __init__(self, recording: ScipyRecording, solver, first_norm_only: bool):
        self.recording = recording
        self.solver = solver
        self.first_norm_only = first_norm_only
        self.in_newton = False
        self.t = math.nan
        self.order = 0
        self._open: _Attempt | None = None

    def begin(self, order: int) -> None:
        """A step starts at the solver's current time."""
        self.t = self.solver.t
        self.order = order
        self._open = None

    def on_newton(self, h: float, converged: bool, n_iter: int) -> None:
        attempt = self._open
        retry = (
            attempt is not None
            and not attempt.converged
            and attempt.error_norm is None
            and h == attempt.h
        )
        if retry:
            attempt.iterations += n_iter
            attempt.converged = converged
        else:
            if attempt is not None:
                self._close(attempt, accepted=False)
            attempt = self._open = _Attempt(h, n_iter, converged)
        attempt.counters = self._counters()

    def on_norm(self, value: float) -> None:
        attempt = self._open
        if attempt is None or not attempt.converged:
            return
        if self.first_norm_only and attempt.error_norm is not None:
            return
        attempt.error_norm = float(value)
        attempt.counters = self._counters()

    def end(self, success: bool) -> None:
        """The step returned; close its last attempt."""
        attempt, self._open = self._open, None
        if attempt is None:
            return
        if success:
            attempt.counters = self._counters()
        self._close(attempt, accepted=success)

    def _counters(self) -> tuple[int, int, int]:
        s = self.solver
        return s.nfev, s.njev, s.nlu

    def _close(self, attempt: _Attempt, accepted: bool) -> None:
        if accepted:
            cause = ""
        else:
            cause = "newton" if attempt.error_norm is None else "error"
        error = math.nan if attempt.error_norm is None else attempt.error_norm
        nfev, njev, nlu = attempt.counters
        self.recording.log.append(
            self.t,
            abs(attempt.h),
            accepted,
            error,
            nfev,
            math.nan,
            self.order,
            attempt.iterations,
            cause,
            njev,
            nlu,
        )


class _Attempt:
    """Open attempt of a Newton-type step."""

    __slots__ = ("converged", "counters", "error_norm", "h", "iterations")

    def __init__(self, h: float, iterations: int, converged: bool):
        self.h = h
        self.iterations = iterations
        self.converged = converged
        self.error_norm: float | None = None
        self.counters = (0, 0, 0)
