"""Marking that cannot be fooled (issue 9): formulas over budget or not equivalent
are never accepted and never hang; odd numbers in answer files are clear errors;
a transposed matrix is marked the same way whatever its shape; no key, spelling or
formula of numbers earns a mark twice or one that was not earned.

Expected values are the lecture's (the comments of tests/test_check.py), the
test helpers' independent scalar reference (tests/helpers.py) or sympy built here
by hand, never bpnn_steps' own output.
"""

from __future__ import annotations

import math
import os
import re
from fractions import Fraction
from pathlib import Path

import pytest

sympy = pytest.importorskip("sympy")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

import helpers  # noqa: E402
from bpnn_steps.cli import app  # noqa: E402
from bpnn_steps.marking.marker import check_file  # noqa: E402
from bpnn_steps.maths import formula as formula_module  # noqa: E402
from bpnn_steps.maths.formula import FormulaError, compare, parse  # noqa: E402

runner = CliRunner()


def sheet(tmp_path: Path, body: str, problem: str = "lecture_122", name: str = "a.yaml"
          ) -> Path:
    path = tmp_path / name
    path.write_text(f"problem: {problem}\nanswers:\n{body}", encoding="utf-8")
    return path


def group_entries(result, key: str):
    return [e for g in result.groups if g.key == key for e in g.entries]


# --------------------------------------------------------------------------- formulas by hand

# Quiz 1.1 (2-2-2, sigmoid hidden, linear output, mse), per the lecture:
#   dJ/dw_{0,1}^[1] = [(yhat1 - y1) w2_1_1 + (yhat2 - y2) w2_1_2] h1 (1 - h1)
NAMES = ("h1", "h2", "w2_1_1", "w2_1_2", "x1", "x2", "y1", "y2", "yhat1", "yhat2")
S = {n: sympy.Symbol(n, real=True) for n in NAMES}
W1_ENTRY_TEXT = "((yhat1 - y1) w2_1_1 + (yhat2 - y2) w2_1_2) h1 (1 - h1)"
W1_ENTRY = ((S["yhat1"] - S["y1"]) * S["w2_1_1"] + (S["yhat2"] - S["y2"]) * S["w2_1_2"]) \
    * S["h1"] * (1 - S["h1"])
# A gradient with e in it (a softplus-like unit: f'(z) = sigmoid(z), z written h1 here),
# so that inexact values are compared as well as exact ones.
SOFT_ENTRY_TEXT = "(yhat1 - y1) x1 exp(h1) / (1 + exp(h1))"
SOFT_ENTRY = (S["yhat1"] - S["y1"]) * S["x1"] * sympy.exp(S["h1"]) / (1 + sympy.exp(S["h1"]))
EXPECTED = {"polynomial": (W1_ENTRY_TEXT, W1_ENTRY), "with e": (SOFT_ENTRY_TEXT, SOFT_ENTRY)}


def accepted(text: str, expected) -> bool:
    """Whether the marker's equivalence test accepts ``text`` (unreadable: no)."""
    try:
        formula = parse(text, NAMES)
    except FormulaError:
        return False
    return compare(formula, expected, S).equivalent


def test_the_right_formulas_are_accepted():
    for text, expr in EXPECTED.values():
        assert accepted(text, expr)
        assert accepted(sympy.sstr(sympy.expand(expr)), expr)          # expanded


WILD = {
    "exp(1000)": "exp(1000)",
    "exp(100000)": "exp(100000)",
    "exp(exp(exp(100)))": "exp(exp(exp(100)))",
    "x**x**x**99999": "x1**x1**x1**99999",
    "10,000 parentheses": "(" * 10_000 + "h1" + ")" * 10_000,
    "1 MB": "h1 + " * 200_000 + "h1",
    "huge term": W1_ENTRY_TEXT + " + exp(exp(exp(100)))",
    "huge times zero": "(" + W1_ENTRY_TEXT + ") + 0 * exp(1000)",
    "overflow cancels": "(" + W1_ENTRY_TEXT + ") + exp(1000) - exp(1000)",
    "divides by zero": "(" + W1_ENTRY_TEXT + ") + 1/(h1 - h1)",
    "huge function argument": "tanh(1e300 h1)",
    "power of a huge number": "(1e90 h1)^32",
    "root of a negative": "(" + W1_ENTRY_TEXT + ") (h1 - 0.5)^(1/2) / (h1 - 0.5)^(1/2)",
}


@pytest.fixture
def no_clock(monkeypatch):
    """The marker's wall-clock backstop out of reach: "quickly" is then a matter of
    the formula limits alone (length, depth, size, evaluation steps), which bound
    the work on any machine, where a time limit in a test would only measure the
    machine.  A formula that needed the backstop would hang the test."""
    monkeypatch.setattr(formula_module, "MAX_SECONDS", math.inf)
    monkeypatch.setattr(formula_module, "MAX_RUN_SECONDS", math.inf)


@pytest.mark.parametrize("text", WILD.values(), ids=WILD.keys())
def test_wild_formulas_are_refused_quickly(text, no_clock):
    # None of these is the gradient (even "huge times zero" is not: 0 * exp(1000) is
    # 0, but a mark for it would rest on a number no hand calculation can reach).
    assert not accepted(text, W1_ENTRY)


def test_a_file_s_formulas_share_one_budget(tmp_path, no_clock, monkeypatch):
    """A wrong formula is compared with every other entry's to diagnose it, each
    comparison within its own budget: 31 formulas each near it took 66 s.  The
    comparisons of one file draw on one budget too; past it, a formula is not
    evaluated (wrong, never right).  With the file's budget made small, the second
    of two right formulas is past it."""
    monkeypatch.setattr(formula_module, "MAX_RUN_STEPS", 350)   # about 100 a formula
    second = W1_ENTRY_TEXT.replace("w2_1_1", "w2_2_1").replace("w2_1_2", "w2_2_2") \
        .replace("h1", "h2")
    rows = [[W1_ENTRY_TEXT, second]] + [[f"({a}) x{i}" for a in (W1_ENTRY_TEXT, second)]
                                        for i in (1, 2)]
    body = "  grad W[1](t):\n" + "".join(
        "    - [" + ", ".join(f'"{c}"' for c in row) + "]\n" for row in rows)
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    marks = [(e.mark, e.cause) for e in group_entries(result, "grad W[1](t)")]
    assert marks[0] == ("correct", None) and ("wrong", "unevaluated") in marks, marks
    assert not any(m == ("correct", None) for m in marks[marks.index(("wrong",
                                                                     "unevaluated")):])
    assert any("for the file's formulas in all" in e.message
               for e in group_entries(result, "grad W[1](t)"))


