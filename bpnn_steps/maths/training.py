"""Training over many epochs: the step engine's update rule, without the trace.

``train(problem)`` runs the problem's training settings and keeps what a long
run needs: the cost after every epoch, the held-out error, the final weights.
It computes exactly what :func:`bpnn_steps.engine.solve` computes for the same
problem (the same updates in the same order, the same cost), so the numbers
agree with the step trace to rounding.

Two implementations of the one update rule:

* ``numpy``: the engine's own functions (feed_forward, back_propagate,
  l2_penalty, cost) applied update by update, through the engine's own
  update_schedule.  Bit for bit the numbers of ``solve``; used for small runs,
  which then never pay for importing or compiling anything.
* ``compiled``: :mod:`bpnn_steps.kernels`, the same operations as scalar loops
  compiled by numba (cached on disk), for runs where the interpreter's
  per-update overhead would dominate.  Epoch orders come from the engine's
  shuffle generator, drawn the same way as update_schedule draws them.

The kernel runs in chunks of epochs, so progress can be shown and Ctrl-C stops
the run cleanly between chunks, keeping every completed epoch.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from .losses import LOSSES, loss_scale
from .engine import (back_propagate, cost, divergence_error, feed_forward,
                     l2_penalty, mean_gradient, overflow_error, sample_losses, settings_of,
                     shuffle_rng, update_schedule, updated_weights)
from ..errors import ProblemError
from ..model.conventions import Combine, UpdateOrder
from ..model.problem import Problem

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from .activations import Array, Indices
    from .kernels import KernelModule

    Flags = NDArray[np.bool_]     # one per epoch of a chunk: record after it?
    # What each implementation returns: (final weights, cost after each epoch, test
    # error after each epoch (nan where not recorded), epochs run, updates, seconds).
    Outcome = tuple[list[Array], int, int, float]

KERNELS = ("auto", "compiled", "numpy")
# Estimated seconds of interpreted work above which the compiled kernel is used:
# when the network shape's kernel is cached (importing numba and loading it costs
# about 0.3-0.5 s), and when it would first have to be compiled (a few seconds).
AUTO_THRESHOLD_SECONDS = 0.4
AUTO_THRESHOLD_COLD_SECONDS = 3.0
# Rough costs of the numpy path, measured on a 2-core machine.
_NUMPY_SECONDS_PER_UPDATE = 60e-6
_NUMPY_SECONDS_PER_SAMPLE_WEIGHT = 12e-9
_NUMPY_SECONDS_PER_EPOCH_COST = 20e-6
# The cost (and test error) after every epoch takes one forward pass over the
# data per epoch, which would slow per-sample SGD by over half.  It is recorded
# after every epoch unless that costs more than this share of the training work
# (beyond a floor of sample-forward passes that is always allowed); then after
# every k-th epoch, and always after the last.  Full-batch GD gets the cost of
# every epoch for free (from the next update's forward pass).
RECORD_SHARE = 0.05
RECORD_FLOOR = 300_000
# At most about this many recorded epochs, however long the run: the history (and
# everything else training holds) does not grow with the epoch count.
MAX_RECORDS = 1_000_000
_CHUNK_SECONDS = 0.1              # kernel work between progress updates / Ctrl-C checks
# Updates over at least this many samples go through the network in blocks
# (numpy's vectorised exp and tanh, compiled loops for the rest).
BLOCKED_MIN_BATCH = 1024
BLOCK = 4096

ProgressFn = Callable[["Progress"], None]
# What a SIGINT handler can be (signal.signal's argument and result).
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@dataclass(frozen=True)
class Progress:
    """Where a run is, passed to the progress callback now and then."""

    epoch: int                 # epochs completed
    epochs: int                # epochs asked for
    cost: float                # the last recorded cost
    sample_updates: int        # samples processed so far (one per sample per update)
    seconds: float


def _ro(a: ArrayLike) -> Array:
    out = np.array(a, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


def _ro_epochs(a: ArrayLike) -> Indices:
    out = np.array(a, dtype=np.int64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What a training run produced.  Arrays are read-only.

    ``cost_epochs``/``costs``: the whole-data cost (L2 term included) after each
    recorded epoch, epoch 0 being the start; ``costs[i]`` is solve's
    ``epoch_costs[cost_epochs[i] - 1]`` for the same problem.
    ``test_epochs``/``test_errors``: the mean J over the test set (no L2 term).
    """

    problem: Problem                       # the problem as trained (settings applied)
    weights: tuple[Array, ...]             # final W[1..L]
    cost_epochs: Indices
    costs: Array
    test_epochs: Indices
    test_errors: Array
    epochs_run: int
    updates: int
    sample_updates: int
    seconds: float
    kernel: str                            # "compiled" or "numpy"
    final_cost: float                      # cost after the last epoch run
    train_error: float                     # mean J over the training set (no L2 term)
    test_error: float | None = None        # mean J over the test set (no L2 term)
    train_accuracy: float | None = None    # classification only (bce / ce)
    test_accuracy: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost_epochs", _ro_epochs(self.cost_epochs))
        object.__setattr__(self, "costs", _ro(self.costs))
        object.__setattr__(self, "test_epochs", _ro_epochs(self.test_epochs))
        object.__setattr__(self, "test_errors", _ro(self.test_errors))
        object.__setattr__(self, "weights", tuple(_ro(w) for w in self.weights))

    @property
    def initial_cost(self) -> float:
        return float(self.costs[0])

    @property
    def interrupted(self) -> bool:
        return self.epochs_run < self.problem.training.epochs

    @property
    def updates_per_second(self) -> float:
        return self.sample_updates / self.seconds if self.seconds > 0 else math.inf

    def trained_problem(self) -> Problem:
        """The problem with the trained weights as its initial weights."""
        return self.problem.with_weights(self.weights)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``bpnn-steps train --format json``."""
        p = self.problem
        return {
            "format": "bpnn-steps training",
            "version": 1,
            "problem": {**settings_of(p).to_dict(),
                        "test_samples": 0 if p.x_test is None else int(p.x_test.shape[0])},
            "epochs_run": self.epochs_run,
            "interrupted": self.interrupted,
            "updates": self.updates,
            "sample_updates": self.sample_updates,
            "seconds": self.seconds,
            "kernel": self.kernel,
            # the conventions in force (CONTRACT section 5), written when they are not
            # the lecture's: a lecture run's document is as it always was
            **({"conventions": p.conventions.to_dict()} if p.conventions.stated else {}),
            "cost_history": {"epochs": self.cost_epochs.tolist(), "costs": self.costs.tolist()},
            "test_error_history": {"epochs": self.test_epochs.tolist(),
                                   "errors": self.test_errors.tolist()},
            "final": {
                "weights": {f"W{n + 1}": w.tolist() for n, w in enumerate(self.weights)},
                "cost": self.final_cost,
                "train_error": self.train_error,
                "test_error": self.test_error,
                "train_accuracy": self.train_accuracy,
                "test_accuracy": self.test_accuracy,
            },
        }


# --------------------------------------------------------------------------- helpers


def epoch_orders(rng: np.random.Generator | None, samples: int, epochs: int) -> Indices:
    """The sample order of each of the next ``epochs`` epochs, one row each.

    Draws from ``rng`` exactly as :func:`engine.update_schedule` does (one
    ``permutation(samples)`` per epoch: ``Generator.permuted`` row by row draws
    the same permutations from the same stream).  Without shuffling: one row
    0..T-1, reused for every epoch.
    """
    if rng is None:
        return np.arange(samples, dtype=np.int64)[None, :]
    rows = np.broadcast_to(np.arange(samples, dtype=np.int64), (epochs, samples)).copy()
    orders: Indices = rng.permuted(rows, axis=1)
    return orders


def j_scale(problem: Problem) -> float:
    """The conventions' factor on the lecture's J_(t) (:func:`losses.loss_scale`)."""
    return loss_scale(LOSSES[problem.loss], problem.conventions, problem.layers[-1])


def mean_loss(problem: Problem, weights: Sequence[Array], x: Array, y: Array) -> float:
    """Mean J_(t) (as the conventions define J_(t)) over (x, y), no L2 term: the
    data term of the cost, or 1/T of it under the conventions' ``cost: sum``."""
    zs, acts = feed_forward(weights, x, problem.activations)
    return float(np.mean(sample_losses(zs[-1], acts[-1], y, problem.loss, j_scale(problem))))


