"""The Python API's functions that wrap the engine and the renderers for notebooks."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .maths.engine import solve as _solve
from .model import trace as _trace
from .model.problem import Problem


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
