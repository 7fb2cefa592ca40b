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

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import ProblemError

if TYPE_CHECKING:
    from .files.bundled import bundled_problems
    from .files.problem_file import load_problem, parse_problem
    from .api import Trace, solve, to_markdown, to_text
    from .maths.engine import cost
    from .model.problem import Problem, Training
    from .model.trace import SampleBackward, SampleForward, Step

# The API's names, imported when first used: the command line imports this package
# on every start, and its --help, list and new must not pay for numpy.
_LAZY = {
    "cost": ".maths.engine", "solve": ".api", "to_text": ".api", "to_markdown": ".api",
    "Problem": ".model.problem", "Training": ".model.problem",
    "bundled_problems": ".files.bundled",
    "load_problem": ".files.problem_file", "parse_problem": ".files.problem_file",
    "SampleBackward": ".model.trace", "SampleForward": ".model.trace", "Step": ".model.trace",
    "Trace": ".api",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__", "Problem", "ProblemError", "SampleBackward", "SampleForward", "Step",
    "Trace", "Training", "bundled_problems", "cost", "load_problem", "parse_problem",
    "solve", "to_markdown", "to_text",
]
