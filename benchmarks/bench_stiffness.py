"""Wall time of the stiffness analysis and report on large synthetic traces.

A trace of N accepted steps with d eigenvalues per step (one sample) is built
with h·λ spread over the left half plane, so every ray needs a boundary. The
first call per method also builds that method's table of boundary radii;
it is timed separately.

    python benchmarks/bench_stiffness.py [--steps 100000] [--modes 4] [--figures]

Goal: analyse() of 100 000 steps × 4 modes under 2 s after the table is built,
so a report never costs more than the solve it describes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from odediag.stability import stability_region
from odediag.stiffness import analyse


def synthetic_trace(steps: int, modes: int, method: str) -> xr.Dataset:
    rng = np.random.default_rng(0)
    h = np.full(steps, 1e-3)
    radius = rng.uniform(0.1, 4.0, (steps, 1, modes)) / h[:, None, None]
    angle = rng.uniform(np.pi / 2, 3 * np.pi / 2, (steps, 1, modes))
    eig = radius * np.exp(1j * angle)
    accepted = rng.uniform(size=steps) > 0.2
    eig[~accepted] = np.nan
    rho = np.abs(eig).max(axis=-1)
    data = {
        "t": ("step", np.cumsum(h) - h),
        "h": ("step", h),
        "accepted": ("step", accepted),
        "error_ratio": ("step", rng.uniform(0.1, 2.0, steps)),
        "nfe": ("step", 2 + 6 * np.arange(1, steps + 1)),
        "hairer_h_lambda": ("step", np.where(accepted, h * rho[:, 0], np.nan)),
        "eig_real": (("step", "sample", "mode"), eig.real),
        "eig_imag": (("step", "sample", "mode"), eig.imag),
        "spectral_radius": (("step", "sample"), rho),
        "h_spectral_radius": (("step", "sample"), h[:, None] * rho),
        "stiffness_ratio": (("step", "sample"), np.ones_like(rho)),
        "condition_number": (("step", "sample"), np.ones_like(rho)),
    }
    attrs = {"odediag_trace": 1, "method": method, "problem": "synthetic"}
    return xr.Dataset(data, coords={"step": np.arange(steps)}, attrs=attrs)


def timed(label: str, action) -> object:
    start = time.perf_counter()
    result = action()
    print(f"{label:<44} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--modes", type=int, default=4)
    parser.add_argument("--figures", action="store_true", help="time the figures too")
    args = parser.parse_args()

    for method in ("dopri5", "scipy:DOP853"):
        region = stability_region(method)
        timed(f"{method}: boundary table", lambda r=region: r.boundary(np.pi))
        trace = synthetic_trace(args.steps, args.modes, method)
        verdict = timed(
            f"{method}: analyse {args.steps} steps", lambda t=trace: analyse(t)
        )
        if args.figures:
            from odediag.report import render_figures

            timed(f"{method}: figures", lambda t=trace, v=verdict: render_figures(t, v))


if __name__ == "__main__":
    main()
