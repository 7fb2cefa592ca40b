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

from ._version import __version__
from .maths.engine import cost, solve
from .errors import ProblemError
from .model.problem import Problem, Training
from .files.problem_file import bundled_problems, load_problem, parse_problem
from .model.trace import SampleBackward, SampleForward, Step, Trace


def to_text(trace: Trace, *, decimals: int = 3, show: str = "auto") -> str:
    """The lecture-style report as plain text."""
    from .render.terminal import report_text
    from .present.report import build_report
    return report_text(build_report(trace, show=show), decimals)


def to_markdown(trace: Trace, *, decimals: int = 3, show: str = "auto") -> str:
    """The lecture-style report as Markdown with $$ maths."""
    from .render.markdown import render_markdown
    return render_markdown(trace, decimals, show)


__all__ = [
    "__version__", "Problem", "ProblemError", "SampleBackward", "SampleForward", "Step",
    "Trace", "Training", "bundled_problems", "cost", "load_problem", "parse_problem",
    "solve", "to_markdown", "to_text",
]