def test_wild_formulas_in_an_answer_file_are_wrong_with_a_note(tmp_path, no_clock):
    cells = ['"exp(1000)"', '"exp(100000)"', '"exp(exp(exp(100)))"', '"x1**x1**x1**99999"',
             '"' + "(" * 10_000 + "h1" + ")" * 10_000 + '"', '"exp(1000) - exp(1000)"']
    body = ("  grad W[1](t):\n"
            f"    - [{cells[0]}, {cells[1]}]\n    - [{cells[2]}, {cells[3]}]\n"
            f"    - [{cells[4]}, {cells[5]}]\n")
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    got = [(e.mark, e.cause) for e in group_entries(result, "grad W[1](t)")]
    assert got == [("wrong", "unevaluated")] * 3 + [("invalid", "formula")] * 2 + \
        [("wrong", "unevaluated")]
    for e in group_entries(result, "grad W[1](t)"):
        if e.cause == "unevaluated":
            assert e.message.startswith("could not be evaluated") and "too large" in e.message
    assert result.credited == 0


def test_a_one_megabyte_formula_is_refused_in_an_answer_file(tmp_path, no_clock):
    body = '  grad W[2](t): [["' + "h1+" * 300_000 + 'h1", ~], [~, ~], [~, ~]]\n'
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    first = group_entries(result, "grad W[2](t)")[0]
    assert first.mark == "invalid" and "too long" in first.message


def test_undefined_where_the_gradient_is_defined_is_not_equivalent():
    # sqrt(h1 - 1/2)^2 / (h1 - 1/2) is 1 where h1 > 1/2 and undefined below: the
    # gradient times it equals the gradient on half the points only.
    text = "(" + W1_ENTRY_TEXT + ") (h1 - 0.5)^(1/2) (h1 - 0.5)^(1/2) / (h1 - 0.5)"
    result = compare(parse(text, NAMES), W1_ENTRY, S)
    assert not result.equivalent and result.unevaluated is not None


# dJ/dw_{1,1}^[1] of quiz 1.1: the entry above times x1 (sympy, by hand).
X1_ENTRY = W1_ENTRY * S["x1"]


@pytest.mark.parametrize("text", [
    # right wherever the weights and inputs are positive, wrong elsewhere: every
    # symbol was drawn in (0.1, 0.9), so each passed (quiz 1.1 has a weight of -0.3)
    W1_ENTRY_TEXT.replace("w2_1_1", "relu(w2_1_1)") + " x1",
    W1_ENTRY_TEXT.replace("w2_1_2", "sqrt(w2_1_2^2)") + " x1",
    W1_ENTRY_TEXT.replace("w2_1_1", "exp(log(w2_1_1))") + " x1",
    W1_ENTRY_TEXT + " relu(x1)",
    W1_ENTRY_TEXT + " x1 step(x1)",
    W1_ENTRY_TEXT + " sqrt(x1) sqrt(x1)",
    # a term too small to tell within the agreement of inexact values
    f"({W1_ENTRY_TEXT}) x1 + 1e-50 exp(x1)",
    f"({W1_ENTRY_TEXT}) x1 exp(1e-45)",
    f"({W1_ENTRY_TEXT}) x1 + exp(-100) h1",
])
def test_a_formula_right_only_on_part_of_the_domain_is_not_accepted(text):
    from sympy.parsing.sympy_parser import (implicit_multiplication_application,
                                            parse_expr, standard_transformations)

    assert not accepted(text, X1_ENTRY)
    # sympy, independently: each is another function (at negative weights and inputs,
    # or by the tiny term), at a point of quiz 1.1's kind, to 60 digits
    point = {S["h1"]: sympy.Rational(2, 5), S["w2_1_1"]: sympy.Rational(-3, 10),
             S["w2_1_2"]: sympy.Rational(-1, 5), S["x1"]: sympy.Rational(-1, 2),
             S["y1"]: sympy.Rational(1, 5), S["y2"]: sympy.Rational(7, 10),
             S["yhat1"]: sympy.Rational(1, 2), S["yhat2"]: sympy.Rational(1, 10)}
    theirs = parse_expr(text.replace("^", "**").replace("relu(", "Max(0, ")
                        .replace("step(", "Heaviside("), local_dict=dict(S),
                        transformations=standard_transformations +
                        (implicit_multiplication_application,), evaluate=True)
    import re

    rooted = re.findall(r"(?:log|sqrt)\((\w+)\)", text)
    if rooted:      # (sympy makes exp(log(w)) w and sqrt(x) sqrt(x) x: complex values)
        assert any(point[S[n]] < 0 for n in rooted), "a log or root of a negative: no real value"
        return
    value = theirs.subs(point)
    assert not value.is_real or \
        abs(sympy.N(value - X1_ENTRY.subs(point), 60)) > sympy.Float("1e-55", 60), text


# Stand-ins for a value s that agree with it only where s is positive or below 1.
STAND_INS = {"relu": "relu({s})", "sqrt of the square": "sqrt({s}^2)",
             "exp of log": "exp(log({s}))", "step below 1": "{s} step(1 - {s}^2)"}


@pytest.mark.parametrize("how", sorted(STAND_INS))
def test_a_stand_in_for_any_unbounded_value_is_refused_at_the_seeded_points(
        how, monkeypatch):
    """Quiz 1.1 with a linear output and mse: its weights, inputs, outputs and targets
    can be any number.  Each written as a stand-in that is right only for positive
    values (or below 1) is refused by the seeded points alone, the same in every run:
    with x2 positive at all four of them, sqrt(x2^2) for x2 was right one run in
    four (when the fresh points happened to reach a negative x2)."""
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.marking.marker import _value_spans
    from bpnn_steps.maths import formula as f

    monkeypatch.setattr(f, "SECRET_PROBES", 0)
    problem = load_problem(helpers.BUNDLED / "quiz_11.yaml")
    assert problem.activations[-1] == "linear" and problem.loss == "mse"
    spans = _value_spans(problem)
    names = [n for n in sorted(S) if n[0] in "wx" or n.startswith(("yhat", "y"))]
    assert "yhat1" in names and "y2" in names and "x2" in names
    for name in names:
        # the gradient times the value, and with the value's stand-in (sympy gives
        # the same product at a point where the value is -1/2 or 3/2: see below)
        expected = W1_ENTRY * S[name]
        student = f"({W1_ENTRY_TEXT}) " + STAND_INS[how].format(s=name)
        result = f.compare(parse(student, NAMES), expected, S, f.ExpectedCache(spans))
        assert not result.equivalent, (name, student)
    # sympy, independently: each stand-in differs from s at s = -1/2 or at s = 3/2
    # (exp(log(s)) has no real value at s = -1/2: its log is complex)
    s_ = sympy.Symbol("s", real=True)
    if how == "exp of log":
        assert not sympy.log(sympy.Rational(-1, 2)).is_real
        return
    stand_in = {"relu": sympy.Max(0, s_), "sqrt of the square": sympy.sqrt(s_ ** 2),
                "step below 1": s_ * sympy.Heaviside(1 - s_ ** 2)}[how]
    assert any(stand_in.subs(s_, v) != v
               for v in (sympy.Rational(-1, 2), sympy.Rational(3, 2)))


