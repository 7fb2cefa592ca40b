"""The closed set of blocks that every piece of content is made of.

Content (the worked solution, sheets, the derivation, exact values) is a
:class:`Document`: a title and a sequence of blocks.  Blocks hold text, values
and notation tokens (:mod:`bpnn_steps.model.notation`), never spelled maths or
markup; every output format (:mod:`bpnn_steps.render`) writes each kind of
block, and a format that misses one fails its type check and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

import numpy as np

from ..model.notation import Expr
from ..model.value import Value


class Heading(Value):
    """A heading; ``literal``: text a user wrote (a title), printed exactly as
    written (no typographic quotes, no maths)."""

    text: str
    level: int = 2
    literal: bool = False


class Text(Value):
    """A paragraph of prose (Unicode; the lecture's symbols may appear in it);
    ``literal``: text a user wrote (a description), printed exactly as written."""

    text: str
    literal: bool = False


class Equations(Value):
    """Rows of ``lhs = formula = numbers substituted = value``; each row is a tuple
    of segments joined by '=' (a terminal lines the '=' up in columns)."""

    rows: tuple[tuple[Expr, ...], ...]


class Display(Value):
    """One displayed equation, usually with matrices in it."""

    expr: Expr


class Table(Value):
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class Diagram(Value):
    """A picture of the network with its initial weights."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    weights: tuple[np.ndarray, ...] | None


class PageBreak(Value):
    """A new page (the answer key after the question sheet)."""

    new_page: bool = True


Block = Union[Heading, Text, Equations, Display, Table, Diagram, PageBreak]
BLOCK_TYPES = (Heading, Text, Equations, Display, Table, Diagram, PageBreak)


class Document:
    """A piece of content ready for any output format.

    Its ``blocks`` are given, or built by ``build`` when a format first asks for them
    (JSON never does).  ``data`` gives the same content as plain JSON values (the
    trace, the derivation's entries) when the JSON format asks for it (so that other
    formats never pay for it), which writes it indented by ``json_indent`` (None:
    on one line, ASCII only, as ``solve``'s trace has always been written).
    ``escape_markdown`` False keeps the Markdown of ``solve --format markdown`` as
    it has always been written (the tool's own prose unescaped; a user's text, a
    literal block, is escaped in every document); every other document escapes
    all its text.
    """

    __slots__ = ("title", "_blocks", "_build", "data", "json_indent", "escape_markdown")

    def __init__(self, title: str, blocks: Sequence[Block] = (), *,
                 build: Callable[[], Sequence[Block]] | None = None,
                 data: Callable[[], Mapping[str, Any]] | None = None,
                 json_indent: int | None = 1, escape_markdown: bool = True) -> None:
        self.title = title
        self._blocks = tuple(blocks)
        self._build = build
        self.data = data
        self.json_indent = json_indent
        self.escape_markdown = escape_markdown

    @property
    def blocks(self) -> tuple[Block, ...]:
        if self._build is not None:
            self._blocks, self._build = tuple(self._build()), None
        return self._blocks
