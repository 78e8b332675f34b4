"""Stochastic and iterative estimates of Jacobian penalties for larger states.

Both estimators need only Jacobian-vector products, never J itself, so their
cost does not grow with d the way an exact Jacobian's does.
"""

from __future__ import annotations

import torch


def rademacher(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Random ±1 entries, float32."""
    bits = torch.randint(0, 2, shape, generator=generator)
    return (2 * bits - 1).to(torch.float32)


def hutchinson_frobenius(
    dynamics, t: torch.Tensor, h: torch.Tensor, noise: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One-probe Hutchinson estimate of ‖J‖²_F, with f itself.

    Parameters
    ----------
    dynamics
        A vector field with a ``jvp(t, h, V)`` method (see
        :class:`~odediag.models.MLPDynamics`).
    t, h
        Time and states, h of shape (batch, d).
    noise
        Probe vectors ε, shape (batch, d), with E[εεᵀ] = I.

    Returns
    -------
    f, estimate
        f(t, h) of shape (batch, d) and ‖Jε‖² of shape (batch,), whose
        expectation is tr(JᵀJ) = ‖J‖²_F.

    Notes
    -----
    Finlay et al. (2020) draw Gaussian ε; we take Rademacher ε, whose variance
    2 Σ_{i≠j} (JᵀJ)²ᵢⱼ leaves out the diagonal terms the Gaussian adds
    (Hutchinson, 1990). ε is drawn once per solve, so the augmented dynamics
    stay deterministic while an adaptive solver retries a step.

    References
    ----------
    Hutchinson, M. F. (1990). A stochastic estimator of the trace of the
    influence matrix for Laplacian smoothing splines. Commun. Stat. Simul.
    Comput. 19(2), 433-450.
    """
    f, Jv = dynamics.jvp(t, h, noise.to(h.dtype).unsqueeze(-1))
    return f, Jv.square().sum(dim=(-2, -1))


def power_iteration_spectral(
    dynamics,
    t: torch.Tensor,
    h: torch.Tensor,
    start: torch.Tensor,
    n_iterations: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Power-iteration estimate of σ²max(J), with f itself.

    Parameters
    ----------
    dynamics, t, h
        As for :func:`hutchinson_frobenius`.
    start
        Start vectors, shape (batch, d).
    n_iterations
        Products v ← JᵀJv / ‖JᵀJv‖ before the estimate.

    Returns
    -------
    f, estimate
        f(t, h) and ‖Jv‖² of shape (batch,), a lower bound of σ²max that
        tightens with each iteration.

    Notes
    -----
    The iterations run without a graph; the estimate differentiates ‖Jv‖² at
    fixed v. At the top right singular vector this is the gradient of σ²max
    itself, the argument Miyato et al. (2018) use for spectral normalisation.

    References
    ----------
    Golub, G. H. and Van Loan, C. F. (2013). Matrix Computations, 4th ed.,
    section 8.6 (power iteration on JᵀJ).
    Miyato, T. et al. (2018). Spectral normalization for generative
    adversarial networks. ICLR 2018.
    """
    v = _power_iterate(dynamics, t, h, start.to(h.dtype), n_iterations)
    f, Jv = dynamics.jvp(t, h, v.unsqueeze(-1))
    return f, Jv.square().sum(dim=(-2, -1))


def _power_iterate(dynamics, t, h, v, n_iterations: int) -> torch.Tensor:
    v = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    if n_iterations == 0:
        return v
    with torch.enable_grad():
        h_leaf = h.detach().requires_grad_(True)
        f = dynamics(t, h_leaf)
        for _ in range(n_iterations):
            with torch.no_grad():
                Jv = dynamics.jvp(t, h_leaf, v.unsqueeze(-1))[1].squeeze(-1)
            (JtJv,) = torch.autograd.grad(f, h_leaf, Jv, retain_graph=True)
            norm = torch.linalg.vector_norm(JtJv, dim=-1, keepdim=True)
            v = JtJv / norm.clamp(min=torch.finfo(h.dtype).tiny)
    return v.detach()
