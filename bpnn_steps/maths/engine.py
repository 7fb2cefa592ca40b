"""The numeric engine: feed-forward, back-propagation and the gradient-descent
update, written as the lecture writes them.  It returns a :class:`Trace` and
never prints.

Shapes follow the lecture: ``W[n]`` is (size_in + 1) x size_out with the bias
weights in row 0; a batch of B samples is a (B, size) array, one row per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .activations import ACTIVATIONS, Unitwise, zero_snapped
from ..errors import ProblemError
from .losses import LOSSES, Cancels, loss_scale
from ..model.conventions import Combine, UpdateOrder
from ..numfmt import round_half_up
from ..model.problem import Problem, Training
from ..model.trace import SampleBackward, SampleForward, Settings, Step, Trace, read_only

if TYPE_CHECKING:
    from .activations import Array, Indices

    Rounder = Callable[[Array], Array]


def _keep(a: Array) -> Array:
    return a


def round_array(a: Array, decimals: int) -> Array:
    """Every entry rounded as by hand (numfmt.round_half_up: ties away from zero)."""
    rounded: Array = np.vectorize(lambda v: round_half_up(v, decimals), otypes=[float])(a)
    return rounded


def rounder(decimals: int | None) -> Rounder:
    """Every intermediate rounded to ``decimals`` (None: kept as computed)."""
    if decimals is None:
        return _keep
    return lambda a: round_array(a, decimals)


def with_bias(a: Array) -> Array:
    """[1, a]: the constant bias input in front of every sample's values."""
    return np.concatenate([np.ones((a.shape[0], 1)), a], axis=1)


def feed_forward(weights: Sequence[Array], x: Array, activations: Sequence[str],
                 rnd: Rounder = _keep) -> tuple[list[Array], list[Array]]:
    """z[n] = [1, a[n-1]] W[n] and a[n] = f_n(z[n]) for every layer; a[0] = x."""
    zs: list[Array] = []
    acts: list[Array] = []
    a = x
    for w, name in zip(weights, activations):
        act = ACTIVATIONS[name]
        z = w[0] + a @ w[1:]
        if act.snaps_zero:
            z = zero_snapped(z, w[0], a, w[1:])
        z = rnd(z)
        a = rnd(act.value(z))
        zs.append(z)
        acts.append(a)
    return zs, acts


def sample_losses(z_out: Array, y_hat: Array, y: Array, loss: str, scale: float = 1.0
                  ) -> Array:
    """J_(t) for each sample of the batch (``scale``: the conventions' factor on the
    lecture's J, :func:`~.losses.loss_scale`)."""
    losses: Array = LOSSES[loss].value(z_out, y_hat, y)
    return losses if scale == 1.0 else losses * scale


def combined(values: Array, how: Combine) -> Array:
    """The mean (the lecture's 1/|B| sum) or the sum over the samples, axis 0.

    The mean is numpy.mean's own sum-then-divide, bit for bit, without its
    bookkeeping (a third of a small update's time went into it)."""
    total: Array = np.add.reduce(values, axis=0)
    return total / len(values) if how is Combine.MEAN else total


def l2_penalty(weights: Sequence[Array], beta: float, l2_bias: bool
               ) -> tuple[float, list[Array]]:
    """(1/2 beta sum w^2, [beta R[n]]) where R[n] is W[n], row 0 zeroed without l2_bias."""
    if beta == 0:
        return 0.0, [np.zeros(np.shape(w)) for w in weights]
    regs = []
    for w in weights:
        r = np.array(w, dtype=float, copy=True)
        if not l2_bias:
            r[0] = 0.0
        regs.append(r)
    cost = 0.5 * beta * sum(float(np.sum(r * r)) for r in regs)
    return cost, [beta * r for r in regs]


def cost(problem: Problem, weights: Sequence[Array], x: Array | None = None,
         y: Array | None = None) -> float:
    """The cost of a data set (default: the training data): mean (or, by the
    conventions, sum) of J_(t), plus the L2 term."""
    if x is None or y is None:
        train_x, train_y = problem.data()
        x = train_x if x is None else x
        y = train_y if y is None else y
    zs, acts = feed_forward(weights, x, problem.activations)
    conventions = problem.conventions
    scale = loss_scale(LOSSES[problem.loss], conventions, problem.layers[-1])
    data = float(combined(sample_losses(zs[-1], acts[-1], y, problem.loss, scale),
                          conventions.cost))
    t = problem.training
    return data + l2_penalty(weights, t.l2, t.l2_bias)[0]


