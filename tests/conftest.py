"""Shared fixtures: small neural dynamics and reproducible inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class MLPDynamics(nn.Module):
    """A small tanh MLP f(t, y), as in a neural ODE."""

    def __init__(self, dim: int = 2, width: int = 16, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(
            nn.Linear(dim, width), nn.Tanh(), nn.Linear(width, dim)
        )
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.8)

    def forward(self, t, y):
        return self.net(y)


@pytest.fixture(autouse=True)
def one_thread():
    # The tensors in these tests are tiny: intra-op threads only add
    # synchronisation, and on a shared two-core machine they can be slower
    # by orders of magnitude.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return MLPDynamics()


@pytest.fixture
def batch():
    return torch.randn(8, 2, generator=torch.Generator().manual_seed(1))
