"""train() against the step engine: the same numbers over whole runs.

The reference is bpnn_steps.engine.solve (the traced step engine).  The numpy
path reuses the engine's own functions, so it must agree exactly; the compiled
kernel re-implements the same operations, so it must agree to 1e-12 (relative).
"""

from __future__ import annotations

import functools
import os
import signal

import numpy as np
import pytest

from bpnn_steps.maths.engine import shuffle_rng, cost, solve, update_schedule
from bpnn_steps.errors import ProblemError
from bpnn_steps.model.problem import Problem, Training
from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.maths.training import epoch_orders, record_schedule, train

RTOL = 1e-12


def random_problem(layers, activations, loss="mse", *, samples=10, method="batch",
                   batch_size=None, shuffle=False, l2=0.0, l2_bias=True, epochs=40,
                   learning_rate=0.1, seed=0, test_samples=0) -> Problem:
    rng = np.random.default_rng(seed)
    n, k = layers[0], layers[-1]

    def targets(count):
        if loss == "mse":
            return rng.normal(size=(count, k))
        if loss == "bce":
            return (rng.random((count, k)) < 0.5).astype(float)
        return np.eye(k)[rng.integers(0, k, size=count)]

    x = rng.normal(size=(samples, n))
    y = targets(samples)
    weights = tuple(rng.uniform(-0.5, 0.5, size=(a + 1, b))
                    for a, b in zip(layers[:-1], layers[1:]))
    extra = {}
    if test_samples:
        extra = dict(x_test=rng.normal(size=(test_samples, n)), y_test=targets(test_samples))
    return Problem(layers=tuple(layers), activations=tuple(activations), loss=loss, x=x, y=y,
                   weights=weights,
                   training=Training(learning_rate=learning_rate, method=method,
                                     batch_size=batch_size, epochs=epochs, l2=l2,
                                     l2_bias=l2_bias, shuffle=shuffle, seed=seed),
                   **extra)


def assert_same_run(result, trace, problem, rtol):
    """Final weights and every recorded cost of ``result`` equal the trace's."""
    assert result.epochs_run == problem.training.epochs
    assert len(result.weights) == len(trace.final_weights)
    for got, ref in zip(result.weights, trace.final_weights):
        assert got.shape == ref.shape
        scale = max(1.0, float(np.max(np.abs(ref))))
        assert np.max(np.abs(got - ref)) <= rtol * scale, (got, ref)
    ref_costs = np.array(trace.epoch_costs)
    assert result.cost_epochs[0] == 0
    assert result.costs[0] == cost(problem, problem.weights)
    recorded = result.cost_epochs[1:]
    assert recorded[-1] == problem.training.epochs
    got = result.costs[1:]
    ref = ref_costs[recorded - 1]
    assert np.all(np.abs(got - ref) <= rtol * np.abs(ref)), np.max(np.abs(got / ref - 1))
    assert abs(result.final_cost - trace.final_cost) <= rtol * abs(trace.final_cost)


# One case per (method, loss, activations, depth) combination worth telling
# apart; each compiles one kernel shape.
CASES = {
    "sgd-mse-sigmoid-linear": dict(layers=(1, 8, 1), activations=("sigmoid", "linear"),
                                   method="sgd", learning_rate=0.2, epochs=60),
    "batch-mse-sigmoid-linear": dict(layers=(1, 8, 1), activations=("sigmoid", "linear"),
                                     method="batch", learning_rate=0.3, epochs=200),
    "minibatch-uneven-shuffle-l2": dict(layers=(1, 8, 1), activations=("sigmoid", "linear"),
                                        method="minibatch", batch_size=3, shuffle=True,
                                        l2=0.01, epochs=50, seed=3),
    "minibatch-ce-tanh-relu-softmax": dict(layers=(2, 3, 3, 2),
                                           activations=("tanh", "relu", "softmax"), loss="ce",
                                           method="minibatch", batch_size=4, shuffle=True,
                                           l2=0.01, l2_bias=False, epochs=60, seed=4),
    "sgd-bce-relu-linear-sigmoid-shuffle-l2": dict(layers=(2, 4, 3, 1),
                                                   activations=("relu", "linear", "sigmoid"),
                                                   loss="bce", method="sgd", shuffle=True,
                                                   l2=0.005, epochs=60, seed=5),
    "batch-mse-softmax-no-hidden": dict(layers=(3, 2), activations=("softmax",),
                                        method="batch", learning_rate=0.5, epochs=100, seed=6),
    # Updates over 1024 samples or more run in blocks (numpy's exp and tanh).
    "blocked-batch-mse-sigmoid-linear": dict(layers=(1, 8, 1),
                                             activations=("sigmoid", "linear"),
                                             samples=1500, method="batch", learning_rate=0.3,
                                             epochs=15, seed=8, test_samples=300),
    "blocked-minibatch-bce-tanh-sigmoid": dict(layers=(2, 4, 3, 1),
                                               activations=("tanh", "sigmoid", "sigmoid"),
                                               loss="bce", samples=2500, method="minibatch",
                                               batch_size=1024, shuffle=True, l2=0.01,
                                               learning_rate=0.5, epochs=6, seed=9),
    "blocked-batch-ce-relu-softmax": dict(layers=(2, 3, 3), activations=("relu", "softmax"),
                                          loss="ce", samples=1100, method="batch", l2=0.01,
                                          l2_bias=False, learning_rate=0.5, epochs=12,
                                          seed=10),
}
# Other tests reuse the first shape, so that the suite compiles few kernels.
SGD_181 = dict(layers=(1, 8, 1), activations=("sigmoid", "linear"), method="sgd")


