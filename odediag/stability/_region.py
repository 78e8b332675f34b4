"""Linear stability regions of the methods odediag traces.

A method applied to the test equation y' = λy with step h multiplies the
solution by an amplification factor that depends on z = hλ only: R(z) for a
Runge–Kutta method, the largest root of ρ(ζ) − zσ(ζ) for a linear multistep
method. The stability region is where that factor has modulus at most 1
(Hairer & Wanner 1996, §IV.2 and §V.1).

Every region answers one question the stiffness analysis asks: how far along
the ray from 0 through hλ can z go before leaving the region? For a bounded
region (explicit methods) that is a finite radius found by a scan and a
bisection; for an A(α)-stable method it is infinite on every ray within α of
the negative real axis.
"""

from __future__ import annotations

import abc

import numpy as np

from odediag.stability._tableau import ButcherTableau

# |R(z)| of a consistent method equals 1 + O(|z|^{p+1}) near the imaginary
# axis; rounding pushes it a few ulps above 1 there, which is not instability.
_AMPLIFICATION_TOLERANCE = 1e-9

# Grid points of the first scan along each ray; the bisection then refines the
# first exit to _BISECTION_STEPS halvings of one grid cell.
_SCAN_POINTS = 1024
_BISECTION_STEPS = 48


class AbstractStabilityRegion(abc.ABC):
    """The linear stability region of one method (at one order).

    Attributes
    ----------
    name
        Method name as odediag writes it (``"dopri5"``, ``"scipy:BDF"``).
    order
        Classical order of the method.
    alpha
        Angle α in radians of A(α)-stability: every z with |arg(−z)| < α lies
        in the region. 0 for a bounded region (every explicit method).
    """

    name: str
    order: int
    alpha: float = 0.0

    # Rays in the table :meth:`boundary` interpolates, from π/2 to π − α.
    _table_rays: int = 2049

    @property
    def implicit(self) -> bool:
        """Whether the region is unbounded (the method is implicit)."""
        return self.alpha > 0

    @abc.abstractmethod
    def amplification(self, z: np.ndarray) -> np.ndarray:
        """Modulus of the amplification factor at z = hλ, same shape as ``z``."""

    @abc.abstractmethod
    def _scan_radii(self) -> np.ndarray:
        """Increasing radii, shape (m,), at which rays are first sampled."""

    def contains(self, z: np.ndarray) -> np.ndarray:
        """Whether each z lies in the stability region, boolean, shape of ``z``."""
        return self.amplification(np.asarray(z)) <= 1 + _AMPLIFICATION_TOLERANCE

    def boundary(self, angle: np.ndarray | float, exact: bool = False) -> np.ndarray:
        """Distance from 0 to the region's boundary along rays from the origin.

        Parameters
        ----------
        angle
            Angle θ of each ray in radians, any shape; θ = π is the negative
            real axis.
        exact
            Scan and bisect every ray given. By default rays are looked up in
            a table over the left half plane (a ray every 0.04°, 0.2° for
            multistep methods), built once per region and interpolated
            linearly in θ.

        Returns
        -------
        numpy.ndarray
            Float, shape of ``angle``: the largest r such that every
            z = ρ e^{iθ}, 0 < ρ ≤ r, lies in the region. 0 on rays into the
            open right half plane, inf on rays that never leave (inside an
            implicit method's α-sector).

        Notes
        -----
        Every consistent method has |R(z)| = 1 + Re z + O(|z|²), so rays with
        cos θ > 0 leave the region at once. On the others the first exit is
        bracketed by a scan on :meth:`_scan_radii` and bisected; an excursion
        out of the region narrower than one scan cell (~0.1 % of the region's
        radius) can be missed. Where the boundary radius jumps as θ varies (a
        ray grazing the region's edge) the table interpolates across the jump
        over one table cell, 0.04°.
        """
        theta = np.abs(_wrap(np.asarray(angle, dtype=np.float64)))
        result = np.zeros(theta.shape)
        in_sector = (np.pi - theta <= self.alpha) & (self.alpha > 0)
        result[in_sector] = np.inf
        rays = ~in_sector & (theta >= np.pi / 2)
        if not rays.any():
            return result
        if exact:
            result[rays] = self._first_exit(theta[rays])
        else:
            angles, radii = self._table()
            result[rays] = np.interp(theta[rays], angles, radii)
        return result

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Boundary radii on rays from π/2 to π − α, computed once."""
        if getattr(self, "_cached_table", None) is None:
            rays = self._table_rays
            angles = np.linspace(np.pi / 2, np.pi - self.alpha, rays)
            self._cached_table = (angles, self._first_exit(angles))
        return self._cached_table

    def _first_exit(self, theta: np.ndarray) -> np.ndarray:
        """First radius at which each ray leaves the region, shape (n,)."""
        radii = self._scan_radii()
        direction = np.exp(1j * theta)[:, None]
        stable = self.contains(radii[None, :] * direction)

        leaves = ~stable.all(axis=1)
        first = np.argmax(~stable, axis=1)
        low = np.where(first > 0, radii[np.maximum(first - 1, 0)], 0.0)
        high = radii[first]
        for _ in range(_BISECTION_STEPS):
            middle = 0.5 * (low + high)
            inside = self.contains(middle * direction[:, 0])
            low = np.where(inside, middle, low)
            high = np.where(inside, high, middle)

        # A ray that leaves at once bisects down to where |R| passes the
        # tolerance, ~1e-9; that is 0 to every caller.
        low = np.where(low < 1e-6 * radii[-1], 0.0, low)
        return np.where(leaves, low, np.inf)

    def margin(self, z: np.ndarray) -> np.ndarray:
        """|z| divided by the boundary along arg z, shape of ``z``.

        Below 1 the point lies inside the region along its ray; 1 is on the
        boundary; 0 wherever the ray never leaves (and at z = 0). Points on
        rays that leave at once (Re z > 0 mostly) get inf.
        """
        z = np.asarray(z, dtype=np.complex128)
        bound = self.boundary(np.angle(z))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(z) / bound
        ratio = np.where(np.abs(z) == 0, 0.0, ratio)
        return np.where(np.isnan(z), np.nan, ratio)

    def __repr__(self) -> str:
        kind = f"A({np.degrees(self.alpha):.2f}°)" if self.implicit else "bounded"
        return f"{type(self).__name__}({self.name!r}, order={self.order}, {kind})"


def _wrap(theta: np.ndarray) -> np.ndarray:
    """Angles wrapped into (−π, π]."""
    return np.angle(np.exp(1j * theta))


class RungeKuttaRegion(AbstractStabilityRegion):
    """Stability region {z : |R(z)| ≤ 1} of a Runge–Kutta tableau.

    Parameters
    ----------
    tableau
        The method's Butcher tableau.
    alpha
        A(α) angle in radians for an implicit tableau known to be A-stable or
        A(α)-stable (π/2 for Radau IIA); 0 for explicit methods.
    """

    def __init__(self, tableau: ButcherTableau, alpha: float = 0.0):
        assert tableau.explicit == (alpha == 0), tableau.name
        self.tableau = tableau
        self.name = tableau.name
        self.order = tableau.order
        self.alpha = alpha

    def amplification(self, z: np.ndarray) -> np.ndarray:
        return np.abs(self.tableau.stability_function(z))

    def _scan_radii(self) -> np.ndarray:
        # An implicit tableau here is A-stable (alpha = π/2), so no left
        # half-plane ray is ever scanned.
        assert self.tableau.explicit, self.name
        return np.linspace(0, _escape_radius(self.tableau), _SCAN_POINTS + 1)[1:]

    def stability_function(self, z: np.ndarray) -> np.ndarray:
        """R(z), complex, shape of ``z``.

        See :meth:`ButcherTableau.stability_function`.
        """
        return self.tableau.stability_function(z)


def _escape_radius(tableau: ButcherTableau) -> float:
    """Radius beyond which |R(z)| > 1 for every z, for an explicit tableau.

    With R(z) = Σ a_k z^k of degree s, |R(z)| ≥ |a_s| r^s − Σ_{k<s} |a_k| r^k,
    which exceeds 1 beyond the largest positive root of
    |a_s| r^s − Σ_{k<s} |a_k| r^k − 1.
    """
    coefficients = np.abs(tableau.stability_polynomial())
    bound = -coefficients
    bound[0] = coefficients[0]
    bound[-1] -= 1
    roots = np.roots(bound)
    real = roots[np.abs(roots.imag) < 1e-9].real
    return float(real.max()) * 1.01


class MultistepRegion(AbstractStabilityRegion):
    """Stability region of a k-step backward differentiation formula.

    The formula is the numerical differentiation formula (NDF) of Klopfenstein
    and Shampine: ``Σ_{m=1}^k (1/m) ∇^m y_{n+1} − κ γ_k ∇^{k+1} y_{n+1}
    = h f_{n+1}`` with ``γ_k = Σ_{m=1}^k 1/m``. κ = 0 is the classical BDF
    (LSODA's stiff mode); SciPy's ``BDF`` uses κ ≠ 0 for orders 1–4
    (Shampine & Reichelt 1997, §2.3, Table 1).

    Parameters
    ----------
    name
        Method name, e.g. ``"scipy:BDF"``.
    order
        k, 1 to 6.
    kappa
        κ of the NDF; 0 for BDF.

    Notes
    -----
    The amplification factor at z is the largest |ζ| among the roots of
    ``ζ^{k+1} [Σ_m (1/m)(1 − ζ⁻¹)^m − κγ_k (1 − ζ⁻¹)^{k+1} − z]``. The angle α
    is measured on the boundary locus z(e^{iφ}) (Hairer & Wanner 1996,
    §V.2): the smallest angle between the locus and the negative real axis.
    It reproduces the classical BDF values 90°, 90°, 86.03°, 73.35°, 51.84°
    (Table V.2.1 there) and Shampine & Reichelt's NDF values.
    """

    # Each amplification needs the roots of a polynomial (an eigenvalue
    # problem), so the table is coarser; these regions matter only for rays
    # near the imaginary axis, outside the α-sector.
    _table_rays = 513

    def __init__(self, name: str, order: int, kappa: float = 0.0):
        self.name = name
        self.order = order
        self.kappa = float(kappa)
        self._rho = self._left_polynomial()
        self.alpha = self._locus_alpha()

    def _left_polynomial(self) -> np.ndarray:
        """Coefficients in ζ of ζ^{k+1}·(left side), highest power first."""
        k = self.order
        gamma = sum(1 / m for m in range(1, k + 1))
        backward = np.array([1.0, -1.0])  # ζ − 1, one ∇ times ζ
        total = np.zeros(k + 2)
        for m in range(1, k + 2):
            weight = 1 / m if m <= k else 0.0
            if m == k + 1:
                weight -= self.kappa * gamma
            term = np.convolve(_poly_power(backward, m), _monomial(k + 1 - m))
            total += weight * term[-(k + 2) :]
        return total

    def _locus(self, phi: np.ndarray) -> np.ndarray:
        """Boundary locus z(e^{iφ}), the z for which ζ = e^{iφ} is a root."""
        zeta = np.exp(1j * phi)
        return np.polyval(self._rho, zeta) / zeta ** (self.order + 1)

    def _locus_alpha(self) -> float:
        phi = np.linspace(0, np.pi, 20001)[1:]
        z = self._locus(phi)
        # The locus leaves 0 tangent to the imaginary axis, where rounding of
        # arg z gives angles a hair above π/2; α cannot exceed π/2.
        return float(min(np.min(np.pi - np.abs(np.angle(z))), np.pi / 2))

    def amplification(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.complex128)
        flat = z.reshape(-1)
        polynomials = np.tile(self._rho.astype(np.complex128), (flat.size, 1))
        polynomials[:, 0] -= flat
        return _largest_root(polynomials).reshape(z.shape)

    def _scan_radii(self) -> np.ndarray:
        # The unstable set is enclosed by the boundary locus, so a ray still
        # in the region beyond the locus's largest |z| never leaves.
        reach = np.abs(self._locus(np.linspace(0, np.pi, 2001))).max()
        return np.linspace(0, 1.01 * reach, _SCAN_POINTS // 8 + 1)[1:]


def _poly_power(polynomial: np.ndarray, power: int) -> np.ndarray:
    result = np.array([1.0])
    for _ in range(power):
        result = np.convolve(result, polynomial)
    return result


def _monomial(degree: int) -> np.ndarray:
    return np.concatenate([[1.0], np.zeros(degree)])


def _largest_root(polynomials: np.ndarray) -> np.ndarray:
    """Largest root modulus of each row's polynomial, via companion matrices."""
    leading = polynomials[:, :1]
    degenerate = np.abs(leading[:, 0]) < 1e-14  # a root at infinity
    monic = polynomials[:, 1:] / np.where(degenerate[:, None], 1.0, leading)
    n, degree = monic.shape
    companion = np.zeros((n, degree, degree), dtype=np.complex128)
    companion[:, 0, :] = -monic
    companion[:, np.arange(1, degree), np.arange(degree - 1)] = 1
    largest = np.abs(np.linalg.eigvals(companion)).max(axis=1)
    return np.where(degenerate, np.inf, largest)
