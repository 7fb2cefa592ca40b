"""Conventions (CONTRACT section 5) against independent calculations.

The reference here is written from the CONTRACT's words, one scalar at a time:
J_(t) with or without the ½, over the K outputs summed or averaged; the cost of an
update the mean or the sum of its J_(t), plus ½β Σw²; the update
W − λ ∂cost/∂W taken by central finite differences of that cost (so it shares no
code or formula with the engine's back-propagation); biases kept when they are
not updated.  The output-first order is not the gradient of any cost, so it is
checked against a scalar chain rule written out here, and against the numbers
Mazur published (tests/test_mazur.py).
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import _activate, ref_forward, run_cli, write_file

from bpnn_steps.files.problem_file import parse_problem
from bpnn_steps.maths.engine import solve
from bpnn_steps.model.conventions import PRESETS


def sample_loss(loss: str, yhat: list[float], y: list[float], half: bool, out_mean: bool
                ) -> float:
    """J_(t) as CONTRACT section 5 defines it."""
    k = len(y)
    if loss == "mse":
        total = sum((0.5 if half else 1.0) * (p - q) ** 2 for p, q in zip(yhat, y))
        return total / k if out_mean else total
    if loss == "bce":
        total = -sum(q * math.log(p) + (1 - q) * math.log(1 - p) for p, q in zip(yhat, y))
        return total / k if out_mean else total
    return -sum(q * math.log(p) for p, q in zip(yhat, y) if q != 0)    # ce: unaffected


def update_cost(weights, xs, ys, acts, loss, conv: dict, l2: float, l2_bias: bool) -> float:
    losses = [sample_loss(loss, ref_forward(weights, x, acts)[1][-1], y,
                          conv["mse_half"], conv["output_reduction"] == "mean")
              for x, y in zip(xs, ys)]
    data = sum(losses) if conv["cost"] == "sum" else sum(losses) / len(losses)
    penalty = 0.5 * l2 * sum(v * v for w in weights for i, row in enumerate(w)
                             for v in row if i > 0 or l2_bias)
    return data + penalty


def fd_update(weights, xs, ys, acts, loss, conv: dict, lr: float, l2: float, l2_bias: bool,
              eps: float = 1e-6) -> list[list[list[float]]]:
    """W − λ ∂cost/∂W by central differences; row 0 kept without bias updates."""
    new = []
    for n, w in enumerate(weights):
        rows = []
        for i, row in enumerate(w):
            out = []
            for j, v in enumerate(row):
                if i == 0 and not conv["update_biases"]:
                    out.append(v)
                    continue
                plus = [[list(r) for r in m] for m in weights]
                minus = [[list(r) for r in m] for m in weights]
                plus[n][i][j] += eps
                minus[n][i][j] -= eps
                grad = (update_cost(plus, xs, ys, acts, loss, conv, l2, l2_bias)
                        - update_cost(minus, xs, ys, acts, loss, conv, l2, l2_bias)) / (2 * eps)
                out.append(v - lr * grad)
            rows.append(out)
        new.append(rows)
    return new


def problem_text(layers, acts, loss, xs, ys, weights, conv: dict, l2=0.0, l2_bias=None,
                 epochs=1, lr=0.5) -> str:
    block = "".join(f"  {k}: {str(v).lower() if isinstance(v, bool) else v}\n"
                    for k, v in conv.items())
    bias = "" if l2_bias is None else f"  l2_bias: {str(l2_bias).lower()}\n"
    return (f"network:\n  layers: {layers}\n  activations: [{', '.join(acts)}]\n"
            f"loss: {loss}\ndata:\n  x: {xs}\n  y: {ys}\nweights:\n"
            + "".join(f"  W{n + 1}: {w}\n" for n, w in enumerate(weights))
            + f"training:\n  learning_rate: {lr}\n  epochs: {epochs}\n  l2: {l2}\n{bias}"
            + (f"conventions:\n{block}" if block else ""))


CASES = [  # layers, activations, loss
    ([2, 3, 2], ["tanh", "linear"], "mse"),
    ([2, 2, 2], ["sigmoid", "sigmoid"], "mse"),
    ([1, 2, 2, 1], ["sigmoid", "tanh", "linear"], "mse"),
    ([2, 3, 2], ["tanh", "sigmoid"], "bce"),
    ([2, 2, 3], ["sigmoid", "softmax"], "ce"),
]

KEYS = [dict(zip(("cost", "mse_half", "output_reduction", "update_biases"), values))
        for values in itertools.product(("mean", "sum"), (True, False), ("sum", "mean"),
                                        (True, False))]


def random_case(rng: np.random.Generator, layers, loss):
    weights = [np.round(rng.uniform(-1, 1, (a + 1, b)), 2).tolist()
               for a, b in zip(layers, layers[1:])]
    xs = np.round(rng.uniform(-1, 1, (3, layers[0])), 2).tolist()
    k = layers[-1]
    if loss == "mse":
        ys = np.round(rng.uniform(-1, 1, (3, k)), 2).tolist()
    elif loss == "bce":
        ys = rng.integers(0, 2, (3, k)).astype(float).tolist()
    else:
        ys = np.eye(k)[rng.integers(0, k, 3)].tolist()
    return weights, xs, ys


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("keys", range(len(KEYS)))
def test_one_update_follows_every_key(case: int, keys: int) -> None:
    layers, acts, loss = CASES[case]
    conv = KEYS[keys]
    rng = np.random.default_rng([case, keys])
    weights, xs, ys = random_case(rng, layers, loss)
    l2 = 0.1 if keys % 3 == 0 else 0.0
    l2_bias = keys % 2 == 0
    problem = parse_problem(problem_text(layers, acts, loss, xs, ys, weights, conv, l2,
                                         l2_bias))
    step = solve(problem).steps[0]
    expected = fd_update(weights, xs, ys, acts, loss, conv, 0.5, l2, l2_bias)
    for n, w in enumerate(step.weights_after):
        np.testing.assert_allclose(w, expected[n], rtol=1e-6, atol=1e-8)
    assert step.cost == pytest.approx(update_cost(weights, xs, ys, acts, loss, conv, l2,
                                                  l2_bias), rel=1e-12)


def output_first_reference(weights, x, y, acts, lr: float, update_biases: bool):
    """One sample, mse with its ½: the output layer updated first, then each lower
    layer's error back-propagated through the new weights above it."""
    zs, as_ = ref_forward(weights, x, acts)
    new = [None] * len(weights)
    upstream = [p - q for p, q in zip(as_[-1], y)]
    for n in range(len(weights) - 1, -1, -1):
        size = len(zs[n])
        h = 1e-6
        # f'(z) by central differences of the activation itself
        deriv = [(_activate(acts[n], [z + h])[0] - _activate(acts[n], [z - h])[0]) / (2 * h)
                 for z in zs[n]]
        delta = [upstream[j] * deriv[j] for j in range(size)]
        inputs = [1.0] + (list(x) if n == 0 else as_[n - 1])
        new[n] = [[weights[n][i][j] - (0.0 if i == 0 and not update_biases
                                       else lr * inputs[i] * delta[j])
                   for j in range(size)] for i in range(len(inputs))]
        upstream = [sum(new[n][i + 1][j] * delta[j] for j in range(size))
                    for i in range(len(inputs) - 1)]
    return new


