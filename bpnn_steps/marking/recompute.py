"""Recompute every quantity of a worked solution from *given* earlier values.

Follow-through marking needs each later quantity recomputed from the student's
own earlier numbers, and diagnosis needs it recomputed with a typical mistake
made (a derivative left out, the new weights used too early, ...).  Both are
done here, one quantity at a time, by calling the engine's own functions
(:func:`~bpnn_steps.engine.feed_forward`, :func:`~bpnn_steps.engine.sample_losses`,
:func:`~bpnn_steps.engine.output_delta`, :func:`~bpnn_steps.engine.hidden_delta`,
:func:`~bpnn_steps.engine.layer_gradient`, :func:`~bpnn_steps.engine.updated_weights`,
:func:`~bpnn_steps.engine.l2_penalty` and the activation table), so there is one
source of truth per formula.

Values live in an *environment*: a dict from :class:`~bpnn_steps.model.quantities.Quantity`
to a numpy array (a vector per sample for z, a, delta; a scalar for J and the
cost; a matrix for gradients and weights).  :meth:`Chain.calc` computes one
quantity from the values already in an environment; the caller decides what
goes back into it (the computed value, or the student's where given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from ..maths.activations import ACTIVATIONS, LINEAR
from ..maths.losses import LOSSES, loss_scale
from ..model.conventions import Conventions, UpdateOrder
from ..model.quantities import Kind, Quantity, inputs, update_quantities, value_in
from ..maths import engine
from ..maths.engine import feed_forward, l2_penalty, output_delta, sample_losses
from ..model.problem import Problem
from ..model.trace import Trace
from .diagnose import CONVENTION_SLIPS, Mistake, convention_slips

Array = np.ndarray
Env = dict[Quantity, Array]


@dataclass(frozen=True)
class Scenario:
    """A typical mistake, made consistently from where it first applies (no code:
    none made, the exact calculation)."""

    code: Mistake | None
    linear_at: int | None = None        # the activation derivative of this layer left out
    no_bias: bool = False               # z computed without the bias weights
    no_activation: bool = False         # h = z (the hidden activation not applied)
    sum_not_mean: bool = False          # sum over the batch instead of the mean
    sign_error: bool = False            # y - yhat instead of yhat - y
    sign_update: bool = False           # W + lambda grad instead of W - lambda grad
    no_lambda: bool = False             # W - grad (learning rate left out)
    # Other conventions followed consistently (a missing 1/2, a sum over the samples,
    # the updated W[n+1] used to back-propagate, ... are each one key changed).
    conventions: Conventions | None = None

    def named_at(self, q: Quantity) -> Mistake:
        """The mistake check names where this one shows in ``q`` (a sum over the
        samples, seen in the cost, is the missing 1/T)."""
        assert self.code is not None
        return Mistake.MISSING_1_T if self.sum_not_mean and q.kind is Kind.COST else \
            self.code


EXACT = Scenario(None)
# What of a mistake each rule of Chain reads: Chain.calc hands a rule only these
# fields (the others as in EXACT), so a mistake that changes none of them cannot act
# on the quantity (see Chain.acts_on).
READS: dict[Kind, tuple[str, ...]] = {
    Kind.Z: ("no_bias",), Kind.A: ("no_activation",), Kind.LOSS: ("conventions",),
    Kind.COST: ("conventions",), Kind.DELTA: ("linear_at", "sign_error", "conventions"),
    Kind.GRAD: (), Kind.MEAN: ("conventions",),
    Kind.NEW: ("no_lambda", "sign_update", "conventions")}
# And which keys of a mistake's conventions (its "conventions" field) each rule reads:
# only a change in these can change the rule's number (a sum over the samples acts on
# the cost and the mean gradient, not on the new weights it is carried into).
CONVENTION_KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.LOSS: ("mse_half", "output_reduction"), Kind.COST: ("cost",),
    Kind.DELTA: ("mse_half", "output_reduction", "update_order"), Kind.MEAN: ("cost",),
    Kind.NEW: ("update_biases",)}
# The quantities follow-through marking recomputes (the error and H_d are part of δ).
COMPUTED = frozenset(k for k in Kind if k not in (Kind.ERROR, Kind.DERIVATIVE))


K = TypeVar("K")
V = TypeVar("V")


def kept(store: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """``store[key]``, made the first time it is asked for."""
    found = store.get(key)
    if found is None:
        found = store[key] = make()
    return found


def _row(v: Array) -> Array:
    return np.asarray(v, dtype=float).reshape(1, -1)


class Views:
    """What the rule of each kind sees of each mistake (see :meth:`Chain.seen`), kept
    as worked out: the chains of a problem's variants ask the same of the same
    mistakes (an object, not a frozen record: it fills as chains ask)."""

    def __init__(self) -> None:
        # Keyed by identity (a scenario's hash walks its conventions), kept with the
        # scenario and the conventions themselves so that a recycled id is never
        # mistaken for them.
        self._seen: dict[tuple[Kind, int],
                         tuple[Scenario, Conventions, tuple[Scenario, bool]]] = {}

    def of(self, kind: Kind, s: Scenario, conventions: Conventions) -> tuple[Scenario, bool]:
        """(what the rule of ``kind`` sees of mistake ``s`` under the problem's
        ``conventions``, whether that is a mistake)."""
        found = self._seen.get((kind, id(s)))
        if found is None or found[0] is not s or found[1] is not conventions:
            fields = {f: getattr(s, f) for f in READS[kind]}
            if fields.get("conventions") is not None:
                own = replace(conventions, **{key: getattr(s.conventions, key)
                                              for key in CONVENTION_KEYS[kind]})
                fields["conventions"] = None if own == conventions else own
            view = Scenario(None, **fields)
            found = self._seen[(kind, id(s))] = (s, conventions, (view, view != EXACT))
        return found[2]


class Chain:
    """The quantities of a problem's updates and how each is computed."""

    def __init__(self, problem: Problem, trace: Trace, views: Views | None = None) -> None:
        """``views``: what each rule sees of each mistake, which the chains of one
        problem's variants (the same conventions and mistakes) may share."""
        self.problem = problem
        self.layers = problem.layers
        self.depth = len(problem.layers) - 1
        self.activations = problem.activations
        self.schedule: tuple[tuple[int, ...], ...] = tuple(s.samples for s in trace.steps)
        self._rules: dict[Kind, Callable[[Quantity, Env, Scenario], Array]] = {
            Kind.Z: self._z, Kind.A: self._a, Kind.LOSS: self._J, Kind.COST: self._cost,
            Kind.DELTA: self._delta, Kind.GRAD: self._grad, Kind.MEAN: self._mean,
            Kind.NEW: self._new}
        self._nodes: dict[int, tuple[Quantity, ...]] = {}
        self._inputs: dict[Quantity, tuple[Quantity, ...]] = {}
        self._views = Views() if views is None else views
        # Kept, since every rule of every quantity reads them (read-only): the weights
        # before the first update, each sample's inputs as a row, the conventions'
        # factor on J, and the L2 terms when there is no L2 (the same for any weights).
        self._initial: tuple[Array, ...] | None = None
        self._x_rows: dict[int, Array] = {}
        self._y_rows: dict[int, Array] = {}
        self._scales: dict[int, tuple[Conventions, float]] = {}
        self._no_l2: tuple[float, list[Array]] | None = None

    # ------------------------------------------------------------------ structure

    def nodes(self, update: int) -> tuple[Quantity, ...]:
        """The quantities of an update in the order they are computed (kept: every
        answer file of the problem walks them)."""
        found = self._nodes.get(update)
        if found is None:
            found = self._nodes[update] = tuple(self._ordered(update))
        return found

    def _ordered(self, update: int) -> Iterator[Quantity]:
        """The quantities of an update in the order they are computed: the lecture's
        order, except that each layer's mean gradient and new weights come right
        after its gradients (a mistake that uses the new weights too early needs
        them before the layer below is back-propagated)."""
        order = [q for q in update_quantities(self.layers, self.schedule[update - 1], update)
                 if q.kind in COMPUTED]
        backward = {n: i for i, n in enumerate(range(self.depth, 0, -1))}

        def place(q: Quantity) -> tuple[int, int]:
            if q.kind in (Kind.MEAN, Kind.NEW):   # after the layer's gradients
                return 1, 3 * backward[q.n] + 2
            if q.kind in (Kind.DELTA, Kind.GRAD):
                return 1, 3 * backward[q.n] + (0 if q.kind is Kind.DELTA else 1)
            return 0, 0

        yield from sorted(order, key=place)      # sorted() keeps the order within a place

    def inputs(self, q: Quantity) -> tuple[Quantity, ...]:
        """The quantities ``q`` is computed from (the weights before an update are
        the previous update's new weights; in the output-first order a hidden delta
        also rests on the layer above's new weights)."""
        found = self._inputs.get(q)
        if found is None:
            found = self._inputs[q] = tuple(self._find_inputs(q))
        return found

    def _find_inputs(self, q: Quantity) -> list[Quantity]:
        found = inputs(q, self.schedule, self.depth)
        if q.kind is Kind.DELTA and q.n < self.depth and \
                self.problem.conventions.update_order is UpdateOrder.OUTPUT_FIRST:
            found.append(Quantity(q.update, Kind.NEW, q.n + 1))
        return found

    def conventions(self, s: Scenario) -> Conventions:
        """The conventions a calculation with mistake ``s`` follows."""
        return self.problem.conventions if s.conventions is None else s.conventions

    def scale(self, s: Scenario) -> float:
        """The conventions' factor on the lecture's J_(t) (and its dJ/dz)."""
        conventions = self.conventions(s)
        found = self._scales.get(id(conventions))
        if found is None or found[0] is not conventions:
            found = self._scales[id(conventions)] = (conventions, loss_scale(
                LOSSES[self.problem.loss], conventions, self.layers[-1]))
        return found[1]

    def weights_before(self, env: Env, update: int) -> Sequence[Array]:
        if update == 1:
            if self._initial is None:
                self._initial = tuple(np.asarray(w) for w in self.problem.initial_weights())
            return self._initial
        return [env[Quantity(update - 1, Kind.NEW, n)] for n in range(1, self.depth + 1)]

    def l2_terms(self, weights: Sequence[Array]) -> tuple[float, list[Array]]:
        """:func:`~bpnn_steps.maths.engine.l2_penalty` of ``weights`` under the
        problem's training settings (without L2, the same zeros for any weights)."""
        t = self.problem.training
        if t.l2 != 0:
            return l2_penalty(weights, t.l2, t.l2_bias)
        if self._no_l2 is None:
            self._no_l2 = l2_penalty(weights, t.l2, t.l2_bias)
        return self._no_l2

    # ------------------------------------------------------------------ values

    def calc(self, q: Quantity, env: Env, s: Scenario = EXACT) -> Array:
        """``q`` computed from the values in ``env``, with mistake ``s`` made."""
        return self._rules[q.kind](q, env, self.seen(q.kind, s))

    def seen(self, kind: Kind, s: Scenario) -> Scenario:
        """What the rule of ``kind`` sees of mistake ``s``: the fields it reads (READS),
        the others as in EXACT, and the problem's own conventions as none changed."""
        return self._views.of(kind, s, self.problem.conventions)[0]

    def acts_on(self, kind: Kind, s: Scenario) -> bool:
        """Whether mistake ``s`` changes how a quantity of ``kind`` is computed from
        its inputs (a quantity it does not act on is the exact rule's, from the same
        inputs)."""
        return self._views.of(kind, s, self.problem.conventions)[1]

    def _input(self, env: Env, u: int, n: int, t: int) -> Array:
        """a[n - 1] of sample t: the input x for the first layer."""
        if n == 1:
            return kept(self._x_rows, t,
                        lambda: np.asarray(self.problem.data()[0][t - 1], dtype=float))
        return env[Quantity(u, Kind.A, n - 1, t)]

    def _y(self, t: int) -> Array:
        """The targets y of sample t, as a row."""
        return kept(self._y_rows, t, lambda: _row(self.problem.data()[1][t - 1]))

    def _z(self, q: Quantity, env: Env, s: Scenario) -> Array:
        w = self.weights_before(env, q.update)[q.n - 1]
        if s.no_bias:
            w = np.array(w, copy=True)
            w[0] = 0.0
        zs, _ = feed_forward([w], _row(self._input(env, q.update, q.n, q.t)), [LINEAR.name])
        z: Array = zs[0][0]
        return z

    def _a(self, q: Quantity, env: Env, s: Scenario) -> Array:
        z = env[Quantity(q.update, Kind.Z, q.layer, q.sample)]
        if s.no_activation and q.n < self.depth:
            return np.array(z, copy=True)
        a: Array = ACTIVATIONS[self.activations[q.n - 1]].value(_row(z))[0]
        return a

    def _loss_inputs(self, env: Env, u: int, t: int) -> tuple[Array, Array]:
        """(z, yhat) of the output for the loss.  bce and ce read the loss from z; when
        a student's yhat and z disagree, the z that gives their yhat is used, since a
        hand calculation computes J from yhat."""
        L = self.depth
        z = env[Quantity(u, Kind.Z, L, t)]
        a = env[Quantity(u, Kind.A, L, t)]
        from_a = LOSSES[self.problem.loss].z_from_output(a)
        return (z if from_a is None else from_a), a

    def _J(self, q: Quantity, env: Env, s: Scenario) -> Array:
        z, a = self._loss_inputs(env, q.update, q.t)
        value = sample_losses(_row(z), _row(a), self._y(q.t), self.problem.loss,
                              self.scale(s))[0]
        return np.asarray(value)

    def _cost(self, q: Quantity, env: Env, s: Scenario) -> Array:
        losses = np.array([float(env[Quantity(q.update, Kind.LOSS, None, t)])
                           for t in self.schedule[q.update - 1]])
        data = engine.combined(losses, self.conventions(s).cost)
        penalty, _ = self.l2_terms(self.weights_before(env, q.update))
        return np.asarray(data + penalty)

    def _delta(self, q: Quantity, env: Env, s: Scenario) -> Array:
        u, n, t, L = q.update, q.n, q.t, self.depth
        z = env[Quantity(u, Kind.Z, n, t)]
        a = env[Quantity(u, Kind.A, n, t)]
        if n == L:
            error, _, delta = output_delta(_row(z), _row(a), self._y(t), self.activations[-1],
                                           self.problem.loss, self.scale(s))
            if s.linear_at == L and error is not None:
                delta = error
            if s.sign_error:
                delta = -delta
            return np.asarray(delta[0], dtype=float)
        weights = self.weights_before(env, u)
        # The output-first order back-propagates through the layer above's new weights.
        output_first = self.conventions(s).update_order is UpdateOrder.OUTPUT_FIRST
        w_next = env[Quantity(u, Kind.NEW, n + 1)] if output_first else weights[n]
        activation = LINEAR.name if s.linear_at == n else self.activations[n - 1]
        return hidden_delta(weights[n - 1], w_next, self._input(env, u, n, t), z, a,
                            activation, env[Quantity(u, Kind.DELTA, n + 1, t)])

    def _grad(self, q: Quantity, env: Env, s: Scenario) -> Array:
        u, n, t = q.update, q.n, q.t
        return layer_gradient(self.weights_before(env, u)[n - 1], self._input(env, u, n, t),
                              env[Quantity(u, Kind.DELTA, n, t)])

    def _mean(self, q: Quantity, env: Env, s: Scenario) -> Array:
        grads = np.stack([env[Quantity(q.update, Kind.GRAD, q.layer, t)]
                          for t in self.schedule[q.update - 1]])
        return engine.mean_gradient(grads, self.conventions(s).cost)

    def _new(self, q: Quantity, env: Env, s: Scenario) -> Array:
        before = self.weights_before(env, q.update)
        _, reg = self.l2_terms(before)
        rate = 1.0 if s.no_lambda else self.problem.learning_rate()
        # A sign slip in the update is the engine's rule with -lambda.
        return engine.updated_weights(before[q.n - 1], env[Quantity(q.update, Kind.MEAN, q.n)],
                                      reg[q.n - 1], -rate if s.sign_update else rate,
                                      self.conventions(s).update_biases)


