"""Tutorial sheets: the problem statement and the question sheet, as report blocks.

The statement (network, data, initial weights, training settings) and the
question sheet (every quantity of the worked solution as an answer box) are
built from the trace like :func:`bpnn_steps.report.build_report`, so every
renderer can write them and every number shown is a value of the trace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES
from ..model.notation import EQUALS, Op, Sym, sub
from ..numfmt import fmt
from ..model.problem import Problem
from .report import Block, Display, Equations, Heading, Table, Text, select_steps
from ..model.trace import Step, Trace

# Data and initial weights are shown with up to this many decimals (values that
# are exact at fewer decimals, as given values usually are, are written short).
GIVEN_DECIMALS = 6
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


@dataclass(frozen=True)
class Diagram:
    """A picture of the network with its initial weights (LaTeX: TikZ)."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    weights: tuple[np.ndarray, ...]


def given_matrix(values: np.ndarray) -> Op:
    """A matrix of given values, written as given (up to GIVEN_DECIMALS decimals)."""
    cells = [[fmt(float(v), GIVEN_DECIMALS) for v in row] for row in values]
    tex = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(row) for row in cells) + \
        r" \end{bmatrix}"
    text = "[" + "; ".join("  ".join(row) for row in cells) + "]"
    return Op(text, tex)


def answer_box(decimals: int) -> Op:
    """An empty box as wide as a signed number with ``decimals`` decimals."""
    phantom = "-0." + "0" * decimals if decimals else "-00"
    return Op("[ ____ ]", rf"\boxed{{\phantom{{{phantom}}}}}")


def box_matrix(rows: int, cols: int, decimals: int) -> Op:
    box = answer_box(decimals).tex
    tex = r"\begin{bmatrix} " + r" \\[6pt] ".join(" & ".join([box] * cols)
                                                  for _ in range(rows)) + r" \end{bmatrix}"
    text = "[" + "; ".join(", ".join(["□"] * cols) for _ in range(rows)) + "]"
    return Op(text, tex)


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
        blocks.append(Text(s.description))
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
        blocks.append(Display((Sym("W", (), None, n), EQUALS, given_matrix(w))))
    loss = LOSSES[s.loss]
    cost = f"Loss of sample t: J₍ₜ₎ = {loss.formula} ({loss.description}); the cost J̄ is " \
           "the mean of J₍ₜ₎ over the samples of an update"
    if s.l2 > 0:
        cost += " plus ½β Σw²"
    blocks.append(Text(cost + "."))
    blocks.append(Text(_method_text(trace)))
    return blocks


def _unit(n: int, j: int, t: int, depth: int) -> Sym:
    if n == depth:
        return Sym("yhat", (j,), t)
    return Sym("h", (j,), t, None if depth == 2 else n)


def _grad_label(n: int, t: int) -> Op:
    w = Sym("W", (), None, n)
    return Op(f"∇J{sub(f'({t})')}({w.unicode()})",
              r"\nabla J_{" + w.latex() + f"_{{({t})}}" + "}")


GAP = Op("    ", r"\qquad ")
BOXES_PER_ROW = 4


def _box_rows(symbols: list[Sym], box: Op) -> list[tuple[tuple, ...]]:
    """Rows of 'symbol = box', a few to a row."""
    rows = []
    for start in range(0, len(symbols), BOXES_PER_ROW):
        chunk = symbols[start:start + BOXES_PER_ROW]
        rest: list = [box]
        for sym in chunk[1:]:
            rest += [GAP, sym, EQUALS, box]
        rows.append(((chunk[0],), tuple(rest)))
    return rows


def _question_step(trace: Trace, step: Step, decimals: int) -> list[Block]:
    s = trace.settings
    depth = len(s.layers) - 1
    box = answer_box(decimals)
    samples = ", ".join(str(t) for t in step.samples)
    blocks: list[Block] = [
        Heading(f"Update {step.index} of {len(trace.steps)}: epoch {step.epoch}, "
                f"sample{'s' if len(step.samples) > 1 else ''} {samples}", 2)]
    if step.index > 1:
        blocks.append(Text("Start from the weights after the previous update."))
    blocks.append(Heading("1) Feed-forward", 3))
    for n in range(1, depth + 1):
        act = s.activations[n - 1]
        rows = []
        for j in range(1, s.layers[n] + 1):
            items: list[Sym] = []
            for f in step.forward:
                if not ACTIVATIONS[act].identity:
                    items.append(Sym("z", (j,), f.sample, n))
                items.append(_unit(n, j, f.sample, depth))
            rows += _box_rows(items, box)
        label = "output layer" if n == depth else \
            ("hidden layer" if depth == 2 else f"hidden layer {n}")
        blocks.append(Text(f"Layer {n} ({label}, {act}):"))
        blocks.append(Equations(tuple(rows)))
    rows = _box_rows([Sym("J", (), f.sample) for f in step.forward] + [Sym("Jbar")], box)
    blocks.append(Text("Loss of each sample and the cost:"))
    blocks.append(Equations(tuple(rows)))
    blocks.append(Heading("2) Backward propagation", 3))
    blocks.append(Text("The gradient of each sample's loss with respect to every weight "
                       "matrix:"))
    for n in range(depth, 0, -1):
        shape = step.weights_before[n - 1].shape
        for f in step.forward:
            blocks.append(Display((_grad_label(n, f.sample), EQUALS,
                                   box_matrix(shape[0], shape[1], decimals))))
    blocks.append(Heading("3) Gradient-descent update", 3))
    for n in range(depth, 0, -1):
        shape = step.weights_before[n - 1].shape
        blocks.append(Display((Sym("W", (), None, n, "new"), EQUALS,
                               box_matrix(shape[0], shape[1], decimals))))
    return blocks


def question_blocks(trace: Trace, *, decimals: int = 3, show: str = "auto",
                    title: str | None = None, diagram: bool = True) -> list[Block]:
    """The question sheet: the problem, then an answer box for every quantity."""
    s = trace.settings
    name = title or s.title or f"Network {'-'.join(str(n) for n in s.layers)}"
    blocks: list[Block] = [Heading(name, 1)]
    blocks += statement_blocks(trace, diagram=diagram)
    shown = select_steps(len(trace.steps), show)
    blocks.append(Heading("Tasks", 2))
    what = "the update" if len(shown) == 1 else f"updates {', '.join(map(str, shown))}"
    blocks.append(Text(f"Carry out {what} by hand: the feed-forward, the back-propagated "
                       f"gradients and the new weights. Round to {decimals} decimals."))
    for index in shown:
        blocks += _question_step(trace, trace.steps[index - 1], decimals)
    return blocks
