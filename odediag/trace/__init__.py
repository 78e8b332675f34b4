"""Traces: the record of a solve, its xarray schema and its netCDF files."""

from odediag.trace._dataset import (
    REQUIRED,
    SCHEMA_VERSION,
    STATUSES,
    VARIABLES,
    build_dataset,
    check_trace,
    load_trace,
    save_trace,
)
from odediag.trace._log import StepLog
from odediag.trace._trace import BASE_COLUMNS, Trace

__all__ = [
    "BASE_COLUMNS",
    "REQUIRED",
    "SCHEMA_VERSION",
    "STATUSES",
    "VARIABLES",
    "StepLog",
    "Trace",
    "build_dataset",
    "check_trace",
    "load_trace",
    "save_trace",
]
