"""A self-contained HTML stiffness report: text, numbers and inline PNG figures."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import xarray as xr

from odediag.stiffness import StiffnessVerdict

_CAPTIONS = {
    "step_size": "Step size against time. Red crosses are rejected attempts; "
    "shaded spans are the stiff intervals.",
    "h_lambda": "h·λ of every Jacobian eigenvalue at accepted steps, over the "
    "method's stability region.",
    "spectrum": "Spectral radius, stiffness ratio (fastest decay rate over slowest "
    "rate) and condition number of the Jacobian along the solve.",
    "error_ratio": "Scaled error estimate of each attempt; above 1 the step is "
    "rejected.",
}

_GROWING_CAPTION = (
    " Triangles are growing modes (Re λ > 0): the largest |λ| here are of this "
    "kind, the flow expands and separates trajectories. They lie outside the "
    "region, yet they are no stability problem for an explicit solver: the exact "
    "solution grows too, so they limit the step through accuracy only."
)


def _caption(name: str, verdict: StiffnessVerdict) -> str:
    caption = _CAPTIONS.get(name, name)
    if name == "h_lambda" and verdict.largest_modes_grow:
        caption += _GROWING_CAPTION
    return caption


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;color:#222}pre{background:#f6f6f6;padding:1rem;"
    "white-space:pre-wrap}figure{margin:1.5rem 0}img{max-width:100%}"
    "figcaption{font-size:.9rem;color:#555}"
)


def report_html(
    trace: xr.Dataset, verdict: StiffnessVerdict, text: str, pngs: dict[str, bytes]
) -> str:
    """The report as one HTML page with every figure embedded as base64 PNG.

    Parameters
    ----------
    trace
        The analysed trace (for the title).
    verdict
        Its verdict.
    text
        The plain-text report, shown verbatim.
    pngs
        Figure name to PNG bytes, from :func:`render_figures`.
    """
    title = f"Stiffness report: {verdict.method} on {verdict.problem}"
    figures = "\n".join(
        _figure(name, png, _caption(name, verdict)) for name, png in pngs.items()
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n"
        f"<pre>{html.escape(text)}</pre>\n{figures}\n"
        f"<p><small>odediag {html.escape(str(trace.attrs.get('odediag_version', '')))}"
        "</small></p></body></html>\n"
    )


def _figure(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    caption = html.escape(caption)
    return (
        f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def write_html(path: str | Path, page: str) -> Path:
    """Write ``page`` to ``path`` as UTF-8."""
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
