"""Penalties on the Jacobian J = ∂f/∂h of a neural ODE's vector field.

Each exact penalty maps a batch of Jacobians, shape (batch, d, d), to one value
per sample. For d = 2 the singular values follow in closed form from four
entries, which is both faster and better behaved than a batched SVD; for
d > 2 they come from the eigenvalues of JᵀJ.

References
----------
Josias, S. and Brink, W. (2022). Jacobian norm regularisation and conditioning
in neural ODEs. SACAIR 2022, CCIS 1734, pp. 31-45.
Finlay, C., Jacobsen, J.-H., Nurbekyan, L. and Oberman, A. (2020). How to train
your neural ODE: the world of Jacobian and kinetic regularization. ICML 2020.
"""

from __future__ import annotations

import torch

# Added under logarithms so that a Jacobian that is exactly singular (or zero)
# gives a large finite penalty instead of inf or NaN.
_LOG_FLOOR = 1e-12


def frobenius_penalty(J: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm ‖J‖²_F = Σ σᵢ², shape (batch,)."""
    return J.square().sum(dim=(-2, -1))


def spectral_penalty(J: torch.Tensor) -> torch.Tensor:
    """Squared spectral norm σ²max(J), shape (batch,)."""
    if J.shape[-1] == 2:
        return _singular_values_2x2(J)[0].square()
    return torch.linalg.eigvalsh(_gram(J))[..., -1]


def condition_penalty(J: torch.Tensor) -> torch.Tensor:
    """Squared log condition number (log κ)² with κ = σmax/σmin, shape (batch,).

    Notes
    -----
    Two penalties push κ towards 1: (κ − 1)² and (log κ)². We take the second.
    It is invariant to rescaling J (as κ is), grows only logarithmically as
    σmin → 0, so one nearly singular sample cannot dominate a batch, and it is
    smooth where σmax = σmin: there log κ ≈ (σmax − σmin)/σmin, whose square is
    a smooth function of J, so its gradient is finite where the gradient of
    each singular value separately is not.
    """
    if J.shape[-1] == 2:
        return _log_condition_2x2(J).square()
    eigenvalues = torch.linalg.eigvalsh(_gram(J))
    log_kappa = 0.5 * (
        torch.log(eigenvalues[..., -1] + _LOG_FLOOR)
        - torch.log(eigenvalues[..., 0].clamp(min=0) + _LOG_FLOOR)
    )
    return log_kappa.square()


def _gram(J: torch.Tensor) -> torch.Tensor:
    return J.transpose(-2, -1) @ J


def _half_sum_and_difference(J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (σmax + σmin, σmax − σmin) of 2 × 2 matrices J = [[p, q], [r, s]].

    With J = [[p, q], [r, s]], σmax + σmin = ‖(p + s, q − r)‖ and
    σmax − σmin = ‖(p − s, q + r)‖ (the two rotation-like and reflection-like
    parts of J). ``vector_norm`` has gradient 0 at the zero vector, so both
    stay differentiable where the singular values coincide.
    """
    p, q = J[..., 0, 0], J[..., 0, 1]
    r, s = J[..., 1, 0], J[..., 1, 1]
    plus = torch.linalg.vector_norm(torch.stack([p + s, q - r], dim=-1), dim=-1)
    minus = torch.linalg.vector_norm(torch.stack([p - s, q + r], dim=-1), dim=-1)
    return plus, minus


def _singular_values_2x2(J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (σmax, σmin) of a batch of 2 × 2 matrices, each shape (batch,)."""
    plus, minus = _half_sum_and_difference(J)
    return 0.5 * (plus + minus), 0.5 * (plus - minus).abs()


def _log_condition_2x2(J: torch.Tensor) -> torch.Tensor:
    """log κ of 2 × 2 matrices from σmax and |det J| = σmax σmin.

    Using log κ = 2 log σmax − log |det J| avoids the cancellation in
    σmax − (σmax − σmin) when J is nearly singular.
    """
    sigma_max, _ = _singular_values_2x2(J)
    det = J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
    return torch.log(sigma_max.square() + _LOG_FLOOR) - torch.log(
        det.abs() + _LOG_FLOOR
    )
