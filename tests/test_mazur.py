"""Every number Mazur's "A Step by Step Backpropagation Example" publishes, as the
post prints it (rounded to the digits shown there), from bpnn-steps' trace.

The post rounds to nine significant digits and sometimes drops a trailing zero
(0.75136507 for 0.7513650696); a computed value passes when it rounds to the
published digits.  His w1 ... w8 sit in the lecture's matrices as
W1 = [[b1, b1], [w1, w3], [w2, w4]] and W2 = [[b2, b2], [w5, w7], [w6, w8]].
"""

from __future__ import annotations

import functools
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.maths.engine import solve
from bpnn_steps.maths.training import TrainResult, train
from bpnn_steps.model.conventions import UpdateOrder
from bpnn_steps.model.trace import Trace

MAZUR = Path(__file__).resolve().parent.parent / "problems" / "mazur_222.yaml"


def printed(value: float, published: str) -> str:
    """``value`` rounded as the post rounds ``published`` (to its decimals)."""
    places = len(published.split(".")[1])
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def first_step() -> Trace:
    return solve(load_problem(MAZUR))


# (what the post calls it, where the trace keeps it, the published value)
FIRST_ROUND = [
    ("out_h1", lambda s: s.forward[0].a[0][0], "0.593269992"),
    ("out_h2", lambda s: s.forward[0].a[0][1], "0.596884378"),
    ("net_h1", lambda s: s.forward[0].z[0][0], "0.3775"),
    ("net_o1", lambda s: s.forward[0].z[1][0], "1.105905967"),
    ("out_o1", lambda s: s.forward[0].a[1][0], "0.75136507"),
    ("out_o2", lambda s: s.forward[0].a[1][1], "0.772928465"),
    ("E_total", lambda s: s.cost, "0.298371109"),
    ("dE_total/dout_o1", lambda s: s.backward[0].error[1][0], "0.74136507"),
    ("dout_o1/dnet_o1", lambda s: s.backward[0].derivative[1][0], "0.186815602"),
    ("dE_total/dw5", lambda s: s.backward[0].grad[1][1][0], "0.082167041"),
    ("w5+", lambda s: s.weights_after[1][1][0], "0.35891648"),
    ("w6+", lambda s: s.weights_after[1][2][0], "0.408666186"),
    ("w7+", lambda s: s.weights_after[1][1][1], "0.511301270"),
    ("w8+", lambda s: s.weights_after[1][2][1], "0.561370121"),
    ("dE_total/dout_h1", lambda s: s.backward[0].error[0][0], "0.036350306"),
    ("dout_h1/dnet_h1", lambda s: s.backward[0].derivative[0][0], "0.241300709"),
    ("dE_total/dw1", lambda s: s.backward[0].grad[0][1][0], "0.000438568"),
    ("w1+", lambda s: s.weights_after[0][1][0], "0.149780716"),
    ("w2+", lambda s: s.weights_after[0][2][0], "0.19956143"),
    ("w3+", lambda s: s.weights_after[0][1][1], "0.24975114"),
    ("w4+", lambda s: s.weights_after[0][2][1], "0.29950229"),
]


@pytest.mark.parametrize("name, where, published", FIRST_ROUND, ids=[r[0] for r in FIRST_ROUND])
def test_the_first_round_as_published(name: str, where, published: str) -> None:
    step = first_step().steps[0]
    assert printed(float(where(step)), published) == published, name


def test_the_biases_are_not_updated() -> None:
    trace = first_step()
    for before, after in zip(trace.steps[0].weights_before, trace.steps[0].weights_after):
        assert list(after[0]) == list(before[0])


@functools.cache
def with_order(order: UpdateOrder) -> Trace:
    problem = load_problem(MAZUR)
    return solve(replace(problem, conventions=replace(problem.conventions, update_order=order)))


# "the error after the first round": the output-first order reproduces it; the
# simultaneous order (whose new weights the post prints) gives 0.291027774.
@pytest.mark.parametrize("order, published", [(UpdateOrder.OUTPUT_FIRST, "0.291027924"),
                                              (UpdateOrder.SIMULTANEOUS, "0.291027774")])
