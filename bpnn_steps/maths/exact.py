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

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .activations import ACTIVATIONS, Unitwise
from .losses import LOSSES, Cancels
from ..model.problem import Problem
from ..model.trace import SampleForward, Trace

# Inputs with more significant digits than this are not taken as exact decimals.
MAX_INPUT_DIGITS = 12
# Exact forms with more nodes than this are too long to show (and to carry on).
MAX_NODES = 60
# Exact values are carried through at most this many updates.
MAX_EXACT_UPDATES = 10

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


def _loss(loss: str, yhat: list[Value], y: list[Value]) -> Value:
    if any(v is None for v in yhat + y):
        return None
    return _keep(LOSSES[loss].exact(yhat, y))


def _sample(problem: Problem, weights: list[list[list[Value]]], x: list[Value], y: list[Value],
            sample: int, floats: SampleForward) -> ExactSample:
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
    grads: list[tuple[tuple[Value, ...], ...]] = [()] * depth    # each set below
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
    lam = exact_decimal(problem.learning_rate())
    beta = exact_decimal(t.l2)
    weights = [_matrix(w) for w in problem.initial_weights()]
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
