"""`solve --samples`: an update of many samples shows the first few worked in full,
says which ones, and still costs and updates with every sample."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helpers import ref_solve, run_cli, write_file

WEIGHTS = [[[0.1, -0.2], [0.3, 0.4]], [[0.1], [-0.3], [0.2]]]


def many_samples(folder: Path, count: int) -> tuple[Path, dict]:
    x = [[round(t / 10, 1)] for t in range(1, count + 1)]
    y = [[round(math.sin(t), 2)] for t in range(1, count + 1)]
    text = ("title: many samples\nnetwork:\n  layers: [1, 2, 1]\n"
            "  activations: [sigmoid, linear]\n"
            f"data:\n  x: {x}\n  y: {y}\n"
            f"weights:\n  W1: {WEIGHTS[0]}\n  W2: {WEIGHTS[1]}\n"
            "training:\n  learning_rate: 0.5\n  method: batch\n  epochs: 1\n")
    reference = ref_solve([1, 2, 1], ["sigmoid", "linear"], "mse", x, y, WEIGHTS, 0.5)
    return write_file(folder, f"many_{count}.yaml", text), reference


def worked_samples(text: str) -> list[int]:
    """The samples whose output-layer gradient is worked in full."""
    part = text.split("a) Output layer gradient")[1].split("b) Hidden layer")[0]
    return [int(line.split("=")[1].strip(" :")) for line in part.splitlines()
            if line.startswith("Sample t = ")]


def update_part(text: str) -> str:
    return text.split("3) Gradient-descent update")[1]


@pytest.mark.parametrize("count, shown", [(2, [1, 2]), (25, list(range(1, 26))),
                                          (26, [1, 2, 3])])
def test_auto_shows_every_sample_up_to_25_else_the_first_3(tmp_path: Path, count: int,
                                                           shown: list[int]) -> None:
    path, _ = many_samples(tmp_path, count)
    result = run_cli("solve", str(path))
    assert result.returncode == 0, result.stderr
    assert worked_samples(result.stdout) == shown
    note = f"Samples 1, 2, 3 of {count} are worked in full; the other {count - 3} are"
    assert (note in result.stdout) == (count > 25)


def test_the_samples_left_out_still_count(tmp_path: Path) -> None:
    path, reference = many_samples(tmp_path, 30)
    default = run_cli("solve", str(path)).stdout
    every = run_cli("solve", str(path), "--samples", "all").stdout
    assert worked_samples(every) == list(range(1, 31))
    # The update (mean gradient, new weights) and the result do not depend on
    # how many samples are worked in full.
    assert update_part(default) == update_part(every)
    # The cost is the mean over all 30 samples, computed independently.
    cost = reference["steps"][0]["cost"]
    jbar = [line for line in default.splitlines() if line.startswith("J̄")]
    assert jbar and jbar[0].endswith(f"= {cost:.3f}")
    # One loss row per sample worked in full.
    assert sum(line.startswith("J₍") for line in default.splitlines()) == 3


def test_samples_n_shows_the_first_n(tmp_path: Path) -> None:
    path, _ = many_samples(tmp_path, 4)
    result = run_cli("solve", str(path), "--samples", "1")
    assert worked_samples(result.stdout) == [1]
    assert "Sample 1 of 4 is worked in full; the other 3 are worked the same way" \
        in result.stdout


@pytest.mark.parametrize("spec", ["0", "-1", "x", "1-3", ""])
def test_a_bad_samples_spec_is_bad_input(tmp_path: Path, spec: str) -> None:
    path, _ = many_samples(tmp_path, 4)
    result = run_cli("solve", str(path), "--samples", spec)
    assert result.returncode == 2
    assert "--samples" in result.stderr and "Traceback" not in result.stderr
