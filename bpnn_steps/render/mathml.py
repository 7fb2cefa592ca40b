"""Notation tokens as MathML (the HTML page's maths, rendered natively by current
browsers, with no script and no font download).

Symbols, numbers, operators and matrices get MathML's own structure (subscripts,
superscripts, tables); every other token is written as its Unicode spelling
(:func:`bpnn_steps.render.spelling.unicode`), so that each token has exactly one
spelling of its meaning and a new token needs no second one here.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from ..model.notation import Given, Mat, Num, Op, Sym, Token
from ..numfmt import GIVEN_DECIMALS, MINUS, fmt, fmt_many
from .spelling import number_unicode, unicode

# Plain-text spellings of the bases whose Unicode form is a composed glyph.
_BASES = {"yhat": "ŷ", "Yhat": "Ŷ", "Jbar": "J̄", "Wbar": "W̄", "delta": "δ",
          "lambda": "λ", "beta": "β"}
_BOLD = {"W", "X", "Y", "H", "A", "R", "Z", "Wbar", "Yhat"}


def sym_mathml(sym: Sym) -> str:
    """A symbol with its node indices and sample as a subscript, its layer as a
    superscript ⁽ⁿ⁾ (the lecture's notation)."""
    base = escape(_BASES.get(sym.base, sym.base))
    bold = ' mathvariant="bold"' if sym.base in _BOLD else ""
    base_ml = f"<mi{bold}>{base}</mi>"
    parts = [str(i) for i in sym.indices]
    if sym.suffix == "d":
        parts.insert(0, "d")
    if sym.sample is not None and (sym.sample != "t" or sym.base == "J"):
        parts.append(f"({sym.sample})")
    low = f"<mrow><mi>{escape(','.join(parts))}</mi></mrow>" if parts else ""
    high = f"<mrow><mo>(</mo><mi>{escape(str(sym.layer))}</mi><mo>)</mo></mrow>" \
        if sym.layer is not None else ""
    if low and high:
        text = f"<msubsup>{base_ml}{low}{high}</msubsup>"
    elif low:
        text = f"<msub>{base_ml}{low}</msub>"
    elif high:
        text = f"<msup>{base_ml}{high}</msup>"
    else:
        text = base_ml
    if sym.suffix and sym.suffix != "d":
        text = f"<mrow>{text}<mspace width=\"0.3em\"/><mtext>{escape(sym.suffix)}</mtext></mrow>"
    return text


def mat_mathml(mat: Mat | Given, decimals: int) -> str:
    """A matrix in square brackets, its numbers formatted together (a given matrix
    as the Unicode and LaTeX spellings write it)."""
    rows, cols = mat.value.shape
    values = mat.value.ravel().tolist()
    texts = ([fmt(float(v), GIVEN_DECIMALS, minus=MINUS) for v in values]
             if isinstance(mat, Given) else fmt_many(values, decimals, minus=MINUS))
    body = "".join("<mtr>" + "".join(f"<mtd><mn>{escape(texts[r * cols + c])}</mn></mtd>"
                                     for c in range(cols)) + "</mtr>" for r in range(rows))
    return f'<mrow><mo>[</mo><mtable columnalign="right">{body}</mtable><mo>]</mo></mrow>'


def token_mathml(tok: Token, decimals: int, previous: Token | None = None) -> str:
    if isinstance(tok, Sym):
        return sym_mathml(tok)
    if isinstance(tok, Num):
        text = number_unicode(tok.value, decimals)
        if tok.paren and text.startswith(MINUS) and isinstance(previous, Op):
            return f"<mrow><mo>(</mo><mn>{escape(text)}</mn><mo>)</mo></mrow>"
        return f"<mn>{escape(text)}</mn>"
    if isinstance(tok, Op):
        text = unicode(tok, decimals).strip()
        return f"<mo>{escape(text)}</mo>" if text else '<mspace width="0.3em"/>'
    if isinstance(tok, (Mat, Given)):
        return mat_mathml(tok, decimals)
    # Every other token: its one Unicode spelling, as text of the formula.
    return f"<mtext>{escape(unicode(tok, decimals, previous))}</mtext>"


def expr_mathml(expr: Sequence[Token], decimals: int, display: bool = False) -> str:
    """An expression as one <math> element."""
    out: list[str] = []
    previous: Token | None = None
    for tok in expr:
        out.append(token_mathml(tok, decimals, previous))
        previous = tok
    shown = ' display="block"' if display else ""
    return f"<math{shown}><mrow>{''.join(out)}</mrow></math>"
