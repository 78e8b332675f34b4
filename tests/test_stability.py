"""Stability functions and regions against published values and the solvers."""

import math

import numpy as np
import pytest
import scipy.integrate
import torch
import torchdiffeq

from odediag import OdediagInputError
from odediag.stability import (
    ButcherTableau,
    MultistepRegion,
    butcher_tableau,
    method_names,
    region_grid,
    rooted_trees,
    stability_boundary,
    stability_region,
)

RUNGE_KUTTA = [m for m in method_names() if m not in ("scipy:BDF", "scipy:LSODA")]
EXPLICIT = [m for m in RUNGE_KUTTA if m != "scipy:Radau"]


# Negative real axis: Hairer & Wanner (1996), Fig. IV.2.1 and the stiffness
# thresholds of DOPRI5 (3.25) and DOP853 (6.1); rk4's 2.785 is the classical
# fourth-order polynomial's; dopri8 is our own measurement of torchdiffeq's
# 13-stage Prince–Dormand tableau.
@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("dopri5", 3.3066),
        ("scipy:RK45", 3.3066),
        ("bosh3", 2.5127),
        ("scipy:RK23", 2.5127),
        ("heun3", 2.5127),
        ("scipy:DOP853", 6.3937),
        ("dopri8", 5.1666),
        ("euler", 2.0),
        ("midpoint", 2.0),
        ("heun2", 2.0),
        ("adaptive_heun", 2.0),
        ("rk4", 2.7853),
    ],
)
def test_negative_real_boundary_matches_published_value(method, expected):
    assert stability_boundary(method, np.pi) == pytest.approx(expected, abs=2e-4)


def test_rk4_reaches_two_root_two_on_the_imaginary_axis():
    assert stability_boundary("rk4", np.pi / 2) == pytest.approx(2 * math.sqrt(2))


@pytest.mark.parametrize("method", EXPLICIT)
def test_boundary_points_have_unit_amplification(method):
    region = stability_region(method)
    theta = np.linspace(np.pi / 2 + 0.05, np.pi, 7)
    z = region.boundary(theta, exact=True) * np.exp(1j * theta)
    assert region.amplification(z) == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("method", EXPLICIT)
def test_boundary_table_agrees_with_exact_bisection(method):
    region = stability_region(method)
    theta = np.random.default_rng(0).uniform(np.pi / 2, 3 * np.pi / 2, 50)
    table, exact = region.boundary(theta), region.boundary(theta, exact=True)
    assert np.median(np.abs(table - exact) / exact) < 1e-5


@pytest.mark.parametrize("method", EXPLICIT)
def test_right_half_plane_rays_leave_at_once(method):
    assert stability_boundary(method, np.array([0.0, 1.0, -1.0])) == pytest.approx(0)


@pytest.mark.parametrize("method", RUNGE_KUTTA)
def test_stability_function_matches_exp_to_the_method_order(method):
    """|R(z) − e^z| = O(|z|^{p+1}): halving z divides the error by ≥ 2^{p+1}.

    Only "at least": dopri8's z⁹ coefficient is within 0.2 % of 1/9!, so on
    linear problems it behaves almost as a ninth-order method.
    """
    tableau = butcher_tableau(method)
    z = 0.3 * np.exp(0.7j * np.pi)
    errors = [abs(tableau.stability_function(w) - np.exp(w)) for w in (z, z / 2)]
    assert math.log2(errors[0] / errors[1]) > tableau.order + 1 - 0.4


@pytest.mark.parametrize("method", EXPLICIT)
def test_stability_polynomial_is_the_taylor_polynomial_up_to_the_order(method):
    tableau = butcher_tableau(method)
    coefficients = tableau.stability_polynomial()[::-1]
    taylor = [1 / math.factorial(k) for k in range(tableau.order + 1)]
    assert coefficients[: tableau.order + 1] == pytest.approx(taylor, rel=1e-12)


