"""One entry point: a trace in, the report in the requested format out."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from odediag._errors import invalid
from odediag.report._figures import render_figures
from odediag.report._html import report_html, write_html
from odediag.report._text import report_json, report_text
from odediag.stiffness import STABILITY_THRESHOLD, analyse

FORMATS = ("text", "json", "html")


def stiffness_report(
    trace: xr.Dataset,
    output_dir: str | Path | None = None,
    format: str = "text",
    threshold: float = STABILITY_THRESHOLD,
) -> str:
    """Analyse a trace and render its stiffness report.

    Parameters
    ----------
    trace
        A trace Dataset (``docs/trace-schema.md``).
    output_dir
        Where to write the figures as PNG (and ``report.html`` for the html
        format); an existing folder. None writes nothing except for html,
        which needs it.
    format
        ``"text"``, ``"json"`` or ``"html"``.
    threshold
        Fraction of the stability boundary marking a stability-limited step.

    Returns
    -------
    str
        The text or JSON report; for html, the path of the page written.

    Raises
    ------
    OdediagInputError
        For an unknown format, a missing folder, or html without a folder.
    """
    if format not in FORMATS:
        raise invalid("format", format, f"use one of {', '.join(FORMATS)}")
    directory = _directory(output_dir, format)
    verdict = analyse(trace, threshold)
    text = report_text(trace, verdict)
    pngs = render_figures(trace, verdict) if directory is not None else {}
    for name, png in pngs.items():
        (directory / f"{name}.png").write_bytes(png)
    if format == "json":
        return report_json(verdict)
    if format == "html":
        page = report_html(trace, verdict, text, pngs)
        return str(write_html(directory / "report.html", page))
    return text


def _directory(output_dir: str | Path | None, format: str) -> Path | None:
    if output_dir is None:
        if format == "html":
            raise invalid("output_dir", None, "the html report needs a folder to go in")
        return None
    directory = Path(output_dir)
    if not directory.is_dir():
        raise invalid(
            "output_dir", str(directory), "no such folder; create it or pick another"
        )
    return directory
