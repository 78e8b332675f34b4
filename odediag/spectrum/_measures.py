"""Eigenvalues, singular values and the scalar measures derived from them."""

from __future__ import annotations

import numpy as np

# Real parts with |Re λ| at or below this fraction of σmax count as zero: the
# eigenvalue solver's backward error is about eps·‖J‖, so smaller values are
# rounding noise (a conservation law's zero eigenvalue computes as ~1e-19·‖J‖),
# while genuinely slow modes (Robertson's −2e-7 next to −1e4) stay.
ZERO_REAL_PART = 1e-12

# σmin at or below this many machine epsilons times σmax is numerically zero:
# J is singular to working precision and its condition number is infinite.
SINGULAR_RELATIVE = 16 * np.finfo(np.float64).eps


def spectral_measures(J: np.ndarray) -> dict[str, np.ndarray]:
    """Spectral summary of a stack of square matrices.

    Parameters
    ----------
    J
        Jacobians, shape ``(..., d, d)``.

    Returns
    -------
    dict
        ``eig_real``, ``eig_imag`` (shape ``(..., d)``, sorted by real part
        ascending, then imaginary part), ``singular_value`` (``(..., d)``,
        descending), and ``condition_number``, ``spectral_radius``,
        ``stiffness_ratio`` (shape ``(...)``).

    Notes
    -----
    The condition number is the 2-norm one, σmax/σmin, and is ``inf`` when J
    is singular to working precision (σmin ≤ 16 eps σmax).

    The stiffness ratio starts from Lambert (Numerical Methods for Ordinary
    Differential Systems, 1991, §6.2): max|Re λ| / min|Re λ|, defined there
    only when every Re λ < 0. Trained dynamics, oscillators and relaxation
    oscillations routinely have eigenvalues with Re λ ≥ 0, so we take

        S = max{|Re λ| : Re λ < 0} / min{|Re λ| : Re λ ≠ 0}.

    The numerator is the fastest decaying mode, the one that forces small
    steps on an explicit method; the denominator is the slowest time scale
    on which the solution moves, whether that mode decays or grows (in Van
    der Pol's slow phase it grows slightly while the other mode decays fast:
    the classic stiff situation, which a ratio over decaying modes alone
    would call 1). Real parts below 10⁻¹² σmax count as zero and are left
    out, so a conservation law or a pure rotation does not make S infinite.
    S is NaN when no mode decays (nothing can make the problem stiff).
    """
    J = np.asarray(J, dtype=np.float64)
    finite = np.isfinite(J).all(axis=(-2, -1))
    if not finite.all():
        return _with_nan_where_nonfinite(J, finite)
    eig = np.linalg.eigvals(J)
    eig = _sorted_by_real_part(eig)
    sigma = np.linalg.svd(J, compute_uv=False)
    radius = np.abs(eig).max(axis=-1)
    singular = sigma[..., -1] <= SINGULAR_RELATIVE * sigma[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = np.where(singular, np.inf, sigma[..., 0] / sigma[..., -1])
    return {
        "eig_real": eig.real,
        "eig_imag": eig.imag,
        "singular_value": sigma,
        "condition_number": condition,
        "spectral_radius": radius,
        "stiffness_ratio": stiffness_ratio(eig.real, sigma[..., 0]),
    }


def _with_nan_where_nonfinite(J: np.ndarray, finite: np.ndarray):
    """Measures of the finite matrices; NaN for those with inf or NaN entries."""
    d = J.shape[-1]
    out = {
        name: np.full(J.shape[:-2] + ((d,) if name in _PER_MODE else ()), np.nan)
        for name in _PER_MODE + _PER_MATRIX
    }
    if finite.any():
        for name, values in spectral_measures(J[finite]).items():
            out[name][finite] = values
    return out


_PER_MODE = ("eig_real", "eig_imag", "singular_value")
_PER_MATRIX = ("condition_number", "spectral_radius", "stiffness_ratio")


def _sorted_by_real_part(eig: np.ndarray) -> np.ndarray:
    order = np.lexsort((eig.imag, eig.real), axis=-1)
    return np.take_along_axis(eig, order, axis=-1)


def stiffness_ratio(eig_real: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Fastest decay rate over slowest rate; see :func:`spectral_measures`.

    Parameters
    ----------
    eig_real
        Real parts, shape ``(..., d)``.
    scale
        Size of J (σmax), shape ``(...)``: real parts below ``1e-12 · scale``
        count as zero.
    """
    zero = ZERO_REAL_PART * np.asarray(scale)[..., None]
    decaying = eig_real < -zero
    moving = np.abs(eig_real) > zero
    fastest = np.where(decaying, -eig_real, np.nan)
    slowest = np.where(moving, np.abs(eig_real), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet_nan_reductions():
        return np.nanmax(fastest, axis=-1) / np.nanmin(slowest, axis=-1)


class _quiet_nan_reductions:
    """Silence NumPy's 'All-NaN slice' warnings: NaN is the intended answer."""

    def __enter__(self):
        import warnings

        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)
