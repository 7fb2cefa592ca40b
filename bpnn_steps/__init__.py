"""bpnn-steps: the back-propagation hand calculation of small neural networks,
step by step, laid out like a lecture.

Notebook use::

    import bpnn_steps as bp
    problem = bp.load_problem("lecture_122")      # a file path or a bundled name
    trace = bp.solve(problem)                     # every update, immutable
    trace                                         # shows itself as Markdown in Jupyter
    trace.steps[0].weights_after[1]               # W[2] after the first update
    print(bp.to_text(trace))                      # the lecture-style report as text
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ._version import __version__
from .errors import ProblemError
from .files.problem_file import bundled_problems, load_problem, parse_problem
from .maths.engine import cost
from .maths.engine import solve as _solve
from .model import trace as _trace
from .model.problem import Problem, Training
from .model.trace import SampleBackward, SampleForward, Step


class Trace(_trace.Trace):
    """The immutable trace of a calculation (see :mod:`bpnn_steps.model.trace`), which
    shows itself as the lecture-style report in Jupyter."""

    def _repr_markdown_(self) -> str:
        return to_markdown(self)


def solve(problem: Problem, **options: Any) -> Trace:
    """Run the problem's training settings and trace every update (the options of
    :func:`bpnn_steps.maths.engine.solve`)."""
    trace = _solve(problem, **options)
    return Trace(**{f.name: getattr(trace, f.name) for f in fields(trace)})


def _render(trace: _trace.Trace, fmt: str, decimals: int, show: str) -> str:
    from .present.sheet import worked_solution
    from .render.registry import render
    return render(worked_solution(trace, show=show), fmt, decimals)


def to_text(trace: _trace.Trace, *, decimals: int = 3, show: str = "auto") -> str:
    """The lecture-style report as plain text."""
    return _render(trace, "text", decimals, show)


def to_markdown(trace: _trace.Trace, *, decimals: int = 3, show: str = "auto") -> str:
    """The lecture-style report as Markdown with $$ maths."""
    return _render(trace, "markdown", decimals, show)


__all__ = [
    "__version__", "Problem", "ProblemError", "SampleBackward", "SampleForward", "Step",
    "Trace", "Training", "bundled_problems", "cost", "load_problem", "parse_problem",
    "solve", "to_markdown", "to_text",
]
