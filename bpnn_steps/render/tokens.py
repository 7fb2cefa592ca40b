"""Token-to-text for the plain-text formats (terminal and Markdown/LaTeX maths)."""

from __future__ import annotations

from ..model.notation import Mat, Num, Op, Sym, Token
from ..numfmt import MINUS, fmt


def token_unicode(tok: Token, decimals: int, previous: Token | None = None) -> str:
    if isinstance(tok, Sym):
        return tok.unicode()
    if isinstance(tok, Num):
        text = fmt(tok.value, decimals, minus=MINUS)
        if tok.paren and text.startswith(MINUS) and isinstance(previous, Op):
            return f"({text})"
        return text
    if isinstance(tok, Op):
        return tok.text
    raise TypeError(f"no inline form for {tok!r}")


def token_latex(tok: Token, decimals: int, previous: Token | None = None) -> str:
    if isinstance(tok, Sym):
        return tok.latex()
    if isinstance(tok, Num):
        text = fmt(tok.value, decimals)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        if tok.paren and text.startswith("-") and isinstance(previous, Op):
            return f"({text})"
        return text
    if isinstance(tok, Op):
        return tok.tex
    if isinstance(tok, Mat):
        return matrix_latex(tok, decimals)
    raise TypeError(f"no LaTeX form for {tok!r}")


def matrix_latex(mat: Mat, decimals: int) -> str:
    rows = [" & ".join(token_latex(Num(float(v), paren=False), decimals) for v in row)
            for row in mat.value]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def expr_latex(expr, decimals: int) -> str:
    out = []
    previous = None
    tokens = tuple(expr)
    for k, tok in enumerate(tokens):
        text = token_latex(tok, decimals, previous)
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        # H^{[2]} followed by ^{T} would be a double superscript: brace the base.
        if "^" in text and isinstance(nxt, Op) and nxt.tex.startswith("^"):
            text = "{" + text + "}"
        out.append(text)
        previous = tok
    return "".join(out)


def expr_unicode(expr, decimals: int) -> str:
    out = []
    previous = None
    for tok in expr:
        out.append(token_unicode(tok, decimals, previous))
        previous = tok
    return "".join(out)
