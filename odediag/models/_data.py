"""The two-moons classification data set used by the neural-ODE studies."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from odediag._errors import invalid
from odediag.models._validate import check_integer, check_number

# scikit-learn's random_state takes seeds of 32 bits.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class MoonsConfig:
    """How the two-moons data are drawn and split.

    Attributes
    ----------
    n_samples
        Points drawn in total, both moons together.
    noise
        Standard deviation of the Gaussian noise added to each coordinate.
    seed
        Seed of both the draw and the train/test split, so a configuration names
        exactly one data set.
    test_fraction
        Share of the points held out as the test set.
    """

    n_samples: int = 1000
    noise: float = 0.2
    seed: int = 0
    test_fraction: float = 0.3

    def __post_init__(self) -> None:
        check_integer("n_samples", self.n_samples)
        if self.n_samples < 10:
            raise invalid("n_samples", self.n_samples, "draw at least 10 points")
        check_number("noise", self.noise, 0, "use a finite noise level of 0 or more")
        check_integer("seed", self.seed)
        if not 0 <= self.seed <= MAX_SEED:
            raise invalid("seed", self.seed, f"use a seed from 0 to {MAX_SEED}")
        check_number("test_fraction", self.test_fraction, 0, "choose a share in (0, 1)")
        if not 0 < self.test_fraction < 1:
            raise invalid(
                "test_fraction", self.test_fraction, "choose a share between 0 and 1"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dictionary, for checkpoints and dataset attributes."""
        return asdict(self)


@dataclass(frozen=True)
class MoonsData:
    """Train and test split of the two moons, as float32 tensors.

    Attributes
    ----------
    x_train, x_test
        Points, shape (n, 2).
    y_train, y_test
        Class labels 0 or 1, shape (n,), int64.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def moons_data(config: MoonsConfig | None = None) -> MoonsData:
    """Draw the two-moons data set and split it into train and test sets.

    Parameters
    ----------
    config
        Size, noise, seed and test share; the defaults of :class:`MoonsConfig`
        when omitted.

    Returns
    -------
    MoonsData
        The same tensors for the same configuration, on every machine.

    References
    ----------
    The data set is scikit-learn's ``make_moons``; Josias and Brink (2022) use
    two intertwining moons for their regularisation study.
    """
    config = config or MoonsConfig()
    x, y = make_moons(
        n_samples=config.n_samples, noise=config.noise, random_state=config.seed
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=config.test_fraction, random_state=config.seed, stratify=y
    )
    return MoonsData(
        x_train=torch.as_tensor(x_train, dtype=torch.float32),
        y_train=torch.as_tensor(y_train, dtype=torch.int64),
        x_test=torch.as_tensor(x_test, dtype=torch.float32),
        y_test=torch.as_tensor(y_test, dtype=torch.int64),
    )
