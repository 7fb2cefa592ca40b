"""Mark a student's hand calculation entry by entry, with follow-through.

For every answered number the checker asks, in this order:

1. Is it right?  It is compared with the exact value (the engine's trace), with
   the value of a calculation that rounds every step to D decimals (D = the
   decimals the student wrote, and ``--round-as-you-go``), and with the value
   recomputed from the student's own *accepted* earlier numbers (so a 0.55 for
   h carries its rounding into y-hat without penalty).
2. Is it consistent with the student's own earlier *wrong* numbers?  Then it
   earns follow-through credit, unless an earlier number it rests on is
   degenerate (all zeros, impossible for its activation, y-hat = y, no update,
   a million times too large) or makes it trivially zero: a gamed earlier answer
   earns nothing later.
3. Otherwise it is wrong, and the likely cause is diagnosed (matrix patterns,
   typical mistakes recomputed with the engine, factors, sign, rounding).

Recomputation goes through :mod:`bpnn_steps.recompute`, which calls the engine.
Formulas of a generic sample (``grad W[n](t)``) are checked for algebraic
equivalence with :mod:`bpnn_steps.symbolic`'s derivation (sympy is imported only
then) by :func:`bpnn_steps.maths.formula.compare`, within a budget: a formula that
cannot be evaluated within it is wrong ("could not be evaluated"), never right.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import product
from pathlib import Path
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import numpy as np

from ..files.answer_file import (Header, read_answers,
                      read_header, read_root, resolve_problem_ref)
from ..errors import ProblemError
from ..files.untrusted import CONFINED, ReadAccess, clean_text
from .diagnose import (MISTAKES, TOO_LARGE, VANISHING, Mistake, Pattern, Tolerance, all_but,
                       convention_note, degenerate, differs, matrix_pattern,
                       scenario_message)
from ..model.answer_sheet import AnswerSheet, Cell, FormulaGiven, Given, Precision
from ..model.quantities import (Kind, Quantity, entry_name, key_name,
                                key_of)
from ..numfmt import fmt, round_half_up
from ..model.problem import Problem
from ..model.variant import VariantId
from .recompute import Chain, Env, Scenario
from .reference import Reference
from ..model.trace import Trace

if TYPE_CHECKING:
    import sympy

    from ..maths.formula import Comparison, ExpectedCache, Formula, Span

class Mark(StrEnum):
    """The mark of one answered entry."""

    CORRECT = "correct"
    FOLLOW_THROUGH = "follow-through"
    WRONG = "wrong"
    BLANK = "blank"
    INVALID = "invalid"


CORRECT, FOLLOW_THROUGH, WRONG, BLANK, INVALID = Mark
MARKS = tuple(Mark)
CREDITED = (Mark.CORRECT, Mark.FOLLOW_THROUGH)


@dataclass(frozen=True)
class Options:
    tolerance: Tolerance = field(default_factory=Tolerance)
    round_as_you_go: int | None = None     # also accept this hand-rounding calculation
    follow_through: bool = True


@dataclass(frozen=True)
class EntryResult:
    """The mark of one number (or formula) of the answer file."""

    key: str
    update: int | None             # None for generic-sample formulas
    index: tuple[int, ...]         # 0-based position in the vector/matrix
    name: str                      # the lecture's name, e.g. ∂J₍₁₎/∂w₀,₁⁽²⁾
    mark: Mark
    given: float | None
    given_text: str | None         # as written in the file
    expected: float | None
    expected_text: str | None      # for formulas: the derived gradient
    accepted: str | None           # exact | rounding D | own values | follow-through
    cause: Mistake | None          # why a wrong or unreadable entry is wrong
    message: str
    line: int | None
    decimals: int = 3              # decimals to show the expected value with

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "update": self.update, "index": list(self.index),
                "name": self.name, "mark": self.mark, "given": _finite_or_none(self.given),
                "given_text": self.given_text, "expected": _finite_or_none(self.expected),
                "expected_text": self.expected_text, "accepted": self.accepted,
                "cause": self.cause, "message": self.message, "line": self.line}


@dataclass(frozen=True)
class GroupResult:
    """The marks of one answer-file key (a vector or matrix entry by entry)."""

    key: str
    update: int | None
    line: int | None
    note: str | None               # a whole-matrix diagnosis
    entries: tuple[EntryResult, ...]
    order: int = 0                 # position in a worked solution (the lecture's order)
    canonical: str = ""            # the quantity's canonical key (however the file spells it)

    @property
    def label(self) -> str:
        return self._in_update(self.key)

    @property
    def column(self) -> str:
        """The gradebook column: the canonical key, so that one question is one column
        however each student spelled its key."""
        return self._in_update(self.canonical or self.key)

    def _in_update(self, key: str) -> str:
        return key if self.update in (None, 1) else f"update {self.update}: {key}"

    @property
    def credited(self) -> int:
        return sum(e.mark in CREDITED for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "update": self.update, "line": self.line,
                "note": self.note,
                "credited": self.credited, "total": len(self.entries),
                "entries": [e.to_dict() for e in self.entries]}


@dataclass(frozen=True, eq=False)
class CheckResult:
    answers: str
    student: str
    problem: str
    problem_title: str
    groups: tuple[GroupResult, ...]
    options: Options
    multi_update: bool = False
    variant: str = ""              # the variant marked against ("" for a plain problem)
    source: str = ""               # the problem file marked against, as read

    @property
    def entries(self) -> list[EntryResult]:
        return [e for g in self.groups for e in g.entries]

    def count(self, mark: Mark) -> int:
        return sum(e.mark == mark for e in self.entries)

    @property
    def credited(self) -> int:
        return sum(e.mark in CREDITED for e in self.entries)

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def percent(self) -> float:
        return 100.0 * self.credited / self.total if self.total else 0.0

    @property
    def all_right(self) -> bool:
        return self.total > 0 and all(e.mark == CORRECT for e in self.entries)

    def mistakes(self) -> dict[str, int]:
        """How many entries each cause explains (wrong and unreadable entries)."""
        out: dict[str, int] = {}
        for e in self.entries:
            if e.cause:
                out[e.cause] = out.get(e.cause, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        tol = self.options.tolerance
        return {
            "format": "bpnn-steps check", "version": 1,
            "answers": self.answers, "student": self.student,
            "problem": {"source": self.problem, "title": self.problem_title,
                        **({"variant": self.variant} if self.variant else {})},
            "score": {"credited": self.credited, "total": self.total,
                      "percent": round(self.percent, 2),
                      **{m: self.count(m) for m in MARKS}},
            "all_right": self.all_right,
            "tolerance": {"abs": tol.abs_tol, "rel": tol.rel_tol, "as_written": tol.as_written,
                          "round_as_you_go": self.options.round_as_you_go,
                          "follow_through": self.options.follow_through},
            "mistakes": [{"cause": c, "description": MISTAKES.get(c, c), "entries": n}
                         for c, n in self.mistakes().items()],
            "groups": [g.to_dict() for g in self.groups],
        }


class _Place(TypedDict):
    """What an EntryResult says whatever its mark: the entry and the numbers."""

    key: str
    update: int | None
    index: tuple[int, ...]
    name: str
    given: float | None
    given_text: str | None
    expected: float | None
    expected_text: str | None
    line: int | None
    decimals: NotRequired[int]


def _finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


# --------------------------------------------------------------------------- names


# --------------------------------------------------------------------------- loading


# A hand calculation covers a few updates; an answer file may address at most the
# updates of the first epochs that make up this many (a training problem has millions).
MAX_CHECKED_UPDATES = 200


def checkable(problem: Problem) -> Problem:
    """The problem cut to the epochs a hand calculation can reach (whole epochs,
    at least one, at most about MAX_CHECKED_UPDATES updates)."""
    from ..maths.engine import update_count

    problem.require_for_solving()           # (no data: no updates to count)
    per_epoch = update_count(problem.with_training(epochs=1))
    epochs = max(1, min(problem.training.epochs, MAX_CHECKED_UPDATES // max(per_epoch, 1)))
    return problem if epochs == problem.training.epochs else problem.with_training(epochs=epochs)


# The variant ``id`` of the base problem file ``path``, drawn again: (path, id) -> the
# variant's problem.  cli/check.py gives one that reads the base's `variants:` block and
# calls course.variants.make_variant (marking may not import course).
Regenerate = Callable[[Path, VariantId], Problem]


class SolvedProblems:
    """Problem files read, cut to what a hand calculation reaches and solved, once
    per batch run: a class's 200 answer files name the same problem.  Keyed by the
    name shown in messages, the resolved file, a hash of its text and where it may
    read, so a problem named two ways, or changed on disk, is solved again."""

    def __init__(self) -> None:
        self._solved: dict[tuple[str, str, str, ReadAccess], tuple[Problem, Trace]] = {}
        self._references: dict[int, Reference] = {}

    def reference(self, problem: Problem, trace: Trace) -> Reference:
        """What marking needs of a solved problem, kept for every answer file of it
        (by the trace, which this object keeps alive)."""
        found = self._references.get(id(trace))
        if found is None or found.trace is not trace:
            found = self._references[id(trace)] = Reference(problem, trace)
        return found

    def get(self, source: str | os.PathLike[str],
            access: ReadAccess = CONFINED) -> tuple[Problem, Trace]:
        """The (checkable) problem of ``source`` and its exact trace."""
        import hashlib

        from ..maths.engine import solve
        from ..maths.workload import check_workload
        # load_problem in its two steps: the reading (limits and messages included),
        # then the parsing that the cache saves with the solving.
        from ..files.problem_file import parse_problem, read_source

        path, display, text = read_source(source)
        key = (display, str(path.resolve()),
               hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), access)
        if key not in self._solved:
            prob = checkable(parse_problem(text, display, home=path.resolve().parent,
                                           access=access))
            check_workload(prob)
            self._solved[key] = (prob, solve(prob))
        return self._solved[key]

    def variant(self, source: str | os.PathLike[str], ident: VariantId,
                regenerate: Regenerate, access: ReadAccess = CONFINED
                ) -> tuple[Problem, Trace]:
        """Variant ``ident`` of the base problem ``source``, regenerated and solved
        once per batch (drawing variant i draws 1 .. i-1 too: a class shares it)."""
        import hashlib

        from ..maths.engine import solve
        from ..maths.workload import check_workload
        from ..files.problem_file import read_source

        path, display, text = read_source(source)
        key = (f"{display} {ident}", str(path.resolve()),
               hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), access)
        if key not in self._solved:
            prob = checkable(regenerate(path.resolve(), ident))
            check_workload(prob)
            self._solved[key] = (prob, solve(prob))
        return self._solved[key]


def load(answers_path: str | os.PathLike[str], problem: str | os.PathLike[str] | None = None,
         access: ReadAccess = CONFINED, solved: SolvedProblems | None = None,
         regenerate: Regenerate | None = None, students: Path | None = None
         ) -> tuple[AnswerSheet, Problem, Trace, str]:
    """Read an answer file and its problem (``problem`` overrides the file's own
    ``problem:``): the sheet, the problem, its exact trace and the problem's name
    for display.  Files are read inside their folders as ``access`` allows;
    ``solved`` keeps problems solved for earlier files of a batch; ``regenerate``
    draws the variant an answer file names when its problem is the base problem (not
    when ``problem`` is given: then that problem is what every file is marked
    against, whatever variant a file names); ``students``: a batch's folder of answer
    files, where no problem file is taken from.  Bad input raises ProblemError."""
    solved = SolvedProblems() if solved is None else solved
    root, text = read_root(answers_path)
    header = read_header(root, text, str(answers_path))
    source = problem if problem is not None else \
        resolve_problem_ref(header, answers_path, access=access, students=students)
    prob, trace = solved.get(source, access)
    name = str(problem) if problem is not None else header.problem_ref or prob.source
    ident = VariantId.parse(header.variant) if header.variant else None
    if regenerate is not None and ident is not None and not prob.variant and problem is None:
        stem = Path(source).stem if Path(str(source)).suffix else str(source)
        if ident.base != stem:
            raise ProblemError(f"says {header.variant}, a variant of {ident.base}, but its "
                               f"problem is {clean_text(name)}", file=header.name,
                               line=header.variant_line, key="variant")
        prob, trace = solved.variant(source, ident, regenerate, access)
    same_variant(header, prob, name)
    schedule = [s.samples for s in trace.steps]
    sheet = read_answers(header, prob, schedule)
    from ..maths.workload import marked_workload

    marked_workload(sum(len(s) for s in schedule[:sheet.max_update]), sheet.max_update,
                    header.name)
    return sheet, prob, trace, name


def same_variant(header: Header, problem: Problem, name: str) -> None:
    """An answer file's ``variant:`` must be the variant its problem is: numbers of
    one variant marked against another would all be wrong for a reason the report
    could not name."""
    if not header.variant or header.variant == problem.variant:
        return
    if problem.variant:
        raise ProblemError(f"says {header.variant}, but its problem {clean_text(name)} is "
                           f"variant {problem.variant}", file=header.name,
                           line=header.variant_line, key="variant")
    # Without a `regenerate` function (see Regenerate) the variant cannot be drawn
    # again: the TA names the folder the variants were written to.
    raise ProblemError(f"says {header.variant}, but its problem {clean_text(name)} is not "
                       "a variant; mark it with --variants DIR (the folder 'bpnn-steps "
                       "variants' wrote)", file=header.name, line=header.variant_line,
                       key="variant")


def check_file(answers_path: str | os.PathLike[str], problem: str | None = None,
               options: Options | None = None, access: ReadAccess = CONFINED,
               solved: SolvedProblems | None = None,
               regenerate: Regenerate | None = None,
               students: Path | None = None) -> CheckResult:
    """Mark one answer file (the command ``bpnn-steps check ANSWERS``); ``solved``
    shares the problems solved for a batch, ``regenerate`` draws the variant an
    answer file names, ``students`` is a batch's folder (see :func:`load`)."""
    solved = SolvedProblems() if solved is None else solved
    sheet, prob, trace, name = load(answers_path, problem, access, solved, regenerate,
                                    students)
    return check(sheet, prob, trace, options or Options(), name, solved.reference(prob, trace))


