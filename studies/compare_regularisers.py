"""Train each regulariser over several seeds and compare evaluations and accuracy.

    python studies/compare_regularisers.py [--seeds 3] [--weight 0.05] \
        [--iterations 300] [--output studies/out/regularisers.nc]

Every run uses the default :class:`~odediag.training.TrainConfig` apart from
the regulariser, its weight and the seed. The runs are combined along
``regulariser`` and ``seed`` and saved; the table printed gives, at the last
probe, the mean ± std over seeds of the test-set evaluations, the test
accuracy and the mean condition number of J along the probe trajectories.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import xarray as xr

from odediag.models import REGULARISERS
from odediag.training import TrainConfig, combine_runs, train

COLUMNS = ("test_nfe", "test_accuracy", "condition_number_mean", "stiffness_ratio_mean")


def run_all(seeds: int, weight: float, iterations: int) -> xr.Dataset:
    runs = []
    for name in REGULARISERS:
        for seed in range(seeds):
            config = TrainConfig(
                regulariser=name, weight=weight, seed=seed, iterations=iterations
            )
            runs.append(train(config).dataset)
            print(f"{name} seed {seed}: done", flush=True)
    return combine_runs(runs)


def summary(combined: xr.Dataset) -> str:
    last = combined[list(COLUMNS)].isel(iteration=-1)
    lines = [f"{'regulariser':<12}" + "".join(f"{c:>26}" for c in COLUMNS)]
    for name in combined.regulariser.values:
        row = last.sel(regulariser=name)
        cells = [
            f"{float(row[c].mean()):.3g} ± {float(row[c].std()):.2g}" for c in COLUMNS
        ]
        lines.append(f"{name:<12}" + "".join(f"{cell:>26}" for cell in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weight", type=float, default=0.05)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument(
        "--output", type=Path, default=Path("studies/out/regularisers.nc")
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    combined = run_all(args.seeds, args.weight, args.iterations)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    combined.to_netcdf(args.output)
    print(summary(combined))


if __name__ == "__main__":
    main()
