"""Tutorial sheets: the problem statement, the question sheet with an answer box
for every quantity, and the worked solution or answer key after them.

Everything is built from the trace, so every number shown is a value of the
trace and every renderer can write the sheets.
"""

from __future__ import annotations

import numpy as np

from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES
from ..model.notation import (EQUALS, GAP, Box, BoxMatrix, Expr, Given, Sym, Token,
                              layer_label, sub)
from ..model.problem import Problem
from ..model.quantities import Kind, Quantity, entry_symbol, shape_of, symbol
from ..model.trace import Step, Trace
from ..numfmt import DEFAULT_DECIMALS, GIVEN_DECIMALS, fmt
from .blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak, Table,
                     Text)
from .report import build_report, report_title, select_steps

# A sheet covers at most this many updates (whole epochs; at least one epoch):
# longer runs are for `bpnn-steps train`.
MAX_SHEET_UPDATES = 100


def sheet_problem(problem: Problem) -> tuple[Problem, str | None]:
    """The problem limited to what a tutorial sheet can show, and a note saying so
    (None when nothing was cut)."""
    t = problem.training
    per_epoch = -(-problem.samples // t.batch_length(problem.samples)) if problem.samples else 1
    total = per_epoch * t.epochs
    if total <= MAX_SHEET_UPDATES:
        return problem, None
    epochs = max(1, MAX_SHEET_UPDATES // per_epoch)
    note = (f"The problem file trains for {t.epochs} epochs ({total} updates); this sheet "
            f"covers the first {epochs} epoch{'s' if epochs != 1 else ''} "
            f"({epochs * per_epoch} updates). 'bpnn-steps train' runs the whole training.")
    return problem.with_training(epochs=epochs), note


def _samples(trace: Trace) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(t, x, y) of every sample, in sample order (each appears in epoch 1)."""
    seen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for step in trace.steps:
        for f in step.forward:
            seen.setdefault(f.sample, (f.x, f.y))
        if len(seen) == trace.settings.samples:
            break
    return [(t, x, y) for t, (x, y) in sorted(seen.items())]


def _method_text(trace: Trace) -> str:
    s = trace.settings
    method = {"batch": "batch gradient descent (one update per epoch, over all samples)",
              "sgd": "stochastic gradient descent (one update per sample, "
                     + ("shuffled" if s.shuffle else "in data order") + ")",
              "minibatch": f"mini-batch gradient descent (batches of {s.batch_size}"
                           + (", shuffled" if s.shuffle else "") + ")"}[s.method]
    text = (f"Training: {method}, learning rate λ = {fmt(s.learning_rate)}, "
            f"{s.epochs} epoch{'s' if s.epochs != 1 else ''}")
    if s.l2 > 0:
        text += (f", L2 regularisation β = {fmt(s.l2)}"
                 + (" (biases included)" if s.l2_bias else " (biases excluded)"))
    return text + "."


def statement_blocks(trace: Trace, *, diagram: bool = True) -> list[Block]:
    """The problem as a tutorial sheet states it."""
    s = trace.settings
    depth = len(s.layers) - 1
    parts = [f"{s.layers[0]} input{'s' if s.layers[0] != 1 else ''}"]
    for n in range(1, depth):
        parts.append(f"{s.layers[n]} {s.activations[n - 1]} hidden unit"
                     f"{'s' if s.layers[n] != 1 else ''}"
                     + (f" in layer {n}" if depth > 2 else ""))
    parts.append(f"{s.layers[-1]} {s.activations[-1]} output{'s' if s.layers[-1] != 1 else ''}")
    blocks: list[Block] = [Heading("The problem", 2)]
    if s.description:
        blocks.append(Text(s.description, literal=True))
    blocks += [
        Text(f"A {'-'.join(str(n) for n in s.layers)} network: " + ", ".join(parts)
             + ". Each layer also receives a bias node with the constant value 1; weight "
             "layer n is the matrix W⁽ⁿ⁾ of shape (inputs + 1) x outputs whose row 0 holds "
             "the bias weights."),
    ]
    first = trace.steps[0].weights_before
    if diagram:
        blocks.append(Diagram(tuple(s.layers), tuple(s.activations), tuple(first)))
    samples = _samples(trace)
    n_in, n_out = s.layers[0], s.layers[-1]
    headers = ("t",) + tuple(f"x{sub(str(i))}" for i in range(1, n_in + 1)) + \
        tuple(f"y{sub(str(k))}" for k in range(1, n_out + 1))
    rows = tuple((str(t),) + tuple(fmt(float(v), GIVEN_DECIMALS) for v in x)
                 + tuple(fmt(float(v), GIVEN_DECIMALS) for v in y) for t, x, y in samples)
    blocks.append(Text(f"Training data (T = {s.samples} sample{'s' if s.samples != 1 else ''}):"))
    blocks.append(Table(headers, rows))
    blocks.append(Text("Initial weights:"))
    for n, w in enumerate(first, start=1):
        blocks.append(Display((Sym("W", (), None, n), EQUALS, Given(w))))
    loss = LOSSES[s.loss]
    cost = f"Loss of sample t: J₍ₜ₎ = {loss.formula} ({loss.description}); the cost J̄ is " \
           "the mean of J₍ₜ₎ over the samples of an update"
    if s.l2 > 0:
        cost += " plus ½β Σw²"
    blocks.append(Text(cost + "."))
    blocks.append(Text(_method_text(trace)))
    return blocks


BOXES_PER_ROW = 4
Answer = tuple[Token, Quantity, tuple[int, ...]]     # an entry's symbol and where it belongs


def _box_rows(items: list[Answer], decimals: int) -> list[tuple[Expr, ...]]:
    """Rows of 'symbol = box', a few to a row."""
    rows: list[tuple[Expr, ...]] = []
    for start in range(0, len(items), BOXES_PER_ROW):
        chunk = items[start:start + BOXES_PER_ROW]
        first, q, index = chunk[0]
        rest: list[Token] = [Box(q, index, decimals)]
        for sym, q_k, index_k in chunk[1:]:
            rest += [GAP, sym, EQUALS, Box(q_k, index_k, decimals)]
        rows.append(((first,), tuple(rest)))
    return rows


def _question_step(trace: Trace, step: Step, decimals: int) -> list[Block]:
    s = trace.settings
    depth = len(s.layers) - 1
    u = step.index
    samples = ", ".join(str(t) for t in step.samples)

    def entry(q: Quantity, index: tuple[int, ...] = ()) -> Answer:
        return entry_symbol(q, index, depth), q, index

    def matrix(q: Quantity) -> Display:
        rows, cols = shape_of(q.kind, q.layer, s.layers)
        return Display((*symbol(q, depth), EQUALS, BoxMatrix(q, rows, cols, decimals)))

    blocks: list[Block] = [
        Heading(f"Update {step.index} of {len(trace.steps)}: epoch {step.epoch}, "
                f"sample{'s' if len(step.samples) > 1 else ''} {samples}", 2)]
    if step.index > 1:
        blocks.append(Text("Start from the weights after the previous update."))
    blocks.append(Heading("1) Feed-forward", 3))
    for n in range(1, depth + 1):
        act = s.activations[n - 1]
        rows: list[tuple[Expr, ...]] = []
        for j in range(s.layers[n]):
            per_sample: list[list[Answer]] = []
            for t in step.samples:
                items: list[Answer] = []
                if not ACTIVATIONS[act].identity:
                    items.append(entry(Quantity(u, Kind.Z, n, t), (j,)))
                items.append(entry(Quantity(u, Kind.A, n, t), (j,)))
                per_sample.append(items)
            # A unit's boxes share a row when every sample's fit in it; else each
            # sample gets its own row(s), so a column never mixes samples.
            if sum(map(len, per_sample)) <= BOXES_PER_ROW:
                rows += _box_rows([a for items in per_sample for a in items], decimals)
            else:
                for items in per_sample:
                    rows += _box_rows(items, decimals)
        blocks.append(Text(f"Layer {n} ({layer_label(n, depth)}, {act}):"))
        blocks.append(Equations(tuple(rows)))
    losses = [entry(Quantity(u, Kind.LOSS, None, t)) for t in step.samples]
    rows = _box_rows(losses + [entry(Quantity(u, Kind.COST))], decimals)
    blocks.append(Text("Loss of each sample and the cost:"))
    blocks.append(Equations(tuple(rows)))
    blocks.append(Heading("2) Backward propagation", 3))
    blocks.append(Text("The gradient of each sample's loss with respect to every weight "
                       "matrix:"))
    for n in range(depth, 0, -1):
        blocks += [matrix(Quantity(u, Kind.GRAD, n, t)) for t in step.samples]
    blocks.append(Heading("3) Gradient-descent update", 3))
    blocks += [matrix(Quantity(u, Kind.NEW, n)) for n in range(depth, 0, -1)]
    return blocks


def question_blocks(trace: Trace, *, decimals: int = DEFAULT_DECIMALS, show: str = "auto",
                    title: str | None = None, diagram: bool = True) -> list[Block]:
    """The question sheet: the problem, then an answer box for every quantity."""
    blocks: list[Block] = [Heading(title or report_title(trace), 1, literal=True)]
    blocks += statement_blocks(trace, diagram=diagram)
    shown = select_steps(len(trace.steps), show)
    blocks.append(Heading("Tasks", 2))
    what = "the update" if len(shown) == 1 else f"updates {', '.join(map(str, shown))}"
    blocks.append(Text(f"Carry out {what} by hand: the feed-forward, the back-propagated "
                       f"gradients and the new weights. Round to {decimals} decimals."))
    for index in shown:
        blocks += _question_step(trace, trace.steps[index - 1], decimals)
    return blocks


def solution_blocks(trace: Trace, *, show: str = "auto", statement: bool = True,
                    report: list[Block] | None = None, diagram: bool = True) -> list[Block]:
    """The worked solution, preceded by the problem statement (with its diagram,
    unless ``diagram`` is False)."""
    report = build_report(trace, show=show) if report is None else report
    blocks: list[Block] = [report[0]]
    if statement:
        blocks += statement_blocks(trace, diagram=diagram)
        blocks.append(Heading("Worked solution", 2))
    # The report's own header lines follow its title: keep them (conventions), but
    # not its description, which the statement (here or on the question sheet the
    # answer key follows) has printed already.
    description = Text(trace.settings.description, literal=True)
    blocks += [b for b in report[1:2] if b != description] + report[2:]
    return blocks


def worked_solution(trace: Trace, *, show: str = "auto", statement: bool = False,
                    samples: str = "auto") -> Document:
    """``solve``'s worked solution (after the problem statement, for a standalone
    document); its JSON form is the trace."""
    def build() -> list[Block]:
        report = build_report(trace, show=show, samples=samples)
        return solution_blocks(trace, show=show, report=report) if statement else report

    return Document(report_title(trace), build=build, data=trace.to_dict, json_indent=None,
                    escape_markdown=False)


SHEETS = ("question", "solution", "both")


def sheet_blocks(trace: Trace, sheet: str = "solution", *, decimals: int = DEFAULT_DECIMALS,
                 show: str = "auto") -> list[Block]:
    """``question``, ``solution`` or ``both`` (question sheet, then the answer key on a
    new page)."""
    if sheet == "question":
        return question_blocks(trace, decimals=decimals, show=show)
    if sheet == "solution":
        return solution_blocks(trace, show=show)
    if sheet == "both":
        key = solution_blocks(trace, show=show, statement=False)
        key[0] = Heading(f"Answer key: {report_title(trace)}", 1, literal=True)
        return question_blocks(trace, decimals=decimals, show=show) + [PageBreak()] + key
    raise ValueError(f"unknown sheet {sheet!r}; expected {', '.join(SHEETS)}")


def sheet_document(trace: Trace, sheet: str = "solution", *, decimals: int = DEFAULT_DECIMALS,
                   show: str = "auto", note: str | None = None) -> Document:
    """A tutorial sheet as a document; ``note`` (a cut training run, say) follows the
    title."""
    blocks = sheet_blocks(trace, sheet, decimals=decimals, show=show)
    if note:
        blocks.insert(1, Text(note, literal=True))   # a command is quoted as typed
    return Document(report_title(trace), tuple(blocks))
