"""Observe the Newton solves and error norms inside SciPy's Radau and BDF steps.

``Radau._step_impl`` and ``BDF._step_impl`` loop over attempts inside one
method call: a subclass sees only the accepted result. Each attempt calls
two module-level functions of ``scipy.integrate._ivp.radau`` (or ``.bdf``),
looked up at call time: the Newton solver (``solve_collocation_system``,
``solve_bdf_system``), which returns whether it converged and after how
many iterations, and ``norm``, whose value outside the Newton solver is the
error norm the step compares with 1. We replace those names with wrappers
that call the originals with the same arguments and return their results
unchanged. A wrapper reports to the ``NewtonSteps`` (in
:mod:`odediag.solvers._scipy_recording`) that the traced solver on this
thread registered, and only passes through otherwise. The numbers SciPy
computes are therefore bit for bit the same.
"""

from __future__ import annotations

import functools
import threading

from scipy.integrate._ivp import bdf, radau

_slot = threading.local()


def current():
    """The step recorder of the traced solve running on this thread, or None."""
    return getattr(_slot, "steps", None)


def set_current(steps) -> None:
    """Route the Newton results and norms on this thread to ``steps``."""
    _slot.steps = steps


def install() -> None:
    """Wrap the Newton solvers and norms of Radau and BDF, once per process."""
    if getattr(radau, "_odediag_hooks", False):
        return
    radau.solve_collocation_system = _observe_newton(
        radau.solve_collocation_system, step_size=lambda steps, args: args[3]
    )
    bdf.solve_bdf_system = _observe_newton(
        bdf.solve_bdf_system, step_size=lambda steps, args: args[1] - steps.t
    )
    radau.norm = _observe_norm(radau.norm)
    bdf.norm = _observe_norm(bdf.norm)
    radau._odediag_hooks = True


def _observe_newton(original, step_size):
    """Wrap a Newton solver returning ``(converged, n_iter, ...)``.

    ``step_size(steps, args)`` recovers the attempted h from the arguments:
    Radau passes h itself, BDF passes ``t_new``, and h = t_new − t exactly as
    ``BDF._step_impl`` computes it.
    """

    @functools.wraps(original)
    def newton(*args):
        steps = current()
        if steps is None:
            return original(*args)
        steps.in_newton = True
        try:
            result = original(*args)
        finally:
            steps.in_newton = False
        steps.on_newton(step_size(steps, args), result[0], result[1])
        return result

    return newton


def _observe_norm(original):
    @functools.wraps(original)
    def norm(x):
        value = original(x)
        steps = current()
        if steps is not None and not steps.in_newton:
            steps.on_norm(value)
        return value

    return norm
