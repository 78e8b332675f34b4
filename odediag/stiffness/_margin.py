"""Where each step's h·λ sits relative to the method's stability region.

An explicit method on a stiff problem cannot take the steps its accuracy
would allow: whenever h·λ of a fast, decaying mode leaves the stability
region, the error estimate grows, the step is rejected and shrunk, and the
controller settles into steps that keep h·λ hovering at the region's edge
(Hairer & Wanner 1996, §IV.2, Figs. 2.2–2.3; Shampine 1977). A step whose
h·λ sits at a large fraction of the boundary is therefore set by stability,
one well inside by accuracy.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from odediag._errors import OdediagInputError, invalid
from odediag.stability import (
    AbstractStabilityRegion,
    canonical_name,
    stability_region,
)

# A step is stability-limited when a decaying mode's h·λ lies at 0.8 or more
# of the boundary along its ray. Under the usual controller (safety 0.9,
# growth at most ×5–10, error exponent 1/(p+1)) a step hovering at the edge
# oscillates between about 0.8 and 1.1 of the boundary: just past 1 the
# error estimate explodes and the step is cut, the next one grows back by
# ~0.9·ratio^{-1/(p+1)}. Accuracy-limited steps of a non-stiff solve sit at
# |h·λ| of 0.1–0.5 of it for moderate tolerances. DOPRI5's own test uses
# 3.25 / 3.31 = 0.98 of the negative real boundary but needs 15 such steps
# before it speaks; one step with 0.8 is weaker evidence, which is why the
# verdict asks for runs of steps (``MIN_INTERVAL_STEPS``).
# Measured on linear(-1, -50) at rtol 1e-3, the median margin of accepted
# steps once stiff is 0.92 (bosh3), 0.94 (dopri8), 0.95 (fehlberg2) and
# 0.97–1.0 (dopri5, RK45 on vdpol and rober). Known gap: adaptive_heun's
# controller settles near 0.5 of the boundary there, so the rule misses most
# of its stability-limited steps.
STABILITY_THRESHOLD = 0.8

# DOPRI5's stiffness test (Hairer & Wanner 1996, §IV.2, eq. (2.8); the
# DOPRI5 code): h·|λ| estimated from the last two stages above 3.25 counts
# as a stiff step.
HAIRER_STIFF_H_LAMBDA = 3.25


def step_region(trace: xr.Dataset) -> AbstractStabilityRegion | None:
    """Stability region of a one-formula method, or None if it varies or is unknown.

    ``scipy:BDF`` and ``scipy:LSODA`` change formula from step to step; use
    :func:`h_lambda_margin`, which reads the trace's ``order`` and
    ``lsoda_method`` for them.
    """
    method = str(trace.attrs.get("method", ""))
    try:
        name = canonical_name(method)
    except OdediagInputError:
        return None
    if name in ("scipy:BDF", "scipy:LSODA"):
        return None
    return stability_region(name)


def is_implicit(trace: xr.Dataset) -> bool:
    """Whether the trace comes from one of SciPy's implicit methods."""
    return str(trace.attrs.get("method", "")) in (
        "scipy:Radau",
        "scipy:BDF",
        "scipy:LSODA",
        "Radau",
        "BDF",
        "LSODA",
    )


def has_spectrum(trace: xr.Dataset) -> bool:
    """Whether the trace recorded Jacobian eigenvalues."""
    return "eig_real" in trace and "eig_imag" in trace


def h_lambda(trace: xr.Dataset) -> xr.DataArray:
    """h·λ for every eigenvalue, complex, dims (step, sample, mode).

    NaN at steps without a spectrum (rejected ones).

    Raises
    ------
    OdediagInputError
        When the trace has no spectrum.
    """
    if not has_spectrum(trace):
        raise invalid(
            "trace",
            trace.attrs.get("problem", "dataset"),
            "it has no eigenvalues; trace it again with spectrum=True (--spectrum)",
        )
    eig = trace["eig_real"] + 1j * trace["eig_imag"]
    return (trace["h"] * eig).rename("h_lambda")


def h_lambda_margin(
    trace: xr.Dataset, region: AbstractStabilityRegion | None = None
) -> xr.DataArray:
    """|h·λ| over the stability boundary along arg(h·λ), per eigenvalue.

    Parameters
    ----------
    trace
        A trace with spectrum.
    region
        Region to measure against; by default the method's own (per step
        order for ``scipy:BDF`` and LSODA's BDF mode).

    Returns
    -------
    xarray.DataArray
        Dims (step, sample, mode). 1 is on the boundary; 0 for modes that
        never leave (an implicit method's α-sector). NaN for modes with
        Re λ ≥ 0 (growing modes limit accuracy, not stability), at steps
        without spectrum, and at steps whose formula has no region here
        (LSODA's Adams mode, unknown methods).
    """
    z = h_lambda(trace)
    margin = np.full(z.shape, np.nan)
    for steps, step_region_ in _regions_by_step(trace, region):
        margin[steps] = step_region_.margin(z.values[steps])
    decaying = (trace["eig_real"] < 0).values
    return xr.DataArray(
        np.where(decaying, margin, np.nan),
        dims=z.dims,
        coords=z.coords,
        name="h_lambda_margin",
        attrs={"units": "1", "long_name": "|hλ| / stability boundary along arg hλ"},
    )