# --------------------------------------------------------------------------- marking


class _OwnMistake(dict[Quantity, np.ndarray]):
    """One typical mistake made from the student's own values: each quantity is
    worked out the first time a diagnosis needs it, from the values before it (the
    student's where given, else worked out the same way).  Most entries of most
    sheets are right or explained without it, so most quantities never are."""

    def __init__(self, chain: Chain, scenario: Scenario,
                 given: Mapping[Quantity, np.ndarray], complete: frozenset[Quantity],
                 own: Env) -> None:
        super().__init__()
        self.chain, self.scenario, self.given = chain, scenario, given
        self.complete = complete         # the quantities given in full
        self.own = own                   # the sheet's values from all the student's
        self._made: dict[Quantity, np.ndarray] = {}
        self._plain: dict[Quantity, bool] = {}

    def plain(self, q: Quantity) -> bool:
        """Whether :meth:`made` gives ``q`` as the student's values do (the sheet's
        own recomputation): the mistake does not act on q and every input is the
        same numbers (given in full, the weights before the update, or plain in
        turn).  Then it explains nothing the student's values do not, and is not
        worked out."""
        found = self._plain.get(q)
        if found is None:
            chain = self.chain
            found = self._plain[q] = not chain.acts_on(q.kind, self.scenario) and all(
                i.update < q.update or i in self.complete or self.plain(i)
                for i in chain.inputs(q))
        return found

    def made(self, q: Quantity) -> np.ndarray:
        """``q`` computed with the mistake from the values before it."""
        found = self._made.get(q)
        if found is None:
            found = self._made[q] = self.chain.calc(q, self, self.scenario)
        return found

    def __missing__(self, q: Quantity) -> np.ndarray:
        # Asked for as the input of a later quantity: the student's value where given
        # (a quantity given in full is not worked out: none of its value would be used).
        given = self.given.get(q)
        if q in self.complete:
            value = np.array(given, dtype=float)
        elif q in self.own and self.plain(q):
            value = self.own[q]          # the same rule from the same numbers
        else:
            value = self.made(q)
            if given is not None:
                value = np.where(np.isfinite(given), given, value)
        self[q] = value
        return value


