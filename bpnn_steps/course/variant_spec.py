"""What varies between the variants of a problem: the ``variants:`` block of a
problem file, read into a frozen :class:`VariantSpec`.

Every key is optional; without the block a problem varies in hand-friendly
numbers (weights on a 0.1 grid, whole-number inputs, one-decimal targets in the
output's range, a learning rate from 0.1 to 0.4).  ``solve`` and the other
commands only check that the block is a mapping; the variants command reads it
here, with the file's line in every message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..files.yamldoc import (Doc, as_boolean, as_integer, as_mapping, as_number, check_keys,
                             describe, item_line, key_line, reject_tags, value_line)
from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES, Targets
from ..model.problem import Problem

BLOCK_KEYS = ("weights", "inputs", "targets", "learning_rate", "saturation", "decimals",
              "attempts")
GRID_KEYS = ("range", "step", "nonzero")
# A grid of more values than this is not "hand-friendly"; it also bounds the draw.
MAX_GRID = 10_000
MAX_ATTEMPTS = 100_000


@dataclass(frozen=True)
class Grid:
    """Numbers from ``low`` to ``high`` in steps of ``step`` (multiples of the step),
    without zero when ``nonzero``."""

    low: float
    high: float
    step: float
    nonzero: bool = False

    @property
    def values(self) -> tuple[float, ...]:
        first = math.ceil(self.low / self.step - 1e-9)
        last = math.floor(self.high / self.step + 1e-9)
        # Rounded to the step's decimals so that 3 x 0.1 is written 0.3.
        places = _places(self.step)
        out = tuple(float(round(k * self.step, places)) + 0.0 for k in range(first, last + 1))
        return tuple(v for v in out if not (self.nonzero and v == 0.0))

    def describe(self) -> str:
        zero = ", not 0" if self.nonzero else ""
        return f"[{_num(self.low)}, {_num(self.high)}] step {_num(self.step)}{zero}"


@dataclass(frozen=True)
class VariantSpec:
    """How variants are drawn: a grid per weight matrix (None: the file's matrix is
    kept), for the inputs and for the targets (None: kept; ``one_hot``: each target
    row a random class), the learning rates to choose from (None: kept), and the
    quality test's settings."""

    weights: tuple[Grid | None, ...]
    inputs: Grid | None
    targets: Grid | None
    one_hot: bool
    learning_rates: tuple[float, ...] | None
    saturation: float = 4.0
    decimals: int = 3
    attempts: int = 200

    def varied(self) -> tuple[str, ...]:
        """The names of what is drawn anew, as the index lists them."""
        names = [f"W{n}" for n, g in enumerate(self.weights, start=1) if g is not None]
        if self.inputs is not None:
            names.append("x")
        if self.targets is not None or self.one_hot:
            names.append("y")
        if self.learning_rates is not None:
            names.append("learning_rate")
        return tuple(names)


DEFAULT_WEIGHTS = Grid(-0.5, 0.5, 0.1, nonzero=True)
# A zero input makes a whole row of the first gradient 0.
DEFAULT_INPUTS = Grid(-3.0, 3.0, 1.0, nonzero=True)
# lambda = 1/2 with two samples makes "lambda left out", "sum not mean" and
# "missing 1/2" give the same new weights.
DEFAULT_LEARNING_RATES = (0.1, 0.2, 0.3, 0.4)


def default_targets(problem: Problem) -> tuple[Grid | None, bool]:
    """(grid, one-hot) of the default targets: read from the loss's and the output
    activation's records, never from their names."""
    kind = LOSSES[problem.loss].targets
    values = ACTIVATIONS[problem.activations[-1]].range
    if kind is Targets.DISTRIBUTION or values.sums_to_one:
        return None, True
    if kind is Targets.BINARY:
        return Grid(0.0, 1.0, 1.0), False
    if math.isfinite(values.low) and math.isfinite(values.high):
        return Grid(values.low + 0.1, values.high - 0.1, 0.1), False
    if math.isfinite(values.low):
        return Grid(values.low + (0.5 if values.low_open else 0.0), values.low + 2.0, 0.5), False
    return Grid(-2.0, 2.0, 0.5), False