def test_the_seeded_points_reach_both_signs_and_beyond_one_for_every_unbounded_value():
    from bpnn_steps.maths.formula import PROBES, UNBOUNDED, probe_points

    names = sorted(S)
    points = probe_points(names, count=PROBES, spans={n: UNBOUNDED for n in names})
    for n in names:
        values = [p[n] for p in points]
        assert min(values) < 0 < max(values), (n, values)
        assert min(abs(v) for v in values) < 1 < max(abs(v) for v in values), (n, values)


def test_formulas_of_a_linear_output_are_probed_beyond_the_unit_interval(tmp_path):
    # Quiz 1.1's outputs are linear and its loss mse: y-hat and y can be any number,
    # so sqrt(yhat1^2) is not yhat1, nor relu(yhat2) yhat2, nor "h1 step(1 - yhat1)"
    # h1 (each was accepted with y-hat and y drawn in (0.1, 0.9) only).
    body = ('  grad W[2](t):\n'
            '    - ["sqrt(yhat1^2) - sqrt(y1^2)", "relu(yhat2) - relu(y2)"]\n'
            '    - ["(yhat1 - y1) h1 step(1 - yhat1)", "(yhat2 - y2) h1 step(yhat2)"]\n'
            '    - ["(yhat1 - y1) sqrt(h2^2)", "(yhat2 - y2) h2 step(1 - y2)"]\n')
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    marks = [e.mark for e in group_entries(result, "grad W[2](t)")]
    # sqrt(h2^2) is h2: a sigmoid unit is positive
    assert marks == ["wrong", "wrong", "wrong", "wrong", "correct", "wrong"], marks


# The derivative of a relu or leaky_relu unit, by the lecture's rule, read from its
# value h (h > 0 exactly where z > 0; at z = 0 the derivative is relu's 0).
DERIVATIVE = {"relu": "step({h})", "leaky_relu": "(step({h}) + 0.01 (1 - step({h})))"}


@pytest.mark.parametrize("activation", sorted(DERIVATIVE))
def test_a_formula_without_the_relu_derivative_is_not_accepted(tmp_path, activation):
    """With every hidden value in (0.1, 0.9) the relu derivative step(h) was 1 at
    every point, so a gradient without it passed (and leaky_relu's was 1 too): a relu
    unit is probed at 0 as well, a leaky_relu one with either sign."""
    text = (helpers.BUNDLED / "quiz_11.yaml").read_text(encoding="utf-8")
    assert "activations: [sigmoid, linear]" in text
    (tmp_path / "q.yaml").write_text(text.replace("activations: [sigmoid, linear]",
                                                  f"activations: [{activation}, linear]"),
                                     encoding="utf-8")

    def sheet_of(derivative: bool) -> str:
        rows = []
        for x in ("", " x1", " x2"):
            row = []
            for j in (1, 2):
                back = f"((yhat1 - y1) w2_{j}_1 + (yhat2 - y2) w2_{j}_2)"
                factor = " " + DERIVATIVE[activation].format(h=f"h{j}") if derivative else ""
                row.append(f'"{back}{factor}{x}"')
            rows.append("    - [" + ", ".join(row) + "]\n")
        return "  grad W[1](t):\n" + "".join(rows)

    right = check_file(sheet(tmp_path, sheet_of(True), problem="q.yaml"))
    assert [e.mark for e in group_entries(right, "grad W[1](t)")] == ["correct"] * 6
    without = check_file(sheet(tmp_path, sheet_of(False), problem="q.yaml", name="b.yaml"))
    assert [e.mark for e in group_entries(without, "grad W[1](t)")] == ["wrong"] * 6


def test_a_formula_made_for_the_seeded_points_is_not_accepted():
    # The seeded probe points are in the source code; the gradient plus a product
    # that vanishes at exactly those points agrees there, and nowhere else.
    from bpnn_steps.maths.formula import PROBES, probe_points

    seeded = [p["h1"] for p in probe_points(sorted(S), count=PROBES)]
    crafted = "(" + W1_ENTRY_TEXT + ") + " + " * ".join(
        f"(h1 - {v.numerator}/{v.denominator})" for v in seeded)
    # sympy, independently: the added product is not zero (at h1 = 1/2 for one).
    extra = sympy.Mul(*[S["h1"] - sympy.Rational(v.numerator, v.denominator) for v in seeded])
    assert extra.subs(S["h1"], sympy.Rational(1, 2)) != 0
    for _ in range(5):
        assert not accepted(crafted, W1_ENTRY)


# --------------------------------------------------------------------------- property tests

SYMBOL = st.sampled_from(NAMES)
COEFFICIENT = st.fractions(min_value=Fraction(-1000), max_value=Fraction(1000),
                           max_denominator=10 ** 6).filter(lambda c: c != 0)
# Factors defined and never zero on the whole probe box (each symbol of magnitude in
# (0.1, 0.9), weights and inputs of either sign and up to 2.9), as text in the grammar
# and as sympy:
# a term made of them is never zero there.  (1 + s^2, not 1 + s: a weight may be
# near -1, and a formula undefined at w = -1 is not the gradient.)
FACTORS = {
    "s": (lambda s: s, lambda s: s),
    "s^2": (lambda s: f"{s}^2", lambda s: s ** 2),
    "exp(s)": (lambda s: f"exp({s})", sympy.exp),
    "sigmoid(s)": (lambda s: f"sigmoid({s})", lambda s: 1 / (1 + sympy.exp(-s))),
    "tanh(s)": (lambda s: f"tanh({s})", sympy.tanh),
    "log(1 + s^2)": (lambda s: f"log(1 + {s}^2)", lambda s: sympy.log(1 + s ** 2)),
    "sqrt(1 + s^2)": (lambda s: f"sqrt(1 + {s}^2)", lambda s: sympy.sqrt(1 + s ** 2)),
    "1/(1 + s^2)": (lambda s: f"1/(1 + {s}^2)", lambda s: 1 / (1 + s ** 2)),
}


RATIONAL_FACTORS = ["s", "s^2", "1/(1 + s^2)"]


@st.composite
def terms(draw, big_coefficients: bool = False, rational: bool = False, small: bool = False):
    """A non-zero term: c * f1(s1) * ... (text, sympy); ``small``: |c| <= 10 (a
    rewrite through exp(c) stays within the evaluation budget)."""
    c = draw(COEFFICIENT)
    if small:
        c = Fraction(c.numerator % 10 + 1, c.denominator % 7 + 1) * (1 if c > 0 else -1)
    if big_coefficients:            # inexact comparisons hold to 40 digits: keep |c| sane
        c = c if abs(c) >= Fraction(1, 10 ** 6) else Fraction(1, 10 ** 6)
    text, expr = f"({c.numerator}/{c.denominator})", sympy.Rational(c.numerator, c.denominator)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(RATIONAL_FACTORS if rational else sorted(FACTORS)))
        s = draw(SYMBOL)
        write, build = FACTORS[kind]
        text += f" * {write(s)}"
        expr *= build(S[s])
    return text, expr


