"""The symbolic gradient entries against two independent calculations:
the numeric engine (substituting each sample's values into every entry) and
sympy's own diff of the cost built directly from the network's formulas."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")

from bpnn_steps.maths.engine import solve  # noqa: E402
from bpnn_steps.model.problem import Problem, Training  # noqa: E402
from bpnn_steps.maths.symbolic import (answer_symbols, derive, gradient_entries,  # noqa: E402
                                 gradient_entry, to_unicode)

# (layers, activations, loss): every activation and loss, one to three hidden layers.
NETWORKS = [
    ((2, 2, 2), ("sigmoid", "linear"), "mse"),
    ((1, 3, 2), ("tanh", "sigmoid"), "mse"),
    ((2, 3, 2), ("relu", "tanh"), "mse"),
    ((2, 2, 1), ("sigmoid", "sigmoid"), "bce"),
    ((2, 3, 3), ("tanh", "softmax"), "ce"),
    ((2, 2, 3), ("relu", "softmax"), "mse"),
    ((1, 2, 2, 1), ("sigmoid", "tanh", "linear"), "mse"),
    ((2, 3, 2, 2), ("relu", "linear", "sigmoid"), "bce"),
    ((2, 2, 2, 2, 3), ("tanh", "sigmoid", "relu", "softmax"), "ce"),
    ((3, 1), ("relu",), "mse"),
]


def _random_problem(layers, activations, loss, seed):
    rng = np.random.default_rng(seed)
    t = 3
    x = rng.normal(size=(t, layers[0]))
    if loss == "ce":
        y = rng.dirichlet(np.ones(layers[-1]), size=t)
    elif loss == "bce":
        y = rng.uniform(size=(t, layers[-1]))
    else:
        y = rng.normal(size=(t, layers[-1]))
    weights = tuple(rng.normal(scale=0.8, size=(layers[n] + 1, layers[n + 1]))
                    for n in range(len(layers) - 1))
    return Problem(layers=tuple(layers), activations=tuple(activations), loss=loss, x=x, y=y,
                   weights=weights, training=Training(learning_rate=0.1))


def _values(layers, forward, weights):
    """name -> value of one sample, for the symbols of answer_symbols."""
    depth = len(layers) - 1
    v = {f"x{i + 1}": forward.x[i] for i in range(layers[0])}
    v.update({f"y{k + 1}": forward.y[k] for k in range(layers[-1])})
    v.update({f"yhat{k + 1}": forward.a[-1][k] for k in range(layers[-1])})
    for n in range(1, depth):
        for j in range(layers[n]):
            name = f"h{j + 1}" if depth == 2 else f"h{n}_{j + 1}"
            v[name] = forward.a[n - 1][j]
    for n, w in enumerate(weights, start=1):
        for i, j in itertools.product(range(w.shape[0]), range(w.shape[1])):
            v[f"w{n}_{i}_{j + 1}"] = w[i, j]
    return v


def test_answer_symbols_names():
    names = set(answer_symbols([2, 2, 2]))
    assert {"x1", "x2", "y1", "y2", "yhat1", "yhat2", "h1", "h2", "w1_0_1", "w2_2_2"} <= names
    assert "h1_1" not in names
    deep = set(answer_symbols([1, 2, 3, 1]))
    assert {"h1_1", "h1_2", "h2_3", "w3_3_1", "w1_1_2"} <= deep
    assert "h1" not in deep


def test_quiz_entries_are_the_lecture_formulas():
    """Quiz 1.1 (2-2-2, sigmoid, linear, mse): the entries of the lecture's solution."""
    s = answer_symbols([2, 2, 2])
    x1, h1, h2, y1, y2, yh1, yh2 = (s[k] for k in ("x1", "h1", "h2", "y1", "y2", "yhat1",
                                                  "yhat2"))
    w = lambda n, i, j: s[f"w{n}_{i}_{j}"]  # noqa: E731
    args = ([2, 2, 2], ["sigmoid", "linear"], "mse")
    assert sympy.expand(gradient_entry(*args, 2, 0, 1) - (yh1 - y1)) == 0
    assert sympy.expand(gradient_entry(*args, 2, 2, 1) - (yh1 - y1) * h2) == 0
    expected = ((yh1 - y1) * w(2, 1, 1) + (yh2 - y2) * w(2, 1, 2)) * h1 * (1 - h1) * x1
    assert sympy.expand(gradient_entry(*args, 1, 1, 1) - expected) == 0
    # and printed the lecture's way
    entry = derive(*args).layer[0].entries[1][0]
    assert to_unicode(entry) == "[(ŷ₁ − y₁) w₁,₁⁽²⁾ + (ŷ₂ − y₂) w₁,₂⁽²⁾] h₁(1 − h₁) x₁"


@pytest.mark.parametrize("layers,activations,loss", NETWORKS)
def test_entries_match_the_numeric_engine(layers, activations, loss):
    problem = _random_problem(layers, activations, loss, seed=sum(layers) + len(loss))
    trace = solve(problem)
    step = trace.steps[0]
    symbols = answer_symbols(layers)
    names = list(symbols)
    entries = gradient_entries(layers, activations, loss)
    keys = list(entries)
    fn = sympy.lambdify([symbols[n] for n in names], [entries[k] for k in keys],
                        modules="numpy")
    for forward, backward in zip(step.forward, step.backward):
        values = _values(layers, forward, step.weights_before)
        got = fn(*(values[n] for n in names))
        for (n, i, j), value in zip(keys, got):
            want = backward.grad[n - 1][i, j - 1]
            assert value == pytest.approx(want, rel=1e-9, abs=1e-12), (n, i, j)


