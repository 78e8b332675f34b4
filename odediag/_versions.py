"""Versions of odediag and the numerical libraries, stored in every trace."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def versions() -> dict[str, str]:
    """``{"odediag_version": ..., "torch_version": ..., ...}``."""
    found = {}
    for package in ("odediag", "torch", "torchdiffeq", "scipy", "numpy", "xarray"):
        try:
            found[f"{package}_version"] = version(package)
        except PackageNotFoundError:
            found[f"{package}_version"] = "not installed"
    return found
