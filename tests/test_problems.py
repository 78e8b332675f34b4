"""Built-in problems and the Problem type."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import odediag
from odediag.problems import builtin_names, builtin_problem, load_problem


@pytest.mark.parametrize("name", builtin_names())
def test_analytic_jacobian_equals_autograd_at_random_states(name):
    problem = builtin_problem(name)
    generator = torch.Generator().manual_seed(3)
    y = problem.y0 + torch.rand(
        (5, problem.dim), generator=generator, dtype=torch.float64
    )
    t = torch.tensor(0.3, dtype=torch.float64)
    analytic = problem.jac(t, y)
    for i in range(y.shape[0]):
        exact = torch.func.jacrev(lambda x: problem.f(t, x))(y[i])
        torch.testing.assert_close(analytic[i], exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", builtin_names())
def test_right_hand_side_accepts_single_and_batched_states(name):
    problem = builtin_problem(name)
    t = torch.tensor(0.0, dtype=torch.float64)
    single = problem.f(t, problem.y0)
    batched = problem.f(t, torch.stack([problem.y0, problem.y0]))
    assert single.shape == problem.y0.shape
    torch.testing.assert_close(batched[1], single)


@pytest.mark.parametrize("name", ["rober", "vdpol", "vdpolm"])
def test_test_set_problems_carry_reference_values(name):
    problem = builtin_problem(name)
    assert problem.stiff and problem.y_ref.shape == (problem.dim,)
    assert "Bari" in problem.reference


def test_linear_stiffness_ratio_is_eigenvalue_ratio():
    problem = builtin_problem("linear", eigenvalues="-2,-500")
    J = problem.jac(torch.tensor(0.0), problem.y0).numpy()
    assert odediag.spectral_measures(J)["stiffness_ratio"] == pytest.approx(250.0)
    assert problem.stiff


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y0": [math.nan]}, "finite"),
        ({"y0": []}, "at least one"),
        ({"t_span": (1.0, 1.0)}, "empty or decreasing"),
        ({"t_span": (0.0, math.inf)}, "finite"),
        ({"t_span": "soon"}, "T1 > T0"),
        ({"f": 3}, "callable"),
    ],
)
def test_problem_rejects_bad_definitions(kwargs, match):
    args = {"f": lambda t, y: -y, "y0": [1.0], "t_span": (0.0, 1.0)} | kwargs
    with pytest.raises(odediag.OdediagInputError, match=match):
        odediag.Problem(**args)


def test_load_problem_passes_params_to_callables(tmp_path):
    (tmp_path / "spring.py").write_text(
        "import odediag\n"
        "def spring(k=1.0):\n"
        "    return odediag.Problem(lambda t, y: -float(k) * y, [1.0], (0, 1))\n"
    )
    problem = load_problem(f"{tmp_path / 'spring.py'}:spring", {"k": "4"})
    out = problem.f(torch.tensor(0.0), torch.tensor([1.0], dtype=torch.float64))
    np.testing.assert_allclose(out.numpy(), [-4.0])


def test_load_problem_reports_import_errors_in_one_line(tmp_path):
    (tmp_path / "broken.py").write_text("raise ImportError('needs numba')\n")
    with pytest.raises(odediag.OdediagInputError, match="needs numba") as caught:
        load_problem(f"{tmp_path / 'broken.py'}:anything")
    assert "\n" not in str(caught.value)


def test_list_initial_state_becomes_float64_and_tensor_keeps_its_dtype():
    as_list = odediag.Problem(lambda t, y: -y, [1.0, 2.0], (0.0, 1.0))
    as_tensor = odediag.Problem(lambda t, y: -y, torch.ones(2), (0.0, 1.0))
    assert as_list.y0.dtype == torch.float64
    assert as_tensor.y0.dtype == torch.float32


def test_command_line_params_follow_the_factory_annotations(tmp_path):
    (tmp_path / "pend.py").write_text(
        "import odediag\n"
        "def pendulum(g: float = 9.81, n: int = 1, label='x'):\n"
        "    return odediag.Problem(lambda t, y: -y, [1.0], (0, 1),\n"
        "                           params={'g': g, 'n': n, 'label': label})\n"
    )
    spec = f"{tmp_path / 'pend.py'}:pendulum"
    problem = load_problem(spec, {"g": "1.62", "n": "3", "label": "moon"})
    assert problem.params == {"g": 1.62, "n": 3, "label": "moon"}
    with pytest.raises(odediag.OdediagInputError, match="must be a number"):
        load_problem(spec, {"g": "heavy"})