# --------------------------------------------------------------------------- engine pieces


def layer_gradient(w: Array, a_prev: Array, delta: Array) -> Array:
    """[1, a_prev]^T delta of one sample (``w`` only fixes the shape the caller expects)."""
    grad: Array = engine.layer_gradient(_row(a_prev), _row(delta))[0]
    assert grad.shape == np.shape(w)
    return grad


def hidden_delta(w: Array, w_next: Array, a_prev: Array, z: Array, a: Array, activation: str,
                 delta_next: Array) -> Array:
    """delta[n] = (W-bar[n+1] delta[n+1]) (.) f'(z[n]) of one sample."""
    delta: Array = engine.hidden_delta(w_next, _row(delta_next), _row(z), _row(a),
                                       activation)[2][0]
    return delta


def trace_env(trace: Trace, updates: int | None = None) -> Env:
    """Every quantity of the first ``updates`` updates of a trace."""
    env: Env = {}
    for step in trace.steps[:updates]:
        for q in update_quantities(trace.settings.layers, step.samples, step.index):
            value = value_in(step, q)
            if value is not None:
                env[q] = np.asarray(value)
    return env


def scenarios_for(problem: Problem, schedule: Sequence[Sequence[int]],
                  every_convention: bool = False) -> list[Scenario]:
    """The mistakes worth trying for this problem, most specific first (when two
    explain the same number, e.g. W - grad is both "lambda left out" and "missing
    1/2" when lambda = 1/2, the first is named and the other mentioned).

    ``every_convention``: also another value of the keys that are no hand
    calculation's slip (the outputs' mean, biases kept or updated), last: check
    names them, but variants need not keep them apart from the slips (a bias
    update is often too small to tell from a left-out bias).
    """
    L = len(problem.layers) - 1
    out: list[Scenario] = []
    spec = LOSSES[problem.loss]
    simplified = spec.cancels
    # Another value of a conventions key, followed consistently (one per key).
    slips = {CONVENTION_SLIPS[code].key:
             Scenario(code, sum_not_mean=code is Mistake.SUM_NOT_MEAN, conventions=other)
             for code, other in convention_slips(problem.conventions)}
    for n in range(L, 0, -1):
        act = problem.activations[n - 1]
        if ACTIVATIONS[act].identity or (n == L and simplified):
            continue
        out.append(Scenario(Mistake.MISSING_DERIVATIVE, linear_at=n))
    if L > 1:
        out.append(slips["update_order"])
    out.append(Scenario(Mistake.SIGN, sign_update=True))
    out.append(Scenario(Mistake.MISSING_LAMBDA, no_lambda=True))
    if any(len(s) > 1 for s in schedule):
        out.append(slips["cost"])
    if spec.half:
        out.append(slips["mse_half"])
    out.append(Scenario(Mistake.SIGN, sign_error=True))
    out.append(Scenario(Mistake.MISSING_BIAS, no_bias=True))
    if L > 1:
        out.append(Scenario(Mistake.MISSING_ACTIVATION, no_activation=True))
    if every_convention:
        if spec.per_output and problem.layers[-1] > 1:
            out.append(slips["output_reduction"])
        out.append(slips["update_biases"])
    return out
