"""Tolerances and the diagnosis of wrong answers.

A given number is compared with a reference value under a :class:`Tolerance`:
absolute, relative, or "as written" (a number written with d decimals is right
when it lies within half a unit of its last written place of the reference, so
``0.55`` is right for 0.54983 and ``0.550`` too, but ``0.54`` is not).  "As
written" needs at least :attr:`Tolerance.min_figures` significant figures or
:attr:`Tolerance.min_decimals` decimals: ``0.5`` is not accepted for 0.54983.

Diagnoses name the likely cause of a wrong entry; :data:`MISTAKES` lists them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..model.coded import Coded
from ..model.conventions import (LECTURE, PRESETS, Combine, Conventions, UpdateOrder,
                                 value_text)
from ..model.answer_sheet import Precision
from ..model.quantities import Kind, Quantity
from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES
from ..numfmt import fmt
from ..model.problem import Problem


class Mistake(Coded):
    """A diagnosed cause of a wrong entry: its code (what the JSON reports) and its
    description."""

    TRANSPOSED = "transposed", "transposed matrix (rows and columns swapped)"
    REARRANGED = "rearranged", "right numbers in the wrong places"
    WRONG_SAMPLE = "wrong-sample", "another sample's values"
    SIGN = "sign", "sign slip"
    ROUNDING = "rounding", "rounding slip"
    MISSING_DERIVATIVE = "missing-derivative", "missing activation derivative"
    MISSING_1_T = "missing-1/T", "missing 1/T (sum of the losses instead of their mean)"
    MISSING_HALF = "missing-1/2", "missing 1/2 (of the squared error)"
    SUM_NOT_MEAN = "sum-not-mean", "sum instead of mean over the samples"
    NEW_WEIGHTS_TOO_EARLY = ("new-weights-too-early",
                             "updated weights used too early in the backward pass")
    CARRIED_FORWARD = "carried-forward", "error carried forward from an earlier wrong entry"
    MISSING_LAMBDA = "missing-lambda", "learning rate left out of the update"
    MISSING_BIAS = "missing-bias", "bias weight left out"
    MISSING_ACTIVATION = "missing-activation", "activation function not applied"
    # Another value of a conventions key followed (CONVENTION_SLIPS), beside the
    # missing 1/2, the sum over the samples and the new weights used too early above.
    EXTRA_HALF = "extra-1/2", "a 1/2 of the squared error that the conventions do not have"
    OUTPUT_MEAN = "mean-over-outputs", "mean over the outputs instead of their sum"
    OUTPUT_SUM = "sum-over-outputs", "sum over the outputs instead of their mean"
    MEAN_NOT_SUM = "mean-not-sum", "mean instead of sum over the samples"
    BIASES_KEPT = "biases-not-updated", "biases (row 0) left unchanged by the update"
    BIASES_UPDATED = "biases-updated", "biases (row 0) updated, which the conventions keep"
    OLD_WEIGHTS = ("old-weights-in-backward-pass",
                   "old weights used in the backward pass (the conventions update the output "
                   "layer first)")
    CONSTANT_FACTOR = "constant-factor", "off by a constant factor"
    FORMULA = "formula", "answer cannot be read"
    UNEVALUATED = "unevaluated", "formula could not be evaluated (too large or undefined)"
    UNKNOWN = "unknown", "no known mistake pattern"


# Descriptions by code (a code read back from JSON is a plain string).
MISTAKES: dict[str, str] = {m.value: m.description for m in Mistake}


@dataclass(frozen=True)
class ConventionSlip:
    """Following another value of one conventions key (CONTRACT section 5)
    consistently: the key, the value followed, and what that means in words."""

    key: str
    value: Any
    words: str


CONVENTION_SLIPS: Mapping[Mistake, ConventionSlip] = {
    Mistake.MISSING_HALF: ConventionSlip(
        "mse_half", False, "you left out the ½ of the squared error, as PyTorch's MSELoss "
        "does"),
    Mistake.EXTRA_HALF: ConventionSlip(
        "mse_half", True, "you kept a ½ of the squared error that these conventions do not "
        "have"),
    Mistake.OUTPUT_MEAN: ConventionSlip(
        "output_reduction", Combine.MEAN, "you took the mean over the outputs instead of "
        "their sum, as PyTorch's MSELoss and BCELoss do"),
    Mistake.OUTPUT_SUM: ConventionSlip(
        "output_reduction", Combine.SUM, "you summed over the outputs; these conventions take "
        "their mean"),
    Mistake.SUM_NOT_MEAN: ConventionSlip(
        "cost", Combine.SUM, "you summed over the samples instead of taking their mean"),
    Mistake.MEAN_NOT_SUM: ConventionSlip(
        "cost", Combine.MEAN, "you took the mean over the samples; these conventions sum them"),
    Mistake.BIASES_KEPT: ConventionSlip(
        "update_biases", False, "you left the biases (row 0) unchanged, as Mazur's example "
        "does"),
    Mistake.BIASES_UPDATED: ConventionSlip(
        "update_biases", True, "you updated the biases (row 0); these conventions keep them"),
    Mistake.NEW_WEIGHTS_TOO_EARLY: ConventionSlip(
        "update_order", UpdateOrder.OUTPUT_FIRST, "you updated the output layer first, the "
        "order behind Mazur's \"error after the first round\""),
    Mistake.OLD_WEIGHTS: ConventionSlip(
        "update_order", UpdateOrder.SIMULTANEOUS, "you back-propagated through the old "
        "weights; these conventions update the output layer first and back-propagate "
        "through its new weights"),
}


def convention_slips(conventions: Conventions) -> list[tuple[Mistake, Conventions]]:
    """For each key, the mistake of following its other value and the conventions
    that mistake follows (in CONVENTION_SLIPS order)."""
    out = []
    for code, slip in CONVENTION_SLIPS.items():
        if getattr(conventions, slip.key) != slip.value:
            out.append((code, replace(conventions, **{slip.key: slip.value})))
    return out


def convention_note(code: Mistake) -> str:
    """The words of a conventions slip with the key, its value and the presets that
    have it: "... (conventions: mse_half false; preset pytorch)"."""
    slip = CONVENTION_SLIPS[code]
    value = value_text(slip.value)
    if getattr(LECTURE, slip.key) == slip.value:
        who = ", the lecture's"
    else:
        presets = [name for name, keys in PRESETS.items() if keys.get(slip.key) == slip.value]
        who = "; preset " + ", ".join(presets) if presets else ""
    return f"{slip.words} (conventions: {slip.key} {value}{who})"


@dataclass(frozen=True)
class Tolerance:
    """When a given number counts as equal to a reference value."""

    abs_tol: float = 1e-9
    rel_tol: float = 1e-6
    as_written: bool = True
    min_figures: int = 2
    min_decimals: int = 3

    def __post_init__(self) -> None:
        # The command line refuses these (cli.options.number_option); the Python API
        # as well: a nan tolerance marked right answers wrong, an inf one every
        # wrong answer right.
        for name in ("abs_tol", "rel_tol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"Tolerance {name} must be a finite number >= 0, got {value!r}")
        for name in ("min_figures", "min_decimals"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"Tolerance {name} must be a whole number >= 0, got {value!r}")

    def precise_enough(self, p: Precision | None) -> bool:
        # The decimal places a number's last written digit stands for (its ulp), not
        # the digits after its point: 0.000e5 has three of those but is written to
        # the hundreds, and must not pass for anything within 50 of zero.
        if p is None:
            return False
        if p.figures >= self.min_figures:      # (most numbers: no logarithm needed)
            return True
        places = math.inf if p.ulp <= 0 else -math.log10(p.ulp) + 1e-9
        return places >= self.min_decimals

    def close(self, given: float, ref: float, p: Precision | None, ulps: float = 0.5) -> bool:
        """``given`` equals ``ref`` within the absolute or relative tolerance, or
        within ``ulps`` units of its last written place (as written)."""
        if not (math.isfinite(given) and math.isfinite(ref)):
            return False
        d = abs(given - ref)
        if d <= self.abs_tol or d <= self.rel_tol * abs(ref):
            return True
        if self.as_written and p is not None and self.precise_enough(p):
            return d <= ulps * p.ulp * (1 + 1e-9) + 1e-12 * max(1.0, abs(ref))
        return False

    def loosely_close(self, given: float, ref: float, p: Precision | None) -> bool:
        """Within two units of the last written place (a rounding slip), or the
        correctly rounded value written with too few figures."""
        if p is None or not math.isfinite(ref):
            return False
        d = abs(given - ref)
        return d <= 2 * p.ulp * (1 + 1e-9) + 1e-12 * max(1.0, abs(ref))


def differs(a: float, b: float) -> bool:
    """Two computed values are meaningfully different (not float noise)."""
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) > 1e-9 * max(1.0, abs(b))


# --------------------------------------------------------------------------- matrix patterns


@dataclass(frozen=True)
class Pattern:
    """A whole-matrix mistake: the given numbers are those of the expected matrix,
    or of another sample's (``sample``), in other places."""

    code: Mistake
    message: str
    places: dict[tuple[int, ...], tuple[int, ...]]   # given index -> where the number belongs
    sample: int | None = None                          # the other sample, for wrong-sample


