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
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from odediag.stability import region_grid, stability_region
from odediag.stiffness import StiffnessVerdict, h_lambda, stability_margin
from odediag.stiffness._margin import has_spectrum, is_known_method, step_region
from odediag.stiffness._verdict import GROWING_REAL_PART

_ACCEPTED = "#1f77b4"
_REJECTED = "#d62728"
_STIFF = "#ffbf00"
_REGION = "#cfe3f3"
_DPI = 110

# A log t-axis is chosen when half the accepted steps lie in the first
# LOG_TIME_CROWDING of the span and the span covers LOG_TIME_DECADES or more
# decades of the first positive step time. Robertson's problem (steps growing
# geometrically over 15 decades) needs it; a relaxation oscillation over
# [0, 300] whose steps spread over the span does not, and a log axis would
# squeeze its cycles into the right edge.
LOG_TIME_CROWDING = 1e-2
LOG_TIME_DECADES = 3

# At most this many decade ticks on each side of a symlog axis; more overlap.
SYMLOG_TICKS = 6


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
    if (~accepted).any():
        ax.plot(
            t[~accepted],
            h[~accepted],
            "x",
            ms=4,
            color=_REJECTED,
            label="rejected step",
        )
    ax.set_yscale("log")
    shown = h[np.isfinite(t) & (h > 0)]
    if shown.size:  # keep the huge stable steps of non-stiff stretches in view
        ax.set_ylim(shown.min() / 3, shown.max() * 10)
    _draw_stable_step(ax, trace, t, accepted)
    _time_axis(ax, trace)
    ax.set_ylabel("step size h (time units)")
    ax.set_title(f"Step sizes of {verdict.method} on {verdict.problem}")
    _legend(ax)
    return fig


def _draw_stable_step(ax, trace: xr.Dataset, t: np.ndarray, accepted) -> None:
    """The largest stable step where it falls in view; else say where it is."""
    h_stable = _largest_stable_step(trace)
    if h_stable is None or not np.isfinite(h_stable[accepted]).any():
        return
    low, high = ax.get_ylim()
    values = h_stable[accepted]
    if ((values >= low) & (values <= high)).any():
        ax.plot(
            t[accepted],
            values,
            "--",
            lw=0.8,
            color="black",
            label="largest stable step (from the spectrum)",
        )
        return
    smallest, largest = float(np.nanmin(values)), float(np.nanmax(values))
    where = f"≥ {smallest:.3g}" if smallest > high else f"≤ {largest:.3g}"
    ax.text(
        0.01,
        0.02,
        f"largest stable step (from the spectrum): {where}, outside this range",
        transform=ax.transAxes,
        fontsize=8,
    )


def _largest_stable_step(trace: xr.Dataset) -> np.ndarray | None:
    """h divided by the stability margin per step; NaN without decaying modes."""
    if not has_spectrum(trace) or step_region(trace) is None:
        return None
    margin = stability_margin(trace).max("sample").values
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(margin > 0, trace["h"].values / margin, np.nan)


def figure_h_lambda(trace: xr.Dataset, verdict: StiffnessVerdict) -> Figure | None:
    """h·λ of every eigenvalue at accepted steps over the stability region.

    Returns None without a spectrum or without a finite h·λ (every step
    rejected, or no step size recorded). For methods of varying order (BDF)
    the region of the most used order is drawn; for a method whose region
    odediag does not know, scipy:RK45's, and the title says so.
    """
    if not has_spectrum(trace):
        return None
    accepted = trace["accepted"].values.astype(bool)
    z = h_lambda(trace).values[accepted]
    keep = np.isfinite(z)
    if not keep.any():
        return None
    times = np.broadcast_to(trace["t"].values[accepted][:, None, None], z.shape)
    fig, ax = _figure(size=(6.4, 5.4))
    region_method, order = _drawn_region(trace, verdict)
    grid = region_grid(region_method, order=order, points=201)
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
    points = _scatter_modes(ax, z, times, keep, trace)
    bar = fig.colorbar(points, ax=ax, label=_time_label(trace, "t at the step"))
    if isinstance(points.norm, SymLogNorm):
        limits = (points.norm.vmin, points.norm.vmax)
        bar.set_ticks(_symlog_ticks(points.norm.linthresh, limits))
    _fit_view(ax, grid, z[keep])
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Re(h·λ)")
    ax.set_ylabel("Im(h·λ)")
    label = region_method if order is None else f"{region_method}, order {order}"
    if not is_known_method(trace):
        label += f" (that of {verdict.method!r} is unknown)"
    ax.set_title(
        f"h·λ at accepted steps over the stability region of {label}\n"
        "(shaded: |R(h·λ)| ≤ 1)",
        fontsize=10,
    )
    _legend(ax, loc="upper left")
    return fig


