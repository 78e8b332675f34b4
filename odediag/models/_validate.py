"""Checks of configuration values, each failing with a one-line input error."""

from __future__ import annotations

import math
import numbers

from odediag._errors import invalid


def check_integer(name: str, value: object) -> None:
    """Raise unless ``value`` is an integer (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(name, value, "give a whole number")


def check_number(name: str, value: object, low: float, fix: str) -> None:
    """Raise unless ``value`` is a finite real number of at least ``low``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not value >= low
    ):
        raise invalid(name, value, fix)


def check_positive(name: str, value: object, fix: str) -> None:
    """Raise unless ``value`` is a finite real number above 0."""
    check_number(name, value, 0, fix)
    if not value > 0:
        raise invalid(name, value, fix)
