"""The lecture's notation as semantic tokens: what an equation says, not how it is
spelled.

An expression is a tuple of tokens.  Content (the worked solution, sheets, the
derivation) builds expressions from these tokens only; each output format spells
them (:mod:`bpnn_steps.render.spelling`: Unicode for terminals and messages,
LaTeX for documents and Markdown maths), formatting numbers with
:mod:`bpnn_steps.numfmt`.  The symbols themselves (:class:`Sym`) know both
spellings of the lecture's indices: ``w_{0,1}^{[1]}`` (weight from node 0 to
node 1 of layer 1) is ``w₀,₁⁽¹⁾`` in Unicode, and ``h_{1,(2)}`` (hidden value 1
of sample 2) is ``h₁,₍₂₎``.  The generic sample t of a derivation is written in
LaTeX and left out in Unicode.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Union

import numpy as np

from .value import Value
from .conventions import LECTURE, Conventions

_SUB = str.maketrans("0123456789()+-=aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₍₎₊₋₌ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789()+-=n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻⁼ⁿ")

# base -> (Unicode, LaTeX)
_BASES = {
    "yhat": ("ŷ", r"\hat{y}"),
    "Yhat": ("Ŷ", r"\hat{\mathbf{Y}}"),
    "Jbar": ("J̄", r"\bar{J}"),
    "Wbar": ("W̄", r"\bar{\mathbf{W}}"),
    "delta": ("δ", r"\delta"),
    "lambda": ("λ", r"\lambda"),
    "beta": ("β", r"\beta"),
}
_BOLD = {"W", "X", "Y", "H", "A", "R", "Z"}
GENERIC = "t"              # the generic sample of a derivation


def unit_base(n: int, depth: int) -> tuple[str, int | None]:
    """(base, layer) of the units of layer n as the lecture names them: x for the
    inputs (n = 0), ŷ for the outputs (n = L), h for the one hidden layer, and h
    with its layer number when there are several hidden layers."""
    if n == 0:
        return "x", None
    if n == depth:
        return "yhat", None
    return "h", None if depth == 2 else n


def layer_label(n: int, depth: int) -> str:
    """What the lecture calls layer n: the output layer, the hidden layer (when there
    is one) or hidden layer n."""
    if n == depth:
        return "output layer"
    return "hidden layer" if depth == 2 else f"hidden layer {n}"


def vector_base(n: int, depth: int) -> tuple[str, int | None]:
    """(base, layer) of [1; a[n]], a layer's values with the bias node in front: X
    for the inputs, H (or H with its layer) for hidden units."""
    if n == 0:
        return "X", None
    return "H", None if depth == 2 else n


def sub(text: str) -> str:
    return text.translate(_SUB)


def sup(text: str) -> str:
    return text.translate(_SUP)


# --------------------------------------------------------------------------- tokens


class Sym(Value):
    """A symbol with the lecture's indices: node indices, sample (t), layer [n]."""

    base: str
    indices: tuple[int | str, ...] = ()
    sample: int | str | None = None
    layer: int | str | None = None
    suffix: str = ""           # plain text after the symbol, e.g. "new", "d"

    def unicode(self) -> str:
        base = _BASES.get(self.base, (self.base, self.base))[0]
        if self.suffix == "d":      # the lecture's H_d: derivative of the activations
            base += "_d"
        parts = [str(i) for i in self.indices]
        # The generic sample t of a derivation is understood on every value of the
        # sample; only the loss keeps it, J₍ₜ₎ (J alone is the cost).
        if self.sample is not None and (self.sample != GENERIC or self.base == "J"):
            parts.append(f"({self.sample})")
        # One translation of the joined indices (the comma is not translated).
        text = base + sub(",".join(parts)) if parts else base
        if self.layer is not None:
            text += sup(f"({self.layer})")
        if self.suffix and self.suffix != "d":
            text += " " + self.suffix
        return text

    def latex(self) -> str:
        base = _BASES.get(self.base, (self.base, None))[1]
        if base is None:
            base = rf"\mathbf{{{self.base}}}" if self.base in _BOLD else self.base
        parts = [str(i) for i in self.indices]
        if self.suffix == "d":
            parts.insert(0, "d")
        if self.sample is not None:
            parts.append(f"({self.sample})")
        text = base
        if parts:
            text += "_{" + ",".join(parts) + "}"
        if self.layer is not None:
            text += "^{[" + str(self.layer) + "]}"
        if self.suffix and self.suffix != "d":
            text += r"_{\text{" + self.suffix + "}}"
        return text


class Num(Value):
    """A computed number, formatted at render time; a negative number that follows
    an operator is put in parentheses (``0.1 × (−0.5)``)."""

    value: float
    paren: bool = True


class Mat:
    """A computed matrix (or column vector), written out in full (read-only)."""

    __slots__ = ("value",)

    def __init__(self, value: np.ndarray) -> None:
        self.value = value