@dataclass(frozen=True)
class _Envs:
    """The environments the marking walks through, quantity by quantity."""

    acc: Env                       # the student's accepted values, else recomputed
    all: Env                       # all the student's values, else recomputed
    own_s: list[_OwnMistake]       # each mistake made from the student's values
    taint: dict[Quantity, frozenset[Quantity]]   # wrong given quantities upstream
    # Whether a taint blocks follow-through credit (the same for every node it reaches).
    blocks: dict[frozenset[Quantity], tuple[str | None, str]] = field(default_factory=dict)
    complete: frozenset[Quantity] = frozenset()  # the quantities given in full
    # Why a wrong given quantity is degenerate (or None), asked once per quantity
    # however many later taints hold it.
    degenerate: dict[Quantity, str | None] = field(default_factory=dict)

    def same_inputs(self, chain: Chain, q: Quantity) -> bool:
        """Whether ``q``'s inputs are the same arrays in ``acc`` and ``all`` (every
        earlier number accepted): then ``q`` is the same value in both."""
        return all(self.acc.get(i) is self.all.get(i) for i in chain.inputs(q))


def check(sheet: AnswerSheet, problem: Problem, trace: Trace,
          options: Options | None = None, problem_name: str | None = None,
          reference: Reference | None = None) -> CheckResult:
    """Mark every answer of ``sheet`` (loaded for ``problem``, solved as ``trace``);
    ``reference``: what marking needs of that solution, kept across the answer files
    of one problem (see :class:`~bpnn_steps.marking.reference.Reference`)."""
    options = options or Options()
    if reference is None or reference.trace is not trace:
        reference = Reference(problem, trace)
    # Students' numbers may overflow a recomputation (h = 1e300): such values become
    # inf/nan, which match nothing; numpy's warnings about them are not for the user.
    with np.errstate(all="ignore"):
        return _check(sheet, problem, reference, options, problem_name)


