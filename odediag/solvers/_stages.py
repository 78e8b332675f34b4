"""Hairer's stiffness estimate h·|λ| from the last two stages of a step.

For methods whose last two stages are both evaluated at t0 + h (Dormand–Prince
5(4): stages 6 and 7), the difference quotient

    h·|λ| ≈ h ‖k7 − k6‖ / ‖g7 − g6‖,

with g_i the stage arguments, approximates h times the dominant eigenvalue of
the Jacobian along g7 − g6, at no extra function evaluation (Hairer & Wanner,
Solving ODEs II, §IV.2, eq. (2.8); the test in DOPRI5 compares it with 3.25).
Norms are Euclidean over each sample; the trace keeps the largest over the
samples of a batch, the one that limits the shared step.
"""

from __future__ import annotations

import math

import torch


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


@torch.no_grad()
def hairer_h_lambda(k: torch.Tensor, weights, batched: bool) -> float:
    """Largest per-sample estimate of h·|λ| from stages ``k`` (shape ``(*y, s)``)."""
    k = k.detach()
    dk = k[..., -1] - k[..., -2]
    dg = (k * weights).sum(-1)
    if batched:
        num = dk.reshape(dk.shape[0], -1).norm(dim=-1)
        den = dg.reshape(dg.shape[0], -1).norm(dim=-1)
    else:
        num, den = dk.norm(), dg.norm()
    # g7 − g6 = h·dg and k7 − k6 ≈ J (g7 − g6), so ‖dk‖/‖dg‖ ≈ h·|λ| already.
    ratio = torch.where(den > 0, num / den, torch.zeros_like(num))
    value = float(ratio.max())
    return value if math.isfinite(value) else math.nan