def predict(problem: Problem, weights: Sequence[Array], x: Array) -> Array:
    """y-hat for every row of x."""
    return feed_forward(weights, np.asarray(x, dtype=float), problem.activations)[1][-1]


def accuracy(problem: Problem, weights: Sequence[Array], x: Array, y: Array) -> float | None:
    """Share of samples classified right (bce: y-hat >= 0.5; ce: arg max), else None."""
    spec = LOSSES[problem.loss]
    if not spec.classification:
        return None
    return spec.accuracy(predict(problem, weights, x), y)


def _n_weights(layers: Sequence[int]) -> int:
    return sum((a + 1) * b for a, b in zip(layers[:-1], layers[1:]))


def estimated_numpy_seconds(problem: Problem) -> float:
    """Rough time of the numpy path for this problem's run."""
    t = problem.training
    samples = problem.samples
    per_epoch_updates = math.ceil(samples / t.batch_length(samples))
    test = 0 if problem.x_test is None else problem.x_test.shape[0]
    return t.epochs * (per_epoch_updates * _NUMPY_SECONDS_PER_UPDATE
                       + 2 * _NUMPY_SECONDS_PER_EPOCH_COST
                       + (3 * samples + test) * _n_weights(problem.layers)
                       * _NUMPY_SECONDS_PER_SAMPLE_WEIGHT)


