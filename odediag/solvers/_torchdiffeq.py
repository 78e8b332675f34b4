"""Instrumented torchdiffeq solves: ``odeint`` and ``odeint_adjoint``.

The right-hand side is wrapped in a module that counts evaluations and
answers torchdiffeq's step callbacks; the error ratio and the stages come
from :mod:`odediag.solvers._hooks`. Nothing is passed to torchdiffeq that it
would not get from the caller, except the wrapper in place of ``func``, whose
outputs are the caller's outputs, untouched: solutions and NFE are those of
plain torchdiffeq, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torchdiffeq
from torch import nn
from torchdiffeq._impl.odeint import SOLVERS
from torchdiffeq._impl.rk_common import RKAdaptiveStepsizeODESolver

from odediag._errors import OdediagInputError, SolveError, SolveInterrupted, invalid
from odediag._versions import versions
from odediag.solvers import _hooks
from odediag.solvers._recording import Recording, StopSolve
from odediag.solvers._wrapper import wrap
from odediag.spectrum import batched_jacobian
from odediag.trace import Trace

ADAPTIVE_METHODS = tuple(
    m for m, s in SOLVERS.items() if issubclass(s, RKAdaptiveStepsizeODESolver)
)
FIXED_GRID_METHODS = tuple(
    m for m in SOLVERS if m not in ADAPTIVE_METHODS and m != "scipy_solver"
)
METHODS = ADAPTIVE_METHODS + FIXED_GRID_METHODS

_CALLBACKS = ("callback_step", "callback_accept_step", "callback_reject_step")


def odeint(
    func: Callable,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    method: str | None = None,
    options: dict[str, Any] | None = None,
    event_fn: Callable | None = None,
    spectrum: bool = False,
    jac: Callable | None = None,
    batched: bool | None = None,
    max_steps: int | None = None,
    stiffness_estimate: bool = True,
    problem: str = "",
    progress: Callable[[float], None] | None = None,
):
    """Solve like :func:`torchdiffeq.odeint` and record every attempted step.

    Parameters
    ----------
    func, y0, t, rtol, atol, method, options, event_fn
        Exactly as for :func:`torchdiffeq.odeint` (version 0.2.5).
    spectrum
        Record the Jacobian ∂f/∂y at the start of every accepted step, per
        sample, and its eigenvalues and singular values. Costs one Jacobian per
        accepted step, outside the solve (counted in ``trace.nfe_spectrum``).
    jac
        Analytic Jacobian ``jac(t, y)`` to use instead of autograd.
    batched
        Whether the leading dimension of ``y0`` indexes independent samples;
        by default true when ``y0`` has two or more dimensions.
    max_steps
        Stop after this many attempted steps in total, with status
        ``max_steps``. (torchdiffeq's own ``max_num_steps`` option counts
        per output interval and still works.)
    stiffness_estimate
        Record Hairer's estimate of h·|λ| for methods whose last two stages
        share c = 1 (dopri5). No extra function evaluations.
    problem
        Name stored in the trace.
    progress
        Called with the time reached after every accepted step.

    Returns
    -------
    solution : torch.Tensor
        What :func:`torchdiffeq.odeint` returns (``(event_t, solution)`` with
        ``event_fn``).
    trace : Trace
        The record; ``trace.to_dataset()`` gives the xarray view.

    Raises
    ------
    SolveError
        When the solve stops early (step underflow, non-finite state, too many
        steps, an exception in ``func``); ``error.trace`` holds every step
        recorded until then.
    """
    method = _validate(y0, t, rtol, atol, method, spectrum, max_steps, batched)
    wrapped, recording = _instrument(
        func,
        y0,
        t,
        rtol,
        atol,
        method,
        module=False,
        options=_Options(
            spectrum, jac, batched, max_steps, stiffness_estimate, problem, progress
        ),
    )
    solution = _run(
        lambda: torchdiffeq.odeint(
            wrapped,
            y0,
            t,
            rtol=rtol,
            atol=atol,
            method=method,
            options=options,
            event_fn=event_fn,
        ),
        wrapped,
        recording,
    )
    return solution, recording.trace


def odeint_adjoint(
    func: Callable,
    y0: torch.Tensor,
    t: torch.Tensor,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    method: str | None = None,
    options: dict[str, Any] | None = None,
    event_fn: Callable | None = None,
    adjoint_rtol: float | None = None,
    adjoint_atol: float | None = None,
    adjoint_method: str | None = None,
    adjoint_options: dict[str, Any] | None = None,
    adjoint_params=None,
    spectrum: bool = False,
    jac: Callable | None = None,
    batched: bool | None = None,
    max_steps: int | None = None,
    stiffness_estimate: bool = True,
    problem: str = "",
    progress: Callable[[float], None] | None = None,
):
    """Solve like :func:`torchdiffeq.odeint_adjoint` and record both solves.

    Takes the arguments of :func:`torchdiffeq.odeint_adjoint` plus odediag's
    keywords (see :func:`odeint`). The returned ``trace`` records the forward
    solve; ``trace.backward`` records the adjoint solve, filled in when the
    backward pass runs (its steps, their error ratios and its NFE).
    """
    method = _validate(y0, t, rtol, atol, method, spectrum, max_steps, batched)
    if adjoint_method is not None:
        _validate(y0, t, rtol, atol, adjoint_method, False, None)
    if adjoint_params is None and not isinstance(func, nn.Module):
        raise invalid(
            "func",
            type(func).__name__,
            "odeint_adjoint needs an nn.Module to find the parameters, or pass "
            "adjoint_params (an empty tuple if there are none)",
        )
    wrapped, recording = _instrument(
        func,
        y0,
        t,
        rtol,
        atol,
        method,
        module=True,
        options=_Options(
            spectrum, jac, batched, max_steps, stiffness_estimate, problem, progress
        ),
    )
    backward_method = adjoint_method or method
    wrapped.backward_recording = _backward_recording(
        recording, backward_method, adjoint_rtol, adjoint_atol
    )
    solution = _run(
        lambda: torchdiffeq.odeint_adjoint(
            wrapped,
            y0,
            t,
            rtol=rtol,
            atol=atol,
            method=method,
            options=options,
            event_fn=event_fn,
            adjoint_rtol=adjoint_rtol,
            adjoint_atol=adjoint_atol,
            adjoint_method=adjoint_method,
            adjoint_options=adjoint_options,
            adjoint_params=adjoint_params,
        ),
        wrapped,
        recording,
    )
    wrapped.phase = "backward"
    return solution, recording.trace


# ---------------------------------------------------------------------------


def _validate(y0, t, rtol, atol, method, spectrum, max_steps, batched=None) -> str:
    _validate_state(y0)
    _validate_times(t)
    method = "dopri5" if method is None else method
    if not isinstance(method, str):
        raise invalid("method", method, f"give a name: one of {', '.join(METHODS)}")
    if method == "scipy_solver":
        raise invalid(
            "method", method, "use odediag.solve_ivp to trace SciPy's methods"
        )
    if method not in METHODS:
        raise invalid("method", method, f"choose one of {', '.join(METHODS)}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, str):
            raise invalid(name, tol, "give a number, not a string")
        values = np.asarray(_scalar_or_list(tol))
        if not np.isfinite(values).all() or (values < 0).any():
            raise invalid(name, tol, "tolerances must be finite and non-negative")
    if max_steps is not None and (
        isinstance(max_steps, bool)
        or not isinstance(max_steps, int | np.integer)
        or max_steps < 1
    ):
        raise invalid("max_steps", max_steps, "give a positive whole number of steps")
    if batched is not None and not isinstance(batched, bool):
        raise invalid("batched", batched, "pass True, False or None (automatic)")
    if spectrum and not isinstance(y0, torch.Tensor):
        raise invalid(
            "spectrum",
            True,
            "the spectrum needs a single tensor state; concatenate tuple states",
        )
    return method


@dataclass(frozen=True)
class _Options:
    """odediag's own keywords of ``odeint``, as one value."""

    spectrum: bool
    jac: Callable | None
    batched: bool | None
    max_steps: int | None
    stiffness_estimate: bool
    problem: str
    progress: Callable[[float], None] | None


