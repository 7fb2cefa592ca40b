"""The terminal report: equations in aligned columns, matrices with bracket glyphs.

Layout is done here with plain strings (fast, and identical on every terminal);
rich only adds colour and draws the section rules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from collections.abc import Mapping, Sequence

from typing import Any

from ..files.untrusted import clean_text, is_clean
from ..model.notation import Mat, Num, Token
from ..present.blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak,
                              Table, Text)
from .spelling import (UnicodeSpeller, number_unicode, numbers_unicode, spelled_numbers,
                       unicode)


@lru_cache(maxsize=None)
def _char_width(c: str) -> int:
    return 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1


# ASCII and the characters of the notation, each checked to take one column: a
# line made only of these is as wide as it is long.
_ONE_COLUMN = frozenset(c for c in map(chr, range(128)) if _char_width(c) == 1) | frozenset(
    c for c in "₀₁₂₃₄₅₆₇₈₉₍₎ₜₖᵢⱼ⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾ᵀŷĥ×−⊙Σ∇∂½²⎡⎢⎣⎤⎥⎦□≈…·–─λβαη"
    if _char_width(c) == 1)


# Any character not known to take one column (searched for in C: a worked solution
# measures 10,000s of cells).
_NOT_ONE_COLUMN = re.compile("[^" + "".join(map(re.escape, sorted(_ONE_COLUMN))) + "]")


def width(text: str) -> int:
    """Columns a string takes: combining marks (the bar of J̄, W̄) take none, wide
    characters (CJK, emoji) two."""
    if text.isascii() or _NOT_ONE_COLUMN.search(text) is None:
        return len(text)
    unusual = set(text) - _ONE_COLUMN
    if not unusual:
        return len(text)
    # One column per character, corrected for each distinct character that is not
    # one column wide (a line holds many characters but few distinct ones).
    columns = len(text)
    for c in unusual:
        extra = _char_width(c) - 1
        if extra:
            columns += extra * text.count(c)
    return columns


def pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def matrix_lines(mat: Mat, decimals: int, numbers: Mapping[float, str] | None = None
                 ) -> list[str]:
    """A matrix drawn with bracket glyphs, numbers right-aligned per column;
    ``numbers``: spellings made beforehand (:func:`document_numbers`)."""
    rows, cols = mat.value.shape
    values = mat.value.ravel().tolist()
    if numbers:
        try:
            texts = list(map(numbers.__getitem__, values))
        except KeyError:        # nan is not equal to itself
            texts = [numbers.get(v) or number_unicode(v, decimals) for v in values]
    else:
        texts = numbers_unicode(values, decimals)
    widths = [max(map(len, texts[j::cols])) for j in range(cols)]
    # One template per matrix, a line in one call: a report draws 1,000s of matrices.
    template = "{} " + "  ".join(f"{{:>{w}}}" for w in widths) + " {}"
    if rows == 1:
        left, right = ["["], ["]"]
    else:
        left = ["⎡"] + ["⎢"] * (rows - 2) + ["⎣"]
        right = ["⎤"] + ["⎥"] * (rows - 2) + ["⎦"]
    return [template.format(l, *texts[i:i + cols], r)
            for l, i, r in zip(left, range(0, rows * cols, cols), right)]


def display_lines(block: Display, decimals: int, numbers: Mapping[float, str] | None = None
                  ) -> list[str]:
    """Side-by-side cells (text runs and matrices), centred vertically."""
    # Each cell with the width of each of its lines: a matrix's lines are numbers
    # and bracket glyphs, one column per character.
    cells: list[tuple[list[str], list[int]]] = []
    run: list[str] = []
    previous: Token | None = None
    for tok in block.expr:
        if isinstance(tok, Mat):
            if run:
                text = "".join(run)
                cells.append(([text], [width(text)]))
                run = []
            lines = matrix_lines(tok, decimals, numbers)
            cells.append((lines, list(map(len, lines))))
        else:
            run.append(unicode(tok, decimals, previous))
        previous = tok
    if run:
        text = "".join(run)
        cells.append(([text], [width(text)]))
    height = max(len(c) for c, _ in cells)
    out: list[list[str]] = [[] for _ in range(height)]
    for cell, widths in cells:
        columns = max(widths)
        top = (height - len(cell)) // 2
        for i in range(height):
            j = i - top
            if 0 <= j < len(cell):
                out[i] += [cell[j], " " * (columns - widths[j])]
            else:
                out[i].append(" " * columns)
    return ["".join(parts).rstrip() for parts in out]


# The widest cell of an equation's column that the other rows are padded to.
ALIGN_COLUMNS = 72


def equations_lines(block: Equations, decimals: int,
                    numbers: Mapping[float, str] | None = None,
                    speller: UnicodeSpeller | None = None) -> list[str]:
    """Rows of lhs = formula = numbers = value, each '=' in its own column;
    ``speller``: the document's (:class:`UnicodeSpeller`), which spells a repeated
    formula once."""
    spell = (speller or UnicodeSpeller(decimals, numbers)).expr
    # The columns of the rows: the lhs, the formula and the numbers substituted
    # (either may be missing: ""), the value.
    lhs: list[str] = []
    formulas: list[str] = []
    substituted: list[str] = []
    values: list[str] = []
    for row in block.rows:
        count = len(row)
        lhs.append(spell(row[0]))
        formulas.append(spell(row[1]) if count >= 3 else "")
        substituted.append(spell(row[2]) if count >= 4 else "")
        values.append(spell(row[-1]))
    # A repeated formula is the same string: its width is measured once.
    widths_of: dict[str, int] = {}

    def measured(cells: list[str]) -> list[int]:
        sizes = []
        for cell in cells:
            w = widths_of.get(cell)
            if w is None:
                w = widths_of[cell] = width(cell)
            sizes.append(w)
        return sizes

    sizes = [measured(lhs), measured(formulas), measured(substituted)]
    # A cell wider than ALIGN_COLUMNS sets no column's width: it runs on, and the
    # rows beside it stay aligned among themselves (padding every h row to the
    # 600 columns of a 16-input z row would bury its value).
    w0, w1, w2 = (max((w for w in column if w <= ALIGN_COLUMNS), default=0)
                  for column in sizes)
    has1, has2 = any(formulas), any(substituted)
    lines = []
    for c0, c1, c2, c3, s0, s1, s2 in zip(lhs, formulas, substituted, values, *sizes):
        line = c0 + " " * (w0 - s0)
        if has1:
            line += " = " + c1 + " " * (w1 - s1) if c1 else " " * (w1 + 3)
        if has2:
            line += " = " + c2 + " " * (w2 - s2) if c2 else " " * (w2 + 3)
        lines.append((line + " = " + c3).rstrip())
    return lines


def table_lines(block: Table) -> list[str]:
    widths = [max(len(block.headers[i]), *(len(r[i]) for r in block.rows))
              for i in range(len(block.headers))]
    head = "  ".join(h.ljust(w) for h, w in zip(block.headers, widths))
    rule = "  ".join("─" * w for w in widths)
    return [head, rule] + ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in block.rows]


def print_report(blocks: Sequence[Block], console: Any, decimals: int) -> None:
    """Print with rich (colour when the console supports it).  Every text passes
    :func:`clean_text` on its way out: the last guard against a terminal escape
    that came in with a file and slipped past the readers' cleaning."""
    from rich.rule import Rule
    from rich.text import Text as RichText

    for block in blocks:
        if isinstance(block, Heading) and block.level <= 2:
            if block.level == 2:
                console.print()
            console.print(Rule(RichText(clean_text(block.text), style="bold magenta"),
                               align="center" if block.level == 1 else "left"))
        elif isinstance(block, Heading):
            console.print()
            console.print(RichText(clean_text(block.text), style="bold underline"))
        elif isinstance(block, Text):
            console.print(RichText(clean_text(block.text, lines=True),
                                   style="dim" if block.text.startswith("Conventions") else ""))
        else:
            style = "cyan" if isinstance(block, Display) else ""
            console.print(RichText(clean_text("\n".join(block_lines(block, decimals)),
                                              lines=True), style=style, no_wrap=True),
                          soft_wrap=True)