@pytest.mark.parametrize("layers, acts", [([2, 2, 2], ["sigmoid", "sigmoid"]),
                                          ([1, 3, 2, 2], ["tanh", "sigmoid", "linear"])])
@pytest.mark.parametrize("update_biases", [True, False])
def test_output_first_backpropagates_through_the_new_weights(layers, acts, update_biases
                                                             ) -> None:
    rng = np.random.default_rng(len(layers))
    weights, xs, ys = random_case(rng, layers, "mse")
    conv = {"update_order": "output_first", "update_biases": update_biases}
    problem = parse_problem(problem_text(layers, acts, "mse", xs[:1], ys[:1], weights, conv))
    step = solve(problem).steps[0]
    expected = output_first_reference(weights, xs[0], ys[0], acts, 0.5, update_biases)
    for n, w in enumerate(step.weights_after):
        np.testing.assert_allclose(w, expected[n], rtol=1e-7, atol=1e-9)
    # The lower layers differ from the simultaneous order's (else this proves nothing).
    simultaneous = solve(problem.__class__(**{**problem.__dict__,
                                              "conventions": problem.conventions.__class__(
                                                  update_biases=update_biases)}))
    assert not np.allclose(simultaneous.steps[0].weights_after[0], step.weights_after[0])


def test_presets_fill_what_the_file_leaves_out() -> None:
    base = problem_text([1, 1], ["linear"], "mse", [[1.0]], [[0.0]], [[[0.1], [0.2]]], {})
    for preset, keys in PRESETS.items():
        conventions = parse_problem(base + f"conventions:\n  preset: {preset}\n").conventions
        assert conventions.preset == preset
        for key, value in keys.items():
            assert getattr(conventions, key) == value
    pytorch = parse_problem(base + "conventions:\n  preset: pytorch\n  mse_half: true\n")
    assert pytorch.conventions.mse_half is True                  # an explicit key wins
    assert pytorch.conventions.output_reduction.value == "mean"
    sklearn = parse_problem(base + "conventions:\n  preset: sklearn\n")
    assert sklearn.training.l2_bias is False
    written = base.replace("  l2: 0.0\n", "  l2: 0.0\n  l2_bias: true\n")
    assert parse_problem(written + "conventions:\n  preset: sklearn\n").training.l2_bias


