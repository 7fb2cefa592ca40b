"""``bpnn-steps export FILE``: tutorial sheets as LaTeX (or PDF) and Markdown.

Sheets: ``question`` (the problem with answer boxes), ``solution`` (the worked
solution), ``both`` (question sheet, then the answer key on a new page),
``derivation`` (the symbolic derivation of every gradient).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class Sheet(str, Enum):
    question = "question"
    solution = "solution"
    both = "both"
    derivation = "derivation"


class ExportFormat(str, Enum):
    latex = "latex"
    markdown = "markdown"


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        problem: str = typer.Argument(..., help="Problem file, or a bundled problem's name."),
        sheet: Sheet = typer.Option(Sheet.both, "--sheet",
                                    help="question (answer boxes), solution (worked "
                                         "solution), both (question sheet, then the answer "
                                         "key on a new page) or derivation (symbolic)."),
        fmt: ExportFormat = typer.Option(ExportFormat.latex, "--format", "-f",
                                         help="latex (a complete document) or markdown "
                                              "($$ maths)."),
        pdf: bool = typer.Option(False, "--pdf", help="Compile the LaTeX to PDF (needs "
                                                      "pdflatex)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="File to write (default NAME-SHEET.tex, "
                                                   ".md or .pdf in the current folder; '-' "
                                                   "for standard output)."),
        decimals: int = typer.Option(3, "--decimals", "-d", min=0, max=15,
                                     help="Decimals shown (exact values are written short)."),
        show: str = typer.Option("auto", "--show", "-s",
                                 help="Updates shown in full: auto, all, none, or a list such "
                                      "as 'first,last' or '1-3'."),
        epochs: Optional[int] = typer.Option(None, "--epochs", "-e", min=1,
                                             help="Override the file's training.epochs."),
    ) -> None:
        """Write a tutorial sheet (question, worked solution or both) as LaTeX, PDF or
        Markdown."""
        from .app import emit, fail
        from ..errors import ProblemError
        from ..files.problem_file import load_problem, resolve_path

        if pdf and fmt is ExportFormat.markdown:
            fail("--pdf makes a PDF from LaTeX; leave out --format markdown")
        try:
            prob = load_problem(problem)
            if epochs is not None:
                prob = prob.with_training(epochs=epochs)
            document = _document(prob, sheet, show, decimals)
        except ProblemError as err:
            fail(err)
        except ValueError:
            fail(f"--show: cannot read {show!r}; expected auto, all, none, or a list of "
                 "first, last, every:K, numbers and ranges such as 1-3")
        stem = resolve_path(problem).stem
        suffix = ".pdf" if pdf else (".md" if fmt is ExportFormat.markdown else ".tex")
        target = output if output is not None else Path(f"{stem}-{sheet.value}{suffix}")
        from ..render.registry import renderer
        text = renderer(fmt.value).render(document, decimals)
        try:
            if pdf:
                if str(target) == "-":
                    fail("--pdf cannot write to standard output; give a file with -o")
                from ..render.pdf import compile_pdf
                compile_pdf(text, target)
                sys.stderr.write(f"wrote {target}\n")
                return
            emit(text, None if str(target) == "-" else target)
        except ProblemError as err:
            fail(err)


def _document(prob, sheet: Sheet, show: str, decimals: int):
    """The sheet as a document."""
    if sheet is Sheet.derivation:
        from ..present.derivation import derivation_document, setting_of
        title = f"Back-propagation derived: {prob.title}" if prob.title else ""
        return derivation_document(prob.layers, prob.activations, prob.loss, title=title,
                                   setting=setting_of(prob))
    from ..maths.engine import solve
    from ..present.report import select_steps
    from ..present.sheet import sheet_document, sheet_problem

    prob, note = sheet_problem(prob)
    trace = solve(prob)
    select_steps(len(trace.steps), show)        # ValueError on a bad --show
    return sheet_document(trace, sheet.value, decimals=decimals, show=show, note=note)