def _all_close(tol: Tolerance, given: np.ndarray, ref: np.ndarray,
               precisions: Sequence[Precision | None]) -> bool:
    # (tolist: Python floats at once, the same numbers as float() of each entry)
    return all(tol.close(g, r, p)
               for g, r, p in zip(given.ravel().tolist(), ref.ravel().tolist(), precisions))


def _multiset_places(tol: Tolerance, given: np.ndarray, ref: np.ndarray,
                     precisions: Sequence[Precision | None]
                     ) -> dict[tuple[int, ...], tuple[int, ...]] | None:
    """Where each given number belongs when the given numbers are the reference's
    numbers in some order; None when they are not."""
    g, r = given.ravel(), ref.ravel()
    pairs = list(zip(np.argsort(g, kind="stable").tolist(), np.argsort(r, kind="stable").tolist()))
    g_values, r_values = g.tolist(), r.tolist()
    for gi, ri in pairs:
        if not tol.close(g_values[gi], r_values[ri], precisions[gi]):
            return None
    return {tuple(int(v) for v in np.unravel_index(gi, given.shape)):
            tuple(int(v) for v in np.unravel_index(ri, ref.shape)) for gi, ri in pairs}


def matrix_pattern(tol: Tolerance, given: np.ndarray, expected: np.ndarray,
                   precisions: Sequence[Precision | None], transposed_shape: bool,
                   others: dict[int, np.ndarray], what: str) -> Pattern | None:
    """Right numbers in the wrong places: transposed, re-arranged, or another
    sample's numbers (as they are or re-arranged); ``others`` maps sample t' to its
    values.  Of a matrix with blanks (NaN) only a square one transposed is told."""
    if given.size < 2:
        return None
    written = np.isfinite(given)
    if not written.all():
        return _transposed_with_blanks(tol, given, expected, precisions, written)
    if transposed_shape:
        rows, cols = expected.shape
        return Pattern(Mistake.TRANSPOSED, f"written as a {cols} x {rows} matrix: rows and columns "
                       f"swapped ({what} is {rows} x {cols}, row 0 = biases)",
                       {(i, j): (i, j) for i in range(rows) for j in range(cols)})
    if _all_close(tol, given, expected, precisions):
        return None
    if given.ndim == 2 and given.shape[0] == given.shape[1] and \
            _all_close(tol, given, expected.T, precisions):
        n = given.shape[0]
        return Pattern(Mistake.TRANSPOSED, "the right numbers, transposed (rows and columns "
                       "swapped)", {(i, j): (j, i) for i in range(n) for j in range(n)})
    places = _multiset_places(tol, given, expected, precisions)
    if places is not None:
        return Pattern(Mistake.REARRANGED, "the right numbers in the wrong places", places)
    for t, other in sorted(others.items()):
        if _all_close(tol, given, other, precisions):
            return Pattern(Mistake.WRONG_SAMPLE, f"these are sample {t}'s values, not this "
                           "sample's", {i: i for i in np.ndindex(given.shape)}, t)
    for t, other in sorted(others.items()):
        places = _multiset_places(tol, given, other, precisions)
        if places is not None:
            return Pattern(Mistake.WRONG_SAMPLE, f"sample {t}'s values in other places (another "
                           "sample's numbers, re-arranged)", places, t)
    return None


