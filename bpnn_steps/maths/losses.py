"""One record per loss: J_(t) and dJ/dz at the output in every form the project needs.

Each :class:`Loss` holds the numpy value (a batch: arrays of shape (B, K), one row
per sample), the exact (sympy) form, the output rule (the error dJ/dŷ passed
through the output activation, or dJ/dz directly when the activation's derivative
cancels against the loss), the kernel's code, the texts of the worked solution and
the derivation, and the facts about targets (validation, accuracy, plots).  Every
backend reads these records; none of them names a loss.  sympy is imported inside
the callables only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, cast

import numpy as np

from .activations import kernel_max, lazy_sympy, log_softmax
from ..model.notation import (BRACKET_OPEN, CLOSE_PAREN_BRACKET, HALF, LN, LN_ONE, LP, MINUS, ONE,
                              PLUS, RP, SQUARED, Token)
from ..model.conventions import Combine, Conventions
from .record import Record, Registry

if TYPE_CHECKING:
    from .activations import Array, ExactOp, Expr, Index
    from .tree import Node


class Targets(Enum):
    """What a loss's targets are."""

    REAL = "real"                    # any number (regression)
    BINARY = "binary"                # each in [0, 1]: one true/false per output
    DISTRIBUTION = "distribution"    # probabilities that sum to 1 (one-hot classes)


class ThroughActivation(Record):
    """dJ/dŷ (the output error); the output activation's derivative or Jacobian then
    gives dJ/dz.  Forms: numpy ``error(yhat, y)``, ``exact(yhat, y, op)``,
    ``tree(yhat, y)`` (chain-rule nodes), ``kernel(a, y)`` (an expression)."""

    error: Callable[[Array, Array], Array]
    exact: Callable[[list[Expr], list[Expr], ExactOp], list[Expr]]
    tree: Callable[[Sequence[Node], Sequence[Node]], list[Node]]
    kernel: Callable[[str, str], str]


class Cancels(Record):
    """With its own output ``activation`` the activation's derivative cancels against
    the loss's (the lecture's section 1.2) and dJ/dz is formed directly: numpy
    ``delta(yhat, y)``, ``exact``, ``tree``, ``kernel(a, y, d, K)`` (statements).
    ``note`` is the worked solution's remark, ``what`` the derivation's name of what
    cancels."""

    activation: str
    delta: Callable[[Array, Array], Array]
    exact: Callable[[list[Expr], list[Expr], ExactOp], list[Expr]]
    tree: Callable[[Sequence[Node], Sequence[Node]], list[Node]]
    kernel: Callable[[Index, Index, Index, int], str]
    note: str
    what: str


class Loss(Record):
    """Everything about one loss.

    ``value(z_L, yhat, y)`` J per sample; ``exact(yhat, y)`` J of one sample in sympy
    (``solve --exact`` and ``derive --verify``); ``formula``/``formula_latex`` J_(t)
    as printed; ``sample_latex`` the derivation's J_(t) with {K} for the number of
    outputs; ``row_term(yhat, y)`` the tokens of output k's term in the worked
    solution's J row (``row_negated``: the row is −( ... )); ``half``: J carries the ½
    of the squared error (a missing ½ doubles every answer; conventions' ``mse_half``);
    ``per_output``: J sums a term per output, which conventions'
    ``output_reduction: mean`` turns into their mean; ``output`` how dJ/dz is
    formed; ``kernel_value(z, a, y, K, target)`` statements setting target = J;
    targets: their kind, ``bad_targets(y)`` (one flag per row) with
    ``targets_message``, ``draw_targets(rng, K)`` (random valid targets),
    ``accuracy(yhat, y)`` (None for regression), ``z_from_output(yhat)`` the z that
    gives a student's ŷ when J is read from z (None: read from ŷ, or no such z).
    """

    name: str
    description: str
    value: Callable[[Array, Array, Array], Array]
    exact: Callable[[list[Expr], list[Expr]], Expr]
    formula: str
    formula_latex: str
    sample_latex: str
    row_term: Callable[[Token, Token], tuple[Token, ...]]
    row_negated: bool
    half: bool
    per_output: bool
    output: ThroughActivation | Cancels
    kernel_value: Callable[[Index, Index, Index, int, str], str]
    targets: Targets
    bad_targets: Callable[[Array], Array]
    targets_message: str
    draw_targets: Callable[[np.random.Generator, int], Array]
    accuracy: Callable[[Array, Array], float | None]
    z_from_output: Callable[[Array], Array | None]

    @property
    def output_activation(self) -> str | None:
        """The output activation this loss requires (None: any)."""
        return self.output.activation if isinstance(self.output, Cancels) else None

    @property
    def cancels(self) -> bool:
        return isinstance(self.output, Cancels)

    @property
    def cancellation(self) -> Cancels:
        """What cancels at the output; an error for a loss whose error goes through the
        output activation (mse)."""
        if not isinstance(self.output, Cancels):
            raise ValueError(f"{self.name}'s error goes through the output activation; "
                             "nothing cancels")
        return self.output

    @property
    def classification(self) -> bool:
        return self.targets is not Targets.REAL


