"""The content of a tutorial sheet (``bpnn-steps export``) and of a derivation
(``bpnn-steps derive``): the blocks and the title a renderer writes."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

# Imported by the command line at start-up (for Sheet): nothing heavy at module level.
if TYPE_CHECKING:
    from ..model.problem import Problem


class Sheet(StrEnum):
    question = "question"       # the problem with answer boxes
    solution = "solution"       # the worked solution
    both = "both"               # the question sheet, then the answer key on a new page
    derivation = "derivation"   # the symbolic derivation of every gradient


class TutorialSheet(NamedTuple):
    # A NamedTuple, not a frozen dataclass: Sheet brings this module into every start.
    title: str
    blocks: list[Any]           # report blocks (present.report.Block and the sheets' own)


def derivation_sheet(problem: Problem, *, terminal: bool = False) -> TutorialSheet:
    """dJ/dw of every weight of the problem's network, derived with the chain rule.

    Long entries are broken into lines for pages; ``terminal``: one line each.
    """
    from .derivation import LINE_WIDTH, derivation_report, setting_of

    title = f"Back-propagation derived: {problem.title}" if problem.title else ""
    return TutorialSheet(title, derivation_report(problem.layers, problem.activations,
                                                  problem.loss, title=title,
                                                  setting=setting_of(problem),
                                                  wrap=None if terminal else LINE_WIDTH))


def tutorial_sheet(problem: Problem, sheet: Sheet, *, decimals: int, show: str
                   ) -> TutorialSheet:
    """The sheet for a problem; a long training run is cut to the updates a sheet can
    hold, with a note saying so.

    Raises ValueError when ``show`` names no update of the run (see select_steps).
    """
    if sheet is Sheet.derivation:
        return derivation_sheet(problem)
    from ..maths.engine import solve
    from ..render.latex import sheet_blocks
    from .report import Text, select_steps
    from .sheet import sheet_problem

    problem, note = sheet_problem(problem)
    trace = solve(problem)
    select_steps(len(trace.steps), show)
    title = trace.settings.title or f"Network {'-'.join(str(n) for n in problem.layers)}"
    blocks = sheet_blocks(trace, sheet.value, decimals=decimals, show=show)
    if note:
        blocks.insert(1, Text(note))
    return TutorialSheet(title, blocks)