def _transposed_with_blanks(tol: Tolerance, given: np.ndarray, expected: np.ndarray,
                            precisions: Sequence[Precision | None], written: np.ndarray
                            ) -> Pattern | None:
    """A square matrix transposed, with some entries left blank: every written number
    is the transposed matrix's, and two at least are not in their own places (a
    blank made the whole matrix unreadable as transposed, so its diagonal earned
    marks).  One misplaced number alone is that number's mistake: the diagonal
    written right with it keeps its marks, as it would written alone."""
    if given.ndim != 2 or given.shape[0] != given.shape[1]:
        return None
    cells = [(k, idx) for k, idx in enumerate(np.ndindex(given.shape)) if written[idx]]
    if not all(tol.close(float(given[idx]), float(expected.T[idx]), precisions[k])
               for k, idx in cells):
        return None
    displaced = sum(not tol.close(float(given[idx]), float(expected[idx]), precisions[k])
                    for k, idx in cells)
    if displaced < 2:
        return None
    n = given.shape[0]
    return Pattern(Mistake.TRANSPOSED, "the right numbers, transposed (rows and columns "
                   "swapped)", {(i, j): (j, i) for i in range(n) for j in range(n)})


# --------------------------------------------------------------------------- degenerate answers


# An earlier answer this many times the size of the right one is no basis for
# follow-through: next to it the problem's own numbers vanish within the relative
# tolerance, so work "consistent" with it need not have used them.
TOO_LARGE = 1e6
# Under this part of the right size a number is all but zero to a hand calculation
# (0.000 at three decimals where the right value is not): an earlier answer that
# small is as degenerate as zeros, and a written zero whose follow-through value is
# that small was made by a vanishing factor (a saturated h(1 - h)), not by hand-sized
# numbers that happen to cancel.
VANISHING = 1e-3
# Under this part of the right error a y-hat all but equals the targets, and under
# this part of the right update new weights are all but the old ones: y-hat 0.999
# for y = 1 (right: 0.574) or 2.999 for 3 leaves nothing for the later work to do.
NEGLIGIBLE = 1e-2