@settings(max_examples=helpers.examples(60), deadline=5000,
          suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(sorted(EXPECTED)), term=terms(big_coefficients=True),
       how=st.sampled_from(["plus", "minus", "times (1 + term)", "term first"]))
def test_a_formula_that_differs_by_a_term_is_never_accepted(which, term, how):
    text, expected = EXPECTED[which]
    term_text, term_expr = term
    student_text = {"plus": f"({text}) + {term_text}",
                    "minus": f"({text}) - {term_text}",
                    "times (1 + term)": f"({text}) * (1 + {term_text})",
                    "term first": f"{term_text} + {text}"}[how]
    # sympy, independently: the term is not zero at a point of the box, so the
    # student's formula is not the gradient.
    point = {S[n]: sympy.Rational(1, 2) + sympy.Rational(i, 100) for i, n in enumerate(NAMES)}
    assert term_expr.xreplace(point).evalf(50) != 0
    assert not accepted(student_text, expected), student_text


@settings(max_examples=helpers.examples(60), deadline=5000,
          suppress_health_check=[HealthCheck.too_slow])
@given(term=terms(rational=True), which=st.sampled_from(["polynomial"]))
def test_a_tiny_term_in_a_rational_formula_is_never_accepted(term, which):
    # Rational formulas are compared exactly: a term of 1e-300 is still a term.
    text, expected = EXPECTED[which]
    term_text, _ = term
    assert not accepted(f"({text}) + 1e-300 * {term_text}", expected)
    assert not accepted(f"({text}) * (1 + 1e-300 * {term_text})", expected)


@pytest.mark.parametrize("which", sorted(EXPECTED))
@pytest.mark.parametrize("factor", sorted(FACTORS))
def test_a_tiny_inexact_term_is_too_small_to_compare(which, factor):
    # Inexact values are compared to 40 digits; a product far below that (under
    # 1e-100) is refused rather than lost in the comparison.
    text, expected = EXPECTED[which]
    write, _ = FACTORS[factor]
    tiny = f"1e-150 * exp(h1) * {write('h2')}"
    result = compare(parse(f"({text}) + {tiny}", NAMES), expected, S)
    assert not result.equivalent
    assert "too small" in (result.unevaluated or "")


@settings(max_examples=helpers.examples(60), deadline=5000,
          suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(sorted(EXPECTED)), term=terms(small=True),
       how=st.sampled_from(["plus and minus", "times and over", "times exp and exp(-)",
                            "expanded", "factor"]))
def test_rewrites_of_the_gradient_are_accepted(which, term, how):
    text, expected = EXPECTED[which]
    term_text, term_expr = term
    if how == "plus and minus":
        student = f"{term_text} + ({text}) - {term_text}"
    elif how == "times and over":                   # 1 + t^2 is never zero
        student = f"({text}) * (1 + ({term_text})^2) / (1 + ({term_text})^2)"
    elif how == "times exp and exp(-)":
        # (of the values in (0.1, 0.9): exp of a product of weights up to 2.9 leaves
        # the magnitudes a student's formula may reach, which is no rewrite's fault)
        assume(not re.search(r"\b[wx]\d", term_text))
        student = f"({text}) * exp({term_text}) * exp(-{term_text})"
    elif how == "expanded":
        student = sympy.sstr(sympy.expand(expected + term_expr)) + f" - {term_text}"
    else:
        student = sympy.sstr(sympy.factor(expected))
    assume_readable(student)
    assert accepted(student, expected), student


def assume_readable(text: str) -> None:
    from hypothesis import assume

    try:
        parse(text, NAMES)
    except FormulaError:                # e.g. the degree limit: not what is tested here
        assume(False)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("written", ["1e999", "-1e999", ".inf", "-.inf", ".nan", "nan",
                                     "-inf", '"Infinity"', "1" + "0" * 400,
                                     "-" + "9" * 330])
def test_numbers_that_are_not_finite_are_a_clear_error(tmp_path, written):
    path = sheet(tmp_path, f"  h(1): [0.55, 0.55]\n  J: {written}\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert f"{path}:4" in result.output and "answers.J must be a finite number" in result.output


@pytest.mark.parametrize("written, hint", [
    ("19,628", "write 19.628"),          # the lecture's J = 19.628361 with a decimal comma
    ("'19,628'", "write 19.628"),
    ("1,5", "write 1.5"),
    ("'-0,55'", "write -0.55"),
    ("19,628,000", "without thousands separators: 19628000"),
    ('"0,5 + 1"', "',' is not a decimal point"),
])
def test_a_decimal_comma_gets_a_hint(tmp_path, written, hint):
    result = check_file(sheet(tmp_path, f"  J: {written}\n"))
    (entry,) = group_entries(result, "J")
    assert entry.mark == "invalid" and hint in entry.message, entry.message
    assert "',' is not a decimal point" in entry.message or "thousands" in entry.message


def test_a_decimal_comma_in_a_list_gets_a_hint(tmp_path):
    # YAML reads [0,55, 0,55] as four numbers; the count error says why.
    result = runner.invoke(app, ["check", str(sheet(tmp_path, "  h(1): [0,55, 0,55]\n"))])
    assert result.exit_code == 2
    assert "got 4" in result.output and "the decimal point is '.'" in result.output


# --------------------------------------------------------------------------- transposed


def _problem(tmp_path: Path, layers: list[int], x: list[list[float]], y: list[list[float]],
             weights: list[list[list[float]]]) -> Path:
    acts = ["sigmoid"] * (len(layers) - 2) + ["linear"]
    text = (f"network:\n  layers: {layers}\n  activations: [{', '.join(acts)}]\nloss: mse\n"
            f"data:\n  x: {x}\n  y: {y}\nweights:\n" +
            "".join(f"  W{n}: {w}\n" for n, w in enumerate(weights, start=1)) +
            "training:\n  learning_rate: 0.5\n  method: batch\n  epochs: 1\n")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _matrix(m) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.6f}" for v in row) + "]" for row in m) + "]"


