"""Neural-ODE classifiers of the two moons and the regularisers of their field."""

from odediag.models._checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    checkpoint_problem,
    checkpoint_test_points,
    default_model_path,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from odediag.models._classifier import METHODS, ModelConfig, NeuralODEClassifier
from odediag.models._data import MoonsConfig, MoonsData, moons_data
from odediag.models._dynamics import ACTIVATIONS, MLPDynamics
from odediag.models._estimators import hutchinson_frobenius, power_iteration_spectral
from odediag.models._penalties import (
    condition_penalty,
    frobenius_penalty,
    spectral_penalty,
)
from odediag.models._regularisers import (
    ESTIMATORS,
    INTEGRATIONS,
    REGULARISERS,
    PenalisedDynamics,
    Regulariser,
    model_state_norm,
    simpson_weights,
    validate_regulariser,
)
from odediag.models._solve import solver_backend

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "ACTIVATIONS",
    "ESTIMATORS",
    "INTEGRATIONS",
    "METHODS",
    "REGULARISERS",
    "MLPDynamics",
    "ModelConfig",
    "MoonsConfig",
    "MoonsData",
    "NeuralODEClassifier",
    "PenalisedDynamics",
    "Regulariser",
    "checkpoint_problem",
    "condition_penalty",
    "default_model_path",
    "frobenius_penalty",
    "hutchinson_frobenius",
    "load_checkpoint",
    "load_model",
    "model_state_norm",
    "moons_data",
    "power_iteration_spectral",
    "save_checkpoint",
    "simpson_weights",
    "solver_backend",
    "spectral_penalty",
    "checkpoint_test_points",
    "validate_regulariser",
]