# A wrong answer this many times the right size, written to a place above the right
# size, leaves nothing of the right values in what follows.
COARSE = 1000.0


def all_but(given: np.ndarray, expected: np.ndarray, ref: np.ndarray) -> bool:
    """Whether ``given`` is all but ``ref``: its distance from ``ref`` under a
    NEGLIGIBLE part of the right one (``expected``'s), and the right one not 0."""
    right = float(np.max(np.abs(expected - ref)))
    return right > 1e-9 and float(np.max(np.abs(given - ref))) <= NEGLIGIBLE * right


def degenerate(q: Quantity, given: np.ndarray, expected: np.ndarray, problem: Problem,
               before: np.ndarray | None, tol: Tolerance,
               precisions: Sequence[Precision | None],
               elsewhere: Sequence[tuple[str, np.ndarray]] = ()) -> str | None:
    """Why a wrong earlier answer must not earn follow-through credit (it makes the
    later work trivial, copies numbers or is impossible), or None.  ``precisions``
    are its numbers' as written, row by row; ``elsewhere`` the right values of the
    same quantity for the update's other samples and in the other updates, each
    with whose they are ("sample 1's")."""

    # Blanks are left out: one cell left blank kept a copied matrix from counting as
    # a copy.  At least two numbers (or all of a smaller one) must be written.
    written = np.isfinite(given).ravel()
    filled = int(written.sum()) >= min(2, given.size)

    def at(ref: np.ndarray) -> np.ndarray:
        values: np.ndarray = np.broadcast_to(np.asarray(ref, dtype=float),
                                             given.shape).ravel()[written]
        return values

    def same(ref: np.ndarray) -> bool:
        # (as marking compares numbers: the old weights written to three decimals
        # are the old weights)
        shown = [p for p, w in zip(precisions, written) if w]
        return filled and all(tol.close(float(v), float(r), p)
                              for v, r, p in zip(given.ravel()[written], at(ref), shown))

    def near(ref: np.ndarray) -> bool:
        return filled and all_but(given.ravel()[written], at(expected), at(ref))

    g = given[np.isfinite(given)]
    if g.size == 0:
        return None
    size = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    if size > 1e-9 and np.all(np.abs(g) <= max(1e-12, size * VANISHING)):
        return "it is all zeros" if np.all(np.abs(g) <= 1e-12) else \
            "it is all but zero, under a thousandth of the right size"
    if np.any(np.abs(g) > TOO_LARGE * max(1.0, size)):
        return "it is over a million times too large"
    # Large and written so coarsely that the right values (and the targets, the
    # inputs) vanish in its last written place: y-hat = 1.0e5 for 0.21.
    ulps = [p.ulp for p, w in zip(precisions, written) if w and p is not None]
    if np.any(np.abs(g) > COARSE * max(1.0, size)) and ulps and max(ulps) > max(1.0, size):
        return "it is so large, and written so coarsely, that the right values vanish in it"
    # Powers of ten (and zeros) make what follows a copy of other numbers with the
    # decimal point moved: a delta of ones (or tens, or 0.9999) makes the gradient
    # [1; x], the inputs written again.
    right = expected[np.isfinite(expected)]
    # (all but a power of ten only for a factor of the gradient: a sigmoid's h of
    # 0.9999, saturated, still makes y-hat by its weights)
    slack = 1e-3 if q.kind in (Kind.ERROR, Kind.DERIVATIVE, Kind.DELTA) else 1e-12
    if powers_of_ten(g, slack) and not powers_of_ten(right, slack):
        return "it is made of ones (or powers of ten) and zeros, which make what follows a " \
               "copy of other numbers"
    # Another sample's or update's right numbers, copied: what follows from them is
    # that sample's or update's work again, consistent but not done.
    for whose, ref in elsewhere:
        if same(ref) and not np.allclose(expected, ref, atol=1e-9):
            return f"it is {whose} values (copied numbers earn no follow-through)"
    if q.kind is Kind.A:
        values = ACTIVATIONS[problem.activations[q.n - 1]].range
        if values.excludes(g, g.size == given.size):
            return values.text
        if q.layer == len(problem.layers) - 1:
            y = np.asarray(problem.data()[1][q.t - 1], dtype=float)
            if same(y) and not np.allclose(expected, y, atol=1e-9):
                return "it equals the targets y (zero error)"
            if near(y):
                return "it all but equals the targets y (under a hundredth of the right error)"
            # the error y-hat - y of ones is a delta of ones not written down
            error = given.ravel()[written] - at(y)
            if filled and powers_of_ten(error) and not powers_of_ten(right - y.ravel()):
                return "it makes y-hat − y ones (or powers of ten), which make what " \
                       "follows a copy of other numbers"
    if q.kind is Kind.NEW and before is not None:
        if same(before) and not np.allclose(expected, before):
            return "it is the old weights (no update made)"
        if near(np.asarray(before, dtype=float)):
            return "it is all but the old weights (under a hundredth of the right update)"
    return None


