"""How much work a hand-calculation command would do, estimated before it starts.

``solve``, ``export``, ``check`` and ``derive`` lay out every intermediate value of
a run, so they are for the sizes of a hand calculation; a network or a data set
too large for that is refused with a message that names the limit and points to
``bpnn-steps train``, which keeps no intermediates.  The estimates count values
(numbers computed, kept or written), not seconds, so the limits are the same on
every machine.  The limits are generous: every bundled problem runs, at its own
epochs, through every command (the longest, ``solve line_1101_gd``, is 42,000
sample passes of a 31-weight network).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..errors import ProblemError
from ..model.problem import Problem
from .engine import MAX_TRACED_UPDATES, update_count

# A sample pass is one sample fed forward and back-propagated in one update.
MAX_SAMPLE_PASSES = 50_000
# Values a trace keeps: per sample pass z, a and the gradient; per update the weights.
MAX_TRACED_VALUES = 5_000_000
# Values written out for the updates shown in full (and for one update answered).
MAX_SHOWN_VALUES = 100_000
# Sample passes an answer file may answer (its updates' samples, added up): marking
# works each through by hand-rounding at every precision the file writes (about
# 10 ms and 0.5 MB a pass: 200 updates of 21 samples took 145 s and 5.7 GB).
MAX_MARKED_PASSES = 500
# derive writes the chain rule for every weight.
MAX_DERIVED_WEIGHTS = 5_000
# derive --verify evaluates the cost twice per weight at each point, a forward pass
# through the weights each time: its work grows with weights x weights (about 20 µs
# a unit: a 4-8-8-4 network, 148 weights, takes half a second).
MAX_VERIFY_WORK = 100_000
# solve --verify evaluates every update's cost twice per weight, a forward pass of
# the update's samples each time (40 to 60 µs a pass: line_1101_gd, 2,000 updates
# of 31 weights, is 124,000 passes and takes about 5 s).
MAX_CHECKED_PASSES = 150_000

TRAIN_HINT = "use 'bpnn-steps train' for networks and runs this large"


class RunSize(NamedTuple):
    """The sizes of a problem's run that its cost grows with."""

    weights: int          # P: every entry of every W[n]
    units: int            # every node of every layer after the input (z and a each)
    batch: int            # samples in one update
    updates: int          # weight updates of the run (epochs x batches)
    sample_passes: int    # samples fed forward and back over the run

    @property
    def per_sample(self) -> int:
        """Values of one sample pass: z and a of every unit, and its gradient."""
        return self.weights + 2 * self.units

    @property
    def per_update(self) -> int:
        """Values of one update shown in full: its samples, the weights before and
        after it and the mean gradient."""
        return self.batch * self.per_sample + 3 * self.weights

    @property
    def traced(self) -> int:
        """Values a trace of the whole run keeps."""
        return self.sample_passes * self.per_sample + self.updates * 3 * self.weights


def run_size(problem: Problem) -> RunSize:
    """The sizes of ``problem``'s run under its training settings."""
    layers = problem.layers
    weights = sum((n + 1) * m for n, m in zip(layers, layers[1:]))
    samples = problem.samples
    batch = problem.training.batch_length(samples) if samples else 0
    updates = update_count(problem) if samples else 0
    return RunSize(weights=weights, units=sum(layers[1:]), batch=batch, updates=updates,
                   sample_passes=problem.training.epochs * samples)


def solve_workload(problem: Problem, shown_of: Callable[[int], int], *,
                   verify: bool = False) -> None:
    """Refuse a run too large to trace and lay out (or, with ``verify``, to check
    every update's gradient); ``shown_of(updates)`` is how many updates of the run
    are shown in full (asked only of a run that can be traced)."""
    if not problem.samples:
        return                     # nothing to run: solving says what is missing
    size = run_size(problem)
    if size.updates > MAX_TRACED_UPDATES:
        return                     # the engine refuses so many updates, with its message
    _traced(problem, size, "solve")
    checked = size.updates * 2 * size.weights
    if verify and checked > MAX_CHECKED_PASSES:
        raise ProblemError(f"--verify checks the gradient of every update: {size.updates:,} "
                           f"updates x 2 x {size.weights:,} weights = {checked:,} forward "
                           f"passes, at most {MAX_CHECKED_PASSES:,}; verify the first epochs "
                           "(--epochs N) or leave out --verify")
    shown = shown_of(size.updates)
    written = shown * size.per_update
    if written > MAX_SHOWN_VALUES:
        _refuse(problem, f"{_network(problem)}: the {shown:,} update{_s(shown)} shown in full "
                f"would write {written:,} values"
                f"{f' ({size.per_update:,} each)' if shown > 1 else ''}; at most "
                f"{MAX_SHOWN_VALUES:,}. Show fewer (--show first, --show none), or "
                f"{TRAIN_HINT}")