def _validate_state(y0) -> None:
    parts = y0 if isinstance(y0, tuple) else (y0,)
    if not parts or not all(isinstance(p, torch.Tensor) for p in parts):
        raise invalid(
            "y0",
            type(y0).__name__,
            "give a torch.Tensor (or a tuple of them), e.g. torch.as_tensor(y0)",
        )
    for part in parts:
        if not torch.is_floating_point(part) and not torch.is_complex(part):
            raise invalid("y0", part.dtype, "the state must be floating point")
        if part.numel() == 0:
            raise invalid("y0", tuple(part.shape), "the state needs at least one value")
        if not bool(torch.isfinite(part).all()):
            raise invalid("y0", "non-finite", "every initial value must be finite")


def _validate_times(t) -> None:
    if not isinstance(t, torch.Tensor) or t.ndim != 1 or len(t) < 1:
        raise invalid(
            "t",
            t if not isinstance(t, torch.Tensor) else tuple(t.shape),
            "give a 1-D tensor of output times, e.g. torch.tensor([0.0, 1.0])",
        )
    if not torch.is_floating_point(t):
        raise invalid("t", t.dtype, "times must be floating point, e.g. t.double()")
    if not bool(torch.isfinite(t).all()):
        raise invalid("t", t.tolist(), "every time must be finite")


