"""The quality test every variant passes: well-posed and mistake-separable.

*Well-posed*: no sigmoid or tanh unit is saturated (|z| above the limit), no unit
has a zero derivative on every sample of an update (a dead relu), no gradient
entry shows as 0 at the sheet's decimals unless it is zero whatever the numbers
(a structural zero, found by solving the same problem at generic, non-grid
numbers), and no two samples are the same.

*Mistake-separable*: every mistake ``check`` can diagnose shows, and names
itself.  For each typical mistake (:func:`~bpnn_steps.marking.recompute.scenarios_for`)
the whole worked solution is recomputed with the mistake made, as ``check``
does; where the mistake first changes a number (not where it merely carries
forward) that number must differ from the right one, and from every other
mistake's number there, by more than check's window.  A transposed matrix must
not be symmetric, and another sample's values must neither equal this sample's
nor look like another mistake.

Numbers are "told apart" at the sheet's ``decimals`` when they differ by more
than 1.5 units of the last decimal: ``check`` takes a mistake as the cause when
the written number is within one unit of it, and the written number is itself
up to half a unit from the exact one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ProblemError
from ..maths.activations import ACTIVATIONS, Unitwise
from ..marking.diagnose import Mistake, factors_for
from ..marking.recompute import (EXACT, Chain, Env, Scenario, Views, kept, scenarios_for,
                                 trace_env)
from ..model.coded import Coded
from ..model.problem import Problem
from ..model.quantities import Kind, Quantity, answer_quantities, entry_name, key_of
from ..numfmt import fmt

Array = np.ndarray
# check's window (one unit of the written number) plus the half unit of rounding.
WINDOW = 1.5


class Reason(Coded):
    """Why a candidate was rejected: its code (``--explain`` counts by it) and words."""

    DIVERGES = "diverges", "the calculation overflows"
    SAME_SAMPLES = "same-samples", "two samples are the same"
    SATURATED = "saturated", "a sigmoid or tanh unit is saturated"
    DEAD_UNIT = "dead-unit", "a unit's derivative is 0 on every sample (a dead relu)"
    ZERO_GRADIENT = "zero-gradient", "a gradient entry shows as 0 at the sheet's decimals"
    SYMMETRIC = "transposed-hidden", "a square matrix is symmetric: a transposed answer " \
        "would not show"
    SAMPLES_ALIKE = "wrong-sample-hidden", "another sample's values would not show, or " \
        "would look like another mistake"
    HIDDEN_MISTAKE = "mistake-hidden", "a mistake would not change any number visibly"
    COINCIDING = "mistakes-coincide", "two mistakes give the same number"
    REPEATED = "repeated", "the same numbers as an earlier variant"


@dataclass(frozen=True)
class Rejection:
    """One reason a candidate failed, with the detail (which unit, entry, mistakes)."""

    reason: Reason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True)
class Settings:
    """The quality test's knobs (from the ``variants:`` block)."""

    saturation: float = 4.0
    decimals: int = 3

    @property
    def apart(self) -> float:
        """Two numbers differing by more than this are told apart on the sheet."""
        return WINDOW * 10.0 ** -self.decimals

    @property
    def shows_zero(self) -> float:
        """A number smaller than this in size is written as 0 at the sheet's decimals."""
        return 0.5 * 10.0 ** -self.decimals


# The updates a sheet works out in full (solve shows up to four whole): the test looks
# at these; a training run of thousands of updates is not a hand calculation.
SHEET_UPDATES = 4