class OpKind(Enum):
    """Operators and punctuation."""

    PLUS = "+"
    MINUS = "−"
    TIMES = "×"
    EQUALS = "="
    APPROX = "≈"
    SPACE = "thin space"
    GAP = "gap between answers"
    HALF = "½"
    LEFT = "( sized to its content"
    RIGHT = ") sized to its content"
    OPEN = "("
    CLOSE = ")"
    BRACKET_OPEN = "["
    BRACKET_CLOSE = "]"
    BRACE_OPEN = "{"
    BRACE_CLOSE = "}"
    HADAMARD = "⊙"
    TRANSPOSE = "ᵀ"
    SQUARED = "²"
    LN = "ln"
    ONE = "1"
    NEGATED_OPEN = "−("
    LN_ONE = "ln(1"
    CLOSE_PAREN_BRACKET = ")]"
    WORD_SPACE = "space between words"
    SIZED_BRACKET_OPEN = "[ sized to its content"
    SIZED_BRACKET_CLOSE = "] sized to its content"


class Op(Value):
    kind: OpKind


PLUS, MINUS, TIMES, EQUALS = (Op(OpKind.PLUS), Op(OpKind.MINUS), Op(OpKind.TIMES),
                              Op(OpKind.EQUALS))
APPROX, SPACE, GAP, HALF = (Op(OpKind.APPROX), Op(OpKind.SPACE), Op(OpKind.GAP),
                            Op(OpKind.HALF))
LP, RP = Op(OpKind.LEFT), Op(OpKind.RIGHT)
OPEN, CLOSE = Op(OpKind.OPEN), Op(OpKind.CLOSE)
BRACKET_OPEN, BRACKET_CLOSE = Op(OpKind.BRACKET_OPEN), Op(OpKind.BRACKET_CLOSE)
BRACE_OPEN, BRACE_CLOSE = Op(OpKind.BRACE_OPEN), Op(OpKind.BRACE_CLOSE)
HADAMARD, T_SUP, SQUARED = Op(OpKind.HADAMARD), Op(OpKind.TRANSPOSE), Op(OpKind.SQUARED)
LN, ONE = Op(OpKind.LN), Op(OpKind.ONE)
NEGATED_OPEN, LN_ONE = Op(OpKind.NEGATED_OPEN), Op(OpKind.LN_ONE)
CLOSE_PAREN_BRACKET = Op(OpKind.CLOSE_PAREN_BRACKET)
WORD_SPACE = Op(OpKind.WORD_SPACE)
SIZED_BRACKET_OPEN = Op(OpKind.SIZED_BRACKET_OPEN)
SIZED_BRACKET_CLOSE = Op(OpKind.SIZED_BRACKET_CLOSE)


# ---- composite notation: each token is one thing the lecture writes


class Grad(Value):
    """∇J₍ₜ₎(W⁽ⁿ⁾), the gradient of sample t's loss with respect to W[n]; without a
    sample, the mean over the update.  ``bound``: the generic t is a summation
    index here (Σₜ ∇J₍ₜ₎), so it is written in Unicode too."""

    layer: int | str
    sample: int | str | None = None
    bound: bool = False


class MeanOver(Value):
    """(1/B) Σₜ: the mean over the B samples of an update, before a gradient (``mean``
    False: their sum, Σₜ, as with the conventions' ``cost: sum``)."""

    size: int
    mean: bool = True


class OneOver(Value):
    """1/B, before the bracketed sum of the losses in the cost; with a
    ``numerator`` n > 1, the factor n/B (n alone when B is 1): the conventions' 2 of a
    squared error without its ½, or its 1/K over the outputs."""

    size: int
    numerator: int = 1


class L2Term(Value):
    """½β Σw² (``beta`` None) or with β's value: ½ × 0.01 × Σw²."""

    beta: float | None = None


class Apply(Value):
    """An activation applied to an argument: σ(z)."""

    activation: str
    argument: tuple["Token", ...]


class SoftmaxRatio(Value):
    """exp(z_j) / Σₖ exp(z_k), one unit of a softmax layer (``displayed``: as a
    built-up fraction where the format has one)."""

    z: Sym
    displayed: bool = False


class SoftmaxJacobianT(Value):
    """(∂ŷ/∂z)ᵀ, the softmax Jacobian (transposed), multiplying the output error
    (``displayed``: as a built-up fraction where the format has one)."""

    displayed: bool = False


class DerivativeInValue(Value):
    """f'(z) written in the unit's own value, as the lecture does: h(1 − h) for
    sigmoid, 1 − h² for tanh; ``unit`` names the value (ŷ, h or h⁽ⁿ⁾)."""

    activation: str
    unit: Sym


class Note(Value):
    """A remark after an equation: ``(σ′ cancels against bce)``."""

    text: str


class Words(Value):
    """Plain words inside an equation: ``cost of all data = 1.407``."""

    text: str


class Given:
    """A matrix of given values (data, initial weights), written as given (read-only)."""

    __slots__ = ("value",)

    def __init__(self, value: np.ndarray) -> None:
        self.value = value


class Box(Value):
    """An empty answer box for one entry of a quantity (``quantity`` is a
    :class:`bpnn_steps.model.quantities.Quantity`; ``index`` the entry)."""

    quantity: Any
    entry: tuple[int, ...] = ()
    decimals: int = 3


