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

import functools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from .activations import ACTIVATIONS, Unitwise
from .losses import LOSSES, Cancels, exact_loss, loss_factor
from ..model.conventions import Combine, UpdateOrder
from ..model.problem import Problem
from ..model.trace import SampleForward, Trace

# Inputs with more significant digits than this are not taken as exact decimals.
MAX_INPUT_DIGITS = 12
# Exact forms with more nodes than this are too long to show (and to carry on).
MAX_NODES = 60
# Exact values are carried through at most this many updates.
MAX_EXACT_UPDATES = 10

Value = Any   # a sympy expression, or None when not exact / too long


# Printing an exact value is sympy's slowest part: ordering a sum's terms evaluates
# each term numerically.  A document prints each value several times (its length
# is checked, then a format spells it, text and LaTeX, and the text again to
# measure its width; the JSON writes both), and the values share their sums
# (1 + exp(-1/10) is in every value after it).  So each value's text and LaTeX
# are made once, and each sum's terms ordered once for both; typed=True keeps
# values of different types that compare equal apart.
@functools.lru_cache(maxsize=16384, typed=True)
def _ordered_terms(expr: Value) -> tuple[Value, ...]:
    """sympy's order of the terms of a sum (as its printers ask for it)."""
    return tuple(expr.as_ordered_terms())


class _TermsOrderedOnce:
    """A sympy printer whose sums' terms come from :func:`_ordered_terms`: the same
    order, found once (printers ask with no order of their own, the default)."""

    order: Any

    def _as_ordered_terms(self, expr: Value, order: Any = None) -> list[Value]:
        if (order or self.order) is None:
            return list(_ordered_terms(expr))
        return list(super()._as_ordered_terms(expr, order=order))  # type: ignore[misc]


class _TextPrinter(_TermsOrderedOnce, StrPrinter):     # type: ignore[misc]
    pass


class _LatexPrinter(_TermsOrderedOnce, LatexPrinter):  # type: ignore[misc]
    pass


@functools.lru_cache(maxsize=16384, typed=True)
def exact_text(value: Value) -> str:
    """An exact value as text, as ``sympy.sstr`` writes it:
    ``exp(-1/10)/(1 + exp(-1/10))``."""
    return str(_TextPrinter().doprint(value))


@functools.lru_cache(maxsize=16384, typed=True)
def exact_latex(value: Value) -> str:
    """An exact value in LaTeX, as ``sympy.latex`` writes it."""
    return str(_LatexPrinter().doprint(value))


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
    return expr is not None and _nodes(expr) <= MAX_NODES


@functools.lru_cache(maxsize=65536, typed=True)
def _nodes(expr: Value) -> int:
    """The nodes of ``expr``'s tree (as sympy.preorder_traversal visits them): the
    values are built from each other, so each part is counted once."""
    return 1 + sum(map(_nodes, expr.args))


def _keep(expr: Value) -> Value:
    return expr if _small(expr) else None


def _op(fn: Callable[..., Value], *args: Value) -> Value:
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


def _loss(problem: Problem, yhat: list[Value], y: list[Value]) -> Value:
    if any(v is None for v in yhat + y):
        return None
    return _keep(exact_loss(LOSSES[problem.loss], problem.conventions, yhat, y))


@dataclass(frozen=True)
class _Forward:
    """One sample's exact forward pass and its dJ/dz at the output."""

    x: list[Value]
    z: list[list[Value]]
    a: list[list[Value]]
    loss: Value
    delta: list[Value]
    floats: SampleForward


def _forward(problem: Problem, weights: list[list[list[Value]]], x: list[Value],
             y: list[Value], floats: SampleForward) -> _Forward:
    acts = problem.activations
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
    # the conventions' factor on J_(t) is a factor on its error (as the engine has it)
    numerator, denominator = loss_factor(LOSSES[loss], problem.conventions, len(yhat))
    scale = sympy.Rational(numerator, denominator)
    # dJ/dz at the output, as the engine forms it
    rule = LOSSES[loss].output
    if isinstance(rule, Cancels):                   # f' cancels against the loss
        delta = [_op(lambda d: scale * d, d) for d in rule.exact(yhat, y, _op)]
    else:
        err = [_op(lambda e: scale * e, e) for e in rule.exact(yhat, y, _op)]
        form = ACTIVATIONS[out_act].form
        if isinstance(form, Unitwise):
            der = _derivative(out_act, yhat, zs[-1], floats.z[-1])
            delta = [_op(lambda e, d: e * d, e, d) for e, d in zip(err, der)]
        else:                                       # through the Jacobian (softmax)
            delta = form.exact_product(yhat, err, _op)
    return _Forward(x, zs, avals, _loss(problem, yhat, y), delta, floats)


