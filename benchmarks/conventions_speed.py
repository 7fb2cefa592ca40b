"""The compiled training kernel's speed under the conventions (CONTRACT section 5)
against the lecture's.

Per-sample SGD on the bundled sine_181_sgd problem (1-8-1, 40 samples) and
full-batch GD on 4,000 generated samples with the same network, under the
lecture's conventions, the pytorch and mazur presets, ``cost: sum`` and
``update_order: output_first``: sample-updates per second (best of the repeats,
kernels compiled before timing).  The lecture's kernel is the same generated
source as before conventions existed; the others add a multiplication by a
constant, drop a division or a bias loop, or (output_first) keep the batch's
values in row buffers and leave the blocked mode.

    python benchmarks/conventions_speed.py [--repeats 3] [--epochs 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpnn_steps.files.problem_file import load_problem  # noqa: E402
from bpnn_steps.maths.training import kernel_mode, train  # noqa: E402
from bpnn_steps.model.conventions import (Combine, UpdateOrder,  # noqa: E402
                                          preset_conventions)

CONVENTIONS = {
    "lecture": preset_conventions("lecture"),
    "pytorch": preset_conventions("pytorch"),
    "mazur": preset_conventions("mazur"),
    "cost sum": preset_conventions("lecture", cost=Combine.SUM),
    "output_first": preset_conventions("lecture", update_order=UpdateOrder.OUTPUT_FIRST),
}


def rate(problem, repeats: int) -> float:
    train(problem.with_training(epochs=1), kernel="compiled", catch_interrupt=False)
    return max(train(problem, kernel="compiled", catch_interrupt=False).updates_per_second
               for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20_000)
    args = parser.parse_args()
    sgd = load_problem("sine_181_sgd").with_training(epochs=args.epochs)
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (4000, 1))
    batch = dataclasses.replace(sgd, x=x, y=np.sin(x)).with_training(
        method="batch", epochs=max(1, args.epochs // 200), shuffle=False)
    print(f"{'conventions':<14}{'SGD (1-8-1, 40 samples)':>26}{'batch GD (4,000 samples)':>30}")
    for name, conventions in CONVENTIONS.items():
        a = dataclasses.replace(sgd, conventions=conventions)
        b = dataclasses.replace(batch, conventions=conventions)
        if conventions.cost is Combine.SUM:     # the sum of 4,000 gradients: a smaller step
            b = b.with_training(learning_rate=float(b.learning_rate()) / b.samples)
        print(f"{name:<14}{rate(a, args.repeats):>20.3g} /s  "
              f"{rate(b, args.repeats):>18.3g} /s ({kernel_mode(b)})")


if __name__ == "__main__":
    main()