def _regions_by_step(trace: xr.Dataset, region: AbstractStabilityRegion | None):
    """Yield (boolean step mask, region) pairs covering the steps with a region."""
    n_step = trace.sizes["step"]
    if region is not None:
        yield np.ones(n_step, bool), region
        return
    single = step_region(trace)
    if single is not None:
        yield np.ones(n_step, bool), single
        return
    if not is_known_method(trace) or "order" not in trace:
        return
    method = canonical_name(str(trace.attrs["method"]))
    orders = trace["order"].values
    modes = (
        trace["lsoda_method"].values.astype(str)
        if "lsoda_method" in trace
        else np.full(n_step, "bdf")
    )
    for order, mode in set(zip(orders.tolist(), modes.tolist(), strict=True)):
        if 1 <= order <= 5 and (method == "scipy:BDF" or mode == "bdf"):
            mask = (orders == order) & (modes == mode)
            yield mask, stability_region(method, int(order), lsoda_method=mode)


def is_known_method(trace: xr.Dataset) -> bool:
    """Whether odediag knows the stability region(s) of the trace's method."""
    try:
        canonical_name(str(trace.attrs.get("method", "")))
    except OdediagInputError:
        return False
    return True


def stability_margin(
    trace: xr.Dataset, region: AbstractStabilityRegion | None = None
) -> xr.DataArray:
    """Largest margin over each sample's decaying modes, dims (step, sample).

    0 where a sample has no decaying mode; NaN at steps without spectrum.
    ``region`` defaults to the method's own; see :func:`h_lambda_margin`.
    """
    margin = h_lambda_margin(trace, region)
    has_any = margin.notnull().any("mode")
    largest = margin.fillna(-np.inf).max("mode")
    spectral = trace["eig_real"].notnull().any("mode")
    result = xr.where(has_any, largest, xr.where(spectral, 0.0, np.nan))
    return result.rename("stability_margin").assign_attrs(
        units="1", long_name="largest |hλ| / boundary over decaying modes"
    )


def stability_limited(
    trace: xr.Dataset, threshold: float = STABILITY_THRESHOLD
) -> xr.DataArray:
    """Whether each accepted step was limited by stability rather than accuracy.

    Parameters
    ----------
    trace
        A trace Dataset (``docs/trace-schema.md``).
    threshold
        Fraction of the stability boundary, in (0, 1].

    Returns
    -------
    xarray.DataArray
        Boolean over ``step``; False at rejected steps. Its ``evidence``
        attribute says what the decision rests on: ``"spectrum"``,
        ``"hairer"`` or ``"none"`` (every step False).

    Notes
    -----
    The rule: an accepted step is stability-limited when, for some sample,
    a decaying eigenvalue (Re λ < 0) has h·λ at ``threshold`` or more of the
    distance from 0 to the edge of the method's stability region along the
    ray through h·λ. :data:`STABILITY_THRESHOLD` (0.8) is justified at its
    definition. Implicit methods never meet it inside their α-sector.

    Without a spectrum, dopri5 and RK45 traces fall back on Hairer's
    estimate of h·|λ| from the last two stages, compared with ``threshold``
    times the negative-real-axis boundary (3.31). The estimate sees the
    dominant mode only and assumes it is real; other methods get no
    attribution (``evidence="none"``).
    """
    if not 0 < threshold <= 1:
        raise invalid("threshold", threshold, "use a fraction in (0, 1], e.g. 0.8")
    accepted = trace["accepted"].astype(bool)
    if has_spectrum(trace):
        limited = (stability_margin(trace) >= threshold).any("sample")
        evidence = "spectrum"
    elif _hairer_available(trace):
        bound = stability_region("dopri5").boundary(np.pi, exact=True)
        limited = trace["hairer_h_lambda"] >= threshold * float(bound)
        evidence = "hairer"
    else:
        limited = xr.zeros_like(accepted)
        evidence = "none"
    result = (limited & accepted).rename("stability_limited")
    return result.assign_attrs(evidence=evidence, threshold=threshold)


def _hairer_available(trace: xr.Dataset) -> bool:
    return (
        "hairer_h_lambda" in trace
        and bool(trace["hairer_h_lambda"].notnull().any())
        and not is_implicit(trace)
    )