def test_the_error_after_the_first_round(order: UpdateOrder, published: str) -> None:
    assert printed(with_order(order).final_cost, published) == published


@functools.cache       # once per order for the module
def after_rounds(order: UpdateOrder, rounds: int = 10_000) -> TrainResult:
    """The post's 10,000 rounds, through the training engine: the step engine traces
    every update (seconds for 10,000 of them); the training engine runs the same
    update rule (its weights and cost history equal solve's to 1e-12 in every mode
    and order: tests/test_train_engine.py, tests/test_train_conventions.py) in
    milliseconds, with the cost after every round (``costs[r]``: after round r)."""
    problem = load_problem(MAZUR)
    problem = replace(problem, conventions=replace(problem.conventions, update_order=order))
    return train(problem.with_training(epochs=rounds), kernel="compiled", cost_every=1,
                 catch_interrupt=False)


def test_ten_thousand_rounds() -> None:
    # The outputs after 10,000 rounds are the output-first order's.
    run = after_rounds(UpdateOrder.OUTPUT_FIRST)
    from bpnn_steps.maths.engine import feed_forward

    _, acts = feed_forward(run.weights, load_problem(MAZUR).data()[0],
                           ("sigmoid", "sigmoid"))
    assert printed(float(acts[-1][0][0]), "0.015912196") == "0.015912196"
    assert printed(float(acts[-1][0][1]), "0.984065734") == "0.984065734"
    # The error the post quotes beside them, 0.0000351085, is neither order's error
    # after 10,000 rounds (output first 0.0000350848, simultaneous 0.0000351019):
    # it is the simultaneous order's error in round 10,000, before its update.
    assert printed(run.final_cost, "0.0000350848") == "0.0000350848"
    simultaneous = after_rounds(UpdateOrder.SIMULTANEOUS)
    assert printed(simultaneous.final_cost, "0.0000351019") == "0.0000351019"
    assert simultaneous.cost_epochs[-2] == 9_999              # before round 10,000
    assert printed(float(simultaneous.costs[-2]), "0.0000351085") == "0.0000351085"


@pytest.mark.parametrize("page", ["docs/conventions.md", "README.md"])
def test_the_docs_table_is_real(page: str) -> None:
    """The tables of Mazur's numbers: each computed value is the engine's, written
    with the table's digits, and rounds to the published one."""
    import re

    text = (Path(__file__).resolve().parent.parent / page).read_text(encoding="utf-8")
    rows = {cells[0]: cells[1:] for cells in
            (re.split(r"\s*\|\s*", line.strip(" |")) for line in text.splitlines()
             if line.startswith("| ") and not line.startswith("| ---"))}
    step = first_step().steps[0]
    after = {order: after_rounds(order) for order in UpdateOrder}
    from bpnn_steps.maths.engine import feed_forward

    x = load_problem(MAZUR).data()[0]
    outputs = feed_forward(after[UpdateOrder.OUTPUT_FIRST].weights, x,
                           ("sigmoid", "sigmoid"))[1][-1][0]
    computed = {
        "out_h1": step.forward[0].a[0][0], "out_o1": step.forward[0].a[1][0],
        "out_o2": step.forward[0].a[1][1], "E_total": step.cost,
        "∂E_total/∂w5": step.backward[0].grad[1][1][0],
        "w5+": step.weights_after[1][1][0], "w8+": step.weights_after[1][2][1],
        "w1+": step.weights_after[0][1][0], "w4+": step.weights_after[0][2][1],
        "error after the first round": with_order(UpdateOrder.OUTPUT_FIRST).final_cost,
        "out_o1 after 10,000 rounds": outputs[0], "out_o2 after 10,000 rounds": outputs[1],
        "error after 10,000 rounds": after[UpdateOrder.SIMULTANEOUS].costs[-2],
    }
    shown_here = [name for name in computed if name in rows]
    assert len(shown_here) >= 6
    for name in shown_here:
        value = computed[name]
        published, shown = rows[name][0], rows[name][1]
        assert printed(float(value), shown) == shown, name
        assert printed(float(value), published) == published, name
