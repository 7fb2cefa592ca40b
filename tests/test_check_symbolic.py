"""Formulas of a generic sample: grad W[n](t) checked for algebraic equivalence.

The expected formulas are the lecture's (section 1.1 and Quiz 1.1), written here
by hand; the checker compares with bpnn_steps.symbolic's derivation.
"""

from __future__ import annotations

import json
import os

import pytest

sympy = pytest.importorskip("sympy")
symbolic = pytest.importorskip("bpnn_steps.maths.symbolic")
if not all(hasattr(symbolic, n) for n in ("answer_symbols", "gradient_entry")):
    pytest.skip("bpnn_steps.symbolic lacks answer_symbols/gradient_entry",
                allow_module_level=True)

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

from bpnn_steps.marking.marker import check_file  # noqa: E402
from bpnn_steps.cli import app  # noqa: E402

runner = CliRunner()

# Quiz 1.1 (2-2-2, sigmoid hidden, linear output, mse), per the lecture:
#   grad W[2](t) = [[yhat1 - y1, yhat2 - y2], [(yhat1 - y1) h1, (yhat2 - y2) h1],
#                   [(yhat1 - y1) h2, (yhat2 - y2) h2]]
#   dJ/dw_{i,j}^[1] = [(yhat1 - y1) w2_j_1 + (yhat2 - y2) w2_j_2] hj (1 - hj) x_i  (x_0 = 1)
ERR1 = "((yhat1 - y1) w2_1_1 + (yhat2 - y2) w2_1_2)"
ERR2 = "((yhat1 - y1) w2_2_1 + (yhat2 - y2) w2_2_2)"


def sheet(tmp_path, body: str, problem: str = "quiz_11"):
    path = tmp_path / "formulas.yaml"
    path.write_text(f"problem: {problem}\nanswers:\n{body}", encoding="utf-8")
    return path


def entries(result, key):
    return [e for g in result.groups if g.key == key for e in g.entries]


def test_lecture_formulas_are_accepted_in_any_equivalent_form(tmp_path):
    body = (
        '  grad W[2](t):\n'
        '    - ["yhat1 - y1", "-(y2 - yhat2)"]\n'
        '    - ["(yhat1 - y1)*h1", "h1 yhat2 - h1 y2"]\n'
        '    - ["(yhat1 − y1)·h2", "(yhat2 - y2) * h2"]\n'
        '  grad W[1](t):\n'
        f'    - ["{ERR1} h1 (1 - h1)", "{ERR2} * (h2 - h2^2)"]\n'
        f'    - ["{ERR1} h1 (1 - h1) x1", "x1 h2 {ERR2} - x1 h2^2 {ERR2}"]\n'
        f'    - ["{ERR1} h1 (1 - h1) x2", "{ERR2} h2 (1 - h2) x2"]\n')
    result = check_file(sheet(tmp_path, body))
    assert result.all_right, [(e.name, e.message) for e in result.entries if e.mark != "correct"]
    assert result.total == 12


def test_wrong_formulas_are_diagnosed(tmp_path):
    body = (
        '  grad W[1](t):\n'
        f'    - ["{ERR1}", "-{ERR2} h2 (1 - h2)"]\n'             # no derivative; sign
        f'    - ["2 {ERR1} h1 (1 - h1) x1", "{ERR1} h1 (1 - h1) x1"]\n'   # factor 2; w_{1,1}'s
        f'    - ["{ERR1} h1 (1 - h1) x1 x2", ~]\n')              # unknown; blank
    result = check_file(sheet(tmp_path, body))
    got = [(e.mark, e.cause) for e in entries(result, "grad W[1](t)")]
    assert got == [("wrong", "missing-derivative"), ("wrong", "sign"),
                   ("wrong", "missing-1/2"), ("wrong", "rearranged"),
                   ("wrong", "unknown"), ("blank", None)]
    messages = [e.message for e in entries(result, "grad W[1](t)")]
    assert "h1(1 − h1)" in messages[0]
    assert "formula of ∂J₍ₜ₎/∂w₁,₁⁽¹⁾" in messages[3]
    assert "the gradient is" in messages[4]


def test_unreadable_and_hostile_formulas_are_per_entry_errors(tmp_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("sympify/parse_expr must never see a formula")

    monkeypatch.setattr(sympy, "sympify", forbidden)
    body = (
        '  grad W[2](t):\n'
        '    - ["__import__(\'os\').system(\'id\')", "yhat2 - y2"]\n'
        '    - ["(yhat1 - y1) * h", "x1^99999"]\n'
        '    - ["' + "(" * 100 + "h2" + ")" * 100 + '", "(yhat2 - y2) h2"]\n'
        '  J: 0.267\n')
    result = check_file(sheet(tmp_path, body))
    got = [(e.mark, e.cause) for e in entries(result, "grad W[2](t)")]
    assert got == [("invalid", "formula"), ("correct", None), ("invalid", "formula"),
                   ("invalid", "formula"), ("invalid", "formula"), ("correct", None)]
    messages = [e.message for e in entries(result, "grad W[2](t)")]
    assert "unexpected character" in messages[0]
    assert "unknown symbol 'h'" in messages[2] and "did you mean" in messages[2]
    assert "exponent" in messages[3] and "nested too deeply" in messages[4]
    assert [e.mark for e in entries(result, "J")] == ["correct"]    # the rest is marked


def test_formulas_in_the_json_report(tmp_path):
    body = '  grad W[2](t): [["yhat1 - y1", ~], [~, ~], [~, ~]]\n'
    result = runner.invoke(app, ["check", str(sheet(tmp_path, body)), "-f", "json"])
    assert result.exit_code == 1                                     # blanks
    group = json.loads(result.stdout)["groups"][0]
    assert group["key"] == "grad W[2](t)" and group["update"] is None
    first = group["entries"][0]
    assert first["mark"] == "correct" and first["given_text"] == "yhat1 - y1"
    assert first["expected_text"] == "yhat1 - y1"


def test_lecture_example_hidden_gradient_formula(tmp_path):
    # 1-2-2 (the lecture example): dJ/dw_{1,1}^[1] = [(yhat1 - y1) w2_1_1 +
    # (yhat2 - y2) w2_1_2] h1 (1 - h1) x1; the "(yhat1 - y1)*h1*(1 - h1)*x1"
    # leaves out the weights and the second output: not equivalent.
    body = ('  grad W[1](t): [[~, ~], ["' + ERR1 + ' h1 (1 - h1) x1", '
            '"(yhat1 - y1)*h1*(1 - h1)*x1"]]\n')
    result = check_file(sheet(tmp_path, body, problem="lecture_122"))
    got = [e.mark for e in entries(result, "grad W[1](t)")]
    assert got == ["blank", "blank", "correct", "wrong"]
