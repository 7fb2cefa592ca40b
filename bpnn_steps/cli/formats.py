"""Which renderer writes each ``--format`` of each command: the one place where the
command line dispatches on an output format.

Every table maps a :class:`Format` to a callable that turns a command's result
into text (or a :class:`TerminalView`, which a terminal shows with rich's
layout).  A command's ``--format`` accepts exactly its table's keys.  Renderers
are imported when called, so a command pays only for the format it writes.

This module is imported on every start: its records are NamedTuples, which cost
a fifth of a frozen dataclass to create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from .options import Format
from .output import Rendered, TerminalView

if TYPE_CHECKING:
    from rich.console import Console

    from ..maths.datasets import Generator
    from ..maths.training import TrainResult
    from ..marking.gradebook import Gradebook
    from ..marking.marker import CheckResult
    from ..model.problem import Problem
    from ..model.trace import Trace
    from ..present.blocks import Document


def document_view(document: Document, fmt: Format, decimals: int) -> Rendered:
    """A document in a format: for text, rich's layout on a terminal and plain text
    elsewhere."""
    from ..render.registry import renderer

    out = renderer(fmt.value)
    if fmt is Format.text:
        from ..render.terminal import TextRenderer

        text = TextRenderer()
        return TerminalView(plain=lambda: text.render(document, decimals),
                            show=lambda console: text.show(document, console, decimals))
    return out.render(document, decimals)


def standalone(fmt: Format) -> bool:
    """Whether the format writes a complete document (which then states the problem)."""
    from ..render.registry import renderer

    return renderer(fmt.value).standalone


# --------------------------------------------------------------------------- solve


class Solution(NamedTuple):
    problem: Problem
    trace: Trace
    decimals: int
    show: str
    exact: bool                 # exact values (sympy) beside the decimals
    samples: str = "auto"       # the samples of an update shown in full


SOLUTION = (Format.text, Format.json, Format.markdown, Format.latex)


def solution(s: Solution, fmt: Format) -> Rendered:
    """``solve``'s worked solution (with exact values for --exact) in a format."""
    if s.exact:
        from ..present.exact_values import exact_document

        document = exact_document(s.problem, s.trace, show=s.show, statement=standalone(fmt),
                                  samples=s.samples)
    else:
        from ..present.sheet import worked_solution

        document = worked_solution(s.trace, show=s.show, statement=standalone(fmt),
                                   samples=s.samples)
    return document_view(document, fmt, s.decimals)


# --------------------------------------------------------------------------- derive and export

DERIVATION = (Format.text, Format.markdown, Format.latex, Format.json)
SHEET = (Format.latex, Format.markdown, Format.html)


# --------------------------------------------------------------------------- check


class Marking(NamedTuple):
    result: CheckResult
    decimals: int
    wrong_only: bool


def _marking_text(m: Marking) -> Rendered:
    from ..present.marking_report import marking_report
    from ..render.marking_table import marking_renderables, plain_text

    renderables = marking_renderables(marking_report(m.result, m.decimals, m.wrong_only))

    def show(console: Console) -> None:
        for item in renderables:
            console.print(item)

    return TerminalView(plain=lambda: plain_text(renderables), show=show)


def _marking_json(m: Marking) -> Rendered:
    import json

    return json.dumps(m.result.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)


MARKING: Mapping[Format, Callable[[Marking], Rendered]] = {
    Format.text: _marking_text,
    Format.json: _marking_json,
}


def _gradebook_text(book: Gradebook) -> Rendered:
    from ..render.marking_table import gradebook_text

    return gradebook_text(book)


GRADEBOOK: Mapping[Format, Callable[[Gradebook], Rendered]] = {
    Format.text: _gradebook_text,
    Format.json: lambda book: book.to_json(),
}


# --------------------------------------------------------------------------- train


class Training(NamedTuple):
    result: TrainResult
    generator: Generator | None     # the data's generator, when the data are generated
    decimals: int
    chart: bool                     # a text chart of the cost (when no --plot is drawn)


def _training_text(t: Training) -> Rendered:
    from ..render.training_summary import training_summary

    return training_summary(t.result, t.decimals, chart=t.chart,
                            data_note=t.generator.describe() if t.generator else None)


def _training_json(t: Training) -> Rendered:
    import json

    doc = t.result.to_dict()
    if t.generator is not None:
        doc["data"] = {"generate": t.generator.to_mapping()}
    return json.dumps(doc, indent=1, allow_nan=False)


TRAINING: Mapping[Format, Callable[[Training], Rendered]] = {
    Format.text: _training_text,
    Format.json: _training_json,
}