def compact_solve(problem: Problem):
    """The step engine's trace with every update kept compact: the same weights and
    costs (tests/test_solve_memory.py), without the per-sample detail that nothing
    here reads (over 1,000 samples per update in the blocked cases)."""
    return solve(problem, detailed=lambda count: ())


@functools.cache
def reference_run(case: str):
    """(problem, the step engine's trace) of a case: both kernels are compared with the
    same trace, so it is solved once (Problem and Trace are frozen, arrays read-only)."""
    problem = random_problem(**CASES[case])
    return problem, compact_solve(problem)


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_train_equals_step_engine(case, kernel):
    problem, trace = reference_run(case)
    result = train(problem, kernel=kernel, cost_every=1)
    assert result.kernel == kernel
    # The numpy path runs the engine's own functions: exactly the same numbers.
    assert_same_run(result, trace, problem, 0.0 if kernel == "numpy" else RTOL)
    assert len(result.costs) == problem.training.epochs + 1


@pytest.mark.parametrize("name,epochs", [("line_1101_gd", 150), ("sine_181_sgd", 40),
                                         ("lecture_122", 30)])
def test_bundled_problems_equal_step_engine(name, epochs):
    problem = load_problem(name).with_training(epochs=epochs)
    trace = compact_solve(problem)
    for kernel in ("numpy", "compiled"):
        result = train(problem, kernel=kernel, cost_every=1)
        assert_same_run(result, trace, problem, 0.0 if kernel == "numpy" else RTOL)


def test_lecture_example_first_update_by_hand():
    # One batch step of the lecture's 1-2-2 example, independently of the engine:
    # W2 after = [[2.244, 2.244], [1.314, 1.308], [1.314, 1.308]] (rounded in the notes).
    problem = load_problem("lecture_122")
    for kernel in ("numpy", "compiled"):
        result = train(problem, kernel=kernel)
        np.testing.assert_allclose(result.weights[1], [[2.24379, 2.24379], [1.31432, 1.30817],
                                                       [1.31432, 1.30817]], atol=5e-6)
        np.testing.assert_allclose(result.weights[0], [[0.20532, 0.20532],
                                                       [0.26992, 0.26992]], atol=5e-6)
        # the cost before training: (1/2)(J1 + J2) = 19.628 in the notes
        assert result.costs[0] == pytest.approx(19.6284, abs=5e-4)


def test_test_error_history_matches_hand_calculation():
    problem = random_problem(**SGD_181, samples=6, epochs=5, test_samples=4)
    result = train(problem, kernel="compiled", cost_every=1)
    assert result.test_epochs.tolist() == [0, 1, 2, 3, 4, 5]

    def net(weights, x):
        w1, w2 = weights
        return (1.0 / (1.0 + np.exp(-(x @ w1[1:] + w1[0])))) @ w2[1:] + w2[0]

    # final test error: mean over the test set of 1/2 (yhat - y)^2, by hand
    yhat = net(result.weights, problem.x_test)
    expected = np.mean(0.5 * np.sum((yhat - problem.y_test) ** 2, axis=1))
    assert result.test_errors[-1] == pytest.approx(expected, rel=1e-12)
    assert result.test_error == pytest.approx(expected, rel=1e-12)
    # before training, with the initial weights
    yhat0 = net(problem.weights, problem.x_test)
    assert result.test_errors[0] == pytest.approx(
        np.mean(0.5 * np.sum((yhat0 - problem.y_test) ** 2, axis=1)), rel=1e-12)


