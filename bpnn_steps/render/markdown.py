"""Markdown with $$...$$ maths (renders on GitHub, in Jupyter and with KaTeX)."""

from __future__ import annotations

from collections.abc import Sequence

from ..numfmt import DEFAULT_DECIMALS
from ..report import Block, Display, Equations, Heading, Table, Text, build_report
from .tokens import expr_latex


def blocks_markdown(blocks: Sequence[Block], decimals: int = DEFAULT_DECIMALS) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Text):
            out.append(block.text)
        elif isinstance(block, Equations):
            lines = [" = ".join(expr_latex(seg, decimals) for seg in row) for row in block.rows]
            # One aligned environment per group keeps the '=' in a column.
            body = r" \\" + "\n"
            body = body.join(_align_first_equals(line) for line in lines)
            out.append("$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$")
        elif isinstance(block, Display):
            out.append("$$\n" + expr_latex(block.expr, decimals) + "\n$$")
        elif isinstance(block, Table):
            out.append("| " + " | ".join(block.headers) + " |")
            out[-1] += "\n|" + "---|" * len(block.headers)
            for row in block.rows:
                out[-1] += "\n| " + " | ".join(row) + " |"
    return "\n\n".join(out) + "\n"


def _align_first_equals(line: str) -> str:
    head, sep, tail = line.partition(" = ")
    return f"{head} &= {tail}" if sep else line


def render_markdown(trace, decimals: int = DEFAULT_DECIMALS, show: str = "auto") -> str:
    return blocks_markdown(build_report(trace, show=show), decimals)
