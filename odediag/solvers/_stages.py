"""Hairer's stiffness estimate h·|λ| from the last two stages of a step.

For methods whose last two stages are both evaluated at t0 + h (Dormand–Prince
5(4): stages 6 and 7), the difference quotient

    h·|λ| ≈ h ‖k7 − k6‖ / ‖g7 − g6‖,

with g_i the stage arguments, approximates h times the dominant eigenvalue of
the Jacobian along g7 − g6, at no extra function evaluation (Hairer & Wanner,
Solving ODEs II, §IV.2, eq. (2.8); the test in DOPRI5 compares it with 3.25).
Norms are Euclidean over each sample; the trace keeps the largest over the
samples of a batch, the one that limits the shared step.

The stages of accepted steps are kept (as references, no copies) and the
estimates computed in batches, which costs far less than a few tensor
operations at every step.
"""

from __future__ import annotations

import numpy as np
import torch

# Stages wait until they hold this many bytes, then are reduced together.
_FLUSH_BYTES = 16 * 2**20


def has_two_final_stages(tableau) -> bool:
    """Whether the tableau's last two stages both sit at c = 1."""
    alpha = tableau.alpha
    return len(alpha) >= 2 and float(alpha[-1]) == 1.0 and float(alpha[-2]) == 1.0


def stage_weights(tableau) -> torch.Tensor:
    """Coefficients w with g7 − g6 = h Σ_j w_j k_j (zero-padded rows of A)."""
    last, previous = tableau.beta[-1], tableau.beta[-2]
    n_stages = len(tableau.alpha) + 1
    w = torch.zeros(n_stages, dtype=last.dtype, device=last.device)
    w[: len(last)] += last
    w[: len(previous)] -= previous
    return w


def hairer_h_lambda(k: np.ndarray, weights: np.ndarray, batched: bool) -> np.ndarray:
    """Largest per-sample estimate of h·|λ| for each step.

    Parameters
    ----------
    k
        Stages of ``n`` steps, shape ``(n, *y, s)``.
    weights
        From :func:`stage_weights`, shape ``(s,)``.
    batched
        Whether the first axis of ``y`` indexes samples.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``; NaN where the estimate is undefined.
    """
    dk = k[..., -1] - k[..., -2]
    dg = k @ weights
    keep = 2 if batched else 1
    num = np.linalg.norm(dk.reshape(*dk.shape[:keep], -1), axis=-1)
    den = np.linalg.norm(dg.reshape(*dg.shape[:keep], -1), axis=-1)
    # g7 − g6 = h·dg and k7 − k6 ≈ J (g7 − g6), so ‖dk‖/‖dg‖ ≈ h·|λ| already.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / den, 0.0)
    if batched:
        ratio = ratio.max(axis=1)
    ratio[~np.isfinite(ratio)] = np.nan
    return ratio


class StageBuffer:
    """Stages of accepted steps, reduced to Hairer estimates in batches."""

    def __init__(self, tableau, batched: bool):
        self.tableau = tableau
        self.batched = batched
        self._rows: list[int] = []
        self._stages: list[torch.Tensor] = []
        self._bytes = 0

    def add(self, row: int, k: torch.Tensor, log) -> None:
        """Keep the stages ``k`` of the accepted step stored at ``row``."""
        self._rows.append(row)
        self._stages.append(k.detach())
        self._bytes += k.numel() * k.element_size()
        if self._bytes >= _FLUSH_BYTES:
            self.flush(log)

    def flush(self, log) -> None:
        """Write the estimates of the buffered steps into ``log``."""
        if not self._rows:
            return
        with torch.no_grad():
            k = torch.stack(self._stages).to(torch.float64).cpu().numpy()
        weights = stage_weights(self.tableau).to(torch.float64).cpu().numpy()
        values = hairer_h_lambda(k, weights, self.batched)
        log.set_rows("hairer_h_lambda", np.asarray(self._rows), values)
        self._rows, self._stages, self._bytes = [], [], 0
