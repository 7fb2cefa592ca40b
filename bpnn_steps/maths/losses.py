"""Per-sample losses J_(t) and their derivative with respect to the output layer.

All functions work on a batch: arrays of shape (B, K), one row per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .activations import log_softmax

Array = np.ndarray


def _mse(z: Array, yhat: Array, y: Array) -> Array:
    return 0.5 * np.sum((yhat - y) ** 2, axis=1)


def _bce(z: Array, yhat: Array, y: Array) -> Array:
    # From z rather than yhat: -[y ln s(z) + (1-y) ln(1-s(z))]
    # = max(z, 0) - y z + ln(1 + e^-|z|), which never takes log(0).
    return np.sum(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))), axis=1)


def _ce(z: Array, yhat: Array, y: Array) -> Array:
    return -np.sum(y * log_softmax(z), axis=1)


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[Array, Array, Array], Array]   # (z_L, yhat, y) -> J per sample
    output_activation: str | None                   # the output activation it requires
    # When the loss is paired with its own output activation, dJ/dz_L simplifies
    # (the lecture's section 1.2: the sigmoid derivative cancels); else None.
    simplified_delta: Callable[[Array, Array], Array] | None
    formula: str                                    # J_(t) in Unicode
    formula_latex: str
    description: str


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("mse", _mse, None, None,
             "Σₖ ½(ŷₖ − yₖ)²", r"\sum_{k} \tfrac{1}{2}(\hat{y}_{k} - y_{k})^{2}",
             "half squared error, summed over outputs"),
        Loss("bce", _bce, "sigmoid", lambda yhat, y: yhat - y,
             "−Σₖ [yₖ ln ŷₖ + (1 − yₖ) ln(1 − ŷₖ)]",
             r"-\sum_{k} \left[ y_{k} \ln \hat{y}_{k} + (1 - y_{k}) \ln(1 - \hat{y}_{k}) \right]",
             "binary cross-entropy (sigmoid output)"),
        # d/dz of -sum y ln softmax(z) is yhat * sum(y) - y; sum(y) = 1 for targets
        # that are probabilities, which validation enforces.
        Loss("ce", _ce, "softmax", lambda yhat, y: yhat * np.sum(y, axis=1, keepdims=True) - y,
             "−Σₖ yₖ ln ŷₖ", r"-\sum_{k} y_{k} \ln \hat{y}_{k}",
             "cross-entropy (softmax output)"),
    )
}


def mse_error(yhat: Array, y: Array) -> Array:
    """dJ/dŷ for mse: Ŷ − Y (the lecture's output error)."""
    return yhat - y
