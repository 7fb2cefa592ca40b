"""The per-document spellers (which spell each token and expression object once,
by identity) write exactly what the token-by-token spelling writes, wherever a
shared object stands: a negative number after an operator or alone, a symbol
before a superscript, an expression spelled again."""

from __future__ import annotations

from bpnn_steps.model.notation import MINUS, PLUS, SPACE, T_SUP, TIMES, Apply, Num, Sym
from bpnn_steps.numfmt import MINUS as MINUS_SIGN
from bpnn_steps.render.spelling import (LatexSpeller, UnicodeSpeller, expr_latex,
                                        expr_unicode, spelled_numbers)


def _exprs() -> list[tuple]:
    w, h = Sym("w", (0, 1), None, 2), Sym("H", (), 1, 2)
    negative, positive = Num(-0.5), Num(0.25)
    sigma = Apply("sigmoid", (Num(-1.25, False),))
    formula = (w, PLUS, Sym("w", (1, 1), None, 2), SPACE, Sym("h", (1,), 1))
    return [
        formula, formula,                                   # the same object again
        (negative,), (positive, TIMES, negative), (negative, MINUS, negative),
        (negative, PLUS, w, TIMES, negative),
        (h, T_SUP), (h, SPACE, h, T_SUP), (w, SPACE, h), (h,),       # braced, then not
        (sigma,), (sigma, PLUS, negative), (Sym("z", (1,), 1, 2),),
        (w, PLUS, sigma), tuple(formula),
    ]


def test_unicode_speller_writes_what_expr_unicode_writes() -> None:
    exprs = _exprs()
    values = [tok.value for e in exprs for tok in e if type(tok) is Num] + [-1.25]
    for numbers in (None, spelled_numbers(values, 3)):
        speller = UnicodeSpeller(3, numbers)
        for expr in exprs + exprs[::-1]:
            assert speller.expr(expr) == expr_unicode(expr, 3), expr
    assert UnicodeSpeller(3).expr((Num(2.0), TIMES, Num(-0.5))) == f"2 × ({MINUS_SIGN}0.5)"


def test_latex_speller_writes_what_expr_latex_writes() -> None:
    exprs = _exprs()
    speller = LatexSpeller(3)
    for expr in exprs + exprs[::-1] + [list(e) for e in exprs]:
        assert speller.expr(expr) == expr_latex(tuple(expr), 3), expr
    assert speller.expr((Sym("H", (), 1, 2), T_SUP)) == r"{\mathbf{H}_{(1)}^{[2]}}^{T}"