def powers_of_ten(values: np.ndarray, slack: float = 1e-3) -> bool:
    """Whether every number is 0 or ± a power of ten from 0.1 up, within ``slack``
    (0.1, 1, 10; 0.9999 within a thousandth), and not all of them 0.  (Not 0.01 or
    0.001: small deltas written to three decimals are that honestly, and a gradient
    from them is no copy.)"""
    v = np.abs(np.asarray(values, dtype=float).ravel())
    v = v[np.isfinite(v)]
    nonzero = v[v > 0]
    if nonzero.size == 0 or float(np.min(nonzero)) < 0.0999:
        return False
    scaled = nonzero / 10.0 ** np.round(np.log10(nonzero))
    return bool(np.all(np.abs(scaled - 1.0) <= slack))


# --------------------------------------------------------------------------- messages


def scenario_message(code: Mistake, q: Quantity, problem: Problem, value: float,
                     sign_update: bool = False, layer: int | None = None,
                     batch: int = 1, decimals: int = 3) -> str:
    """Why the given number is what this mistake would produce."""
    v = fmt(value, decimals)
    if code == Mistake.MISSING_DERIVATIVE:
        if layer is None:
            raise ValueError("a missing derivative is of one layer: give it")
        depth = len(problem.layers) - 1
        act = ACTIVATIONS[problem.activations[layer - 1]]
        unit = "ŷ" if layer == depth else ("h" if depth == 2 else f"h⁽{layer}⁾")
        factor = act.derivative_unicode(unit) or "f'(z)"
        return f"missing activation derivative: without {factor} of layer {layer} this is {v}"
    if code == Mistake.NEW_WEIGHTS_TOO_EARLY:
        return (f"back-propagated through the updated W[{(q.layer or 0) + 1}] instead of the "
                f"old one: that gives {v}; {convention_note(code)}")
    if code == Mistake.MISSING_HALF:
        return f"missing 1/2: twice the expected value, {v}: {convention_note(code)}"
    if code in CONVENTION_SLIPS and code != Mistake.SUM_NOT_MEAN:
        times = _slip_factor(code, q, problem, batch)
        lead = f"{times} the expected value, {v}" if times else f"this gives {v}"
        return f"{lead}: {convention_note(code)}"
    if code == Mistake.SUM_NOT_MEAN:
        return f"sum over the {batch} samples instead of their mean (1/T left out): {v}"
    if code == Mistake.MISSING_1_T:
        return f"missing 1/T: the sum of the J(t), not their mean, is {v}"
    if code == Mistake.SIGN:
        if sign_update:
            return f"sign slip: W + λ∇J instead of W − λ∇J gives {v}"
        return f"sign slip: y − ŷ instead of ŷ − y gives {v}"
    if code == Mistake.MISSING_LAMBDA:
        return f"learning rate λ left out: W − ∇J gives {v}"
    if code == Mistake.MISSING_BIAS:
        return f"bias left out: without the bias weights (row 0) this is {v}"
    if code == Mistake.MISSING_ACTIVATION:
        return f"activation not applied: h = z gives {v}"
    return MISTAKES.get(code, code)


