"""Markdown with $$...$$ maths (renders on GitHub, in Jupyter and with KaTeX)."""

from __future__ import annotations

from collections.abc import Sequence

from ..numfmt import DEFAULT_DECIMALS
from ..present.report import Block, Display, Equations, Heading, Table, Text, build_report
from .tokens import expr_latex


def blocks_markdown(blocks: Sequence[Block], decimals: int = DEFAULT_DECIMALS) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Text):
            out.append(block.text)
        elif isinstance(block, Equations):
            lines = [" = ".join(expr_latex(seg, decimals) for seg in row)
                     for row in block.rows]
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
    import re
    return re.sub(r"^(\s*)(\d+)([.)])", r"\1\2\\\3", re.sub(r"^(\s*)([-+#>=])", r"\1\\\2",
                                                               escaped))


def mermaid_diagram(layers, activations, weights, decimals: int = DEFAULT_DECIMALS) -> str:
    """The network as a mermaid flowchart (rendered by GitHub and JupyterLab)."""
    from ..model.notation import sub
    from ..numfmt import fmt

    depth = len(layers) - 1

    def name(n: int, j: int) -> tuple[str, str]:
        if j == 0:
            return f"b{n}", "1"
        if n == 0:
            return f"x{j}", f"x{sub(str(j))}"
        if n == depth:
            return f"y{j}", f"ŷ{sub(str(j))}"
        return (f"h{n}_{j}", f"h{sub(str(j))}" if depth == 2 else f"h{sub(str(j))}[{n}]")

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


def document_markdown(blocks: Sequence[Block], decimals: int = DEFAULT_DECIMALS) -> str:
    """Any blocks (sheets, derivations) as a Markdown document."""
    from dataclasses import replace

    parts: list[str] = []
    run: list[Block] = []

    def flush() -> None:
        if run:
            parts.append(blocks_markdown(run, decimals).rstrip("\n"))
            run.clear()

    for block in blocks:
        kind = type(block).__name__
        if kind == "Diagram":
            flush()
            parts.append(mermaid_diagram(block.layers, block.activations, block.weights,
                                         decimals))
        elif kind == "PageBreak":
            flush()
            parts.append("---")
        elif isinstance(block, Heading):
            run.append(replace(block, text=escape_markdown(block.text, heading=True)))
        elif isinstance(block, Text):
            run.append(replace(block, text=escape_markdown(block.text)))
        elif isinstance(block, Table):
            run.append(Table(tuple(escape_markdown(h) for h in block.headers),
                             tuple(tuple(escape_markdown(c) for c in row) for row in block.rows)))
        else:
            run.append(block)
    flush()
    return "\n\n".join(parts) + "\n"