# --------------------------------------------------------------------------- shared parts


def _difference(yhat: Sequence[Node], y: Sequence[Node]) -> list[Node]:
    from .tree import Diff

    return [Diff(p, q) for p, q in zip(yhat, y)]


def _exact_difference(yhat: list[Expr], y: list[Expr], op: ExactOp) -> list[Expr]:
    return [op(lambda p, q: p - q, p, q) for p, q in zip(yhat, y)]


def _no_rows(y: Array) -> Array:
    return np.zeros(len(y), dtype=bool)


def _read_from_yhat(yhat: Array) -> Array | None:
    return None


# --------------------------------------------------------------------------- mse


def _mse(z: Array, yhat: Array, y: Array) -> Array:
    return cast("Array", 0.5 * np.sum((yhat - y) ** 2, axis=1))


def _mse_exact(yhat: list[Expr], y: list[Expr]) -> Expr:
    sympy = lazy_sympy()

    return sympy.Add(*(sympy.Rational(1, 2) * (a - b) ** 2 for a, b in zip(yhat, y)))


def _mse_kernel(z: Index, a: Index, y: Index, size: int, target: str) -> str:
    return ("ls = 0.0\n"
            f"for j in range({size}):\n"
            f"    dv = {a('j')} - {y('j')}\n"
            "    ls += dv * dv\n"
            f"{target} = 0.5 * ls")


MSE = Loss(
    "mse", "half squared error, summed over outputs", _mse, _mse_exact,
    "Σₖ ½(ŷₖ − yₖ)²", r"\sum_{k} \tfrac{1}{2}(\hat{y}_{k} - y_{k})^{2}",
    r"\sum_{k=1}^{{K}} \tfrac{1}{2}(\hat{y}_{k,(t)} - y_{k,(t)})^{2}",
    lambda yh, y: (HALF, LP, yh, MINUS, y, RP, SQUARED),
    False, True, True,
    ThroughActivation(lambda yhat, y: yhat - y, _exact_difference, _difference,
                      lambda a, y: f"{a} - {y}"),
    _mse_kernel, Targets.REAL, _no_rows, "",
    lambda rng, k: rng.normal(size=k),
    lambda yhat, y: None, _read_from_yhat)


# --------------------------------------------------------------------------- bce


def _bce(z: Array, yhat: Array, y: Array) -> Array:
    # From z rather than yhat: -[y ln s(z) + (1-y) ln(1-s(z))]
    # = max(z, 0) - y z + ln(1 + e^-|z|), which never takes log(0).
    return cast("Array", np.sum(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))),
                              axis=1))


def _bce_exact(yhat: list[Expr], y: list[Expr]) -> Expr:
    sympy = lazy_sympy()

    return -sympy.Add(*(b * sympy.log(a) + (1 - b) * sympy.log(1 - a) for a, b in zip(yhat, y)))


