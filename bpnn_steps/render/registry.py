"""The output formats: each is one module with a renderer, registered here.

A renderer writes a :class:`~bpnn_steps.present.blocks.Document` as text::

    class Renderer(Protocol):
        name: str         # the --format value
        suffix: str       # the file suffix of its output
        standalone: bool  # writes a complete document (which then states the problem)
        def render(self, document: Document, decimals: int) -> str: ...

A new format is one new module plus one line in :data:`FORMATS`.  Renderers are
imported when they are asked for, so a command pays only for the format it writes.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from ..numfmt import DEFAULT_DECIMALS
from ..present.blocks import Document


class Renderer(Protocol):
    name: str
    suffix: str
    standalone: bool

    def render(self, document: Document, decimals: int) -> str: ...


# --format value -> (module, class)
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("terminal", "TextRenderer"),
    "markdown": ("markdown", "MarkdownRenderer"),
    "latex": ("latex", "LatexRenderer"),
    "json": ("jsondoc", "JsonRenderer"),
    "html": ("html", "HtmlRenderer"),
}


def renderer(name: str) -> Renderer:
    """The renderer of the format ``name`` (KeyError for an unknown format)."""
    module, cls = FORMATS[name]
    found: Renderer = getattr(importlib.import_module(f".{module}", __package__), cls)()
    return found


def render(document: Document, name: str, decimals: int = DEFAULT_DECIMALS) -> str:
    """``document`` written in the format ``name``."""
    return renderer(name).render(document, decimals)
