"""The trace as an xarray Dataset: schema, metadata, netCDF I/O and checks.

The schema is written out in ``docs/trace-schema.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from odediag._errors import OdediagInputError, invalid

SCHEMA_VERSION = 1

# name: (units, long_name). Units follow CF usage: "1" is dimensionless.
VARIABLES: dict[str, tuple[str, str]] = {
    "t": ("time", "start time of the attempted step"),
    "h": ("time", "size of the attempted step"),
    "accepted": ("1", "step accepted by the error controller"),
    "error_ratio": ("1", "scaled error norm compared with 1 by the controller"),
    "nfe": ("1", "cumulative function evaluations at the end of the attempt"),
    "hairer_h_lambda": ("1", "Hairer's estimate of h*|lambda| from the last stages"),
    "order": ("1", "order of the method in use"),
    "newton_iterations": ("1", "Newton iterations of the step"),
    "rejection_cause": ("", "why the step was rejected: error or newton"),
    "njev": ("1", "cumulative Jacobian evaluations"),
    "nlu": ("1", "cumulative LU decompositions"),
    "lsoda_method": ("", "method LSODA used for the step: adams or bdf"),
    "eig_real": ("1/time", "real part of an eigenvalue of the Jacobian df/dy"),
    "eig_imag": ("1/time", "imaginary part of an eigenvalue of the Jacobian df/dy"),
    "singular_value": ("1/time", "singular value of the Jacobian df/dy"),
    "condition_number": ("1", "condition number sigma_max/sigma_min of df/dy"),
    "spectral_radius": ("1/time", "spectral radius max|lambda| of df/dy"),
    "stiffness_ratio": (
        "1",
        "fastest decay rate max|Re lambda|, Re lambda < 0, over slowest min|Re lambda|",
    ),
    "h_spectral_radius": ("1", "step size times spectral radius"),
}

REQUIRED = ("t", "h", "accepted", "error_ratio", "nfe")
STATUSES = (
    "success",
    "max_steps",
    "step_underflow",
    "nonfinite",
    "failed",
    "interrupted",
)


def build_dataset(
    columns: Mapping[str, np.ndarray],
    spectrum: Mapping[str, np.ndarray] | None,
    spectrum_steps: np.ndarray | None,
    attrs: Mapping[str, Any],
) -> xr.Dataset:
    """Assemble a trace Dataset from step columns and spectral measures.

    Parameters
    ----------
    columns
        Per-step arrays, each of length ``n_step``.
    spectrum
        Measures from :meth:`odediag.spectrum.SpectrumLog.measures`, leading
        axis over ``spectrum_steps``; ``None`` or empty without spectrum.
    spectrum_steps
        Step index of each spectrum row.
    attrs
        Dataset attributes; values are made netCDF-safe here.
    """
    n_step = len(columns["t"])
    data = {name: ("step", values) for name, values in columns.items()}
    if spectrum:
        data.update(_spectrum_variables(spectrum, spectrum_steps, columns["h"], n_step))
    ds = xr.Dataset(data, coords={"step": np.arange(n_step)})
    for name, variable in ds.data_vars.items():
        units, long_name = VARIABLES.get(name, ("", name))
        variable.attrs.update(units=units, long_name=long_name)
    ds.attrs.update(_netcdf_safe(attrs))
    ds.attrs["odediag_trace"] = SCHEMA_VERSION
    return ds


def _spectrum_variables(spectrum, steps, h, n_step):
    n_sample, n_mode = spectrum["eig_real"].shape[1:]
    data = {}
    for name, values in spectrum.items():
        full = np.full((n_step, *values.shape[1:]), np.nan)
        full[steps] = values
        dims = ("step", "sample", "mode") if values.ndim == 3 else ("step", "sample")
        data[name] = (dims, full)
    h_rho = np.full((n_step, n_sample), np.nan)
    h_rho[steps] = h[steps, None] * spectrum["spectral_radius"]
    data["h_spectral_radius"] = (("step", "sample"), h_rho)
    return data


def _netcdf_safe(attrs: Mapping[str, Any]) -> dict[str, Any]:
    safe = {}
    for key, value in attrs.items():
        if value is None:
            value = ""
        elif isinstance(value, bool | np.bool_):
            value = int(value)
        elif isinstance(value, Mapping):
            value = repr(dict(value))
        elif not isinstance(value, str | int | float | np.integer | np.floating):
            array = np.asarray(value)
            value = array.item() if array.size == 1 else array.astype(float).ravel()
        safe[key] = value
    return safe


def save_trace(trace: Any, path: str | os.PathLike) -> Path:
    """Write a trace (a :class:`~odediag.Trace` or its Dataset) as netCDF4.

    Raises
    ------
    OdediagInputError
        When ``path`` cannot be written, naming the reason.
    """
    ds = trace if isinstance(trace, xr.Dataset) else trace.to_dataset()
    path = Path(path)
    if path.is_dir():
        raise invalid("output path", str(path), "it is a directory; give a file name")
    if not path.parent.exists():
        raise invalid(
            "output path", str(path), f"folder {path.parent} does not exist; create it"
        )
    try:
        ds.to_netcdf(path, engine="netcdf4")
    except (OSError, PermissionError) as error:
        raise invalid("output path", str(path), f"cannot write it ({error})") from None
    return path


def load_trace(path: str | os.PathLike) -> xr.Dataset:
    """Read a trace saved by odediag and check that it is one.

    Raises
    ------
    OdediagInputError
        For a missing file, a file that is not netCDF, a netCDF file that is
        not an odediag trace, or an empty trace.
    """
    if not isinstance(path, str | os.PathLike):
        raise invalid("trace file", path, "give the path of a netCDF trace")
    path = Path(path)
    if path.is_dir():
        raise invalid("trace file", str(path), "it is a directory; give a trace file")
    if not path.is_file():
        raise invalid("trace file", str(path), "no such file; check the path")
    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except Exception as error:  # the backends raise many types for bad files
        raise OdediagInputError(
            f"{path} is not a netCDF file that xarray can read "
            f"({type(error).__name__}); give a trace written by odediag"
        ) from None
    check_trace(ds, str(path))
    return ds


def check_trace(ds: xr.Dataset, name: str = "dataset") -> None:
    """Raise :class:`OdediagInputError` unless ``ds`` is a non-empty trace."""
    missing = [v for v in REQUIRED if v not in ds.variables]
    if "odediag_trace" not in ds.attrs or missing:
        what = (
            f"missing {', '.join(missing)}" if missing else "no odediag_trace attribute"
        )
        raise OdediagInputError(
            f"{name} is not an odediag trace ({what}); make one with `odediag trace`"
        )
    if ds.sizes.get("step", 0) == 0:
        raise OdediagInputError(
            f"{name} is an empty trace: the solver recorded no step "
            f"(status {ds.attrs.get('status', '?')}: {ds.attrs.get('message', '')})"
        )