def _check(sheet: AnswerSheet, problem: Problem, reference: Reference, options: Options,
           problem_name: str | None) -> CheckResult:
    chain = reference.chain
    updates = sheet.max_update
    exact = reference.exact(updates)
    rounded = _rounded_envs(sheet, reference, options, updates)
    scenarios = reference.scenarios if updates else []
    given = {g.quantity: g for g in sheet.entries}
    values_given = {q: g.values for q, g in given.items()}
    complete = frozenset(q for q, v in values_given.items() if bool(np.isfinite(v).all()))
    own: Env = {}
    envs = _Envs({}, own, [_OwnMistake(chain, s, values_given, complete, own)
                           for s in scenarios], {}, complete=complete)
    results: dict[Quantity, GroupResult] = {}
    for u in range(1, updates + 1):
        for q in chain.nodes(u):
            upstream = [t for i in chain.inputs(q) if (t := envs.taint.get(i))]
            taint = frozenset().union(*upstream) if upstream else frozenset()
            g = given.get(q)
            if g is None:
                if envs.same_inputs(chain, q):
                    envs.acc[q] = envs.all[q] = chain.calc(q, envs.all)
                else:
                    envs.acc[q], envs.all[q] = chain.calc(q, envs.acc), chain.calc(q, envs.all)
            else:
                marker = _NodeMarker(q, g, problem, reference, options, updates, exact,
                                     rounded, scenarios, envs.own_s, taint, envs, given,
                                     values_given)
                group, accepted, new_error = marker.run()
                results[q] = group
                values = values_given[q]
                # Where every entry is the student's, the recomputed values are not
                # needed (and are worked out only when an entry's marking asked).
                if accepted is None and q in envs.complete:
                    envs.acc[q] = envs.all[q] = np.array(values, dtype=float)
                else:
                    envs.acc[q] = np.array(values, dtype=float) if accepted is None else \
                        np.where(accepted, values, marker.acc)
                    envs.all[q] = np.array(values, dtype=float) if q in envs.complete else \
                        np.where(np.isfinite(values), values, marker.own)
                if new_error:
                    taint = taint | {q}
            envs.taint[q] = taint
        # A mistake is tried within one update; the next starts from the main values.
        for n in range(1, chain.depth + 1):
            q = Quantity(u, Kind.NEW, n)
            for i in range(len(scenarios)):
                envs.own_s[i][q] = envs.all[q]
    groups = [results[g.quantity] for g in sheet.entries]
    if sheet.formulas:
        groups += mark_formulas(sheet.formulas, problem, options)
    groups.sort(key=lambda g: g.line or 0)          # the order of the answer file
    return CheckResult(answers=sheet.source, student=sheet.student,
                       problem=problem_name or problem.source,
                       problem_title=problem.title, groups=tuple(groups), options=options,
                       multi_update=len(chain.schedule) > 1, variant=problem.variant,
                       source=problem.source)


class _Rounded(Mapping[int, Env]):
    """Hand-rounding calculations by their decimals, each worked out (and kept by
    the Reference) the first time an entry's marking reads it: a sheet's right
    numbers never need the 2-decimal one."""

    def __init__(self, reference: Reference, decimals: Sequence[int], updates: int) -> None:
        self._reference, self._decimals, self._updates = reference, tuple(decimals), updates

    def __getitem__(self, decimals: int) -> Env:
        if decimals not in self._decimals:
            raise KeyError(decimals)
        return self._reference.rounded(decimals, self._updates)

    def __iter__(self) -> Iterator[int]:
        return iter(self._decimals)

    def __len__(self) -> int:
        return len(self._decimals)


def _rounded_envs(sheet: AnswerSheet, reference: Reference, options: Options, updates: int
                  ) -> Mapping[int, Env]:
    """Hand-rounding calculations: to the decimals the student wrote (2..8), to 2
    and 3 (the usual hand precisions, for diagnosis) and to --round-as-you-go.  Not
    to 1 decimal unless asked: its intermediates have one figure (h = 0.5 for
    0.5498), which the tolerance itself refuses as too few, and its drift is large
    (a whole sheet of it was "all right")."""
    wanted = {c.precision.decimals for g in sheet.entries for c in g.cells
              if c.precision is not None and 2 <= c.precision.decimals <= 8} | {2, 3}
    if options.round_as_you_go is not None:
        wanted.add(options.round_as_you_go)
    if not updates:
        return {}
    return _Rounded(reference, sorted(wanted), updates)


RELIED_SHOWN = 4                # wrong earlier keys a note names (the rest are counted)


