"""The expression trees of the chain rule: small frozen nodes, no imports.

:mod:`bpnn_steps.maths.symbolic` builds, prints and converts them; the activation
records (:mod:`bpnn_steps.maths.activations`) build their derivatives from them,
which is why they live apart from both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Union


@dataclass(frozen=True)
class Var:
    """A value of one generic sample: ``x``, ``y``, ``yhat``, ``h`` (hidden unit) or
    ``w`` (weight, index (i, j), layer n).  ``h`` has ``layer`` None in a network
    with one hidden layer (the lecture's plain h) and the layer number otherwise."""

    kind: str
    index: tuple[int, ...]
    layer: int | None = None


@dataclass(frozen=True)
class One:
    """The constant 1."""


@dataclass(frozen=True)
class Const:
    """A constant other than 1, printed as ``text`` (0.01) and exact as ``value``;
    ``tex``: its LaTeX when that differs from ``text`` (a fraction)."""

    text: str
    value: Fraction
    tex: str = ""


@dataclass(frozen=True, eq=False)
class Sum:
    terms: tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class Diff:
    left: "Node"
    right: "Node"


@dataclass(frozen=True, eq=False)
class Prod:
    factors: tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class Square:
    base: "Node"


@dataclass(frozen=True, eq=False)
class NegExp:
    """e^(-base): softplus' = 1 - e^(-h), written in the unit's value h."""

    base: "Node"


@dataclass(frozen=True, eq=False)
class Step:
    """The step [z_j^[n] > 0] (``above``) or [z_j^[n] <= 0], written with z; ``unit``
    is the unit's value f(z_j^[n]), which has the sign of z (relu, leaky_relu)."""

    unit: Var
    layer: int
    j: int
    above: bool


@dataclass(frozen=True)
class Ref:
    """A named shorthand shown in recursions: delta_j^[n] (``name`` "delta")."""

    name: str
    index: tuple[int, ...]
    layer: int | None = None


Node = Union[Var, One, Const, Sum, Diff, Prod, Square, NegExp, Step, Ref]


def prod(*factors: Node | None) -> Node:
    """A product with nested products flattened and factors 1 (or None) left out."""
    flat: list[Node] = []
    for f in factors:
        if f is None or isinstance(f, One):
            continue
        if isinstance(f, Prod):
            flat.extend(f.factors)
        else:
            flat.append(f)
    if not flat:
        return One()
    return flat[0] if len(flat) == 1 else Prod(tuple(flat))


def total(terms: Sequence[Node]) -> Node:
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))
