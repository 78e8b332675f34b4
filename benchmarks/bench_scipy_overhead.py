"""Wall time of a traced SciPy solve against plain ``scipy.integrate.solve_ivp``.

Van der Pol with mu = 1000 (``vdpolm``): Radau over the whole span [0, 2000],
RK45 over a shortened span (the explicit method needs ~10^6 steps for all of
it). Both sides get the same ``fun`` and ``jac``: the problem's torch code
through :func:`odediag.solvers.problem_functions`, as the command line runs
it, and a hand-written NumPy version, whose cheaper evaluations make the
recording's share larger.

Runs alternate traced and plain solves and keep the fastest of each, which
is the least disturbed by other load on the machine.

Usage::

    python benchmarks/bench_scipy_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.integrate

from odediag.problems import vdpolm
from odediag.solvers import problem_functions, solve_ivp

MU = 1000.0
RTOL, ATOL = 1e-6, 1e-8
CASES = (("RK45", (0.0, 3.0)), ("Radau", (0.0, 2000.0)))


def numpy_vdpolm():
    """Hand-written NumPy right-hand side and Jacobian of ``vdpolm``."""

    def fun(t, y):
        return np.array([y[1], MU * (1 - y[0] ** 2) * y[1] - y[0]])

    def jac(t, y):
        return np.array([[0.0, 1.0], [-2 * MU * y[0] * y[1] - 1, MU * (1 - y[0] ** 2)]])

    return fun, jac


def best_times(method, span, fun, jac, repeats):
    """Fastest wall time of the plain and of the traced solve, and the trace."""
    y0 = np.array([2.0, 0.0])
    kwargs = {"rtol": RTOL, "atol": ATOL}
    if method == "Radau":
        kwargs["jac"] = jac
    plain, traced = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        scipy.integrate.solve_ivp(fun, span, y0, method=method, **kwargs)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        _, trace = solve_ivp(fun, span, y0, method=method, **kwargs)
        traced.append(time.perf_counter() - start)
    return min(plain), min(traced), trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    functions = {"torch": problem_functions(vdpolm()), "numpy": numpy_vdpolm()}
    header = f"{'method':7} {'fun':6} {'t_end':>6} {'steps':>7} {'nfev':>8} "
    print(header + f"{'plain s':>9} {'traced s':>9} {'ratio':>6}")
    for method, span in CASES:
        for label, (fun, jac) in functions.items():
            plain, traced, trace = best_times(method, span, fun, jac, repeats)
            print(
                f"{method:7} {label:6} {span[1]:6g} {trace.n_steps:7d} "
                f"{trace.nfe:8d} {plain:9.3f} {traced:9.3f} {traced / plain:6.3f}"
            )


if __name__ == "__main__":
    main()