class _NodeMarker:
    """Marks the entries of one given quantity."""

    def __init__(self, q: Quantity, g: Given, problem: Problem, reference: Reference,
                 options: Options, updates: int, exact: Env, rounded: Mapping[int, Env],
                 scenarios: Sequence[Scenario], own_s: Sequence[_OwnMistake],
                 taint: frozenset[Quantity], envs: _Envs,
                 given: dict[Quantity, Given], values_given: Mapping[Quantity, np.ndarray]
                 ) -> None:
        self.q, self.g, self.problem = q, g, problem
        self.reference = reference
        self.chain = chain = reference.chain
        self.tol = options.tolerance
        self.options = options
        self.expected = exact[q]
        self.updates = updates
        # Each array's entries as Python floats, row-major (an entry's flat place):
        # the same numbers as float() of each, converted once per problem (kept by
        # the Reference for every answer file).
        self.expected_at: list[float] = reference.exact_at(updates, q)
        # Whether each number is the exact value (within the tolerance), row-major:
        # asked once here, by the matrix patterns and by each entry's mark.
        close, expected = self.tol.close, self.expected_at
        self.right = [close(c.value, expected[k], c.precision) for k, c in enumerate(g.cells)]
        self.exact = exact
        self.rounded = rounded
        self.scenarios, self.own_s = scenarios, own_s
        self.taint = taint
        self.envs = envs
        self.given = given
        self.values_given = values_given
        self.samples = chain.schedule[q.update - 1]
        self.order = reference.positions().get(q, 0)

    # The values recomputed from the student's accepted numbers and from all their
    # numbers: worked out the first time an entry needs them (a right entry does not).

    @cached_property
    def acc(self) -> np.ndarray:
        envs = self.envs
        if envs.same_inputs(self.chain, self.q):
            return self.own
        return self.chain.calc(self.q, envs.acc)

    @cached_property
    def own(self) -> np.ndarray:
        return self.chain.calc(self.q, self.envs.all)

    @cached_property
    def acc_at(self) -> list[float]:
        return self.acc.ravel().tolist()

    @cached_property
    def own_at(self) -> list[float]:
        return self.own.ravel().tolist()

    def rounded_at(self, decimals: int) -> list[float]:
        """q in the hand calculation rounded to ``decimals`` (worked out when first
        read), as floats."""
        return self.reference.rounded_at(decimals, self.updates, self.q)

    # ------------------------------------------------------------------ node level

    def pattern(self) -> Pattern | None:
        g = self.g
        if self.q.kind in (Kind.LOSS, Kind.COST):
            return None
        if not g.transposed and all(self.right):
            return None         # matrix_pattern's answer for the right numbers
        others: dict[int, np.ndarray] = {}
        if self.q.sample is not None:
            for t in self.samples:
                if t == self.q.sample:
                    continue
                other = Quantity(self.q.update, self.q.kind, self.q.layer, t)
                others[t] = self.exact[other]
        what = f"W[{self.q.layer}]"
        return matrix_pattern(self.tol, self.values_given[self.q], self.expected,
                              [c.precision for c in g.cells], g.transposed, others, what)

    def follow_through_block(self) -> tuple[str | None, str]:
        """(reason no follow-through credit is due or None, the wrong keys relied on)."""
        found = self.envs.blocks.get(self.taint)
        if found is None:
            found = self.envs.blocks[self.taint] = self._follow_through_block()
        return found

    def _follow_through_block(self) -> tuple[str | None, str]:
        keys = sorted(self.taint, key=lambda q: (q.update, q.kind, q.layer or 0, q.sample or 0))
        # The first (the earliest) few: every wrong key before an entry of update 200
        # made each note of a long run a page long, and the report quadratic.
        names = ", ".join(self._label(k) for k in keys[:RELIED_SHOWN])
        if len(keys) > RELIED_SHOWN:
            names += f" and {len(keys) - RELIED_SHOWN} more"
        if not self.options.follow_through:
            return "follow-through marking is off", names
        for k in keys:
            reason = self._degenerate(k)
            if reason:
                return f"your {self._label(k)} is degenerate ({reason})", names
        return None, names

    def _degenerate(self, k: Quantity) -> str | None:
        known = self.envs.degenerate
        if k not in known:
            before = None
            if k.kind is Kind.NEW:
                before = self.chain.weights_before(self.envs.all, k.update)[k.n - 1]
            precisions = [c.precision for c in self.given[k].cells]
            known[k] = degenerate(k, self.values_given[k], self.exact[k], self.problem, before,
                                  self.tol, precisions, self._elsewhere(k))
        return known[k]

    def _elsewhere(self, k: Quantity) -> list[tuple[str, np.ndarray]]:
        """The right values of k for the update's other samples and in the other
        updates marked, with whose they are."""
        found = []
        if k.sample is not None:
            for t in self.chain.schedule[k.update - 1]:
                other = Quantity(k.update, k.kind, k.layer, t)
                if t != k.sample and other in self.exact:
                    found.append((f"sample {t}'s", self.exact[other]))
        for u in range(1, self.updates + 1):
            other = Quantity(u, k.kind, k.layer, k.sample)
            if u != k.update and other in self.exact:
                found.append((f"update {u}'s", self.exact[other]))
        return found

    def _label(self, k: Quantity) -> str:
        g = self.given.get(k)
        key = g.key if g is not None else str(k)
        return key if k.update == 1 else f"{key} (update {k.update})"

    # ------------------------------------------------------------------ entries

    def run(self) -> tuple[GroupResult, np.ndarray | None, bool]:
        q, g = self.q, self.g
        pattern = self.pattern()
        block, relied = self.follow_through_block() if self.taint else (None, "")
        entries = []
        new_error = False
        # The cells are row-major over the shape, as product() walks it.
        for flat, (index, cell) in enumerate(zip(product(*map(range, g.shape)), g.cells)):
            entry = self.entry(index, flat, cell, pattern, block, relied)
            if entry.mark == WRONG and entry.cause != Mistake.CARRIED_FORWARD:
                new_error = True
            entries.append(entry)
        # None: every entry is right.
        accepted = None if all(e.mark == CORRECT for e in entries) else \
            np.array([e.mark == CORRECT for e in entries], dtype=bool).reshape(g.shape)
        note = pattern.message if pattern is not None else None
        canonical = key_of(q, self.chain.depth)
        return GroupResult(g.key, q.update, g.line, note, tuple(entries),
                           order=self.order, canonical=canonical), accepted, new_error

    def entry(self, index: tuple[int, ...], flat: int, cell: Cell, pattern: Pattern | None,
              block: str | None, relied: str) -> EntryResult:
        q, g = self.q, self.g
        e = self.expected_at[flat]
        depth = self.chain.depth
        decimals = max(3, cell.precision.decimals if cell.precision else 3)
        name = self.reference.entry_name(q, index)
        given = None if cell.blank else _finite_or_none(cell.value)
        if self.right[flat] and cell.error is None and not g.transposed and \
                (pattern is None or pattern.code != Mistake.TRANSPOSED):
            # The exact value (most entries): accepted_as's first answer, at once.
            return EntryResult(g.key, q.update, index, name, CORRECT, given, cell.text, e,
                               None, "exact", None, "", cell.line or g.line, min(decimals, 8))
        base = _Place(key=g.key, update=q.update, index=index, name=name, given=given,
                      given_text=cell.text, expected=e, expected_text=None,
                      line=cell.line or g.line, decimals=min(decimals, 8))
        if cell.blank:
            return EntryResult(**base, mark=BLANK, accepted=None, cause=None,
                               message="not answered")
        if cell.error:
            return EntryResult(**base, mark=INVALID, accepted=None, cause=Mistake.FORMULA,
                               message=cell.error)
        v, p = cell.value, cell.precision
        # A transposed matrix is one mistake, marked the same whatever its shape: no
        # entry of it earns a mark, not even one that lands in its place by chance (the
        # diagonal of a square matrix).  A matrix written in the transposed shape is
        # read back into place; a square one is recognised by its numbers.
        if g.transposed:
            return EntryResult(**base, mark=WRONG, accepted=None, cause=Mistake.TRANSPOSED,
                               message="right number, but the matrix is transposed"
                               if self.tol.close(v, e, p) else "the matrix is transposed; "
                               f"this entry should be {fmt(e, decimals)}")
        if pattern is not None and pattern.code == Mistake.TRANSPOSED:
            home = pattern.places.get(index, index)
            return EntryResult(**base, mark=WRONG, accepted=None, cause=Mistake.TRANSPOSED,
                               message="right number, but the matrix is transposed"
                               if home == index else "the matrix is transposed: this number "
                               f"belongs at {entry_name(q, home, depth)}")
        accepted = self.accepted_as(flat, v, p)
        if accepted is not None:
            how, note = accepted
            return EntryResult(**base, mark=CORRECT, accepted=how, cause=None, message=note)
        own = self.own_at[flat]
        if self.taint and self.tol.close(v, own, p):
            if block is None and self._trivially_zero(v, own, e, p):
                block = "that makes this entry trivially zero"
            if block is None and self.no_update:
                block = "that makes this update all but none (the old weights)"
            if block is None:
                return EntryResult(**base, mark=FOLLOW_THROUGH, accepted="follow-through",
                                   cause=None, message=f"follow-through: consistent with your "
                                   f"{relied}")
            return EntryResult(**base, mark=WRONG, accepted=None, cause=Mistake.CARRIED_FORWARD,
                               message=f"carried forward from your wrong {relied}; no "
                               f"follow-through credit: {block}")
        cause, message = self.diagnose(index, flat, v, p, pattern, decimals)
        return EntryResult(**base, mark=WRONG, accepted=None, cause=cause, message=message)

    def _trivially_zero(self, v: float, own: float, e: float, p: Precision | None) -> bool:
        """Whether the student's wrong earlier numbers make this entry (``v``, their
        own value ``own``, the right one ``e``) trivially zero: ``own`` under a
        millionth of ``e``, or a written 0 that a vanishing factor made (an h of 0.9999
        makes h(1 - h), and all that follows it, 0.000)."""
        if abs(own) <= max(1e-12, abs(e) / TOO_LARGE) < abs(e):
            return True
        return v == 0 and abs(own) <= VANISHING * abs(e) and not self.tol.close(0.0, e, p)

    @cached_property
    def no_update(self) -> bool:
        """Whether the new weights the student's wrong earlier numbers give are all
        but the weights before: their whole update under a hundredth of the right one
        (a y-hat of all but y makes every gradient, and so the update, all but zero;
        the old weights copied are then "consistent").  The whole matrix: one entry's
        update may be small in honest work."""
        if self.q.kind is not Kind.NEW:
            return False
        before = np.asarray(self.chain.weights_before(self.envs.all, self.q.update)
                            [self.q.n - 1], dtype=float)
        return all_but(self.own, self.expected, before)

    def accepted_as(self, flat: int, v: float, p: Precision | None
                    ) -> tuple[str, str] | None:
        """How a number counts as right (the entry at ``flat``, its row-major place):
        (how, note), or None."""
        e = self.expected_at[flat]
        if self.right[flat]:
            return "exact", ""
        for d in self.rounded:
            # A hand calculation rounded to d decimals explains an answer written with
            # at most d decimals (and precisely enough for "as written").
            chosen = d == self.options.round_as_you_go
            if p is None or d < p.decimals or not self.tol.precise_enough(p) or \
                    not (self.tol.as_written or chosen):
                continue
            r = self.rounded_at(d)[flat]
            if abs(v - r) <= 0.5 * p.ulp * (1 + 1e-9) + 1e-12 * max(1.0, abs(r)):
                return f"rounding {d}", (f"hand rounding to {d} d.p. gives {fmt(r, d)}; exact "
                                         f"{fmt(e, d + 2)} (drift {fmt(r - e, d + 1)})")
        acc = self.acc_at[flat]
        if differs(acc, e) and self.tol.close(v, acc, p):
            d = p.decimals if p else 3
            return "own values", (f"follows from your earlier (rounded) values: "
                                  f"{fmt(acc, max(3, d + 1))}; exact {fmt(e, max(5, d + 2))}")
        return None

    def diagnose(self, index: tuple[int, ...], flat: int, v: float, p: Precision | None,
                 pattern: Pattern | None, decimals: int) -> tuple[Mistake, str]:
        """The likely cause of a wrong number: (MISTAKES code, message)."""
        if pattern is not None:
            return self._pattern_message(pattern, index)
        found = self.explanations(index, flat, v, p, decimals)
        if found:
            code, words = found[0]
            message = words()
            others = []
            for other, _ in found[1:]:
                if other != code and other not in others:
                    others.append(other)
            if others:
                message += " (also fits: " + ", ".join(MISTAKES[o] for o in others) + ")"
            return code, message
        e = self.expected_at[flat]
        own = self.own_at[flat]
        acc = self.acc_at[flat]

        def refs() -> Iterator[float]:
            """The exact value, each hand-rounding calculation's, the one from the
            student's accepted values (a rounded one worked out only when reached)."""
            yield e
            for d in self.rounded:
                yield self.rounded_at(d)[flat]
            yield acc

        if p is not None and not self.tol.precise_enough(p):
            if any(abs(v - ref) <= 0.5 * p.ulp * (1 + 1e-9) for ref in (e, acc)):
                return Mistake.ROUNDING, (f"too few figures: write {fmt(e, max(3, decimals))} "
                                    f"(at least {self.tol.min_figures} significant figures or "
                                    f"{self.tol.min_decimals} decimals)")
        elif p is not None:
            for d in self.rounded:
                if d >= p.decimals:
                    continue
                r = self.rounded_at(d)[flat]
                if abs(v - r) <= 0.5 * 10.0 ** -d * (1 + 1e-9) and differs(r, e):
                    return Mistake.ROUNDING, (f"rounding slip: this is the {d}-decimal hand "
                                        f"calculation's {fmt(r, d)}, written with "
                                        f"{p.decimals} decimals; at {p.decimals} decimals the "
                                        f"value is {fmt(round_half_up(e, p.decimals), p.decimals)}")
            if any(self.tol.loosely_close(v, ref, p) for ref in refs()):
                return Mistake.ROUNDING, (f"rounding slip: {fmt(e, decimals + 2)} rounds to "
                                    f"{fmt(round_half_up(e, p.decimals), p.decimals)}")
        extra = f" (your earlier values give {fmt(own, decimals)})" \
            if fmt(own, decimals) != fmt(e, decimals) else ""
        return Mistake.UNKNOWN, f"expected {fmt(e, decimals)}{extra}"

    def explanations(self, index: tuple[int, ...], flat: int, v: float, p: Precision | None,
                     decimals: int) -> list[tuple[Mistake, Callable[[], str]]]:
        """Every typical mistake that produces the given number, most specific first,
        each with its message (written when asked for: only the first one is)."""
        q = self.q
        e = self.expected_at[flat]
        own = self.own_at[flat]
        found: list[tuple[Mistake, Callable[[], str]]] = []
        # A mistake that leaves q as the student's own values give it (it does not
        # act on q, nor on any input not given in full) explains nothing made from
        # their values: that value is not worked out (see _OwnMistake.plain).
        close = self.tol.close
        for c, ref in self.reference.candidates(self.updates, q)[flat]:
            # (ref: the mistake made from the exact values, None where it gives e)
            if ref is None or not (differs(ref, own) and close(v, ref, p, 1.0)):
                # The mistake made from the student's values only when the one made
                # from the exact values does not explain the number (worked out then).
                if self.own_s[c.place].plain(q):
                    continue
                ref = float(self.own_s[c.place].made(q)[index])
                if not (differs(ref, e) and differs(ref, own) and close(v, ref, p, 1.0)):
                    continue
            s = c.scenario
            found.append((c.code, partial(
                scenario_message, c.code, q, self.problem, ref, sign_update=s.sign_update,
                layer=s.linear_at, batch=len(self.samples), decimals=decimals)))
        for factor, code, message in self.reference.factors(q, len(self.samples)):
            if any(abs(ref) > 1e-12 and self.tol.close(v, factor * ref, p, 1.0)
                   for ref in (e, own)):
                found.append((code, partial(str, message)))
        if any(abs(ref) > 1e-12 and self.tol.close(v, -ref, p) for ref in (e, own)):
            found.append((Mistake.SIGN, lambda: f"sign slip: the right value is "
                          f"{fmt(e, decimals)}"))
        if q.sample is not None:
            for t in self.samples:
                if t == q.sample:
                    continue
                other = self.reference.exact_at(
                    self.updates, Quantity(q.update, q.kind, q.layer, t))[flat]
                if differs(other, e) and self.tol.close(v, other, p):
                    found.append((Mistake.WRONG_SAMPLE, partial(
                        "this is sample {}'s value; sample {}'s is {}".format, t, q.sample,
                        fmt(e, decimals))))
        return found

    def _pattern_message(self, pattern: Pattern, index: tuple[int, ...]
                         ) -> tuple[Mistake, str]:
        place = pattern.places.get(index)
        if place is None:
            return pattern.code, pattern.message
        if pattern.code == Mistake.WRONG_SAMPLE:
            other = Quantity(self.q.update, self.q.kind, self.q.layer, pattern.sample)
            return pattern.code, f"sample {pattern.sample}'s " \
                f"{entry_name(other, place, self.chain.depth)}"
        if self.g.transposed:
            return pattern.code, "transposed (rows and columns swapped)"
        return pattern.code, f"belongs at {entry_name(self.q, place, self.chain.depth)}"