def output_delta(z_out: Array, y_hat: Array, y: Array, activation: str, loss: str,
                 scale: float = 1.0) -> tuple[Array | None, Array | None, Array]:
    """(dJ/dy-hat, f'(z), dJ/dz) at the output layer; ``scale`` is the conventions'
    factor on J (2 without the ½ of mse, 1/K for a mean over the outputs).

    bce with a sigmoid output and ce with a softmax output simplify to
    dJ/dz = y-hat - y (the activation's derivative cancels), so the first two
    factors are not formed (they can be infinite when the output saturates).
    """
    rule = LOSSES[loss].output
    if isinstance(rule, Cancels):
        if rule.activation != activation:
            raise ValueError(f"{loss} needs a {rule.activation} output layer, got {activation}")
        delta = rule.delta(y_hat, y)
        return None, None, delta if scale == 1.0 else scale * delta
    error = rule.error(y_hat, y)
    if scale != 1.0:
        error = scale * error
    form = ACTIVATIONS[activation].form
    if not isinstance(form, Unitwise):  # softmax under mse: multiply by the Jacobian
        return error, None, form.jacobian_product(y_hat, error)
    derivative = form.derivative(z_out, y_hat)
    return error, derivative, error * derivative


def layer_gradient(inputs: Array, delta: Array) -> Array:
    """grad W[n] = [1, a[n-1]]^T delta[n] for each sample: (B, size_in + 1, size_out)."""
    grads: Array = np.einsum("bi,bj->bij", with_bias(inputs), delta)
    return grads


def hidden_delta(w_next: Array, delta_next: Array, z: Array, a: Array, activation: str
                 ) -> tuple[Array, Array, Array]:
    """(error, f'(z), delta) of a hidden layer n from delta[n+1]:
    error = W-bar[n+1] delta[n+1] (W-bar: W without its bias row), delta = error (.) f'(z)."""
    error = delta_next @ w_next[1:].T
    derivative = ACTIVATIONS[activation].unitwise.derivative(z, a)
    return error, derivative, error * derivative


def back_propagate(weights: Sequence[Array], x: Array, y: Array, zs: Sequence[Array],
                   acts: Sequence[Array], activations: Sequence[str], loss: str,
                   rnd: Rounder = _keep, *, scale: float = 1.0,
                   through: Callable[[int, Array], Array] | None = None
                   ) -> tuple[list[Array | None], list[Array | None], list[Array], list[Array]]:
    """Per-sample errors, f'(z), deltas and gradient matrices of every layer.

    Output layer:  delta[L] = dJ/dz[L];  grad W[L] = [1, a[L-1]]^T delta[L].
    Hidden layer:  delta[n] from delta[n+1] by :func:`hidden_delta`;
                   grad W[n] = [1, a[n-1]]^T delta[n].
    Gradients come back as (B, size_in + 1, size_out) arrays, one matrix per sample.
    ``scale`` multiplies J (conventions); ``through(n, grads)``, given a layer's
    index and its gradients, gives the weights the error goes back through (the
    conventions' update order: default the old weights).
    """
    depth = len(weights)
    errors: list[Array | None] = [None] * depth
    derivatives: list[Array | None] = [None] * depth
    deltas: list[Array] = [np.empty(0)] * depth
    grads: list[Array] = [np.empty(0)] * depth
    error, derivative, delta = output_delta(zs[-1], acts[-1], y, activations[-1], loss, scale)
    errors[-1] = None if error is None else rnd(error)
    derivatives[-1] = None if derivative is None else rnd(derivative)
    deltas[-1] = rnd(delta)
    for n in range(depth - 1, -1, -1):
        grads[n] = rnd(layer_gradient(x if n == 0 else acts[n - 1], deltas[n]))
        if n == 0:
            break
        above = weights[n] if through is None else through(n, grads[n])
        error, derivative, _ = hidden_delta(above, deltas[n], zs[n - 1], acts[n - 1],
                                            activations[n - 1])
        # Rounded factors give the rounded product, as a hand calculation has it.
        rounded_error, rounded_derivative = rnd(error), rnd(derivative)
        errors[n - 1], derivatives[n - 1] = rounded_error, rounded_derivative
        deltas[n - 1] = rnd(rounded_error * rounded_derivative)
    return errors, derivatives, deltas, grads


def mean_gradient(grads: Array, how: Combine = Combine.MEAN) -> Array:
    """(1/|B|) sum over the batch of the per-sample gradient matrices (the sum with
    the conventions' ``cost: sum``)."""
    return combined(grads, how)


def updated_weights(w: Array, mean_grad: Array, l2_grad: Array, learning_rate: float,
                    update_biases: bool = True) -> Array:
    """W[n] - lambda (mean gradient + beta R[n]); row 0 (the biases) kept as it was
    when the conventions do not update biases."""
    after = w - learning_rate * (mean_grad + l2_grad)
    if not update_biases:
        after[0] = w[0]
    return after


