"""The lecture's notation as small expression tokens, written out in Unicode or LaTeX.

``w_{0,1}^{[1]}`` (weight from node 0 to node 1 of layer 1) prints as ``w₀,₁⁽¹⁾``
in a terminal and as ``w_{0,1}^{[1]}`` in LaTeX; ``h_{1,(2)}`` (hidden value 1 of
sample 2) as ``h₁,₍₂₎``.  An expression is a tuple of tokens; renderers turn
tokens into text, formatting numbers with :mod:`bpnn_steps.numfmt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

_SUB = str.maketrans("0123456789()+-=aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₍₎₊₋₌ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789()+-=", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻⁼")

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


def unit_base(n: int, depth: int) -> tuple[str, int | None]:
    """(base, layer) of the units of layer n as the lecture names them: x for the
    inputs (n = 0), ŷ for the outputs (n = L), h for the one hidden layer, and h
    with its layer number when there are several hidden layers."""
    if n == 0:
        return "x", None
    if n == depth:
        return "yhat", None
    return "h", None if depth == 2 else n


def sub(text: str) -> str:
    return text.translate(_SUB)


def sup(text: str) -> str:
    return text.translate(_SUP)


@dataclass(frozen=True)
class Sym:
    """A symbol with the lecture's indices: node indices, sample (t), layer [n]."""

    base: str
    index: tuple[int, ...] = ()
    sample: int | None = None
    layer: int | None = None
    suffix: str = ""           # plain text after the symbol, e.g. "new", "d"

    def unicode(self) -> str:
        base = _BASES.get(self.base, (self.base, self.base))[0]
        if self.suffix == "d":      # the lecture's H_d: derivative of the activations
            base += "_d"
        parts = [str(i) for i in self.index]
        if self.sample is not None:
            parts.append(f"({self.sample})")
        text = base + (",".join(sub(p) for p in parts) if parts else "")
        if self.layer is not None:
            text += sup(f"({self.layer})")
        if self.suffix and self.suffix != "d":
            text += " " + self.suffix
        return text

    def latex(self) -> str:
        base = _BASES.get(self.base, (self.base, None))[1]
        if base is None:
            base = rf"\mathbf{{{self.base}}}" if self.base in _BOLD else self.base
        parts = [str(i) for i in self.index]
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


@dataclass(frozen=True)
class Num:
    """A number, formatted at render time; negative numbers that follow an
    operator are put in parentheses (``0.1 × (−0.5)``)."""

    value: float
    paren: bool = True


@dataclass(frozen=True)
class Op:
    """Operator or plain text, with its Unicode and LaTeX spellings."""

    text: str
    tex: str


@dataclass(frozen=True)
class Mat:
    """A matrix (or column vector) written out in full."""

    value: np.ndarray


Token = Union[Sym, Num, Op, Mat]
Expr = tuple[Token, ...]

PLUS = Op(" + ", " + ")
MINUS = Op(" − ", " - ")
TIMES = Op(" × ", r" \times ")
EQUALS = Op(" = ", " = ")
SPACE = Op(" ", r"\,")
HALF = Op("½", r"\tfrac{1}{2}")
LP = Op("(", r"\left(")
RP = Op(")", r"\right)")
HADAMARD = Op(" ⊙ ", r" \odot ")
T_SUP = Op("ᵀ", "^{T}")


def op(text: str, tex: str | None = None) -> Op:
    return Op(text, text if tex is None else tex)


def column(values: np.ndarray) -> Mat:
    return Mat(np.asarray(values, dtype=float).reshape(-1, 1))


def with_one(values: np.ndarray) -> Mat:
    """[1; values]: a layer's input with the bias node in front."""
    return column(np.concatenate([[1.0], np.asarray(values, dtype=float)]))