def default_spec(problem: Problem) -> VariantSpec:
    """What varies when a problem file has no ``variants:`` block."""
    targets, one_hot = default_targets(problem)
    return VariantSpec(weights=(DEFAULT_WEIGHTS,) * problem.depth, inputs=DEFAULT_INPUTS,
                       targets=targets, one_hot=one_hot,
                       learning_rates=DEFAULT_LEARNING_RATES)


def read_spec(tree: Any, problem: Problem) -> VariantSpec:
    """The ``variants:`` block of a parsed problem file (``tree``, from
    :func:`~bpnn_steps.files.yamldoc.parse_yaml`), validated against ``problem``;
    the defaults where the file has no block or leaves a key out."""
    spec = default_spec(problem)
    node = tree.get("variants") if hasattr(tree, "get") else None
    if node is None:
        return spec
    doc = Doc(problem.source)
    block = as_mapping(doc, node, "variants", value_line(tree, "variants"))
    check_keys(doc, block, BLOCK_KEYS, "variants")
    weights, inputs, targets, one_hot, rates = (spec.weights, spec.inputs, spec.targets,
                                                spec.one_hot, spec.learning_rates)
    if "weights" in block:
        weights = _weights(doc, block, problem)
    if "inputs" in block:
        inputs = _grid_or_kept(doc, block, "inputs", DEFAULT_INPUTS)
    if "targets" in block:
        targets, one_hot = _targets(doc, block, problem)
    if "learning_rate" in block:
        rates = _rates(doc, block)
    saturation, decimals, attempts = spec.saturation, spec.decimals, spec.attempts
    if "saturation" in block:
        line = value_line(block, "saturation")
        saturation = as_number(doc, block["saturation"], "variants.saturation", line)
        if saturation <= 0:
            raise doc.error("variants.saturation", f"must be a number > 0 (|z| above it is "
                            f"saturated), got {_num(saturation)}", line)
    if "decimals" in block:
        decimals = as_integer(doc, block["decimals"], "variants.decimals",
                              value_line(block, "decimals"), 1, 8)
    if "attempts" in block:
        attempts = as_integer(doc, block["attempts"], "variants.attempts",
                              value_line(block, "attempts"), 1, MAX_ATTEMPTS)
    return VariantSpec(weights=weights, inputs=inputs, targets=targets, one_hot=one_hot,
                       learning_rates=rates, saturation=saturation, decimals=decimals,
                       attempts=attempts)


def _weights(doc: Doc, block: Any, problem: Problem) -> tuple[Grid | None, ...]:
    node = block["weights"]
    line = value_line(block, "weights")
    names = [f"W{n}" for n in range(1, problem.depth + 1)]
    if isinstance(node, bool) or not _is_mapping(node) or \
            not any(re.fullmatch(r"W\d+", str(k)) for k in node):
        kept = _grid_or_kept(doc, block, "weights", DEFAULT_WEIGHTS)
        return (kept,) * problem.depth
    # One entry per matrix; a matrix not named keeps the default draw.
    as_mapping(doc, node, "variants.weights", line)
    check_keys(doc, node, names, "variants.weights")
    return tuple(_grid_or_kept(doc, node, name, DEFAULT_WEIGHTS, "variants.weights")
                 if name in node else DEFAULT_WEIGHTS for name in names)


def _targets(doc: Doc, block: Any, problem: Problem) -> tuple[Grid | None, bool]:
    default, one_hot = default_targets(problem)
    node = block["targets"]
    line = value_line(block, "targets")
    if one_hot and not isinstance(node, bool):
        raise doc.error("variants.targets", f"must be true or false: {problem.loss} targets "
                        f"with a {problem.activations[-1]} output are drawn as one-hot rows, "
                        f"got {describe(node)}", line)
    if one_hot:
        return None, as_boolean(doc, node, "variants.targets", line)
    grid = _grid_or_kept(doc, block, "targets", default or DEFAULT_INPUTS)
    if grid is not None:
        import numpy as np

        bad = LOSSES[problem.loss].bad_targets(np.array(grid.values, dtype=float).reshape(-1, 1))
        if bool(np.any(bad)):
            raise doc.error("variants.targets.range", f"gives targets {problem.loss} cannot "
                            f"take: {LOSSES[problem.loss].targets_message}",
                            value_line(node, "range") if _is_mapping(node) else line)
    return grid, False