def update_schedule(samples: int, training: Training, rng: np.random.Generator | None
                    ) -> Iterator[tuple[int, Indices]]:
    """(epoch, 0-based sample indices) of each update, in order."""
    size = training.batch_length(samples)
    for epoch in range(1, training.epochs + 1):
        order = rng.permutation(samples) if rng is not None else np.arange(samples)
        for start in range(0, samples, size):
            yield epoch, order[start:start + size]


def gradient_step(problem: Problem, weights: Sequence[Array], batch: Indices, *, index: int,
                  epoch: int, rnd: Rounder = _keep, detail: bool = True) -> Step:
    """One update over the samples ``batch`` (0-based indices), fully traced
    (``detail`` False: a compact step, the same numbers without the per-sample
    detail and the mean and L2 gradients: all that a summary line shows)."""
    train_x, train_y = problem.data()
    x = train_x[batch]
    y = train_y[batch]
    t = problem.training
    conventions = problem.conventions
    scale = loss_scale(LOSSES[problem.loss], conventions, problem.layers[-1])
    zs, acts = feed_forward(weights, x, problem.activations, rnd)
    losses = rnd(sample_losses(zs[-1], acts[-1], y, problem.loss, scale))
    data_cost = float(rnd(np.asarray(combined(losses, conventions.cost))))
    loss_sum = float(rnd(np.asarray(np.sum(losses))))
    l2_cost, l2_grad = l2_penalty(weights, t.l2, t.l2_bias)
    learning_rate = problem.learning_rate()

    def mean_of(grads: Array) -> Array:
        return rnd(mean_gradient(grads, conventions.cost))

    def new_weights(n: int, grads: Array) -> Array:
        return rnd(updated_weights(weights[n], mean_of(grads), l2_grad[n], learning_rate,
                                   conventions.update_biases))

    output_first = conventions.update_order is UpdateOrder.OUTPUT_FIRST
    errors, derivatives, deltas, grads = back_propagate(
        weights, x, y, zs, acts, problem.activations, problem.loss, rnd, scale=scale,
        through=new_weights if output_first else None)
    mean_grad = [mean_of(g) for g in grads]
    after = [new_weights(n, g) for n, g in enumerate(grads)]
    if not detail:
        return Step(index=index, epoch=epoch, samples=tuple(int(s) + 1 for s in batch),
                    weights_before=tuple(weights), forward=(), data_cost=data_cost,
                    loss_sum=loss_sum,
                    l2_cost=l2_cost, cost=data_cost + l2_cost, backward=(), mean_grad=(),
                    l2_grad=(), weights_after=tuple(after))
    # The batch arrays are done with: each sample's record keeps views of their rows.
    for a in (x, y, *zs, *acts, *deltas, *grads, *errors, *derivatives):
        if a is not None:
            read_only(a)
    forward = tuple(
        SampleForward(sample=int(s) + 1, x=x[i], y=y[i], z=tuple(z[i] for z in zs),
                      a=tuple(a[i] for a in acts), loss=float(losses[i]))
        for i, s in enumerate(batch))
    backward = tuple(
        SampleBackward(sample=int(s) + 1,
                       error=tuple(None if e is None else e[i] for e in errors),
                       derivative=tuple(None if d is None else d[i] for d in derivatives),
                       delta=tuple(d[i] for d in deltas), grad=tuple(g[i] for g in grads))
        for i, s in enumerate(batch))
    return Step(index=index, epoch=epoch, samples=tuple(int(s) + 1 for s in batch),
                weights_before=tuple(weights), forward=forward, data_cost=data_cost,
                loss_sum=loss_sum,
                l2_cost=l2_cost, cost=data_cost + l2_cost, backward=backward,
                mean_grad=tuple(mean_grad), l2_grad=tuple(l2_grad), weights_after=tuple(after))


def settings_of(problem: Problem) -> Settings:
    t = problem.training
    return Settings(layers=problem.layers, activations=problem.activations, loss=problem.loss,
                    learning_rate=float(problem.learning_rate()), method=t.method,
                    batch_size=t.batch_size, epochs=t.epochs, l2=t.l2, l2_bias=t.l2_bias,
                    shuffle=t.shuffle, seed=t.seed, samples=problem.samples,
                    title=problem.title, source=problem.source,
                    description=problem.description,
                    weights_origin=problem.weights_origin, conventions=problem.conventions)