def choose_kernel(problem: Problem, kernel: str = "auto") -> str:
    """"compiled" or "numpy" for this problem ("auto" picks by the size of the run)."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if kernel != "auto":
        return kernel
    estimate = estimated_numpy_seconds(problem)
    if estimate <= AUTO_THRESHOLD_SECONDS:
        return "numpy"
    if estimate > AUTO_THRESHOLD_COLD_SECONDS:
        return "compiled"
    try:
        from .kernels import is_cached
    except ImportError:  # pragma: no cover
        return "numpy"
    warm = is_cached(problem.layers, problem.activations, problem.loss, kernel_mode(problem),
                     problem.conventions)
    return "compiled" if warm else "numpy"


def kernel_mode(problem: Problem) -> str:
    """The compiled kernel's mode: "sample", "batch" or "blocked" (see kernels.kernel).
    The conventions' ``update_order: output_first`` updates layer by layer, which
    the blocked mode cannot: its large batches use the "batch" mode."""
    size = problem.training.batch_length(problem.samples)
    if size == 1:
        return "sample"
    output_first = problem.conventions.update_order is UpdateOrder.OUTPUT_FIRST
    return "blocked" if size >= BLOCKED_MIN_BATCH and not output_first else "batch"


def record_schedule(problem: Problem, cost_every: int | None = None
                    ) -> tuple[Indices, Indices]:
    """(cost epochs, test epochs): the 1-based epochs after which the cost and the
    test error are recorded.  ``cost_every`` forces a stride (1 = every epoch)."""
    t = problem.training
    epochs, samples = t.epochs, problem.samples
    test = 0 if problem.x_test is None else int(problem.x_test.shape[0])
    one_update = t.batch_length(samples) >= samples
    if cost_every is None:
        work = epochs * samples * (1.5 if not one_update else 1.0)
        budget = max(RECORD_FLOOR, RECORD_SHARE * work)
        per_record = (0 if one_update else samples) + test
        stride = max(1, math.ceil(epochs * per_record / budget))
    else:
        stride = max(1, int(cost_every))
    cap = max(1, -(-epochs // MAX_RECORDS))
    stride = max(stride, cap)
    strided = np.arange(stride, epochs + 1, stride, dtype=np.int64)
    if len(strided) == 0 or strided[-1] != epochs:
        strided = np.append(strided, np.int64(epochs))
    if one_update and cost_every is None:
        # Every epoch's cost comes free, up to MAX_RECORDS of them.
        cost_epochs = (np.arange(1, epochs + 1, dtype=np.int64) if cap == 1 else strided)
    else:
        cost_epochs = strided
    test_epochs = strided if test else np.zeros(0, dtype=np.int64)
    return cost_epochs, test_epochs


class History:
    """Values (the cost, the test error) recorded after some epochs: storage for
    the recorded epochs only, so that it never grows with the epoch count."""

    def __init__(self, epochs: Indices) -> None:
        self.epochs = np.asarray(epochs, dtype=np.int64)       # sorted, 1-based
        self.values = np.full(len(self.epochs), np.nan)

    def _slot(self, epoch: int) -> int | None:
        i = int(np.searchsorted(self.epochs, epoch))
        return i if i < len(self.epochs) and self.epochs[i] == epoch else None

    def recorded(self, epoch: int) -> bool:
        """Whether the value after ``epoch`` is recorded."""
        return self._slot(epoch) is not None

    def put(self, epoch: int, value: float) -> None:
        """Record the value after ``epoch`` (ignored for an epoch not recorded)."""
        slot = self._slot(epoch)
        if slot is not None:
            self.values[slot] = value

    def get(self, epoch: int) -> float:
        slot = self._slot(epoch)
        return math.nan if slot is None else float(self.values[slot])

    def flags(self, lo: int, hi: int) -> Flags:
        """For epochs lo .. hi - 1: whether each is recorded."""
        out = np.zeros(hi - lo, dtype=np.bool_)
        a, b = np.searchsorted(self.epochs, [lo, hi])
        out[self.epochs[a:b] - lo] = True
        return out

    def take(self, lo: int, window: Array) -> None:
        """Record the values of epochs lo .. lo + len(window) - 1 from ``window``."""
        a, b = np.searchsorted(self.epochs, [lo, lo + len(window)])
        self.values[a:b] = window[self.epochs[a:b] - lo]

    def upto(self, done: int) -> tuple[Indices, Array]:
        """(epochs, values) recorded after epochs 1 .. done."""
        b = int(np.searchsorted(self.epochs, done, side="right"))
        return self.epochs[:b], self.values[:b]


class _Interrupt:
    """Turns SIGINT into a flag while training runs (main thread only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.flag = False
        self._previous: _Handler = None

    def __enter__(self) -> "_Interrupt":
        if self.enabled:
            try:
                self._previous = signal.signal(signal.SIGINT, self._handle)
            except (ValueError, OSError):
                self.enabled = False
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.flag = True

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)


