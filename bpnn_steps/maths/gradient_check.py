"""The gradient check of ``solve --verify``: every entry of the gradient an update
descends, beside the central difference of the update's cost.

The cost is the one in force (the conventions' J_(t), their mean or sum over the
update's samples, plus ½β Σw²), evaluated by the forward pass alone; nothing here
back-propagates, so a wrong back-propagation shows as a difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..model.conventions import UpdateOrder
from ..model.problem import Problem
from ..model.trace import GradientCheck, Step, Trace
from .engine import combined, feed_forward, gradient_step, l2_penalty, sample_losses
from .losses import LOSSES, loss_scale

Array = np.ndarray

# Central differences with this step: the truncation error (about h² times the
# third derivative) and the rounding error (about 1e-16 × cost / h) both stay
# near 1e-10 for the costs of a hand calculation.
STEP = 1e-5

# Entries smaller than FLOOR × max(1, cost) are compared by their absolute
# difference over that floor: the rounding error of a central difference grows with
# the cost, and a gradient entry of 1e-9 must not fail for a rounding error of 1e-11.
FLOOR = 1e-3

# ``solve --verify`` fails (exit 1) past this relative difference.
TOLERANCE = 1e-6


def update_cost(problem: Problem, weights: Sequence[Array], x: Array, y: Array) -> float:
    """The cost an update over the samples (x, y) descends, under the conventions."""
    conventions = problem.conventions
    zs, acts = feed_forward(weights, x, problem.activations)
    scale = loss_scale(LOSSES[problem.loss], conventions, problem.layers[-1])
    data = float(combined(sample_losses(zs[-1], acts[-1], y, problem.loss, scale),
                          conventions.cost))
    t = problem.training
    return data + l2_penalty(weights, t.l2, t.l2_bias)[0]


def central_differences(problem: Problem, weights: Sequence[Array], x: Array, y: Array
                        ) -> list[Array]:
    """(cost(w + h) − cost(w − h)) / 2h for every weight, h = STEP."""
    moved = [np.array(w, dtype=float, copy=True) for w in weights]
    differences = []
    for w in moved:
        d = np.empty_like(w)
        for index in np.ndindex(w.shape):
            keep = w[index]
            w[index] = keep + STEP
            above = update_cost(problem, moved, x, y)
            w[index] = keep - STEP
            below = update_cost(problem, moved, x, y)
            w[index] = keep
            d[index] = (above - below) / (2 * STEP)
        differences.append(d)
    return differences


def gradient_check(problem: Problem, step: Step, x: Array, y: Array,
                   rounded: int | None = None) -> GradientCheck:
    """The gradient ``step`` descends beside the central differences of its cost on
    its samples (x, y); for a step rounded as it went (``rounded`` decimals), the
    gradient back-propagated without rounding from the same weights."""
    if rounded is None and step.mean_grad:
        gradient = [m + r for m, r in zip(step.mean_grad, step.l2_grad)]
    else:
        gradient = unrounded_gradient(problem, step)
    differences = central_differences(problem, step.weights_before, x, y)
    output_first = problem.conventions.update_order is UpdateOrder.OUTPUT_FIRST
    depth = len(gradient)
    return GradientCheck(tuple(gradient), tuple(differences),
                         tuple(relative_differences(g, d, step.cost)
                               for g, d in zip(gradient, differences)),
                         tuple(not output_first or n == depth - 1 for n in range(depth)),
                         rounded=rounded)


def unrounded_gradient(problem: Problem, step: Step) -> list[Array]:
    """The gradient an update descends, back-propagated again without rounding from
    the weights it starts from (a compact step keeps no gradient; a rounded one is
    no derivative of the cost, so no central difference matches it)."""
    again = gradient_step(problem, step.weights_before, np.array(step.samples) - 1,
                          index=step.index, epoch=step.epoch)
    return [m + r for m, r in zip(again.mean_grad, again.l2_grad)]


def relative_differences(gradient: Array, differences: Array, cost: float) -> Array:
    """|g − d| / max(|g|, |d|, FLOOR × max(1, |cost|)), entry by entry."""
    floor = FLOOR * max(1.0, abs(cost))
    scale = np.maximum(np.maximum(np.abs(gradient), np.abs(differences)), floor)
    result: Array = np.abs(gradient - differences) / scale
    return result


class Verdict(NamedTuple):
    """The worst entry of a run's gradient checks."""

    relative: float                 # its relative difference
    update: int                     # 1-based
    layer: int                      # 0-based
    entry: tuple[int, int]
    updates: int                    # how many updates were checked

    @property
    def passes(self) -> bool:
        return self.relative <= TOLERANCE


def verify_run(problem: Problem, trace: Trace, *, rounded: int | None = None
               ) -> tuple[Trace, Verdict]:
    """Check the gradient of every update of ``trace``, not only of those it keeps
    in full (a run showing none was verified by nothing); those carry their check,
    to be shown.  ``rounded``: the decimals the trace was rounded to as it went
    (its gradients are then back-propagated again without rounding)."""
    from dataclasses import replace

    x, y = problem.data()
    steps = []
    worst = Verdict(0.0, 1, len(problem.layers) - 2, (0, 0), len(trace.steps))
    for step in trace.steps:
        batch = np.array(step.samples) - 1
        check = gradient_check(problem, step, x[batch], y[batch], rounded)
        relative, layer, entry = check.worst()
        if relative > worst.relative:
            worst = worst._replace(relative=relative, update=step.index, layer=layer,
                                   entry=entry)
        steps.append(replace(step, gradient_check=check) if step.forward else step)
    return replace(trace, steps=tuple(steps)), worst
