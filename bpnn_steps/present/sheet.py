"""Tutorial sheets: the problem statement, the question sheet with an answer box
for every quantity, and the worked solution or answer key after them.

Everything is built from the trace, so every number shown is a value of the
trace and every renderer can write the sheets.
"""

from __future__ import annotations

import numpy as np

from ..files.answer_template import asked_quantities
from ..maths.losses import LOSSES, loss_factor, loss_formula
from ..model.conventions import Combine
from ..model.notation import (EQUALS, GAP, Box, BoxMatrix, Expr, Given, Sym, Token, Words,
                              layer_label, sub, sup)
from ..model.problem import Problem
from ..model.quantities import Kind, Quantity, entry_symbol, key_of, shape_of, symbol
from ..model.trace import Step, Trace
from ..numfmt import DEFAULT_DECIMALS, GIVEN_DECIMALS, fmt
from .blocks import (Block, Diagram, Display, Document, Equations, Heading, PageBreak, Table,
                     Text)
from .report import build_report, report_title, select_steps, stated_conventions

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


def sheet_steps(problem: Problem, count: int, show: str) -> list[int]:
    """The updates ``show`` names in the sheet of ``problem``, a run of ``count``
    updates (see select_steps; :func:`sheet_problem` cuts a long run).

    Raises ValueError when ``show`` names no update of the sheet, saying so when
    only the cut is why ('there is no update 500: this run has 100' of a problem
    that trains for 1,000 updates)."""
    from ..maths.engine import update_count
    from .report import select_steps

    try:
        return select_steps(count, show)
    except ValueError:
        total = update_count(problem) if problem.samples else count
        if total == count:
            raise
        select_steps(total, show)         # not on the sheet, nor in the run: its message
        how = problem.given_by.get("training.epochs", "the problem file")
        raise ValueError(f"the sheet covers only the first {count} of the {total:,} updates "
                         f"{how} gives (a sheet holds at most {MAX_SHEET_UPDATES} updates, "
                         "whole epochs; 'bpnn-steps solve' shows any of them)") from None


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
    c = s.conventions
    # The record's description names the lecture's J; other conventions change it.
    words = f" ({loss.description})" if loss_factor(loss, c, s.layers[-1]) == (1, 1) else ""
    cost = f"Loss of sample t: J₍ₜ₎ = {loss_formula(loss, c)}{words}; " + \
        ("the cost J̄ is the mean" if c.cost is Combine.MEAN else "the cost J is the sum") + \
        " of J₍ₜ₎ over the samples of an update"
    if s.l2 > 0:
        cost += " plus ½β Σw²"
    blocks.append(Text(cost + "."))
    blocks.append(Text(_method_text(trace)))
    stated = stated_conventions(trace)
    if stated is not None:
        blocks.append(Text(stated))
    return blocks


# Boxes to a row after a quantity's key: as many as fit a line, checked with
# pdflatex for keys and symbols up to layer 3 of 4 and sample 1000 (a box widens
# with the decimals asked for, a symbol with its sample's digits).
BOXES_PER_ROW = 4


def boxes_per_row(decimals: int, largest_sample: int) -> int:
    """The rule: four boxes of up to 3 decimals (1 once samples reach 100), three of
    up to 7, else two."""
    if decimals <= (1 if largest_sample >= 100 else 3):
        return BOXES_PER_ROW
    return 3 if decimals <= 7 else 2


Answer = tuple[Token, Quantity, tuple[int, ...]]     # an entry's symbol and where it belongs


def _box_rows(items: list[Answer], decimals: int, label: Token | None = None
              ) -> list[tuple[Expr, ...]]:
    """Rows of 'symbol = box', a few to a row; ``label`` (a quantity's key) leads the
    first row."""
    rows: list[tuple[Expr, ...]] = []
    per_row = boxes_per_row(decimals, max((q.sample or 0 for _, q, _ in items), default=0))
    for start in range(0, len(items), per_row):
        chunk = items[start:start + per_row]
        first, q, index = chunk[0]
        rest: list[Token] = [Box(q, index, decimals)]
        for sym, q_k, index_k in chunk[1:]:
            rest += [GAP, sym, EQUALS, Box(q_k, index_k, decimals)]
        lead: Expr = (label, GAP, first) if label is not None and not start else (first,)
        rows.append((lead, tuple(rest)))
    return rows


def key_label(q: Quantity, depth: int) -> Words:
    """The label of a quantity's answer boxes: its key in an answer file."""
    return Words(f"{key_of(q, depth)}:")