@pytest.mark.parametrize("block, key", [
    ("conventions:\n  preset: keras\n", "conventions.preset"),
    ("conventions:\n  cost: total\n", "conventions.cost"),
    ("conventions:\n  mse_half: 1\n", "conventions.mse_half"),
    ("conventions:\n  update_order: backward\n", "conventions.update_order"),
    ("conventions:\n  halfs: true\n", "conventions.halfs"),
    ("conventions: [mean]\n", "conventions"),
])
def test_a_bad_conventions_block_is_bad_input(tmp_path: Path, block: str, key: str) -> None:
    text = problem_text([1, 1], ["linear"], "mse", [[1.0]], [[0.0]], [[[0.1], [0.2]]], {})
    path = write_file(tmp_path, "p.yaml", text + block)
    result = run_cli("solve", str(path))
    assert result.returncode == 2
    assert re.search(rf"p\.yaml:\d+: {re.escape(key)} ", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- every method


PRESET_KEYS = {   # the scalar reference's keyword arguments for each preset
    "lecture": {},
    "mazur": {"update_biases": False},
    "pytorch": {"mse_half": False, "output_mean": True},
    "sklearn": {"l2_bias": False},
}


@pytest.mark.parametrize("preset", list(PRESET_KEYS))
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("method, batch_size", [("batch", None), ("sgd", None),
                                                ("minibatch", 2)])
def test_every_preset_loss_and_method_against_the_scalar_reference(
        preset: str, case: int, method: str, batch_size: int | None) -> None:
    from helpers import assert_close_tree, ref_solve

    layers, acts, loss = CASES[case]
    rng = np.random.default_rng([case, len(preset)])
    weights, xs, ys = random_case(rng, layers, loss)
    text = problem_text(layers, acts, loss, xs, ys, weights, {"preset": preset}, l2=0.05,
                        epochs=2)
    text = text.replace("  epochs: 2\n", f"  epochs: 2\n  method: {method}\n"
                        + (f"  batch_size: {batch_size}\n" if batch_size else ""))
    trace = solve(parse_problem(text)).to_dict()
    keys = PRESET_KEYS[preset]
    expected = ref_solve(layers, acts, loss, xs, ys, weights, 0.5, method, batch_size, 2,
                         l2=0.05, l2_bias=keys.get("l2_bias", True),
                         **{k: v for k, v in keys.items() if k != "l2_bias"})
    for got, want in zip(trace["steps"], expected["steps"], strict=True):
        for key in ("cost", "weights_after"):
            assert_close_tree(want[key], got[key], f"$.{key}", rel=1e-10)
    assert_close_tree(expected["final"], trace["final"], "$.final", rel=1e-10)


@pytest.mark.parametrize("keys", [{"cost": "sum"}, {"update_order": "output_first"},
                                  {"update_order": "output_first", "update_biases": False,
                                   "mse_half": False}])
def test_the_other_keys_under_sgd_against_the_scalar_reference(keys: dict) -> None:
    from helpers import assert_close_tree, ref_solve

    layers, acts, loss = [1, 3, 2, 2], ["tanh", "sigmoid", "linear"], "mse"
    weights, xs, ys = random_case(np.random.default_rng(7), layers, loss)
    text = problem_text(layers, acts, loss, xs, ys, weights, keys, epochs=2)
    text = text.replace("  epochs: 2\n", "  epochs: 2\n  method: sgd\n")
    trace = solve(parse_problem(text)).to_dict()
    expected = ref_solve(layers, acts, loss, xs, ys, weights, 0.5, "sgd", None, 2,
                         mse_half=keys.get("mse_half", True),
                         cost_sum=keys.get("cost") == "sum",
                         update_biases=keys.get("update_biases", True),
                         output_first=keys.get("update_order") == "output_first")
    for got, want in zip(trace["steps"], expected["steps"], strict=True):
        for key in ("cost", "weights_after"):
            assert_close_tree(want[key], got[key], f"$.{key}", rel=1e-10)
