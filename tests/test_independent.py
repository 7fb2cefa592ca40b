"""A second, independent calculation of whole traces.

``helpers.ref_solve`` is a scalar pure-Python implementation (loops over nodes,
chain rule with the full activation Jacobian, the loss derivative taken straight
from the loss formula, no simplified deltas).  Its result is compared with the
complete ``bpnn-steps solve --format json`` output of the real CLI: every step's
z, a, y_hat, loss, cost, per-sample gradients, weights_after, and final weights
and cost, to 1e-12 relative.  Problem files are read with ruamel's safe loader,
not with bpnn_steps.spec.
"""

from __future__ import annotations

import json
import math

import pytest

from helpers import (BUNDLED, assert_close_tree, problem_from_yaml, read_yaml, ref_solve,
                     run_cli, write_file)

BUNDLED_NAMES = ["lecture_122", "quiz_11", "classification_121", "softmax_233", "deep_1221"]

MINIBATCH_L2 = """\
title: quiz network, mini-batches of 2 with L2 (biases not shrunk), 3 epochs
network:
  layers: [2, 2, 2]
  activations: [tanh, sigmoid]
loss: mse
data:
  x: [[1, 0], [0, 1], [1, 1], [-0.5, 2]]
  y: [[1, 0], [0, 1], [1, 1], [0.25, 0.75]]
weights:
  W1: [[0.1, -0.1],
       [0.2,  0.3],
       [-0.3, 0.2]]
  W2: [[0.1,  0.2],
       [0.4, -0.2],
       [0.3,  0.5]]
training:
  learning_rate: 0.7
  method: minibatch
  batch_size: 3
  epochs: 3
  l2: 0.05
  l2_bias: false
"""


def solve_json(*args, cwd=None) -> dict:
    out = run_cli("solve", *args, "--format", "json", cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def check_contract_shapes(doc: dict, layers: list[int], T: int) -> None:
    """The keys and shapes of CONTRACT section 3."""
    depth = len(layers) - 1
    names = {f"W{n}" for n in range(1, depth + 1)}
    shapes = {f"W{n}": (layers[n - 1] + 1, layers[n]) for n in range(1, depth + 1)}

    def check_weights(ws: dict) -> None:
        assert set(ws) == names
        for name, w in ws.items():
            assert len(w) == shapes[name][0]
            assert all(len(r) == shapes[name][1] for r in w)
            assert all(isinstance(v, float) for r in w for v in r)

    assert {"steps", "final"} <= set(doc)
    assert isinstance(doc["steps"], list) and doc["steps"]
    for step in doc["steps"]:
        assert {"epoch", "samples", "weights_before", "forward", "cost", "gradients",
                "weights_after"} <= set(step)
        assert isinstance(step["epoch"], int) and step["epoch"] >= 1
        assert all(isinstance(t, int) and 1 <= t <= T for t in step["samples"])
        check_weights(step["weights_before"])
        check_weights(step["weights_after"])
        assert isinstance(step["cost"], float)
        assert [f["sample"] for f in step["forward"]] == step["samples"]
        assert [g["sample"] for g in step["gradients"]] == step["samples"]
        for f in step["forward"]:
            assert {"sample", "z", "a", "y_hat", "loss"} <= set(f)
            assert len(f["z"]) == depth and len(f["a"]) == depth
            assert [len(v) for v in f["z"]] == layers[1:]
            assert [len(v) for v in f["a"]] == layers[1:]
            assert len(f["y_hat"]) == layers[-1]
            assert f["y_hat"] == f["a"][-1]
            assert isinstance(f["loss"], float)
        for g in step["gradients"]:
            check_weights({k: v for k, v in g.items() if k in names})
    assert {"weights", "cost"} <= set(doc["final"])
    check_weights(doc["final"]["weights"])
    assert isinstance(doc["final"]["cost"], float)


@pytest.mark.parametrize("name", BUNDLED_NAMES)
def test_bundled_problem_matches_scalar_reference(name):
    problem = problem_from_yaml(read_yaml(BUNDLED / f"{name}.yaml"))
    expected = ref_solve(**problem)
    doc = solve_json(name)
    check_contract_shapes(doc, problem["layers"], len(problem["x"]))
    assert len(doc["steps"]) == len(expected["steps"])
    assert_close_tree(expected, doc)


def test_minibatch_l2_without_bias_three_epochs(tmp_path):
    write_file(tmp_path, "mb.yaml", MINIBATCH_L2)
    problem = problem_from_yaml(read_yaml(MINIBATCH_L2, text=True))
    expected = ref_solve(**problem)
    doc = solve_json("mb.yaml", cwd=tmp_path)
    check_contract_shapes(doc, problem["layers"], 4)
    # T = 4, batch_size 3: batches [1, 2, 3] and [4] in every epoch.
    assert [(s["epoch"], s["samples"]) for s in doc["steps"]] == [
        (1, [1, 2, 3]), (1, [4]), (2, [1, 2, 3]), (2, [4]), (3, [1, 2, 3]), (3, [4])]
    assert_close_tree(expected, doc)
    # Each update starts from the previous update's result.
    for before, after in zip(doc["steps"][1:], doc["steps"]):
        assert before["weights_before"] == after["weights_after"]
    assert doc["final"]["weights"] == doc["steps"][-1]["weights_after"]


def test_minibatch_l2_bias_flag_matters(tmp_path):
    """The same file with l2_bias true gives different biases (row 0) but the
    reference agrees in both cases: the flag is really read."""
    text = MINIBATCH_L2.replace("l2_bias: false", "l2_bias: true")
    write_file(tmp_path, "mb.yaml", text)
    problem = problem_from_yaml(read_yaml(text, text=True))
    assert problem["l2_bias"] is True
    doc = solve_json("mb.yaml", cwd=tmp_path)
    assert_close_tree(ref_solve(**problem), doc)
    other = ref_solve(**{**problem, "l2_bias": False})
    assert other["final"]["weights"]["W1"][0] != pytest.approx(
        doc["final"]["weights"]["W1"][0], rel=1e-9)


def test_stdout_is_exactly_one_json_document():
    out = run_cli("solve", "lecture_122", "--format", "json")
    assert out.returncode == 0
    text = out.stdout
    decoder = json.JSONDecoder()
    doc, end = decoder.raw_decode(text.lstrip())
    assert text.lstrip()[end:].strip() == "", "something follows the JSON document"
    assert text.strip().startswith("{") and text.strip().endswith("}")
    assert isinstance(doc, dict)
    # No NaN/Infinity literals: strict JSON.
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_json_numbers_are_full_precision():
    doc = solve_json("lecture_122")
    h = doc["steps"][0]["forward"][0]["a"][0][0]
    # sigma(0.2) to double precision, not a rounded display value.
    assert h == pytest.approx(1 / (1 + math.exp(-0.2)), rel=1e-15)
    # w_{1,1}^[1] new = 0.1 - 0.5 (delta_(1) x_(1) + delta_(2) x_(2)) / 2 with
    # delta_(t) = 0.1 (sum_k (yhat_k - y_k)) h (1 - h), yhat = 0.1 + 0.2 h (test_lecture.py)
    def delta(z, ys):
        h = 1 / (1 + math.exp(-z))
        return 0.1 * sum(0.1 + 0.2 * h - y for y in ys) * h * (1 - h)
    want = 0.1 - 0.5 * (delta(0.2, (3, 4)) * 1 + delta(0.3, (6, 5)) * 2) / 2
    assert doc["steps"][0]["weights_after"]["W1"][1][0] == pytest.approx(want, rel=1e-14)
