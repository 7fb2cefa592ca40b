"""``bpnn-steps export FILE``: tutorial sheets as LaTeX (or PDF) and Markdown.

Sheets: ``question`` (the problem with answer boxes), ``solution`` (the worked
solution), ``both`` (question sheet, then the answer key on a new page),
``derivation`` (the symbolic derivation of every gradient).
"""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..present.tutorial_sheet import Sheet
from .formats import SHEET
from .options import (EPOCHS_GIVEN, Format, allow_read_option, check_pdf, decimals_option,
                      epochs_option, format_option, output_option, problem_argument,
                      read_access, show_option, show_spec, shown_updates)
from .output import check_outputs, emit, say, to_stdout


def export(
    problem: Annotated[str, problem_argument("Problem file, or a bundled problem's name.")],
    sheet: Annotated[Sheet, typer.Option(
        "--sheet", help="question (answer boxes), solution (worked solution), both "
                        "(question sheet, then the answer key on a new page) or derivation "
                        "(symbolic).")] = Sheet.both,
    fmt: Annotated[Format, format_option(SHEET, "latex (a complete document), markdown "
                                         "($$ maths) or html (a practice page that works "
                                         "offline: the worked solution folded step by "
                                         "step, an input for every number marked as you "
                                         "type like check, and a button that downloads "
                                         "the answers as a file check marks; --sheet is "
                                         "not used).")] = Format.latex,
    pdf: Annotated[bool, typer.Option("--pdf", help="Compile the LaTeX to PDF (needs "
                                                    "pdflatex).")] = False,
    output: Annotated[Optional[Path], output_option(
        "File to write (default NAME-SHEET.tex, .md or .pdf, or NAME-practice.html, in the "
        "current folder; '-' for standard output).")] = None,
    decimals: Annotated[int, decimals_option()] = 3,
    show: Annotated[str, show_option()] = "auto",
    epochs: Annotated[Optional[int], epochs_option()] = None,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
) -> None:
    """Write a tutorial sheet (question, worked solution or both) as LaTeX, PDF or
    Markdown, or a practice page for students as one offline HTML file."""
    from ..files.problem_file import read_problem_document
    from ..maths.workload import export_workload
    from ..present.tutorial_sheet import tutorial_sheet

    check_pdf(pdf, fmt, output, default=Format.latex)
    check_outputs({"-o": output}, [problem])     # before the work (pdflatex), not after it
    document = read_problem_document(problem, access=read_access(allow_read))
    prob = document.problem
    if epochs is not None:
        prob = prob.with_training(EPOCHS_GIVEN, epochs=epochs)
    export_workload(prob, shown_updates(show), derivation=sheet is Sheet.derivation)
    if fmt is Format.html:
        # The practice page: the worked solution and an input for every number.
        from ..course.practice_page import practice_page
        from ..files.bundled import problem_reference

        target = output if output is not None else Path(f"{document.path.stem}-practice.html")
        ref = problem_reference(problem, document.path, None if to_stdout(target) else target)
        with show_spec(show):
            page = practice_page(prob, ref, decimals=decimals, show=show)
        emit(page, None if to_stdout(target) else target)
        return
    with show_spec(show):
        content = tutorial_sheet(prob, sheet, decimals=decimals, show=show)
    from ..render.registry import renderer

    out = renderer(fmt.value)
    text = out.render(content, decimals)
    suffix = ".pdf" if pdf else out.suffix
    target = output if output is not None else Path(f"{document.path.stem}-{sheet.value}{suffix}")
    if pdf:
        from ..render.pdf import compile_pdf

        compile_pdf(text, target)
        say(f"wrote {target}")
        return
    emit(text, None if to_stdout(target) else target)
