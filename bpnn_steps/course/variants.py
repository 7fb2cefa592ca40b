"""Draw variants of a problem: new hand-friendly numbers that pass the quality test.

Variant ``i`` of a run with seed ``S`` is the first candidate ``a = 0, 1, 2, ...``
drawn with ``numpy.random.default_rng([S, i, a])`` that passes every test of
:mod:`.quality` and differs from variants ``1 .. i-1``.  numpy's SeedSequence and
PCG64 give the same numbers on every machine, and variant ``i`` never depends on
how many variants are asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ProblemError
from ..maths.losses import LOSSES
from ..model.problem import Problem
from ..files.untrusted import CONFINED, ReadAccess, clean_text, excerpt
from ..model.variant import Variant, VariantId, id_base, variant_id
from .quality import Reason, Rejection, Settings, assess, structure
from .variant_spec import Grid, VariantSpec

# How many generic problems decide which gradient entries are structurally zero.
GENERIC_DRAWS = 2
MAX_COUNT = 10_000
# The highest index an answer file may ask check to draw again: drawing variant i
# draws 1 .. i - 1 too (up to a tenth of a second each: classification_121's
# 1,000 took 84 s), and the id comes from a student; and the most variants one
# check run draws in all, whatever seeds its files name (each seed is a draw of
# its own: a class of files naming 200 seeds made a batch of hours).
MAX_REDRAWN_INDEX = 300
MAX_REDRAWN_TOTAL = 600


@dataclass(frozen=True)
class Rejected:
    """A candidate that failed: which variant it was drawn for, its attempt, why."""

    index: int
    attempt: int
    why: Rejection


@dataclass(frozen=True)
class Run:
    """The variants drawn (in index order), every rejected candidate, and the index
    that could not be filled within the attempts (None: the run is complete)."""

    base: str
    seed: int
    variants: tuple[Variant, ...]
    rejected: tuple[Rejected, ...]
    attempts: int
    failed: int | None = None

    @property
    def candidates(self) -> int:
        return len(self.variants) + len(self.rejected)

    def counts(self) -> list[tuple[Reason, int]]:
        """How many candidates each reason rejected, most first."""
        counter = Counter(r.why.reason for r in self.rejected)
        return sorted(counter.items(), key=lambda kv: (-kv[1], list(Reason).index(kv[0])))

    def examples(self, reason: Reason, count: int = 2) -> list[Rejected]:
        return [r for r in self.rejected if r.why.reason is reason][:count]

    def require_complete(self) -> None:
        """Raise a ProblemError when a variant could not be drawn."""
        if self.failed is None:
            return
        mine = [r for r in self.rejected if r.index == self.failed]
        counter = Counter(r.why.reason for r in mine).most_common(1)
        most = f"; most were rejected as {counter[0][0]} ({counter[0][0].description}), " \
            f"e.g. {mine[-1].why.detail}" if counter else ""
        raise ProblemError(f"no candidate for variant {self.failed} passed the quality test "
                           f"in {self.attempts} attempts{most}. Widen the ranges in the "
                           "variants: block, or run with --explain for the details",
                           file=self.base)


def base_name(problem: Problem) -> str:
    """The name variant ids start with: the problem file's stem (a bundled problem's
    source reads ``lecture_122 (lecture_122.yaml)``)."""
    from pathlib import PurePath

    source = problem.source
    if source.endswith(")") and " (" in source:
        source = source[source.rindex(" (") + 2:-1]
    return id_base(PurePath(source).stem)


def variants(base: Problem, spec: VariantSpec, count: int, seed: int,
             name: str | None = None,
             progress: Callable[[int], None] | None = None) -> Run:
    """Variants 1 .. ``count`` of ``base`` drawn with ``seed`` (see the module); their
    ids start with ``name`` (default: the stem of the base file's name).
    ``progress(i)`` is told of each variant i drawn (the command's progress bar)."""
    if count < 1 or count > MAX_COUNT:
        raise ValueError(f"count must be 1 .. {MAX_COUNT}, got {count}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    base.require_for_solving()
    _enough_inputs(base, spec)
    name = base_name(base) if name is None else name
    settings = Settings(spec.saturation, spec.decimals)
    known = structure(list(generic_problems(base, spec)), settings)
    accepted: list[Variant] = []
    seen: dict[bytes, int] = {}
    rejected: list[Rejected] = []
    for index in range(1, count + 1):
        for attempt in range(spec.attempts):
            problem = draw(base, spec, np.random.default_rng([seed, index, attempt]))
            why = assess(problem, settings, known)
            key = _numbers(problem)
            if not why and key in seen:
                why = [Rejection(Reason.REPEATED, f"the numbers of variant {seen[key]}")]
            if why:
                rejected.append(Rejected(index, attempt, why[0]))
                continue
            ident = variant_id(name, seed, index)
            seen[key] = index
            accepted.append(Variant(ident, replace(problem, variant=ident,
                                                   source=f"{ident}.yaml"), spec.varied()))
            if progress is not None:
                progress(index)
            break
        else:
            return Run(base.source, seed, tuple(accepted), tuple(rejected), spec.attempts,
                       failed=index)
    return Run(base.source, seed, tuple(accepted), tuple(rejected), spec.attempts)


def _enough_inputs(base: Problem, spec: VariantSpec) -> None:
    """Refuse at once a draw whose inputs cannot differ between every two samples."""
    if spec.inputs is None:
        return
    x = base.data()[0]
    rows = len(spec.inputs.values) ** x.shape[1]
    if rows < x.shape[0]:
        raise ProblemError(f"variants.inputs gives {rows} different input "
                           f"row{'s' if rows != 1 else ''} "
                           f"({spec.inputs.describe()} for {x.shape[1]} input"
                           f"{'s' if x.shape[1] != 1 else ''}), too few for {x.shape[0]} "
                           "samples that must all differ; widen the range or keep the "
                           "file's inputs (inputs: false)", file=base.source)


def make_variant(base: Problem, spec: VariantSpec, seed: int, index: int,
                 name: str | None = None) -> Variant:
    """Variant ``index`` of ``base`` drawn with ``seed``, regenerated (variants
    1 .. index-1 are drawn too: a variant differs from the ones before it).  A
    ProblemError when it cannot be drawn."""
    run = variants(base, spec, index, seed, name)
    run.require_complete()
    return run.variants[-1]


def draw(base: Problem, spec: VariantSpec, rng: np.random.Generator) -> Problem:
    """One candidate: ``base`` with new numbers where ``spec`` says, always drawn in
    the same order (weights layer by layer, inputs, targets, learning rate)."""
    weights = tuple(w if grid is None else _pick(rng, grid, w.shape)
                    for w, grid in zip(base.initial_weights(), spec.weights))
    x, y = base.data()
    if spec.inputs is not None:
        x = _pick(rng, spec.inputs, x.shape)
    if spec.one_hot:
        y = np.eye(y.shape[1])[rng.integers(0, y.shape[1], size=y.shape[0])]
    elif spec.targets is not None:
        y = _pick(rng, spec.targets, y.shape)
    training = base.training
    if spec.learning_rates is not None:
        rate = spec.learning_rates[int(rng.integers(0, len(spec.learning_rates)))]
        training = replace(training, learning_rate=rate)
    return replace(base, x=x, y=y, weights=weights, training=training, weights_origin="explicit",
                   x_test=None, y_test=None, lines={})


def generic_problems(base: Problem, spec: VariantSpec) -> Iterator[Problem]:
    """``base`` at generic numbers (off every grid) where ``spec`` varies them: an
    entry that is 0 in each of these is 0 whatever the numbers."""
    for k in range(GENERIC_DRAWS):
        rng = np.random.default_rng([0x6E6E, k])
        weights = tuple(w if g is None else _generic(rng, g, w.shape)
                        for w, g in zip(base.initial_weights(), spec.weights))
        x, y = base.data()
        if spec.inputs is not None:
            x = _generic(rng, spec.inputs, x.shape)
        if spec.one_hot or spec.targets is not None:
            y = np.stack([LOSSES[base.loss].draw_targets(rng, y.shape[1])
                          for _ in range(y.shape[0])])
        training = base.training
        if spec.learning_rates is not None:
            training = replace(training, learning_rate=float(rng.uniform(
                min(spec.learning_rates), max(spec.learning_rates))))
        yield replace(base, x=x, y=y, weights=weights, training=training, x_test=None,
                      y_test=None)


def _pick(rng: np.random.Generator, grid: Grid, shape: Sequence[int]) -> np.ndarray:
    values = np.array(grid.values, dtype=float)
    return values[rng.integers(0, len(values), size=tuple(shape))]


def _generic(rng: np.random.Generator, grid: Grid, shape: Sequence[int]) -> np.ndarray:
    low, high = grid.low, grid.high
    if low == high:
        return np.full(tuple(shape), low)
    return rng.uniform(low, high, size=tuple(shape))


def _numbers(problem: Problem) -> bytes:
    """Everything a variant draws, as bytes (two variants are equal when these are)."""
    x, y = problem.data()
    parts = [w.tobytes() for w in problem.initial_weights()] + [x.tobytes(), y.tobytes(),
                                                                 repr(problem.learning_rate()).encode()]
    return b"|".join(parts)


# --------------------------------------------------------------------------- texts


def variant_text(variant: Variant, base: str) -> str:
    """A variant as a complete problem file, with a header saying what it is and how
    to solve it and mark answers against it (``base``: the file it was drawn from,
    as the command line named it)."""
    from ..files.problem_writer import problem_text
    from ..files.variant_folder import variant_file

    parts = variant.parts
    name = variant_file(variant.id)
    base = clean_text(base)             # comments: one line each, whatever the name
    drawn = "" if parts is None else f" --seed {parts.seed}   (variant {parts.index})"
    varied = " ".join(variant.varied) or "nothing"
    return problem_text(variant.problem, [
        f"Variant {variant.id} of {base}:",
        f"the same network, loss and settings with new numbers ({varied}),",
        "drawn and quality-tested by",
        f"  bpnn-steps variants {base}{drawn}",
        f"Worked solution:          bpnn-steps solve {name}",
        f"Blank answer sheet:       bpnn-steps check --template {name}",
        f"Mark an answer file:      bpnn-steps check ANSWERS.yaml --problem {name}",
    ])


def explanation(run: Run, own: Sequence[Rejection] | None = None, examples: int = 2) -> str:
    """Why candidates were rejected (``--explain``): the count per reason, most first,
    with examples; then, given ``own`` (the base file's own numbers assessed), whether
    they would pass."""
    lines = [f"candidates: {run.candidates} drawn, {len(run.variants)} accepted, "
             f"{len(run.rejected)} rejected"]
    counts = run.counts()
    if counts:
        lines.append("rejected (most first):")
        width = max(len(str(n)) for _, n in counts)
        for reason, n in counts:
            lines.append(f"  {n:>{width}}  {reason}: {reason.description}")
            for r in run.examples(reason, examples):
                lines.append(f"  {'':>{width}}    e.g. variant {r.index}, attempt {r.attempt}: "
                             f"{r.why.detail}")
    if run.failed is not None:
        lines.append(f"variant {run.failed}: no candidate passed in {run.attempts} attempts")
    if own is not None:
        if not own:
            lines.append("the file's own numbers: pass")
        else:
            lines.append("the file's own numbers: fail")
            by_reason: dict[Reason, list[Rejection]] = {}
            for rejection in own:
                by_reason.setdefault(rejection.reason, []).append(rejection)
            for reason, found in by_reason.items():
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                lines.append(f"  {reason}: {found[0].detail}{more}")
    return "\n".join(lines) + "\n"


def assess_own(base: Problem, spec: VariantSpec) -> list[Rejection]:
    """Every reason the base file's own numbers would be rejected."""
    from .quality import assess as assess_problem

    settings = Settings(spec.saturation, spec.decimals)
    known = structure(list(generic_problems(base, spec)), settings)
    return assess_problem(base, settings, known, first_only=False)


def variant_of(source: str, ident: str) -> Variant:
    """The variant ``ident`` (e.g. ``lecture_122-s7-003``) of the problem file (or
    bundled problem) ``source``, drawn again from the file's ``variants:`` block: for
    an answer file that names its base problem and a variant id.  A ProblemError
    when the id is not a variant id of that file or cannot be drawn."""
    from ..files.problem_file import read_problem_document
    from .variant_spec import read_spec

    parts = VariantId.parse(ident)
    document = read_problem_document(source)
    name = id_base(document.path.stem)
    if parts is None or parts.base != name:
        raise ProblemError(f"{excerpt(ident)} is not a variant id of this file (expected "
                           f"{name}-sSEED-INDEX, e.g. {variant_id(name, 1, 1)})",
                           file=document.problem.source)
    if parts.index > MAX_COUNT:
        raise ProblemError(f"variant index {parts.index} is above {MAX_COUNT:,}",
                           file=document.problem.source)
    spec = read_spec(document.tree, document.problem)
    return make_variant(document.problem, spec, parts.seed, parts.index, name)


class Regenerator:
    """Draws the variants that answer files name by id from their base problem file,
    for ``check`` (marking.marker.Regenerate).  One run per base file and seed is kept
    and extended by doubling, so a class naming variants 1 .. N costs one draw of N,
    not N draws."""

    def __init__(self, access: ReadAccess = CONFINED) -> None:
        self._access = access
        self._runs: dict[tuple[Path, int], tuple[Problem, VariantSpec, str, Run]] = {}
        self._drawn = 0                 # variants drawn so far, in every run

    def __call__(self, path: Path, ident: VariantId) -> Problem:
        from ..files.problem_file import read_problem_document
        from .variant_spec import read_spec

        if ident.index > MAX_REDRAWN_INDEX:
            raise ProblemError(f"variant index {ident.index} is above {MAX_REDRAWN_INDEX:,}, "
                               "the most check draws again; mark it with --variants DIR (the "
                               "folder 'bpnn-steps variants' wrote)", file=str(path))
        key = (path, ident.seed)
        if key not in self._runs:
            document = read_problem_document(path, access=self._access)
            spec = read_spec(document.tree, document.problem)
            self._runs[key] = (document.problem, spec, id_base(path.stem),
                               Run(document.problem.source, ident.seed, (), (), spec.attempts))
        base, spec, name, run = self._runs[key]
        if ident.index > len(run.variants) and run.failed is None:
            count = min(max(ident.index, 2 * len(run.variants)), MAX_REDRAWN_INDEX)
            if self._drawn + count > MAX_REDRAWN_TOTAL:
                raise ProblemError(f"drawing variant {ident} again would take this run past "
                                   f"{MAX_REDRAWN_TOTAL:,} variants drawn; mark the class "
                                   "with --variants DIR (the folder 'bpnn-steps variants' "
                                   "wrote)", file=str(path))
            self._drawn += count
            run = variants(base, spec, count, ident.seed, name)
            self._runs[key] = (base, spec, name, run)
        if ident.index > len(run.variants):
            run.require_complete()
        return run.variants[ident.index - 1].problem
