"""Convenience front ends: boundaries by method name, grids for contour plots."""

from __future__ import annotations

import numpy as np
import xarray as xr

from odediag._errors import invalid
from odediag.stability._methods import stability_region


def stability_boundary(
    method: str, angle: float | np.ndarray = np.pi, order: int | None = None
) -> float | np.ndarray:
    """Distance from 0 to the edge of a method's stability region along rays.

    Parameters
    ----------
    method
        Method name, e.g. ``"dopri5"`` or ``"scipy:RK45"``.
    angle
        Ray angle(s) θ in radians; the default π is the negative real axis.
    order
        Step order, for multistep methods only.

    Returns
    -------
    float or numpy.ndarray
        The largest r with |R(ρ e^{iθ})| ≤ 1 for all 0 < ρ ≤ r; inf where the
        ray stays in the region (implicit methods inside their α-sector).

    Examples
    --------
    >>> round(float(stability_boundary("dopri5")), 3)
    3.307
    """
    result = stability_region(method, order).boundary(angle, exact=True)
    return float(result) if np.ndim(result) == 0 else result


def region_grid(
    method: str,
    extent: float | None = None,
    points: int = 401,
    order: int | None = None,
) -> xr.DataArray:
    """Amplification |R(z)| on a square grid of the complex plane.

    Parameters
    ----------
    method
        Method name.
    extent
        Half-width of the square, centred on ``-extent/2 + 0j`` for bounded
        regions so the region fills it; by default 1.25 times the largest
        boundary radius of an explicit method, 10 for implicit ones.
    points
        Grid points per axis.
    order
        Step order, for multistep methods only.

    Returns
    -------
    xarray.DataArray
        Dims (``im``, ``re``), coordinates the imaginary and real parts of
        z = hλ. The region's boundary is its contour at level 1.
    """
    if points < 3:
        raise invalid("points", points, "use at least 3 points per axis")
    region = stability_region(method, order)
    if extent is None:
        extent = 10.0 if region.implicit else 1.25 * _radius(region)
    if not extent > 0:
        raise invalid("extent", extent, "use a positive half-width")

    centre = 0.0 if region.implicit else -0.5 * extent
    re = np.linspace(centre - extent, centre + extent, points)
    im = np.linspace(-extent, extent, points)
    z = re[None, :] + 1j * im[:, None]
    return xr.DataArray(
        region.amplification(z),
        dims=("im", "re"),
        coords={"im": im, "re": re},
        name="amplification",
        attrs={"method": region.name, "long_name": "|R(hλ)|"},
    )


def _radius(region) -> float:
    """Largest boundary radius over all ray directions of a bounded region."""
    theta = np.linspace(0, np.pi, 181)
    return float(np.max(region.boundary(theta)))
