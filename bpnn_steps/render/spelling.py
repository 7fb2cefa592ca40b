"""How every notation token is spelled: in Unicode (terminal text) and in LaTeX
(documents, and the $$ maths of Markdown).

This is the one place where the lecture's notation gets its spellings; content
code builds expressions from the tokens of :mod:`bpnn_steps.model.notation`.
Numbers are formatted by :mod:`bpnn_steps.numfmt`.  sympy is imported only to
spell exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES, loss_formula, loss_latex
from ..model.notation import (GENERIC, Apply, Box, BoxMatrix, CostFormula, DerivativeInValue,
                              Entry, EntryForm, Exact, ExactMatrix, Expr, Formula,
                              FormulaMatrix, Given, Grad, L2Term, LossFormula, Mat, MeanOver,
                              Note, Num, OneOver, Op, OpKind, Partial, PartialOutputs, PartialZ,
                              BatchMean, Component, DownTo, L2Gradient, SoftmaxJacobianT,
                              SoftmaxRatio, SumOver, Sym, Token, Transpose, WeightMatrix, Words,
                              sub)
from ..model.quantities import entry_text
from ..numfmt import GIVEN_DECIMALS, MINUS, fmt, fmt_many

# Rough printed width (characters) of a line of a derivation's formula in LaTeX.
FORMULA_LINE_WIDTH = 72

_UNICODE_OPS = {
    OpKind.PLUS: " + ", OpKind.MINUS: " − ", OpKind.TIMES: " × ", OpKind.EQUALS: " = ",
    OpKind.APPROX: " ≈ ", OpKind.SPACE: " ", OpKind.GAP: "    ", OpKind.HALF: "½",
    OpKind.LEFT: "(", OpKind.RIGHT: ")", OpKind.OPEN: "(", OpKind.CLOSE: ")",
    OpKind.BRACKET_OPEN: "[", OpKind.BRACKET_CLOSE: "]", OpKind.BRACE_OPEN: "{",
    OpKind.BRACE_CLOSE: "}", OpKind.HADAMARD: " ⊙ ", OpKind.TRANSPOSE: "ᵀ",
    OpKind.SQUARED: "²", OpKind.LN: " ln ", OpKind.ONE: "1", OpKind.NEGATED_OPEN: "−(",
    OpKind.LN_ONE: " ln(1", OpKind.CLOSE_PAREN_BRACKET: ")]", OpKind.WORD_SPACE: " ",
    OpKind.SIZED_BRACKET_OPEN: "[", OpKind.SIZED_BRACKET_CLOSE: "]",
}
_UNICODE_OP_NAMES = {kind._name_: text for kind, text in _UNICODE_OPS.items()}
_LATEX_OPS = {
    OpKind.PLUS: " + ", OpKind.MINUS: " - ", OpKind.TIMES: r" \times ", OpKind.EQUALS: " = ",
    OpKind.APPROX: r" \approx ", OpKind.SPACE: r"\,", OpKind.GAP: r"\qquad ",
    OpKind.HALF: r"\tfrac{1}{2}", OpKind.LEFT: r"\left(", OpKind.RIGHT: r"\right)",
    OpKind.OPEN: "(", OpKind.CLOSE: ")", OpKind.BRACKET_OPEN: "[", OpKind.BRACKET_CLOSE: "]",
    OpKind.BRACE_OPEN: r"\{", OpKind.BRACE_CLOSE: r"\}", OpKind.HADAMARD: r" \odot ",
    OpKind.TRANSPOSE: "^{T}", OpKind.SQUARED: "^{2}", OpKind.LN: r" \ln ", OpKind.ONE: "1",
    OpKind.NEGATED_OPEN: "-(", OpKind.LN_ONE: r" \ln(1", OpKind.CLOSE_PAREN_BRACKET: ")]",
    OpKind.WORD_SPACE: " ", OpKind.SIZED_BRACKET_OPEN: r"\left[ ",
    OpKind.SIZED_BRACKET_CLOSE: r" \right]",
}

def _bmatrix(cells: Sequence[Sequence[str]], row_gap: str = r" \\ ") -> str:
    return r"\begin{bmatrix} " + row_gap.join(" & ".join(row) for row in cells) + \
        r" \end{bmatrix}"


def _bracketed(cells: Sequence[Sequence[str]], sep: str = ", ") -> str:
    return "[" + "; ".join(sep.join(row) for row in cells) + "]"


def _box_tex(decimals: int) -> str:
    phantom = "-0." + "0" * decimals if decimals else "-00"
    return rf"\boxed{{\phantom{{{phantom}}}}}"


def _grad_sample(t: int | str | None, bound: bool) -> str:
    if t is None or (t == GENERIC and not bound):
        return ""
    return sub(f"({t})")


def _symbolic() -> Any:
    from ..maths import symbolic
    return symbolic


def _exact() -> Any:
    # sympy's printing, each value printed once (maths.exact imports sympy).
    from ..maths import exact
    return exact


# --------------------------------------------------------------------------- Unicode


# A worked solution spells the same symbols, and many of the same numbers (weights,
# inputs), again and again.
@lru_cache(maxsize=65536)
def _sym_unicode(sym: Sym) -> str:
    # Keyed by the symbol itself: its hash is the tuple's (C), and the report
    # passes the same symbol objects again and again, found by identity.
    return sym.unicode()


@lru_cache(maxsize=65536)
def number_unicode(value: float, decimals: int) -> str:
    """A number as the terminal writes it (numfmt's policy, a real minus sign)."""
    # -0.0 and 0.0 share an entry: both are written "0".
    return fmt(value, decimals, minus=MINUS)


def numbers_unicode(values: Sequence[float], decimals: int) -> list[str]:
    """:func:`number_unicode` of each value, formatted together (a whole matrix)."""
    return fmt_many(values, decimals, minus=MINUS)


def spelled_numbers(values: Sequence[float], decimals: int) -> dict[float, str]:
    """Each value's :func:`number_unicode`, formatted together: a whole document's
    numbers in one pass (-0.0 and 0.0 share an entry: both are written "0")."""
    unique = list(dict.fromkeys(values))     # a weight or an input recurs many times
    return dict(zip(unique, numbers_unicode(unique, decimals)))


def _num_unicode(tok: Num, decimals: int, previous: Token | None,
                 numbers: Mapping[float, str] | None = None) -> str:
    text = numbers.get(tok.value) if numbers else None
    if text is None:
        text = number_unicode(tok.value, decimals)
    if tok.paren and text[:1] == MINUS and isinstance(previous, Op):
        return f"({text})"
    return text


def unicode(tok: Token, decimals: int, previous: Token | None = None) -> str:
    """One token in Unicode; ``previous`` decides whether a negative number needs
    parentheses (after an operator)."""
    # The common tokens first, without the isinstance chain.
    if type(tok) is Num:
        return _num_unicode(tok, decimals, previous)
    if type(tok) is Sym:
        return _sym_unicode(tok)
    if type(tok) is Op:
        return _UNICODE_OPS[tok.kind]
    if isinstance(tok, Sym):
        return tok.unicode()
    if isinstance(tok, Num):
        text = fmt(tok.value, decimals, minus=MINUS)
        if tok.paren and text.startswith(MINUS) and isinstance(previous, Op):
            return f"({text})"
        return text
    if isinstance(tok, Op):
        return _UNICODE_OPS[tok.kind]
    if isinstance(tok, Grad):
        w = Sym("W", (), None, tok.layer)
        return f"∇J{_grad_sample(tok.sample, tok.bound)}({w.unicode()})"
    if isinstance(tok, MeanOver):
        return f"(1/{tok.size}) Σₜ " if tok.mean else "Σₜ "
    if isinstance(tok, OneOver):
        return f"{tok.numerator}" if tok.size == 1 < tok.numerator \
            else f"{tok.numerator}/{tok.size} "
    if isinstance(tok, L2Term):
        return "½β Σw²" if tok.beta is None else f"½ × {tok.beta:g} × Σw²"
    if isinstance(tok, Apply):
        return apply_unicode(tok, expr_unicode(tok.argument, decimals))
    if isinstance(tok, SoftmaxRatio):
        zk = Sym("z", ("k",), tok.z.sample, tok.z.layer)
        return f"exp({tok.z.unicode()}) / Σₖ exp({zk.unicode()})"
    if isinstance(tok, SoftmaxJacobianT):
        return "(∂ŷ/∂z)ᵀ"
    if isinstance(tok, DerivativeInValue):
        return ACTIVATIONS[tok.activation].derivative_unicode(tok.unit.unicode())
    if isinstance(tok, Note):
        return f"   ({tok.text})"
    if isinstance(tok, Words):
        return tok.text
    if isinstance(tok, Given):
        return _bracketed([[fmt(float(v), GIVEN_DECIMALS) for v in row] for row in tok.value],
                          "  ")
    if isinstance(tok, Box):
        return "[ ____ ]"
    if isinstance(tok, BoxMatrix):
        return _bracketed([["□"] * tok.cols for _ in range(tok.rows)])
    if isinstance(tok, Exact):
        return str(_exact().exact_text(tok.value))
    if isinstance(tok, ExactMatrix):
        sstr = _exact().exact_text
        return _bracketed([[sstr(v) for v in row] for row in tok.rows])
    if isinstance(tok, Entry):
        return entry_text(tok)
    if isinstance(tok, Formula):
        return str(_symbolic().to_unicode(tok.node))
    if isinstance(tok, FormulaMatrix):
        to_unicode = _symbolic().to_unicode
        return _bracketed([[to_unicode(c) for c in row] for row in tok.rows])
    if isinstance(tok, WeightMatrix):
        return _weight_matrix(tok, Sym.unicode, dotted_unicode=True)
    if isinstance(tok, Partial):
        return f"∂J/∂{Sym('w', (tok.i, tok.j), None, tok.layer).unicode()}"
    if isinstance(tok, PartialOutputs):
        return "∂J/∂ŷ"
    if isinstance(tok, PartialZ):
        return "∂J/∂z"
    if isinstance(tok, SumOver):
        return f"Σ{sub(tok.variable)} " + expr_unicode(tok.body, decimals)
    if isinstance(tok, LossFormula):
        return loss_formula(LOSSES[tok.loss], tok.conventions)
    if isinstance(tok, CostFormula):
        reg = ""
        if tok.beta is not None:
            scope = "" if tok.l2_bias else " (bias rows excluded)"
            reg = f" + ½ × {fmt(tok.beta)} × Σw²{scope}"
        return f"{f'1/{tok.samples} ' if tok.mean else ''}Σₜ J₍ₜ₎{reg}"
    if isinstance(tok, Component):
        return "(" + str(_symbolic().to_unicode(tok.written)) + ")"
    if isinstance(tok, Transpose):
        return tok.symbol.unicode() + "ᵀ"
    if isinstance(tok, DownTo):
        return f", {tok.variable} = {tok.start.replace('-', ' − ')}, …, {tok.end}"
    if isinstance(tok, BatchMean):
        mean = f"1/{tok.size} " if tok.mean else ""
        return f"{mean}Σₜ{'∈B' if tok.over_batch else ''} "
    if isinstance(tok, L2Gradient):
        return f"{_beta_text(tok.beta)} {_regularised(tok, Sym.unicode, ' (row 0 zeroed)')}"
    if isinstance(tok, Mat):
        raise TypeError("a matrix has no inline Unicode form; the terminal draws it")
    raise TypeError(f"no Unicode spelling for {tok!r}")


def apply_unicode(tok: Apply, argument: str) -> str:
    """σ(argument): an activation applied, its argument spelled."""
    return ACTIVATIONS[tok.activation].symbol + "(" + argument + ")"


def expr_unicode(expr: Expr, decimals: int, numbers: Mapping[float, str] | None = None
                 ) -> str:
    """An expression in Unicode; ``numbers``: spellings of its numbers made beforehand
    (:func:`spelled_numbers`)."""
    out: list[str] = []
    append, ops, sym_unicode = out.append, _UNICODE_OP_NAMES, _sym_unicode   # locals: faster
    previous: Token | None = None
    for tok in expr:
        # Operators and symbols, the commonest tokens, spelled here: no call, and no
        # (slow) hash of the enum.
        if type(tok) is Op:
            append(ops[tok.kind._name_])
        elif type(tok) is Sym:
            append(sym_unicode(tok))
        elif type(tok) is Num:
            append(_num_unicode(tok, decimals, previous, numbers))
        else:
            append(unicode(tok, decimals, previous))
        previous = tok
    return "".join(out)


class _Speller:
    """What the document spellers share: each token object and each expression
    object spelled once, by identity (see :class:`UnicodeSpeller`)."""

    __slots__ = ("decimals", "_tokens", "_exprs", "_kept")

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals
        self._tokens: dict[int, str] = {}       # id of a token (not a number) -> text
        self._exprs: dict[int, str] = {}        # id of an expression -> text
        self._kept: list[object] = []

    def _spell(self, expr: Sequence[Token]) -> str:
        raise NotImplementedError

    def _remembered(self, expr: Sequence[Token]) -> str:
        """``expr`` spelled: joined from its tokens' spellings when every one is
        known, else token by token; remembered when it cannot change (a tuple)."""
        known = self._tokens
        if not expr or id(expr[0]) not in known:
            text = self._spell(expr)
        else:
            try:        # every token known: the join runs in C
                text = "".join(map(known.__getitem__, map(id, expr)))
            except KeyError:
                text = self._spell(expr)
        if type(expr) is tuple:     # immutable: the same object is the same expression
            self._exprs[id(expr)] = text
            self._kept.append(expr)
        return text


class UnicodeSpeller(_Speller):
    """Spells the expressions of one document in Unicode, each token object and each
    expression object once.

    A worked solution repeats the same objects over and over: the z rows of every
    sample name the same weight symbols, and the rows of the first and the last
    update shown share their formulas.  Spelled by identity, a repeat costs a
    lookup, and an expression of symbols and operators is joined in one call.  A
    number is spelled where it stands (after an operator, a negative one is put in
    parentheses).  One speller serves one rendering: it keeps every object it has
    spelled alive, so that no identity it knows is reused by another object.
    """

    __slots__ = ("numbers",)

    def __init__(self, decimals: int, numbers: Mapping[float, str] | None = None) -> None:
        super().__init__(decimals)
        self.numbers = numbers

    def expr(self, expr: Sequence[Token]) -> str:
        """:func:`expr_unicode` of ``expr``."""
        text = self._exprs.get(id(expr))
        if text is not None:
            return text
        if len(expr) == 1:         # a row's left-hand side or value: nothing to remember
            tok = expr[0]
            text = self._tokens.get(id(tok))
            if text is None:
                if type(tok) is Num:    # alone: never in parentheses
                    text = self.numbers.get(tok.value) if self.numbers else None
                    return number_unicode(tok.value, self.decimals) if text is None else text
                return self._spell(expr)
            return text
        return self._remembered(expr)

    def _spell(self, expr: Sequence[Token]) -> str:
        out: list[str] = []
        append = out.append
        known, kept, decimals, numbers = self._tokens, self._kept, self.decimals, self.numbers
        previous: Token | None = None
        for tok in expr:
            text = known.get(id(tok))
            if text is None:
                if type(tok) is Num:        # its spelling depends on what precedes it
                    text = numbers.get(tok.value) if numbers else None
                    if text is None:
                        text = number_unicode(tok.value, decimals)
                    if text[:1] == MINUS and tok.paren and isinstance(previous, Op):
                        text = f"({text})"
                elif type(tok) is Apply:    # its argument's numbers are the document's
                    text = known[id(tok)] = apply_unicode(tok, self.expr(tok.argument))
                    kept.append(tok)
                else:
                    text = unicode(tok, decimals, previous)
                    if not isinstance(tok, Num):
                        known[id(tok)] = text
                        kept.append(tok)
            append(text)
            previous = tok
        return "".join(out)


# --------------------------------------------------------------------------- LaTeX


def latex(tok: Token, decimals: int, previous: Token | None = None) -> str:
    """One token in LaTeX (maths mode)."""
    if type(tok) is Sym:
        return _sym_latex(tok)
    if isinstance(tok, Sym):
        return tok.latex()
    if isinstance(tok, Num):
        text = _number_tex(tok.value, decimals)
        if tok.paren and text.startswith("-") and isinstance(previous, Op):
            return f"({text})"
        return text
    if isinstance(tok, Op):
        return _LATEX_OPS[tok.kind]
    if isinstance(tok, Mat):
        return matrix_latex(tok, decimals)
    if isinstance(tok, Grad):
        w = Sym("W", (), None, tok.layer)
        sample = f"_{{({tok.sample})}}" if tok.sample is not None else ""
        return r"\nabla J_{" + w.latex() + sample + "}"
    if isinstance(tok, MeanOver):
        return rf"\frac{{1}}{{{tok.size}}}\sum_{{t}} " if tok.mean else r"\sum_{t} "
    if isinstance(tok, OneOver):
        return str(tok.numerator) if tok.size == 1 < tok.numerator \
            else rf"\tfrac{{{tok.numerator}}}{{{tok.size}}}"
    if isinstance(tok, L2Term):
        if tok.beta is None:
            return r"\tfrac{1}{2}\beta \sum w^{2}"
        return rf"\tfrac{{1}}{{2}} \times {tok.beta:g} \times \sum w^{{2}}"
    if isinstance(tok, Apply):
        return ACTIVATIONS[tok.activation].latex + "(" + expr_latex(tok.argument, decimals) + ")"
    if isinstance(tok, SoftmaxRatio):
        zk = Sym("z", ("k",), tok.z.sample, tok.z.layer)
        if tok.displayed:
            return rf"\frac{{\exp({tok.z.latex()})}}{{\sum_{{k}} \exp(" + zk.latex() + ")}"
        return r"\exp(" + tok.z.latex() + r") / \sum_{k} \exp(" + zk.latex() + ")"
    if isinstance(tok, SoftmaxJacobianT):
        if tok.displayed:
            return (r"\left(\frac{\partial \hat{\mathbf{y}}}{\partial \mathbf{z}}\right)"
                    "^{T}")
        return r"(\partial\hat{y}/\partial z)^{T}"
    if isinstance(tok, DerivativeInValue):
        return ACTIVATIONS[tok.activation].derivative_tex(Sym(tok.unit.base).latex())
    if isinstance(tok, Note):
        return rf"\quad\text{{({tok.text})}}"
    if isinstance(tok, Words):
        return rf"\text{{{tok.text}}}"
    if isinstance(tok, Given):
        return _bmatrix([[fmt(float(v), GIVEN_DECIMALS) for v in row] for row in tok.value])
    if isinstance(tok, Box):
        return _box_tex(tok.decimals)
    if isinstance(tok, BoxMatrix):
        box = _box_tex(tok.decimals)
        return _bmatrix([[box] * tok.cols for _ in range(tok.rows)], r" \\[6pt] ")
    if isinstance(tok, Exact):
        return str(_exact().exact_latex(tok.value))
    if isinstance(tok, ExactMatrix):
        to_tex = _exact().exact_latex
        return _bmatrix([[to_tex(v) for v in row] for row in tok.rows])
    if isinstance(tok, Entry):
        w = Sym("w", (tok.i, tok.j), None, tok.layer)
        if tok.form is EntryForm.NEW:
            return w.latex() + r"\ \text{(new)}"
        if tok.form is EntryForm.MEAN:
            return r"\overline{\partial J / \partial " + w.latex() + "}"
        return rf"\partial J_{{({tok.sample})}} / \partial " + w.latex()
    if isinstance(tok, Formula):
        symbolic = _symbolic()
        if tok.wrap:
            return r" \\ &\qquad ".join(symbolic.latex_lines(tok.node, FORMULA_LINE_WIDTH))
        return str(symbolic.to_latex(tok.node))
    if isinstance(tok, FormulaMatrix):
        to_latex = _symbolic().to_latex
        return _bmatrix([[to_latex(c) for c in row] for row in tok.rows])
    if isinstance(tok, WeightMatrix):
        return _weight_matrix(tok, Sym.latex, dotted_unicode=False)
    if isinstance(tok, Partial):
        w = Sym("w", (tok.i, tok.j), None, tok.layer)
        return r"\frac{\partial J_{(t)}}{\partial " + w.latex() + "}"
    if isinstance(tok, PartialOutputs):
        return r"\frac{\partial J_{(t)}}{\partial \hat{\mathbf{y}}_{(t)}}"
    if isinstance(tok, PartialZ):
        return r"\frac{\partial J_{(t)}}{\partial \mathbf{z}^{[" + str(tok.layer) + "]}}"
    if isinstance(tok, SumOver):
        return rf"\sum_{{{tok.variable}=1}}^{{{tok.upper}}} " + expr_latex(tok.body, decimals)
    if isinstance(tok, LossFormula):
        return loss_latex(LOSSES[tok.loss], tok.conventions, tok.outputs)
    if isinstance(tok, CostFormula):
        count = tok.samples
        text = (rf"\frac{{1}}{{{count}}} " if tok.mean else "") + \
            rf"\sum_{{t=1}}^{{{count}}} J_{{(t)}}"
        if tok.beta is not None:
            text += rf" + \tfrac{{1}}{{2}} \times {fmt(tok.beta)} \sum w^{{2}}" + \
                (r"\ \text{(bias rows excluded)}" if not tok.l2_bias else "")
        return text
    if isinstance(tok, Component):
        return "[" + expr_latex(tok.vector, decimals) + f"]_{{{tok.entry}}}"
    if isinstance(tok, Transpose):
        return "(" + tok.symbol.latex() + ")^{T}"
    if isinstance(tok, DownTo):
        return rf", \quad {tok.variable} = {tok.start}, \dots, {tok.end}"
    if isinstance(tok, BatchMean):
        over = r"t \in B" if tok.over_batch else f"t=1}}^{{{tok.size}"
        mean = rf"\frac{{1}}{{{tok.size}}} " if tok.mean else ""
        return rf"{mean}\sum_{{{over}}} "
    if isinstance(tok, L2Gradient):
        beta = r"\beta" if tok.beta is None else _beta_text(tok.beta)
        return beta + r"\, " + _regularised(tok, Sym.latex, r"_{\text{row 0 zeroed}}")
    raise TypeError(f"no LaTeX spelling for {tok!r}")


def _beta_text(beta: float | None) -> str:
    return "β" if beta is None else fmt(beta)


def _regularised(tok: L2Gradient, spell: Callable[[Sym], str], zeroed: str) -> str:
    """R[n]: W[n], or W[n] with its bias row zeroed when biases are not regularised."""
    return spell(Sym("W", (), None, tok.layer)) + ("" if tok.l2_bias else zeroed)


# As in Unicode (see _sym_unicode, number_unicode): the same symbols and numbers
# again and again.
@lru_cache(maxsize=65536)
def _sym_latex(sym: Sym) -> str:
    return sym.latex()


@lru_cache(maxsize=65536)
def _number_tex(value: float, decimals: int) -> str:
    # -0.0 and 0.0 share an entry: both are written "0".
    return number_latex(fmt(value, decimals))


def number_latex(text: str) -> str:
    """A formatted number (:func:`bpnn_steps.numfmt.fmt`) in LaTeX: 1.5e-7 as
    1.5 \\times 10^{-7}."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def matrix_numbers(value: Any, decimals: int) -> Sequence[str]:
    """:func:`fmt` of each entry of a matrix, row by row, formatted together (a
    report writes 10,000s); remembered by the matrix's bytes, since a document (and
    every format of it) shows the same weights again and again, and a LaTeX page
    formats a matrix once to write it and once to measure it."""
    if value.dtype.kind != "f":
        return fmt_many(value.ravel().tolist(), decimals)
    return _matrix_numbers(value.dtype.str, value.tobytes(), decimals)


@lru_cache(maxsize=8192)
def _matrix_numbers(dtype: str, raw: bytes, decimals: int) -> tuple[str, ...]:
    import numpy as np
    return tuple(fmt_many(np.frombuffer(raw, dtype=dtype).tolist(), decimals))


def matrix_latex(mat: Mat, decimals: int) -> str:
    rows, cols = mat.value.shape
    texts = [number_latex(text) for text in matrix_numbers(mat.value, decimals)]
    return _bmatrix([texts[i:i + cols] for i in range(0, rows * cols, cols)])


def expr_latex(expr: Expr, decimals: int) -> str:
    out = []
    previous: Token | None = None
    tokens = tuple(expr)
    for k, tok in enumerate(tokens):
        text = latex(tok, decimals, previous)
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        # H^{[2]} followed by ^{T} would be a double superscript: brace the base.
        if "^" in text and isinstance(nxt, Op) and _LATEX_OPS[nxt.kind].startswith("^"):
            text = "{" + text + "}"
        out.append(text)
        previous = tok
    return "".join(out)


class LatexSpeller(_Speller):
    """:func:`expr_latex` for the expressions of one document, each token object and
    each expression object spelled once (see :class:`UnicodeSpeller`); a token that
    is braced or braces its neighbour is never remembered, so a join is safe."""

    __slots__ = ()

    def expr(self, expr: Sequence[Token]) -> str:
        """:func:`expr_latex` of ``expr``."""
        text = self._exprs.get(id(expr))
        return text if text is not None else self._remembered(expr)

    def _spell(self, expr: Sequence[Token]) -> str:
        out: list[str] = []
        known, kept, decimals = self._tokens, self._kept, self.decimals
        previous: Token | None = None
        last = len(expr) - 1
        for k, tok in enumerate(expr):
            text = known.get(id(tok))
            if text is None:
                text = latex(tok, decimals, previous)
                # A number's spelling depends on what precedes it, a superscript
                # operator's on what it follows (never joined blindly).
                if not isinstance(tok, Num) and not _superscript(tok):
                    known[id(tok)] = text
                    kept.append(tok)
            # H^{[2]} followed by ^{T} would be a double superscript: brace the base.
            if k < last and "^" in text and _superscript(expr[k + 1]):
                text = "{" + text + "}"
            out.append(text)
            previous = tok
        return "".join(out)


def _superscript(tok: Token) -> bool:
    """Whether a token is an operator written as a superscript (^{T}, ^{2})."""
    return isinstance(tok, Op) and _LATEX_OPS[tok.kind].startswith("^")


def _weight_matrix(tok: WeightMatrix, spell: Callable[[Sym], str], dotted_unicode: bool
                   ) -> str:
    def w(i: int, j: int) -> str:
        return spell(Sym("w", (i, j), None, tok.layer))

    first, last, cols = tok.first_row, tok.rows - 1, tok.cols
    if not tok.dotted:
        cells = [[w(i, j) for j in range(1, cols + 1)] for i in range(first, tok.rows)]
        return _bracketed(cells) if dotted_unicode else _bmatrix(cells)
    if dotted_unicode:
        return f"[{w(first, 1)} … {w(first, cols)}; ⋮ ⋱ ⋮; {w(last, 1)} … {w(last, cols)}]"
    return (r"\begin{bmatrix} " + w(first, 1) + r" & \cdots & " + w(first, cols)
            + r" \\ \vdots & \ddots & \vdots \\ " + w(last, 1) + r" & \cdots & "
            + w(last, cols) + r" \end{bmatrix}")
