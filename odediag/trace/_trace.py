"""The :class:`Trace`: what a solve recorded, live while it runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from odediag.spectrum import SpectrumLog
from odediag.trace._dataset import build_dataset, save_trace
from odediag.trace._log import StepLog

# The columns every backend records, in the order StepLog.append takes them.
BASE_COLUMNS: dict[str, type] = {
    "t": np.float64,
    "h": np.float64,
    "accepted": np.bool_,
    "error_ratio": np.float64,
    "nfe": np.int64,
    "hairer_h_lambda": np.float64,
}


class Trace:
    """Record of every step a solve attempted.

    Filled in while the solver runs; :meth:`to_dataset` gives the xarray view
    described in ``docs/trace-schema.md``.

    Attributes
    ----------
    nfe
        Function evaluations the solve itself spent (Jacobians excluded).
    nfe_spectrum
        Function evaluations spent on Jacobians, outside the solve.
    status, message
        ``"success"`` or why the solve stopped, and a readable explanation.
    backward
        For ``odediag.odeint_adjoint``: the trace of the adjoint solve, filled
        in by ``loss.backward()``; otherwise ``None``.
    """

    def __init__(
        self,
        attrs: Mapping[str, Any],
        spectrum: bool = False,
        extra_columns: Mapping[str, type] | None = None,
    ):
        self.log = StepLog({**BASE_COLUMNS, **(extra_columns or {})})
        self.spectrum = SpectrumLog() if spectrum else None
        self.attrs = dict(attrs)
        self.nfe = 0
        self.nfe_spectrum = 0
        self.nfe_vjp = 0
        self.status = "running"
        self.message = ""
        self.backward: Trace | None = None
        # Work deferred until the dataset is built (e.g. reducing buffers).
        self.before_dataset: list = []

    @property
    def n_steps(self) -> int:
        """Number of attempted steps."""
        return len(self.log)

    @property
    def n_accepted(self) -> int:
        """Number of accepted steps."""
        return int(self.log.column("accepted").sum())

    @property
    def n_rejected(self) -> int:
        """Number of rejected steps."""
        return self.n_steps - self.n_accepted

    @property
    def nfe_backward(self) -> int:
        """Evaluations of the backward pass.

        For the adjoint method, the function evaluations of the adjoint solve;
        for backpropagation through the solver, the vector-Jacobian products
        through ``f`` (one per forward evaluation on the autograd graph).
        Zero until ``backward()`` has run.
        """
        return self.backward.nfe if self.backward is not None else self.nfe_vjp

    def finish(self, status: str, message: str) -> None:
        """Set the outcome of the solve."""
        self.status = status
        self.message = message

    def to_dataset(self) -> xr.Dataset:
        """The trace as an xarray Dataset (a copy; safe to modify)."""
        while self.before_dataset:
            self.before_dataset.pop(0)()
        spectrum = self.spectrum.measures() if self.spectrum is not None else None
        steps = np.asarray(self.spectrum.steps) if self.spectrum is not None else None
        attrs = {
            **self.attrs,
            "status": self.status,
            "message": self.message,
            "nfe_total": self.nfe,
            "nfe_spectrum": self.nfe_spectrum,
            "nfe_backward": self.nfe_backward,
        }
        return build_dataset(self.log.columns(), spectrum, steps, attrs)

    def save(self, path: str | os.PathLike):
        """Write the trace to a netCDF file; see :func:`odediag.save_trace`."""
        return save_trace(self, path)

    def __repr__(self) -> str:
        problem = self.attrs.get("problem") or "an unnamed problem"
        return (
            f"<Trace {self.attrs.get('method', '?')} on {problem}"
            f" ({self.attrs.get('phase', 'forward')}): {self.n_accepted} accepted, "
            f"{self.n_rejected} rejected, nfe={self.nfe}, status={self.status}>"
        )