# --------------------------------------------------------------------------- formulas


def mark_formulas(formulas: Sequence[FormulaGiven], problem: Problem, options: Options
                  ) -> list[GroupResult]:
    """Check generic-sample formulas for algebraic equivalence with the derivation."""
    try:
        from ..maths import symbolic
        answer_symbols = symbolic.answer_symbols
        gradient_entry = symbolic.gradient_entry
        gradient_entries = symbolic.gradient_entries
    except (ImportError, AttributeError):
        return [_unavailable(f, "symbolic checking is not available in this installation",
                             len(problem.layers) - 1) for f in formulas]
    from ..model.conventions import UpdateOrder

    conventions = problem.conventions
    if conventions.update_order is UpdateOrder.OUTPUT_FIRST:
        # A sample's gradient then rests on the layer above's new weights: no formula
        # of the sample alone.
        return [_unavailable(f, "the output-first order has no formula of a generic sample",
                             len(problem.layers) - 1) for f in formulas]
    if not formulas:
        return []
    symbols = answer_symbols(problem.layers)

    from ..maths.formula import ExpectedCache

    # the points and the gradient's values there, each value probed over its span
    cache = ExpectedCache(_value_spans(problem))
    # The derivation's entries under the conventions (their factor on J), derived
    # once for every formula of the file.
    derived = gradient_entries(problem.layers, problem.activations, problem.loss, conventions)
    groups = []
    for f in formulas:
        expected: dict[tuple[int, int], sympy.Expr] = {}
        for i in range(f.shape[0]):
            for j in range(f.shape[1]):
                key = (f.layer, i, j + 1)
                expected[(i, j)] = derived[key] if key in derived else gradient_entry(
                    problem.layers, problem.activations, problem.loss, f.layer, i, j + 1,
                    conventions)        # (not an entry: gradient_entry says why)
        entries = [_mark_formula(f, (i, j), text, line, expected, symbols, problem, cache)
                   for (i, j), (text, line) in zip(np.ndindex(f.shape), f.cells)]
        groups.append(GroupResult(f.key, None, f.line, None, tuple(entries),
                                  order=1_000_000 + f.layer,
                                  canonical=key_name(Kind.GRAD, f.layer, "t",
                                                     len(problem.layers) - 1)))
    return groups


