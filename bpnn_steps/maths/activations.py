"""Activation functions: value, derivative, and how a lecture writes them.

Each derivative is given both from z and, where a lecture writes it that way,
from the activation value h = f(z) (sigma' = h(1 - h), tanh' = 1 - h^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    # Split by sign so exp never overflows: exp(-|z|) <= 1.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: Array) -> Array:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(z: Array) -> Array:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


# relu's derivative jumps at z = 0 (where it is 0, by the lecture's convention), so
# a z that is zero in exact arithmetic must not come out as +5.6e-17 from rounding
# (-0.3 + 0.1 x 3).  A relu layer's z within this relative distance of zero, relative
# to the size of the terms summed into it, is taken as exactly 0.
RELU_ZERO_RTOL = 1e-14


def relu_zero_snapped(z: Array, bias: Array, inputs: Array, weights: Array) -> Array:
    """z with rounding noise around 0 set to 0: |z| <= RTOL (|w_0| + sum |a_i w_i|)."""
    scale = np.abs(bias) + np.abs(inputs) @ np.abs(weights)
    return np.where(np.abs(z) <= RELU_ZERO_RTOL * scale, 0.0, z)


@dataclass(frozen=True)
class Activation:
    name: str
    symbol: str                 # Unicode function name as printed: σ, tanh, relu
    latex: str                  # LaTeX function name
    value: Callable[[Array], Array]
    # f'(z) given z and a = f(z); None for softmax (its derivative is a Jacobian).
    derivative: Callable[[Array, Array], Array] | None
    # f'(z) written in terms of the activation value, as a lecture writes it.
    derivative_text: str        # Unicode, with {h} standing for the activation symbol
    derivative_latex: str       # LaTeX, with {h} standing for the activation symbol
    description: str

    def derivative_unicode(self, h: str) -> str:
        """f'(z) written with ``h`` for the activation value: σ gives 'h(1 − h)'."""
        return self.derivative_text.replace("{h}", h)

    def derivative_tex(self, h: str) -> str:
        return self.derivative_latex.replace("{h}", h)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", "σ", r"\sigma", sigmoid,
                   lambda z, a: a * (1.0 - a),
                   "{h}(1 − {h})", r"{h}(1 - {h})", "logistic sigmoid 1/(1 + e^-z)"),
        Activation("tanh", "tanh", r"\tanh", np.tanh,
                   lambda z, a: 1.0 - a * a,
                   "1 − {h}²", r"1 - {h}^{2}", "hyperbolic tangent"),
        Activation("relu", "relu", r"\operatorname{relu}", lambda z: np.maximum(z, 0.0),
                   lambda z, a: (z > 0).astype(float),
                   "[z > 0]", r"[z > 0]", "max(0, z); derivative 0 at z = 0"),
        Activation("linear", "", "", lambda z: np.array(z, dtype=float, copy=True),
                   lambda z, a: np.ones_like(z),
                   "1", "1", "identity f(z) = z"),
        Activation("softmax", "softmax", r"\operatorname{softmax}", softmax, None,
                   "", "", "softmax over the output layer (output layer only)"),
    )
}
