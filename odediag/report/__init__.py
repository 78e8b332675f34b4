"""Stiffness reports: text, JSON and self-contained HTML with figures."""

from odediag.report._figures import (
    FIGURES,
    figure_error_ratio,
    figure_h_lambda,
    figure_spectrum,
    figure_step_size,
    render_figures,
    write_figures,
)
from odediag.report._html import report_html
from odediag.report._report import FORMATS, stiffness_report
from odediag.report._text import report_json, report_text

__all__ = [
    "FIGURES",
    "FORMATS",
    "figure_error_ratio",
    "figure_h_lambda",
    "figure_spectrum",
    "figure_step_size",
    "render_figures",
    "report_html",
    "report_json",
    "report_text",
    "stiffness_report",
    "write_figures",
]
