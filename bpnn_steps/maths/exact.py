"""Exact arithmetic for ``solve --exact``: the same calculation with sympy.

Every input written as a decimal is read as the exact fraction it denotes
(0.1 is 1/10, not the binary double nearest to it).  Feed-forward,
back-propagation and the update are then carried out exactly, following the
lecture's formulas (sigma' = h(1 - h), tanh' = 1 - h^2, ...), and each exact
value is shown beside the engine's decimal.  Values whose exact form grows too
long to read (sigmoids of sigmoids, late updates) are left out; values depending
on an input that is not an exact decimal (random initial weights) too.

sympy is imported here only; nothing else in a plain ``solve`` imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .activations import ACTIVATIONS, Unitwise
from .losses import LOSSES, Cancels
from ..model.notation import EQUALS, Mat, Num, Op, Sym
from ..model.problem import Problem
from ..present.report import Block, Display, Equations, Heading, Text, build_report, select_steps
from ..model.trace import Step, Trace

# Inputs with more significant digits than this are not taken as exact decimals.
MAX_INPUT_DIGITS = 12
# Exact forms with more nodes than this are too long to show (and to carry on).
MAX_NODES = 60
MAX_TEXT = 90
# Exact values are carried through at most this many updates.
MAX_EXACT_UPDATES = 10
APPROX = Op(" ≈ ", r" \approx ")

Value = Any   # a sympy expression, or None when not exact / too long


def exact_decimal(value: float) -> sympy.Rational | None:
    """The fraction a decimal input denotes: 0.1 -> 1/10; None when the float is
    not a short decimal (a random weight, say)."""
    text = repr(float(value))
    if "inf" in text or "nan" in text:
        return None
    digits = text.lower().split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    if len(digits) > MAX_INPUT_DIGITS:
        return None
    frac = Fraction(text)      # parses the decimal text exactly; never evaluates code
    return sympy.Rational(frac.numerator, frac.denominator)


def _small(expr: Value) -> bool:
    if expr is None:
        return False
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > MAX_NODES:
            return False
    return True


def _keep(expr: Value) -> Value:
    return expr if _small(expr) else None


def _op(fn, *args: Value) -> Value:
    if any(a is None for a in args):
        return None
    return _keep(fn(*args))


def _vector(values: np.ndarray) -> list[Value]:
    return [exact_decimal(v) for v in np.asarray(values, dtype=float).ravel()]


def _matrix(values: np.ndarray) -> list[list[Value]]:
    return [[exact_decimal(v) for v in row] for row in np.asarray(values, dtype=float)]


@dataclass(frozen=True)
class ExactSample:
    sample: int
    z: tuple[tuple[Value, ...], ...]
    a: tuple[tuple[Value, ...], ...]
    loss: Value
    grad: tuple[tuple[tuple[Value, ...], ...], ...]


@dataclass(frozen=True)
class ExactStep:
    index: int
    samples: tuple[ExactSample, ...]
    cost: Value
    mean_grad: tuple[tuple[tuple[Value, ...], ...], ...]
    weights_after: tuple[tuple[tuple[Value, ...], ...], ...]


def _activate(name: str, z: list[Value], z_float: np.ndarray) -> list[Value]:
    form = ACTIVATIONS[name].form
    if isinstance(form, Unitwise):
        return [form.exact(v, float(zf), _op) for v, zf in zip(z, z_float)]
    return form.exact(list(z), _op)


def _derivative(name: str, a: list[Value], z: list[Value], z_float: np.ndarray) -> list[Value]:
    form = ACTIVATIONS[name].unitwise
    return [form.exact_derivative(h, v, float(zf), _op) for h, v, zf in zip(a, z, z_float)]


def _loss(loss: str, yhat: list[Value], y: list[Value]) -> Value:
    if any(v is None for v in yhat + y):
        return None
    return _keep(LOSSES[loss].exact(yhat, y))


def _sample(problem: Problem, weights: list[list[list[Value]]], x: list[Value], y: list[Value],
            sample: int, floats) -> ExactSample:
    acts = problem.activations
    depth = len(weights)
    zs: list[list[Value]] = []
    avals: list[list[Value]] = []
    a = x
    for n, w in enumerate(weights):
        z = []
        for j in range(len(w[0])):
            terms = [w[0][j]] + [_op(lambda p, q: p * q, w[i][j], a[i - 1])
                                 for i in range(1, len(w))]
            z.append(_op(lambda *t: sympy.Add(*t), *terms))
        a = _activate(acts[n], z, floats.z[n])
        zs.append(z)
        avals.append(a)
    yhat = avals[-1]
    out_act, loss = acts[-1], problem.loss
    # dJ/dz at the output, as the engine forms it
    rule = LOSSES[loss].output
    if isinstance(rule, Cancels):                   # f' cancels against the loss
        delta = rule.exact(yhat, y, _op)
    else:
        err = rule.exact(yhat, y, _op)
        form = ACTIVATIONS[out_act].form
        if isinstance(form, Unitwise):
            der = _derivative(out_act, yhat, zs[-1], floats.z[-1])
            delta = [_op(lambda e, d: e * d, e, d) for e, d in zip(err, der)]
        else:                                       # through the Jacobian (softmax)
            delta = form.exact_product(yhat, err, _op)
    grads: list = [None] * depth
    for n in range(depth - 1, -1, -1):
        inputs = [sympy.Integer(1)] + (x if n == 0 else avals[n - 1])
        grads[n] = tuple(tuple(_op(lambda p, q: p * q, i, d) for d in delta) for i in inputs)
        if n == 0:
            break
        w = weights[n]
        error = [_op(lambda *t: sympy.Add(*t),
                     *[_op(lambda p, q: p * q, delta[k], w[j + 1][k]) for k in range(len(delta))])
                 for j in range(len(w) - 1)]
        der = _derivative(acts[n - 1], avals[n - 1], zs[n - 1], floats.z[n - 1])
        delta = [_op(lambda e, d: e * d, e, d) for e, d in zip(error, der)]
    return ExactSample(sample=sample, z=tuple(map(tuple, zs)), a=tuple(map(tuple, avals)),
                       loss=_loss(loss, yhat, y), grad=tuple(grads))


def exact_steps(problem: Problem, trace: Trace, upto: int) -> list[ExactStep]:
    """The first ``upto`` updates, exactly (values None where not exact or too long)."""
    t = problem.training
    lam = exact_decimal(t.learning_rate)
    beta = exact_decimal(t.l2)
    weights = [_matrix(w) for w in problem.weights]
    out = []
    for step in trace.steps[:upto]:
        samples = []
        for f in step.forward:
            samples.append(_sample(problem, weights, _vector(f.x), _vector(f.y), f.sample, f))
        b = len(samples)
        cost = _op(lambda *v: sympy.Add(*v) / b, *[s.loss for s in samples])
        reg_cost = sympy.Integer(0)
        means, after = [], []
        for n, w in enumerate(weights):
            rows = []
            new_rows = []
            for i in range(len(w)):
                row, new_row = [], []
                for j in range(len(w[0])):
                    mean = _op(lambda *v: sympy.Add(*v) / b, *[s.grad[n][i][j] for s in samples])
                    reg = w[i][j] if (t.l2_bias or i > 0) else sympy.Integer(0)
                    if t.l2 > 0:
                        reg_cost = _op(lambda c, r: c + r ** 2, reg_cost, reg)
                    new = _op(lambda p, lm, m, bt, r: p - lm * (m + bt * r),
                              w[i][j], lam, mean, beta, reg)
                    row.append(mean)
                    new_row.append(new)
                rows.append(tuple(row))
                new_rows.append(new_row)
            means.append(tuple(rows))
            after.append(new_rows)
        if t.l2 > 0:
            cost = _op(lambda c, r, bt: c + bt * r / 2, cost, reg_cost, beta)
        out.append(ExactStep(index=step.index, samples=tuple(samples), cost=cost,
                             mean_grad=tuple(means),
                             weights_after=tuple(tuple(map(tuple, w)) for w in after)))
        weights = after
    return out


# --------------------------------------------------------------------------- display


def _shown(value: Value) -> Op | None:
    if value is None:
        return None
    text = sympy.sstr(value)
    if len(text) > MAX_TEXT:
        return None
    return Op(text, sympy.latex(value))


def _exact_matrix(rows) -> Op | None:
    cells = [[_shown(v) for v in row] for row in rows]
    if any(c is None for row in cells for c in row):
        return None
    tex = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(c.tex for c in row) for row in cells) \
        + r" \end{bmatrix}"
    text = "[" + "; ".join(", ".join(c.text for c in row) for row in cells) + "]"
    return Op(text, tex)


def _unit(n: int, j: int, t: int, depth: int) -> Sym:
    if n == depth:
        return Sym("yhat", (j,), t)
    return Sym("h", (j,), t, None if depth == 2 else n)


def _grad_label(n: int, t: int | None) -> Op:
    w = Sym("W", (), None, n)
    sub = f"_{{({t})}}" if t is not None else ""
    return Op(f"∇J{'' if t is None else Sym('', (), t).unicode()}({w.unicode()})",
              r"\nabla J_{" + w.latex() + sub + "}")


def _entry_label(kind: str, n: int, i: int, j: int, t: int | None) -> Op:
    w = Sym("w", (i, j), None, n)
    if kind == "new":
        return Op(f"{w.unicode()} new", w.latex() + r"\ \text{(new)}")
    j_u = "J" + ("" if t is None else Sym("", (), t).unicode())
    j_t = "J" + ("" if t is None else f"_{{({t})}}")
    if t is None:
        return Op(f"mean ∂J/∂{w.unicode()}",
                  r"\overline{\partial J / \partial " + w.latex() + "}")
    return Op(f"∂{j_u}/∂{w.unicode()}", rf"\partial {j_t} / \partial " + w.latex())


SHORT_ENTRY = 24


def exact_blocks(exact: ExactStep, step: Step, depth: int,
                 activations: tuple[str, ...] = ()) -> list[Block]:
    rows = []
    skipped = 0

    def add(label, value: Value, approx: float) -> None:
        nonlocal skipped
        shown = _shown(value)
        if shown is None:
            skipped += 1
            return
        rows.append(((label,), (shown, APPROX, Num(float(approx), paren=False))))

    for ex, f in zip(exact.samples, step.forward):
        for n in range(depth):
            linear = bool(activations) and ACTIVATIONS[activations[n]].identity
            for j, (zv, av) in enumerate(zip(ex.z[n], ex.a[n]), start=1):
                if not linear:
                    add(Sym("z", (j,), f.sample, n + 1), zv, f.z[n][j - 1])
                add(_unit(n + 1, j, f.sample, depth), av, f.a[n][j - 1])
        add(Sym("J", (), f.sample), ex.loss, f.loss)
    add(Sym("Jbar"), exact.cost, step.cost)
    blocks: list[Block] = [
        Heading(f"Exact values, update {exact.index}", 3),
        Text("Inputs read as the exact decimals they are written as (0.1 = 1/10); each exact "
             "value is followed by the engine's decimal."),
    ]
    if rows:
        blocks.append(Equations(tuple(rows)))
    # (label, kind, sample, layer n, exact rows, engine matrix)
    matrices: list[tuple[Op, str, int | None, int, Any, np.ndarray]] = []
    for ex, b in zip(exact.samples, step.backward):
        for n in range(depth, 0, -1):
            matrices.append((_grad_label(n, ex.sample), "grad", ex.sample, n, ex.grad[n - 1],
                             b.grad[n - 1]))
    if len(exact.samples) > 1:
        for n in range(depth, 0, -1):
            matrices.append((_grad_label(n, None), "mean", None, n, exact.mean_grad[n - 1],
                             step.mean_grad[n - 1]))
    for n in range(depth, 0, -1):
        matrices.append((Op(f"W{Sym('', (), None, n).unicode()} new",
                            Sym("W", (), None, n).latex() + r"_{\text{new}}"), "new", None, n,
                         exact.weights_after[n - 1], step.weights_after[n - 1]))
    for label, kind, t, n, exact_rows, approx in matrices:
        cells = [[_shown(v) for v in row] for row in exact_rows]
        if all(c is not None and len(c.text) <= SHORT_ENTRY for row in cells for c in row):
            blocks.append(Display((label, EQUALS, _exact_matrix(exact_rows), APPROX,
                                   Mat(approx))))
            continue
        entry_rows = []
        for i, row in enumerate(cells):
            for j, cell in enumerate(row, start=1):
                if cell is None:
                    skipped += 1
                    continue
                entry_rows.append(((_entry_label(kind, n, i, j, t),),
                                   (cell, APPROX, Num(float(approx[i, j - 1]), paren=False))))
        if entry_rows:
            blocks.append(Equations(tuple(entry_rows)))
    if skipped:
        blocks.append(Text(f"{skipped} value{'s' if skipped != 1 else ''} left out: not exact "
                           "(an input is not a short decimal) or too long to read exactly."))
    return blocks


def report_with_exact(problem: Problem, trace: Trace, show: str = "auto",
                      blocks: list[Block] | None = None) -> list[Block]:
    """The report with an 'Exact values' section after each update shown."""
    blocks = build_report(trace, show=show) if blocks is None else blocks
    shown = select_steps(len(trace.steps), show)
    if not shown:
        return blocks
    exact = exact_steps(problem, trace, min(max(shown), MAX_EXACT_UPDATES))
    depth = len(trace.settings.layers) - 1
    out: list[Block] = []
    current: int | None = None

    def section(index: int) -> list[Block]:
        if index > len(exact):
            return [Heading(f"Exact values, update {index}", 3),
                    Text(f"Exact values are carried through the first {MAX_EXACT_UPDATES} "
                         "updates only.")]
        return exact_blocks(exact[index - 1], trace.steps[index - 1], depth,
                            trace.settings.activations)

    for block in blocks:
        if isinstance(block, Heading) and block.level <= 2 and current is not None:
            out += section(current)
            current = None
        if isinstance(block, Heading) and block.level == 2 and block.text.startswith("Update "):
            current = int(block.text.split()[1])
        out.append(block)
    if current is not None:
        out += section(current)
    return out


def _json_value(value: Value) -> dict[str, str] | None:
    if value is None:
        return None
    return {"text": sympy.sstr(value), "latex": sympy.latex(value)}


def exact_json(problem: Problem, trace: Trace, show: str = "auto") -> str:
    """The trace's JSON plus an ``exact`` list: each shown update's values as
    sympy text and LaTeX (null where not exact or too long)."""
    doc = trace.to_dict()
    shown = select_steps(len(trace.steps), show)
    exact = exact_steps(problem, trace, min(max(shown), MAX_EXACT_UPDATES)) if shown else []
    conv = lambda rows: [[_json_value(v) for v in row] for row in rows]  # noqa: E731
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
    return json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False)
