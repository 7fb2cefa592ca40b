"""The lecture's four training examples, run in full as bundled."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

import numpy as np
import pytest
from typer.testing import CliRunner

from bpnn_steps.cli import app
from bpnn_steps.files.problem_file import load_problem

runner = CliRunner()


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """``example(NAME)``: ``bpnn-steps train NAME --plot NAME.png --format json``, one
    command per example, run once for the module (each trains for up to 100,000
    epochs), whose figure and JSON document the tests below read.  The JSON is the
    run's result written out exactly (floats round-trip), given as ``result`` here:
    (exit code, stderr, the figure's path, the run's weights, errors and costs)."""
    folder = tmp_path_factory.mktemp("examples")
    runs = {}

    def run(name: str):
        if name not in runs:
            runs[name] = _run_example(name, folder)
        return runs[name]

    return run


def _run_example(name, folder):
    target = folder / f"{name}.png"
    command = runner.invoke(app, ["train", name, "--plot", str(target), "--format", "json"])
    doc = json.loads(command.stdout) if command.exit_code == 0 else None
    result = None if doc is None else SimpleNamespace(
        epochs_run=doc["epochs_run"], initial_cost=doc["cost_history"]["costs"][0],
        final_cost=doc["final"]["cost"], train_error=doc["final"]["train_error"],
        test_error=doc["final"]["test_error"],
        weights=[np.array(doc["final"]["weights"][f"W{n}"]) for n in (1, 2)])
    return command.exit_code, command.stderr, target, result


def sigmoid_net(weights, x):
    """y-hat of a 1-M-1 sigmoid/linear network, written out by hand."""
    w1, w2 = weights
    h = 1.0 / (1.0 + np.exp(-(x @ w1[1:] + w1[0])))
    return h @ w2[1:] + w2[0]


def test_l2_with_beta_0_001_lowers_the_test_error_of_the_over_fitting_example(example):
    overfit_problem = load_problem("sine_1101_overfit")
    l2_problem = load_problem("sine_1101_l2")
    # the two files differ only in beta
    assert overfit_problem.training.l2 == 0.0 and l2_problem.training.l2 == 0.001
    assert np.array_equal(overfit_problem.x, l2_problem.x)
    assert np.array_equal(overfit_problem.x_test, l2_problem.x_test)
    for a, b in zip(overfit_problem.weights, l2_problem.weights):
        assert np.array_equal(a, b)
    overfit = example("sine_1101_overfit")[3]
    regular = example("sine_1101_l2")[3]

    def errors(result, problem):
        # mean of 1/2 (yhat - y)^2, by hand, on the training data and against the
        # noise-free sine at the test points
        train_err = np.mean(0.5 * (sigmoid_net(result.weights, problem.x) - problem.y) ** 2)
        truth = np.sin(problem.x_test)
        assert np.allclose(problem.y_test, truth)
        test_err = np.mean(0.5 * (sigmoid_net(result.weights, problem.x_test) - truth) ** 2)
        return train_err, test_err

    train_overfit, test_overfit = errors(overfit, overfit_problem)
    train_l2, test_l2 = errors(regular, l2_problem)
    # over-fitting: almost no training error, much more on unseen points
    assert train_overfit < 0.1 * test_overfit
    # beta = 0.001 gives up training error for a much lower test error
    assert train_l2 > train_overfit
    assert test_l2 < 0.5 * test_overfit
    assert overfit.test_error == pytest.approx(test_overfit, rel=1e-9)
    assert regular.test_error == pytest.approx(test_l2, rel=1e-9)


@pytest.mark.parametrize("name,limit", [("line_1101_gd", 0.01), ("sine_181_sgd", 1e-4)])
def test_the_fitting_examples_fit(example, name, limit):
    problem = load_problem(name)
    result = example(name)[3]
    assert result.epochs_run == problem.training.epochs
    err = np.mean(0.5 * (sigmoid_net(result.weights, problem.x) - problem.y) ** 2)
    assert err < limit
    assert result.train_error == pytest.approx(err, rel=1e-9)
    assert result.final_cost < 0.01 * result.initial_cost


@pytest.mark.parametrize("name", ["line_1101_gd", "sine_181_sgd", "sine_1101_overfit",
                                  "sine_1101_l2"])
def test_one_command_per_example_draws_its_figure(example, name):
    exit_code, stderr, target, _ = example(name)
    assert exit_code == 0, stderr
    assert f"wrote {target}" in stderr
    assert target.stat().st_size > 20_000