def test_epoch_orders_draw_what_update_schedule_draws():
    training = Training(learning_rate=0.1, method="sgd", epochs=25, shuffle=True, seed=11)
    expected = [batch for _, batch in update_schedule(7, training, shuffle_rng(training))]
    rng = shuffle_rng(training)
    got = np.concatenate([epoch_orders(rng, 7, 10), epoch_orders(rng, 7, 15)])
    assert np.array_equal(got, np.array(expected).reshape(25, 7))
    assert epoch_orders(None, 4, 3).tolist() == [[0, 1, 2, 3]]


def test_seed_gives_the_same_run_and_another_seed_another():
    base = dict(**SGD_181, shuffle=True, epochs=30)
    first = train(random_problem(**base, seed=1), kernel="compiled")
    again = train(random_problem(**base, seed=1), kernel="compiled")
    for a, b in zip(first.weights, again.weights):
        assert np.array_equal(a, b)
    assert np.array_equal(first.costs, again.costs)
    p = random_problem(**base, seed=1)
    other = train(p.with_training(seed=2), kernel="compiled")   # same data, other shuffle
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_record_schedule_thins_long_sgd_runs_but_keeps_the_last_epoch():
    p = random_problem(**SGD_181, samples=20, epochs=100_000)
    cost_epochs, test_epochs = record_schedule(p)
    assert cost_epochs[-1] == 100_000
    assert 1000 < len(cost_epochs) < 100_000
    assert np.all(np.diff(cost_epochs) > 0)
    assert len(test_epochs) == 0
    # full-batch GD: every epoch's cost comes free with the next forward pass
    q = p.with_training(method="batch")
    assert record_schedule(q)[0].tolist() == list(range(1, 100_001))
    # a short run: every epoch
    r = p.with_training(epochs=100)
    assert record_schedule(r)[0].tolist() == list(range(1, 101))
    assert record_schedule(p, cost_every=25_000)[0].tolist() == [25_000, 50_000, 75_000,
                                                                100_000]


def test_thinned_history_is_a_subset_of_the_full_one():
    p = random_problem(**SGD_181, epochs=90)
    full = train(p, kernel="compiled", cost_every=1)
    thin = train(p, kernel="compiled", cost_every=7)
    assert thin.cost_epochs.tolist() == [0] + list(range(7, 90, 7)) + [90]
    assert np.array_equal(thin.costs, full.costs[thin.cost_epochs])
    for a, b in zip(thin.weights, full.weights):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
def test_ctrl_c_stops_cleanly_and_keeps_completed_epochs(kernel):
    p = random_problem(**SGD_181, samples=20, epochs=100_000, seed=2)
    calls = []
    # (what it was: Python's own handler, or "ignore" where pytest was started in the
    # background)
    before = signal.getsignal(signal.SIGINT)

    def press_ctrl_c(progress):
        calls.append(progress.epoch)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    result = train(p, kernel=kernel, progress=press_ctrl_c)
    assert result.interrupted
    assert 1 <= result.epochs_run < 100_000
    assert result.epochs_run == calls[0]
    # the weights are those of a run of exactly that many epochs
    reference = train(p.with_training(epochs=result.epochs_run), kernel=kernel)
    assert not reference.interrupted
    for a, b in zip(result.weights, reference.weights):
        assert np.array_equal(a, b)
    assert result.final_cost == pytest.approx(reference.final_cost, rel=RTOL)
    assert result.final_cost == pytest.approx(cost(p, result.weights), rel=RTOL)
    assert signal.getsignal(signal.SIGINT) is before       # put back as it was


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
def test_divergence_is_reported_not_returned(kernel):
    p = random_problem((1, 8, 1), ("sigmoid", "linear"), method="batch", learning_rate=1e6,
                       epochs=50)
    with pytest.raises(ProblemError, match="diverged.*smaller learning rate"):
        train(p, kernel=kernel)


def test_auto_kernel_stays_interpreted_for_small_runs():
    small = load_problem("lecture_122")
    assert train(small).kernel == "numpy"
    big = load_problem("sine_181_sgd")
    from bpnn_steps.maths.training import choose_kernel
    assert choose_kernel(big) == "compiled"


def test_kernel_mode_follows_the_batch_size():
    from bpnn_steps.maths.training import kernel_mode

    p = random_problem(**SGD_181, samples=3000)
    assert kernel_mode(p) == "sample"
    assert kernel_mode(p.with_training(method="minibatch", batch_size=10)) == "batch"
    assert kernel_mode(p.with_training(method="minibatch", batch_size=1024)) == "blocked"
    assert kernel_mode(p.with_training(method="batch")) == "blocked"


