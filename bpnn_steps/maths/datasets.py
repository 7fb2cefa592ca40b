"""Small data sets for training demonstrations, drawn from a seeded generator.

Every function takes a ``numpy.random.Generator`` and keeps no state of its
own: the same generator state gives the same data.

Regression (one input, one output):

* ``line``:  y = slope x + intercept + noise
* ``sine``:  y = amplitude sin(frequency x + phase) + noise

x runs over ``[low, high]``, evenly spaced (``spacing="even"``, the default) or
drawn uniformly (``"random"``, in the order drawn); noise is Gaussian with
standard deviation ``noise``.

Classification (two inputs, a 0/1 label):

* ``xor``:   the four corners of the unit square, label 1 where exactly one
  coordinate is 1; point t sits at corner t mod 4, moved by Gaussian noise;
* ``moons``: two interleaving half circles (label t mod 2): label 0 on
  (cos a, sin a), label 1 on (1 - cos a, 1/2 - sin a), a uniform in [0, pi],
  plus Gaussian noise on both coordinates.

Classes alternate in sample order, so training in data order sees both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .activations import Array, Indices

    Labels = NDArray[np.int64]      # class numbers 0, 1, ... of the samples

# A generator's parameter: a number, the spacing's name, or the range (low, high).
Param = Union[float, str, tuple[float, float]]

KINDS = ("line", "sine", "xor", "moons")
REGRESSION = ("line", "sine")
CLASSIFICATION = ("xor", "moons")
INPUTS = {"line": 1, "sine": 1, "xor": 2, "moons": 2}
SPACINGS = ("even", "random")
# Keys each kind takes beyond kind/points/noise/seed, with their defaults.
PARAMETERS: dict[str, dict[str, Param]] = {
    "line": {"range": (0.0, 1.0), "spacing": "even", "slope": 1.0, "intercept": 0.0},
    "sine": {"range": (0.0, 2 * math.pi), "spacing": "even", "amplitude": 1.0,
             "frequency": 1.0, "phase": 0.0},
    "xor": {},
    "moons": {},
}
DEFAULT_POINTS = {"line": 20, "sine": 20, "xor": 40, "moons": 100}
DEFAULT_NOISE = {"line": 0.0, "sine": 0.0, "xor": 0.1, "moons": 0.1}


def _inputs(rng: np.random.Generator, points: int, low: float, high: float,
            spacing: str) -> Array:
    if spacing == "random":
        return rng.uniform(low, high, size=points)
    return np.linspace(low, high, points)


def line(rng: np.random.Generator, points: int, *, low: float = 0.0, high: float = 1.0,
         noise: float = 0.0, slope: float = 1.0, intercept: float = 0.0,
         spacing: str = "even") -> tuple[Array, Array]:
    """(x, y), each (points, 1): y = slope x + intercept + N(0, noise^2)."""
    x = _inputs(rng, points, low, high, spacing)
    y = slope * x + intercept
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=points)
    return x[:, None], y[:, None]


def sine(rng: np.random.Generator, points: int, *, low: float = 0.0,
         high: float = 2 * math.pi, noise: float = 0.0, amplitude: float = 1.0,
         frequency: float = 1.0, phase: float = 0.0, spacing: str = "even"
         ) -> tuple[Array, Array]:
    """(x, y), each (points, 1): y = amplitude sin(frequency x + phase) + N(0, noise^2)."""
    x = _inputs(rng, points, low, high, spacing)
    y = amplitude * np.sin(frequency * x + phase)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=points)
    return x[:, None], y[:, None]


_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_LABELS = np.array([0, 1, 1, 0])


def xor(rng: np.random.Generator, points: int, *, noise: float = 0.1) -> tuple[Array, Labels]:
    """(x (points, 2), labels (points,)): noisy copies of the XOR truth table."""
    corner = np.arange(points) % 4
    x = _CORNERS[corner].copy()
    if noise > 0:
        x += rng.normal(0.0, noise, size=x.shape)
    return x, _XOR_LABELS[corner].copy()


def moons(rng: np.random.Generator, points: int, *, noise: float = 0.1
          ) -> tuple[Array, Labels]:
    """(x (points, 2), labels (points,)): two interleaving half circles."""
    labels = np.arange(points) % 2
    angle = rng.uniform(0.0, math.pi, size=points)
    x = np.where(labels[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], axis=1),
                 np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1))
    if noise > 0:
        x = x + rng.normal(0.0, noise, size=x.shape)
    return x, labels


def targets(labels: Labels, outputs: int) -> Array:
    """Labels as a target matrix: one column of 0/1 for one output, one-hot for more."""
    labels = np.asarray(labels, dtype=np.int64)
    if outputs == 1:
        return labels[:, None].astype(float)
    out = np.zeros((len(labels), outputs))
    out[np.arange(len(labels)), labels] = 1.0
    return out


@dataclass(frozen=True)
class Generator:
    """A generated data set, as a problem file describes it (``data.generate``)."""

    kind: str
    points: int
    noise: float
    seed: int = 0
    params: dict[str, Param] = field(default_factory=dict)   # range, spacing, slope, ...

    def param(self, name: str) -> Param:
        return self.params.get(name, PARAMETERS[self.kind][name])

    def number(self, name: str) -> float:
        """A numeric parameter (slope, amplitude, ...)."""
        value = self.param(name)
        if isinstance(value, (str, tuple)):
            raise TypeError(f"data.generate.{name} is not a number: {value!r}")
        return float(value)

    def x_range(self) -> tuple[float, float]:
        """(low, high) of the inputs of a regression set."""
        value = self.param("range")
        if not isinstance(value, tuple):
            raise TypeError(f"data.generate.range is not a pair: {value!r}")
        return value

    def spacing(self) -> str:
        return str(self.param("spacing"))

    def generate(self, outputs: int = 1) -> tuple[Array, Array]:
        """(x, y) with y as ``outputs`` columns (classification: 0/1 or one-hot)."""
        rng = np.random.default_rng(self.seed)
        if self.kind in REGRESSION:
            low, high = self.x_range()
            if self.kind == "line":
                return line(rng, self.points, low=float(low), high=float(high),
                            noise=self.noise, slope=self.number("slope"),
                            intercept=self.number("intercept"), spacing=self.spacing())
            return sine(rng, self.points, low=float(low), high=float(high), noise=self.noise,
                        amplitude=self.number("amplitude"),
                        frequency=self.number("frequency"), phase=self.number("phase"),
                        spacing=self.spacing())
        make = xor if self.kind == "xor" else moons
        x, labels = make(rng, self.points, noise=self.noise)
        return x, targets(labels, outputs)

    def true_function(self) -> Callable[[Array], Array] | None:
        """The noise-free function of a regression set (None for classification)."""
        if self.kind == "line":
            slope, intercept = self.number("slope"), self.number("intercept")
            return lambda x: slope * np.asarray(x, dtype=float) + intercept
        if self.kind == "sine":
            a, f, ph = (self.number(k) for k in ("amplitude", "frequency", "phase"))
            return lambda x: a * np.sin(f * np.asarray(x, dtype=float) + ph)
        return None

    def describe(self) -> str:
        """One line for reports: 'sine, 20 points on [0, 6.283], noise 0.1, seed 1'."""
        text = f"{self.kind}, {self.points} points"
        if self.kind in REGRESSION:
            low, high = self.x_range()
            text += f" on [{low:g}, {high:g}]"
            if self.spacing() == "random":
                text += " (random x)"
        text += f", noise {self.noise:g}, seed {self.seed}"
        return text

    def to_mapping(self) -> dict[str, object]:
        """The ``data.generate`` mapping that gives this set back."""
        out: dict[str, object] = {"kind": self.kind, "points": self.points, "noise": self.noise,
                     "seed": self.seed}
        for key, value in self.params.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


def split(rng: np.random.Generator, samples: int, fraction: float
          ) -> tuple[Indices, Indices]:
    """(train indices, test indices): round(fraction T) samples chosen at random for
    testing, at least one on each side; both lists keep the data order."""
    n_test = min(samples - 1, max(1, round(fraction * samples)))
    chosen = np.zeros(samples, dtype=bool)
    chosen[rng.permutation(samples)[:n_test]] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)