def _rates(doc: Doc, block: Any) -> tuple[float, ...] | None:
    node = block["learning_rate"]
    key = "variants.learning_rate"
    line = value_line(block, "learning_rate")
    reject_tags(doc, node, key, line)
    if isinstance(node, bool):
        if node:
            return DEFAULT_LEARNING_RATES
        return None
    if isinstance(node, (int, float)):
        node = [node]
    if isinstance(node, str) or not isinstance(node, Sequence) or not node:
        raise doc.error(key, f"must be a list of learning rates to choose from (e.g. [0.1, "
                        f"0.2, 0.3]) or false (keep the file's), got {describe(node)}", line)
    rates = []
    for i, item in enumerate(node):
        where = item_line(node, i, line)
        rate = as_number(doc, item, f"{key}[{i}]", where)
        if rate <= 0:
            raise doc.error(f"{key}[{i}]", f"must be a learning rate > 0, got {_num(rate)}",
                            where)
        rates.append(rate)
    return tuple(rates)


def _grid_or_kept(doc: Doc, block: Any, name: str, default: Grid,
                  prefix: str = "variants") -> Grid | None:
    """``name: false`` (kept), ``true`` (the default grid) or a grid mapping."""
    key = f"{prefix}.{name}"
    node = block[name]
    line = value_line(block, name)
    reject_tags(doc, node, key, line)
    if isinstance(node, bool):
        return default if node else None
    if not _is_mapping(node):
        raise doc.error(key, f"must be false (keep the file's numbers), true (the default "
                        f"{default.describe()}) or a mapping with range, step and nonzero, "
                        f"got {describe(node)}", line)
    check_keys(doc, node, GRID_KEYS, key)
    low, high = default.low, default.high
    if "range" in node:
        where = value_line(node, "range")
        pair = node["range"]
        reject_tags(doc, pair, f"{key}.range", where)
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise doc.error(f"{key}.range", f"must be [low, high], got {describe(pair)}", where)
        low = as_number(doc, pair[0], f"{key}.range[0]", item_line(pair, 0, where))
        high = as_number(doc, pair[1], f"{key}.range[1]", item_line(pair, 1, where))
        if low > high:
            raise doc.error(f"{key}.range", f"must be [low, high] with low <= high, got "
                            f"[{_num(low)}, {_num(high)}]", where)
    step = default.step
    if "step" in node:
        where = value_line(node, "step")
        step = as_number(doc, node["step"], f"{key}.step", where)
        if step <= 0:
            raise doc.error(f"{key}.step", f"must be a number > 0, got {_num(step)}", where)
    nonzero = default.nonzero
    if "nonzero" in node:
        nonzero = as_boolean(doc, node["nonzero"], f"{key}.nonzero", value_line(node, "nonzero"))
    grid = Grid(low, high, step, nonzero)
    where = key_line(block, name)
    if (high - low) / step > MAX_GRID:
        raise doc.error(key, f"has more than {MAX_GRID:,} values ({grid.describe()}); a "
                        f"hand calculation wants a coarser step", where)
    if not grid.values:
        raise doc.error(key, f"has no values: no multiple of {_num(step)} in "
                        f"{grid.describe()}", where)
    return grid


def _is_mapping(node: Any) -> bool:
    from collections.abc import Mapping

    return isinstance(node, Mapping)


def _places(step: float) -> int:
    """Decimals enough to write the multiples of ``step`` (0.1 -> 1, 0.25 -> 2)."""
    for places in range(0, 12):
        if abs(round(step, places) - step) <= 1e-12 * max(1.0, abs(step)):
            return places
    return 12


def _num(value: float) -> str:
    return f"{value:g}"