class BoxMatrix(Value):
    """A matrix of empty answer boxes, one per entry of a quantity."""

    quantity: Any
    rows: int
    cols: int
    decimals: int = 3


class Exact(Value):
    """An exact value (a sympy expression)."""

    value: Any


class ExactMatrix(Value):
    """A matrix of exact values (sympy expressions)."""

    rows: tuple[tuple[Any, ...], ...]


class EntryForm(Enum):
    GRADIENT = "∂J₍ₜ₎/∂w"       # one sample's gradient entry
    MEAN = "mean ∂J/∂w"         # the update's mean gradient entry
    NEW = "w new"               # the entry after the update


class Entry(Value):
    """One weight's entry of a gradient or of the new weights: ∂J₍₁₎/∂w₀,₁⁽²⁾."""

    form: EntryForm
    layer: int
    i: int
    j: int
    sample: int | None = None


# ---- the derivation's notation (symbolic, one generic sample t)


class Formula(Value):
    """A chain-rule expression (a :mod:`bpnn_steps.maths.symbolic` node); ``wrap``:
    a long one may be broken over lines where the format allows."""

    node: Any
    wrap: bool = False


class FormulaMatrix(Value):
    """A matrix of chain-rule expressions."""

    rows: tuple[tuple[Any, ...], ...]


class WeightMatrix(Value):
    """W[n] written with its symbols (from ``first_row``: W̄[n] leaves out the bias
    row), with dots when it is large."""

    layer: int
    rows: int
    cols: int
    first_row: int = 0
    dotted: bool = False


class Partial(Value):
    """∂J₍ₜ₎/∂w_{i,j}^{[n]} written as a fraction."""

    layer: int
    i: int
    j: int


class PartialOutputs(Value):
    """∂J₍ₜ₎/∂ŷ₍ₜ₎, the loss's derivative with respect to the outputs."""


class PartialZ(Value):
    """∂J₍ₜ₎/∂z⁽ⁿ⁾, the loss's derivative with respect to layer n's z."""

    layer: int


class SumOver(Value):
    """Σᵢ body: a sum over index i from 1 to ``upper`` (the bound is written in LaTeX)."""

    variable: str
    upper: int | str
    body: tuple["Token", ...]


class Component(Value):
    """Entry ``index`` of the vector ``vector``, written out as ``written`` (a
    chain-rule expression): [W̄ δ]ⱼ."""

    vector: tuple["Token", ...]
    entry: int
    written: Any


class Transpose(Value):
    """The transpose of a symbol that carries a superscript: Aᵀ (in LaTeX the
    symbol is bracketed, (A^{[n]})^{T}, rather than given a second superscript)."""

    symbol: Sym


class DownTo(Value):
    """", n = L − 1, …, 1": the index a general formula runs over, downwards."""

    variable: str
    start: str
    end: int


class BatchMean(Value):
    """1/T Σₜ (the mean over the data set) or 1/|B| Σₜ∈B (over a mini-batch) before
    a per-sample gradient; ``count`` is T, |B| or their value.  ``mean`` False: the
    sum alone, Σₜ or Σₜ∈B (the conventions' ``cost: sum``)."""

    size: int | str
    over_batch: bool = False
    mean: bool = True


class L2Gradient(Value):
    """β R[n], the L2 term of the update: β times W[n] (row 0 zeroed when the biases
    are not regularised); ``beta`` None writes the symbol β."""

    layer: int
    beta: float | None = None
    l2_bias: bool = True


class LossFormula(Value):
    """J₍ₜ₎ of one generic sample written out, summed over the K outputs, as the
    ``conventions`` define it."""

    loss: str
    outputs: int
    conventions: Conventions = LECTURE


class CostFormula(Value):
    """J̄ = 1/T Σₜ J₍ₜ₎ (+ the L2 term with β's value); ``mean`` False: J = Σₜ J₍ₜ₎
    (the conventions' ``cost: sum``)."""

    samples: int | str
    beta: float | None = None
    l2_bias: bool = True
    mean: bool = True


Token = Union[Sym, Num, Mat, Op, Grad, MeanOver, OneOver, L2Term, Apply, SoftmaxRatio,
              SoftmaxJacobianT, DerivativeInValue, Note, Words, Given, Box, BoxMatrix, Exact,
              ExactMatrix, Entry, Formula, FormulaMatrix, WeightMatrix, Partial,
              PartialOutputs, PartialZ, SumOver, Component, Transpose, DownTo, BatchMean,
              L2Gradient, LossFormula, CostFormula]
Expr = tuple[Token, ...]


def column(values: np.ndarray) -> Mat:
    return Mat(np.asarray(values, dtype=float).reshape(-1, 1))


def with_one(values: np.ndarray) -> Mat:
    """[1; values]: a layer's input with the bias node in front."""
    return column(np.concatenate([[1.0], np.asarray(values, dtype=float)]))


__all__ = ["Sym", "Num", "Mat", "Op", "OpKind", "Token", "Expr", "sub", "sup", "unit_base",
           "vector_base", "layer_label", "column", "with_one"]
