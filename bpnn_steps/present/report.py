"""The worked solution laid out like the lecture's hand calculation.

:func:`build_report` turns a :class:`~bpnn_steps.trace.Trace` into a sequence of
format-neutral blocks (headings, rows of equations, matrix equations).  The
terminal, Markdown and LaTeX renderers write these blocks; none of them (and
nothing here) computes a number: every value is read from the trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..maths.activations import ACTIVATIONS
from ..maths.gradient_check import FLOOR as CHECK_FLOOR
from ..maths.gradient_check import STEP as CHECK_STEP
from ..maths.gradient_check import TOLERANCE as CHECK_TOLERANCE
from ..maths.losses import LOSSES, loss_factor, loss_formula
from ..model.conventions import Combine, Conventions, UpdateOrder
from ..model.notation import (BRACE_CLOSE, BRACE_OPEN, BRACKET_CLOSE, BRACKET_OPEN, CLOSE,
                              CLOSE_PAREN_BRACKET, HALF,
                              EQUALS, HADAMARD, LP, MINUS, NEGATED_OPEN, PLUS, RP, SPACE, T_SUP, TIMES, Apply, DerivativeInValue,
                              Expr, L2Term, Mat, MeanOver, Note, Num, OneOver,
                              SoftmaxJacobianT, SoftmaxRatio, Sym, Token, Words, column,
                              layer_label, unit_base, vector_base, with_one)
from ..model.quantities import Kind, Quantity, symbol, value_in, value_of
from ..model.trace import GradientCheck, Settings, Step, Trace
from ..model.value import Value
from ..numfmt import fmt
from .blocks import Block, Display, Equations, Heading, Table, Text


# Past this many terms, a z row shows its formula but not every number.
MAX_SUBSTITUTED_TERMS = 8


# --------------------------------------------------------------------------- which steps


def select_steps(count: int, show: str) -> list[int]:
    """1-based update numbers to show in full.

    ``show`` is ``auto`` (all when there are at most 4 updates, else the first and
    the last), ``all``, ``none``, or a comma list of ``first``, ``last``,
    ``every:K`` and numbers or ranges (``1,5-7``).  A part that names no update of
    the run raises ValueError with the reason.
    """
    show = show.strip().lower()
    if show == "auto":
        return list(range(1, count + 1)) if count <= 4 else [1, count]
    if show == "all":
        return list(range(1, count + 1))
    if show == "none":
        return []
    parts = [p.strip() for p in show.split(",") if p.strip()]
    if not parts:
        raise ValueError("is empty")
    chosen: set[int] = set()
    for part in parts:
        if part == "first":
            chosen.add(1)
        elif part == "last":
            chosen.add(count)
        elif part.startswith("every:"):
            k = _whole(part.split(":", 1)[1], part)
            if k < 1:
                raise ValueError(f"{part!r}: every:K needs K >= 1")
            chosen.update(range(k, count + 1, k))
        elif "-" in part:
            lo, hi = (_whole(v, part) for v in part.split("-", 1))
            if not 1 <= lo <= hi <= count:
                raise ValueError(f"{part!r} is not a range of updates within 1-{count}")
            chosen.update(range(lo, hi + 1))
        else:
            k = _whole(part, part)
            if not 1 <= k <= count:
                raise ValueError(f"there is no update {k}: this run has {count}")
            chosen.add(k)
    return sorted(chosen)


# An update of more samples than this shows only its first SAMPLES_WHEN_MANY in full
# (``--samples auto``): the lecture works two to four samples by hand, and fifty
# samples of a 16-unit network would be megabytes of tables nobody reads.
MAX_SAMPLES_IN_FULL = 25
SAMPLES_WHEN_MANY = 3


def select_samples(samples: Sequence[int], spec: str) -> list[int]:
    """The samples of an update whose feed-forward and gradients are shown in full.

    ``spec`` is ``auto`` (all when there are at most MAX_SAMPLES_IN_FULL, else the
    first SAMPLES_WHEN_MANY), ``all``, or a whole number N (the first N).  A bad
    spec raises ValueError with the reason.
    """
    spec = spec.strip().lower()
    if spec == "all":
        return list(samples)
    if spec == "auto":
        many = len(samples) > MAX_SAMPLES_IN_FULL
        return list(samples[:SAMPLES_WHEN_MANY] if many else samples)
    count = _whole(spec, spec)
    if count < 1:
        raise ValueError("needs at least 1 sample")
    return list(samples[:count])


def _whole(text: str, part: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"cannot read {part!r}") from None


# --------------------------------------------------------------------------- symbols


class _Names:
    """The lecture's names for one network: h for a single hidden layer,
    h^[n] for several, y-hat for the output, x for the inputs."""

    def __init__(self, layers: Sequence[int]) -> None:
        self.depth = len(layers) - 1
        # Every z row names the same weights and units again: made once per report.
        self._units: dict[tuple[int, int, int], Sym] = {}
        self._weights: dict[tuple[int, int, int], Sym] = {}
        self._sums: dict[tuple[int, int, int, int], tuple[Token, ...]] = {}
        self._z_sides: dict[tuple[int, int, int, str], _ZSides] = {}

    def unit(self, n: int, j: int, t: int) -> Sym:
        """a[n]_j of sample t (n = 0: the input x)."""
        key = (n, j, t)
        sym = self._units.get(key)
        if sym is None:
            base, layer = unit_base(n, self.depth)
            sym = self._units[key] = Sym(base, (j,), t, layer)
        return sym

    def weight(self, i: int, j: int, n: int) -> Sym:
        """w_{i,j} of weight layer n."""
        key = (i, j, n)
        sym = self._weights.get(key)
        if sym is None:
            sym = self._weights[key] = Sym("w", (i, j), None, n)
        return sym

    def weighted_sum(self, n: int, j: int, t: int, size_in: int) -> tuple[Token, ...]:
        """w_{0,j} + w_{1,j} a_1 + ... of sample t in layer n: the same in every update."""
        key = (n, j, t, size_in)
        formula = self._sums.get(key)
        if formula is None:
            formula = self._sums[key] = tuple(_sum_of_products(
                [self.weight(i, j, n) for i in range(size_in + 1)], SPACE,
                [self.unit(n - 1, i, t) for i in range(1, size_in + 1)]))
        return formula

    def z_sides(self, n: int, j: int, t: int, act: str, size_in: int) -> _ZSides:
        """The symbolic side of unit j's rows for sample t in layer n: the same in
        every update (the same objects, which a renderer spells once)."""
        key = (n, j, t, act)
        sides = self._z_sides.get(key)
        if sides is None:
            spec = ACTIVATIONS[act]
            zsym = Sym("z", (j,), t, n)
            unit = self.unit(n, j, t)
            value: Expr = (unit if spec.identity else zsym,)
            if spec.identity:
                activation: Expr = ()
            elif spec.elementwise:
                activation = (Apply(act, (zsym,)),)
            else:
                activation = (SoftmaxRatio(zsym),)
            sides = self._z_sides[key] = _ZSides(value, self.weighted_sum(n, j, t, size_in),
                                                 (unit,), activation)
        return sides

    def vector(self, n: int, t: int) -> Sym:
        """[1; a[n]] of sample t: X, H or H^[n]."""
        base, layer = vector_base(n, self.depth)
        return Sym(base, (), t, layer)

    def layer_label(self, n: int) -> str:
        return layer_label(n, self.depth)


def _fnum(v: float) -> Num:
    return Num(float(v))


# --------------------------------------------------------------------------- feed-forward


def _sum_of_products(weights: Sequence[Token], times: Token, values: Sequence[Token]
                     ) -> list[Token]:
    """w0 + w1 times v1 + w2 times v2 + ...: a z row's weighted sum (``times`` the
    space of the formula or the × of the numbers)."""
    count = len(values)
    # Slices filled in C: a report writes 100,000s of these terms.
    terms: list[Token] = [weights[0]] * (1 + 4 * count)
    terms[1::4] = [PLUS] * count
    terms[2::4] = weights[1:count + 1]
    terms[3::4] = [times] * count
    terms[4::4] = values
    return terms


class _ZSides(Value):
    """The symbols of a z row and its activation row: z (or the unit itself, for an
    identity activation) = formula; unit = activation (empty for the identity)."""

    z: Expr
    formula: Expr
    unit: Expr
    activation: Expr


def _z_row(step: Step, names: _Names, n: int, j: int, t_index: int, act: str,
           substituted: _Substituted) -> list[tuple[Expr, ...]]:
    f = step.forward[t_index]
    w = step.weights_before[n - 1]
    size_in = w.shape[0] - 1
    sides = names.z_sides(n, j, f.sample, act, size_in)
    z = float(f.z[n - 1][j - 1])
    rows: list[tuple[Expr, ...]] = []
    if size_in + 1 <= MAX_SUBSTITUTED_TERMS:
        column = substituted.weights(n, j)
        values = substituted.inputs(n, t_index)
        numbers = _sum_of_products(column, TIMES, values)
        rows.append((sides.z, sides.formula, tuple(numbers), (Num(z),)))
    else:
        rows.append((sides.z, sides.formula, (Num(z),)))
    if sides.activation:
        a = f.a[n - 1][j - 1]
        if not ACTIVATIONS[act].elementwise:
            rows.append((sides.unit, sides.activation, (_fnum(a),)))
        else:
            rows.append((sides.unit, sides.activation, (Apply(act, (Num(z, False),)),),
                         (_fnum(a),)))
    return rows


class _Substituted:
    """The numbers of one update's z rows, each made once: a weight recurs in the
    row of every sample, an input in the row of every unit."""

    def __init__(self, step: Step) -> None:
        self._step = step
        self._weights: dict[tuple[int, int], list[Num]] = {}
        self._inputs: dict[tuple[int, int], list[Num]] = {}

    def weights(self, n: int, j: int) -> list[Num]:
        """Column j of W[n] (bias first)."""
        key = (n, j)
        nums = self._weights.get(key)
        if nums is None:
            column = self._step.weights_before[n - 1][:, j - 1].tolist()
            nums = self._weights[key] = [Num(v) for v in column]
        return nums

    def inputs(self, n: int, t_index: int) -> list[Num]:
        """a[n - 1] of a sample: the input x for the first layer."""
        key = (n, t_index)
        nums = self._inputs.get(key)
        if nums is None:
            f = self._step.forward[t_index]
            nums = self._inputs[key] = [Num(v) for v in
                                        (f.x if n == 1 else f.a[n - 2]).tolist()]
        return nums


def _negated(terms: list[Token]) -> list[Token]:
    """-(...) around a loss's terms; a single bracketed term, [... ln(1 - y)], has the
    parentheses instead of its brackets: -(... ln(1 - y)), not -([... ln(1 - y)])."""
    if terms[0] == BRACKET_OPEN and terms[-1] == CLOSE_PAREN_BRACKET \
            and BRACKET_OPEN not in terms[1:]:
        return [NEGATED_OPEN, *terms[1:-1], CLOSE, CLOSE]
    return [NEGATED_OPEN, *terms, CLOSE]


def _loss_row(step: Step, names: _Names, t_index: int, loss: str, conventions: Conventions
              ) -> tuple[Expr, ...]:
    f = step.forward[t_index]
    t = f.sample
    record = LOSSES[loss]
    formula: list[Token] = []
    numbers: list[Token] = []

    def term(yh: Token, y: Token) -> list[Token]:
        # mse without its ½ (conventions): the record's term less its ½ token.
        tokens = record.row_term(yh, y)
        return [tok for tok in tokens if tok != HALF] if not conventions.mse_half \
            else list(tokens)

    for k in range(1, len(f.y) + 1):
        yh, y = names.unit(names.depth, k, t), Sym("y", (k,), t)
        vh, vy = Num(float(f.y_hat[k - 1]), False), Num(float(f.y[k - 1]))
        sep: list[Token] = [PLUS] if k > 1 else []
        formula += sep + term(yh, y)
        numbers += sep + term(vh, vy)
    if record.row_negated:
        formula, numbers = _negated(formula), _negated(numbers)
    _, outputs = loss_factor(record, conventions, len(f.y))
    if outputs != 1:            # the mean over the K outputs (conventions)
        formula = [OneOver(outputs), LP, *formula, RP]
        numbers = [OneOver(outputs), LP, *numbers, RP]
    return ((Sym("J", (), t),), tuple(formula), tuple(numbers), (_fnum(f.loss),))


def _cost_rows(step: Step, beta: float, how: Combine = Combine.MEAN,
               sum_in_notes: bool = False) -> list[tuple[Expr, ...]]:
    b = len(step.forward)
    # The sum of the losses (conventions' cost: sum) has no 1/b and is written J.
    mean = how is Combine.MEAN
    opening: list[Token] = [OneOver(b), LP] if mean else []
    cost = Sym("Jbar") if mean else Sym("J")
    formula: list[Token] = list(opening)
    numbers: list[Token] = list(opening)
    for i, f in enumerate(step.forward):
        if i:
            formula.append(PLUS)
            numbers.append(PLUS)
        formula.append(Sym("J", (), f.sample))
        numbers.append(_fnum(f.loss))
    if mean:
        formula.append(RP)
        numbers.append(RP)
    rows: list[tuple[Expr, ...]] = []
    if beta > 0:
        rows.append(((L2Term(),), (L2Term(beta),), (_fnum(step.l2_cost),)))
        formula += [PLUS, L2Term()]
        numbers += [PLUS, _fnum(step.l2_cost)]
    if b == 1 and beta == 0:
        rows.append(((cost,), (Sym("J", (), step.forward[0].sample),), (_fnum(step.cost),)))
    else:
        rows.append(((cost,), tuple(formula), tuple(numbers), (_fnum(step.cost),)))
    if sum_in_notes and mean and b > 1:
        # The lecture's classification section defines J(W) as the sum over the
        # samples, while its update takes the mean gradient: show both.
        losses = [Sym("J", (), f.sample) for f in step.forward]
        rows.append(((Sym("J"),), tuple(_plus_between(losses)),
                     tuple(_plus_between([_fnum(f.loss) for f in step.forward])),
                     (_fnum(step.loss_sum), Note(f"J(W) as the notes define it for "
                                                 f"classification: {b} times the mean "
                                                 f"cost the update descends"))))
    return rows


def _plus_between(terms: Sequence[Token]) -> list[Token]:
    out: list[Token] = []
    for term in terms:
        out += [PLUS, term] if out else [term]
    return out


def _feed_forward(step: Step, names: _Names, activations: Sequence[str], loss: str,
                  beta: float, full: Sequence[int], conventions: Conventions) -> list[Block]:
    blocks: list[Block] = [Heading("1) Feed-forward", 3)]
    shown = [step.samples.index(t) for t in full]
    for n in range(1, names.depth + 1):
        rows: list[tuple[Expr, ...]] = []
        substituted = _Substituted(step)
        for t_index in shown:
            size = len(step.forward[t_index].z[n - 1])
            for j in range(1, size + 1):
                rows += _z_row(step, names, n, j, t_index, activations[n - 1],
                                substituted)
        blocks += [Text(f"Layer {n} ({names.layer_label(n)}, {activations[n - 1]}):"),
                   Equations(tuple(rows))]
    blocks.append(Text(f"Loss of each sample, J = {loss_formula(LOSSES[loss], conventions)}, "
                       "and the cost:"))
    rows = [_loss_row(step, names, i, loss, conventions) for i in shown]
    rows += _cost_rows(step, beta, conventions.cost, LOSSES[loss].classification)
    blocks.append(Equations(tuple(rows)))
    return blocks


# --------------------------------------------------------------------------- backward


def _backward(step: Step, names: _Names, activations: Sequence[str], loss: str,
              full: Sequence[int], conventions: Conventions) -> list[Block]:
    L = names.depth
    u = step.index
    numerator, denominator = loss_factor(LOSSES[loss], conventions,
                                         step.weights_before[-1].shape[1])
    common = math.gcd(numerator, denominator)          # 2/2 (Ŷ − Y) is Ŷ − Y
    numerator, denominator = numerator // common, denominator // common
    output_first = conventions.update_order is UpdateOrder.OUTPUT_FIRST

    def value(kind: Kind, n: int, t: int) -> np.ndarray:
        return value_of(step, Quantity(u, kind, n, t))

    def sym(kind: Kind, n: int, t: int) -> Expr:
        symbols = symbol(Quantity(u, kind, n, t), L)
        if kind is Kind.ERROR and n == L and (numerator, denominator) != (1, 1):
            # The conventions' factor on J is a factor on its output error too.
            return (OneOver(denominator, numerator), LP, *symbols, RP)
        return symbols

    blocks: list[Block] = [Heading("2) Backward propagation", 3)]
    out_act = ACTIVATIONS[activations[-1]]
    blocks.append(Text(f"a) Output layer gradient, ∇J({Sym('W', (), None, L).unicode()}), "
                       f"{step.weights_before[-1].shape[0]} x {step.weights_before[-1].shape[1]} "
                       "per sample:"))
    for t in full:
        blocks.append(Text(f"Sample t = {t}:"))
        err = value_in(step, Quantity(u, Kind.ERROR, L, t))
        deriv = value_in(step, Quantity(u, Kind.DERIVATIVE, L, t))
        delta, error_sym = sym(Kind.DELTA, L, t), sym(Kind.ERROR, L, t)
        factors: list[Expr] = []
        delta_label: Expr
        if err is None:      # the output activation's derivative cancels against the loss
            factors.append((*delta, EQUALS, *error_sym, EQUALS, column(value(Kind.DELTA, L, t)),
                            Note(LOSSES[loss].cancellation.note)))
            delta_label = delta
        else:
            factors.append((*error_sym, EQUALS, column(err)))
            if deriv is not None and not out_act.identity:
                hd = sym(Kind.DERIVATIVE, L, t)
                factors.append((*hd, EQUALS, DerivativeInValue(out_act.name, Sym("yhat")), EQUALS,
                                column(deriv)))
                factors.append((*delta, EQUALS, LP, *error_sym, RP, HADAMARD, *hd, EQUALS,
                                column(value(Kind.DELTA, L, t))))
                delta_label = delta
            elif deriv is None and not out_act.elementwise:
                factors.append((*delta, EQUALS, SoftmaxJacobianT(), LP, *error_sym, RP, EQUALS,
                                column(value(Kind.DELTA, L, t))))
                delta_label = delta
            else:
                delta_label = (LP, *error_sym, RP)
        hsym = names.vector(L - 1, t)
        factors.append((hsym, EQUALS, with_one(_inputs(step, L, t))))
        for item in factors:
            blocks.append(Display(item))
        blocks.append(Display((*sym(Kind.GRAD, L, t), EQUALS, BRACKET_OPEN, *delta_label, hsym,
                               T_SUP, BRACKET_CLOSE, T_SUP, EQUALS,
                               Mat(value(Kind.GRAD, L, t)))))
    for n in range(L - 1, 0, -1):
        wbar = Sym("Wbar", (), None, n + 1)
        letter = "abcdefghijklmnopqrstuvwxyz"[min(L - n, 25)]
        blocks.append(Text(f"{letter}) {names.layer_label(n).capitalize()} gradient, "
                           f"∇J({Sym('W', (), None, n).unicode()}), "
                           f"{step.weights_before[n - 1].shape[0]} x "
                           f"{step.weights_before[n - 1].shape[1]} per sample "
                           + ("(W̄ is W without its bias row; the update order is output "
                              "first, so the layer above's new weights are used):"
                              if output_first else
                              "(W̄ is W without its bias row; old weights are used):")))
        above = step.weights_after[n] if output_first else step.weights_before[n]
        blocks.append(Display((wbar, EQUALS, Mat(above[1:]))))
        h_base, h_layer = unit_base(n, L)
        hname = Sym(h_base, (), None, h_layer)
        for t in full:
            blocks.append(Text(f"Sample t = {t}:"))
            upstream: Expr
            plain_output = value_in(step, Quantity(u, Kind.ERROR, L, t)) is not None
            if n == L - 1 and plain_output and out_act.identity:
                # The output error Ŷ − Y itself reaches the last hidden layer.
                upstream = (BRACKET_OPEN, LP, *sym(Kind.ERROR, L, t), RP, T_SUP, LP, wbar, RP,
                            T_SUP, BRACKET_CLOSE, T_SUP)
            else:
                upstream = sym(Kind.ERROR, n, t)
            hd = sym(Kind.DERIVATIVE, n, t)
            xsym = names.vector(n - 1, t)
            blocks.append(Display((*upstream, EQUALS, column(value(Kind.ERROR, n, t)))))
            blocks.append(Display((*hd, EQUALS, DerivativeInValue(activations[n - 1], hname),
                                   EQUALS, column(value(Kind.DERIVATIVE, n, t)))))
            blocks.append(Display((*sym(Kind.DELTA, n, t), EQUALS, BRACE_OPEN, *upstream,
                                   HADAMARD, *hd, BRACE_CLOSE, EQUALS,
                                   column(value(Kind.DELTA, n, t)))))
            blocks.append(Display((xsym, EQUALS, with_one(_inputs(step, n, t)))))
            blocks.append(Display((*sym(Kind.GRAD, n, t), EQUALS, LP, *sym(Kind.DELTA, n, t),
                                   xsym, T_SUP, RP, T_SUP, EQUALS,
                                   Mat(value(Kind.GRAD, n, t)))))
    return blocks


def _inputs(step: Step, n: int, t: int) -> np.ndarray:
    """a[n - 1] of sample t: the input x for the first layer."""
    f = step.forward[step.samples.index(t)]
    return f.x if n == 1 else f.a[n - 2]


# --------------------------------------------------------------------------- update


def _update(step: Step, names: _Names, learning_rate: float, beta: float,
            conventions: Conventions) -> list[Block]:
    b = len(step.samples)
    u = step.index
    blocks: list[Block] = [Heading("3) Gradient-descent update", 3)]
    if not conventions.update_biases:
        blocks.append(Text("Row 0 (the biases) keeps its values: these conventions do not "
                           "update biases."))
    lam = Num(learning_rate)
    for n in range(names.depth, 0, -1):
        mean_q, new_q = Quantity(u, Kind.MEAN, n), Quantity(u, Kind.NEW, n)
        mean = Mat(value_of(step, mean_q))
        after = Mat(value_of(step, new_q))
        mean_label = (MeanOver(b, conventions.cost is Combine.MEAN),
                      *symbol(mean_q, names.depth))
        old = Sym("W", (), None, n, "old")
        new = symbol(new_q, names.depth)
        blocks.append(Display((*mean_label, EQUALS, mean)))
        expr: Expr
        if beta > 0:
            expr = (*new, EQUALS, old, MINUS, Sym("lambda"), BRACKET_OPEN, *mean_label, PLUS,
                    Sym("beta"), Sym("R", (), None, n), BRACKET_CLOSE,
                    EQUALS, Mat(step.weights_before[n - 1]), MINUS, lam, TIMES, LP,
                    mean, PLUS, Mat(step.l2_grad[n - 1]), RP, EQUALS, after)
        else:
            expr = (*new, EQUALS, old, MINUS, Sym("lambda"), SPACE, *mean_label, EQUALS,
                    Mat(step.weights_before[n - 1]), MINUS, lam, TIMES, mean, EQUALS, after)
        blocks.append(Display(expr))
    return blocks


def _gradient_check(step: Step, names: _Names, check: GradientCheck) -> list[Block]:
    """``solve --verify``: the gradient each layer descends beside the central
    differences of the cost, and their largest relative difference."""
    blocks: list[Block] = [
        Heading("4) Gradient check", 3),
        Text(f"The gradient of the update's cost from back-propagation (∇, with the L2 "
             f"term when there is one) beside its central differences (cost(w + h) − "
             f"cost(w − h)) / 2h with h = {CHECK_STEP:g}, and their relative difference "
             f"|∇ − d| / max(|∇|, |d|, {CHECK_FLOOR:g} × max(1, cost)); at most "
             f"{CHECK_TOLERANCE:g} passes.")]
    if check.rounded is not None:
        places = f"{check.rounded} decimal{'' if check.rounded == 1 else 's'}"
        blocks.append(Text(f"The gradient above is rounded to {places} as it "
                           "goes (--round-as-you-go), and a rounded gradient is no derivative "
                           "of the cost: ∇ here is back-propagated again without rounding, "
                           "from the same weights."))
    for n in range(names.depth, 0, -1):
        w = Sym("W", (), None, n)
        if not check.checked[n - 1]:
            blocks.append(Text(f"W{n}: not checked: under the output-first order this "
                               "layer's error goes back through the new weights above it, "
                               "so its gradient is not a derivative of the cost."))
            continue
        worst = float(check.relative[n - 1].max())
        blocks.append(Display((Words("∇"), w, EQUALS, Mat(check.gradient[n - 1]), SPACE,
                               Words("central differences"), EQUALS,
                               Mat(check.differences[n - 1]))))
        verdict = "passes" if worst <= CHECK_TOLERANCE else "FAILS"
        blocks.append(Text(f"W{n}: largest relative difference {worst:.1e}: {verdict}."))
    return blocks


# --------------------------------------------------------------------------- whole report


def _convention_parts(s: Settings) -> list[str]:
    """What the conventions in force make of J, the cost and the update."""
    c = s.conventions
    loss = LOSSES[s.loss]
    parts = [f"J₍ₜ₎ = {loss_formula(loss, c)}",
             "cost J̄ = mean of J₍ₜ₎ over the samples of each update"
             if c.cost is Combine.MEAN else
             "cost J = sum of J₍ₜ₎ over the samples of each update"]
    if not c.update_biases:
        parts.append("biases not updated")
    if c.update_order is UpdateOrder.OUTPUT_FIRST:
        parts.append("output layer updated first, lower layers back-propagate through its "
                     "new weights")
    return parts


def stated_conventions(trace: Trace) -> str | None:
    """The conventions line of a problem's statement: the preset, the keys that
    differ from the lecture's and what they make of J and the update, in the words
    of :func:`conventions`; None for the lecture's own."""
    c = trace.settings.conventions
    if not _preset_words(c):
        return None
    return "Conventions" + _preset_words(c) + ": " + "; ".join(_convention_parts(trace.settings)) \
        + "."