def _scatter_modes(ax, z, times, keep, trace: xr.Dataset):
    """h·λ coloured by t; growing modes (Re λ > 0) as triangles when present."""
    scale = np.where(keep, np.abs(z), 0.0).max(axis=(1, 2), keepdims=True)
    growing = keep & (z.real > GROWING_REAL_PART * scale)
    norm = _time_norm(trace, times[keep])
    style = {"s": 6, "cmap": "viridis", "norm": norm, "zorder": 3}
    if not growing.any():
        return ax.scatter(z[keep].real, z[keep].imag, c=times[keep], **style)
    other = keep & ~growing
    points = ax.scatter(
        z[other].real,
        z[other].imag,
        c=times[other],
        label="decaying or neutral modes (Re λ ≤ 0)",
        **style,
    )
    growing_points = ax.scatter(
        z[growing].real,
        z[growing].imag,
        c=times[growing],
        marker="^",
        label="growing modes (Re λ > 0): the flow expands;\n"
        "limited by accuracy, not stability",
        **(style | {"s": 12}),
    )
    return points if other.any() else growing_points


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
        ("stiffness_ratio", "stiffness ratio\nfastest decay rate /\nslowest rate"),
        ("condition_number", "condition number\nσmax/σmin of ∂f/∂y"),
    ]
    for ax, (name, label) in zip(axes, rows, strict=True):
        _shade(ax, verdict)
        values = trace[name].max("sample").values[accepted]
        finite = np.isfinite(values) & (values > 0)
        ax.plot(t[finite], values[finite], lw=0.9, color=_ACCEPTED)
        if finite.any():
            ax.set_yscale("log")
        else:
            _say_empty(ax, values)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    _time_axis(axes[-1], trace)
    axes[0].set_title("Jacobian ∂f/∂y along the solve (largest over samples)")
    return fig


def _say_empty(ax, values: np.ndarray) -> None:
    """Write into an empty panel why nothing is drawn."""
    why = "infinite (∂f/∂y singular)" if np.isinf(values).any() else "undefined"
    ax.text(
        0.5,
        0.5,
        f"nothing to draw: {why} at every accepted step",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
    )
    ax.set_yticks([])


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
    if (~accepted & positive).any():
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
    _legend(ax)
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


def _legend(ax, loc: str = "best") -> None:
    """A legend of the labelled artists, none when nothing labelled was drawn."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc=loc, fontsize=8)


def _log_time_threshold(trace: xr.Dataset) -> float | None:
    """First positive step time when t needs a log axis, else None (linear).

    Log only when half the accepted steps crowd into the first
    :data:`LOG_TIME_CROWDING` of the span and the span covers
    :data:`LOG_TIME_DECADES` decades or more of the first positive time.
    """
    t = trace["t"].values
    accepted = trace["accepted"].values.astype(bool)
    positive = t[t > 0]
    if not positive.size or t.min() < 0 or not accepted.any():
        return None
    first, last = float(positive.min()), float(t.max())
    crowded = np.median(t[accepted]) < LOG_TIME_CROWDING * last
    wide = last / first >= 10.0**LOG_TIME_DECADES
    return first if crowded and wide else None


def _times(trace: xr.Dataset) -> np.ndarray:
    return trace["t"].values.astype(np.float64)


def _time_axis(ax, trace: xr.Dataset) -> None:
    """Linear t-axis, or symlog whose linear stretch [0, t₁] keeps t = 0 in view."""
    threshold = _log_time_threshold(trace)
    if threshold is not None:
        ax.set_xscale("symlog", linthresh=threshold, linscale=0.3)
        ax.set_xlim(left=0)
        _thin_symlog_ticks(ax.xaxis, threshold, ax.get_xlim())
    ax.set_xlabel(_time_label(trace, "t (time units)"))


def _time_label(trace: xr.Dataset, label: str) -> str:
    threshold = _log_time_threshold(trace)
    if threshold is None:
        return label
    return f"{label}; log scale, linear on [0, {threshold:.2g}]"


def _time_norm(trace: xr.Dataset, times: np.ndarray) -> Normalize:
    """Colour scale of t: linear, or symlog as the t-axis would be."""
    low = float(times.min()) if times.size else 0.0
    high = float(times.max()) if times.size else 1.0
    threshold = _log_time_threshold(trace)
    if threshold is None:
        return Normalize(low, high)
    return SymLogNorm(threshold, linscale=0.3, vmin=low, vmax=high)


def _thin_symlog_ticks(axis, threshold: float, limits) -> None:
    """Thin a symlog axis to the ticks of :func:`_symlog_ticks`, minor ones off."""
    ticks = _symlog_ticks(threshold, limits)
    if ticks:
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_minor_locator(NullLocator())


def _symlog_ticks(threshold: float, limits) -> list[float]:
    """0 and decades ±10^k beyond ``threshold``, at most SYMLOG_TICKS a side.

    Every decade gets a tick by default, and their labels run into each
    other once the data span ten decades or more.
    """
    low, high = float(limits[0]), float(limits[1])
    reach = max(abs(low), abs(high))
    if reach <= threshold:
        return []
    decades = np.arange(np.ceil(np.log10(threshold)), np.floor(np.log10(reach)) + 1)
    stride = max(int(np.ceil(decades.size / SYMLOG_TICKS)), 1)
    powers = [10.0**k for k in decades if k % stride == 0]
    ticks = [0.0] if low <= 0 <= high else []
    ticks += [x for x in powers if x <= high] + [-x for x in powers if -x >= low]
    return sorted(ticks)


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
    _thin_symlog_ticks(ax.xaxis, extent, ax.get_xlim())
    _thin_symlog_ticks(ax.yaxis, extent, ax.get_ylim())
