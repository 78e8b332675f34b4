"""Wall time of a traced solve over the plain torchdiffeq solve, side by side.

Cases: dopri5 on a 2-D neural ODE (tanh MLP, width 64) with a batch of 256,
spectrum off and on; dopri5 on Van der Pol (mu = 10). Each case alternates
plain and traced runs and reports the ratio of the medians.

    python benchmarks/bench_trace_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchdiffeq
from torch import nn

import odediag
from odediag.problems import vdp


def neural_case():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2)
    )

    def f(t, y):
        return net(y)

    y0 = torch.randn(256, 2)
    return f, y0, torch.tensor([0.0, 1.0]), dict(rtol=1e-5, atol=1e-6)


def vdp_case():
    p = vdp(mu=10.0)
    return (
        p.f,
        p.y0,
        torch.tensor([0.0, 30.0], dtype=torch.float64),
        dict(rtol=1e-6, atol=1e-8),
    )


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name, case, spectrum, repeats):
    f, y0, t, tol = case
    plain = lambda: torchdiffeq.odeint(f, y0, t, **tol)  # noqa: E731
    traced = lambda: odediag.odeint(f, y0, t, spectrum=spectrum, **tol)  # noqa: E731
    with torch.no_grad():
        plain(), traced()  # warm up
        pairs = [(timed(plain), timed(traced)) for _ in range(repeats)]
        _, trace = traced()
    p = statistics.median(a for a, _ in pairs)
    q = statistics.median(b for _, b in pairs)
    print(
        f"{name:<34} {p * 1e3:9.1f} ms {q * 1e3:9.1f} ms {q / p:7.3f}   "
        f"(nfe {trace.nfe}, {trace.n_steps} steps)"
    )
    return q / p


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'case':<34} {'plain':>12} {'traced':>12} {'ratio':>7}")
    compare("neural ODE d=2 B=256, no spectrum", neural_case(), False, args.repeats)
    compare("Van der Pol mu=10, no spectrum", vdp_case(), False, args.repeats)
    compare("neural ODE d=2 B=256, spectrum", neural_case(), True, args.repeats)
    print("goals: <= 1.05 without spectrum, <= 1.5 with spectrum")


if __name__ == "__main__":
    main()