def conventions(trace: Trace) -> str:
    s = trace.settings
    parts = _convention_parts(s)
    if s.l2 > 0:
        parts.append(f"+ ½β Σw² with β = {s.l2:g} "
                     + ("(biases included)" if s.l2_bias else "(biases excluded)"))
    else:
        parts.append("no L2 regularisation")
    method = {"batch": "batch gradient descent (one update per epoch)",
              "sgd": "stochastic gradient descent (one sample per update)",
              "minibatch": f"mini-batch gradient descent (batches of {s.batch_size})"}[s.method]
    parts.append(f"{method}, λ = {s.learning_rate:g}, {s.epochs} epoch{'s' if s.epochs != 1 else ''}"
                 + (", shuffled each epoch (seed %d)" % s.seed if s.shuffle else ""))
    parts += [c for c in dict.fromkeys(ACTIVATIONS[a].convention for a in s.activations) if c]
    parts.append("W[n] is (inputs + 1) x outputs, row 0 = biases")
    return "Conventions" + _preset_words(s.conventions) + ": " + "; ".join(parts) + "."


def _preset_words(c: Conventions) -> str:
    """" (pytorch preset: mse_half false, output_reduction mean)": the preset and the
    keys that differ from the lecture's; nothing for the lecture's own."""
    return f" ({c.summary()})" if c.stated else ""