def _section(q: Quantity, depth: int) -> tuple[str, str | None]:
    """The heading and the line introducing a quantity's group of boxes."""
    if q.kind in (Kind.Z, Kind.A, Kind.LOSS):
        return "1) Feed-forward", f"Sample {q.sample}:"
    if q.kind is Kind.COST:
        return "1) Feed-forward", "The cost of the update:"
    if q.kind in (Kind.DELTA, Kind.GRAD):
        n = q.n
        return ("2) Backward propagation",
                f"Layer {n} ({layer_label(n, depth)}, W{sup(f'({n})')}): δ of each sample, "
                "then the gradient of its loss with respect to the weights:")
    return "3) Gradient-descent update", None


def _question_step(trace: Trace, step: Step, decimals: int) -> list[Block]:
    """An update's answer boxes: one group per quantity of the check template, in its
    order, each labelled with its key."""
    s = trace.settings
    depth = len(s.layers) - 1
    u = step.index
    samples = ", ".join(str(t) for t in step.samples)
    blocks: list[Block] = [
        Heading(f"Update {step.index} of {len(trace.steps)}: epoch {step.epoch}, "
                f"sample{'s' if len(step.samples) > 1 else ''} {samples}", 2)]
    if step.index > 1:
        blocks.append(Text("Start from the weights after the previous update."))
    heading: str | None = None
    intro: str | None = None
    rows: list[tuple[Expr, ...]] = []

    def flush() -> None:
        if rows:
            blocks.append(Equations(tuple(rows)))
            rows.clear()

    for q in asked_quantities(s.layers, s.activations, step.samples, u):
        section = _section(q, depth)
        if section[0] != heading:
            flush()
            heading = section[0]
            blocks.append(Heading(heading, 3))
            intro = None
        if section[1] != intro:
            flush()
            intro = section[1]
            if intro:
                blocks.append(Text(intro))
        shape = shape_of(q.kind, q.layer, s.layers)
        if len(shape) == 2:
            # A row of its own: an equation's row is set smaller by the width of its
            # left side (label and symbol), a display's only by a symbol's.
            flush()
            blocks.append(Equations((((key_label(q, depth), GAP, *symbol(q, depth)),
                                      (BoxMatrix(q, shape[0], shape[1], decimals),)),)))
            continue
        indices: list[tuple[int, ...]] = [(j,) for j in range(shape[0])] if shape else [()]
        rows += _box_rows([(entry_symbol(q, index, depth), q, index) for index in indices],
                          decimals, key_label(q, depth))
    flush()
    return blocks


def question_updates(count: int, show: str = "auto") -> list[int]:
    """The updates a question sheet asks for (1-based).  ``auto``: every update when
    ``solve`` would show them all (a short run), else the first only: by hand each
    update starts from the weights the one before leaves, so a sheet asks for the run's
    start and says what follows.  Any other ``show`` is taken as given."""
    if show.strip().lower() == "auto" and select_steps(count, "auto") != \
            list(range(1, count + 1)):
        return [1]
    return select_steps(count, show)


def _rest_of_the_run(count: int, shown: list[int]) -> Text | None:
    """The sentence saying what a question sheet does not ask for."""
    if not shown or len(shown) == count:
        return None
    asked = (f"update {shown[0]}" if len(shown) == 1
             else f"updates {', '.join(map(str, shown))}")
    return Text(f"The run has {count} updates; this sheet asks for {asked} in full. The "
                "other updates repeat the same steps, each from the weights the update "
                "before it leaves; the worked solution summarises them by their costs.")


def question_blocks(trace: Trace, *, decimals: int = DEFAULT_DECIMALS, show: str = "auto",
                    title: str | None = None, diagram: bool = True) -> list[Block]:
    """The question sheet: the problem, then an answer box for every quantity of the
    updates it asks for (:func:`question_updates`)."""
    blocks: list[Block] = [Heading(title or report_title(trace), 1, literal=True)]
    blocks += statement_blocks(trace, diagram=diagram)
    shown = question_updates(len(trace.steps), show)
    blocks.append(Heading("Tasks", 2))
    what = "the update" if len(trace.steps) == 1 else (
        f"update {shown[0]}" if len(shown) == 1 else f"updates {', '.join(map(str, shown))}")
    blocks.append(Text(f"Carry out {what} by hand: the feed-forward, the back-propagated "
                       f"gradients and the new weights. Round to {decimals} decimals. Each "
                       "group of boxes is labelled with its key in an answer file "
                       "('bpnn-steps check --template' writes one), so the answers copy "
                       "into it as they are.", literal=True))
    rest = _rest_of_the_run(len(trace.steps), shown)
    if rest is not None:
        blocks.append(rest)
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
        # The report's own conventions line follows: the statement's is not repeated.
        stated = stated_conventions(trace)
        blocks += [b for b in statement_blocks(trace, diagram=diagram)
                   if stated is None or b != Text(stated)]
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
        # The key works the updates the questions ask for, and summarises the rest.
        asked = ",".join(map(str, question_updates(len(trace.steps), show))) or "none"
        key = solution_blocks(trace, show=asked, statement=False)
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
