"""Wall time of a regularised training iteration relative to an unregularised one.

Each variant runs forward solve + loss + backward on the same model and batch
(no optimiser step, so the number of function evaluations stays fixed and
the ratio measures the cost per evaluation). Variants take turns, repetition
by repetition, so a busy machine slows them alike; the median is reported.

    python benchmarks/bench_regularisers.py [--repeats 30] [--threads 1] [--naive]

Rows are regulariser/estimator/integration: ``state`` integrates the penalty
as an extra state column (a Jacobian at every stage of every step), ``nodes``
by Simpson's rule at 5 nodes of the dense output (one batched Jacobian),
the training default.

Goals at d = 2: Frobenius ≤ 1.5, spectral and condition ≤ 2 times the
unregularised iteration.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from odediag.models import (
    NeuralODEClassifier,
    PenalisedDynamics,
    Regulariser,
    frobenius_penalty,
    moons_data,
)

# (name, estimator, integration)
VARIANTS = [
    ("none", "exact", "state"),
    ("kinetic", "exact", "state"),
    ("frobenius", "exact", "state"),
    ("frobenius", "hutchinson", "state"),
    ("spectral", "exact", "state"),
    ("spectral", "power", "state"),
    ("condition", "exact", "state"),
    ("kinetic", "exact", "nodes"),
    ("frobenius", "exact", "nodes"),
    ("spectral", "exact", "nodes"),
    ("condition", "exact", "nodes"),
]


class NaiveField(torch.nn.Module):
    """Reference route: vmap of jacrev, then singular values from svdvals."""

    def __init__(self, dynamics, name: str):
        super().__init__()
        self.dynamics = dynamics
        self.name = name
        self.regulariser = Regulariser(name)

    def start_solve(self, h0):
        return torch.cat([h0, torch.zeros(len(h0), 1)], dim=-1)

    def forward(self, t, state):
        h = state[..., :-1]
        f = self.dynamics(t, h)

        def one(x):
            return self.dynamics(t, x.unsqueeze(0)).squeeze(0)

        J = torch.func.vmap(torch.func.jacrev(one))(h)
        sigma = torch.linalg.svdvals(J)
        if self.name == "frobenius":
            penalty = frobenius_penalty(J)
        elif self.name == "spectral":
            penalty = sigma[:, 0].square()
        else:
            penalty = (1 - sigma[:, -1] / sigma[:, 0]).square()
        return torch.cat([f, penalty.unsqueeze(-1)], dim=-1)


def iteration(model, field, x, y) -> tuple[float, int]:
    """Seconds and forward evaluations of one forward + backward pass."""
    model.zero_grad()
    start = time.perf_counter()
    if field is None:
        logits, trace = model(x)
        loss = F.cross_entropy(logits, y)
    else:
        logits, penalty, trace = model.penalised(x, field)
        loss = F.cross_entropy(logits, y) + 0.05 * penalty.mean()
    loss.backward()
    return time.perf_counter() - start, trace.nfe


def fields(model, naive: bool) -> dict[str, torch.nn.Module | None]:
    variants: dict[str, torch.nn.Module | None] = {}
    for name, estimator, integration in VARIANTS:
        label = f"{name}/{estimator}/{integration}" if name != "none" else name
        spec = Regulariser(name, estimator, integration=integration)
        variants[label] = (
            PenalisedDynamics(model.dynamics, spec) if spec.active else None
        )
    if naive:
        for name in ("frobenius", "spectral", "condition"):
            variants[f"{name}/vmap-svd/state"] = NaiveField(model.dynamics, name)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--naive", action="store_true", help="add vmap+svd rows")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = NeuralODEClassifier()
    data = moons_data()
    x, y = data.x_train[: args.batch_size], data.y_train[: args.batch_size]
    variants = fields(model, args.naive)
    times = {label: [] for label in variants}
    nfe = {}
    for repeat in range(args.repeats + 2):
        for label, field in variants.items():
            seconds, nfe[label] = iteration(model, field, x, y)
            if repeat >= 2:  # the first two are warm-up
                times[label].append(seconds)

    base = statistics.median(times["none"])
    print(
        f"d = {model.config.state_dim}, batch {args.batch_size}, "
        f"threads {args.threads}, median of {args.repeats}"
    )
    print(
        f"{'regulariser/estimator/integration':<34}{'ms/iter':>9}{'ratio':>8}{'nfe':>6}"
    )
    for label, samples in times.items():
        median = statistics.median(samples)
        print(f"{label:<34}{1e3 * median:9.2f}{median / base:8.2f}{nfe[label]:6d}")


if __name__ == "__main__":
    main()
