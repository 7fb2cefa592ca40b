"""``bpnn-steps derive FILE``: the gradient of the cost with respect to every
weight, derived symbolically and written in the lecture's notation."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class DeriveFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    latex = "latex"
    json = "json"


def _emit(text: str, output: Optional[Path]) -> None:
    from .app import emit, fail
    from ..errors import ProblemError
    try:
        emit(text, output)
    except ProblemError as err:
        fail(err)


def register(app: typer.Typer) -> None:
    @app.command()
    def derive(
        problem: str = typer.Argument(..., help="Problem file (only network and loss are "
                                                "needed), or a bundled problem's name."),
        fmt: DeriveFormat = typer.Option(DeriveFormat.text, "--format", "-f",
                                         help="text, markdown ($$ maths), latex (a complete "
                                              "document) or json (every entry)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="Write to this file (atomically) instead "
                                                   "of standard output."),
        pdf: bool = typer.Option(False, "--pdf", help="Compile the LaTeX to a PDF (needs "
                                                      "pdflatex); written to --output or "
                                                      "NAME-derivation.pdf."),
        verify: bool = typer.Option(False, "--verify",
                                    help="Check every entry against sympy's derivative of the "
                                         "cost written out directly (slower)."),
    ) -> None:
        """Derive dJ/dw for every weight with the chain rule, in the lecture's notation:
        the matrix form of each layer's gradient, every entry written out, the update."""
        from .app import fail
        from ..present.derivation import setting_of
        from ..errors import ProblemError
        from ..files.problem_file import load_problem, resolve_path

        try:
            prob = load_problem(problem)
        except ProblemError as err:
            fail(err)
        if verify:
            from ..maths.symbolic import check_with_sympy
            checked, bad = check_with_sympy(prob.layers, prob.activations, prob.loss)
            if bad:
                fail(f"{len(bad)} of {checked} derived entries disagree with sympy: "
                     + ", ".join(f"w{i},{j}[{n}]" for n, i, j in bad[:5]))
            sys.stderr.write(f"verified: all {checked} entries agree with sympy's derivative "
                             "of the cost at random points\n")
        from ..present.derivation import derivation_document
        from ..render.registry import renderer
        from .app import show_document

        title = f"Back-propagation derived: {prob.title}" if prob.title else ""
        document = derivation_document(prob.layers, prob.activations, prob.loss, title=title,
                                       setting=setting_of(prob))
        if pdf:
            from ..render.pdf import compile_pdf
            target = output or Path(f"{resolve_path(problem).stem}-derivation.pdf")
            try:
                compile_pdf(renderer("latex").render(document, 3), target)
            except ProblemError as err:
                fail(err)
            sys.stderr.write(f"wrote {target}\n")
            return
        try:
            show_document(document, renderer(fmt.value), 3, output)
        except ProblemError as err:
            fail(err)
