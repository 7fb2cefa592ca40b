"""`train` under the conventions (CONTRACT section 5) against `solve`'s engine.

The reference is bpnn_steps.maths.engine.solve on the same problem: the engine
that tests/test_conventions.py checks against central finite differences of the
CONTRACT's cost for every key.  `train` must give its weights (to 1e-12) and its
cost history, with the numpy path (the engine's own functions) for every preset,
key, loss and method, and with the compiled kernel (numba) for combinations of
keys that reach every place the generated code changes (the losses, the output
delta of each kind, the update's mean or sum, the bias rows, the output_first
order in the per-sample, batch and blocked modes).  Compiling a kernel takes
seconds, so the compiled cases combine keys.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from test_train_engine import compact_solve, random_problem

from helpers import run_cli

from bpnn_steps.files.problem_file import parse_problem
from bpnn_steps.maths import kernels
from bpnn_steps.maths.engine import solve
from bpnn_steps.maths.training import BLOCKED_MIN_BATCH, kernel_mode, train
from bpnn_steps.model.conventions import (LECTURE, PRESETS, Combine, Conventions,
                                          UpdateOrder, preset_conventions)

ATOL = 1e-12

SHAPES = {  # loss: (layers, activations)
    # K = 3 outputs: without the ½ and over the K outputs, J is 2/3 of the lecture's
    "mse": ((2, 3, 3), ("tanh", "linear")),
    "bce": ((2, 3, 2), ("tanh", "sigmoid")),
    "ce": ((2, 3, 3), ("sigmoid", "softmax")),
}
METHODS = (("batch", None), ("sgd", None), ("minibatch", 3))


def _keys(**written: object) -> Conventions:
    return preset_conventions("lecture", **written)


# Every preset, and every key on its own (each differing from the lecture's).
CONVENTIONS = {
    **{f"preset {name}": preset_conventions(name) for name in PRESETS},
    "cost sum": _keys(cost=Combine.SUM),
    "mse_half false": _keys(mse_half=False),
    "output_reduction mean": _keys(output_reduction=Combine.MEAN),
    "update_biases false": _keys(update_biases=False),
    "output_first": _keys(update_order=UpdateOrder.OUTPUT_FIRST),
    "everything": _keys(cost=Combine.SUM, mse_half=False, output_reduction=Combine.MEAN,
                        update_biases=False, update_order=UpdateOrder.OUTPUT_FIRST),
}


def problem_under(conventions: Conventions, loss: str, method: str, batch_size: int | None,
                  *, samples: int = 7, epochs: int = 4, seed: int = 0,
                  learning_rate: float = 0.3):
    layers, acts = SHAPES[loss]
    # l2 with and without the biases, shuffled or not: every path of the update
    problem = random_problem(layers, acts, loss, samples=samples, method=method,
                             batch_size=batch_size, epochs=epochs, l2=0.05,
                             l2_bias=seed % 2 == 0, shuffle=method != "batch",
                             learning_rate=learning_rate, seed=seed, test_samples=3)
    return dataclasses.replace(problem, conventions=conventions)


def assert_as_solve(problem, kernel: str) -> None:
    trace = compact_solve(problem)
    result = train(problem, kernel=kernel, cost_every=1, catch_interrupt=False)
    assert result.kernel == kernel
    for got, ref in zip(result.weights, trace.final_weights, strict=True):
        np.testing.assert_allclose(got, ref, rtol=0, atol=ATOL)
    # the cost history is the conventions' cost (solve's epoch costs)
    np.testing.assert_allclose(result.costs[1:], trace.epoch_costs, rtol=1e-12)
    assert result.final_cost == pytest.approx(trace.final_cost, rel=1e-12)


@pytest.mark.parametrize("name", CONVENTIONS)
@pytest.mark.parametrize("loss", SHAPES)
@pytest.mark.parametrize("method,batch_size", METHODS)
def test_numpy_path_follows_the_conventions(name, loss, method, batch_size) -> None:
    assert_as_solve(problem_under(CONVENTIONS[name], loss, method, batch_size), "numpy")


# (conventions, loss): each case compiles a kernel per mode, so the keys are combined
# to reach every change of the generated code.
COMPILED = [
    ("everything", "mse"),                        # x2 in J and the error, sum, no biases,
    ("preset pytorch", "bce"),                    # 1/K in J and in the cancelled delta
    ("output_first", "ce"),                       # ce: no factor; output_first
    ("mse_half false", "ce"),                     # ce is unaffected by the mse keys
]


@pytest.mark.parametrize("name,loss", COMPILED)
@pytest.mark.parametrize("method,batch_size", [("batch", None), ("sgd", None)])
def test_compiled_kernel_follows_the_conventions(name, loss, method, batch_size) -> None:
    assert_as_solve(problem_under(CONVENTIONS[name], loss, method, batch_size), "compiled")


def test_compiled_minibatches_follow_the_conventions() -> None:
    # the same kernel as batch GD (mode "batch"), so no new compile
    assert_as_solve(problem_under(CONVENTIONS["everything"], "mse", "minibatch", 3, seed=1),
                    "compiled")


def test_softmax_under_mse_scales_the_jacobian_product() -> None:
    problem = dataclasses.replace(
        random_problem((2, 3, 3), ("tanh", "softmax"), "mse", samples=5, epochs=3),
        conventions=CONVENTIONS["preset pytorch"])
    assert_as_solve(problem, "numpy")
    assert_as_solve(problem, "compiled")


@pytest.mark.parametrize("name", ["preset pytorch", "cost sum", "update_biases false"])
def test_blocked_kernel_follows_the_conventions(name) -> None:
    samples = BLOCKED_MIN_BATCH + 37
    # cost: sum descends the sum over the samples: a step size for it
    rate = 0.3 / samples if CONVENTIONS[name].cost is Combine.SUM else 0.3
    problem = problem_under(CONVENTIONS[name], "mse", "batch", None, samples=samples,
                            epochs=2, learning_rate=rate)
    assert kernel_mode(problem) == "blocked"
    assert_as_solve(problem, "compiled")


def test_output_first_large_batches_leave_the_blocked_mode() -> None:
    # the blocked kernel updates every layer at once, so output_first uses "batch"
    problem = problem_under(CONVENTIONS["output_first"], "ce", "batch", None,
                            samples=BLOCKED_MIN_BATCH + 5, epochs=2)
    assert kernel_mode(problem) == "batch"
    assert_as_solve(problem, "compiled")
    with pytest.raises(ValueError, match="output_first"):
        kernels.generate_blocked_source((2, 3, 3), ("sigmoid", "softmax"), "ce",
                                        CONVENTIONS["output_first"])


def test_the_lecture_kernels_are_the_lecture_source() -> None:
    # A preset that changes no key (sklearn) compiles nothing new, and the lecture's
    # source carries no conventions note (it is the module cached before conventions).
    for per_sample in (True, False):
        lecture = kernels.generate_source((2, 3, 2), ("tanh", "linear"), "mse", per_sample)
        assert kernels.generate_source((2, 3, 2), ("tanh", "linear"), "mse", per_sample,
                                       preset_conventions("sklearn")) == lecture
        assert "Conventions" not in lecture
        assert kernels.generate_source((2, 3, 2), ("tanh", "linear"), "mse", per_sample,
                                       LECTURE) == lecture


def test_errors_are_the_mean_of_the_conventions_j() -> None:
    # training / test error: mean over the set of J_(t) as the conventions define it
    layers, acts = SHAPES["mse"]
    base = random_problem(layers, acts, "mse", samples=6, epochs=2, test_samples=4)
    pytorch = dataclasses.replace(base, conventions=preset_conventions("pytorch"))
    summed = dataclasses.replace(base, conventions=_keys(cost=Combine.SUM))
    lecture_run = train(base, kernel="numpy", catch_interrupt=False)
    x, y = base.data()
    weights = lecture_run.weights
    yhat = np.tanh(x @ weights[0][1:] + weights[0][0]) @ weights[1][1:] + weights[1][0]
    assert lecture_run.train_error == pytest.approx(
        np.mean(0.5 * np.sum((yhat - y) ** 2, axis=1)), rel=1e-12)
    # pytorch: sum over outputs without the ½, divided by K: the mean squared element
    run = train(pytorch, kernel="numpy", catch_interrupt=False)
    w = run.weights
    yhat = np.tanh(x @ w[0][1:] + w[0][0]) @ w[1][1:] + w[1][0]
    assert run.train_error == pytest.approx(np.mean((yhat - y) ** 2), rel=1e-12)
    # cost: sum: the cost is T times the mean (no L2 here)
    run = train(summed, kernel="numpy", catch_interrupt=False)
    assert run.final_cost == pytest.approx(run.train_error * base.samples, rel=1e-12)


PYTORCH_FILE = """\
title: pytorch run
network:
  layers: [2, 2, 2]
  activations: [sigmoid, sigmoid]
