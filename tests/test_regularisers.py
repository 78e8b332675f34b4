"""Jacobian and kinetic penalties: values, gradients, estimators, solver coupling."""

import math

import pytest
import torch

from odediag import OdediagInputError
from odediag.models import (
    ModelConfig,
    NeuralODEClassifier,
    PenalisedDynamics,
    Regulariser,
    condition_penalty,
    frobenius_penalty,
    hutchinson_frobenius,
    power_iteration_spectral,
    simpson_weights,
    spectral_penalty,
)


def brute_force(name, J):
    """The penalty from an SVD of each matrix."""
    sigma = torch.linalg.svdvals(J)
    if name == "frobenius":
        return sigma.square().sum(-1)
    if name == "spectral":
        return sigma[..., 0].square()
    return (1 - sigma[..., -1] / sigma[..., 0]).square()


PENALTIES = {
    "frobenius": frobenius_penalty,
    "spectral": spectral_penalty,
    "condition": condition_penalty,
}


@pytest.mark.parametrize("name", PENALTIES)
@pytest.mark.parametrize("d", [2, 3, 5])
def test_penalty_equals_svd_brute_force(name, d):
    torch.manual_seed(d)
    J = torch.randn(200, d, d, dtype=torch.float64)
    torch.testing.assert_close(
        PENALTIES[name](J), brute_force(name, J), rtol=1e-6, atol=0
    )


@pytest.mark.parametrize("name", PENALTIES)
@pytest.mark.parametrize("d", [2, 3])
def test_penalty_passes_gradcheck(name, d):
    torch.manual_seed(10 + d)
    J = torch.randn(4, d, d, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(PENALTIES[name], (J,))


def near_repeated(d, gap):
    """Matrices Q diag(2, 2 + gap, ...) Rᵀ: the top singular values nearly meet."""
    torch.manual_seed(d)
    Q = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))[0]
    R = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))[0]
    sigma = torch.full((d,), 2.0, dtype=torch.float64)
    sigma[0] += gap
    return (Q * sigma) @ R.T


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("gap", [0.0, 1e-12, 1e-8, 1e-4])
def test_condition_gradient_is_finite_at_repeated_singular_values(d, gap):
    J = near_repeated(d, gap).requires_grad_(True)
    condition_penalty(J.unsqueeze(0)).sum().backward()
    assert torch.isfinite(J.grad).all()
    # (1 - 1/κ)² has a minimum where all σ meet: the gradient vanishes there.
    assert J.grad.abs().max() < 1e-3


def test_condition_gradient_is_finite_for_a_singular_matrix():
    J = torch.tensor([[[1.0, 2.0], [2.0, 4.0]]], dtype=torch.float64)
    J.requires_grad_(True)
    condition_penalty(J).sum().backward()
    assert torch.isfinite(J.grad).all()


def small_model(dim=2):
    torch.manual_seed(0)
    config = ModelConfig(width=8, augment=dim - 2)
    return NeuralODEClassifier(config).double()


@pytest.mark.parametrize("name", ["frobenius", "spectral", "condition", "kinetic"])
def test_field_penalty_equals_brute_force_along_states(name):
    model = small_model(dim=3)
    field = PenalisedDynamics(model.dynamics, Regulariser(name))
    h, t = torch.randn(6, 3, dtype=torch.float64), torch.tensor(0.4).double()
    f, penalty = field.field_and_penalty(t, h)
    if name == "kinetic":
        expected = model.dynamics(t, h).square().sum(-1)
    else:
        J = torch.stack(
            [
                torch.autograd.functional.jacobian(lambda x: model.dynamics(t, x), y)
                for y in h
            ]
        )
        expected = brute_force(name, J)
    torch.testing.assert_close(penalty, expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", ["frobenius", "spectral", "condition", "kinetic"])
def test_field_penalty_gradient_passes_gradcheck(name):
    model = small_model()
    field = PenalisedDynamics(model.dynamics, Regulariser(name))
    weight = model.dynamics.hidden[1].weight.detach().clone().requires_grad_(True)
    state = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)

    def augmented_field(state, weight):
        params = {"dynamics.hidden.1.weight": weight}
        t = torch.tensor(0.5, dtype=torch.float64)
        return torch.func.functional_call(field, params, (t, state))

    assert torch.autograd.gradcheck(augmented_field, (state, weight))


def test_hutchinson_estimate_is_unbiased():
    model = small_model(dim=3)
    h, t = torch.randn(1, 3).double().expand(20_000, 3), torch.tensor(0.0).double()
    generator = torch.Generator().manual_seed(0)
    noise = (2 * torch.randint(0, 2, (20_000, 3), generator=generator) - 1).double()
    _, estimates = hutchinson_frobenius(model.dynamics, t, h, noise)
    exact = frobenius_penalty(model.dynamics.jacobian(t, h[:1])[1])
    standard_error = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - exact) < 4 * standard_error


def test_power_iteration_converges_to_the_spectral_penalty():
    model = small_model(dim=3)
    h, t = torch.randn(5, 3).double(), torch.tensor(0.0).double()
    start = torch.ones(5, 3, dtype=torch.float64)
    _, estimate = power_iteration_spectral(model.dynamics, t, h, start, 200)
    exact = spectral_penalty(model.dynamics.jacobian(t, h)[1])
    torch.testing.assert_close(estimate, exact, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "name, estimator", [("bogus", "exact"), ("condition", "power"), ("none", "power")]
)
def test_unknown_regulariser_or_estimator_is_an_input_error(name, estimator):
    with pytest.raises(OdediagInputError):
        Regulariser(name, estimator)


@pytest.mark.parametrize("integration, n_nodes", [("trapezoid", 9), ("nodes", 4)])
def test_bad_integration_settings_are_input_errors(integration, n_nodes):
    with pytest.raises(OdediagInputError):
        Regulariser("kinetic", integration=integration, n_nodes=n_nodes)


@pytest.mark.parametrize("name", ["frobenius", "spectral", "condition", "kinetic"])
def test_penalty_column_does_not_change_the_solver_steps(name):
    model = small_model()
    x = torch.randn(16, 2, dtype=torch.float64) * 2
    _, plain = model(x)
    field = PenalisedDynamics(model.dynamics, Regulariser(name))
    _, penalty, penalised = model.penalised(x, field)
    assert penalised.nfe == plain.nfe
    assert penalised.n_accepted == plain.n_accepted
    assert (penalty > 0).all()


def test_simpson_weights_integrate_cubics_exactly():
    times = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    integral = (simpson_weights(times) * (times**3 - times)).sum()
    assert integral.item() == pytest.approx(2.0**4 / 4 - 2.0**2 / 2)


@pytest.mark.parametrize("name", ["frobenius", "kinetic"])
def test_node_integration_agrees_with_state_integration(name):
    model = small_model()
    x = torch.randn(8, 2, dtype=torch.float64)
    state = PenalisedDynamics(model.dynamics, Regulariser(name))
    nodes = PenalisedDynamics(
        model.dynamics, Regulariser(name, integration="nodes", n_nodes=9)
    )
    _, by_state, _ = model.penalised(x, state)
    _, by_nodes, _ = model.penalised(x, nodes)
    torch.testing.assert_close(by_nodes, by_state, rtol=1e-2, atol=1e-4)