# Blocks to add after an update shown in full (exact values, say).
AfterUpdate = Callable[[Step], Sequence[Block]]


def report_title(trace: Trace) -> str:
    s = trace.settings
    return s.title or f"Network {'-'.join(str(n) for n in s.layers)}"


def build_report(trace: Trace, *, show: str = "auto", after_update: AfterUpdate | None = None,
                 samples: str = "auto") -> list[Block]:
    """The worked solution of every update shown (``show``: see :func:`select_steps`),
    the others summarised per epoch, then the result; in each update shown, the
    samples ``samples`` selects (:func:`select_samples`) in full."""
    s = trace.settings
    names = _Names(s.layers)
    blocks: list[Block] = [Heading(report_title(trace), 1, literal=True)]
    if s.description:
        blocks.append(Text(s.description, literal=True))
    acts = ", ".join(s.activations)
    blocks.append(Text(f"Network {list(s.layers)} ({acts}), loss {s.loss}, T = {s.samples} sample{'s' if s.samples != 1 else ''}, "
                       f"initial weights: {s.weights_origin}."))
    blocks.append(Text(conventions(trace)))
    shown = set(select_steps(len(trace.steps), show))
    hidden_epochs: dict[int, list[Step]] = {}
    for step in trace.steps:
        if step.index not in shown:
            hidden_epochs.setdefault(step.epoch, []).append(step)
            continue
        if hidden_epochs:
            blocks.append(_epoch_summary(trace, hidden_epochs))
            hidden_epochs = {}
        listed = ", ".join(str(t) for t in step.samples)
        blocks.append(Heading(f"Update {step.index} of {len(trace.steps)}: epoch {step.epoch}, "
                              f"sample{'s' if len(step.samples) > 1 else ''} {listed}", 2))
        full = select_samples(step.samples, samples)
        if len(full) < len(step.samples):
            blocks.append(Text(_samples_left_out(full, len(step.samples))))
        blocks += _feed_forward(step, names, s.activations, s.loss, s.l2, full, s.conventions)
        blocks += _backward(step, names, s.activations, s.loss, full, s.conventions)
        blocks += _update(step, names, s.learning_rate, s.l2, s.conventions)
        if step.gradient_check is not None:
            blocks += _gradient_check(step, names, step.gradient_check)
        if after_update is not None:
            blocks += after_update(step)
    if hidden_epochs:
        blocks.append(_epoch_summary(trace, hidden_epochs))
    blocks.append(Heading("Result", 2))
    for n, w in enumerate(trace.final_weights, start=1):
        blocks.append(Display((Sym("W", (), None, n), EQUALS, Mat(w))))
    blocks.append(Equations((((Words("cost of all data under the final weights"),),
                              (_fnum(trace.final_cost),)),)))
    return blocks