loss: mse
data:
  x: [[0.05, 0.1], [0.3, -0.2]]
  y: [[0.01, 0.99], [0.5, 0.5]]
weights:
  W1: [[0.35, 0.35], [0.15, 0.25], [0.2, 0.3]]
  W2: [[0.6, 0.6], [0.4, 0.5], [0.45, 0.55]]
training:
  learning_rate: 0.5
  epochs: 3
  l2: 0.01
conventions:
  preset: pytorch
  cost: sum
  update_order: output_first
"""


def test_train_save_keeps_the_conventions(tmp_path: Path) -> None:
    source = tmp_path / "p.yaml"
    source.write_text(PYTORCH_FILE)
    saved = tmp_path / "trained.yaml"
    run = run_cli("train", str(source), "--save", str(saved), "--format", "json")
    assert run.returncode == 0, run.stderr
    text = saved.read_text()
    assert "conventions:\n  preset: pytorch\n  cost: sum\n  update_order: output_first\n" \
        in text
    original = parse_problem(PYTORCH_FILE)
    again = parse_problem(text)
    assert again.conventions == original.conventions
    assert again.training.l2_bias == original.training.l2_bias
    # and the trained weights go on as the original run would: 3 + 2 epochs = 5 epochs
    five = solve(original.with_training(epochs=5)).final_weights
    more = solve(again.with_training(epochs=2)).final_weights
    for a, b in zip(five, more, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_train_names_the_conventions(tmp_path: Path) -> None:
    import json

    source = tmp_path / "p.yaml"
    source.write_text(PYTORCH_FILE)
    run = run_cli("train", str(source))
    assert run.returncode == 0, run.stderr
    assert ("conventions pytorch preset: cost sum, mse_half false, output_reduction mean, "
            "update_order output_first") in run.stdout
    document = json.loads(run_cli("train", str(source), "--format", "json").stdout)
    assert document["conventions"] == parse_problem(PYTORCH_FILE).conventions.to_dict()