# Networks whose W[1] (and W[2]) take each shape: (layers, weights), weights chosen
# so that no two entries of a gradient coincide except where the lecture's formula
# makes them (the bias row).
SHAPES = {
    "2x2": ([1, 2, 1], [[[0.1, -0.2], [0.3, 0.25]], [[0.05], [0.4], [-0.3]]], "W1"),
    "3x2": ([1, 2, 2], [[[0.1, -0.2], [0.3, 0.25]],
                        [[0.05, 0.1], [0.4, -0.2], [-0.3, 0.15]]], "W2"),
    "2x3": ([1, 3, 1], [[[0.1, -0.2, 0.15], [0.3, 0.25, -0.35]],
                        [[0.05], [0.4], [-0.3], [0.2]]], "W1"),
    "3x3": ([2, 3, 1], [[[0.1, -0.2, 0.15], [0.3, 0.25, -0.35], [-0.1, 0.45, 0.2]],
                        [[0.05], [0.4], [-0.3], [0.2]]], "W1"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_transposed_matrix_earns_nothing_whatever_its_shape(tmp_path, shape):
    layers, weights, which = SHAPES[shape]
    x = [[0.7] * layers[0]] if layers[0] == 1 else [[0.7, -1.3]]
    y = [[1.5] * layers[-1]]
    problem = _problem(tmp_path, layers, x, y, weights)
    acts = ["sigmoid"] * (len(layers) - 2) + ["linear"]
    _, _, grads = helpers.ref_gradients(weights, x[0], y[0], acts, "mse")
    grad = grads[int(which[1]) - 1]
    assert f"{len(grad)}x{len(grad[0])}" == shape
    key = f"grad W[{which[1]}](1)"
    right = check_file(sheet(tmp_path, f"  {key}: {_matrix(grad)}\n", problem=problem.name))
    assert right.credited == right.total == len(grad) * len(grad[0])
    transposed = [list(col) for col in zip(*grad)]
    result = check_file(sheet(tmp_path, f"  {key}: {_matrix(transposed)}\n",
                              problem=problem.name, name="b.yaml"))
    entries = group_entries(result, key)
    assert len(entries) == len(grad) * len(grad[0])
    assert [(e.mark, e.cause) for e in entries] == [("wrong", "transposed")] * len(entries)
    assert result.credited == 0
    assert result.mistakes() == {"transposed": len(entries)}


def test_the_lectures_transposed_square_gradient_gives_no_diagonal_marks(tmp_path):
    # grad W[1](2) = [[-0.258398] x2, [-0.516796] x2]; transposed, its diagonal
    # happens to hold the right numbers, which a transposed matrix does not earn.
    body = "  grad W[1](2): [[-0.258398, -0.516796], [-0.258398, -0.516796]]\n"
    result = check_file(sheet(tmp_path, body))
    entries = group_entries(result, "grad W[1](2)")
    assert [e.mark for e in entries] == ["wrong"] * 4
    assert {e.cause for e in entries} == {"transposed"}
    assert "right number, but the matrix is transposed" in entries[0].message
    assert "belongs at" in entries[1].message


def test_a_transposed_square_matrix_with_a_blank_gives_no_diagonal_marks(tmp_path):
    # The 3x3 of SHAPES transposed with one entry left blank: a blank made the matrix
    # unreadable as transposed, so its written diagonal earned marks.
    layers, weights, _ = SHAPES["3x3"]
    x, y = [[0.7, -1.3]], [[1.5]]
    problem = _problem(tmp_path, layers, x, y, weights)
    _, _, grads = helpers.ref_gradients(weights, x[0], y[0], ["sigmoid", "linear"], "mse")
    transposed = [[f"{v:.6f}" for v in col] for col in zip(*grads[0])]
    transposed[2][0] = "~"
    body = "  grad W[1](1): [" + ", ".join("[" + ", ".join(r) + "]" for r in transposed) + "]\n"
    result = check_file(sheet(tmp_path, body, problem=problem.name))
    marks = [(e.mark, e.cause) for e in group_entries(result, "grad W[1](1)")]
    assert marks.count(("blank", None)) == 1 and result.credited == 0
    assert marks.count(("wrong", "transposed")) == 8, marks
    # one number in its mirror's place, the other off the diagonal left blank: that
    # number's mistake alone (the diagonal written right keeps its marks, as it would
    # written alone)
    body = "  grad W[1](2): [[-0.258398, ~], [-0.258398, -0.516796]]\n"
    result = check_file(sheet(tmp_path, body, name="b.yaml"))
    marks = [e.mark for e in group_entries(result, "grad W[1](2)")]
    assert marks == ["correct", "blank", "wrong", "correct"], marks


def test_a_whole_number_in_hex_is_as_precise_as_written(tmp_path):
    # sine_181_sgd's w_7,1 of W[2] new in update 1 is 0.9653: "1" has too few figures
    # for it, and so has 0x1, which was read as "1.0" (two figures, within half a
    # unit: right)
    body = "  update 1:\n    W[2] new: [~, ~, ~, ~, ~, ~, ~, 0x1, ~]\n"
    result = check_file(sheet(tmp_path, body, problem="sine_181_sgd"))
    written = [(e.given_text, e.mark, e.cause) for e in result.entries if e.mark != "blank"]
    assert written == [("1", "wrong", "rounding")], written


def test_a_number_written_as_the_function_it_asks_for_earns_nothing(tmp_path):
    # h(1) = sigmoid(0.2) = 0.549834 (the lecture): written unworked it was marked right
    body = '  h(1): ["sigmoid(0.2)", "1/(1 + exp(-0.2))"]\n  J: "19.628*1"\n'
    result = check_file(sheet(tmp_path, body))
    h = group_entries(result, "h(1)")
    assert [e.mark for e in h] == ["invalid", "invalid"]
    assert "work the value out" in h[0].message and "sigmoid()" in h[0].message
    assert [e.mark for e in group_entries(result, "J")] == ["correct"]     # arithmetic


# --------------------------------------------------------------------------- double counting


# Two spellings of one quantity in one file (h(1) = 0.549834 by the lecture).
SPELLINGS = [
    ("J: 19.628", "cost: 19.628"),
    ("J: 19.628", "J : 19.628"),
    ("h(1): [0.55, 0.55]", "a[1](1): [0.55, 0.55]"),
    ("h(1): [0.55, 0.55]", "h[1](1): [0.55, 0.55]"),
    ("yhat(1): [0.21, 0.21]", "ŷ(1): [0.21, 0.21]"),
    ("yhat(1): [0.21, 0.21]", "YHAT(1): [0.21, 0.21]"),
    ("J(1): 11.074", "J(01): 11.074"),
    ("W[1] new: [[0.205, 0.205], [0.27, 0.27]]", "W[1]new: [[0.205, 0.205], [0.27, 0.27]]"),
    ("grad W[2](1): [[-2.79, -3.79], [-1.534, -2.084], [-1.534, -2.084]]",
     "gradW[2](1): [[-2.79, -3.79], [-1.534, -2.084], [-1.534, -2.084]]"),
    ("grad W[1](t): [[~, ~], [~, ~]]", "gradW[1](t): [[~, ~], [~, ~]]"),
]


@pytest.mark.parametrize("first, second", SPELLINGS, ids=[s[1] for s in SPELLINGS])
def test_a_quantity_given_twice_is_refused(tmp_path, first, second):
    path = sheet(tmp_path, f"  {first}\n  {second}\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "given twice" in result.output or "duplicate key" in result.output


@pytest.mark.parametrize("body", [
    "  h(1): [0.55, 0.55]\n  update 1:\n    h(1): [0.55, 0.55]\n",
    "  update 1:\n    h(1): [0.55, 0.55]\n  update 01:\n    h[1](1): [0.55, 0.55]\n",
    "  J: 19.628\n  J: 19.628\n",
    "  grad W[1](t): [[~, ~], [~, ~]]\n  update 1:\n    grad W[1](t): [[~, ~], [~, ~]]\n",
])
def test_a_quantity_given_again_in_another_section_is_refused(tmp_path, body):
    result = runner.invoke(app, ["check", str(sheet(tmp_path, body))])
    assert result.exit_code == 2
    assert "given twice" in result.output or "duplicate key" in result.output


def test_a_formula_of_numbers_needs_the_figures_of_its_value(tmp_path):
    # h(1) = sigma(0.2) = 0.549834 (by hand below).  0.55 is right as written (2
    # figures); 0.5 has too few; so has 0.5 * 1.0, though "1.0" has two figures.
    h1 = 1 / (1 + math.exp(-0.2))
    assert abs(h1 - 0.549834) < 1e-6
    body = ('  h(1): ["0.5 * 1.0", "0.5 + 0.05"]\n  h(2): ["1.0 * 0.5", "0.55 * 1.00"]\n'
            '  yhat(1): ["0.2 + 0.0", "0.21 + 0.00"]\n')
    result = check_file(sheet(tmp_path, body))
    assert [e.mark for e in group_entries(result, "h(1)")] == ["wrong", "correct"]
    # h(2) = sigma(0.3) = 0.574443: 0.5 is wrong however written, 0.55 * 1.00 = 0.55 too
    assert abs(1 / (1 + math.exp(-0.3)) - 0.574443) < 1e-6
    assert [e.mark for e in group_entries(result, "h(2)")] == ["wrong", "wrong"]
    # yhat(1) = 0.1 + 0.2 h(1) = 0.209967: 0.2 (one figure) is not enough; 0.21 is right
    assert [e.mark for e in group_entries(result, "yhat(1)")] == ["wrong", "correct"]
    assert result.credited == 2


def test_every_entry_is_marked_once(tmp_path):
    # The whole lecture answer sheet, with a few keys spelled differently: one mark
    # per entry of the worked solution, however the keys are spelled.
    body = ("  h(1): [0.55, 0.55]\n  ŷ(1): [0.21, 0.21]\n  J(1): 11.074\n"
            "  a[1](2): [0.574, 0.574]\n  YHAT(2): [0.215, 0.215]\n  cost: 19.628\n"
            "  gradW[2](1): [[-2.79, -3.79], [-1.534, -2.084], [-1.534, -2.084]]\n")
    result = check_file(sheet(tmp_path, body))
    # 2 + 2 + 1 + 2 + 2 + 1 + 6 entries
    assert result.total == 16
    assert result.credited == 16


@pytest.mark.parametrize("written", ["0.000e5", "0.000e2", "0.0000e3", "0.00e5", "00.000e4"])
def test_zero_with_an_exponent_is_not_right_as_written(tmp_path, written):
    # 0.000e5 has three digits after its point but is written to the hundreds: "as
    # written" it would stand for anything within 50 of 0, the lecture's h(1) =
    # 0.549834 and J = 19.628361 included.
    result = check_file(sheet(tmp_path, f"  h(1): [{written}, 0.55]\n  J: {written}\n"))
    assert [e.mark for e in group_entries(result, "h(1)")] == ["wrong", "correct"]
    assert [e.mark for e in group_entries(result, "J")] == ["wrong"]


@pytest.mark.parametrize("written, mark", [
    ("5.50e-1", "correct"),          # 0.550: three figures, right as written
    ("5.5e-1", "correct"),           # 0.55: two figures
    ("5e-1", "wrong"),               # 0.5: one figure, too few
    ("0.0055e2", "correct"),         # 0.55 again
    ("0.005e2", "wrong"),            # 0.5, one figure
])
def test_numbers_with_exponents_are_as_precise_as_their_last_digit(tmp_path, written, mark):
    result = check_file(sheet(tmp_path, f"  h(1): [{written}, ~]\n"))
    assert group_entries(result, "h(1)")[0].mark == mark


@pytest.mark.parametrize("written", ["2.0e-1", "20e-2", "0.020e1"])
def test_a_number_with_an_exponent_has_the_decimals_of_its_last_digit(tmp_path, written):
    # W[1] new of the lecture is [[0.2 - 0.3*(-0.258...)...]] = 0.27 to two decimals at
    # each entry's own place (0.277, 0.277 / 0.355, 0.355 to three).  0.20 is none of
    # them; a hand calculation rounded to ONE decimal at every step (h = 0.5, ...)
    # gives 0.2, so crediting "rounding 1" to 2.0e-1 (written to the hundredths,
    # as 0.20 is) took its decimals from the mantissa alone: it is 0.20, not 0.2.
    plain = check_file(sheet(tmp_path, "  W[1] new: [[0.20, 0.20], [0.30, 0.30]]\n",
                             name="plain.yaml"))
    body = f"  W[1] new: [[{written}, {written}], [0.30, 0.30]]\n"
    result = check_file(sheet(tmp_path, body))
    marks = [(e.mark, e.accepted) for e in group_entries(result, "W[1] new")]
    assert marks == [(e.mark, e.accepted) for e in group_entries(plain, "W[1] new")]
    assert [m for m, _ in marks] == ["wrong"] * 4, marks


def test_a_calculation_rounded_to_one_decimal_is_credited_only_when_asked(tmp_path):
    # The lecture's W[2] new has w_1,1 = 1.314 and w_1,2 = 1.308.  Rounding every step
    # to one decimal (h = 0.5 for 0.5498, ...) ends at 1.4 and 1.3: two figures each,
    # so "as written" 1.4 is not 1.314, and only --round-as-you-go 1 asks for the
    # one-decimal calculation (1.3 is right as written anyway).
    body = "  W[2] new: [[~, ~], [1.4, 1.3], [~, ~]]\n"
    path = sheet(tmp_path, body)
    marks = [(e.mark, e.accepted) for e in group_entries(check_file(path), "W[2] new")
             if e.mark != "blank"]
    assert marks == [("wrong", None), ("correct", "exact")], marks
    from bpnn_steps.marking.marker import Options

    asked = check_file(path, options=Options(round_as_you_go=1))
    marks = [(e.mark, e.accepted) for e in group_entries(asked, "W[2] new") if e.mark != "blank"]
    assert marks == [("correct", "rounding 1"), ("correct", "exact")], marks


def test_a_formula_of_numbers_is_as_precise_as_its_finest_place(tmp_path):
    # "0.000e5 + 0.55" is 0.55, written to the hundredths by its 0.55 (the 0.000e5 is
    # written to the hundreds); h(1) = 0.549834 by the lecture: right as written.
    # "0.000e5 + 0.5" is 0.5: one figure, too few.
    body = '  h(1): ["0.000e5 + 0.55", "0.000e5 + 0.5"]\n'
    result = check_file(sheet(tmp_path, body))
    assert [e.mark for e in group_entries(result, "h(1)")] == ["correct", "wrong"]


# A gamed earlier answer, for every quantity of the first sample it can stand in:
# (name, the value written for every entry).  A consistent student's later numbers
# follow from it, so follow-through would credit all of them were it not refused.
GAMED = [("all but zero", 1e-11), ("out of all proportion", -1e12),
         ("saturated", 0.9999)]


def _written(x: float) -> str:
    """A number as a student writes it: three decimals, or as it is beyond them."""
    if x == 0 or 1e-3 <= abs(x) < 1e6:
        text = f"{x:.3f}"
        return "0.000" if text == "-0.000" else text
    return repr(float(x))


# Sheets a hostile student wrote: an output a hair from the targets (one unit in the
# last place: 2.999 for y = 3, 0.999 for y = 1), or a saturated h, then every later
# number as consistent with it as the marker computes, and the old weights copied as
# the new ones.  Each earned follow-through for most of the sheet (36 of 47 entries,
# 17 of 25, 4 of 10, 4 of 12).  The lecture's numbers (tests/test_check.py): y-hat(1)
# is 0.210 for y = (3, 4); classification_121's y-hat(1) 0.574 for y = 1.
GAMED_SHEETS = {
    "lecture_122": """\
  h(1): [0.550, 0.550]
  yhat(1): [2.999, 3.999]
  h(2): [0.574, 0.574]
  yhat(2): [5.999, 4.999]
  delta[2](1): [-0.001, -0.001]
  delta[2](2): [-0.001, -0.001]
  grad W[2](1): [[-0.001, -0.001], [-0.00055, -0.00055], [-0.00055, -0.00055]]
  grad W[2](2): [[-0.001, -0.001], [-0.000574, -0.000574], [-0.000574, -0.000574]]
  grad W[2]: [[-0.001, -0.001], [-0.000562, -0.000562], [-0.000562, -0.000562]]
  W[2] new: [[0.100, 0.100], [0.100, 0.100], [0.100, 0.100]]
  grad W[1]: [[-0.00005, -0.00005], [-0.00007, -0.00007]]
  W[1] new: [[0.100, 0.100], [0.100, 0.100]]
""",
    "classification_121": """\
  yhat(1): [0.999]
  J(1): 0.001
  yhat(2): [0.001]
  J(2): 0.001
  yhat(3): [0.999]
  J(3): 0.001
  yhat(4): [0.001]
  J(4): 0.001
  J: 0.001
  delta[2](1): [-0.001]
  delta[2](2): [0.001]
  delta[2](3): [-0.001]
  delta[2](4): [0.001]
  W[2] new: [[0.200], [0.500], [-0.300]]
  W[1] new: [[0.100, -0.200], [0.300, 0.100], [-0.100, 0.400]]
""",
    "saturated h": """\
  h(1): [0.9999, 0.9999]
  h(2): [0.9999, 0.9999]
  delta[1](1): [0.000, 0.000]
  W[1] new: [[0.100, 0.100], [0.100, 0.100]]
""",
    "saturated z": """\
  z[1](1): [100, 100]
  z[1](2): [100, 100]
  grad W[1]: [[0.000, 0.000], [0.000, 0.000]]
  W[1] new: [[0.100, 0.100], [0.100, 0.100]]
""",
}


@pytest.mark.parametrize("case", sorted(GAMED_SHEETS))
def test_an_output_a_hair_from_the_targets_earns_no_follow_through(tmp_path, case):
    problem = case if (helpers.BUNDLED / f"{case}.yaml").exists() else "lecture_122"
    result = check_file(sheet(tmp_path, GAMED_SHEETS[case], problem))
    follow = [(g.key, e.index) for g in result.groups for e in g.entries
              if e.mark == "follow-through"]
    assert not follow, follow
    # the old weights copied as the new ones earn nothing but where they are right
    # (an entry whose right update is under half a unit of the third decimal)
    news = [e for g in result.groups if g.key.endswith("new") for e in g.entries]
    assert all(e.mark == "wrong" or abs(e.given - e.expected) <= 5e-4 for e in news)


@pytest.mark.parametrize("name", ["lecture_122", "deep_1221", "softmax_233"])
def test_the_consequences_of_a_gamed_earlier_answer_earn_nothing(name):
    """Every later number of the first update written as the marker's own chain
    computes it from the gamed answer (the most consistent a student can be): no
    follow-through from zeros in all but name or from a number out of all proportion,
    and never for a written zero that a saturated activation made."""
    import numpy as np

    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.marking.marker import check, checkable
    from bpnn_steps.marking.recompute import EXACT, Chain, trace_env
    from bpnn_steps.marking.reference import Reference
    from bpnn_steps.maths.engine import solve
    from bpnn_steps.model.answer_sheet import AnswerSheet, Cell, Given, Precision
    from bpnn_steps.model.quantities import Kind, answer_quantities, key_of, shape_of

    problem = checkable(load_problem(name))
    trace = solve(problem)
    chain, exact, reference = Chain(problem, trace), trace_env(trace), Reference(problem, trace)
    order = list(chain.nodes(1))
    asked = answer_quantities(problem.layers, trace.steps[0].samples, 1)
    credited = []
    for i, gamed in enumerate(order):
        if gamed not in asked or gamed.kind not in (Kind.Z, Kind.A, Kind.DELTA) or \
                gamed.sample != 1:
            continue
        for how, value in GAMED:
            env = dict(exact)
            env[gamed] = made = np.full_like(np.asarray(exact[gamed], dtype=float), value)
            values = {gamed: made}
            for q in order[i + 1:]:
                env[q] = values[q] = chain.calc(q, env, EXACT)
            entries = []
            for q in (q for q in asked if q in values):
                numbers = np.asarray(values[q], dtype=float).ravel()
                if not np.all(np.isfinite(numbers)):
                    continue
                texts = [_written(x) for x in numbers]
                entries.append(Given(key_of(q, problem.depth), q, None, tuple(
                    Cell(float(t), t, Precision.of(t), None) for t in texts),
                    tuple(shape_of(q.kind, q.layer, problem.layers))))
            result = check(AnswerSheet("a.yaml", "s", "", None, tuple(entries), ()),
                           problem, trace, reference=reference)
            flowed = [e for e in result.entries if e.mark == "follow-through"
                      and (how != "saturated" or e.given == 0)]
            credited += [(str(gamed), how, e.key, e.given_text) for e in flowed]
    assert not credited, credited[:5]


# Copies and ones: the lecture's numbers (section 1.1): x = 1 and 2 for the two
# samples, W[1] = [[0.1, 0.1], [0.1, 0.1]], so z[1](1) = [0.2, 0.2], h(1) = [0.550,
# 0.550], y-hat(1) = [0.210, 0.210]; z[1](2) = [0.3, 0.3], h(2) = [0.574, 0.574].
COPIED = {
    # sample 1's numbers written for sample 2: consistent, and not done
    "another sample": "  z[1](2): [0.200, 0.200]\n  h(2): [0.550, 0.550]\n"
                      "  yhat(2): [0.210, 0.210]\n",
    # a delta of ones makes the gradient [1; x] = [[1, 1], [1, 1]] for x = 1
    "ones": "  delta[1](1): [1.0, 1.0]\n  grad W[1](1): [[1.0, 1.0], [1.0, 1.0]]\n",
    # ... of tens, or all but ones: [1; h] with the decimal point moved, or as it is
    # (h(1) = 0.550)
    "tens": "  delta[2](1): [10, 10]\n  grad W[2](1): [[10, 10], [5.5, 5.5], [5.5, 5.5]]\n",
    "all but ones": "  delta[2](1): [0.9999, 0.9999]\n"
                    "  grad W[2](1): [[1.000, 1.000], [0.550, 0.550], [0.550, 0.550]]\n",
    # ... never written: y-hat one below each target y(1) = [3, 4] (the lecture's)
    "a y-hat one below y": "  yhat(1): [2, 3]\n"
                           "  grad W[2](1): [[-1, -1], [-0.55, -0.55], [-0.55, -0.55]]\n",
    # sample 1's gradient for sample 2, one cell left blank (the lecture's grad W[2](1)
    # is [[-2.790, -3.790], [-1.534, -2.084], [-1.534, -2.084]]), then the "mean"
    "a copy with a blank": "  grad W[2](2): [[-2.790, -3.790], [-1.534, -2.084], [-1.534, ~]]\n"
                           "  grad W[2]: [[-2.790, -3.790], [-1.534, -2.084], [-1.534, -2.084]]\n",
    # a y-hat 500,000 times too large, written to two figures: y (3 and 4) and
    # h(1 - h) vanish in its last place
    "huge and coarse": "  yhat(1): [1.0e5, 1.0e5]\n"
                       "  grad W[2](1): [[1.0e5, 1.0e5], [5.5e4, 5.5e4], [5.5e4, 5.5e4]]\n",
}


@pytest.mark.parametrize("case", sorted(COPIED))
def test_numbers_copied_or_made_of_ones_earn_no_follow_through(tmp_path, case):
    result = check_file(sheet(tmp_path, COPIED[case]))
    marks = [(g.key, e.mark) for g in result.groups for e in g.entries]
    assert all(m in ("wrong", "blank") for _, m in marks), marks
    assert any("degenerate" in e.message or "copied" in e.message for e in result.entries)


def test_an_update_copied_from_the_one_before_earns_no_follow_through(tmp_path):
    # Two epochs of the lecture's example: update 2 starts from W[1] new =
    # [[0.205, 0.205], [0.270, 0.270]] (the lecture's), so its z[1](1) is
    # 0.205 + 0.270 * 1 = 0.475, not update 1's 0.2; update 1's numbers written
    # again for update 2 are consistent with each other and no work of update 2.
    text = (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")
    (tmp_path / "two.yaml").write_text(text.replace("epochs: 1", "epochs: 2"),
                                       encoding="utf-8")
    block = "    z[1](1): [0.200, 0.200]\n    h(1): [0.550, 0.550]\n    yhat(1): [0.210, 0.210]\n"
    body = "  update 1:\n" + block + "  update 2:\n" + block
    result = check_file(sheet(tmp_path, body, problem="two.yaml"))
    first = [e.mark for e in result.entries if e.update == 1]
    second = [e.mark for e in result.entries if e.update == 2]
    assert first == ["correct"] * 6, first
    assert second == ["wrong"] * 6, second
    assert any("update 1's values" in e.message for e in result.entries if e.update == 2)


def test_a_long_run_s_notes_name_a_few_earlier_keys(tmp_path):
    """Every number 0.5 over six SGD updates: each wrong key taints all later ones, and
    each note listed every one of them (a 200-update file printed 2.4 million lines
    in 190 s); a note names the earliest few and counts the rest."""
    import re

    from bpnn_steps.marking.marker import RELIED_SHOWN

    path = tmp_path / "s.yaml"
    made = runner.invoke(app, ["check", "--template", "sine_181_sgd", "--updates", "6",
                               "-o", str(path)])
    assert made.exit_code == 0, made.output
    text = path.read_text(encoding="utf-8")
    head, _, answers = text.partition("\nanswers:\n")
    path.write_text(head + "\nanswers:\n" + answers.replace("~", "0.5"), encoding="utf-8")
    result = check_file(path)
    notes = [e.message for e in result.entries
             if e.message.startswith(("follow-through", "carried forward"))]
    assert notes
    for note in notes:
        relied = re.sub(r"^.*?your (wrong )?", "", note).split(";")[0]
        named = re.sub(r" and \d+ more$", "", relied).split(", ")
        assert len(named) <= RELIED_SHOWN, note
    assert any(re.search(r" and \d+ more", n) for n in notes)


def test_the_report_shows_where_a_problem_file_was_read_from(tmp_path, monkeypatch):
    """A student's folder may hold a problem file named like the bundled one (its y
    the network's own outputs: every gradient zero); a TA re-marking that one file
    saw "[lecture_122.yaml]", as for the real problem.  The header names the file
    read, from the current folder."""
    folder = tmp_path / "sam"
    folder.mkdir()
    (folder / "lecture_122.yaml").write_text(
        (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "answers.yaml").write_text("problem: lecture_122.yaml\nanswers:\n  J: 19.628\n",
                                         encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", "sam/answers.yaml"])
    assert "[sam/lecture_122.yaml]" in result.stdout, result.stdout
    bundled = runner.invoke(app, ["check", str(helpers.REPO / "examples" / "answers" /
                                               "hand_3dp.yaml")])
    assert "[lecture_122]" in bundled.stdout


@pytest.mark.parametrize("field, value", [("abs_tol", math.nan), ("rel_tol", math.inf),
                                          ("abs_tol", -1e-9), ("min_figures", -1)])
def test_the_api_refuses_a_tolerance_that_is_not_a_number(field, value):
    """check --abs-tol nan is refused on the command line; Tolerance(abs_tol=nan) from
    Python marked exactly right answers wrong, and rel_tol=inf every answer right."""
    from bpnn_steps.marking.diagnose import Tolerance

    with pytest.raises(ValueError, match=field):
        Tolerance(**{field: value})
