"""The safe formula grammar of answer files (bpnn_steps.formula).

Formulas come from students, so nothing here may reach eval/sympify/parse_expr:
the grammar knows numbers, the names it is given, + - * / ^, parentheses and a
few functions, and refuses everything else quickly, with a message.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from bpnn_steps.maths.formula import (MAX_CHARS, MAX_DEPTH, FormulaError, constant_value, parse)

NAMES = {"x1", "x2", "y1", "yhat1", "h1", "h2", "w2_1_1"}


def value(text: str, **values: float) -> float:
    """Evaluate through the parser's own float evaluator (no sympy)."""
    from bpnn_steps.maths.formula import _evaluate

    return _evaluate(parse(text, NAMES).root, values)


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("text, expected", [
    ("1/3", 1 / 3),
    ("0.21 - 3", -2.79),                 # the lecture's yhat - y, written out
    ("2^3^2", 512.0),                    # ^ groups to the right: 2^(3^2)
    ("-2^2", -4.0),                      # ^ binds tighter than a leading minus
    ("(-2)^2", 4.0),
    ("2**3", 8.0),
    ("4^-1", 0.25),
    ("4^(1/2)", 2.0),
    ("2 * 3 + 4 / 8", 6.5),
    ("1e-3 + .5", 0.501),
    ("0.55 \u00d7 2 \u2212 0.1", 1.0),   # the Unicode times and minus of the lecture
    ("exp(0)", 1.0),
    ("ln(1) + log(1)", 0.0),
    ("sqrt(16)", 4.0),
    ("sigmoid(0)", 0.5),
    ("step(-1) + step(2)", 1.0),
])
def test_constant_formulas(text, expected):
    assert constant_value(parse(text)) == pytest.approx(expected, rel=1e-12)


def test_numbers_are_kept_exact():
    f = parse("0.1")
    assert f.root.value == Fraction(1, 10)
    assert f.literal == "0.1"
    assert parse(" -2.790 ").literal == "-2.790"
    assert parse("0.21 - 3").literal is None


def test_symbols_and_implicit_multiplication():
    # h1 (1 - h1) is the lecture's sigmoid derivative, written without a '*'.
    assert value("h1(1 - h1)", h1=0.55) == pytest.approx(0.2475)
    assert value("2h1", h1=0.25) == pytest.approx(0.5)
    assert value("(yhat1 - y1) h1 x1", yhat1=0.21, y1=3, h1=0.55, x1=1) == \
        pytest.approx(-1.5345)
    assert parse("(yhat1 - y1)*w2_1_1", NAMES).names == {"yhat1", "y1", "w2_1_1"}


@pytest.mark.parametrize("text, fragment", [
    ("", "is empty"),
    ("   ", "is empty"),
    ("1 +", "ends too early"),
    ("(1 + 2", "not closed"),
    ("1 + 2)", "unexpected ')'"),
    ("2 3", "missing operator"),
    ("1 $ 2", "unexpected character '$'"),
    ("exp 2", "needs an argument"),
    ("1/0", "divides by zero"),
    ("ln(0)", "log of a number that is not positive"),
    ("sqrt(-1)", "square root of a negative"),
    ("(-8)^(1/2)", "root of a negative"),
])
def test_unreadable_formulas_say_why(text, fragment):
    with pytest.raises(FormulaError) as info:
        constant_value(parse(text))
    assert fragment in str(info.value)


def test_unknown_symbol_names_the_known_ones_with_a_suggestion():
    with pytest.raises(FormulaError) as info:
        parse("w2_11 * h1", NAMES)
    message = str(info.value)
    assert "unknown symbol 'w2_11'" in message and "did you mean 'w2_1_1'" in message


def test_symbols_are_refused_where_a_number_is_expected():
    with pytest.raises(FormulaError, match="a number is expected here"):
        parse("h1 * 2")


# --------------------------------------------------------------------------- hostile input


