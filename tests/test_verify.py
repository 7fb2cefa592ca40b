"""`solve --verify`: the gradient check shown in the lecture's layout, and an exit
code that fails a wrong gradient."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers import problem_from_yaml, read_yaml, ref_cost, run_cli, write_file

from bpnn_steps.maths import engine

LECTURE = helpers.BUNDLED / "lecture_122.yaml"


def finite_differences(doc: dict, h: float = 1e-6) -> list[np.ndarray]:
    """Central differences of the lecture's cost (tests/helpers.ref_cost, scalar code)."""
    p = problem_from_yaml(doc)
    weights = [np.array(w, dtype=float) for w in p["weights"]]
    out = []
    for n, w in enumerate(weights):
        d = np.zeros_like(w)
        for index in np.ndindex(w.shape):
            plus = [m.copy() for m in weights]
            minus = [m.copy() for m in weights]
            plus[n][index] += h
            minus[n][index] -= h
            d[index] = (ref_cost([m.tolist() for m in plus], p["x"], p["y"], p["acts"], p["loss"])
                        - ref_cost([m.tolist() for m in minus], p["x"], p["y"], p["acts"],
                                   p["loss"])) / (2 * h)
        out.append(d)
    return out


def wrong_layer_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.layer_gradient

    def wrong(inputs: np.ndarray, delta: np.ndarray) -> np.ndarray:
        grads = real(inputs, delta).copy()
        if grads.shape[1:] == (2, 2):       # W[1] of the lecture: one entry off by 1e-3
            grads[:, 1, 0] += 1e-3
        return grads

    monkeypatch.setattr(engine, "layer_gradient", wrong)


def test_the_lecture_passes_and_shows_the_central_differences() -> None:
    result = run_cli("solve", str(LECTURE), "--verify", "-f", "json")
    assert result.returncode == 0, result.stderr
    step = json.loads(result.stdout)["steps"][0]
    expected = finite_differences(read_yaml(LECTURE))
    for n, d in enumerate(expected):
        np.testing.assert_allclose(step["central_differences"][f"W{n + 1}"], d, rtol=1e-7)
    text = run_cli("solve", str(LECTURE), "--verify").stdout
    check = text.split("4) Gradient check")[1]
    assert "W2: largest relative difference" in check and ": passes." in check
    # W[2]'s top-left central difference, −4.288 at three decimals, beside ∇.
    assert f"{expected[1][0, 0]:.3f}".replace("-", "−") in check


def test_a_wrong_gradient_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_layer_gradient(monkeypatch)
    result = run_cli("solve", str(LECTURE), "--verify")
    assert result.returncode == 1
    assert "gradient check failed: update 1, W1[1,0]" in result.stderr
    assert "FAILS" in result.stdout


@pytest.mark.parametrize("block", ["  preset: pytorch\n", "  preset: mazur\n  cost: sum\n",
                                   "  output_reduction: mean\n  mse_half: false\n"])
def test_every_convention_passes(tmp_path: Path, block: str) -> None:
    text = LECTURE.read_text(encoding="utf-8") + "conventions:\n" + block
    result = run_cli("solve", str(write_file(tmp_path, "p.yaml", text)), "--verify")
    assert result.returncode == 0, result.stderr
    assert "FAILS" not in result.stdout


def test_output_first_checks_the_output_layer_only(tmp_path: Path) -> None:
    text = LECTURE.read_text(encoding="utf-8") + "conventions:\n  update_order: output_first\n"
    result = run_cli("solve", str(write_file(tmp_path, "p.yaml", text)), "--verify")
    assert result.returncode == 0, result.stderr
    assert "W1: not checked: under the output-first order" in result.stdout
    assert "W2: largest relative difference" in result.stdout


def test_round_as_you_go_checks_the_gradient_without_rounding() -> None:
    """A gradient rounded to 1 decimal is no derivative of the cost: the check of the
    rounded run failed (exit 1) for a right back-propagation."""
    result = run_cli("solve", str(LECTURE), "--verify", "--round-as-you-go", "1", "-f", "json")
    assert result.returncode == 0, result.stderr
    step = json.loads(result.stdout)["steps"][0]
    expected = finite_differences(read_yaml(LECTURE))
    for n, d in enumerate(expected):
        np.testing.assert_allclose(step["unrounded_gradient"][f"W{n + 1}"], d, rtol=1e-7)
        assert step["mean_gradient"][f"W{n + 1}"] != step["unrounded_gradient"][f"W{n + 1}"]
    assert "back-propagated without rounding (--round-as-you-go 1" in result.stderr
    text = run_cli("solve", str(LECTURE), "--verify", "--round-as-you-go", "1").stdout
    assert "rounded to 1 decimal as it goes (--round-as-you-go)" in text
    assert "FAILS" not in text


@pytest.mark.parametrize("args", [("-s", "none"), ("--round-as-you-go", "2"),
                                  ("-s", "none", "-e", "3")])
def test_every_update_is_checked_whatever_is_shown(monkeypatch: pytest.MonkeyPatch,
                                                   args: tuple[str, ...]) -> None:
    """--verify -s none exited 0 having checked nothing."""
    right = run_cli("solve", str(LECTURE), "--verify", *args)
    assert right.returncode == 0, right.stderr
    updates = 3 if "3" in args else 1
    assert ("verified: the gradient of " + ("all 3 updates" if updates == 3 else "the update")
            + " agrees with the central differences") in right.stderr
    wrong_layer_gradient(monkeypatch)
    result = run_cli("solve", str(LECTURE), "--verify", *args)
    assert result.returncode == 1
    assert "gradient check failed: update " in result.stderr and "W1[1,0]" in result.stderr


def test_verify_of_a_long_run_is_refused_before_it_starts(tmp_path: Path) -> None:
    from bpnn_steps.maths.workload import MAX_CHECKED_PASSES

    text = LECTURE.read_text(encoding="utf-8").replace("method: batch", "method: sgd")
    path = write_file(tmp_path, "sgd.yaml", text)
    epochs = MAX_CHECKED_PASSES // (2 * 2 * 10) + 1          # 2 updates of 10 weights each
    result = run_cli("solve", str(path), "--verify", "-e", str(epochs), "-s", "none")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"bpnn-steps: error: --verify checks the gradient of every update: {2 * epochs:,} "
        f"updates x 2 x 10 weights = {40 * epochs:,} forward passes, at most "
        f"{MAX_CHECKED_PASSES:,}; verify the first epochs (--epochs N) or leave out --verify\n")