def _value_spans(problem: Problem) -> dict[str, Span]:
    """Where formula marking probes each unit and target (weights and inputs take any
    value): a unit over its activation's range (tanh and leaky_relu units of either
    sign, linear ones beyond 1 as well, relu ones at 0 once), a target over any value
    under mse and within (0, 1) for a classification loss."""
    from ..maths import symbolic
    from ..maths.activations import ACTIVATIONS
    from ..maths.formula import BOUNDED, UNBOUNDED, Span
    from ..maths.losses import LOSSES

    depth = len(problem.layers) - 1
    spans: dict[str, Span] = {}
    for n in range(1, depth + 1):
        values = ACTIVATIONS[problem.activations[n - 1]].range
        span = Span(signed=values.low < 0, wide=values.high > 1,
                    zero=values.low == 0 and not values.low_open)
        for j in range(1, problem.layers[n] + 1):
            spans[symbolic.symbol_name(symbolic.unit(n, j, depth), depth)] = span
    targets = BOUNDED if LOSSES[problem.loss].classification else UNBOUNDED
    spans.update({f"y{k}": targets for k in range(1, problem.layers[-1] + 1)})
    return spans


def _unavailable(f: FormulaGiven, message: str, depth: int) -> GroupResult:
    q = Quantity(0, Kind.GRAD, f.layer, None)
    entries = tuple(EntryResult(f.key, None, (int(i), int(j)), entry_name(q, (i, j), depth),
                                BLANK if text is None else INVALID, None, text, None, None,
                                None, None if text is None else Mistake.FORMULA, message, line)
                    for (i, j), (text, line) in zip(np.ndindex(f.shape), f.cells))
    return GroupResult(f.key, None, f.line, None, entries)