def block_lines(block: Block, decimals: int, numbers: Mapping[float, str] | None = None,
                speller: UnicodeSpeller | None = None) -> list[str]:
    if isinstance(block, Equations):
        return equations_lines(block, decimals, numbers, speller)
    if isinstance(block, Display):
        return display_lines(block, decimals, numbers)
    if isinstance(block, Table):
        return table_lines(block)
    if isinstance(block, Heading) and block.level <= 2:
        return ["", block.text, ("=" if block.level == 1 else "-") * width(block.text)]
    if isinstance(block, Heading):
        return ["", block.text]
    if isinstance(block, Text):
        return [block.text]
    if isinstance(block, Diagram):
        layers = "-".join(str(n) for n in block.layers)
        return [f"(network {layers}: {', '.join(block.activations)})"]
    if isinstance(block, PageBreak):
        return ["", "─" * 40]
    raise TypeError(f"the terminal cannot write {block!r}")


def document_numbers(blocks: Sequence[Block], decimals: int) -> dict[float, str]:
    """The spelling of every number of the blocks' equations and matrices, made in
    one pass (a number inside a function's argument is spelled where it stands)."""
    values: list[float] = []
    seen: set[int] = set()      # the segments read: the updates shown share formulas
    for block in blocks:
        if isinstance(block, Equations):
            fresh = [seg for row in block.rows for seg in row if id(seg) not in seen]
            seen.update(map(id, fresh))
            values += [tok.value for seg in fresh for tok in seg if type(tok) is Num]
        elif isinstance(block, Display):
            for tok in block.expr:
                if isinstance(tok, Mat):
                    values += tok.value.ravel().tolist()
                elif type(tok) is Num:
                    values.append(tok.value)
    return spelled_numbers(values, decimals)


def report_text(blocks: Sequence[Block], decimals: int) -> str:
    """The report as plain text, no colour and no terminal needed (``-o FILE``)."""
    numbers = document_numbers(blocks, decimals)
    speller = UnicodeSpeller(decimals, numbers)
    lines: list[str] = []
    for block in blocks:
        lines += block_lines(block, decimals, numbers, speller)
    text = "\n".join(lines).lstrip("\n") + "\n"
    # The last guard (see print_report): a file's escapes never reach the output.
    # Line by line, most lines are found clean at once (a report of megabytes).
    return text if all(map(is_clean, lines)) else clean_text(text, lines=True)


class TextRenderer:
    """Plain Unicode text, for pipes and files; a terminal gets :meth:`show`."""

    name = "text"
    suffix = ".txt"
    standalone = False

    def render(self, document: Document, decimals: int) -> str:
        return report_text(document.blocks, decimals)

    def show(self, document: Document, console: Any, decimals: int) -> None:
        """Print with colour on a terminal (rich)."""
        print_report(document.blocks, console, decimals)
