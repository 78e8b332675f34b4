"""Read the error ratio and the stages of torchdiffeq's adaptive steps.

torchdiffeq's step callbacks receive ``(t0, y0, dt)`` only. The error ratio
the controller compares with 1 and the Runge–Kutta stages are computed by two
module-level functions of ``torchdiffeq._impl.rk_common``, which
``_adaptive_step`` looks up at call time. We replace those two names with
wrappers that call the originals unchanged, return their results unchanged,
and hand a read-only view of the results to the recording that opened the
current step. The numerics are untouched: no argument or result is modified,
and outside an odediag solve the wrappers only pass through.

The recording is found through a thread-local slot that the step callback
sets just before torchdiffeq computes the step, so concurrent solves on other
threads do not mix.
"""

from __future__ import annotations

import functools
import threading

from torchdiffeq._impl import rk_common

_slot = threading.local()


def current():
    """The recording whose step is being computed on this thread, or None."""
    return getattr(_slot, "recording", None)


def set_current(recording) -> None:
    """Route the next error ratio and stages on this thread to ``recording``."""
    _slot.recording = recording


def install() -> None:
    """Wrap torchdiffeq's error-ratio and Runge–Kutta step functions once."""
    if getattr(rk_common, "_odediag_hooks", False):
        return
    rk_common._compute_error_ratio = _observe_error_ratio(
        rk_common._compute_error_ratio
    )
    rk_common._runge_kutta_step = _observe_stages(rk_common._runge_kutta_step)
    rk_common._odediag_hooks = True


def _observe_error_ratio(original):
    @functools.wraps(original)
    def compute_error_ratio(*args, **kwargs):
        ratio = original(*args, **kwargs)
        recording = current()
        if recording is not None:
            recording.on_error_ratio(ratio)
        return ratio

    return compute_error_ratio


def _observe_stages(original):
    @functools.wraps(original)
    def runge_kutta_step(func, y0, f0, t0, dt, t1, tableau):
        result = original(func, y0, f0, t0, dt, t1, tableau=tableau)
        recording = current()
        if recording is not None:
            recording.on_stages(y0, dt, result, tableau)
        return result

    return runge_kutta_step
