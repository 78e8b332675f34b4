"""Eigenvalues, singular values and the scalar measures derived from them."""

from __future__ import annotations

import numpy as np

# Real parts with |Re λ| at or below this fraction of the spectral radius count
# as zero: they neither decay nor grow on the time scales the solver sees.
ZERO_REAL_PART = 1e-10


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
    The condition number is the 2-norm one, σmax/σmin, and is ``inf`` for a
    singular J.

    The stiffness ratio follows Lambert (Numerical Methods for Ordinary
    Differential Systems, 1991, §6.2): max|Re λ| / min|Re λ|. Lambert defines
    it only when every Re λ < 0. Trained dynamics and oscillators routinely
    have eigenvalues with Re λ ≥ 0, which do not force small steps on an
    explicit method by decay, so we take the ratio over the decaying
    eigenvalues only (Re λ < −10⁻¹⁰ ρ): growing modes are accuracy-limited,
    and a zero real part would make the ratio infinite without any
    stiffness. With one decaying eigenvalue the ratio is 1; with none it is
    NaN.
    """
    J = np.asarray(J, dtype=np.float64)
    eig = np.linalg.eigvals(J)
    eig = _sorted_by_real_part(eig)
    sigma = np.linalg.svd(J, compute_uv=False)
    radius = np.abs(eig).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = np.where(sigma[..., -1] > 0, sigma[..., 0] / sigma[..., -1], np.inf)
    return {
        "eig_real": eig.real,
        "eig_imag": eig.imag,
        "singular_value": sigma,
        "condition_number": condition,
        "spectral_radius": radius,
        "stiffness_ratio": stiffness_ratio(eig.real, radius),
    }


def _sorted_by_real_part(eig: np.ndarray) -> np.ndarray:
    order = np.lexsort((eig.imag, eig.real), axis=-1)
    return np.take_along_axis(eig, order, axis=-1)


def stiffness_ratio(eig_real: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """max|Re λ| / min|Re λ| over decaying eigenvalues; see :func:`spectral_measures`.

    Parameters
    ----------
    eig_real
        Real parts, shape ``(..., d)``.
    radius
        Spectral radius, shape ``(...)``.
    """
    decaying = eig_real < -ZERO_REAL_PART * radius[..., None]
    rate = np.where(decaying, -eig_real, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet_nan_reductions():
        return np.nanmax(rate, axis=-1) / np.nanmin(rate, axis=-1)


class _quiet_nan_reductions:
    """Silence NumPy's 'All-NaN slice' warnings: NaN is the intended answer."""

    def __enter__(self):
        import warnings

        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)
