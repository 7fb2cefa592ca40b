"""Markdown with $$...$$ maths (renders on GitHub, in Jupyter and with KaTeX).

Text is escaped so that it prints as written; the network is drawn as a mermaid
flowchart; a page break is a rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..numfmt import DEFAULT_DECIMALS
from ..present.blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak,
                              Table, Text)
from .spelling import LatexSpeller


def block_markdown(block: Block, decimals: int, escape: bool = True,
                   speller: LatexSpeller | None = None) -> str:
    """One block as Markdown; ``escape`` False writes the tool's own prose as it is
    (a user's text, a literal block, is escaped whatever ``escape`` says: a title
    '<img onerror=...>' or '# heading' is shown, never run or laid out); ``speller``:
    the document's (:class:`LatexSpeller`), which spells a repeated formula once."""
    def text(value: str, heading: bool = False, literal: bool = False) -> str:
        return escape_markdown(value, heading) if escape or literal else value

    if isinstance(block, Heading):
        return "#" * block.level + " " + text(block.text, heading=True, literal=block.literal)
    if isinstance(block, Text):
        return text(block.text, literal=block.literal)
    tex = (speller or LatexSpeller(decimals)).expr
    if isinstance(block, Equations):
        lines = [" = ".join(map(tex, row)) for row in block.rows]
        # One aligned environment per group keeps the '=' in a column.
        body = (r" \\" + "\n").join(_align_first_equals(line) for line in lines)
        return "$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$"
    if isinstance(block, Display):
        return "$$\n" + tex(block.expr) + "\n$$"
    if isinstance(block, Table):
        out = "| " + " | ".join(text(h) for h in block.headers) + " |"
        out += "\n|" + "---|" * len(block.headers)
        for row in block.rows:
            out += "\n| " + " | ".join(text(c) for c in row) + " |"
        return out
    if isinstance(block, Diagram):
        return mermaid_diagram(block.layers, block.activations, block.weights, decimals)
    if isinstance(block, PageBreak):
        return "---"
    raise TypeError(f"Markdown cannot write {block!r}")


def blocks_markdown(blocks: Sequence[Block], decimals: int = DEFAULT_DECIMALS,
                    escape: bool = True) -> str:
    speller = LatexSpeller(decimals)
    return "\n\n".join(block_markdown(b, decimals, escape, speller) for b in blocks) + "\n"


def _align_first_equals(line: str) -> str:
    head, sep, tail = line.partition(" = ")
    return f"{head} &= {tail}" if sep else line


class MarkdownRenderer:
    name = "markdown"
    suffix = ".md"
    standalone = False

    def render(self, document: Document, decimals: int) -> str:
        return blocks_markdown(document.blocks, decimals, document.escape_markdown)


# --------------------------------------------------------------------------- documents
# (export --format markdown): text escaped so that it prints as written, the
# network drawn as a mermaid flowchart, a rule between question sheet and key.

# "[" stays: an escaped \[ would open display maths in Jupyter; "\]" alone
# already stops a link.
_MD_SPECIALS = "\\`*_]<>|$~&"


def escape_markdown(text: str, heading: bool = False) -> str:
    """Plain text that renders as written in Markdown (GitHub, Jupyter, KaTeX pages):
    Markdown, HTML and maths specials are backslash-escaped, and so is a line start
    that would make a list, quote or heading."""
    out = []
    for c in text:
        if c in "\r\n\t":
            out.append(" ")
        elif c in _MD_SPECIALS:
            out.append("\\" + c)
        else:
            out.append(c)
    escaped = "".join(out)
    if heading:     # a trailing " #" would be taken for a closing sequence
        return escaped.replace("#", "\\#")
    return re.sub(r"^(\s*)(\d+)([.)])", r"\1\2\\\3", re.sub(r"^(\s*)([-+#>=])", r"\1\\\2",
                                                               escaped))


def mermaid_diagram(layers: Sequence[int], activations: Sequence[str], weights: Any,
                    decimals: int = DEFAULT_DECIMALS) -> str:
    """The network as a mermaid flowchart (rendered by GitHub and JupyterLab)."""
    from ..model.notation import Sym, unit_base
    from ..numfmt import fmt

    depth = len(layers) - 1

    def name(n: int, j: int) -> tuple[str, str]:
        """(mermaid node id, label) of unit j of layer n (j = 0: the bias node)."""
        if j == 0:
            return f"b{n}", "1"
        base, layer = unit_base(n, depth)
        node = {"x": f"x{j}", "yhat": f"y{j}"}.get(base, f"h{n}_{j}")
        return node, Sym(base, (j,), None, layer).unicode()

    lines = ["```mermaid", "flowchart LR"]
    for n, size in enumerate(layers):
        caption = "input" if n == 0 else (f"output, {activations[n - 1]}" if n == depth
                                          else f"hidden {n}, {activations[n - 1]}")
        lines.append(f'  subgraph L{n}["{caption}"]')
        lines.append("    direction TB")
        for j in range(0 if n < depth else 1, size + 1):
            node, label = name(n, j)
            shape = f'(("{label}"))' if j else f'["{label}"]'
            lines.append(f"    {node}{shape}")
        lines.append("  end")
    for n in range(1, depth + 1):
        w = weights[n - 1] if weights is not None else None
        for i in range(layers[n - 1] + 1):
            for j in range(1, layers[n] + 1):
                a, b = name(n - 1, i)[0], name(n, j)[0]
                label = f' -- "{fmt(float(w[i, j - 1]), decimals)}" -->' if w is not None \
                    else " -->"
                lines.append(f"  {a}{label} {b}")
    lines.append("```")
    return "\n".join(lines)
