"""Figures of a stiffness report, drawn with matplotlib's Agg backend.

Figures are built on :class:`matplotlib.figure.Figure` directly, not through
pyplot, so no global state or display is touched.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from odediag.stability import region_grid, stability_region
from odediag.stiffness import StiffnessVerdict, h_lambda, stability_margin
from odediag.stiffness._margin import has_spectrum, step_region

_ACCEPTED = "#1f77b4"
_REJECTED = "#d62728"
_STIFF = "#ffbf00"
_REGION = "#cfe3f3"
_DPI = 110


def figure_step_size(trace: xr.Dataset, verdict: StiffnessVerdict) -> Figure:
    """Step size h against t, rejections marked, stiff intervals shaded.

    With a spectrum, the largest stable step of the method (h divided by the
    step's stability margin) is drawn too: where the two lines meet, the step
    is stability-limited.
    """
    fig, ax = _figure()
    accepted = trace["accepted"].values.astype(bool)
    t, h = _times(trace), trace["h"].values
    _shade(ax, verdict)
    ax.plot(
        t[accepted],
        h[accepted],
        ".-",
        ms=2,
        lw=0.7,
        color=_ACCEPTED,
        label="accepted step",
    )
    ax.plot(
        t[~accepted], h[~accepted], "x", ms=4, color=_REJECTED, label="rejected step"
    )
    if has_spectrum(trace) and step_region(trace) is not None:
        margin = stability_margin(trace).max("sample").values
        with np.errstate(divide="ignore", invalid="ignore"):
            h_stable = np.where(margin > 0, h / margin, np.nan)
        ax.plot(
            t[accepted],
            h_stable[accepted],
            "--",
            lw=0.8,
            color="black",
            label="largest stable step (from the spectrum)",
        )
    ax.set_yscale("log")
    shown = h[np.isfinite(t) & (h > 0)]
    if shown.size:  # keep the huge stable steps of non-stiff stretches in view
        ax.set_ylim(shown.min() / 3, shown.max() * 10)
    _time_axis(ax, trace)
    ax.set_ylabel("step size h (time units)")
    ax.set_title(f"Step sizes of {verdict.method} on {verdict.problem}")
    ax.legend(loc="best", fontsize=8)
    return fig


def figure_h_lambda(trace: xr.Dataset, verdict: StiffnessVerdict) -> Figure | None:
    """h·λ of every eigenvalue at accepted steps over the stability region.

    Returns None without a spectrum. For methods of varying order (BDF) the
    region of the most used order is drawn.
    """
    if not has_spectrum(trace):
        return None
    fig, ax = _figure(size=(6.4, 5.4))
    region_method, order = _drawn_region(trace, verdict)
    grid = region_grid(region_method, order=order, points=201)
    z = h_lambda(trace).values[trace["accepted"].values.astype(bool)]
    times = np.broadcast_to(
        trace["t"].values[trace["accepted"].values.astype(bool)][:, None, None], z.shape
    )
    keep = np.isfinite(z)
    if stability_region(region_method, order).implicit:
        # The region is unbounded: shade the whole plane, then clear the
        # bounded unstable set, which the grid covers.
        ax.set_facecolor(_REGION)
        ax.contourf(
            grid["re"], grid["im"], grid.values, levels=[1, np.inf], colors=["white"]
        )
        _explicit_reference(ax)
    else:
        ax.contourf(
            grid["re"], grid["im"], grid.values, levels=[0, 1], colors=[_REGION]
        )
    ax.contour(
        grid["re"],
        grid["im"],
        grid.values,
        levels=[1],
        colors=[_ACCEPTED],
        linewidths=1.2,
    )
    colour, norm = times[keep], None
    if _log_time(trace) and (colour > 0).any():
        colour = np.maximum(colour, colour[colour > 0].min())  # t = 0 on a log scale
        norm = LogNorm()
    points = ax.scatter(
        z[keep].real, z[keep].imag, c=colour, s=6, cmap="viridis", norm=norm, zorder=3
    )
    fig.colorbar(points, ax=ax, label="t at the step")
    _fit_view(ax, grid, z[keep])
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Re(h·λ)")
    ax.set_ylabel("Im(h·λ)")
    label = region_method if order is None else f"{region_method}, order {order}"
    ax.set_title(
        f"h·λ at accepted steps over the stability region of {label}\n"
        "(shaded: |R(h·λ)| ≤ 1)",
        fontsize=10,
    )
    return fig


def figure_spectrum(trace: xr.Dataset, verdict: StiffnessVerdict) -> Figure | None:
    """Spectral radius, stiffness ratio and condition number against t."""
    if not has_spectrum(trace):
        return None
    fig = Figure(figsize=(7.5, 6.4), dpi=_DPI, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    accepted = trace["accepted"].values.astype(bool)
    t = _times(trace)[accepted]
    rows = [
        ("spectral_radius", "spectral radius\nmax|λ| (1/time)"),
        ("stiffness_ratio", "stiffness ratio\nmax|Re λ| / min|Re λ|"),
        ("condition_number", "condition number\nσmax/σmin of ∂f/∂y"),
    ]
    for ax, (name, label) in zip(axes, rows, strict=True):
        _shade(ax, verdict)
        values = trace[name].max("sample").values[accepted]
        finite = np.isfinite(values) & (values > 0)
        ax.plot(t[finite], values[finite], lw=0.9, color=_ACCEPTED)
        if finite.any():
            ax.set_yscale("log")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    _time_axis(axes[-1], trace)
    axes[0].set_title("Jacobian ∂f/∂y along the solve (largest over samples)")
    return fig


def figure_error_ratio(trace: xr.Dataset, verdict: StiffnessVerdict) -> Figure | None:
    """The controller's scaled error ratio per attempt; None for fixed grids."""
    ratio = trace["error_ratio"].values
    if not np.isfinite(ratio).any():
        return None
    fig, ax = _figure()
    accepted = trace["accepted"].values.astype(bool)
    t = _times(trace)
    _shade(ax, verdict)
    positive = np.isfinite(ratio) & (ratio > 0) & np.isfinite(t)
    ax.plot(
        t[accepted & positive],
        ratio[accepted & positive],
        ".",
        ms=2,
        color=_ACCEPTED,
        label="accepted",
    )
    ax.plot(
        t[~accepted & positive],
        ratio[~accepted & positive],
        "x",
        ms=4,
        color=_REJECTED,
        label="rejected",
    )
    ax.axhline(1, color="black", lw=0.8, ls="--", label="acceptance limit 1")
    ax.set_yscale("log")
    _time_axis(ax, trace)
    ax.set_ylabel("scaled error estimate / tolerance (1)")
    ax.set_title("Error ratio compared with 1 by the step-size controller")
    ax.legend(loc="best", fontsize=8)
    return fig


FIGURES: dict[str, Callable[[xr.Dataset, StiffnessVerdict], Figure | None]] = {
    "step_size": figure_step_size,
    "h_lambda": figure_h_lambda,
    "spectrum": figure_spectrum,
    "error_ratio": figure_error_ratio,
}


def render_figures(trace: xr.Dataset, verdict: StiffnessVerdict) -> dict[str, bytes]:
    """Every applicable figure as PNG bytes, keyed by name (see :data:`FIGURES`)."""
    pngs = {}
    for name, draw in FIGURES.items():
        fig = draw(trace, verdict)
        if fig is not None:
            pngs[name] = _png(fig)
    return pngs


def write_figures(
    trace: xr.Dataset, verdict: StiffnessVerdict, directory: str | Path
) -> dict[str, Path]:
    """Write every applicable figure as ``directory/<name>.png``."""
    directory = Path(directory)
    paths = {}
    for name, png in render_figures(trace, verdict).items():
        paths[name] = directory / f"{name}.png"
        paths[name].write_bytes(png)
    return paths


def _figure(size: tuple[float, float] = (7.5, 4.2)):
    fig = Figure(figsize=size, dpi=_DPI, layout="constrained")
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def _shade(ax, verdict: StiffnessVerdict) -> None:
    for i, (start, end) in enumerate(verdict.stiff_intervals):
        ax.axvspan(
            start,
            end,
            color=_STIFF,
            alpha=0.25,
            lw=0,
            label="stiff interval" if i == 0 else None,
        )


def _log_time(trace: xr.Dataset) -> bool:
    """Whether positive step times span more than three decades (from t ≥ 0)."""
    t = trace["t"].values
    positive = t[t > 0]
    return bool(
        positive.size and t.min() >= 0 and positive.max() / positive.min() > 1e3
    )


def _times(trace: xr.Dataset) -> np.ndarray:
    """Step start times to plot; t = 0 is dropped (NaN) on a log axis."""
    t = trace["t"].values.astype(np.float64)
    return np.where(t > 0, t, np.nan) if _log_time(trace) else t


def _time_axis(ax, trace: xr.Dataset) -> None:
    if _log_time(trace):
        ax.set_xscale("log")
    ax.set_xlabel("t (time units)")


def _drawn_region(trace: xr.Dataset, verdict: StiffnessVerdict):
    """Method name and order of the region to draw."""
    if step_region(trace) is not None:
        return step_region(trace).name, None
    if "order" in trace and verdict.method in ("scipy:BDF", "scipy:LSODA"):
        orders = trace["order"].values[trace["accepted"].values.astype(bool)]
        order = int(np.bincount(orders.astype(int)).argmax()) if orders.size else 1
        if verdict.method == "scipy:BDF" and 1 <= order <= 5:
            return verdict.method, order
    return "scipy:RK45", None


def _explicit_reference(ax) -> None:
    """Dashed boundary of RK45's region: where an explicit method would stop."""
    grid = region_grid("scipy:RK45", points=201)
    ax.contour(
        grid["re"],
        grid["im"],
        grid.values,
        levels=[1],
        colors=["black"],
        linewidths=0.8,
        linestyles="--",
    )
    ax.plot([], [], "k--", lw=0.8, label="scipy:RK45's boundary, for comparison")
    ax.legend(loc="upper left", fontsize=8)


def _fit_view(ax, grid: xr.DataArray, z: np.ndarray) -> None:
    """Show the whole region; widen symmetrically (symlog) for far h·λ."""
    extent = float(np.abs(grid["im"]).max())
    reach = float(np.abs(z).max()) if z.size else 0.0
    if reach <= 3 * extent:
        ax.set_aspect("equal", adjustable="datalim")
        return
    ax.set_xscale("symlog", linthresh=extent)
    ax.set_yscale("symlog", linthresh=extent)
    ax.set_xlim(
        min(-extent, 2 * float(z.real.min())), max(extent, 2 * float(z.real.max()))
    )
    height = max(extent, 2 * float(np.abs(z.imag).max()))
    ax.set_ylim(-height, height)
