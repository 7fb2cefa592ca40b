"""The numbers a student computes for a variant, entry by entry: what every course
output (answer key, Moodle, GIFT, Canvas) asks for and checks.

The entries are the check template's quantities (``files.answer_template``), each
taken from the variant's trace through the one list of quantities
(``model.quantities``): nothing here computes a value.  An entry's name is the
template key followed by the entry's place the way the lecture writes it: a unit
counts from 1 (``h(1)[2]`` is h₂ of sample 1), a weight matrix row from 0, the
bias row, and its column from 1 (``grad W[2](1)[0,1]`` is ∂J₍₁₎/∂w₀,₁⁽²⁾).
A run of several updates puts ``update U: `` in front.  Every output and every
answer key names entries by :func:`entry_label`, so a column of the CSV, a Moodle
field's feedback and a GIFT question's title agree.

An answer is the value rounded to the sheet's decimals, with a tolerance taken
from the marking options: "as written" at the sheet's decimals (half a unit of
the last decimal, the check command's default) or the absolute tolerance,
whichever is wider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ProblemError
from ..marking.diagnose import Tolerance
from ..model.quantities import Quantity, entry_name, key_of, value_in
from ..model.trace import Trace
from ..model.variant import Variant
from ..numfmt import fmt_fixed


def entry_label(key: str, index: tuple[int, ...], update: int = 1, updates: int = 1) -> str:
    """The name of one entry: ``h(1)[2]``, ``grad W[2](1)[0,1]``, ``J`` (0-based
    ``index``; a matrix row keeps its 0-based number, the bias row being 0)."""
    if len(index) == 2:
        place = f"[{index[0]},{index[1] + 1}]"
    elif len(index) == 1:
        place = f"[{index[0] + 1}]"
    else:
        place = ""
    return (f"update {update}: " if updates > 1 else "") + key + place


@dataclass(frozen=True)
class AnswerEntry:
    """One number a student computes: its quantity, its place (0-based), its name
    (:func:`entry_label`), the lecture's symbol in Unicode and its value."""

    quantity: Quantity
    index: tuple[int, ...]
    name: str
    symbol: str
    value: float


@dataclass(frozen=True)
class VariantAnswers:
    """A variant, its trace and every entry a student computes for it."""

    variant: Variant
    trace: Trace
    entries: tuple[AnswerEntry, ...]
    note: str | None = None          # the sheet's note when the run was cut

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)


def variant_answers(variant: Variant) -> VariantAnswers:
    """Solve a variant (cut to what a sheet shows) and list its entries."""
    from ..files.answer_template import template_quantities
    from ..maths.engine import solve
    from ..present.sheet import sheet_problem

    problem, note = sheet_problem(variant.problem)
    trace = solve(problem)
    depth = len(problem.layers) - 1
    updates = len(trace.steps)
    entries: list[AnswerEntry] = []
    for u, step in enumerate(trace.steps, start=1):
        for q in template_quantities(problem, step.samples, u):
            value = value_in(step, q)
            if value is None:
                continue
            key = key_of(q, depth)
            for index in np.ndindex(value.shape):
                place = tuple(int(i) for i in index)
                entries.append(AnswerEntry(q, place, entry_label(key, place, u, updates),
                                           entry_name(q, place, depth),
                                           float(value[index])))
    return VariantAnswers(variant, trace, tuple(entries), note)


def course_answers(variants: Sequence[Variant]) -> list[VariantAnswers]:
    """The entries of every variant; the variants of a course ask for the same
    entries (the same network and settings), which the outputs rely on."""
    out = [variant_answers(v) for v in variants]
    for a in out[1:]:
        if a.names != out[0].names:
            raise ProblemError(f"variant {a.variant.id} asks for other numbers than "
                               f"{out[0].variant.id}: the variants of a course must share "
                               "the network, the data's size and the training settings")
    return out


def answer_text(value: float, decimals: int) -> str:
    """An entry's answer as the sheet writes it: rounded, trailing zeros kept."""
    return fmt_fixed(value, decimals)


def answer_tolerance(decimals: int, tolerance: Tolerance | None = None) -> float:
    """How far an answer may lie from :func:`answer_text`: half a unit of the last
    decimal when numbers count as written (check's default), else the absolute
    tolerance."""
    tol = Tolerance() if tolerance is None else tolerance
    written = 0.5 * 10.0 ** -decimals if tol.as_written else 0.0
    return max(written, tol.abs_tol)


def tolerance_text(tolerance: float) -> str:
    """A tolerance in positional notation (``0.0005``), as every format reads it."""
    return np.format_float_positional(tolerance, trim="-")