def _one_torchdiffeq_step(method: str, z: float) -> float:
    """y(1) after one step of size 1 on y' = z y, y(0) = 1."""
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    y0 = torch.ones(1, dtype=torch.float64)
    if method in ("euler", "midpoint", "heun2", "heun3", "rk4"):
        kwargs = {"options": {"step_size": 1.0}}
    else:  # tolerances so loose that the first step is accepted
        kwargs = {"rtol": 1e6, "atol": 1e6, "options": {"first_step": 1.0}}
    solution = torchdiffeq.odeint(lambda t, y: z * y, y0, t, method=method, **kwargs)
    return float(solution[-1, 0])


@pytest.mark.parametrize(
    "method",
    ["dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun"]
    + ["euler", "midpoint", "heun2", "heun3", "rk4"],
)
def test_stability_function_is_what_torchdiffeq_steps(method):
    z = -1.7
    expected = butcher_tableau(method).stability_function(z).real
    assert _one_torchdiffeq_step(method, z) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("method", ["RK23", "RK45", "DOP853"])
def test_stability_function_is_what_scipy_steps(method):
    z = -1.7
    solver = getattr(scipy.integrate, method)(
        lambda t, y: z * y, 0.0, np.ones(1), 1.0, first_step=1.0, rtol=1e6, atol=1e6
    )
    solver.step()
    expected = butcher_tableau(method).stability_function(z).real
    assert solver.y[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("order", "count"), enumerate([1, 1, 2, 4, 9, 20, 48, 115], 1))
def test_rooted_tree_counts_follow_oeis_a000081(order, count):
    assert len(rooted_trees(order)) == count


def test_tableau_claiming_too_high_an_order_is_refused():
    with pytest.raises(AssertionError, match="order-2 condition"):
        ButcherTableau("euler", [[0.0]], [1.0], [0.0], order=2)


def test_radau_iia_is_a_stable():
    grid = region_grid("scipy:Radau", extent=50, points=101)
    left = grid.sel(re=slice(None, 0))
    assert float(left.max()) <= 1 + 1e-12


@pytest.mark.parametrize("method", ["scipy:Radau", "scipy:BDF", "scipy:LSODA"])
def test_implicit_methods_are_never_limited_on_the_negative_real_axis(method):
    region = stability_region(method, order=5, lsoda_method="bdf")
    assert np.isinf(region.boundary(np.pi))


# Hairer & Wanner (1996), Table V.2.1.
@pytest.mark.parametrize(
    ("order", "alpha_degrees"),
    [(1, 90.0), (2, 90.0), (3, 86.03), (4, 73.35), (5, 51.84)],
)
def test_bdf_alpha_matches_hairer_wanner(order, alpha_degrees):
    region = stability_region("scipy:LSODA", order=order, lsoda_method="bdf")
    assert math.degrees(region.alpha) == pytest.approx(alpha_degrees, abs=0.01)


# Shampine & Reichelt (1997), Table 1 (rounded to degrees there).
@pytest.mark.parametrize(
    ("order", "alpha_degrees"), [(1, 90), (2, 90), (3, 80), (4, 66), (5, 51)]
)
def test_scipy_bdf_alpha_matches_shampine_reichelt_ndf(order, alpha_degrees):
    region = stability_region("scipy:BDF", order=order)
    assert math.degrees(region.alpha) == pytest.approx(alpha_degrees, abs=1.0)


def test_bdf3_is_unstable_just_left_of_the_imaginary_axis():
    region = MultistepRegion("bdf3", 3)
    theta = np.pi / 2 + 0.5 * (np.pi / 2 - region.alpha)
    assert 0 < region.boundary(theta, exact=True) < 1


@pytest.mark.parametrize(
    ("method", "order", "match"),
    [
        ("rk5", None, "invalid method 'rk5'"),
        ("scipy:BDF", None, "invalid order None"),
        ("scipy:BDF", 6, "invalid order 6"),
        ("scipy:LSODA", 2, "invalid lsoda_method None"),
    ],
)
def test_unknown_method_or_order_is_a_user_error(method, order, match):
    with pytest.raises(OdediagInputError, match=match):
        stability_region(method, order)


def test_region_grid_contains_the_negative_real_boundary():
    grid = region_grid("dopri5", points=201)
    on_axis = grid.sel(im=0, method="nearest")
    inside = on_axis["re"].values[on_axis.values <= 1]
    assert inside.min() == pytest.approx(-3.3066, abs=0.05)