def _bce_kernel(z: Index, a: Index, y: Index, size: int, target: str) -> str:
    return ("ls = 0.0\n"
            f"for j in range({size}):\n"
            f"    zl = {z('j')}\n"
            f"    ls += max(zl, 0.0) - {y('j')} * zl + math.log1p(math.exp(-abs(zl)))\n"
            f"{target} = ls")


def _logit(yhat: Array) -> Array | None:
    if not np.all((yhat > 0) & (yhat < 1)):
        return None
    return np.log(yhat) - np.log1p(-yhat)


BCE = Loss(
    "bce", "binary cross-entropy (sigmoid output)", _bce, _bce_exact,
    "−Σₖ [yₖ ln ŷₖ + (1 − yₖ) ln(1 − ŷₖ)]",
    r"-\sum_{k} \left[ y_{k} \ln \hat{y}_{k} + (1 - y_{k}) \ln(1 - \hat{y}_{k}) \right]",
    r"-\sum_{k=1}^{{K}} \left[ y_{k,(t)} \ln \hat{y}_{k,(t)} + "
    r"(1 - y_{k,(t)}) \ln(1 - \hat{y}_{k,(t)}) \right]",
    lambda yh, y: (BRACKET_OPEN, y, LN, yh, PLUS, LP, ONE, MINUS, y, RP, LN_ONE, MINUS, yh,
                   CLOSE_PAREN_BRACKET),
    True, False, True,
    Cancels("sigmoid", lambda yhat, y: yhat - y, _exact_difference, _difference,
            lambda a, y, d, size: f"for j in range({size}):\n    {d('j')} = {a('j')} - {y('j')}",
            "σ′ cancels against bce", "σ′ of the sigmoid output"),
    _bce_kernel, Targets.BINARY,
    lambda y: np.any((y < 0) | (y > 1), axis=1),
    "bce targets must lie in [0, 1] (1 = true, 0 = false)",
    lambda rng, k: rng.uniform(size=k),
    lambda yhat, y: float(np.mean(np.all((yhat >= 0.5) == (y >= 0.5), axis=1))),
    _logit)


# --------------------------------------------------------------------------- ce


def _ce(z: Array, yhat: Array, y: Array) -> Array:
    return cast("Array", -np.sum(y * log_softmax(z), axis=1))


def _ce_exact(yhat: list[Expr], y: list[Expr]) -> Expr:
    sympy = lazy_sympy()

    return -sympy.Add(*(b * sympy.log(a) for a, b in zip(yhat, y)))


def _ce_delta_exact(yhat: list[Expr], y: list[Expr], op: ExactOp) -> list[Expr]:
    sympy = lazy_sympy()

    total_y = op(lambda *t: sympy.Add(*t), *y)
    return [op(lambda p, s, q: p * s - q, p, total_y, q) for p, q in zip(yhat, y)]


def _ce_kernel(z: Index, a: Index, y: Index, size: int, target: str) -> str:
    return ("ls = 0.0\n" + kernel_max(z, size) + "\n"
            "se = 0.0\n"
            f"for j in range({size}):\n"
            f"    se += math.exp({z('j')} - m)\n"
            "lse = math.log(se)\n"
            f"for j in range({size}):\n"
            f"    ls += {y('j')} * (({z('j')} - m) - lse)\n"
            f"{target} = -ls")


def _ce_delta_kernel(a: Index, y: Index, d: Index, size: int) -> str:
    return ("sy = 0.0\n"
            f"for j in range({size}):\n"
            f"    sy += {y('j')}\n"
            f"for j in range({size}):\n"
            f"    {d('j')} = {a('j')} * sy - {y('j')}")


def _log_probabilities(yhat: Array) -> Array | None:
    return np.log(yhat) if np.all(yhat > 0) else None     # softmax(log a) = a / sum(a)