def export_workload(problem: Problem, shown_of: Callable[[int], int], *,
                    derivation: bool) -> None:
    """Refuse a sheet too large to write: a worked solution as for solve, a
    derivation as for derive."""
    if derivation:
        derive_workload(problem)
    else:
        solve_workload(problem, shown_of)


def check_workload(problem: Problem) -> None:
    """Refuse a problem too large to mark (or to write an answer sheet for): its
    trace, and one update's answers."""
    size = run_size(problem)
    _traced(problem, size, "check")
    if size.per_update > MAX_SHOWN_VALUES:
        _refuse(problem, f"{_network(problem)}: one update has {size.per_update:,} values to "
                f"answer; at most {MAX_SHOWN_VALUES:,} (a hand calculation); {TRAIN_HINT}")


def marked_workload(passes: int, updates: int, where: str) -> None:
    """Refuse an answer file that answers more of a run than marking takes on."""
    if passes > MAX_MARKED_PASSES:
        raise ProblemError(f"answers {updates:,} updates, {passes:,} sample passes in all; "
                           f"check marks at most {MAX_MARKED_PASSES:,} (a hand calculation): "
                           "answer fewer updates (check --template --updates N writes a "
                           "sheet of the first N)", file=where)


def derive_workload(problem: Problem, *, verify: bool = False) -> None:
    """Refuse a derivation too large to write out (or, with ``verify``, to check
    with sympy)."""
    size = run_size(problem)
    if size.weights > MAX_DERIVED_WEIGHTS:
        _refuse(problem, f"{list(problem.layers)} has {size.weights:,} weights to derive; "
                f"derive writes out at most {MAX_DERIVED_WEIGHTS:,} (a hand calculation)",
                key="network.layers")
    if verify:
        work = size.weights * size.weights
        if work > MAX_VERIFY_WORK:
            _refuse(problem, f"{list(problem.layers)} is too large for --verify: it evaluates "
                    f"the cost twice for each of {size.weights:,} weights (work weights x "
                    f"weights = {work:,}, at most {MAX_VERIFY_WORK:,}); leave out --verify",
                    key="network.layers")


def _traced(problem: Problem, size: RunSize, command: str) -> None:
    if size.updates > MAX_TRACED_UPDATES:
        return                     # the engine refuses so many updates, with its message
    epochs = problem.training.epochs
    if size.sample_passes > MAX_SAMPLE_PASSES:
        _refuse(problem, f"gives {size.sample_passes:,} sample passes ({epochs:,} "
                f"epoch{_s(epochs)} x {problem.samples:,} samples); {command} traces every "
                f"one, at most {MAX_SAMPLE_PASSES:,}. Use --epochs N for the first few, or "
                f"{TRAIN_HINT}", key="training.epochs")
    if size.traced > MAX_TRACED_VALUES:
        _refuse(problem, f"{_network(problem)}: the run would keep {size.traced:,} "
                f"intermediate values ({size.weights:,} weights, {size.sample_passes:,} "
                f"sample pass{'es' if size.sample_passes != 1 else ''}); {command} keeps at "
                f"most {MAX_TRACED_VALUES:,}; {TRAIN_HINT}")


def _refuse(problem: Problem, message: str, key: str | None = None) -> None:
    """Raise the refusal, at the line of ``key`` (or of its section) when known, or
    naming the option that gave ``key``'s value."""
    where = key or "network.layers"
    section = problem.lines.get(where.split(".")[0])
    if key is None:
        raise ProblemError(message, file=problem.source, line=problem.lines.get(where, section))
    raise problem.error(key, message, section)


def _network(problem: Problem) -> str:
    return f"network {list(problem.layers)} with {problem.samples:,} sample{_s(problem.samples)}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