def test_auto_kernel_compiles_a_new_shape_only_for_long_runs(monkeypatch):
    from bpnn_steps.maths import kernels
    from bpnn_steps.maths.training import choose_kernel, estimated_numpy_seconds

    p = random_problem(**SGD_181, samples=40, epochs=400)
    assert 0.4 < estimated_numpy_seconds(p) < 3.0
    monkeypatch.setattr(kernels, "is_cached", lambda *a: False)
    assert choose_kernel(p) == "numpy"                          # compiling would cost more
    assert choose_kernel(p.with_training(epochs=40_000)) == "compiled"
    monkeypatch.setattr(kernels, "is_cached", lambda *a: True)
    assert choose_kernel(p) == "compiled"                       # loading is cheap


def test_is_cached_sees_compiled_shapes_only(tmp_path, monkeypatch):
    from bpnn_steps.maths import kernels

    train(random_problem(**SGD_181, epochs=2), kernel="compiled")
    assert kernels.is_cached((1, 8, 1), ("sigmoid", "linear"), "mse", "sample")
    # An empty kernel folder, so that a shape compiled earlier on this machine (in the
    # user's ~/.cache) cannot make the answer True.
    monkeypatch.setenv("BPNN_STEPS_KERNEL_DIR", str(tmp_path / "kernels"))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert not kernels.is_cached((1, 7, 3), ("tanh", "linear"), "mse", "sample")


def test_result_arrays_are_read_only():
    result = train(load_problem("lecture_122"))
    with pytest.raises(ValueError):
        result.weights[0][0, 0] = 1.0
    with pytest.raises(ValueError):
        result.costs[0] = 1.0


BLOCKED_SHAPE = "((2, 5, 1), ('tanh', 'linear'), 'mse', 'blocked')"


def test_is_cached_sees_a_compiled_blocked_kernel(tmp_path, monkeypatch):
    """Full batches of 1,024+ samples run the blocked kernel, which has no train_chunk;
    once it has run, --kernel auto must see it as cached (empty cache folders, so
    nothing compiled earlier on this machine counts).  In this process, with the
    loaded kernels forgotten before each question: what a fresh process knows is
    the files, which is all that is_cached may go by then."""
    import numba

    from bpnn_steps.maths import kernels
    from bpnn_steps.maths.training import kernel_mode

    monkeypatch.setenv("BPNN_STEPS_KERNEL_DIR", str(tmp_path / "kernels"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    # numba read NUMBA_CACHE_DIR when it was imported; it writes where its config says
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba"))
    shape = eval(BLOCKED_SHAPE)
    rng = np.random.default_rng(0)
    p = Problem(layers=(2, 5, 1), activations=("tanh", "linear"), loss="mse",
                x=rng.normal(size=(1100, 2)), y=rng.normal(size=(1100, 1)),
                weights=(rng.normal(size=(3, 5)), rng.normal(size=(6, 1))),
                training=Training(learning_rate=0.01, method="batch", epochs=2))
    assert kernel_mode(p) == "blocked"
    monkeypatch.setattr(kernels, "_LOADED", {})
    assert not kernels.is_cached(*shape)
    train(p, kernel="compiled")
    monkeypatch.setattr(kernels, "_LOADED", {})
    assert kernels.is_cached(*shape)
    assert any((tmp_path / "numba").rglob("*.nbi"))        # numba's files, where we put them


def test_record_schedule_does_not_grow_with_the_epoch_count():
    """10**12 epochs (batch or sgd): at most about MAX_RECORDS recorded epochs, the
    last epoch among them; nothing of the size of the epoch count is made."""
    from bpnn_steps.maths.training import MAX_RECORDS, History

    for method in ("batch", "sgd"):
        p = random_problem(**SGD_181, samples=20, epochs=10**12, test_samples=5)
        p = p.with_training(method=method)
        cost_epochs, test_epochs = record_schedule(p)
        for epochs in (cost_epochs, test_epochs):
            assert 0 < len(epochs) <= MAX_RECORDS + 1
            assert epochs[-1] == 10**12 and np.all(np.diff(epochs) > 0)
        history = History(cost_epochs)
        stride = int(cost_epochs[0])
        flags = history.flags(1, 3 * stride + 1)
        assert np.flatnonzero(flags).tolist() == [stride - 1, 2 * stride - 1, 3 * stride - 1]
        history.put(2 * stride, 1.5)
        history.put(2 * stride + 1, 9.0)               # not a recorded epoch: ignored
        assert history.get(2 * stride) == 1.5 and history.recorded(10**12)
        epochs, values = history.upto(2 * stride)
        assert epochs.tolist() == [stride, 2 * stride] and values[1] == 1.5