CE = Loss(
    "ce", "cross-entropy (softmax output)", _ce, _ce_exact,
    "−Σₖ yₖ ln ŷₖ", r"-\sum_{k} y_{k} \ln \hat{y}_{k}",
    r"-\sum_{k=1}^{{K}} y_{k,(t)} \ln \hat{y}_{k,(t)}",
    lambda yh, y: (y, LN, yh),
    True, False, False,
    # d/dz of -sum y ln softmax(z) is yhat * sum(y) - y; sum(y) = 1 for targets
    # that are probabilities, which validation enforces.
    Cancels("softmax", lambda yhat, y: yhat * np.sum(y, axis=1, keepdims=True) - y,
            _ce_delta_exact, _difference, _ce_delta_kernel,
            "softmax Jacobian cancels against ce", "the softmax Jacobian"),
    _ce_kernel, Targets.DISTRIBUTION,
    lambda y: np.any(y < 0, axis=1) | (np.abs(y.sum(axis=1) - 1.0) > 1e-9),
    "ce targets must be probabilities that sum to 1 (one-hot, e.g. [0, 1, 0])",
    lambda rng, k: rng.dirichlet(np.ones(k)),
    lambda yhat, y: float(np.mean(np.argmax(yhat, axis=1) == np.argmax(y, axis=1))),
    _log_probabilities)


LOSSES: Registry[Loss] = Registry("loss", (MSE, BCE, CE), lambda loss: loss.name)


def loss_factor(loss: Loss, conventions: Conventions, outputs: int) -> tuple[int, int]:
    """J_(t) under ``conventions`` over the lecture's J_(t), and so also its dJ/dz at
    the output, as (numerator, denominator): 2 without the ½ of the squared error,
    1/K for the mean over the K outputs (CONTRACT section 5)."""
    numerator = 2 if loss.half and not conventions.mse_half else 1
    per_output = loss.per_output and conventions.output_reduction is Combine.MEAN
    return numerator, outputs if per_output else 1


def loss_scale(loss: Loss, conventions: Conventions, outputs: int) -> float:
    """:func:`loss_factor` as a number."""
    numerator, denominator = loss_factor(loss, conventions, outputs)
    return numerator / denominator


def loss_formula(loss: Loss, conventions: Conventions) -> str:
    """J_(t) as the conventions define it, in Unicode: the record's formula without
    its ½ (``mse_half`` false), over the K outputs' mean (``output_reduction``)."""
    formula = loss.formula if conventions.mse_half else loss.formula.replace("½", "")
    if loss.per_output and conventions.output_reduction is Combine.MEAN:
        return f"(1/K) {formula}"
    return formula


def sample_latex(loss: Loss, outputs: int) -> str:
    """The derivation's J_(t) for ``outputs`` outputs."""
    return loss.sample_latex.replace("{K}", str(outputs))


def loss_latex(loss: Loss, conventions: Conventions, outputs: int) -> str:
    """:func:`sample_latex` as the conventions define J_(t), the LaTeX counterpart of
    :func:`loss_formula`: without the ½ (``mse_half`` false), over the K outputs'
    mean (``output_reduction``)."""
    formula = sample_latex(loss, outputs)
    if not conventions.mse_half:
        formula = formula.replace(r"\tfrac{1}{2}", "")
    if loss.per_output and conventions.output_reduction is Combine.MEAN and outputs > 1:
        return rf"\frac{{1}}{{{outputs}}} {formula}"
    return formula


def exact_loss(loss: Loss, conventions: Conventions, yhat: list[Expr], y: list[Expr]) -> Expr:
    """J_(t) of one sample in sympy as the conventions define it: the record's exact
    J times :func:`loss_factor` (``solve --exact``, ``derive --verify``)."""
    sympy = lazy_sympy()

    numerator, denominator = loss_factor(loss, conventions, len(yhat))
    value = loss.exact(yhat, y)
    return value if numerator == denominator else sympy.Rational(numerator, denominator) * value
