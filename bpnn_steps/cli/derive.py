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


def derivation_json(layers, activations, loss) -> str:
    """Every entry as LaTeX, Unicode and sympy text (sympy's names: see
    bpnn_steps.symbolic.answer_symbols)."""
    from ..maths.symbolic import derive, gradient_entries, to_latex, to_unicode

    d = derive(layers, activations, loss)
    exprs = gradient_entries(layers, activations, loss)
    entries = []
    for layer in d.layer:
        for i, row in enumerate(layer.entries):
            for j, node in enumerate(row, start=1):
                entries.append({"layer": layer.n, "i": i, "j": j, "latex": to_latex(node),
                                "text": to_unicode(node), "sympy": str(exprs[(layer.n, i, j)])})
    return json.dumps({"layers": list(d.layers), "activations": list(d.activations),
                       "loss": d.loss, "entries": entries}, indent=1, ensure_ascii=False)


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
        from ..present.derivation import derivation_report, setting_of
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
        if fmt is DeriveFormat.json:
            _emit(derivation_json(prob.layers, prob.activations, prob.loss), output)
            return
        title = f"Back-propagation derived: {prob.title}" if prob.title else ""
        latex_like = pdf or fmt in (DeriveFormat.latex, DeriveFormat.markdown)
        blocks = derivation_report(prob.layers, prob.activations, prob.loss, title=title,
                                   setting=setting_of(prob),
                                   wrap=None if not latex_like else 72)
        if pdf or fmt is DeriveFormat.latex:
            from ..render.latex import blocks_document
            tex = blocks_document(blocks, title)
            if pdf:
                from ..render.pdf import compile_pdf
                target = output or Path(f"{resolve_path(problem).stem}-derivation.pdf")
                try:
                    compile_pdf(tex, target)
                except ProblemError as err:
                    fail(err)
                sys.stderr.write(f"wrote {target}\n")
                return
            _emit(tex, output)
            return
        if fmt is DeriveFormat.markdown:
            from ..render.markdown import document_markdown
            _emit(document_markdown(blocks), output)
            return
        from .app import console
        from ..render.terminal import print_report, report_text
        if output is not None or not sys.stdout.isatty():
            _emit(report_text(blocks, 3), output)
            return
        print_report(blocks, console(), 3)