def _layer_gradient(f: _Forward, n: int, delta: list[Value]) -> tuple[tuple[Value, ...], ...]:
    """grad W[n+1] of one sample (n 0-based): [1, a[n]]^T delta."""
    inputs = [sympy.Integer(1)] + (f.x if n == 0 else f.a[n - 1])
    return tuple(tuple(_op(lambda p, q: p * q, i, d) for d in delta) for i in inputs)


def _hidden_delta(problem: Problem, f: _Forward, n: int, w: list[list[Value]],
                  delta: list[Value]) -> list[Value]:
    """delta of 0-based layer n - 1 from the delta of layer n through the weights ``w``
    of layer n (the old ones, or the new ones under output_first)."""
    error = [_op(lambda *t: sympy.Add(*t),
                 *[_op(lambda p, q: p * q, delta[k], w[j + 1][k]) for k in range(len(delta))])
             for j in range(len(w) - 1)]
    act = problem.activations[n - 1]
    der = _derivative(act, f.a[n - 1], f.z[n - 1], f.floats.z[n - 1])
    return [_op(lambda e, d: e * d, e, d) for e, d in zip(error, der)]


def exact_steps(problem: Problem, trace: Trace, upto: int) -> list[ExactStep]:
    """The first ``upto`` updates, exactly (values None where not exact or too long),
    under the problem's conventions: J_(t) with their factor, the mean or the sum
    over the samples, biases kept or updated, the layers updated together or the
    output layer first (lower layers back-propagating through its new weights)."""
    t = problem.training
    conventions = problem.conventions
    output_first = conventions.update_order is UpdateOrder.OUTPUT_FIRST
    lam = exact_decimal(problem.learning_rate())
    beta = exact_decimal(t.l2)
    weights = [_matrix(w) for w in problem.initial_weights()]
    out = []
    for step in trace.steps[:upto]:
        forwards = [_forward(problem, weights, _vector(f.x), _vector(f.y), f)
                    for f in step.forward]
        b = len(forwards)
        # the cost: the mean of J_(t) over the update's samples, or their sum
        size = b if conventions.cost is Combine.MEAN else 1
        cost = _op(lambda *v: sympy.Add(*v) / size, *[f.loss for f in forwards])
        reg_cost = sympy.Integer(0)
        depth = len(weights)
        deltas = [f.delta for f in forwards]
        grads: list[list[tuple[tuple[Value, ...], ...]]] = [[()] * depth for _ in forwards]
        means: list[tuple[tuple[Value, ...], ...]] = [()] * depth
        after: list[list[list[Value]]] = [[] for _ in weights]
        for n in range(depth - 1, -1, -1):
            w = weights[n]
            for s, f in enumerate(forwards):
                grads[s][n] = _layer_gradient(f, n, deltas[s])
            rows, new_rows = [], []
            for i in range(len(w)):
                row, new_row = [], []
                for j in range(len(w[0])):
                    mean = _op(lambda *v: sympy.Add(*v) / size, *[g[n][i][j] for g in grads])
                    reg = w[i][j] if (t.l2_bias or i > 0) else sympy.Integer(0)
                    if t.l2 > 0:
                        reg_cost = _op(lambda c, r: c + r ** 2, reg_cost, reg)
                    if i == 0 and not conventions.update_biases:
                        new = w[i][j]                   # the conventions keep the biases
                    else:
                        new = _op(lambda p, lm, m, bt, r: p - lm * (m + bt * r),
                                  w[i][j], lam, mean, beta, reg)
                    row.append(mean)
                    new_row.append(new)
                rows.append(tuple(row))
                new_rows.append(new_row)
            means[n] = tuple(rows)
            after[n] = new_rows
            if n > 0:
                through = new_rows if output_first else w
                deltas = [_hidden_delta(problem, f, n, through, d)
                          for f, d in zip(forwards, deltas)]
        if t.l2 > 0:
            cost = _op(lambda c, r, bt: c + bt * r / 2, cost, reg_cost, beta)
        samples = tuple(ExactSample(sample=f.floats.sample, z=tuple(map(tuple, f.z)),
                                    a=tuple(map(tuple, f.a)), loss=f.loss, grad=tuple(g))
                        for f, g in zip(forwards, grads))
        out.append(ExactStep(index=step.index, samples=samples, cost=cost,
                             mean_grad=tuple(means),
                             weights_after=tuple(tuple(map(tuple, w)) for w in after)))
        weights = after
    return out
