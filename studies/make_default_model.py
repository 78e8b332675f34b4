"""Re-create ``odediag/_data/moons_default.pt``, the shipped unregularised model.

    python studies/make_default_model.py [--output PATH]

Trains the default :class:`~odediag.training.TrainConfig` (no regulariser, 300
Adam steps, seed 0) on one thread, so the weights come out the same on every
run, and writes the checkpoint. Prints the test accuracy and the evaluations
of a test-set solve before and after training.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from odediag.models import default_model_path, save_checkpoint
from odediag.training import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=default_model_path())
    args = parser.parse_args()
    torch.set_num_threads(1)

    config = TrainConfig(regulariser="none", iterations=300, probe_every=50, seed=0)
    result = train(config)
    save_checkpoint(args.output, result.model, config.to_dict())

    probed = result.dataset.dropna("iteration", subset=["test_accuracy"])
    for i in (0, -1):
        row = probed.isel(iteration=i)
        print(
            f"iteration {int(row.iteration)}: test accuracy "
            f"{float(row.test_accuracy):.3f}, test-set NFE {int(row.test_nfe)}"
        )
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size / 1024:.1f} KiB)")
    assert np.isfinite(probed["test_accuracy"]).all()


if __name__ == "__main__":
    main()
