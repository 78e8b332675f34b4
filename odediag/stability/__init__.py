"""Stability functions and regions of the methods odediag traces."""

from odediag.stability._grid import region_grid, stability_boundary
from odediag.stability._methods import (
    butcher_tableau,
    canonical_name,
    method_names,
    stability_region,
)
from odediag.stability._region import (
    AbstractStabilityRegion,
    MultistepRegion,
    RungeKuttaRegion,
)
from odediag.stability._tableau import ButcherTableau, rooted_trees

__all__ = [
    "AbstractStabilityRegion",
    "ButcherTableau",
    "MultistepRegion",
    "RungeKuttaRegion",
    "butcher_tableau",
    "canonical_name",
    "method_names",
    "region_grid",
    "rooted_trees",
    "stability_boundary",
    "stability_region",
]