def _samples_left_out(full: Sequence[int], batch: int) -> str:
    listed = ", ".join(str(t) for t in full)
    left = batch - len(full)
    others = "the other sample is" if left == 1 else f"the other {left} are"
    return (f"Sample{'s' if len(full) > 1 else ''} {listed} of {batch} "
            f"{'are' if len(full) > 1 else 'is'} worked in full; {others} worked the same "
            f"way (--samples all shows them). The cost and the mean gradient use all {batch}.")


MAX_SUMMARY_ROWS = 40


def _epoch_summary(trace: Trace, epochs: dict[int, list[Step]]) -> Table:
    rows = []
    for epoch, steps in epochs.items():
        first, last = steps[0].index, steps[-1].index
        span = str(first) if first == last else f"{first}–{last}"
        rows.append((str(epoch), span, fmt(steps[0].cost, 6),
                     fmt(trace.epoch_costs[epoch - 1], 6)))
    if len(rows) > MAX_SUMMARY_ROWS:
        half = MAX_SUMMARY_ROWS // 2
        skipped = len(rows) - 2 * half
        rows = rows[:half] + [("…", f"{skipped} more epochs", "", "")] + rows[-half:]
    return Table(("epoch", "updates", "cost of first update", "cost of all data after epoch"),
                 tuple(rows))
