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

from collections.abc import Callable, Mapping, Sequence
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
    from ..present.report import Block
    from ..present.tutorial_sheet import TutorialSheet


def _plain_report(blocks: Sequence[Block], decimals: int) -> TerminalView:
    """Report blocks: rich's layout on a terminal, plain text elsewhere."""
    from ..render.terminal import print_report, report_text

    return TerminalView(plain=lambda: report_text(blocks, decimals),
                        show=lambda console: print_report(blocks, console, decimals))


# --------------------------------------------------------------------------- solve


class Solution(NamedTuple):
    problem: Problem
    trace: Trace
    decimals: int
    show: str


def _solution_text(s: Solution) -> Rendered:
    from ..present.report import build_report

    return _plain_report(build_report(s.trace, show=s.show), s.decimals)


def _solution_markdown(s: Solution) -> Rendered:
    from ..render.markdown import render_markdown

    return render_markdown(s.trace, s.decimals, s.show)


def _solution_latex(s: Solution) -> Rendered:
    from ..render.latex import solution_document

    return solution_document(s.trace, decimals=s.decimals, show=s.show)


SOLUTION: Mapping[Format, Callable[[Solution], Rendered]] = {
    Format.text: _solution_text,
    Format.json: lambda s: s.trace.to_json(),
    Format.markdown: _solution_markdown,
    Format.latex: _solution_latex,
}


# solve --exact: exact values (sympy) beside the decimals.


def _exact_text(s: Solution) -> Rendered:
    from ..maths.exact import report_with_exact
    from ..render.terminal import report_text

    return report_text(report_with_exact(s.problem, s.trace, s.show), s.decimals)


def _exact_json(s: Solution) -> Rendered:
    from ..maths.exact import exact_json

    return exact_json(s.problem, s.trace, s.show)


def _exact_markdown(s: Solution) -> Rendered:
    from ..maths.exact import report_with_exact
    from ..render.markdown import document_markdown

    return document_markdown(report_with_exact(s.problem, s.trace, s.show), s.decimals)


def _exact_latex(s: Solution) -> Rendered:
    from ..maths.exact import report_with_exact
    from ..render.latex import blocks_document, solution_blocks

    blocks = report_with_exact(s.problem, s.trace, s.show,
                               solution_blocks(s.trace, show=s.show))
    return blocks_document(blocks, s.trace.settings.title, s.decimals)


EXACT_SOLUTION: Mapping[Format, Callable[[Solution], Rendered]] = {
    Format.text: _exact_text,
    Format.json: _exact_json,
    Format.markdown: _exact_markdown,
    Format.latex: _exact_latex,
}


# --------------------------------------------------------------------------- derive


def _derivation_text(problem: Problem) -> Rendered:
    from ..present.tutorial_sheet import derivation_sheet

    return _plain_report(derivation_sheet(problem, terminal=True).blocks, 3)


def _derivation_markdown(problem: Problem) -> Rendered:
    from ..present.tutorial_sheet import derivation_sheet
    from ..render.markdown import document_markdown

    return document_markdown(derivation_sheet(problem).blocks)


def derivation_latex(problem: Problem) -> str:
    """The derivation as a complete LaTeX document (also what ``derive --pdf`` compiles)."""
    from ..present.tutorial_sheet import derivation_sheet
    from ..render.latex import blocks_document

    sheet = derivation_sheet(problem)
    return blocks_document(sheet.blocks, sheet.title)


def _derivation_json(problem: Problem) -> Rendered:
    import json

    from ..present.derivation_entries import derivation_entries

    return json.dumps(derivation_entries(problem.layers, problem.activations, problem.loss),
                      indent=1, ensure_ascii=False)


DERIVATION: Mapping[Format, Callable[[Problem], Rendered]] = {
    Format.text: _derivation_text,
    Format.markdown: _derivation_markdown,
    Format.latex: derivation_latex,
    Format.json: _derivation_json,
}


# --------------------------------------------------------------------------- export


def _sheet_latex(sheet: TutorialSheet, decimals: int) -> str:
    from ..render.latex import blocks_document

    return blocks_document(sheet.blocks, sheet.title, decimals)


def _sheet_markdown(sheet: TutorialSheet, decimals: int) -> str:
    from ..render.markdown import document_markdown

    return document_markdown(sheet.blocks, decimals)


SHEET: Mapping[Format, Callable[[TutorialSheet, int], str]] = {
    Format.latex: _sheet_latex,
    Format.markdown: _sheet_markdown,
}
SHEET_SUFFIX: Mapping[Format, str] = {Format.latex: ".tex", Format.markdown: ".md"}


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
    from ..present.training_summary import training_summary

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