# --------------------------------------------------------------------------- train


def train(problem: Problem, *, kernel: str = "auto", progress: ProgressFn | None = None,
          cost_every: int | None = None, catch_interrupt: bool = True) -> TrainResult:
    """Train ``problem`` for its ``training.epochs`` epochs.

    kernel: "auto" (compiled for large runs, numpy for small ones), "compiled"
    or "numpy"; both give the numbers of :func:`engine.solve`.
    progress: called with a :class:`Progress` now and then.
    cost_every: record the cost every this many epochs (default: see
    :func:`record_schedule`).
    catch_interrupt: Ctrl-C stops the run between chunks of epochs and the result
    so far is returned (``interrupted`` is then true).
    Raises ProblemError when the weights diverge.
    """
    problem.require_for_solving()
    initial_weights = problem.initial_weights()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if not math.isfinite(cost(problem, initial_weights)):
            raise overflow_error(problem)
    if problem.training.method == "minibatch" and problem.training.batch_size is None:
        raise ProblemError("is required when method is minibatch", file=problem.source,
                           key="training.batch_size")
    chosen = choose_kernel(problem, kernel)
    kmod: KernelModule | None = None
    if chosen == "compiled":
        try:
            from . import kernels
            kmod = kernels.kernel(problem.layers, problem.activations, problem.loss,
                                  kernel_mode(problem), problem.conventions)
        except ImportError:         # numba missing or broken: same numbers, slower
            chosen = "numpy"
    cost_epochs, test_epochs = record_schedule(problem, cost_every)
    record_cost, record_test = History(cost_epochs), History(test_epochs)
    start = time.perf_counter()
    with np.errstate(all="ignore"), _Interrupt(catch_interrupt) as interrupt:
        if kmod is None:
            outcome = _run_numpy(problem, record_cost, record_test, progress, interrupt, start)
        elif kernel_mode(problem) == "blocked":
            outcome = _run_blocked(problem, record_cost, record_test, progress, interrupt,
                                   start, kmod)
        else:
            outcome = _run_compiled(problem, record_cost, record_test, progress, interrupt,
                                    start, kmod)
        weights, done, updates, seconds = outcome
    x, y = problem.data()
    test = problem.test_data()
    with np.errstate(all="ignore"):
        initial_cost = cost(problem, initial_weights)
        final_cost = record_cost.get(done) if done > 0 and record_cost.recorded(done) \
            else cost(problem, weights)
        epochs_c, costs_c = record_cost.upto(done)
        bad = [e for e, c in zip(epochs_c, costs_c) if not math.isfinite(c)]
        if bad or not math.isfinite(final_cost) or \
                not all(np.all(np.isfinite(w)) for w in weights):
            raise divergence_error(problem, f"epoch {int(bad[0]) if bad else max(done, 1)}")
        cost_ep = np.concatenate([[0], epochs_c]).astype(np.int64)
        cost_values = np.concatenate([[initial_cost], costs_c])
        if test is not None:
            epochs_t, tests_t = record_test.upto(done)
            test_ep = np.concatenate([[0], epochs_t]).astype(np.int64)
            test_values = np.concatenate([[mean_loss(problem, initial_weights, *test)],
                                          tests_t])
        else:
            test_ep, test_values = np.zeros(0, np.int64), np.zeros(0)
        train_error = mean_loss(problem, weights, x, y)
        test_error = None if test is None else mean_loss(problem, weights, *test)
        train_acc = accuracy(problem, weights, x, y)
        test_acc = None if test is None else accuracy(problem, weights, *test)
    samples = problem.samples
    return TrainResult(problem=problem, weights=tuple(weights), cost_epochs=cost_ep,
                       costs=cost_values, test_epochs=test_ep, test_errors=test_values,
                       epochs_run=done, updates=updates, sample_updates=done * samples,
                       seconds=seconds, kernel=chosen, final_cost=final_cost,
                       train_error=train_error, test_error=test_error,
                       train_accuracy=train_acc, test_accuracy=test_acc)