# --------------------------------------------------------------------------- sympy's diff


def _sympy_cost(layers, activations, loss, symbols):
    """J_(t) built directly as a function of x, y and the weights, and the
    forward expressions a[n] (so h and yhat can be evaluated independently)."""
    depth = len(layers) - 1
    a = [symbols[f"x{i}"] for i in range(1, layers[0] + 1)]
    acts = []
    for n in range(1, depth + 1):
        z = [symbols[f"w{n}_0_{j}"] + sum(symbols[f"w{n}_{i}_{j}"] * a[i - 1]
                                          for i in range(1, layers[n - 1] + 1))
             for j in range(1, layers[n] + 1)]
        name = activations[n - 1]
        if name == "sigmoid":
            a = [1 / (1 + sympy.exp(-zj)) for zj in z]
        elif name == "tanh":
            a = [sympy.tanh(zj) for zj in z]
        elif name == "relu":
            a = [sympy.Piecewise((zj, zj > 0), (0, True)) for zj in z]
        elif name == "linear":
            a = z
        else:
            e = [sympy.exp(zj) for zj in z]
            a = [ej / sum(e) for ej in e]
        acts.append(a)
    y = [symbols[f"y{k}"] for k in range(1, layers[-1] + 1)]
    if loss == "mse":
        cost = sum((ah - yk) ** 2 / 2 for ah, yk in zip(a, y))
    elif loss == "bce":
        cost = -sum(yk * sympy.log(ah) + (1 - yk) * sympy.log(1 - ah) for ah, yk in zip(a, y))
    else:
        cost = -sum(yk * sympy.log(ah) for ah, yk in zip(a, y))
    return cost, acts


@pytest.mark.parametrize("layers,activations,loss", [
    ((1, 2, 1), ("sigmoid", "linear"), "mse"),
    ((2, 2, 1), ("tanh", "sigmoid"), "bce"),
    ((1, 2, 2), ("relu", "softmax"), "ce"),
    ((1, 2, 2), ("sigmoid", "softmax"), "mse"),
    ((1, 1, 2, 1), ("sigmoid", "tanh", "sigmoid"), "mse"),
])
def test_entries_match_sympy_diff_of_the_cost(layers, activations, loss):
    symbols = answer_symbols(layers)
    cost, acts = _sympy_cost(layers, activations, loss, symbols)
    rng = np.random.default_rng(7)
    point = {s: float(v) for s, v in zip(
        [symbols[f"x{i}"] for i in range(1, layers[0] + 1)], rng.normal(size=layers[0]))}
    ys = rng.dirichlet(np.ones(layers[-1])) if loss != "mse" else rng.normal(size=layers[-1])
    point.update({symbols[f"y{k + 1}"]: float(v) for k, v in enumerate(ys)})
    for name, sym in symbols.items():
        if name.startswith("w"):
            point[sym] = float(rng.normal(scale=0.8))
    # The unit values, from the directly built forward expressions.
    depth = len(layers) - 1
    for n, a in enumerate(acts, start=1):
        for j, expr in enumerate(a, start=1):
            name = f"yhat{j}" if n == depth else (f"h{j}" if depth == 2 else f"h{n}_{j}")
            point[symbols[name]] = float(expr.xreplace(point))
    entries = gradient_entries(layers, activations, loss)
    # The values by xreplace (put the numbers in, let sympy evaluate): the same
    # numbers as subs, which spent most of this test's seconds on its substitution
    # machinery.
    for (n, i, j), entry in entries.items():
        want = float(sympy.diff(cost, symbols[f"w{n}_{i}_{j}"]).xreplace(point))
        got = float(entry.xreplace(point))
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (n, i, j)


def test_gradient_entry_checks_its_indices():
    with pytest.raises(ValueError):
        gradient_entry([1, 2, 1], ["sigmoid", "linear"], "mse", 3, 0, 1)
    with pytest.raises(ValueError):
        gradient_entry([1, 2, 1], ["sigmoid", "linear"], "mse", 1, 2, 1)
    with pytest.raises(ValueError):
        gradient_entry([1, 2, 1], ["sigmoid", "linear"], "bce", 1, 0, 1)


def test_relu_step_is_heaviside_of_the_unit():
    e = gradient_entry([1, 1, 1], ["relu", "linear"], "mse", 1, 1, 1)
    assert e.has(sympy.Heaviside)
    s = answer_symbols([1, 1, 1])
    assert e.subs(s["h1"], 0) == 0      # derivative 0 at z = 0, like the engine


def test_derivation_of_a_4_8_4_network():
    # (No timing assertion.)  One entry checked against the chain rule by hand:
    # dJ/dw_{4,8}^[1] = [sum_k (yhat_k - y_k) w2_8_k] h8 (1 - h8) x4.
    derivation = derive([4, 8, 4], ["sigmoid", "linear"], "mse")
    entries = gradient_entries([4, 8, 4], ["sigmoid", "linear"], "mse")
    assert len(entries) == 5 * 8 + 9 * 4
    assert derivation.layer[0].entries[4][7] is not None
    s = answer_symbols([4, 8, 4])
    expected = sum((s[f"yhat{k}"] - s[f"y{k}"]) * s[f"w2_8_{k}"] for k in range(1, 5)) \
        * s["h8"] * (1 - s["h8"]) * s["x4"]
    assert sympy.expand(entries[(1, 4, 8)] - expected) == 0
