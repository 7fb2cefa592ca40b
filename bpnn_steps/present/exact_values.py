"""``solve --exact``: the exact value of every quantity beside the engine's decimal.

The exact calculation is :mod:`bpnn_steps.maths.exact` (sympy); this module lays
its values out after each update shown, and in the JSON document.  Values whose
exact form is too long to read are left out, and the section says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..maths.activations import ACTIVATIONS
from ..maths.exact import (MAX_EXACT_UPDATES, ExactStep, Value, exact_latex, exact_steps,
                           exact_text)
from ..model.conventions import Combine
from ..model.notation import APPROX, EQUALS, Exact, ExactMatrix, Expr, Mat, MeanOver, Num, Sym
from ..model.quantities import Kind, Quantity, entry_symbol, symbol
from ..model.problem import Problem
from ..model.trace import Step, Trace
from .blocks import Block, Display, Document, Equations, Heading, Text
from .report import AfterUpdate, build_report, report_title, select_steps
from .sheet import solution_blocks

# Exact forms longer than this (in characters) are too long to read.
MAX_TEXT = 90
# A matrix whose exact entries are all at most this long is shown as a matrix;
# otherwise entry by entry.
SHORT_ENTRY = 24


def _text(value: Value) -> str | None:
    """The exact value as text (sympy's), None when not exact or too long."""
    if value is None:
        return None
    text = exact_text(value)
    return None if len(text) > MAX_TEXT else text


def exact_blocks(exact: ExactStep, step: Step, depth: int,
                 activations: Sequence[str] = (), cost: Combine = Combine.MEAN
                 ) -> list[Block]:
    """The exact values of one update, each with the engine's decimal; ``cost``
    sum (conventions): the cost is J, the sum of the J_(t), and the update's
    gradient the sum Σₜ of the samples' (as the worked solution names them)."""
    u = step.index
    rows: list[tuple[Expr, ...]] = []
    skipped = 0
    by_sum = cost is Combine.SUM

    def label(q: Quantity, name: Expr) -> Expr:
        if by_sum and q.kind is Kind.COST:
            return (Sym("J"),)
        if by_sum and q.kind is Kind.MEAN:
            return (MeanOver(len(step.samples), mean=False), *name)
        return name

    def add(q: Quantity, index: tuple[int, ...], value: Value, approx: float) -> None:
        nonlocal skipped
        if _text(value) is None:
            skipped += 1
            return
        rows.append((label(q, (entry_symbol(q, index, depth),)),
                     (Exact(value), APPROX, Num(float(approx), paren=False))))

    for ex, f in zip(exact.samples, step.forward):
        t = f.sample
        for n in range(1, depth + 1):
            linear = bool(activations) and ACTIVATIONS[activations[n - 1]].identity
            for j, (zv, av) in enumerate(zip(ex.z[n - 1], ex.a[n - 1])):
                if not linear:
                    add(Quantity(u, Kind.Z, n, t), (j,), zv, f.z[n - 1][j])
                add(Quantity(u, Kind.A, n, t), (j,), av, f.a[n - 1][j])
        add(Quantity(u, Kind.LOSS, None, t), (), ex.loss, f.loss)
    add(Quantity(u, Kind.COST), (), exact.cost, step.cost)
    blocks: list[Block] = [
        Heading(f"Exact values, update {exact.index}", 3),
        Text("Inputs read as the exact decimals they are written as (0.1 = 1/10); each exact "
             "value is followed by the engine's decimal."),
    ]
    if rows:
        blocks.append(Equations(tuple(rows)))
    # (quantity, exact rows, engine matrix)
    matrices: list[tuple[Quantity, Any, Any]] = []
    for ex, b in zip(exact.samples, step.backward):
        for n in range(depth, 0, -1):
            matrices.append((Quantity(u, Kind.GRAD, n, ex.sample), ex.grad[n - 1],
                             b.grad[n - 1]))
    if len(exact.samples) > 1:
        for n in range(depth, 0, -1):
            matrices.append((Quantity(u, Kind.MEAN, n), exact.mean_grad[n - 1],
                             step.mean_grad[n - 1]))
    for n in range(depth, 0, -1):
        matrices.append((Quantity(u, Kind.NEW, n), exact.weights_after[n - 1],
                         step.weights_after[n - 1]))
    for q, exact_rows, approx in matrices:
        texts = [[_text(v) for v in row] for row in exact_rows]
        if all(c is not None and len(c) <= SHORT_ENTRY for row in texts for c in row):
            blocks.append(Display((*label(q, symbol(q, depth)), EQUALS,
                                   ExactMatrix(tuple(map(tuple, exact_rows))), APPROX,
                                   Mat(approx))))
            continue
        entry_rows: list[tuple[Expr, ...]] = []
        for i, row in enumerate(texts):
            for j, text in enumerate(row):
                if text is None:
                    skipped += 1
                    continue
                entry_rows.append((label(q, (entry_symbol(q, (i, j), depth),)),
                                   (Exact(exact_rows[i][j]), APPROX,
                                    Num(float(approx[i, j]), paren=False))))
        if entry_rows:
            blocks.append(Equations(tuple(entry_rows)))
    if skipped:
        blocks.append(Text(f"{skipped} value{'s' if skipped != 1 else ''} left out: not exact "
                           "(an input is not a short decimal) or too long to read exactly."))
    return blocks


def exact_sections(problem: Problem, trace: Trace, show: str = "auto") -> AfterUpdate:
    """What to add after each update shown: its exact values (the first
    MAX_EXACT_UPDATES updates), or a note that they stop there."""
    shown = select_steps(len(trace.steps), show)
    exact = exact_steps(problem, trace, min(max(shown), MAX_EXACT_UPDATES)) if shown else []
    depth = len(trace.settings.layers) - 1

    def section(step: Step) -> list[Block]:
        if step.index > len(exact):
            return [Heading(f"Exact values, update {step.index}", 3),
                    Text(f"Exact values are carried through the first {MAX_EXACT_UPDATES} "
                         "updates only.")]
        return exact_blocks(exact[step.index - 1], step, depth, trace.settings.activations,
                            trace.settings.conventions.cost)

    return section


def _json_value(value: Value) -> dict[str, str] | None:
    if value is None:
        return None
    return {"text": exact_text(value), "latex": exact_latex(value)}


def exact_data(problem: Problem, trace: Trace, show: str = "auto") -> dict[str, Any]:
    """The trace's JSON plus an ``exact`` list: each shown update's values as sympy
    text and LaTeX (null where not exact or too long)."""
    doc = trace.to_dict()
    shown = select_steps(len(trace.steps), show)
    exact = exact_steps(problem, trace, min(max(shown), MAX_EXACT_UPDATES)) if shown else []

    def conv(rows: Any) -> list[list[dict[str, str] | None]]:
        return [[_json_value(v) for v in row] for row in rows]

    doc["exact"] = [
        {"index": ex.index,
         "forward": [{"sample": s.sample, "z": [[_json_value(v) for v in z] for z in s.z],
                      "a": [[_json_value(v) for v in a] for a in s.a],
                      "loss": _json_value(s.loss)} for s in ex.samples],
         "cost": _json_value(ex.cost),
         "gradients": [{"sample": s.sample, **{f"W{n + 1}": conv(g) for n, g in
                                               enumerate(s.grad)}} for s in ex.samples],
         "mean_gradient": {f"W{n + 1}": conv(g) for n, g in enumerate(ex.mean_grad)},
         "weights_after": {f"W{n + 1}": conv(g) for n, g in enumerate(ex.weights_after)}}
        for ex in exact if ex.index in shown]
    return doc


def exact_document(problem: Problem, trace: Trace, *, show: str = "auto",
                   statement: bool = False, samples: str = "auto") -> Document:
    """``solve --exact``: the report with exact values after each update shown (and,
    for a LaTeX document, the problem statement before it)."""
    def build() -> list[Block]:
        report = build_report(trace, show=show, samples=samples,
                              after_update=exact_sections(problem, trace, show))
        return solution_blocks(trace, show=show, report=report) if statement else report

    return Document(report_title(trace), build=build,
                    data=lambda: exact_data(problem, trace, show))