HOSTILE = [
    "__import__('os').system('id')",
    "__import__(os).system(id)",
    "eval(1)",
    "exec",
    "lambda: 1",
    "x1.__class__",
    "h1[0]",
    "open('/etc/passwd')",
    "globals()",
    "1; 2",
    "`id`",
    "{}",
    "\x1b[2J",
    "9^99999999",
    "2^2^2^2^2",                         # 2^65536
    "(x1^8)^9",                          # degree 72
    "x1^0.3",
    "x1^(1/3)",
    "x1^x1",
    "10^400",
    "((1e300)^32)^32",
    "1e999",
    "1" * 200,
    "exp(exp(exp(exp(1))))",
    "(" * 10_000 + "1" + ")" * 10_000,
    "-" * 10_000 + "1",
    "+".join(["1"] * 1500),
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formulas_are_refused(text):
    # (No timing assertion; a formula that were evaluated instead of refused would
    # hang or raise something other than FormulaError.)
    with pytest.raises(FormulaError):
        f = parse(text, NAMES)
        if f.is_constant:
            constant_value(f)


def test_nesting_and_length_limits_are_stated():
    with pytest.raises(FormulaError, match=f"more than {MAX_DEPTH} levels"):
        parse("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(FormulaError, match=f"at most {MAX_CHARS}"):
        parse("1" + " " * MAX_CHARS)
    # Within the limits all is well: 30 levels of parentheses.
    assert constant_value(parse("(" * 30 + "2" + ")" * 30)) == 2.0


def test_parsing_never_executes_code(tmp_path, monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must never be called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    marker = tmp_path / "pwned"
    for text in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')"):
        with pytest.raises(FormulaError):
            parse(text, NAMES)
    assert not marker.exists()


# --------------------------------------------------------------------------- sympy form


def test_sympy_form_is_built_from_constructors(monkeypatch):
    sympy = pytest.importorskip("sympy")
    from bpnn_steps.maths.formula import compare, to_sympy

    def forbidden(*args, **kwargs):
        raise AssertionError("sympify/parse_expr must never see a formula")

    monkeypatch.setattr(sympy, "sympify", forbidden)
    monkeypatch.setattr(sympy, "parse_expr", forbidden, raising=False)
    symbols = {n: sympy.Symbol(n, real=True) for n in NAMES}
    h1, yhat1, y1, x1 = (symbols[n] for n in ("h1", "yhat1", "y1", "x1"))
    got = to_sympy(parse("(yhat1 - y1) h1(1 - h1) x1", NAMES), symbols)
    assert sympy.expand(got - (yhat1 - y1) * h1 * (1 - h1) * x1) == 0
    assert to_sympy(parse("0.5", NAMES), symbols) == sympy.Rational(1, 2)
    # Equivalent, though written differently (expanded, reordered):
    other = to_sympy(parse("x1 h1 yhat1 - x1 h1 y1 - x1 h1^2 yhat1 + x1 h1^2 y1", NAMES),
                     symbols)
    assert compare(other, got, symbols).equivalent
    # Not equivalent: twice as much is reported as a constant factor of 2.
    double = to_sympy(parse("2 (yhat1 - y1) h1 (1 - h1) x1", NAMES), symbols)
    result = compare(double, got, symbols)
    assert not result.equivalent and result.factor == 2


# --------------------------------------------------------------------------- expected values


def test_the_gradients_values_are_sympys_values():
    """The derivation's entries are valued node by node (Fractions, exp in mpmath):
    the same numbers as sympy's own substitution and evalf, exact exactly where
    sympy's are, for every activation and loss (relu's steps, softplus' e^-h)."""
    sympy = pytest.importorskip("sympy")
    import mpmath

    from bpnn_steps.maths import formula, symbolic
    from bpnn_steps.maths.activations import ACTIVATIONS
    from bpnn_steps.maths.losses import LOSSES

    hidden = [n for n, a in ACTIVATIONS.items() if not a.output_only]
    networks = [((2, 2, 2), (h, "linear"), "mse") for h in hidden]
    networks += [((2, 2, 3), ("tanh", LOSSES[loss].output_activation or "sigmoid"), loss)
                 for loss in LOSSES]
    kinds = set()
    for layers, acts, loss in networks:
        symbols = symbolic.answer_symbols(layers)
        entries = symbolic.gradient_entries(layers, acts, loss)
        for point in formula.probe_points(sorted(symbols), count=3) + [
                {n: Fraction(0) for n in symbols}]:           # exp(0), the steps at 0
            for key, expr in entries.items():
                got = formula._expected_value(expr, symbols, point)
                want = formula.value_at(expr, {symbols[n]: sympy.Rational(v.numerator,
                                                                          v.denominator)
                                               for n, v in point.items()})
                if want is None or not want.is_Rational:
                    assert not isinstance(got, Fraction), (acts, loss, key, point)
                kinds.add("undefined" if want is None else "exact" if want.is_Rational
                          else "inexact")
                if want is None:
                    assert got is None, (acts, loss, key)
                elif want.is_Rational:
                    assert got == Fraction(int(want.p), int(want.q)), (acts, loss, key)
                else:
                    with mpmath.workdps(formula.WORKING_DIGITS):
                        exact = mpmath.mpf(want)
                        assert abs(got - exact) <= abs(exact) * mpmath.mpf(10) ** -140, \
                            (acts, loss, key)
    assert {"exact", "inexact"} <= kinds
