"""The spectrum along a trajectory: Jacobians at steps, decomposed in chunks."""

from __future__ import annotations

import numpy as np
import torch

from odediag.spectrum._measures import spectral_measures

# Jacobians wait in a buffer and are decomposed together once they fill this
# many bytes: batched LAPACK calls are far cheaper than one call per step.
_FLUSH_BYTES = 32 * 2**20

PER_MODE = ("eig_real", "eig_imag", "singular_value")
PER_SAMPLE = ("condition_number", "spectral_radius", "stiffness_ratio")


class SpectrumLog:
    """Jacobians at selected steps and their spectral measures.

    Only the measures are kept once a chunk is decomposed, so memory grows
    with ``steps × samples × d`` rather than ``× d²``.
    """

    def __init__(self):
        self.steps: list[int] = []
        self._pending: list[torch.Tensor] = []
        self._pending_bytes = 0
        self._chunks: list[dict[str, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, step: int, J: torch.Tensor) -> None:
        """Record Jacobians ``J`` (shape ``(B, D, D)``) taken at ``step``."""
        self.steps.append(step)
        self._pending.append(J)
        self._pending_bytes += J.numel() * 8
        if self._pending_bytes >= _FLUSH_BYTES:
            self._flush()

    def measures(self) -> dict[str, np.ndarray]:
        """Every measure stacked over the recorded steps (leading axis)."""
        self._flush()
        if not self._chunks:
            return {}
        return {
            k: np.concatenate([c[k] for c in self._chunks]) for k in self._chunks[0]
        }

    def _flush(self) -> None:
        if not self._pending:
            return
        J = torch.stack(self._pending).to(torch.float64).cpu().numpy()
        self._chunks.append(spectral_measures(J))
        self._pending = []
        self._pending_bytes = 0
