"""``bpnn-steps derive FILE``: the gradient of the cost with respect to every
weight, derived symbolically and written in the lecture's notation."""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ExitCode
from .boundary import exit_with
from .formats import DERIVATION, document_view
from .options import (Format, allow_read_option, check_pdf, format_option, output_option,
                      problem_argument, read_access)
from .output import check_outputs, deliver, say


def derive(
    problem: Annotated[str, problem_argument("Problem file (only network and loss are "
                                             "needed), or a bundled problem's name.")],
    fmt: Annotated[Format, format_option(DERIVATION, "text, markdown ($$ maths), latex (a "
                                         "complete document) or json (every "
                                         "entry).")] = Format.text,
    output: Annotated[Optional[Path], output_option()] = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Compile the LaTeX to a PDF (needs pdflatex); written to --output or "
                      "NAME-derivation.pdf.")] = False,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Check every entry against the central difference of the cost "
                         "written out directly, at random points (slower).")] = False,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
) -> None:
    """Derive dJ/dw for every weight with the chain rule, in the lecture's notation:
    the matrix form of each layer's gradient, every entry written out, the update."""
    from ..files.problem_file import read_problem_document
    from ..maths.workload import derive_workload

    check_pdf(pdf, fmt, output, default=Format.text)
    check_outputs({"-o": output}, [problem])     # before the work (pdflatex), not after it
    document = read_problem_document(problem, access=read_access(allow_read))
    prob = document.problem
    derive_workload(prob, verify=verify)
    if verify:
        import numpy as np

        from ..maths.symbolic import VERIFY_DIGITS, check_with_sympy
        from ..model.conventions import UpdateOrder

        # seeded: the same points every run, so a failure can be reproduced
        checked, bad = check_with_sympy(prob.layers, prob.activations, prob.loss,
                                        rng=np.random.default_rng(0),
                                        conventions=prob.conventions)
        if prob.conventions.update_order is UpdateOrder.OUTPUT_FIRST and len(prob.layers) > 2:
            sys.stderr.write("update_order output_first: the entries below the output layer "
                             "go back through the output layer's new weights, so they are "
                             "not derivatives of the cost and are not checked\n")
        if bad:
            sys.stderr.write(f"{len(bad)} of {checked} derived entries disagree with the "
                             "central difference of the cost: "
                             + ", ".join(f"w{i},{j}[{n}]" for n, i, j in bad[:5]) + "\n")
            exit_with(ExitCode.WRONG_ANSWERS)
        sys.stderr.write(f"verified: all {checked} entries agree with the central "
                         f"difference of the cost written out directly ({VERIFY_DIGITS} "
                         "digits) at random points\n")
    from ..present.tutorial_sheet import derivation_sheet

    derivation = derivation_sheet(prob)
    if pdf:
        from ..render.pdf import compile_pdf
        from ..render.registry import render

        target = output or Path(f"{document.path.stem}-derivation.pdf")
        compile_pdf(render(derivation, "latex"), target)
        say(f"wrote {target}")
        return
    deliver(document_view(derivation, fmt, 3), output)