# The quantities a factor on J_(t) multiplies (the new weights are not a multiple).
_SCALED = (Kind.LOSS, Kind.COST, Kind.DELTA, Kind.GRAD, Kind.MEAN)


def _slip_factors(code: Mistake, q: Quantity, problem: Problem, batch: int
                  ) -> tuple[float, str] | None:
    """(factor, its words) a conventions slip multiplies ``q`` by, or None."""
    outputs = problem.layers[-1]
    if code is Mistake.EXTRA_HALF and q.kind in _SCALED:
        return 0.5, "half"
    if code is Mistake.OUTPUT_MEAN and q.kind in _SCALED and outputs > 1:
        return 1.0 / outputs, f"1/{outputs} of"
    if code is Mistake.OUTPUT_SUM and q.kind in _SCALED and outputs > 1:
        return float(outputs), f"{outputs} times"
    if code is Mistake.MEAN_NOT_SUM and q.kind in (Kind.COST, Kind.MEAN) and batch > 1:
        return 1.0 / batch, f"1/{batch} of"
    return None


def _slip_factor(code: Mistake, q: Quantity, problem: Problem, batch: int) -> str | None:
    found = _slip_factors(code, q, problem, batch)
    return None if found is None else found[1]


def factors_for(q: Quantity, problem: Problem, batch: int
                ) -> list[tuple[float, Mistake, str]]:
    """(factor, code, message) for answers that are a multiple of the right value."""
    conventions = problem.conventions
    # J has the ½ of the squared error
    mse = LOSSES[problem.loss].half and conventions.mse_half
    out: list[tuple[float, Mistake, str]] = []
    samples = batch
    if conventions.cost is Combine.SUM:
        batch = 1                        # no 1/T to leave out (MEAN_NOT_SUM below)
    if q.kind is Kind.COST and batch > 1:
        out.append((float(batch), Mistake.MISSING_1_T, f"missing 1/T: {batch} times the cost (the "
                    "sum of the J(t), not their mean)"))
        if mse:
            out.append((2.0 * batch, Mistake.MISSING_1_T, f"missing 1/T and 1/2: {2 * batch} times "
                        "the cost"))
    if q.kind is Kind.MEAN and batch > 1:
        out.append((float(batch), Mistake.SUM_NOT_MEAN, f"sum instead of mean: {batch} times the "
                    "mean gradient (1/T left out)"))
    if mse and q.kind in _SCALED:
        out.append((2.0, Mistake.MISSING_HALF, "missing 1/2: twice the right value"))
    for code, _ in convention_slips(conventions):
        found = _slip_factors(code, q, problem, samples)
        if found is not None:
            factor, words = found
            out.append((factor, code, f"{words} the right value: {convention_note(code)}"))
    return out