def hand_sized(problem: Problem) -> Problem:
    """``problem`` cut to whole epochs of at most SHEET_UPDATES updates (at least one
    epoch)."""
    from ..maths.engine import updates_per_epoch

    if problem.training.epochs == 1:
        return problem          # one epoch is whole and at least one: nothing to cut
    epochs = max(1, min(problem.training.epochs, SHEET_UPDATES // updates_per_epoch(problem)))
    return problem if epochs == problem.training.epochs else problem.with_training(epochs=epochs)


Entry = tuple[Quantity, tuple[int, ...]]
# Two mistakes that give the same number at an entry (codes in check's order).
Coincidence = tuple[Quantity, tuple[int, ...], str, str]


@dataclass(frozen=True)
class Structure:
    """What holds whatever the numbers (found once per run, at generic, non-grid
    numbers): the gradient entries that are always 0, and the mistakes that always
    give the same number at an entry (with two samples and the mse's 1/2, "sum
    instead of mean" and "missing 1/2" both double the mean gradient) -- no draw can
    change these, so they do not reject a candidate; and, for speed, where each
    mistake acts and what it changes, so that a candidate recomputes only that."""

    zeros: frozenset[Entry] = frozenset()
    coincidences: frozenset[Coincidence] = frozenset()
    # Where each mistake (by its place in scenarios_for) acts: (place, quantity) ->
    # the entries.  None: not known, work it out from the numbers.
    acts: dict[tuple[int, Quantity], Array] | None = None
    plan: Plan | None = None
    # For each mistake, the quantities it changes: where it acts, and what is computed
    # from those within the update (check starts each update from the right weights).
    todo: tuple[frozenset[Quantity], ...] = ()
    # For each mistake, update by update, the quantities of ``todo`` in the order
    # check computes them (the rest of the update is the right values).
    order: tuple[tuple[tuple[Quantity, ...], ...], ...] = ()
    # The mistakes (scenarios_for: the same for every variant) and where they act,
    # laid out for :class:`_Screen`.
    layout: Layout | None = None


@dataclass(frozen=True)
class Layout:
    """The entries where some mistake acts, in one line (each quantity's entries at
    its slice), with, for each mistake, where it acts and the code check names there
    (as a number: equal codes, equal numbers)."""

    scenarios: tuple[Scenario, ...]
    acting: tuple[Quantity, ...]
    slices: dict[Quantity, slice]
    acts: Array
    codes: Array
    # What each rule sees of each mistake, shared by the candidates' chains, and the
    # factors of each quantity (factors_for: the same conventions for every candidate).
    views: Views = field(default_factory=Views, compare=False, repr=False)
    factors: dict[tuple[Quantity, int], list[tuple[float, Mistake, str]]] = field(
        default_factory=dict, compare=False, repr=False)

    @staticmethod
    def of(scenarios: Sequence[Scenario], acts: dict[tuple[int, Quantity], Array],
           count: int) -> Layout:
        """The layout of the first ``count`` of ``scenarios`` acting at ``acts``."""
        acting = tuple(dict.fromkeys(q for _, q in acts))
        slices: dict[Quantity, slice] = {}
        start = 0
        for q in acting:
            size = int(np.size(next(v for (_, r), v in acts.items() if r == q)))
            slices[q] = slice(start, start + size)
            start += size
        where = np.zeros((count, start), dtype=bool)
        for (k, q), entries in acts.items():
            if k < count:
                where[k, slices[q]] = np.ravel(entries)
        names = {c: i for i, c in enumerate(dict.fromkeys(
            str(s.named_at(q)) for s in scenarios for q in acting))}
        codes = np.array([[names[str(s.named_at(q))] for q in acting
                           for _ in range(slices[q].stop - slices[q].start)]
                          for s in scenarios[:count]], dtype=int).reshape(count, start)
        return Layout(tuple(scenarios), acting, slices, where, codes)


@dataclass(frozen=True)
class Plan:
    """The order check computes an update's quantities in, and what each is computed
    from: the same for every variant (same network and schedule), so worked out once."""

    nodes: tuple[tuple[Quantity, ...], ...]
    inputs: dict[Quantity, tuple[Quantity, ...]]
    answered: tuple[Quantity, ...]


def structure(generic: Sequence[Problem], settings: Settings) -> Structure:
    """The :class:`Structure` common to every one of ``generic`` (the same problem at
    generic numbers)."""
    zeros: frozenset[Entry] | None = None
    same: frozenset[Coincidence] | None = None
    acts: dict[tuple[int, Quantity], Array] = {}
    plan = None
    scenarios: list[Scenario] = []
    for problem in generic:
        check = _Assessment(problem, settings, Structure(), first_only=False)
        if not check.prepare():
            continue
        z = frozenset((q, tuple(int(i) for i in idx)) for q, v in check.exact.items()
                      if q.kind in (Kind.GRAD, Kind.MEAN)
                      for idx in zip(*np.nonzero(np.abs(np.atleast_1d(v)) <= 1e-12)))
        with np.errstate(all="ignore"):
            c = frozenset(check.coincidences(exact=True))
        zeros = z if zeros is None else zeros & z
        same = c if same is None else same & c
        for k, firsts in enumerate(check.firsts):
            for q, first in firsts.items():
                acts[k, q] = acts[k, q] | first if (k, q) in acts else first
        plan = check.plan
        scenarios = check.scenarios
    if plan is None:        # no generic problem solved (they all overflow): nothing known
        return Structure(zeros or frozenset(), same or frozenset())
    count = 1 + max((k for k, _ in acts), default=-1)
    todo = []
    for k in range(count):
        changed: set[Quantity] = set()
        for nodes in plan.nodes:
            for q in nodes:
                if (k, q) in acts or any(i in changed and i.update == q.update
                                         for i in plan.inputs[q]):
                    changed.add(q)
        todo.append(frozenset(changed))
    order = tuple(tuple(tuple(q for q in nodes if q in changed) for nodes in plan.nodes)
                  for changed in todo)
    return Structure(zeros or frozenset(), same or frozenset(), acts, plan, tuple(todo), order,
                     Layout.of(scenarios, acts, count))


def assess(problem: Problem, settings: Settings, known: Structure = Structure(),
           first_only: bool = True) -> list[Rejection]:
    """Why ``problem`` is not a good variant (empty: it is).  With ``first_only`` the
    test stops at the first reason (the cheap tests run first)."""
    return _Assessment(problem, settings, known, first_only).run()


class _Stop(Exception):
    """The first reason was found and only the first is wanted."""


class _Assessment:
    def __init__(self, problem: Problem, settings: Settings, known: Structure,
                 first_only: bool) -> None:
        self.problem = hand_sized(problem)
        self.settings = settings
        self.known = known
        self.first_only = first_only
        self.found: list[Rejection] = []
        self.depth = self.problem.depth
        self.hidden: list[Scenario] = []
        self.made_values: list[Env] = []
        self.firsts: list[dict[Quantity, Array]] = []

    def reject(self, reason: Reason, detail: str) -> None:
        rejection = Rejection(reason, detail)
        if rejection not in self.found:
            self.found.append(rejection)
        if self.first_only:
            raise _Stop

    def prepare(self) -> bool:
        """Solve the problem (False: it overflows, with the reason recorded)."""
        from ..maths.engine import solve

        try:
            with np.errstate(all="ignore"):
                self.trace = solve(self.problem)
        except ProblemError as err:
            self.found.append(Rejection(Reason.DIVERGES, str(err)))
            return False
        self.exact = trace_env(self.trace)
        layout = self.known.layout
        self.chain = chain = Chain(self.problem, self.trace,
                                   None if layout is None else layout.views)
        plan = self.known.plan
        if plan is None:
            nodes = tuple(tuple(chain.nodes(u)) for u in range(1, len(chain.schedule) + 1))
            plan = Plan(nodes, {q: tuple(chain.inputs(q)) for qs in nodes for q in qs},
                        tuple(q for u, samples in enumerate(chain.schedule, start=1)
                              for q in answer_quantities(self.problem.layers, samples, u)))
        self.plan = plan
        self.answered = plan.answered
        # The same network, conventions and schedule: the same mistakes to try.
        self.scenarios = list(layout.scenarios) if layout is not None else \
            scenarios_for(self.problem, self.chain.schedule)
        return True

    def run(self) -> list[Rejection]:
        try:
            self.same_samples()
            if not self.prepare():
                return self.found
            self.saturated_or_dead()
            self.zero_gradients()
            self.transposed()
            self.other_sample()
            with np.errstate(all="ignore"):
                self.mistakes()
        except _Stop:
            pass
        return self.found

    # ------------------------------------------------------------------ well-posed

    def same_samples(self) -> None:
        x = self.problem.data()[0]
        seen: dict[bytes, int] = {}
        for t, row in enumerate(x, start=1):
            key = np.asarray(row, dtype=float).tobytes()
            if key in seen:
                self.reject(Reason.SAME_SAMPLES, f"samples {seen[key]} and {t} have the same "
                            f"inputs x = {_vector(row)}")
            seen[key] = t

    def saturated_or_dead(self) -> None:
        limit = self.settings.saturation
        for step in self.trace.steps:
            for n, name in enumerate(self.problem.activations, start=1):
                act = ACTIVATIONS[name]
                if not isinstance(act.form, Unitwise) or act.identity:
                    continue
                z = np.array([f.z[n - 1] for f in step.forward])        # T x units
                a = np.array([f.a[n - 1] for f in step.forward])
                bounded = math.isfinite(act.range.low) and math.isfinite(act.range.high)
                if bounded and np.any(np.abs(z) > limit):
                    t, j = (int(v) for v in np.argwhere(np.abs(z) > limit)[0])
                    self.reject(Reason.SATURATED, f"{name} unit {j + 1} of layer {n} has "
                                f"z = {fmt(float(z[t, j]), 3)} for sample "
                                f"{step.forward[t].sample} (|z| > {limit:g})")
                dead = np.all(act.form.derivative(z, a) == 0, axis=0)
                if np.any(dead):
                    j = int(np.argmax(dead))
                    self.reject(Reason.DEAD_UNIT, f"{name} unit {j + 1} of layer {n} has "
                                f"f'(z) = 0 for every sample of update {step.index}")

    def zero_gradients(self) -> None:
        small = self.settings.shows_zero
        for q in self.answered:
            if q.kind not in (Kind.GRAD, Kind.MEAN):
                continue
            value = self.exact[q]
            for idx in zip(*np.nonzero(np.abs(value) < small)):
                index = tuple(int(i) for i in idx)
                if (q, index) not in self.known.zeros:
                    self.reject(Reason.ZERO_GRADIENT, f"{self.name(q, index)} = "
                                f"{fmt(float(value[index]), self.settings.decimals + 3)} "
                                f"shows as 0")

    # ------------------------------------------------------------------ separable

    def transposed(self) -> None:
        apart = self.settings.apart
        for q in self.answered:
            value = self.exact[q]
            if value.ndim == 2 and value.shape[0] == value.shape[1] and \
                    np.abs(value - value.T).max() <= apart:
                self.reject(Reason.SYMMETRIC, f"{self.label(q)} is symmetric at "
                            f"{self.settings.decimals} decimals: written transposed it "
                            "would still be right")

    def other_sample(self) -> None:
        """A student who writes sample t' 's values for sample t: they must differ
        visibly somewhere, and where they differ not read as this sample's numbers
        re-arranged, transposed or multiplied by another mistake's factor.  (A
        quantity that two samples share, at the sheet's decimals, is right either way.)"""
        apart = self.settings.apart
        shown: dict[tuple[int, int], bool] = {}
        for q in self.answered:
            if q.sample is None:
                continue
            samples = self.trace.steps[q.update - 1].samples
            if len(samples) < 2:
                continue
            other_t = samples[(samples.index(q.sample) + 1) % len(samples)]
            other = self.exact[Quantity(q.update, q.kind, q.layer, other_t)]
            value = self.exact[q]
            pair = (q.update, q.sample)
            if np.abs(other - value).max() <= apart:
                shown.setdefault(pair, False)
                continue
            shown[pair] = True
            what = f"{self.label(q)} and sample {other_t}'s"
            if value.size >= 2 and np.abs(np.sort(other, axis=None) -
                                          np.sort(value, axis=None)).max() <= apart:
                self.reject(Reason.SAMPLES_ALIKE, f"{what} are the same numbers in other "
                            "places (check would say re-arranged)")
            elif value.ndim == 2 and value.shape[0] == value.shape[1] and \
                    np.abs(other - value.T).max() <= apart:
                self.reject(Reason.SAMPLES_ALIKE, f"{what} are each other's transpose")
            elif value.size == 1:
                batch = len(samples)
                for factor, code, _ in self.factors(q, batch) + [(-1.0, Mistake.SIGN, "")]:
                    if abs(float(other.flat[0]) - factor * float(value.flat[0])) <= apart:
                        theirs = key_of(Quantity(q.update, q.kind, q.layer, other_t),
                                        self.depth)
                        self.reject(Reason.SAMPLES_ALIKE, f"{theirs} is {factor:g} times "
                                    f"{key_of(q, self.depth)}: written for sample "
                                    f"{q.sample}, check would say {code}")
        for (update, t), visible in shown.items():
            if not visible:
                self.reject(Reason.SAMPLES_ALIKE, f"every number of sample {t} is the next "
                            f"sample's at {self.settings.decimals} decimals (update {update})")

    def mistakes(self) -> None:
        """Each mistake recomputed through the whole solution, as check does: it
        must show, and no other mistake may give the same number where it acts."""
        found = self.coincidences(exact=False)
        if not self.first_only:
            found = iter(list(found))   # every mistake made: each message names them all
        for q, index, first, second in found:
            self.reject(Reason.COINCIDING, self.coincide(q, index, (first, second)))
        for s in self.hidden:
            assert s.code is not None
            k = self.scenarios.index(s)
            if self.known.plan is not None and (k >= len(self.known.todo) or
                                                not self.known.todo[k]):
                continue        # it shows for no numbers at all: no draw can help
            self.reject(Reason.HIDDEN_MISTAKE, f"{s.code} ({s.code.description}) changes "
                        f"no number by more than {self.settings.apart:g}")

    def coincidences(self, exact: bool) -> Iterator[Coincidence]:
        """Where a mistake acts (not where it is merely carried forward), the other
        mistakes whose number there is within check's window of its number (with
        ``exact``: equal up to float noise), except those that coincide whatever the
        numbers.  The mistakes are made one after the other, each compared with the
        ones before, so that a first coincidence is found before the costly ones
        (a bias or activation left out changes the whole solution) are made.
        Notes the mistakes that show nowhere in ``self.hidden``."""
        self.made_values, self.firsts, self.hidden = [], [], []
        self.codes: dict[Quantity, list[str]] = {}
        self.wrong: dict[tuple[int, Quantity], Array] = {}
        layout = self.known.layout
        screen = None if exact or layout is None else _Screen(self, layout)
        for k, s in enumerate(self.scenarios):
            if screen is None or k >= len(self.known.order):
                values, firsts = self.made(k, s)
                self.made_values.append(values)
                self.firsts.append(firsts)
                others: Sequence[int] = range(k)
                shows = any(np.any(first & (np.abs(values[q] - self.exact[q]) >
                                            self.settings.apart))
                            for q, first in firsts.items())
            else:
                # Where it acts is read off the screen, and only for pair's sake.
                values = self._made_known(k, s, {})[0]
                self.made_values.append(values)
                self.firsts.append({})
                others, shows = screen.add(k, values)
                for i in (*others, k) if others else ():
                    self.firsts[i] = screen.firsts(i)
            for j in others:
                yield from self.pair(j, k, exact)
                yield from self.pair(k, j, exact)
            if not shows:
                self.hidden.append(s)

    def pair(self, k: int, j: int, exact: bool) -> Iterator[Coincidence]:
        """Where mistake k acts and mistake j gives the same number."""
        # Only where k's number shows: an entry it changes by less is near the right
        # value, and so near every other mistake that barely changes it.
        wrong_by = 0.0 if exact else self.settings.apart
        for q, first in self.firsts[k].items():
            codes = self.codes.get(q)
            if codes is None:
                codes = self.codes[q] = [str(s.named_at(q)) for s in self.scenarios]
            if codes[k] == codes[j]:
                continue
            right, value, theirs = self.exact[q], self.made_values[k][q], \
                self.made_values[j][q]
            if theirs is right:
                continue
            wrong = self.wrong.get((k, q))
            if wrong is None:
                wrong = self.wrong[k, q] = first & (np.abs(value - right) > wrong_by)
            if not wrong.any():
                continue
            near = ~_differs(theirs, value) if exact else \
                np.abs(theirs - value) <= self.settings.apart
            hits = wrong & near
            if not hits.any():
                continue
            hits &= _differs(theirs, right)
            for hit in np.argwhere(hits):
                index = tuple(int(i) for i in hit)
                found = (q, index) + ((codes[k], codes[j]) if k < j else (codes[j], codes[k]))
                if found not in self.known.coincidences:
                    yield found

    def coincide(self, q: Quantity, index: tuple[int, ...], codes: tuple[str, str]) -> str:
        """Which mistakes give the same number at an entry, in check's order."""
        apart = self.settings.apart
        right = float(self.exact[q][index])
        wrong = [(str(s.named_at(q)), float(env[q][index]))
                 for s, env in zip(self.scenarios, self.made_values)
                 if abs(float(env[q][index]) - right) > 1e-9 * max(1.0, abs(right))]
        mine = next(v for c, v in wrong if c == codes[0] and
                    any(c2 == codes[1] and abs(v2 - v) <= apart for c2, v2 in wrong))
        found: list[str] = []
        for s, env in zip(self.scenarios, self.made_values):
            theirs = float(env[q][index])
            code = str(s.named_at(q))
            if abs(theirs - right) > 1e-9 * max(1.0, abs(right)) and code not in found and \
                    abs(theirs - mine) <= apart:
                found.append(code)
        shown = ", ".join(found[:-1]) + f" and {found[-1]}"
        both = "both" if len(found) == 2 else "all"
        return (f"{shown} {both} give {self.name(q, index)} = "
                f"{fmt(mine, self.settings.decimals)} (right: "
                f"{fmt(right, self.settings.decimals)})")

    def made(self, k: int, s: Scenario) -> tuple[Env, dict[Quantity, Array]]:
        """Every answered quantity with mistake ``s`` (the k-th) made from the start
        of each update (check starts each update from the right weights), and where
        the mistake acts: the entries of each quantity where the rule without the
        mistake gives another number from the same inputs (not merely carried
        forward).  A quantity the mistake cannot act on, whose inputs are right, is
        right: it is the right value itself (``is``), not a copy."""
        chain, exact, acts, plan = self.chain, self.exact, self.known.acts, self.plan
        if acts is not None and k < len(self.known.order):
            return self._made_known(k, s, acts)
        values: Env = {}
        firsts: dict[Quantity, Array] = {}
        env: Env = {}
        for u, nodes in enumerate(plan.nodes, start=1):
            for q in nodes:
                value = env[q] = values[q] = chain.calc(q, env, s)
                # A mistake past the structure's acts nowhere it found; a rule the
                # mistake does not change is the right rule itself.
                if acts is not None or not chain.acts_on(q.kind, s):
                    continue
                first = _differs(value, exact[q]) & _differs(value, chain.calc(q, env, EXACT))
                if np.any(first):
                    firsts[q] = first
            for n in range(1, self.depth + 1):
                q = Quantity(u, Kind.NEW, n)
                env[q] = exact[q]
        return values, firsts

    def _made_known(self, k: int, s: Scenario, acts: dict[tuple[int, Quantity], Array]
                    ) -> tuple[Env, dict[Quantity, Array]]:
        """:meth:`made` where the structure says what mistake k changes: only those
        quantities are computed; every other one is the right value itself."""
        chain, exact = self.chain, self.exact
        computed: Env = {}
        firsts: dict[Quantity, Array] = {}
        env: Env = dict(exact)
        for todo in self.known.order[k]:
            for q in todo:
                value = env[q] = computed[q] = chain.calc(q, env, s)
                where = acts.get((k, q))
                if where is not None:
                    first = where & _differs(value, exact[q])
                    if first.any():
                        firsts[q] = first
            for q in todo:      # the next update starts from the right weights
                if q.kind is Kind.NEW:
                    env[q] = exact[q]
        values = dict(exact)
        values.update(computed)
        return values, firsts

    def factors(self, q: Quantity, batch: int) -> list[tuple[float, Mistake, str]]:
        """factors_for ``q``, kept across the run's candidates where there is a layout."""
        layout = self.known.layout
        if layout is None:
            return factors_for(q, self.problem, batch)
        return kept(layout.factors, (q, batch), lambda: factors_for(q, self.problem, batch))

    # ------------------------------------------------------------------ names

    def label(self, q: Quantity) -> str:
        key = key_of(q, self.depth)
        return key if len(self.trace.steps) == 1 else f"update {q.update}: {key}"

    def name(self, q: Quantity, index: tuple[int, ...]) -> str:
        """An entry as check names it, with its answer-file key."""
        if not index and q.kind in (Kind.LOSS, Kind.COST):
            return self.label(q)
        return f"{entry_name(q, index, self.depth)} ({self.label(q)})"


class _Screen:
    """Every mistake made so far side by side, at every entry where some mistake acts
    (one row per mistake, the entries of those quantities in one line), so that a few
    whole-table comparisons per mistake find the earlier mistakes it may coincide
    with; :meth:`_Assessment.pair` then looks only at those, in its order.  The same
    element-wise tests as ``pair``, so it never misses a pair that yields."""

    def __init__(self, check: _Assessment, layout: Layout) -> None:
        self.check = check
        self.layout = layout
        self.right: Array = np.concatenate([np.ravel(check.exact[q]) for q in layout.acting]) \
            if layout.acting else np.zeros(0)
        self.table = np.tile(self.right, (len(layout.acts), 1))
        self.wrong = np.zeros(layout.acts.shape, dtype=bool)
        self.off = np.zeros(layout.acts.shape, dtype=bool)

    def firsts(self, k: int) -> dict[Quantity, Array]:
        """Where mistake k acts, as :meth:`_Assessment.made` gives it (quantities in
        the order they are computed)."""
        acts, layout = self.check.known.acts or {}, self.layout
        found: dict[Quantity, Array] = {}
        for todo in self.check.known.order[k]:
            for q in todo:
                where = acts.get((k, q))
                if where is not None:
                    entries = layout.slices[q]
                    first = (layout.acts[k, entries] & self.off[k, entries]).reshape(
                        np.shape(where))
                    if first.any():
                        found[q] = first
        return found

    def add(self, k: int, values: Env) -> tuple[list[int], bool]:
        """Mistake k made: the earlier mistakes that may coincide with it somewhere,
        and whether it shows anywhere."""
        apart, exact, layout = self.check.settings.apart, self.check.exact, self.layout
        row, right = self.table[k], self.right
        for q in layout.acting:
            value = values[q]
            if value is not exact[q]:
                row[layout.slices[q]] = np.ravel(value)
        off = self.off[k] = _differs(row, right)
        wrong = self.wrong[k] = layout.acts[k] & off & (np.abs(row - right) > apart)
        if k == 0:
            return [], bool(wrong.any())
        hits = (self.wrong[:k] & off) | (wrong & self.off[:k])
        hits &= np.abs(self.table[:k] - row) <= apart
        hits &= layout.codes[:k] != layout.codes[k]
        return [int(j) for j in np.flatnonzero(hits.any(axis=1))], bool(wrong.any())


def _differs(a: Array, b: Array) -> Array:
    """Entries where two computed values differ by more than float noise."""
    result: Array = np.abs(a - b) > 1e-9 * np.maximum(1.0, np.abs(b))
    return result


def _vector(row: Array) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in np.atleast_1d(row)) + "]"

