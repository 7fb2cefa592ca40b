"""check's hand-rounded calculations (marking.reference.Reference.rounded) solve
only the whole epochs that hold the updates an answer file reaches, not the rest
of the run: their numbers are those of the whole rounded run's first updates,
shuffled minibatches included (an epoch's shuffle is drawn before the next)."""

from __future__ import annotations

import numpy as np
import pytest

from bpnn_steps.marking.recompute import trace_env
from bpnn_steps.marking.reference import Reference
from bpnn_steps.maths.engine import solve
from test_export import _random_problem


def _shuffled_minibatches():
    prob = _random_problem([2, 3, 2], ["tanh", "sigmoid"], "mse", method="minibatch",
                           batch_size=3, epochs=4, seed=5)     # 4 samples: 2 updates an epoch
    return prob.with_training(shuffle=True, seed=7)


@pytest.mark.parametrize("decimals", [2, 3])
@pytest.mark.parametrize("updates", [1, 2, 3, 8])
def test_a_cut_rounded_run_is_the_whole_run_begun(updates, decimals):
    prob = _shuffled_minibatches()
    whole = trace_env(solve(prob, round_as_you_go=decimals), updates)
    cut = Reference(prob, solve(prob)).rounded(decimals, updates)
    assert cut.keys() == whole.keys()
    for q, value in whole.items():
        np.testing.assert_array_equal(cut[q], value, err_msg=str(q))


def test_the_shuffle_differs_between_epochs():
    """The case above is not trivial: epochs 1 and 2 take the samples in different
    orders."""
    trace = solve(_shuffled_minibatches())
    assert [tuple(s.samples) for s in trace.steps[:2]] != \
        [tuple(s.samples) for s in trace.steps[2:4]]
