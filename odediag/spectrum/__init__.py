"""Jacobians along a trajectory and the spectral measures taken from them."""

from odediag.spectrum._along import SpectrumLog
from odediag.spectrum._jacobian import batched_jacobian
from odediag.spectrum._measures import spectral_measures, stiffness_ratio

__all__ = ["SpectrumLog", "batched_jacobian", "spectral_measures", "stiffness_ratio"]
