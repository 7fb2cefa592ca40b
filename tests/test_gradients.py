"""Property tests: the engine's gradients, costs and updates against central
finite differences of an independent numpy forward pass (helpers.np_forward),
on random networks, data and weights.  Update schedules (batch, sgd,
minibatch, shuffle) are checked against CONTRACT section 1 and the scalar
reference of helpers.ref_solve.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import bpnn_steps
from bpnn_steps import Problem, Training
from helpers import examples, fd_gradients, np_forward, np_loss_from, ref_solve

HIDDEN = ["sigmoid", "tanh", "relu", "linear"]
OUTPUT_PAIRS = [("sigmoid", "mse"), ("tanh", "mse"), ("linear", "mse"), ("relu", "mse"),
                ("sigmoid", "bce"), ("softmax", "ce"), ("softmax", "mse")]
EPS = 1e-6
ATOL, RTOL = 1e-6, 1e-4
KINK = 1e-4

PROPERTY = settings(max_examples=examples(60), deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])

unit = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def networks(draw, max_T: int = 4):
    depth = draw(st.integers(1, 3))
    out_act, loss = draw(st.sampled_from(OUTPUT_PAIRS))
    sizes = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    if out_act == "softmax":
        sizes[-1] = draw(st.integers(2, 4))
    acts = tuple(draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)) + (out_act,)
    T = draw(st.integers(1, max_T))
    weights = tuple(
        np.array(draw(st.lists(st.lists(unit, min_size=sizes[n + 1], max_size=sizes[n + 1]),
                               min_size=sizes[n] + 1, max_size=sizes[n] + 1)))
        for n in range(depth))
    x = np.array(draw(st.lists(st.lists(unit, min_size=sizes[0], max_size=sizes[0]),
                               min_size=T, max_size=T)))
    K = sizes[-1]
    if loss == "bce":
        target = st.floats(0.0, 1.0)
        y = np.array(draw(st.lists(st.lists(target, min_size=K, max_size=K),
                                   min_size=T, max_size=T)))
    elif loss == "ce":
        raw = np.array(draw(st.lists(st.lists(st.floats(0.0, 1.0), min_size=K, max_size=K),
                                     min_size=T, max_size=T)))
        raw[:, 0] += 0.01              # never all zero
        y = raw / raw.sum(axis=1, keepdims=True)
    else:
        y = np.array(draw(st.lists(st.lists(st.floats(-2.0, 2.0), min_size=K, max_size=K),
                                   min_size=T, max_size=T)))
    return dict(layers=tuple(sizes), activations=acts, loss=loss, x=x, y=y, weights=weights)


def away_from_kinks(net) -> bool:
    """No relu pre-activation within KINK of 0 (its derivative jumps there)."""
    for x in net["x"]:
        zs, _ = np_forward(net["weights"], x, net["activations"])
        for z, act in zip(zs, net["activations"]):
            if act == "relu" and np.any(np.abs(z) < KINK):
                return False
    return True


def make_problem(net, **training) -> Problem:
    training.setdefault("learning_rate", 0.3)
    return Problem(layers=net["layers"], activations=net["activations"], loss=net["loss"],
                   x=net["x"], y=net["y"], weights=net["weights"], training=Training(**training))


def my_losses(weights, net) -> list[float]:
    out = []
    for x, y in zip(net["x"], net["y"]):
        zs, as_ = np_forward(weights, x, net["activations"])
        out.append(np_loss_from(zs[-1], as_[-1], y, net["loss"]))
    return out


def fd_tolerance(g_fd: np.ndarray, loss_value: float) -> np.ndarray:
    # atol + rtol |g|, plus the rounding error of the difference quotient itself
    # (about 1e-16 |J| / eps), which matters when J is large.
    return ATOL + RTOL * np.abs(g_fd) + 4e-16 * max(1.0, abs(loss_value)) / EPS


def assert_grad_close(got, want, loss_value, what):
    got = np.asarray(got)
    assert got.shape == want.shape, what
    tol = fd_tolerance(want, loss_value)
    bad = np.abs(got - want) > tol
    assert not bad.any(), f"{what}: engine {got.tolist()} vs finite differences {want.tolist()}"


# ----------------------------------------------------------------- per-sample gradients


@PROPERTY
@given(net=networks())
def test_per_sample_gradients_match_finite_differences(net):
    assume(away_from_kinks(net))
    note(f"{net['layers']} {net['activations']} {net['loss']}")
    trace = bpnn_steps.solve(make_problem(net))
    step = trace.steps[0]
    assert [b.sample for b in step.backward] == list(range(1, len(net["x"]) + 1))
    losses = my_losses(net["weights"], net)
    for t, (x, y) in enumerate(zip(net["x"], net["y"])):
        fd = fd_gradients(net["weights"], x, y, net["activations"], net["loss"], EPS)
        grads = step.backward[t].grad
        assert len(grads) == len(net["weights"])
        for n, (g, want) in enumerate(zip(grads, fd)):
            assert_grad_close(g, want, losses[t], f"sample {t + 1}, W{n + 1}")


@PROPERTY
@given(net=networks())
def test_forward_values_and_losses(net):
    """z, a, y-hat and J of every sample against the numpy forward pass."""
    trace = bpnn_steps.solve(make_problem(net))
    step = trace.steps[0]
    for t, (x, y) in enumerate(zip(net["x"], net["y"])):
        zs, as_ = np_forward(net["weights"], x, net["activations"])
        f = step.forward[t]
        for n in range(len(zs)):
            np.testing.assert_allclose(f.z[n], zs[n], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(f.a[n], as_[n], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f.y_hat, as_[-1], rtol=1e-12, atol=1e-12)
        want = np_loss_from(zs[-1], as_[-1], y, net["loss"])
        assert f.loss == pytest.approx(want, rel=1e-10, abs=1e-12)


# ----------------------------------------------------------------- mean, L2, cost, update


@PROPERTY
@given(net=networks(), beta=st.sampled_from([0.0, 0.01, 0.3]), l2_bias=st.booleans(),
       lr=st.sampled_from([0.05, 0.5, 1.0]))
def test_mean_gradient_l2_cost_and_update(net, beta, l2_bias, lr):
    assume(away_from_kinks(net))
    trace = bpnn_steps.solve(make_problem(net, learning_rate=lr, l2=beta, l2_bias=l2_bias))
    step = trace.steps[0]
    T = len(net["x"])
    losses = my_losses(net["weights"], net)
    fds = [fd_gradients(net["weights"], x, y, net["activations"], net["loss"], EPS)
           for x, y in zip(net["x"], net["y"])]
    jmax = max(abs(j) for j in losses)

    regs = []
    for w in net["weights"]:
        r = np.array(w, dtype=float)
        if not l2_bias:
            r[0, :] = 0.0
        regs.append(r)
    penalty = 0.5 * beta * sum(float((r ** 2).sum()) for r in regs)

    # cost = mean J + 1/2 beta sum w^2 over the right weights
    assert step.cost == pytest.approx(sum(losses) / T + penalty, rel=1e-10, abs=1e-12)
    assert step.l2_cost == pytest.approx(penalty, rel=1e-12, abs=1e-15)
    assert step.data_cost == pytest.approx(sum(losses) / T, rel=1e-10, abs=1e-12)

    for n, w in enumerate(net["weights"]):
        mean_fd = sum(fd[n] for fd in fds) / T
        assert_grad_close(step.mean_grad[n], mean_fd, jmax, f"mean gradient W{n + 1}")
        np.testing.assert_allclose(step.l2_grad[n], beta * regs[n], rtol=1e-14, atol=0)
        # The update from the finite-difference gradient (loose) ...
        want = np.asarray(w) - lr * (mean_fd + beta * regs[n])
        tol = lr * fd_tolerance(mean_fd, jmax)
        assert np.all(np.abs(step.weights_after[n] - want) <= tol), f"update of W{n + 1}"
        # ... and exactly the contract's formula applied to the engine's mean gradient.
        exact = np.asarray(w) - lr * (np.asarray(step.mean_grad[n]) + beta * regs[n])
        np.testing.assert_allclose(step.weights_after[n], exact, rtol=1e-13, atol=1e-15)
        if not l2_bias and beta > 0:
            # The bias row moves by the data gradient only.
            np.testing.assert_allclose(step.weights_after[n][0],
                                       np.asarray(w)[0] - lr * np.asarray(step.mean_grad[n])[0],
                                       rtol=1e-13, atol=1e-15)

    # final cost: whole data set under the new weights, L2 term included.
    final_losses = my_losses(trace.final_weights, net)
    final_regs = [np.array(w) for w in trace.final_weights]
    if not l2_bias:
        for r in final_regs:
            r[0, :] = 0.0
    final_penalty = 0.5 * beta * sum(float((r ** 2).sum()) for r in final_regs)
    assert trace.final_cost == pytest.approx(sum(final_losses) / T + final_penalty,
                                             rel=1e-10, abs=1e-12)


def test_l2_example_by_hand():
    """A 1-1 linear network small enough to do on paper.

    W = [[b], [w]] = [[0.5], [2]], x = 1, y = 0, mse, beta = 0.1, lambda = 0.1.
    yhat = 0.5 + 2 = 2.5, J = 3.125, dJ/db = 2.5, dJ/dw = 2.5.
    l2_bias true:  cost = 3.125 + 0.05 (0.25 + 4) = 3.3375;
                   b = 0.5 - 0.1 (2.5 + 0.05) = 0.245, w = 2 - 0.1 (2.5 + 0.2) = 1.73
    l2_bias false: cost = 3.125 + 0.05 * 4 = 3.325;
                   b = 0.5 - 0.1 * 2.5 = 0.25,          w = 1.73
    """
    for l2_bias, cost, b in ((True, 3.3375, 0.245), (False, 3.325, 0.25)):
        p = Problem(layers=(1, 1), activations=("linear",), x=np.array([[1.0]]),
                    y=np.array([[0.0]]), weights=(np.array([[0.5], [2.0]]),),
                    training=Training(learning_rate=0.1, l2=0.1, l2_bias=l2_bias))
        step = bpnn_steps.solve(p).steps[0]
        assert step.cost == pytest.approx(cost, rel=1e-14)
        np.testing.assert_allclose(step.weights_after[0], [[b], [1.73]], rtol=1e-14)


# ----------------------------------------------------------------- methods and schedules


def expected_batches(T, method, batch_size, epochs):
    size = {"batch": T, "sgd": 1}.get(method, batch_size)
    out = []
    for e in range(1, epochs + 1):
        for start in range(0, T, size):
            out.append((e, tuple(range(start + 1, min(start + size, T) + 1))))
    return out


def ref_of(net, trace_orders=None, **tr):
    return ref_solve(layers=list(net["layers"]), acts=list(net["activations"]),
                     loss=net["loss"], x=net["x"].tolist(), y=net["y"].tolist(),
                     weights=[w.tolist() for w in net["weights"]], lr=tr["learning_rate"],
                     method=tr["method"], batch_size=tr.get("batch_size"),
                     epochs=tr["epochs"], l2=tr.get("l2", 0.0),
                     l2_bias=tr.get("l2_bias", True), orders=trace_orders)


def assert_trace_matches_ref(trace, ref):
    assert len(trace.steps) == len(ref["steps"])
    for step, want in zip(trace.steps, ref["steps"]):
        assert step.epoch == want["epoch"]
        assert list(step.samples) == want["samples"]
        for n, w in enumerate(step.weights_after):
            np.testing.assert_allclose(w, want["weights_after"][f"W{n + 1}"],
                                       rtol=1e-9, atol=1e-12)
        assert step.cost == pytest.approx(want["cost"], rel=1e-9, abs=1e-12)
    for n, w in enumerate(trace.final_weights):
        np.testing.assert_allclose(w, ref["final"]["weights"][f"W{n + 1}"], rtol=1e-9,
                                   atol=1e-12)


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(net=networks(max_T=5), method=st.sampled_from(["batch", "sgd", "minibatch"]),
       batch_size=st.integers(1, 6), epochs=st.integers(1, 3),
       beta=st.sampled_from([0.0, 0.1]), l2_bias=st.booleans())
def test_methods_schedule_and_updates(net, method, batch_size, epochs, beta, l2_bias):
    # Keep the logs finite when yhat could saturate at 0 or 1 (reference uses plain logs).
    assume(net["loss"] == "mse")
    T = len(net["x"])
    tr = dict(learning_rate=0.2, method=method, epochs=epochs, l2=beta, l2_bias=l2_bias)
    if method == "minibatch":
        tr["batch_size"] = batch_size
    trace = bpnn_steps.solve(make_problem(net, **tr))
    want = expected_batches(T, method, batch_size, epochs)
    assert [(s.epoch, s.samples) for s in trace.steps] == want
    assert [s.index for s in trace.steps] == list(range(1, len(want) + 1))
    for prev, nxt in zip(trace.steps, trace.steps[1:]):
        for a, b in zip(prev.weights_after, nxt.weights_before):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(trace.steps[0].weights_before, net["weights"]):
        np.testing.assert_array_equal(a, b)
    # relu kinks can make the reference take the other side; only compare away from them.
    if "relu" not in net["activations"]:
        assert_trace_matches_ref(trace, ref_of(net, **tr))


@pytest.mark.parametrize("method,batch_size,expected", [
    ("batch", None, [(1, 2, 3, 4, 5)]),
    ("sgd", None, [(1,), (2,), (3,), (4,), (5,)]),
    ("minibatch", 2, [(1, 2), (3, 4), (5,)]),
    ("minibatch", 5, [(1, 2, 3, 4, 5)]),
    ("minibatch", 7, [(1, 2, 3, 4, 5)]),
])
def test_batch_composition_in_data_order(method, batch_size, expected):
    x = np.linspace(-1, 1, 5).reshape(5, 1)
    p = Problem(layers=(1, 2, 1), activations=("tanh", "linear"), x=x, y=x ** 2,
                weights=(np.full((2, 2), 0.1), np.full((3, 1), 0.2)),
                training=Training(learning_rate=0.1, method=method, batch_size=batch_size,
                                  epochs=2))
    trace = bpnn_steps.solve(p)
    assert [s.samples for s in trace.steps] == expected * 2
    assert [s.epoch for s in trace.steps] == [1] * len(expected) + [2] * len(expected)


def shuffled_problem(seed, method="minibatch", batch_size=3, epochs=4, T=8):
    x = np.linspace(-1, 1, T).reshape(T, 1)
    return Problem(layers=(1, 2, 1), activations=("sigmoid", "linear"), x=x,
                   y=np.sin(2 * x), weights=(np.array([[0.1, -0.2], [0.3, 0.4]]),
                                             np.array([[0.05], [0.5], [-0.5]])),
                   training=Training(learning_rate=0.5, method=method, batch_size=batch_size,
                                     epochs=epochs, shuffle=True, seed=seed))


def epoch_orders(trace, epochs):
    return [[t for s in trace.steps if s.epoch == e for t in s.samples]
            for e in range(1, epochs + 1)]


@pytest.mark.parametrize("method,batch_size", [("sgd", None), ("minibatch", 3),
                                               ("batch", None)])
def test_shuffle_is_seeded_permutation_each_epoch(method, batch_size):
    T, epochs = 8, 4
    a = bpnn_steps.solve(shuffled_problem(7, method, batch_size, epochs, T))
    b = bpnn_steps.solve(shuffled_problem(7, method, batch_size, epochs, T))
    assert [s.samples for s in a.steps] == [s.samples for s in b.steps]
    for wa, wb in zip(a.final_weights, b.final_weights):
        np.testing.assert_array_equal(wa, wb)
    orders = epoch_orders(a, epochs)
    for order in orders:
        assert sorted(order) == list(range(1, T + 1))
    # Batches are consecutive slices of the epoch's order, sized per the method.
    size = {"batch": T, "sgd": 1}.get(method, batch_size)
    for e in range(1, epochs + 1):
        steps = [s for s in a.steps if s.epoch == e]
        assert [len(s.samples) for s in steps] == \
            [min(size, T - i) for i in range(0, T, size)]
    # Reshuffled every epoch (4 epochs of 8 samples: equal orders are not chance).
    assert len({tuple(o) for o in orders}) > 1
    assert any(o != list(range(1, T + 1)) for o in orders)
    # Another seed, another order.
    c = bpnn_steps.solve(shuffled_problem(8, method, batch_size, epochs, T))
    assert epoch_orders(c, epochs) != orders
    # The numbers follow the order used: the reference fed the same orders agrees.
    net = dict(layers=(1, 2, 1), activations=("sigmoid", "linear"), loss="mse",
               x=shuffled_problem(7).x, y=shuffled_problem(7).y,
               weights=shuffled_problem(7).weights)
    tr = dict(learning_rate=0.5, method=method, batch_size=batch_size, epochs=epochs)
    ref = ref_of(net, trace_orders=[[t - 1 for t in o] for o in orders], **tr)
    assert_trace_matches_ref(a, ref)


def test_shuffle_false_keeps_data_order_every_epoch():
    p = shuffled_problem(7, "sgd", None, 3, 5).with_training(shuffle=False)
    trace = bpnn_steps.solve(p)
    assert epoch_orders(trace, 3) == [[1, 2, 3, 4, 5]] * 3


# ----------------------------------------------------------------- the same through YAML


def yaml_of(net, **training) -> str:
    def matrix(a):
        return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]"
                               for row in np.asarray(a)) + "]"
    lines = [
        "network:",
        f"  layers: [{', '.join(str(n) for n in net['layers'])}]",
        f"  activations: [{', '.join(net['activations'])}]",
        f"loss: {net['loss']}",
        "data:",
        f"  x: {matrix(net['x'])}",
        f"  y: {matrix(net['y'])}",
        "weights:",
        *[f"  W{n + 1}: {matrix(w)}" for n, w in enumerate(net["weights"])],
        "training:",
        *[f"  {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in training.items()],
    ]
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(30), deadline=None)
@given(net=networks(), beta=st.sampled_from([0.0, 0.25]), l2_bias=st.booleans())
def test_yaml_problem_gives_the_same_trace(net, beta, l2_bias):
    """Every float written with repr() reads back exactly, and the YAML route
    gives the same calculation as the dataclass route."""
    training = dict(learning_rate=0.25, method="batch", epochs=1, l2=beta, l2_bias=l2_bias)
    problem = bpnn_steps.parse_problem(yaml_of(net, **training), name="gen.yaml")
    assert problem.layers == tuple(net["layers"])
    assert problem.activations == tuple(net["activations"])
    np.testing.assert_array_equal(problem.x, net["x"])
    np.testing.assert_array_equal(problem.y, net["y"])
    for a, b in zip(problem.weights, net["weights"]):
        np.testing.assert_array_equal(a, b)
    assert problem.training.l2 == beta and problem.training.l2_bias is l2_bias
    via_yaml = bpnn_steps.solve(problem).to_dict()
    direct = bpnn_steps.solve(make_problem(net, **training)).to_dict()
    assert via_yaml["steps"] == direct["steps"]
    assert via_yaml["final"] == direct["final"]
