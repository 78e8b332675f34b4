"""Stiffness verdicts: which steps stability limited, and what that cost."""

from odediag.stiffness._margin import (
    HAIRER_STIFF_H_LAMBDA,
    STABILITY_THRESHOLD,
    h_lambda,
    h_lambda_margin,
    stability_limited,
    stability_margin,
)
from odediag.stiffness._patterns import (
    Interval,
    flagged_intervals,
    hairer_announcement,
    hairer_stiff_steps,
    longest_alternation,
)
from odediag.stiffness._verdict import StiffnessVerdict, analyse

__all__ = [
    "HAIRER_STIFF_H_LAMBDA",
    "STABILITY_THRESHOLD",
    "Interval",
    "StiffnessVerdict",
    "analyse",
    "flagged_intervals",
    "h_lambda",
    "h_lambda_margin",
    "hairer_announcement",
    "hairer_stiff_steps",
    "longest_alternation",
    "stability_limited",
    "stability_margin",
]