def check_finite(problem: Problem, step: Step) -> None:
    """Stop with a clear message once a run diverges (a value overflows to inf/nan)."""
    values = [np.asarray(step.cost), *step.weights_after]
    if all(np.all(np.isfinite(v)) for v in values):
        return
    if step.index == 1 and not np.isfinite(step.cost):
        raise overflow_error(problem)
    raise divergence_error(problem, f"update {step.index} (epoch {step.epoch})")


def overflow_error(problem: Problem) -> ProblemError:
    """The cost under the initial weights is already not a finite number."""
    return problem.error("weights", "are too large for these data: the cost overflows "
                         "before any update; use smaller initial weights or inputs")


def divergence_error(problem: Problem, where: str) -> ProblemError:
    """The run overflowed at ``where`` ("update 12 (epoch 3)", "epoch 24")."""
    lr = problem.learning_rate()
    beta = problem.training.l2
    if lr * beta > 2:
        # The L2 term alone makes each update multiply the weights by 1 - lambda beta,
        # less than -1: beta is what is too large, whatever the learning rate.
        return problem.error(
            "training.l2",
            f"{beta:g} is too large for the learning rate {lr:g}: each update multiplies "
            f"the weights by 1 - lambda beta = {1 - lr * beta:g}, so the calculation "
            f"diverged at {where}; try a beta below {2 / lr:g}")
    return problem.error(
        "training.learning_rate",
        f"{lr:g} is too large for these weights and data: the calculation diverged at "
        f"{where}, where the cost overflowed; try a smaller learning rate")


def shuffle_rng(training: Training) -> np.random.Generator | None:
    # Its own stream (spawned from the seed) so shuffling never depends on how the
    # initial weights were drawn; not built at all without shuffling, which keeps
    # numpy.random out of a plain solve's start-up.
    if not training.shuffle:
        return None
    return np.random.default_rng(np.random.SeedSequence(training.seed).spawn(1)[0])


# A traced update keeps every intermediate of every sample; past this many updates
# a trace costs gigabytes and minutes, and `bpnn-steps train` is the right tool.
MAX_TRACED_UPDATES = 20_000


def updates_per_epoch(problem: Problem) -> int:
    """How many weight updates one epoch makes (one per batch, the last may be short)."""
    return -(-problem.samples // problem.training.batch_length(problem.samples))


def update_count(problem: Problem) -> int:
    """How many weight updates the problem's training settings make."""
    return problem.training.epochs * updates_per_epoch(problem)


def solve(problem: Problem, *, round_as_you_go: int | None = None,
          max_updates: int = MAX_TRACED_UPDATES,
          detailed: Callable[[int], Collection[int]] | None = None) -> Trace:
    """Run the problem's training settings and trace every update.

    ``round_as_you_go=D`` rounds every intermediate value to D decimals, as a
    hand calculation does, so its drift from the exact calculation can be shown.
    Runs of more than ``max_updates`` updates are refused (use ``train``).
    ``detailed(count)``, given the number of updates, names the (1-based) updates
    to keep in full; the others keep a compact record (weights and cost, see
    :func:`gradient_step`), so that memory grows with what is shown, not with the
    number of updates (None: all in full).
    """
    problem.require_for_solving()
    count = update_count(problem)
    if count > max_updates:
        raise problem.error(
            "training.epochs",
            f"gives {count:,} updates ({problem.training.epochs:,} epochs); solve traces "
            f"every intermediate of every update, so it stops at {max_updates:,}. Use "
            f"'bpnn-steps train' for long runs, or 'solve --epochs N' for the first few")
    full = None if detailed is None else frozenset(detailed(count))
    rnd = rounder(round_as_you_go)
    rng = shuffle_rng(problem.training)
    weights: tuple[Array, ...] = tuple(problem.initial_weights())
    steps: list[Step] = []
    epoch_costs: list[float] = []
    # Overflow is detected below and reported as divergence, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch, batch in update_schedule(problem.samples, problem.training, rng):
            index = len(steps) + 1
            step = gradient_step(problem, weights, batch, index=index, epoch=epoch, rnd=rnd,
                                 detail=full is None or index in full)
            if steps and epoch != steps[-1].epoch:
                # An update over all the data, in order and unrounded, has just
                # computed the cost of these weights, bit for bit as cost() does.
                whole = rng is None and len(batch) == problem.samples and \
                    round_as_you_go is None
                epoch_costs.append(step.cost if whole else cost(problem, weights))
            check_finite(problem, step)
            steps.append(step)
            weights = step.weights_after
        final_cost = cost(problem, weights)
    epoch_costs.append(final_cost)
    return Trace(settings=settings_of(problem), steps=tuple(steps), final_weights=weights,
                 final_cost=final_cost, epoch_costs=tuple(epoch_costs))
