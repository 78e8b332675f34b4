"""Wall time of a traced SciPy solve against plain ``scipy.integrate.solve_ivp``.

Van der Pol with mu = 1000 (``vdpolm``): Radau over the whole span [0, 2000],
RK45 over a shortened span (the explicit method needs ~10^6 steps for all of
it). Both sides get the same ``fun`` and ``jac``: the problem's torch code
through :func:`odediag.solvers.problem_functions`, as the command line runs
it, and a hand-written NumPy version, whose cheaper evaluations make the
recording's share larger.

Runs alternate traced and plain solves and report the median of each,
which other load on a shared machine disturbs less than a single run. Wall time is the
measure; the CPU time of the process is printed beside it because on a
shared machine it varies less.

Usage::

    python benchmarks/bench_scipy_overhead.py [--repeats 9]
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


def median_times(method, span, fun, jac, repeats):
    """Median (wall, cpu) times of the plain and of the traced solve, and the trace."""
    y0 = np.array([2.0, 0.0])
    kwargs = {"rtol": RTOL, "atol": ATOL}
    if method == "Radau":
        kwargs["jac"] = jac
    plain, traced = [], []
    for _ in range(repeats):
        plain.append(_timed(scipy.integrate.solve_ivp, fun, span, y0, method, kwargs))
        traced.append(_timed(solve_ivp, fun, span, y0, method, kwargs))
    _, trace = solve_ivp(fun, span, y0, method=method, **kwargs)
    return np.median(plain, axis=0), np.median(traced, axis=0), trace


def _timed(solve, fun, span, y0, method, kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    solve(fun, span, y0, method=method, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    repeats = parser.parse_args().repeats
    functions = {"torch": problem_functions(vdpolm()), "numpy": numpy_vdpolm()}
    header = f"{'method':7} {'fun':6} {'t_end':>6} {'steps':>6} {'nfev':>6} "
    print(
        header + f"{'plain s':>8} {'traced s':>9} {'ratio':>6} "
        f"{'plain cpu':>10} {'traced cpu':>11} {'ratio':>6}"
    )
    for method, span in CASES:
        for label, (fun, jac) in functions.items():
            plain, traced, trace = median_times(method, span, fun, jac, repeats)
            print(
                f"{method:7} {label:6} {span[1]:6g} {trace.n_steps:6d} "
                f"{trace.nfe:6d} {plain[0]:8.3f} {traced[0]:9.3f} "
                f"{traced[0] / plain[0]:6.3f} {plain[1]:10.3f} {traced[1]:11.3f} "
                f"{traced[1] / plain[1]:6.3f}"
            )


if __name__ == "__main__":
    main()
