"""The validated problem: network, data, initial weights and training settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from dataclasses import dataclass, field, replace

import numpy as np

from .conventions import LECTURE, Conventions

if TYPE_CHECKING:
    from ..errors import ProblemError

METHODS = ("batch", "sgd", "minibatch")


@dataclass(frozen=True)
class Training:
    learning_rate: float | None = None     # lambda; None until a command needs it
    method: str = "batch"
    batch_size: int | None = None          # minibatch only
    epochs: int = 1
    l2: float = 0.0                        # beta
    l2_bias: bool = True                   # does beta also shrink row 0 (the biases)?
    shuffle: bool = False
    seed: int = 0

    def batch_length(self, samples: int) -> int:
        """How many samples one update uses."""
        if self.method == "batch":
            return samples
        if self.method == "sgd":
            return 1
        return min(self.batch_size or samples, samples)


@dataclass(frozen=True, eq=False)
class Problem:
    """A network with its data, initial weights and training settings.

    ``weights[n - 1]`` is the lecture's W[n], shape (size_in + 1) x size_out,
    row 0 holding the bias weights.  Arrays are read-only.
    """

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str = "mse"
    x: np.ndarray | None = None            # T x N
    y: np.ndarray | None = None            # T x K
    weights: tuple[np.ndarray, ...] | None = None
    training: Training = field(default_factory=Training)
    title: str = ""
    description: str = ""
    source: str = "<problem>"
    # Where the initial weights came from (explicit, fill 0.1, random ...), for display.
    weights_origin: str = "explicit"
    # Held-out data, when the problem file gives some.
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    # Line of each top-level and training key in the problem file, for errors found later.
    lines: Mapping[str, int] = field(default_factory=dict)
    # The variant id, when the file is a variant written by `bpnn-steps variants`.
    variant: str = ""
    # The conventions the calculation follows (CONTRACT section 5).
    conventions: Conventions = LECTURE
    # How each training key that the file does not decide was given instead
    # ({"training.epochs": "--epochs"}): an error about its value names that.
    given_by: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("x", "y", "x_test", "y_test"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen(value))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(_frozen(w) for w in self.weights))

    @property
    def depth(self) -> int:
        """L, the number of weight layers."""
        return len(self.layers) - 1

    @property
    def samples(self) -> int:
        """T, the number of training samples."""
        return 0 if self.x is None else int(self.x.shape[0])

    def with_training(self, given_by: Mapping[str, str] | None = None,
                      **changes: Any) -> "Problem":
        """A copy with some training settings changed (epochs, learning_rate, ...);
        ``given_by`` says how some of them were given, for the messages about them
        (``{"epochs": "--epochs"}``: a command-line option)."""
        # An overridden setting no longer comes from its line in the file.
        lines = {k: v for k, v in self.lines.items()
                 if k.split(".", 1)[-1] not in changes}
        given = {k: v for k, v in self.given_by.items() if k.split(".", 1)[-1] not in changes}
        given.update({f"training.{k}": v for k, v in (given_by or {}).items()})
        return replace(self, training=replace(self.training, **changes), lines=lines,
                       given_by=given)

    def error(self, key: str, message: str, line: int | None = None) -> "ProblemError":
        """A ProblemError about this problem's file, at the line of ``key`` (else
        ``line``) when known; about the option that gave ``key``'s value, when one
        did (the file's line would blame a value the file does not have)."""
        from ..errors import ProblemError
        if key in self.given_by:
            return ProblemError(message, key=self.given_by[key])
        return ProblemError(message, file=self.source, line=self.lines.get(key, line), key=key)

    def with_weights(self, weights: tuple[np.ndarray, ...]) -> "Problem":
        return replace(self, weights=tuple(weights), weights_origin="explicit")

    def require_for_solving(self) -> None:
        """Raise a ProblemError naming what solving needs but the file lacks."""
        if self.x is None:
            raise self._missing("data")
        if self.weights is None:
            raise self._missing("weights")
        if self.training.learning_rate is None:
            raise self._missing("training.learning_rate")

    # A problem file may leave out the data, the weights and the learning rate (derive
    # and export need none of them), so they are Optional fields; code that needs
    # one reads it through these, which say in a ProblemError what the file lacks.

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y): the training samples, T x N and T x K."""
        if self.x is None or self.y is None:
            raise self._missing("data")
        return self.x, self.y

    def test_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(X, Y) of the held-out samples, or None when the file gives none."""
        if self.x_test is None or self.y_test is None:
            return None
        return self.x_test, self.y_test

    def initial_weights(self) -> tuple[np.ndarray, ...]:
        """W[1], ..., W[L] before the first update."""
        if self.weights is None:
            raise self._missing("weights")
        return self.weights

    def learning_rate(self) -> float:
        """λ, the learning rate."""
        if self.training.learning_rate is None:
            raise self._missing("training.learning_rate")
        return self.training.learning_rate

    def _missing(self, key: str) -> "ProblemError":
        from ..errors import ProblemError
        return ProblemError(_MISSING[key], file=self.source, key=key)


# What solving needs that a problem file may leave out, by key.
_MISSING = {
    "data": "is missing; solving needs data.x and data.y",
    "weights": "are missing; solving needs initial weights (matrices, weights.fill or "
               "weights.random)",
    "training.learning_rate": "is missing; solving needs lambda",
}


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a
