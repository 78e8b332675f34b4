"""The caller's right-hand side, counting evaluations and answering callbacks.

torchdiffeq looks the callbacks up on ``func`` by name and warns about ones a
method does not support, so fixed-grid methods get a wrapper without the
accept/reject callbacks. ``odeint`` gets a plain callable (an ``nn.Module``
call costs several microseconds per evaluation); ``odeint_adjoint`` gets an
``nn.Module`` holding the caller's module, so it finds the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from odediag.solvers._recording import Recording

_CALLBACK_NAMES = tuple(
    f"callback_{event}{suffix}"
    for event in ("step", "accept_step", "reject_step")
    for suffix in ("", "_adjoint")
)


class _Counting:
    """Shared state and the evaluation counter."""

    def _setup(self, func: Callable, recording: Recording) -> None:
        self.func = func
        self.recording = recording
        # The caller's own callbacks, looked up once, called after ours.
        self._user_callbacks = {
            name: getattr(func, name)
            for name in _CALLBACK_NAMES
            if callable(getattr(func, name, None))
        }
        self.backward_recording: Recording | None = None
        self.phase = "forward"

    def _evaluate(self, t, y):
        out = self.func(t, y)
        if self.phase == "forward":
            self.recording.trace.nfe += 1
            if isinstance(out, torch.Tensor) and out.requires_grad:
                out.register_hook(self._count_vjp)
        elif self.phase == "backward" and self.backward_recording is not None:
            self.backward_recording.trace.nfe += 1
        return out

    def _count_vjp(self, grad):
        if self.backward_recording is None:
            self.recording.trace.nfe_vjp += 1

    def _forward_user(self, name, t0, y0, dt):
        callback = self._user_callbacks.get(name)
        if callback is not None:
            callback(t0, y0, dt)


class _StepCallbacks:
    def callback_step(self, t0, y0, dt):
        self.recording.begin(t0, y0, dt)
        self._forward_user("callback_step", t0, y0, dt)

    def callback_step_adjoint(self, t0, y0, dt):
        self.backward_recording.begin(t0, y0, dt)
        self._forward_user("callback_step_adjoint", t0, y0, dt)


class _AcceptCallbacks(_StepCallbacks):
    def callback_accept_step(self, t0, y0, dt):
        self.recording.accept(t0, y0, dt)
        self._forward_user("callback_accept_step", t0, y0, dt)

    def callback_reject_step(self, t0, y0, dt):
        self.recording.reject(t0, y0, dt)
        self._forward_user("callback_reject_step", t0, y0, dt)

    def callback_accept_step_adjoint(self, t0, y0, dt):
        self.backward_recording.accept(t0, y0, dt)
        self._forward_user("callback_accept_step_adjoint", t0, y0, dt)

    def callback_reject_step_adjoint(self, t0, y0, dt):
        self.backward_recording.reject(t0, y0, dt)
        self._forward_user("callback_reject_step_adjoint", t0, y0, dt)


class _Plain(_Counting):
    def __init__(self, func, recording):
        self._setup(func, recording)

    def __call__(self, t, y):
        return self._evaluate(t, y)


class _Module(_Counting, nn.Module):
    def __init__(self, func, recording):
        nn.Module.__init__(self)
        self._setup(func, recording)

    def forward(self, t, y):
        return self._evaluate(t, y)


class PlainFixed(_StepCallbacks, _Plain):
    """Fixed-grid method, ``odeint``."""


class PlainAdaptive(_AcceptCallbacks, _Plain):
    """Adaptive method, ``odeint``."""


class ModuleFixed(_StepCallbacks, _Module):
    """Fixed-grid method, ``odeint_adjoint``."""


class ModuleAdaptive(_AcceptCallbacks, _Module):
    """Adaptive method, ``odeint_adjoint``."""


def wrap(func: Callable, recording: Recording, module: bool):
    """The instrumented ``func`` for ``odeint`` or (``module``) the adjoint."""
    if module:
        cls = ModuleAdaptive if recording.adaptive else ModuleFixed
    else:
        cls = PlainAdaptive if recording.adaptive else PlainFixed
    return cls(func, recording)