def _run_numpy(problem: Problem, record_cost: History, record_test: History,
               progress: ProgressFn | None, interrupt: _Interrupt, start: float) -> Outcome:
    """The engine's own functions, update by update (bit for bit solve's numbers)."""
    t = problem.training
    epochs = t.epochs
    weights: list[Array] = [np.array(w) for w in problem.initial_weights()]
    updates = 0
    done = 0
    last_report = -math.inf      # report after the first epoch, then every 0.1 s
    x, y = problem.data()
    test = problem.test_data()
    lr = problem.learning_rate()
    conventions = problem.conventions
    scale = j_scale(problem)
    output_first = conventions.update_order is UpdateOrder.OUTPUT_FIRST
    schedule = update_schedule(problem.samples, t, shuffle_rng(t))
    pending = next(schedule, None)
    while pending is not None:
        epoch = pending[0]
        while pending is not None and pending[0] == epoch:
            batch = pending[1]
            xb, yb = x[batch], y[batch]
            before = weights
            l2_grad = l2_penalty(before, t.l2, t.l2_bias)[1]

            def new_weights(n: int, grads: Array) -> Array:
                return updated_weights(before[n], mean_gradient(grads, conventions.cost),
                                       l2_grad[n], lr, conventions.update_biases)

            zs, acts = feed_forward(before, xb, problem.activations)
            grads = back_propagate(before, xb, yb, zs, acts, problem.activations,
                                   problem.loss, scale=scale,
                                   through=new_weights if output_first else None)[3]
            weights = [new_weights(n, g) for n, g in enumerate(grads)]
            updates += 1
            pending = next(schedule, None)
        done = epoch
        shown = math.nan
        if record_cost.recorded(epoch):
            shown = cost(problem, weights)
            record_cost.put(epoch, shown)
            if not math.isfinite(shown):
                break
        if test is not None and record_test.recorded(epoch):
            record_test.put(epoch, mean_loss(problem, weights, *test))
        now = time.perf_counter()
        if progress is not None and (now - last_report > 0.1 or epoch == epochs):
            last_report = now
            progress(Progress(epoch, epochs, float(shown), epoch * problem.samples, now - start))
        if interrupt.flag:
            break
    return weights, done, updates, time.perf_counter() - start


