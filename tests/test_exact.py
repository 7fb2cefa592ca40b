"""`solve --exact`: exact fractions computed with sympy, checked against hand
calculations with Python's fractions and against the float engine."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

sympy = pytest.importorskip("sympy")

from typer.testing import CliRunner  # noqa: E402

from bpnn_steps.cli import app  # noqa: E402
from bpnn_steps.maths.engine import solve  # noqa: E402
from bpnn_steps.maths.exact import exact_decimal, exact_steps  # noqa: E402
from bpnn_steps.files.problem_file import load_problem, parse_problem  # noqa: E402

runner = CliRunner()

LINEAR = """
network: {layers: [1, 1, 1], activations: [linear, linear]}
data: {x: [[0.5], [1.5]], y: [[1], [2]]}
weights: {W1: [[0.1], [0.3]], W2: [[0.2], [0.7]]}
training: {learning_rate: 0.1, l2: 0.01}
"""


def test_decimals_are_read_exactly():
    assert exact_decimal(0.1) == sympy.Rational(1, 10)
    assert exact_decimal(-2.5e-3) == sympy.Rational(-1, 400)
    assert exact_decimal(0.1 + 0.2) is None          # 0.30000000000000004: not a short decimal
    assert exact_decimal(float(np.random.default_rng(0).normal())) is None


def test_linear_network_matches_a_hand_calculation_in_fractions():
    """1-1-1 linear net: yhat = v0 + v1 (w0 + w1 x); everything by hand with Fraction."""
    prob = parse_problem(LINEAR)
    trace = solve(prob)
    ex = exact_steps(prob, trace, 1)[0]
    F = Fraction
    w0, w1, v0, v1, lam, beta = F(1, 10), F(3, 10), F(2, 10), F(7, 10), F(1, 10), F(1, 100)
    grads = []
    for x, y in ((F(1, 2), F(1)), (F(3, 2), F(2))):
        h = w0 + w1 * x
        yhat = v0 + v1 * h
        e = yhat - y
        grads.append({"v0": e, "v1": e * h, "w0": e * v1, "w1": e * v1 * x})
    mean = {k: (grads[0][k] + grads[1][k]) / 2 for k in grads[0]}
    new = {"v0": v0 - lam * (mean["v0"] + beta * v0), "v1": v1 - lam * (mean["v1"] + beta * v1),
           "w0": w0 - lam * (mean["w0"] + beta * w0), "w1": w1 - lam * (mean["w1"] + beta * w1)}
    as_f = lambda v: Fraction(int(v.p), int(v.q))  # noqa: E731
    assert as_f(ex.samples[0].grad[1][1][0]) == grads[0]["v1"]
    assert as_f(ex.samples[1].grad[0][1][0]) == grads[1]["w1"]
    assert as_f(ex.weights_after[1][0][0]) == new["v0"]
    assert as_f(ex.weights_after[0][1][0]) == new["w1"]
    assert as_f(ex.weights_after[1][1][0]) == new["v1"]


@pytest.mark.parametrize("name", ["lecture_122", "quiz_11", "classification_121",
                                  "softmax_233", "deep_1221"])
def test_exact_values_agree_with_the_float_engine(name):
    prob = load_problem(name)
    trace = solve(prob)
    exact = exact_steps(prob, trace, len(trace.steps))
    checked = 0
    for ex, step in zip(exact, trace.steps):
        for es, f, b in zip(ex.samples, step.forward, step.backward):
            for n, (z, a) in enumerate(zip(es.z, es.a)):
                for j, (zv, av) in enumerate(zip(z, a)):
                    for v, want in ((zv, f.z[n][j]), (av, f.a[n][j])):
                        if v is not None:
                            assert float(v) == pytest.approx(want, rel=1e-12, abs=1e-12)
                            checked += 1
            for n, g in enumerate(es.grad):
                for i, row in enumerate(g):
                    for j, v in enumerate(row):
                        if v is not None:
                            assert float(v) == pytest.approx(b.grad[n][i, j], rel=1e-10,
                                                             abs=1e-12)
                            checked += 1
    assert checked >= 6


def test_lecture_exact_values_in_every_format():
    result = runner.invoke(app, ["solve", "lecture_122", "--exact"])
    assert result.exit_code == 0, result.output
    assert "z₁,₍₁₎⁽¹⁾ = 1/5 ≈ 0.2" in result.stdout
    assert "h₁,₍₁₎    = 1/(exp(-1/5) + 1) ≈ 0.550" in result.stdout
    result = runner.invoke(app, ["solve", "lecture_122", "--exact", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["exact"][0]["forward"][0]["z"][0][0] == {"text": "1/5", "latex": r"\frac{1}{5}"}
    assert doc["steps"][0]["weights_after"]["W2"][0][0] == pytest.approx(2.24379, abs=1e-5)
    result = runner.invoke(app, ["solve", "lecture_122", "--exact", "--format", "latex"])
    assert r"\frac{1}{5} \approx 0.2" in result.stdout
    result = runner.invoke(app, ["solve", "lecture_122", "--exact", "--format", "markdown"])
    assert r"\frac{1}{5} \approx 0.2" in result.stdout


def test_linear_exact_update_is_shown_as_fractions(tmp_path):
    path = tmp_path / "lin.yaml"
    path.write_text(LINEAR)
    result = runner.invoke(app, ["solve", str(path), "--exact"])
    assert result.exit_code == 0, result.output
    new_v0 = Fraction(2, 10) - Fraction(1, 10) * (
        ((Fraction(2, 10) + Fraction(7, 10) * (Fraction(1, 10) + Fraction(3, 10) / 2) - 1)
         + (Fraction(2, 10) + Fraction(7, 10) * (Fraction(1, 10) + Fraction(9, 20)) - 2)) / 2
        + Fraction(1, 100) * Fraction(2, 10))
    assert f"{new_v0.numerator}/{new_v0.denominator}" in result.stdout