def _mark_formula(f: FormulaGiven, index: tuple[int, int], text: str | None, line: int | None,
                  expected: dict[tuple[int, int], sympy.Expr],
                  symbols: dict[str, sympy.Symbol], problem: Problem,
                  cache: ExpectedCache) -> EntryResult:
    import sympy

    from ..maths.formula import FormulaError, compare, parse

    depth = len(problem.layers) - 1
    q = Quantity(0, Kind.GRAD, f.layer, None)
    index = (int(index[0]), int(index[1]))
    want = expected[index]
    want_text = sympy.sstr(want, order="none")       # the derivation's own order of terms
    base = _Place(key=f.key, update=None, index=index, name=entry_name(q, index, depth),
                  given=None, given_text=text, expected=None, expected_text=want_text,
                  line=line)
    if text is None:
        return EntryResult(**base, mark=BLANK, accepted=None, cause=None, message="not answered")
    shown = clean_text(text if len(text) <= 60 else text[:57] + "...")
    base["given_text"] = clean_text(text)
    try:
        formula = parse(text, symbols.keys())
    except FormulaError as err:
        return EntryResult(**base, mark=INVALID, accepted=None, cause=Mistake.FORMULA,
                           message=f"cannot read {shown!r}: {err}")
    except RecursionError:
        return EntryResult(**base, mark=INVALID, accepted=None, cause=Mistake.FORMULA,
                           message=f"cannot read {shown!r}: it is nested too deeply")
    # The student's formula is never handed to sympy: it is evaluated at exact points
    # within a budget, and a formula over budget is wrong ("could not be evaluated").
    result = compare(formula, want, symbols, cache)
    if result.equivalent:
        return EntryResult(**base, mark=CORRECT, accepted="equivalent", cause=None,
                           message="algebraically equivalent")
    if result.unevaluated is not None:
        return EntryResult(**base, mark=WRONG, accepted=None, cause=Mistake.UNEVALUATED,
                           message=f"could not be evaluated: {shown!r} {result.unevaluated}; "
                           f"the gradient is {want_text}")
    cause, message = _formula_diagnosis(result, formula, index, f, expected, symbols, problem,
                                        cache)
    return EntryResult(**base, mark=WRONG, accepted=None, cause=cause,
                       message=f"{message}; the gradient is {want_text}")


def _formula_diagnosis(result: Comparison, student: Formula, index: tuple[int, int],
                       f: FormulaGiven, expected: dict[tuple[int, int], sympy.Expr],
                       symbols: dict[str, sympy.Symbol], problem: Problem,
                       cache: ExpectedCache) -> tuple[Mistake, str]:
    from ..maths.activations import ACTIVATIONS, Unitwise
    from ..maths.losses import LOSSES
    from ..maths.formula import compare

    depth = len(problem.layers) - 1
    q = Quantity(0, Kind.GRAD, f.layer, None)
    if result.factor is not None:
        factor = result.factor
        if factor == -1:
            return Mistake.SIGN, "sign slip: the negative of the gradient (y − ŷ instead of ŷ − y?)"
        if factor == 2 and LOSSES[problem.loss].half and problem.conventions.mse_half:
            return Mistake.MISSING_HALF, "missing 1/2: twice the gradient"
        if factor * 2 == 1 and LOSSES[problem.loss].half and \
                not problem.conventions.mse_half:
            return Mistake.EXTRA_HALF, f"half the gradient: {convention_note(Mistake.EXTRA_HALF)}"
        if factor != 0:
            return Mistake.CONSTANT_FACTOR, f"off by a constant factor: {factor} times the gradient"
    act_name = problem.activations[f.layer - 1]
    act = ACTIVATIONS[act_name]
    unit = (f"yhat{index[1] + 1}" if f.layer == depth else
            f"h{index[1] + 1}" if depth == 2 else f"h{f.layer}_{index[1] + 1}")
    # (a linear layer's formula without f' = 1 is the gradient: never reached here)
    if isinstance(act.form, Unitwise) and unit in symbols and result.ratios:
        derivs = [float(act.form.of_value(np.array(float(p[unit])))) for p in result.probed]
        if len(result.ratios) == len(derivs) and all(
                math.isfinite(r) and abs(r - d) <= 1e-9 * max(1.0, abs(d))
                for r, d in zip(result.ratios, derivs)):
            factor_text = act.derivative_unicode(unit)
            return Mistake.MISSING_DERIVATIVE, f"missing activation derivative {factor_text}"
    for other, expr in expected.items():
        if other != index and compare(student, expr, symbols, cache).equivalent:
            name = entry_name(q, other, depth)
            return Mistake.REARRANGED, f"this is the formula of {name} (wrong place)"
    used = set(student.names) | {str(sym) for sym in expected[index].free_symbols}
    point = ", ".join(f"{k} = {fmt(v)}" for k, v in result.point.items() if k in used)
    if result.student_value is None or result.expected_value is None:
        return Mistake.UNKNOWN, f"not equivalent to the gradient (undefined at {point})"
    return Mistake.UNKNOWN, (f"not equivalent to the gradient: at {point} yours gives "
                       f"{fmt(result.student_value)}, the gradient {fmt(result.expected_value)}")