def _run_compiled(problem: Problem, record_cost: History, record_test: History,
                  progress: ProgressFn | None, interrupt: _Interrupt, start: float,
                  kmod: KernelModule) -> Outcome:
    """The generated kernel, in chunks of epochs (progress and Ctrl-C between them)."""
    from .kernels import flatten, unflatten

    t = problem.training
    epochs = t.epochs
    samples = problem.samples
    batch = t.batch_length(samples)
    w = flatten(problem.initial_weights())
    train_x, train_y = problem.data()
    x = np.ascontiguousarray(train_x, dtype=float)
    y = np.ascontiguousarray(train_y, dtype=float)
    test = problem.test_data()
    if test is not None:
        xt = np.ascontiguousarray(test[0], dtype=float)
        yt = np.ascontiguousarray(test[1], dtype=float)
    else:
        xt = np.zeros((0, problem.layers[0]))
        yt = np.zeros((0, problem.layers[-1]))
    rng = shuffle_rng(t)
    lr, beta, l2_bias = float(problem.learning_rate()), float(t.l2), bool(t.l2_bias)
    # A call of zero epochs loads the compiled kernel (from numba's cache) before
    # the clock starts, so the rate shown is the training's own.
    nothing, no_flags = np.zeros(0), np.zeros(0, dtype=np.bool_)
    kmod.train_chunk(w, x, y, np.zeros((1, samples), np.int64), batch, lr, beta, l2_bias, 0,
                     no_flags, nothing, xt, yt, no_flags, nothing)
    start = time.perf_counter()
    done = 0
    last_cost = math.nan
    # First chunk small (about 5e4 sample-updates), then sized to _CHUNK_SECONDS.
    chunk = max(1, min(epochs, 50_000 // max(samples, 1)))
    while done < epochs:
        chunk = min(chunk, epochs - done)
        orders = epoch_orders(rng, samples, chunk)
        lo, hi = done + 1, done + 1 + chunk
        # This chunk's flags and values only: nothing the size of the whole run.
        cost_flags, test_flags = record_cost.flags(lo, hi), record_test.flags(lo, hi)
        costs, tests = np.full(chunk, np.nan), np.full(chunk, np.nan)
        tick = time.perf_counter()
        ran = kmod.train_chunk(w, x, y, orders, batch, lr, beta, l2_bias, chunk,
                               cost_flags, costs, xt, yt, test_flags, tests)
        elapsed = time.perf_counter() - tick
        record_cost.take(lo, costs)
        record_test.take(lo, tests)
        done += ran
        if ran < chunk:
            break                   # a recorded cost is not finite: diverged
        recorded = np.flatnonzero(cost_flags)
        if len(recorded):
            last_cost = float(costs[recorded[-1]])
        now = time.perf_counter()
        if progress is not None:
            progress(Progress(done, epochs, last_cost, done * samples, now - start))
        if interrupt.flag:
            break
        rate = chunk / max(elapsed, 1e-6)
        chunk = max(1, min(int(rate * _CHUNK_SECONDS), 4 * chunk + 1))
    seconds = time.perf_counter() - start
    updates = done * math.ceil(samples / batch)
    return unflatten(w, problem.layers), done, updates, seconds


def _run_blocked(problem: Problem, record_cost: History, record_test: History,
                 progress: ProgressFn | None, interrupt: _Interrupt, start: float,
                 kmod: KernelModule) -> Outcome:
    """Large batches: each update's samples go through the network in blocks."""
    from .kernels import block_buffers, flatten, run_blocks, unflatten

    t = problem.training
    epochs, samples = t.epochs, problem.samples
    batch = t.batch_length(samples)
    layers = problem.layers
    w = flatten(problem.initial_weights())
    train_x, train_y = problem.data()
    x = np.ascontiguousarray(train_x, dtype=float)
    y = np.ascontiguousarray(train_y, dtype=float)
    test = problem.test_data()
    buffers = block_buffers(layers, min(BLOCK, batch))
    gsum = np.zeros(len(w))
    sums = np.zeros(2)
    lr, beta, l2_bias = float(problem.learning_rate()), float(t.l2), bool(t.l2_bias)
    rng = shuffle_rng(t)
    data_order = np.arange(samples, dtype=np.int64)
    fused = batch >= samples                    # one update per epoch

    summed = problem.conventions.cost is Combine.SUM

    def data_term(total: float, count: int) -> float:
        # the cost's data term: the mean of J_(t), or their sum (conventions)
        return total if summed else total / count

    def sum_j(xs: Array, ys: Array) -> float:
        sums[:] = 0.0
        run_blocks(kmod, w, xs, ys, np.arange(xs.shape[0], dtype=np.int64), 0, xs.shape[0],
                   buffers, None, sums)
        return float(sums[0] + sums[1])

    def mean_j(xs: Array, ys: Array) -> float:
        return float(sum_j(xs, ys) / xs.shape[0])

    def data_cost(xs: Array, ys: Array) -> float:
        return data_term(sum_j(xs, ys), xs.shape[0])

    def l2_term() -> float:
        return l2_penalty(unflatten(w, layers), beta, l2_bias)[0] if beta else 0.0

    # Load (or compile) the stages before the clock starts.
    mean_j(x[:1], y[:1])
    start = time.perf_counter()
    last_report = start
    done = 0
    last_cost = math.nan
    for epoch in range(1, epochs + 1):
        order = data_order if rng is None else epoch_orders(rng, samples, 1)[0]
        for lo in range(0, samples, batch):
            hi = min(lo + batch, samples)
            gsum[:] = 0.0
            sums[:] = 0.0
            run_blocks(kmod, w, x, y, order, lo, hi, buffers, gsum, sums)
            if fused and epoch > 1:
                # the cost under these weights: the cost after the previous epoch
                last_cost = data_term(sums[0] + sums[1], samples) + l2_term()
                record_cost.put(epoch - 1, last_cost)
            kmod.update(w, gsum, hi - lo, lr, beta, l2_bias)
        done = epoch
        if fused and epoch > 1 and not math.isfinite(last_cost):
            done = epoch - 1
            break
        stopping = interrupt.flag or epoch == epochs
        if record_cost.recorded(epoch) and (not fused or stopping):
            last_cost = data_cost(x, y) + l2_term()
            record_cost.put(epoch, last_cost)
            if not math.isfinite(last_cost):
                break
        if test is not None and record_test.recorded(epoch):
            record_test.put(epoch, mean_j(*test))
        now = time.perf_counter()
        if progress is not None and (now - last_report > 0.1 or stopping):
            last_report = now
            progress(Progress(epoch, epochs, float(last_cost), epoch * samples, now - start))
        if interrupt.flag:
            break
    seconds = time.perf_counter() - start
    updates = done * math.ceil(samples / batch)
    return unflatten(w, layers), done, updates, seconds
