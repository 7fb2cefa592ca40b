"""One self-contained HTML file: the maths as MathML, the network as inline SVG,
CSS and script inline, and a content security policy that forbids every network
request (the page works offline, from a phone's downloads folder).

Every step of a worked solution (an equation row, a displayed equation) is
collapsed in a <details> element until the student reveals it; its summary is
the step's left-hand side.  The practice page (:mod:`bpnn_steps.course.practice_page`)
adds its inputs and script around the same blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from ..model.notation import Expr, Op, OpKind
from ..numfmt import DEFAULT_DECIMALS
from ..present.blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak,
                              Table, Text)
from .diagram_svg import network_svg
from .mathml import expr_mathml

_UPDATE = re.compile(r"Update (\d+)\b")
# Text a user wrote (a title, a description) prints exactly as written: escaped,
# never read as markup, its spaces and line breaks kept.
_LITERAL = ' class="literal"'


@dataclass(frozen=True)
class Step:
    """A collapsed step of the page: its element id, the update it belongs to (0:
    before any update heading) and its left-hand side."""

    ident: str
    update: int
    lhs: Expr


def _lhs(expr: Expr) -> Expr:
    """The tokens before a displayed equation's first '='."""
    for k, tok in enumerate(expr):
        if isinstance(tok, Op) and tok.kind is OpKind.EQUALS:
            return tuple(expr[:k])
    return tuple(expr)


class BlocksHtml:
    """Writes blocks as HTML, numbering the steps it collapses."""

    def __init__(self, decimals: int, collapse: bool = True) -> None:
        self.decimals = decimals
        self.collapse = collapse      # False: a problem statement, shown whole
        self.steps: list[Step] = []
        self.update = 0

    def _step(self, lhs: Expr, body: str) -> str:
        if not self.collapse:
            return body
        ident = f"step{len(self.steps) + 1}"
        self.steps.append(Step(ident, self.update, lhs))
        summary = expr_mathml(lhs, self.decimals) if lhs else "the next step"
        return (f'<details class="step" id="{ident}"><summary>{summary} '
                f'<span class="reveal">show</span></summary>'
                f'<div class="body">{body}</div></details>')

    def block(self, block: Block) -> str:
        d = self.decimals
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 6)
            found = _UPDATE.match(block.text)
            if found:
                self.update = int(found.group(1))
            return f"<h{level}{_LITERAL if block.literal else ''}>{escape(block.text)}</h{level}>"
        if isinstance(block, Text):
            return f"<p{_LITERAL if block.literal else ''}>{escape(block.text)}</p>"
        if isinstance(block, Equations):
            out = []
            for row in block.rows:
                shown = []
                for k, segment in enumerate(row):
                    shown.append(expr_mathml(segment, d))
                    if k < len(row) - 1:
                        shown.append('<span class="eq">=</span>')
                body = f'<div class="row">{"".join(shown)}</div>'
                out.append(self._step(tuple(row[0]), body) if len(row) > 1 else body)
            return "\n".join(out)
        if isinstance(block, Display):
            body = f'<div class="display">{expr_mathml(block.expr, d, display=True)}</div>'
            lhs = _lhs(block.expr)
            return self._step(lhs, body) if len(lhs) < len(block.expr) else body
        if isinstance(block, Table):
            head = "".join(f'<th scope="col">{escape(h)}</th>' for h in block.headers)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                           for row in block.rows)
            return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                    f"<tbody>{rows}</tbody></table></div>")
        if isinstance(block, Diagram):
            svg = network_svg(block.layers, block.activations, block.weights, d)
            svg = svg.replace("<svg ", '<svg role="img" aria-label="The network with its '
                              'initial weights" ', 1)
            return f'<figure class="diagram scroll">{svg}</figure>'
        if isinstance(block, PageBreak):
            return "<hr>"
        raise TypeError(f"HTML cannot write {block!r}")

    def blocks(self, blocks: Sequence[Block]) -> str:
        return "\n".join(self.block(b) for b in blocks)


STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #5a5a5a;
  --line: #c8c8c8; --right: #0a6b2d; --wrong: #a4161a; --accent: #0b57d0; --panel: #f3f5f8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #15171a; --muted: #a8a8a8; --line: #44484f;
    --right: #6fdc8c; --wrong: #ff8389; --accent: #8ab4f8; --panel: #1f2329; }
  figure.diagram svg { background: #ffffff; border-radius: 6px; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; font: 16px/1.5 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
.scroll, .row, .display { overflow-x: auto; overflow-y: hidden; max-width: 100%; }
.row, .display { padding: .3rem 0; }
figure.diagram { margin: 1rem 0; } figure.diagram svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--line); padding: .2rem .6rem; }
details.step { border-left: 3px solid var(--line); margin: .3rem 0; padding: .1rem .6rem; }
details.step[open] { border-left-color: var(--accent); }
summary { cursor: pointer; padding: .2rem 0; }
.reveal { color: var(--muted); font-size: .85rem; }
details[open] > summary .reveal { display: none; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.eq { padding: 0 .4rem; }
.row math, .row .eq { vertical-align: middle; }
nav.modes { display: flex; gap: .5rem; flex-wrap: wrap; margin: 1rem 0; }
button, .button { font: inherit; padding: .45rem .9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--panel); color: var(--fg); }
.practice fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .8rem 0; }
.entry { display: grid; grid-template-columns: minmax(8rem, 14rem) minmax(6rem, 10rem) 1fr;
  gap: .2rem .6rem; align-items: center; padding: .25rem 0; border-bottom: 1px dotted var(--line); }
.entry input, #student { font: inherit; width: 100%; padding: .3rem; color: var(--fg);
  background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
#student { width: min(100%, 16rem); }
math { color: var(--fg); }
.entry input.right { border-color: var(--right); } .entry input.wrong { border-color: var(--wrong); }
.mark.right { color: var(--right); } .mark.wrong { color: var(--wrong); }
.entry details { grid-column: 1 / -1; }
.hint-body { background: var(--panel); padding: .3rem .6rem; border-radius: 4px; overflow-x: auto; }
.score { font-weight: 600; }
.literal { white-space: pre-wrap; overflow-wrap: anywhere; }
@media (max-width: 600px) {
  body { padding: .6rem; font-size: 15px; }
  .entry { grid-template-columns: 1fr 1fr; } .entry .mark { grid-column: 1 / -1; }
}
"""


# A script element's text changes the HTML parser's state only at '<' ('</script>'
# ends it, '<!--<script>' makes it swallow the next element's end): a title such as
# "<!--<script>" broke the page.  JSON.parse reads \u003c as '<'.
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_script(ident: str, data: Mapping[str, Any]) -> str:
    """Data for the page's script, safe inside <script>: its text holds no '<'."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False).translate(_JSON_IN_HTML)
    return f'<script type="application/json" id="{ident}">{text}</script>'


# No request can leave the page: everything it needs is inline.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def html_page(title: str, body: str, script: str = "") -> str:
    """A complete HTML document around ``body``."""
    return ("<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<main>\n{body}\n</main>\n{script}\n</body>\n</html>\n")


class HtmlRenderer:
    name = "html"
    suffix = ".html"
    standalone = True

    def render(self, document: Document, decimals: int = DEFAULT_DECIMALS) -> str:
        writer = BlocksHtml(decimals)
        return html_page(document.title, writer.blocks(document.blocks))