def _instrument(func, y0, t, rtol, atol, method, module: bool, options: _Options):
    _hooks.install()
    batched = options.batched
    if batched is None:
        batched = isinstance(y0, torch.Tensor) and y0.ndim >= 2
    trace = Trace(
        _attrs(y0, t, rtol, atol, method, options, batched),
        spectrum=options.spectrum,
    )
    jacobian = None
    if options.spectrum:
        jacobian = _jacobian_function(func, options.jac, batched)
    recording = Recording(
        trace,
        method in ADAPTIVE_METHODS,
        jacobian,
        batched,
        options.max_steps,
        options.stiffness_estimate,
        options.progress,
    )
    return wrap(func, recording, module), recording


def _jacobian_function(func, jac, batched):
    if jac is None:
        return lambda t0, y0: batched_jacobian(func, t0, y0, batched)

    def analytic(t0, y0):
        with torch.no_grad():
            J = torch.as_tensor(jac(t0, y0.detach()))
        n = y0.shape[0] if batched else 1
        D = y0[0].numel() if batched else y0.numel()
        if J.numel() != n * D * D:
            raise invalid(
                "jac",
                f"output of shape {tuple(J.shape)}",
                f"expected ({n}, {D}, {D}) for this state"
                + (f" or ({D}, {D})" if n == 1 else ""),
            )
        return J.reshape(n, D, D)

    return analytic


def _attrs(y0, t, rtol, atol, method, options: _Options, batched: bool) -> dict:
    n_samples = y0.shape[0] if batched and isinstance(y0, torch.Tensor) else 1
    source = "analytic" if options.jac is not None else "autograd"
    return {
        "backend": "torchdiffeq",
        "method": method,
        "rtol": _scalar_or_list(rtol),
        "atol": _scalar_or_list(atol),
        "problem": options.problem,
        "t_start": float(t[0]),
        "t_end": float(t[-1]),
        "phase": "forward",
        "batched": bool(batched),
        "n_samples": int(n_samples),
        "jacobian_source": source if options.spectrum else "",
        **versions(),
    }


def _scalar_or_list(value):
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    values = np.asarray(value, dtype=np.float64).reshape(-1).tolist()
    return values[0] if len(values) == 1 else values


def _backward_recording(forward: Recording, method, rtol, atol) -> Recording:
    attrs = {**forward.trace.attrs, "phase": "backward", "method": method}
    if rtol is not None:
        attrs["rtol"] = _scalar_or_list(rtol)
    if atol is not None:
        attrs["atol"] = _scalar_or_list(atol)
    attrs["jacobian_source"] = ""
    trace = Trace(attrs)
    forward.trace.backward = trace
    # The forward's step budget bounds the backward solve too; exceeding it
    # raises SolveError (with this trace) from backward().
    return Recording(
        trace,
        method in ADAPTIVE_METHODS,
        None,
        False,
        forward.max_steps,
        estimate_stiffness=False,
    )


_FAILURES = (
    ("underflow in dt", "step_underflow"),
    ("max_num_steps exceeded", "max_steps"),
    ("non-finite values", "nonfinite"),
)


def _run(solve, wrapped, recording: Recording):
    trace = recording.trace
    try:
        solution = solve()
    except StopSolve as stop:
        _fail(wrapped, recording, stop.status, stop.message, None)
    except KeyboardInterrupt:
        recording.finish_rows()
        wrapped.phase = "done"
        trace.finish("interrupted", "stopped by Ctrl-C; the steps so far are kept")
        raise SolveInterrupted(trace) from None
    except AssertionError as error:
        status = next((s for key, s in _FAILURES if key in str(error)), "failed")
        _fail(wrapped, recording, status, f"torchdiffeq stopped: {error}", error)
    except OdediagInputError:
        raise
    except Exception as error:
        message = f"the solve raised {type(error).__name__}: {error}"
        _fail(wrapped, recording, "failed", message, error)
    finally:
        _hooks.set_current(None)
    recording.finish_rows()
    wrapped.phase = "done"
    final = solution[1] if isinstance(solution, tuple) else solution
    if isinstance(final, torch.Tensor) and not bool(torch.isfinite(final).all()):
        message = "the solution contains non-finite values; the dynamics blow up"
        _fail(wrapped, recording, "nonfinite", message, None)
    trace.finish("success", "the solve reached the end of its time span")
    return solution


def _fail(wrapped, recording, status, message, cause):
    recording.finish_rows()
    wrapped.phase = "done"
    recording.trace.finish(status, message)
    raise SolveError(f"{status}: {message}", recording.trace) from cause
