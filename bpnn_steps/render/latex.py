"""LaTeX documents: worked solutions, question sheets and derivations.

The document uses standard packages only (amsmath, amssymb, geometry, booktabs,
graphicx, tikz) and compiles with pdflatex.  Every number is formatted by
:mod:`bpnn_steps.numfmt` (trailing zeros kept), never by LaTeX.

Text written by a user (titles) goes through :func:`escape_text`: every
character prints as written and none can start a TeX command, so a title such
as ``\\input{/etc/passwd}`` or ``\\write18{...}`` is typeset literally.

This module never imports sympy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..model.notation import (EQUALS, BoxMatrix, Exact, ExactMatrix, Formula, FormulaMatrix,
                              Given, Mat, Op, OpKind, Token)
from ..numfmt import DEFAULT_DECIMALS, GIVEN_DECIMALS, fmt
from ..present.blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak,
                              Table, Text)
from .spelling import LatexSpeller, UnicodeSpeller, expr_latex, matrix_numbers, unicode

# Rough printed width (characters of math) of a line on the page.
LINE_WIDTH = 78
# The layout rule for maths wider than a line (LINE_WIDTH):
# 1. a chain a = b = c puts each '=' on its own line, the '=' signs aligned;
# 2. a side at most 1/SLIGHT_SCALE times too wide is set a little smaller (at least
#    SLIGHT_SCALE) to stay on its line; a side still too wide (a long sum) breaks before a + or - sign outside sized
#    brackets (\left( ... \right) cannot span lines), as many terms on a line as fit,
#    each continuation line indented by BREAK_INDENT under the first term;
# 3. a single term still too wide (a matrix) is scaled down to fit, never below
#    MIN_SCALE (matrices are split into column blocks by the content before that).
MIN_SCALE = 0.35
SLIGHT_SCALE = 0.9
BREAK_INDENT = r"\quad"
_BREAK_INDENT_WIDTH = 2.0

# --------------------------------------------------------------------------- text

# Every TeX special, escaped so that it prints as the character itself.  OT1 text
# fonts lack some glyphs (_, ~, ^, straight quotes, and $ in bold): those come
# from the typewriter font (its glyphs are the ASCII characters, so they also
# copy and search as typed) or from maths; textcomp's would need bitmap fonts.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\ensuremath{\$}", "&": r"\&",
    "#": r"\#", "%": r"\%", "_": r"{\ttfamily\char95}", "~": r"{\ttfamily\char126}",
    "^": r"{\ttfamily\char94}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", '"': r"{\ttfamily\char34}", "'": r"{\ttfamily\char13}",
    "`": r"{\ttfamily\char18}",
    "-": "-{}",   # no -- or --- ligatures: the text prints as written
}
_TEXT_UNICODE = {
    "…": r"\dots{}", "–": "--", "—": "---", "“": "``", "”": "''", "‘": "`", "’": "'",
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "ø": r"\o{}", "Ø": r"\O{}", "œ": r"\oe{}",
    "Œ": r"\OE{}", "å": r"\aa{}", "Å": r"\AA{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}",
    "¡": "!`", "¿": "?`", "§": r"\S{}", "¶": r"\P{}", "©": r"\copyright{}",
    "\u00a0": "~", "\u2009": r"\,", "\u2002": r"\enspace{}", "\u2003": r"\quad{}",
}
_MATH_UNICODE = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "η": r"\eta", "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "π": r"\pi", "σ": r"\sigma",
    "τ": r"\tau", "φ": r"\varphi", "ω": r"\omega", "Σ": r"\Sigma", "Δ": r"\Delta",
    "∇": r"\nabla", "∂": r"\partial", "ŷ": r"\hat{y}", "Ŷ": r"\hat{Y}", "−": "-",
    "×": r"\times", "⊙": r"\odot", "½": r"\tfrac{1}{2}", "′": r"'", "→": r"\to",
    "≤": r"\le", "≥": r"\ge", "≈": r"\approx", "≠": r"\ne", "⋮": r"\vdots", "⋱": r"\ddots",
    "∈": r"\in", "·": r"\cdot", "±": r"\pm", "∞": r"\infty", "°": r"^{\circ}", "√": r"\surd",
    "□": r"\square", "⟨": r"\langle", "⟩": r"\rangle", "∑": r"\sum",
}
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₍₎₊₋ₜₖᵢⱼₘₙₓₐₑₒ", "0123456789()+-tkijmnxaeo"))
# In the report's Unicode, a superscript (n) is the layer index the lecture writes [n].
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻ⁿᵀⁱ", "0123456789[]+-nTi"))
_USER_SUPERSCRIPTS = {"⁽": "(", "⁾": ")"}
_COMBINING_MATH = {"\u0304": r"\bar", "\u0302": r"\hat", "\u0303": r"\tilde"}
_TEXT_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~",
                 "\u0327": "c", "\u030c": "v", "\u0306": "u", "\u030b": "H", "\u030a": "r",
                 "\u0304": "=", "\u0307": "."}


def escape_text(text: str) -> str:
    """Text written by a user, made safe for LaTeX text mode: prints as written.

    TeX specials are escaped, accented letters become accent commands, control
    characters become spaces, and characters pdflatex has no glyph for are
    written as their code point (U+XXXX).
    """
    return "".join(_escape_char(c) for c in unicodedata.normalize("NFC", text))


def _escape_char(c: str) -> str:
    if c in _TEXT_ESCAPES:
        return _TEXT_ESCAPES[c]
    if c in ("\n", "\r", "\t") or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
        return " "
    if ord(c) < 128:
        return c
    if c in _TEXT_UNICODE:
        return _TEXT_UNICODE[c]
    # \ensuremath, not $...$: two such characters side by side made '$$' (½₁ printed
    # "21"); and a superscript bracket is a bracket here (x⁽¹⁾ printed x^[1]: the
    # report's ⁽ⁿ⁾ is the layer [n], a user's is what they wrote).
    if c in _MATH_UNICODE:
        return r"\ensuremath{" + _MATH_UNICODE[c] + "}"
    if c in _SUBSCRIPTS:
        return r"\ensuremath{_{" + _SUBSCRIPTS[c] + "}}"
    if c in _SUPERSCRIPTS:
        return r"\ensuremath{^{" + _USER_SUPERSCRIPTS.get(c, _SUPERSCRIPTS[c]) + "}}"
    decomposed = unicodedata.normalize("NFD", c)
    base, marks = decomposed[0], decomposed[1:]
    if len(decomposed) > 1 and ord(base) < 128 and base.isalpha() \
            and all(m in _TEXT_ACCENTS for m in marks):
        out = "\\i" if base == "i" and marks else base
        for m in marks:
            out = "\\" + _TEXT_ACCENTS[m] + "{" + out + "}"
        return out
    if unicodedata.category(c).startswith("Z"):
        return " "
    return r"{\ttfamily [U+%04X]}" % ord(c)


# What text_latex makes of an ASCII character: never maths (the maths characters,
# scripts and combining accents are all beyond ASCII), so a run of them is escaped
# in one call; the prose apostrophe (the layer's) is typographic.
_ASCII_TEXT = {i: "'{}" if chr(i) == "'" else _escape_char(chr(i)) for i in range(128)}
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def text_latex(text: str) -> str:
    """Report text (with Unicode maths such as J₍ₜ₎, ŷₖ, W̄⁽²⁾, λ) as LaTeX text:
    maths characters become inline maths, everything else is escaped."""
    text = unicodedata.normalize("NFC", text)
    if text.isascii():
        return text.translate(_ASCII_TEXT)
    items: list[tuple[bool, str]] = []     # (is maths, LaTeX)
    i = 0
    while i < len(text):
        c = text[i]
        if c.isascii():
            # All but the run's last character at once: the last may carry an
            # accent or a subscript (ŵ, J₍ₜ₎), which makes it maths.
            run_end = _ASCII_RUN.match(text, i)
            end = run_end.end() - 1 if run_end else i
            if end > i:
                items.append((False, text[i:end].translate(_ASCII_TEXT)))
                i = end
                c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt in _COMBINING_MATH and c.isascii() and c.isalpha():
            items.append((True, _COMBINING_MATH[nxt] + "{" + c + "}"))
            i += 2
            continue
        if c in _SUBSCRIPTS or c in _SUPERSCRIPTS:
            table, mark = (_SUBSCRIPTS, "_") if c in _SUBSCRIPTS else (_SUPERSCRIPTS, "^")
            j = i
            run: list[str] = []
            while j < len(text) and (text[j] in table or (
                    text[j] == "," and j + 1 < len(text) and text[j + 1] in table and run)):
                run.append(table.get(text[j], ","))
                j += 1
            script = mark + "{" + "".join(run) + "}"
            if items and not items[-1][0] and items[-1][1][-1:].isalpha() \
                    and items[-1][1][-1:].isascii() and len(items[-1][1]) == 1:
                items[-1] = (True, items[-1][1] + script)
            elif items and items[-1][0]:
                items[-1] = (True, items[-1][1] + script)
            else:
                items.append((True, "{}" + script))
            i = j
            continue
        if c in _MATH_UNICODE:
            items.append((True, _MATH_UNICODE[c]))
        elif c == "'":           # prose apostrophe (the layer's): typographic
            items.append((False, "'{}"))
        else:
            items.append((False, _escape_char(c)))
        i += 1
    out = []
    k = 0
    while k < len(items):
        is_math, tex = items[k]
        if not is_math:
            out.append(tex)
            k += 1
            continue
        run = [tex]
        k += 1
        while k < len(items) and items[k][0]:
            run.append(" " + items[k][1] if items[k][1][:1].isalpha() else items[k][1])
            k += 1
        out.append("$" + "".join(run) + "$")
    return "".join(out)


# --------------------------------------------------------------------------- maths


def tokens_tex(expr: Iterable[Token], decimals: int) -> str:
    return expr_latex(tuple(expr), decimals)


class Maths:
    """The maths of one document: each expression spelled in LaTeX and measured
    (its printed width, from its Unicode spelling) once; a worked solution repeats
    the same formulas and symbols many times."""

    __slots__ = ("decimals", "tex", "_unicode", "_widths")

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals
        self.tex = LatexSpeller(decimals).expr
        self._unicode = UnicodeSpeller(decimals)
        self._widths: dict[str, float] = {}

    def width(self, expr: Sequence[Token]) -> float:
        """:func:`expr_width` of ``expr``."""
        if not _MEASURED_BY_COLUMN.isdisjoint(map(type, expr)):
            return expr_width(expr, self.decimals)
        text = self._unicode.expr(expr)
        width = self._widths.get(text)
        if width is None:
            width = self._widths[text] = _text_width(text)
        return width


# Matrices print as columns side by side: their width is that of their widest
# entry in each column, not of their Unicode spelling (all rows on one line).
_MEASURED_BY_COLUMN = frozenset({Mat, Given, BoxMatrix})
_COLUMN_GAP = 1.6
_FORMULA_SPREAD = 1.25
# An answer box is its phantom number plus the box's padding and rules.
_BOX_PADDING = 1.2


def _number_width(text: str) -> float:
    """Printed width of a formatted number: 1.5e-05 prints as 1.5 × 10⁻⁵, its
    " × 10" about 5 characters wide."""
    mantissa, e, exponent = text.partition("e")
    if not e:
        return len(text)
    return len(mantissa) + 5 + 0.6 * len(exponent.lstrip("+0").replace("-0", "-"))


def _token_width(tok: Token, decimals: int, previous: Token | None) -> float:
    if isinstance(tok, (Mat, Given)):
        rows, cols = tok.value.shape
        if not rows:
            return 2.0
        texts = (matrix_numbers(tok.value, decimals) if isinstance(tok, Mat)
                 else [fmt(float(v), GIVEN_DECIMALS) for v in tok.value.ravel()])
        return 2.0 + sum(max(map(_number_width, texts[j::cols])) + _COLUMN_GAP
                         for j in range(cols))
    if isinstance(tok, BoxMatrix):
        box = len("-0.") + tok.decimals + _BOX_PADDING
        return 2.0 + tok.cols * (box + _COLUMN_GAP)
    if isinstance(tok, FormulaMatrix):      # a derivation's column of chain-rule terms
        # its subscripts, (t) and [n], print wider than the half a character the
        # Unicode estimate gives them: measured against pdflatex, a quarter more.
        cells = [[_FORMULA_SPREAD * _text_width(unicode(Formula(cell), decimals, None))
                  for cell in row] for row in tok.rows]
        if not cells or not cells[0]:
            return 2.0
        return 2.0 + sum(max(row[j] for row in cells) + _COLUMN_GAP
                         for j in range(len(cells[0])))
    return _text_width(unicode(tok, decimals, previous))


# The characters of the report's Unicode that print small in LaTeX.
_SMALL = re.compile("[" + "".join(map(re.escape, sorted({*_SUBSCRIPTS, *_SUPERSCRIPTS, ","})))
                    + "]")


def _text_width(text: str) -> float:
    return len(text) - 0.5 * len(_SMALL.findall(text))


def expr_width(expr: Sequence[Token], decimals: int) -> float:
    total = 0.0
    previous: Token | None = None
    for tok in expr:
        total += _token_width(tok, decimals, previous)
        previous = tok
    return total


def _split_equals(expr: Sequence[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for tok in expr:
        if tok == EQUALS:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _scaled(tex: str, width: float, limit: float) -> str:
    if width <= limit:
        return tex
    factor = max(MIN_SCALE, limit / width)
    return rf"\scalebox{{{factor:.2f}}}{{$\displaystyle {tex}$}}"


# \left( ... \right) and \left[ ... \right] are one box each: no break inside them.
_SIZED_DEPTH = {OpKind.LEFT: 1, OpKind.RIGHT: -1, OpKind.SIZED_BRACKET_OPEN: 1,
                OpKind.SIZED_BRACKET_CLOSE: -1}
_BREAKS_BEFORE = frozenset({OpKind.PLUS, OpKind.MINUS})


def _terms(side: Sequence[Token]) -> list[list[Token]]:
    """``side`` cut before each + or - sign outside sized brackets (a sign that
    starts the side, or follows nothing, is the sign of the first term)."""
    terms: list[list[Token]] = [[]]
    depth = 0
    for tok in side:
        if isinstance(tok, Op):
            if tok.kind in _BREAKS_BEFORE and depth == 0 and terms[-1]:
                terms.append([])
            depth += _SIZED_DEPTH.get(tok.kind, 0)
        terms[-1].append(tok)
    return terms


def _side_lines(side: Sequence[Token], limit: float, maths: Maths) -> list[str]:
    """One side of an equation as the lines it takes (rule 2 and 3 above): as many
    terms on a line as fit in ``limit``; a line after the first starts with its sign."""
    width = maths.width(side)
    if width <= limit:
        return [maths.tex(side)]
    terms = _terms(side)
    if len(terms) == 1 or width * SLIGHT_SCALE <= limit:
        # A derivation's matrix of formulas is set as wide as its columns, not as its
        # Unicode (every row on one line): scaled by that, a column stays legible.
        if any(isinstance(tok, FormulaMatrix) for tok in side):
            width = expr_width(side, maths.decimals)
        return [_scaled(maths.tex(side), width, limit)]
    lines: list[list[Token]] = []
    current: list[Token] = []
    for term in terms:
        room = limit - (_BREAK_INDENT_WIDTH if lines else 0.0)
        if current and maths.width(current + term) > room:
            lines.append(current)
            current = []
        current = current + term
    lines.append(current)
    out = []
    for k, line in enumerate(lines):
        # {} makes the leading sign binary (spaced as in the unbroken sum).
        tex = ("{}" if k else "") + maths.tex(line)
        out.append(_scaled(tex, maths.width(line), limit - (_BREAK_INDENT_WIDTH if k else 0.0)))
    return out


def _unmeasured(side: Sequence[Token]) -> bool:
    """Whether ``side`` holds maths the width estimate cannot measure, laid out as
    written: a formula that breaks its own lines (a derivation's), or an exact value
    (sympy's fractions print far narrower than their text)."""
    return any(isinstance(tok, (Exact, ExactMatrix)) or (isinstance(tok, Formula) and tok.wrap)
               for tok in side)


def _continued(lines: Sequence[str], first: str) -> list[str]:
    """Align rows of one side: ``first`` (e.g. '&= ') before its first line, the
    break indent before the others."""
    return [first + lines[0]] + ["&" + BREAK_INDENT + " " + line for line in lines[1:]]


def display_latex(expr: Sequence[Token], decimals: int, maths: Maths | None = None) -> str:
    """One displayed equation; too wide for a line, it breaks at its '=' signs, then
    before + and - signs, and a term still too wide is scaled down (the rule above).
    ``maths``: the document's (:class:`Maths`)."""
    maths = maths or Maths(decimals)
    if maths.width(expr) <= LINE_WIDTH:
        return r"\[" + "\n" + maths.tex(expr) + "\n" + r"\]"
    parts = _split_equals(expr)
    if len(parts) == 1:
        lines = _side_lines(parts[0], LINE_WIDTH - 8, maths)
        if len(lines) == 1:
            return r"\[" + "\n" + lines[0] + "\n" + r"\]"
        rows = _continued(lines, "& ")
    else:
        first = parts[0]
        rows = [_scaled(maths.tex(first), maths.width(first), LINE_WIDTH - 8)]
        for part in parts[1:]:
            rows += _continued(_side_lines(part, LINE_WIDTH - 8, maths), "&= ")
        rows[:2] = [rows[0] + " " + rows[1]]
    body = (r" \\" + "\n").join(rows)
    return r"\begin{align*}" + "\n" + body + "\n" + r"\end{align*}"


def equations_latex(block: Equations, decimals: int, maths: Maths | None = None) -> str:
    """Rows of lhs = ... = value in one align*; a row too wide for a line puts each
    '=' on its own line, and breaks a side still too wide (the rule above)."""
    maths = maths or Maths(decimals)
    tex, measure = maths.tex, maths.width
    rows = []
    for row in block.rows:
        widths = [measure(seg) for seg in row]
        fits = sum(widths) + 3 * (len(row) - 1) <= LINE_WIDTH
        if any(map(_unmeasured, row)):
            segs = [tex(seg) for seg in row]
            joint = " = " if fits or len(row) <= 2 or r"\\" in "".join(segs) else r" \\" + "\n&= "
            rows.append(segs[0] + " &= " + joint.join(segs[1:]))
            continue
        if fits:
            rows.append(tex(row[0]) + " &= " + " = ".join(tex(seg) for seg in row[1:]))
            continue
        room = max(LINE_WIDTH - widths[0] - 3, LINE_WIDTH / 2)
        lines: list[str] = []
        for seg in row[1:]:
            lines += _continued(_side_lines(seg, room, maths), "&= ")
        rows.append(tex(row[0]) + " " + (r" \\" + "\n").join(lines))
    return r"\begin{align*}" + "\n" + (r" \\" + "\n").join(rows) + "\n" + r"\end{align*}"


_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


def _cell(text: str) -> str:
    """A table cell: numbers in maths (a real minus sign), other text escaped."""
    if _NUMBER.match(text):
        mantissa, _, exponent = text.partition("e")
        return "$" + mantissa + (rf" \times 10^{{{int(exponent)}}}" if exponent else "") + "$"
    return text_latex(text)


def table_latex(block: Table) -> str:
    cols = len(block.headers)
    spec = "l" + "r" * (cols - 1)
    lines = [r"\begin{center}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(text_latex(h) for h in block.headers) + r" \\", r"\midrule"]
    for row in block.rows:
        lines.append(" & ".join(_cell(c) for c in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    return "\n".join(lines)


_SECTIONS = {1: "section", 2: "subsection", 3: "subsubsection"}


def block_latex(block: Block, decimals: int, maths: Maths | None = None) -> str:
    if isinstance(block, Heading):
        command = _SECTIONS.get(block.level, "paragraph")
        text = escape_text(block.text) if block.literal else text_latex(block.text)
        return rf"\{command}*{{{text}}}"
    if isinstance(block, Text):
        return escape_text(block.text) if block.literal else text_latex(block.text)
    if isinstance(block, Equations):
        return equations_latex(block, decimals, maths)
    if isinstance(block, Display):
        return display_latex(block.expr, decimals, maths)
    if isinstance(block, Table):
        return table_latex(block)
    if isinstance(block, Diagram):
        from .diagram import network_tikz
        return network_tikz(block.layers, block.activations, block.weights, decimals)
    if isinstance(block, PageBreak):
        return r"\clearpage"
    raise TypeError(f"LaTeX cannot write {block!r}")


def blocks_latex(blocks: Sequence[Block], decimals: int = DEFAULT_DECIMALS) -> str:
    """The body of a document (no preamble)."""
    maths = Maths(decimals)
    return "\n\n".join(block_latex(b, decimals, maths) for b in blocks) + "\n"


# --------------------------------------------------------------------------- documents

# Characters the report may still carry inside maths tokens: typeset them
# whether they occur in text or in maths.
_DECLARED = {
    "03C3": r"\sigma", "03BB": r"\lambda", "03B2": r"\beta", "03B4": r"\delta",
    "03A3": r"\Sigma", "2207": r"\nabla", "2202": r"\partial", "0177": r"\hat{y}",
    "0176": r"\hat{Y}", "2212": "-", "00D7": r"\times", "2299": r"\odot",
    "00BD": r"\tfrac{1}{2}", "2032": r"{}'", "00B2": r"^{2}", "1D40": r"^{T}",
    "2026": r"\dots", "22EE": r"\vdots", "2192": r"\to", "2248": r"\approx",
    "2264": r"\le", "2265": r"\ge", "209C": r"_{t}", "2096": r"_{k}",
}


def preamble() -> str:
    declared = "\n".join(rf"\DeclareUnicodeCharacter{{{code}}}{{\ensuremath{{{tex}}}}}"
                         for code, tex in _DECLARED.items())
    return "\n".join([
        r"\documentclass[11pt]{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage[a4paper,margin=2cm]{geometry}",
        r"\usepackage{amsmath}",
        r"\usepackage{amssymb}",
        r"\usepackage{booktabs}",
        r"\usepackage{graphicx}",
        r"\usepackage{tikz}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{0.6ex plus 0.3ex}",
        r"\setcounter{MaxMatrixCols}{40}",
        declared,
        r"\pagestyle{plain}",
        r"\begin{document}",
        "",
    ])


def document(body: str) -> str:
    """A complete LaTeX document around a body."""
    return preamble() + body + "\n" + r"\end{document}" + "\n"


class LatexRenderer:
    """A complete LaTeX document (pdflatex, standard packages only)."""

    name = "latex"
    suffix = ".tex"
    standalone = True

    def render(self, document_: Document, decimals: int) -> str:
        return document(blocks_latex(document_.blocks, decimals))


__all__ = ["escape_text", "text_latex", "blocks_latex", "document", "display_latex",
           "equations_latex", "LatexRenderer"]
