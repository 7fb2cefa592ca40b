"""The content of a tutorial sheet (``bpnn-steps export``) and of a derivation
(``bpnn-steps derive``) for a problem, as documents."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

# Imported by the command line at start-up (for Sheet): nothing heavy at module level.
if TYPE_CHECKING:
    from ..model.problem import Problem
    from .blocks import Document


class Sheet(StrEnum):
    question = "question"       # the problem with answer boxes
    solution = "solution"       # the worked solution
    both = "both"               # the question sheet, then the answer key on a new page
    derivation = "derivation"   # the symbolic derivation of every gradient


def derivation_sheet(problem: Problem) -> Document:
    """dJ/dw of every weight of the problem's network, derived with the chain rule."""
    from .derivation import derivation_document, setting_of

    title = f"Back-propagation derived: {problem.title}" if problem.title else ""
    return derivation_document(problem.layers, problem.activations, problem.loss,
                               title=title, setting=setting_of(problem))


def tutorial_sheet(problem: Problem, sheet: Sheet, *, decimals: int, show: str) -> Document:
    """The sheet for a problem; a long training run is cut to the updates a sheet can
    hold, with a note saying so.

    Raises ValueError when ``show`` names no update of the run (see select_steps).
    """
    if sheet is Sheet.derivation:
        return derivation_sheet(problem)
    from ..maths.engine import solve
    from .sheet import sheet_document, sheet_problem, sheet_steps

    cut, note = sheet_problem(problem)
    trace = solve(cut)
    sheet_steps(problem, len(trace.steps), show)
    return sheet_document(trace, sheet.value, decimals=decimals, show=show, note=note)
