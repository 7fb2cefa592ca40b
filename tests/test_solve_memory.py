"""solve's memory grows with what is shown, not with the number of updates: the
updates not shown keep a compact record (weights, gradient, cost), and every
output made from that trace is the one made from the full trace."""

from __future__ import annotations

import functools
import gc
import tracemalloc

import numpy as np
import pytest

from bpnn_steps.maths.engine import solve
from bpnn_steps.model.problem import Problem, Training
from bpnn_steps.present.report import select_steps
from bpnn_steps.present.sheet import worked_solution
from bpnn_steps.render.registry import renderer


def sgd_problem(epochs: int) -> Problem:
    rng = np.random.default_rng(3)
    return Problem(layers=(2, 6, 1), activations=("sigmoid", "linear"), loss="mse",
                   x=rng.normal(size=(50, 2)), y=rng.normal(size=(50, 1)),
                   weights=(rng.uniform(-0.5, 0.5, (3, 6)), rng.uniform(-0.5, 0.5, (7, 1))),
                   training=Training(learning_rate=0.01, method="sgd", epochs=epochs))


@functools.cache
def full_trace(epochs: int):
    """The full trace (Trace is frozen, its arrays read-only): one for every --show."""
    return solve(sgd_problem(epochs))


@pytest.mark.parametrize("show", ["auto", "none", "first,every:37,last", "60-64"])
def test_a_compact_trace_gives_the_same_solution(show):
    problem = sgd_problem(epochs=3)
    full = full_trace(3)
    compact = solve(problem, detailed=lambda count: select_steps(count, show))
    shown = set(select_steps(len(full.steps), show))
    assert len(compact.steps) == len(full.steps) == 150
    for a, b in zip(full.steps, compact.steps):
        assert (len(b.forward), len(b.backward)) == ((1, 1) if b.index in shown else (0, 0))
        assert a.cost == b.cost and a.samples == b.samples and a.epoch == b.epoch
        for wa, wb in zip(a.weights_after, b.weights_after):
            assert np.array_equal(wa, wb)
    assert compact.final_cost == full.final_cost
    assert compact.epoch_costs == full.epoch_costs
    for fmt in ("text", "markdown", "latex"):
        out = renderer(fmt)
        assert (out.render(worked_solution(compact, show=show), 3)
                == out.render(worked_solution(full, show=show), 3))


def peak_bytes(epochs: int, **kwargs) -> int:
    problem = sgd_problem(epochs)
    # from a clean slate: garbage left by earlier tests is collected on gc's schedule,
    # which counted in a run's peak when it fell there
    gc.collect()
    tracemalloc.start()
    try:
        solve(problem, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_with_what_is_shown_not_with_the_updates():
    """--show none: 8 epochs (400 updates) of one sample each take far less than
    the full trace, and about what 2 epochs take.  (The memory per update is a
    straight line in the number of updates: 300 updates between the two runs
    measure its slope as 750 did, each run traced by tracemalloc, which is slow.)"""
    none = lambda count: ()           # noqa: E731
    # (warmed up first: a worker's first solve imports and caches what it needs, which
    # tracemalloc counted in the first run measured when this test came first)
    peak_bytes(1, detailed=none)
    peak_bytes(1)
    compact_long, compact_short = peak_bytes(8, detailed=none), peak_bytes(2, detailed=none)
    full_long = peak_bytes(8)
    assert compact_long < full_long / 4
    # What is left per update is a few weight-sized arrays, not the samples' detail.
    per_update = (compact_long - compact_short) / 300
    per_update_full = (full_long - peak_bytes(2)) / 300
    assert per_update < per_update_full / 4
