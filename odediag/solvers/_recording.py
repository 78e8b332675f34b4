"""Turn torchdiffeq's callbacks and observed step results into trace rows."""

from __future__ import annotations

import math

import torch

from odediag._errors import SolveError
from odediag.solvers import _hooks
from odediag.solvers._stages import StageBuffer, has_two_final_stages
from odediag.trace import Trace


class StopSolve(SolveError):
    """Raised from a callback to end a solve with a given trace status.

    The forward solve turns it into a plain :class:`SolveError`; raised during
    an adjoint backward pass it reaches the caller of ``backward()`` as is.
    """

    def __init__(self, status: str, message: str, trace: Trace):
        super().__init__(f"{status}: {message}", trace)
        self.status = status
        self.message = message
        trace.finish(status, message)


class Recording:
    """One solve's recording: open attempt, counters, and the Trace it fills.

    Parameters
    ----------
    trace
        Where rows go.
    adaptive
        Adaptive methods report accept/reject; fixed-grid steps are all
        accepted and carry no error ratio.
    jacobian
        ``jacobian(t, y) -> (B, D, D)`` at accepted steps, or ``None``.
    batched
        Whether the state's leading dimension indexes samples.
    max_steps
        Attempted steps after which the solve stops, or ``None``.
    estimate_stiffness
        Whether to compute Hairer's estimate where the tableau allows it.
    progress
        Called with the time reached after each accepted step, or ``None``.
    """

    def __init__(
        self,
        trace: Trace,
        adaptive,
        jacobian,
        batched,
        max_steps,
        estimate_stiffness,
        progress=None,
    ):
        self.trace = trace
        self.progress = progress
        self.adaptive = adaptive
        self.jacobian = jacobian
        self.batched = batched
        self.max_steps = max_steps
        self.estimate_stiffness = estimate_stiffness
        self._stages: StageBuffer | None = None
        self._tableau = None
        self._backward = trace.attrs.get("phase") == "backward"
        self._open: list | None = None  # [t, h, error_ratio, stages] of the attempt

    # -- callbacks -------------------------------------------------------

    def begin(self, t0, y0, dt) -> None:
        """A step starts at ``t0`` with proposed size ``dt``."""
        if self._backward and self.trace.status == "running":
            # The adjoint solve runs inside backward(); nothing returns to us
            # when it ends, and a failure raises from backward() with its own
            # status, so a backward trace that has started has succeeded
            # unless it says otherwise.
            self.trace.finish("success", "the adjoint solve ran back to t0")
        if not self.adaptive:
            self._close_fixed_step()
        t, h = _value(t0), _value(dt)
        self._check_can_step(t, h, y0)
        self._open = [t, h, math.nan, None]
        if self.adaptive:
            _hooks.set_current(self)
        elif self.jacobian is not None:
            self._record_jacobian(self.trace.n_steps, t0, y0)
        if not self.adaptive and self.progress is not None:
            self.progress(t)

    def accept(self, t0, y0, dt) -> None:
        _hooks.set_current(None)
        t, _, error_ratio, stages = self._open
        step = self.trace.n_steps
        self.trace.log.append(
            t, _value(dt), True, error_ratio, self.trace.nfe, math.nan
        )
        self._open = None
        if stages is not None:
            self._stages.add(step, stages, self.trace.log)
        if self.jacobian is not None:
            self._record_jacobian(step, t0, y0)
        if self.progress is not None:
            self.progress(t + _value(dt))

    def reject(self, t0, y0, dt) -> None:
        _hooks.set_current(None)
        t, _, error_ratio, _ = self._open
        self.trace.log.append(
            t, _value(dt), False, error_ratio, self.trace.nfe, math.nan
        )
        self._open = None

    def finish_rows(self) -> None:
        """Complete the rows once the solve has stopped, for whatever reason."""
        self._close_fixed_step()
        self._open = None
        if self._stages is not None:
            # Reduced when the dataset is built: most solves in a training
            # loop are never looked at row by row.
            self.trace.before_dataset.append(
                lambda stages=self._stages: stages.flush(self.trace.log)
            )

    def _close_fixed_step(self) -> None:
        # A fixed-grid step's evaluations are all counted once the next begins.
        if self._open is not None and not self.adaptive:
            t, h, _, _ = self._open
            self.trace.log.append(t, h, True, math.nan, self.trace.nfe, math.nan)
        self._open = None

    # -- observed results (from _hooks) ----------------------------------

    def on_error_ratio(self, ratio: torch.Tensor) -> None:
        if self._open is not None:
            self._open[2] = _value(ratio)

    def on_stages(self, y0, dt, result, tableau) -> None:
        if self._open is None or not self.estimate_stiffness:
            return
        if tableau is not self._tableau:
            self._tableau = tableau
            self._stages = None
            if has_two_final_stages(tableau):
                self._stages = StageBuffer(tableau, self.batched)
        if self._stages is not None:
            self._open[3] = result[3]

    # -- helpers ---------------------------------------------------------

    def _check_can_step(self, t: float, h: float, y0) -> None:
        if self.max_steps is not None and self.trace.n_steps >= self.max_steps:
            raise StopSolve(
                "max_steps",
                f"stopped after {self.max_steps} attempted steps at "
                f"t = {t:.6g}; "
                "raise max_steps or use a method suited to stiff problems",
                self.trace,
            )
        # torchdiffeq's adaptive solvers check the state themselves.
        if not self.adaptive and not _all_finite(y0):
            raise StopSolve(
                "nonfinite",
                f"the state became non-finite at t = {t:.6g}; the dynamics "
                "blow up there or the step was unstable",
                self.trace,
            )
        if self.adaptive and not t + h > t:
            raise StopSolve(
                "step_underflow",
                f"the step size underflowed (h = {h:.3g}) at "
                f"t = {t:.6g}; "
                "the problem is likely stiff or singular there",
                self.trace,
            )

    def _record_jacobian(self, step: int, t0, y0) -> None:
        J = self.jacobian(t0, y0)
        self.trace.nfe_spectrum += 1
        self.trace.spectrum.add(
            step, J.reshape(J.shape[0] if J.ndim == 3 else 1, *J.shape[-2:])
        )


def _all_finite(y) -> bool:
    if isinstance(y, torch.Tensor):
        return bool(torch.isfinite(y).all())
    return all(bool(torch.isfinite(part).all()) for part in y)


def _value(x) -> float:
    """A Python float of a scalar tensor, without autograd's warning."""
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)
