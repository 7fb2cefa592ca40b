"""Load and validate problem files (YAML 1.2) with line-numbered errors.

ruamel.yaml's round-trip loader keeps the line of every key and item, reads
``1e-3`` as a number and refuses duplicate keys.  It never constructs Python
objects: tags such as ``!!python/object`` stay inert nodes, and validation
rejects them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..maths.activations import ACTIVATIONS, hidden_names
from ..errors import ProblemError
from ..maths.losses import LOSSES, Targets
from ..model.problem import METHODS, Problem, Training
from .bundled import BUNDLED_DIR, resolve_path, shown_name

if TYPE_CHECKING:
    from ..maths.datasets import Generator

MAX_FILE_BYTES = 20_000_000

TOP_KEYS = ("title", "description", "network", "loss", "data", "weights", "training")
NETWORK_KEYS = ("layers", "activations")
DATA_KEYS = ("x", "y", "x_test", "y_test", "generate", "csv", "test", "test_fraction",
             "split_seed")
GENERATE_KEYS = ("kind", "points", "range", "noise", "seed", "spacing", "slope", "intercept",
                 "amplitude", "frequency", "phase")
CSV_KEYS = ("file", "x", "y", "delimiter")
TEST_KEYS = ("x", "y", "generate", "csv")
MAX_POINTS = 10_000_000
MAX_CSV_BYTES = 500_000_000
TRAINING_KEYS = ("learning_rate", "method", "batch_size", "epochs", "l2", "l2_bias",
                 "shuffle", "seed")
RANDOM_KEYS = ("distribution", "scale", "seed")
DISTRIBUTIONS = ("uniform", "normal", "glorot")


# --------------------------------------------------------------------------- locating


class _Doc:
    """The file being validated: turns key paths and nodes into error messages."""

    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, key: str | None, message: str, line: int | None) -> ProblemError:
        return ProblemError(message, file=self.name, line=line, key=key)


def _key_line(mapping: Any, key: str) -> int | None:
    try:
        return mapping.lc.key(key)[0] + 1
    except Exception:
        return None


def _value_line(mapping: Any, key: str) -> int | None:
    try:
        return mapping.lc.value(key)[0] + 1
    except Exception:
        return _key_line(mapping, key)


def _item_line(seq: Any, index: int, default: int | None) -> int | None:
    try:
        return seq.lc.item(index)[0] + 1
    except Exception:
        return default


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, Sequence):
        return f"a list of {len(value)}"
    return repr(value)


def _reject_tags(doc: _Doc, value: Any, key: str, line: int | None) -> None:
    tag = getattr(value, "tag", None)
    tag_text = getattr(tag, "value", None) if tag is not None else None
    if tag_text is None and type(value).__name__ == "TaggedScalar":
        tag_text = str(tag)
    if tag_text:
        raise doc.error(key, f"has the YAML tag {tag_text!r}; tags are not allowed in "
                        "problem files", line)


def _check_keys(doc: _Doc, mapping: Any, allowed: Sequence[str], prefix: str) -> None:
    import difflib

    for key in mapping:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else str(key)
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else \
                f"; expected one of: {', '.join(allowed)}"
            raise doc.error(where, f"is not a known key{hint}", _key_line(mapping, key))


def _mapping(doc: _Doc, value: Any, key: str, line: int | None) -> Mapping:
    _reject_tags(doc, value, key, line)
    if not isinstance(value, Mapping):
        raise doc.error(key, f"must be a mapping of keys, got {_describe(value)}", line)
    return value


# --------------------------------------------------------------------------- scalars


def _number(doc: _Doc, value: Any, key: str, line: int | None) -> float:
    _reject_tags(doc, value, key, line)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (remove the quotes)" if isinstance(value, str) and _looks_numeric(value) else ""
        raise doc.error(key, f"must be a number, got {_describe(value)}{hint}", line)
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise doc.error(key, f"must be a finite number, got {value}", line)
    return x


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _integer(doc: _Doc, value: Any, key: str, line: int | None, minimum: int) -> int:
    _reject_tags(doc, value, key, line)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise doc.error(key, f"must be a whole number >= {minimum}, got {_describe(value)}",
                            line)
    if value < minimum:
        raise doc.error(key, f"must be a whole number >= {minimum}, got {value}", line)
    return int(value)


def _boolean(doc: _Doc, value: Any, key: str, line: int | None) -> bool:
    _reject_tags(doc, value, key, line)
    if not isinstance(value, bool):
        raise doc.error(key, f"must be true or false, got {_describe(value)}", line)
    return value


def _choice(doc: _Doc, value: Any, key: str, line: int | None, choices: Sequence[str]) -> str:
    _reject_tags(doc, value, key, line)
    if not isinstance(value, str) or value not in choices:
        import difflib

        shown = _describe(value)
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5) \
            if isinstance(value, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise doc.error(key, f"must be one of {', '.join(choices)}, got {shown}{hint}", line)
    return value


def _text(doc: _Doc, value: Any, key: str, line: int | None) -> str:
    _reject_tags(doc, value, key, line)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise doc.error(key, f"must be text, got {_describe(value)}", line)
    return value


# --------------------------------------------------------------------------- matrices


def _matrix(doc: _Doc, value: Any, key: str, line: int | None, *,
            columns: int | None = None, flat_ok: bool = False) -> np.ndarray:
    """A list of equal-length rows of numbers.  With ``flat_ok`` (one column
    expected), a plain list of numbers is read as one number per row."""
    _reject_tags(doc, value, key, line)
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) == 0:
        raise doc.error(key, f"must be a non-empty list of rows, got {_describe(value)}", line)
    rows: list[list[float]] = []
    for i, row in enumerate(value):
        row_line = _item_line(value, i, line)
        row_key = f"{key}[{i}]"
        _reject_tags(doc, row, row_key, row_line)
        if isinstance(row, str) or (flat_ok and not isinstance(row, (Sequence, Mapping))):
            rows.append([_number(doc, row, row_key, row_line)])
            continue
        if not isinstance(row, Sequence):
            raise doc.error(row_key, f"must be a list of numbers (one row), got {_describe(row)}",
                            row_line)
        rows.append([_number(doc, item, f"{row_key}[{j}]", _item_line(row, j, row_line))
                     for j, item in enumerate(row)])
    expected = columns if columns is not None else len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != expected:
            what = f"{expected} number{'s' if expected != 1 else ''}"
            raise doc.error(f"{key}[{i}]", f"must have {what}, got {len(r)}",
                            _item_line(value, i, line))
    return np.array(rows, dtype=float)


# --------------------------------------------------------------------------- sections


def _network(doc: _Doc, root: Mapping) -> tuple[tuple[int, ...], tuple[str, ...]]:
    if "network" not in root:
        raise doc.error("network", "is missing; expected layers: [N, M, ..., K] and "
                        "activations: [...]", None)
    net = _mapping(doc, root["network"], "network", _value_line(root, "network"))
    _check_keys(doc, net, NETWORK_KEYS, "network")
    for key in NETWORK_KEYS:
        if key not in net:
            raise doc.error(f"network.{key}", "is missing", _key_line(root, "network"))
    line = _value_line(net, "layers")
    raw = net["layers"]
    _reject_tags(doc, raw, "network.layers", line)
    if isinstance(raw, str) or not isinstance(raw, Sequence) or len(raw) < 2:
        raise doc.error("network.layers", "must list at least two layer sizes [N, ..., K], "
                        f"got {_describe(raw)}", line)
    layers = tuple(_integer(doc, n, f"network.layers[{i}]", _item_line(raw, i, line), 1)
                   for i, n in enumerate(raw))

    line = _value_line(net, "activations")
    raw = net["activations"]
    if isinstance(raw, str):
        raise doc.error("network.activations", f"must be a list of {len(layers) - 1} "
                        f"activations, one per weight layer, got the single name {raw!r}", line)
    _reject_tags(doc, raw, "network.activations", line)
    if not isinstance(raw, Sequence):
        raise doc.error("network.activations", f"must be a list, got {_describe(raw)}", line)
    if len(raw) != len(layers) - 1:
        raise doc.error("network.activations",
                        f"must list {len(layers) - 1} activations (one per weight layer for "
                        f"layers {list(layers)}), got {len(raw)}", line)
    names = tuple(_choice(doc, a, f"network.activations[{i}]", _item_line(raw, i, line),
                          tuple(ACTIVATIONS)) for i, a in enumerate(raw))
    hidden = hidden_names()
    for i, name in enumerate(names[:-1]):
        if ACTIVATIONS[name].output_only:
            raise doc.error(f"network.activations[{i}]", f"{name} is allowed on the output "
                            f"layer only; use {', '.join(hidden[:-1])} or {hidden[-1]} for "
                            "hidden layers", _item_line(raw, i, line))
    least = ACTIVATIONS[names[-1]].min_units
    if layers[-1] < least:
        raise doc.error(f"network.activations[{len(names) - 1}]", f"{names[-1]} needs at "
                        f"least {least} outputs, got K = {layers[-1]}",
                        _item_line(raw, len(names) - 1, line))
    return layers, names


def _data(doc: _Doc, root: Mapping, layers: tuple[int, ...], loss: str
          ) -> tuple[np.ndarray | None, ...]:
    """(x, y, x_test, y_test) from the data section (any may be None).

    Training data: x/y, ``generate`` or ``csv`` (one of them).  Held-out data:
    x_test/y_test, ``test`` (x/y, generate or csv) or ``test_fraction`` (one).
    """
    if "data" not in root or root["data"] is None:
        return (None, None, None, None)
    data = _mapping(doc, root["data"], "data", _value_line(root, "data"))
    _check_keys(doc, data, DATA_KEYS, "data")
    given = [key for key in ("x", "generate", "csv") if key in data or
             (key == "x" and "y" in data)]
    if len(given) > 1:
        second = given[1]
        raise doc.error(f"data.{second}", f"cannot be combined with data.{given[0]}"
                        f"{'/data.y' if given[0] == 'x' else ''}; give the training data "
                        "one way (x and y, generate, or csv)", _key_line(data, second))
    tests = [key for key in ("x_test", "test", "test_fraction") if key in data or
             (key == "x_test" and "y_test" in data)]
    if len(tests) > 1:
        raise doc.error(f"data.{tests[1]}", f"cannot be combined with data.{tests[0]}; give "
                        "the test data one way (x_test and y_test, test, or test_fraction)",
                        _key_line(data, tests[1]))
    if "split_seed" in data and "test_fraction" not in data:
        raise doc.error("data.split_seed", "applies to data.test_fraction only",
                        _key_line(data, "split_seed"))
    if not given:
        if tests and tests[0] != "x_test":
            raise doc.error(f"data.{tests[0]}", "needs training data too (data.x and data.y, "
                            "data.generate or data.csv)", _key_line(data, tests[0]))
        x = y = None
        generator = None
    else:
        x, y, generator = _data_source(doc, data, "data", given[0], layers, loss, None)
    x_test = y_test = None
    if tests and tests[0] == "x_test":
        x_test, y_test = _xy_pair(doc, data, "x_test", "y_test", "data", layers, loss)
    elif tests and tests[0] == "test":
        line = _value_line(data, "test")
        node = _mapping(doc, data["test"], "data.test", line)
        _check_keys(doc, node, TEST_KEYS, "data.test")
        kinds = [key for key in ("x", "generate", "csv") if key in node or
                 (key == "x" and "y" in node)]
        if not kinds:
            raise doc.error("data.test", "is empty; expected x and y, generate or csv", line)
        if len(kinds) > 1:
            raise doc.error(f"data.test.{kinds[1]}", f"cannot be combined with "
                            f"data.test.{kinds[0]}; give the test data one way",
                            _key_line(node, kinds[1]))
        x_test, y_test, _ = _data_source(doc, node, "data.test", kinds[0], layers, loss,
                                         generator)
    elif tests:
        fraction = _number(doc, data["test_fraction"], "data.test_fraction",
                           _value_line(data, "test_fraction"))
        if not 0.0 < fraction < 1.0:
            raise doc.error("data.test_fraction", "must lie strictly between 0 and 1 (the "
                            f"share of the samples held out for testing), got {fraction:g}",
                            _value_line(data, "test_fraction"))
        if x is None or x.shape[0] < 2:
            raise doc.error("data.test_fraction", "needs at least 2 samples to split",
                            _value_line(data, "test_fraction"))
        seed = 0
        if "split_seed" in data:
            seed = _integer(doc, data["split_seed"], "data.split_seed",
                            _value_line(data, "split_seed"), 0)
        from ..maths.datasets import split
        keep, held = split(np.random.default_rng(seed), x.shape[0], fraction)
        x, y, x_test, y_test = x[keep], y[keep], x[held], y[held]
    return (x, y, x_test, y_test)


def _xy_pair(doc: _Doc, data: Mapping, xkey: str, ykey: str, prefix: str,
             layers: tuple[int, ...], loss: str) -> tuple[np.ndarray, np.ndarray]:
    n, k = layers[0], layers[-1]
    for key in (xkey, ykey):
        if key not in data:
            other = ykey if key == xkey else xkey
            raise doc.error(f"{prefix}.{key}", f"is missing ({prefix}.{other} is given)",
                            _key_line(data, other))
    x = _matrix(doc, data[xkey], f"{prefix}.{xkey}", _value_line(data, xkey), columns=n,
                flat_ok=n == 1)
    y = _matrix(doc, data[ykey], f"{prefix}.{ykey}", _value_line(data, ykey), columns=k,
                flat_ok=k == 1)
    if x.shape[0] != y.shape[0]:
        raise doc.error(f"{prefix}.{ykey}", f"must have one row per row of {prefix}.{xkey} "
                        f"({x.shape[0]}), got {y.shape[0]}", _value_line(data, ykey))
    _check_targets(doc, y, loss, f"{prefix}.{ykey}", data[ykey], _value_line(data, ykey))
    return x, y


def _data_source(doc: _Doc, node: Mapping, prefix: str, kind: str, layers: tuple[int, ...],
                 loss: str, inherit: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """(x, y, generator or None) from x/y, generate or csv under ``node``."""
    if kind == "x":
        return (*_xy_pair(doc, node, "x", "y", prefix, layers, loss), None)
    if kind == "generate":
        generator = _generator(doc, node, f"{prefix}.generate", layers, loss, inherit)
        x, y = generator.generate(layers[-1])
        return x, y, generator
    x, y = _csv(doc, node, f"{prefix}.csv", layers, loss)
    return x, y, None


def _generator(doc: _Doc, parent: Mapping, key: str, layers: tuple[int, ...], loss: str,
               inherit: Any):
    """The validated ``generate`` mapping as a datasets.Generator.

    Under data.test, keys left out are taken from data.generate (when the
    training data are generated), except seed, which defaults to its seed + 1.
    """
    from ..maths.datasets import (CLASSIFICATION, DEFAULT_NOISE, DEFAULT_POINTS, INPUTS, KINDS,
                           PARAMETERS, SPACINGS, Generator)

    line = _value_line(parent, "generate")
    node = parent["generate"]
    if isinstance(node, str) and not getattr(node, "tag", None):
        node = {"kind": node}
        lines: Any = None
    else:
        node = _mapping(doc, node, key, line)
        _check_keys(doc, node, GENERATE_KEYS, key)
        lines = node

    def at(name: str) -> int | None:
        return _value_line(lines, name) if lines is not None and name in node else line

    if "kind" in node:
        kind = _choice(doc, node["kind"], f"{key}.kind", at("kind"), KINDS)
    elif inherit is not None:
        kind = inherit.kind
    else:
        raise doc.error(f"{key}.kind", f"is missing; expected one of {', '.join(KINDS)}",
                        line)
    base = inherit if inherit is not None and inherit.kind == kind else None
    for name in node:
        if name in ("kind", "points", "noise", "seed"):
            continue
        if name not in PARAMETERS[kind]:
            takes = sorted(k for k, v in PARAMETERS.items() if name in v)
            raise doc.error(f"{key}.{name}", f"applies to {' and '.join(takes)} data, not "
                            f"{kind}", _key_line(lines, name))
    n, k = layers[0], layers[-1]
    if INPUTS[kind] != n:
        raise doc.error(f"{key}.kind", f"{kind} data have {INPUTS[kind]} input"
                        f"{'s' if INPUTS[kind] > 1 else ''}, but the network has N = {n} "
                        "(network.layers[0])", at("kind"))
    if kind in CLASSIFICATION:
        if k not in (1, 2):
            raise doc.error(f"{key}.kind", f"{kind} data have two classes: they need K = 1 "
                            f"(a 0/1 target) or K = 2 (one-hot), got K = {k}", at("kind"))
        if LOSSES[loss].targets is Targets.DISTRIBUTION and k != 2:
            raise doc.error(f"{key}.kind", f"{loss} needs K = 2 outputs for two classes",
                            at("kind"))
    elif k != 1:
        raise doc.error(f"{key}.kind", f"{kind} data have 1 output, but the network has "
                        f"K = {k} (network.layers[-1])", at("kind"))
    elif LOSSES[loss].classification:
        raise doc.error(f"{key}.kind", f"{kind} data are for regression (loss mse), not "
                        f"{loss}", at("kind"))
    points = base.points if base is not None else DEFAULT_POINTS[kind]
    if "points" in node:
        points = _integer(doc, node["points"], f"{key}.points", at("points"), 1)
        if points > MAX_POINTS:
            raise doc.error(f"{key}.points", f"must be at most {MAX_POINTS}, got {points}",
                            at("points"))
    noise = base.noise if base is not None else DEFAULT_NOISE[kind]
    if "noise" in node:
        noise = _number(doc, node["noise"], f"{key}.noise", at("noise"))
        if noise < 0:
            raise doc.error(f"{key}.noise", f"must be >= 0 (a standard deviation), got "
                            f"{noise:g}", at("noise"))
    seed = base.seed + 1 if base is not None else 0
    if "seed" in node:
        seed = _integer(doc, node["seed"], f"{key}.seed", at("seed"), 0)
    params = dict(base.params) if base is not None else {}
    for name in PARAMETERS[kind]:
        if name not in node:
            continue
        if name == "range":
            raw = node["range"]
            _reject_tags(doc, raw, f"{key}.range", at("range"))
            if isinstance(raw, str) or not isinstance(raw, Sequence) or len(raw) != 2:
                raise doc.error(f"{key}.range", f"must be [low, high], got {_describe(raw)}",
                                at("range"))
            low, high = (_number(doc, v, f"{key}.range[{i}]", at("range"))
                         for i, v in enumerate(raw))
            if not low < high:
                raise doc.error(f"{key}.range", f"must have low < high, got [{low:g}, "
                                f"{high:g}]", at("range"))
            params["range"] = (low, high)
        elif name == "spacing":
            params["spacing"] = _choice(doc, node["spacing"], f"{key}.spacing",
                                        at("spacing"), SPACINGS)
        else:
            params[name] = _number(doc, node[name], f"{key}.{name}", at(name))
    return Generator(kind=kind, points=points, noise=noise, seed=seed, params=params)


def _base_dir(doc: _Doc) -> Path:
    """The folder of the problem file, for relative CSV paths (cwd for text)."""
    name = doc.name
    path = Path(name)
    if path.is_file():
        return path.resolve().parent
    if name.endswith(".yaml)") and " (" in name:     # a bundled problem: 'NAME (NAME.yaml)'
        candidate = BUNDLED_DIR / name.rsplit(" (", 1)[1][:-1]
        if candidate.is_file():
            return BUNDLED_DIR
    return Path.cwd()


def _shown_path(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith(".." + os.sep + "..") else rel


def _csv(doc: _Doc, parent: Mapping, key: str, layers: tuple[int, ...], loss: str
         ) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) read from a CSV file (path relative to the problem file)."""
    import csv

    line = _value_line(parent, "csv")
    node = parent["csv"]
    _reject_tags(doc, node, key, line)
    columns: dict[str, Any] = {}
    delimiter = ","
    if isinstance(node, str):
        file_text = node
    else:
        node = _mapping(doc, node, key, line)
        _check_keys(doc, node, CSV_KEYS, key)
        if "file" not in node:
            raise doc.error(f"{key}.file", "is missing; expected the CSV file's path", line)
        file_text = _text(doc, node["file"], f"{key}.file", _value_line(node, "file"))
        if ("x" in node) != ("y" in node):
            given, other = ("x", "y") if "x" in node else ("y", "x")
            raise doc.error(f"{key}.{other}", f"is missing ({key}.{given} is given); name "
                            "the input and the target columns", _key_line(node, given))
        for part in ("x", "y"):
            if part in node:
                columns[part] = _column_refs(doc, node[part], f"{key}.{part}",
                                             _value_line(node, part))
        if "delimiter" in node:
            delimiter = _text(doc, node["delimiter"], f"{key}.delimiter",
                              _value_line(node, "delimiter"))
            if delimiter == "\\t":
                delimiter = "\t"
            if len(delimiter) != 1:
                raise doc.error(f"{key}.delimiter", f"must be one character, got "
                                f"{delimiter!r}", _value_line(node, "delimiter"))
    if not file_text.strip():
        raise doc.error(key, "must name a CSV file", line)
    path = Path(file_text)
    if not path.is_absolute():
        path = _base_dir(doc) / path
    shown = _shown_path(path)
    try:
        if path.is_dir():
            raise doc.error(key, f"{file_text!r} is a folder, not a CSV file", line)
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise doc.error(key, f"{file_text!r} is too large ({size} bytes, at most "
                            f"{MAX_CSV_BYTES})", line)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise doc.error(key, f"cannot read {file_text!r}: no such file (looked for {shown}; "
                        "a relative path is taken from the problem file's folder)",
                        line) from None
    except OSError as exc:
        raise doc.error(key, f"cannot read {file_text!r}: {exc.strerror or exc}",
                        line) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(f"is not UTF-8 text (byte {exc.start})", file=shown) from None
    rows: list[tuple[int, list[str]]] = []
    for number, fields in enumerate(csv.reader(text.splitlines(), delimiter=delimiter),
                                    start=1):
        if not fields or all(not f.strip() for f in fields) or fields[0].lstrip()[:1] == "#":
            continue
        rows.append((number, [f.strip() for f in fields]))
    if not rows:
        raise ProblemError("has no rows of data", file=shown)
    header: list[str] | None = None
    first_line = rows[0][0]
    if not all(_looks_numeric(f) for f in rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise ProblemError("has a header but no rows of data", file=shown)
    width = len(header) if header is not None else len(rows[0][1])
    n, k = layers[0], layers[-1]
    names = header or [str(i + 1) for i in range(width)]
    if columns:
        picks = {part: [_column_index(doc, ref, header, width, f"{key}.{part}",
                                      _value_line(node, part), shown) for ref in refs]
                 for part, refs in columns.items()}
        for part, want in (("x", n), ("y", k)):
            if len(picks[part]) != want:
                what = "inputs (N)" if part == "x" else "outputs (K)"
                raise doc.error(f"{key}.{part}", f"must name {want} column"
                                f"{'s' if want != 1 else ''}, one per network {what}, got "
                                f"{len(picks[part])}", _value_line(node, part))
        x_cols, y_cols = picks["x"], picks["y"]
    else:
        if width != n + k:
            raise ProblemError(f"has {width} column{'s' if width != 1 else ''}, but the "
                               f"network needs {n} input{'s' if n != 1 else ''} and {k} "
                               f"target{'s' if k != 1 else ''} ({n + k} columns); choose "
                               "columns with csv: {file: ..., x: [...], y: [...]}",
                               file=shown, line=first_line)
        x_cols, y_cols = list(range(n)), list(range(n, n + k))
    values = np.empty((len(rows), width))
    for r, (number, fields) in enumerate(rows):
        if len(fields) != width:
            raise ProblemError(f"has {len(fields)} field{'s' if len(fields) != 1 else ''}, "
                               f"expected {width} (as in the "
                               f"{'header' if header else 'first row'})",
                               file=shown, line=number)
        for c, field_text in enumerate(fields):
            try:
                v = float(field_text)
            except ValueError:
                v = math.nan
                bad = True
            else:
                bad = not math.isfinite(v)
            if bad:
                raise ProblemError(f"must be a finite number, got {field_text!r}", file=shown,
                                   line=number, key=f"column {names[c]!r}")
            values[r, c] = v
    x = values[:, x_cols]
    y = values[:, y_cols]
    bad_rows = _bad_target_rows(y, loss)
    if len(bad_rows):
        first = int(bad_rows[0])
        _check_targets(_Doc(shown), y[first:first + 1], loss, "targets", None,
                       rows[first][0])
    return x, y


def _column_refs(doc: _Doc, value: Any, key: str, line: int | None) -> list[Any]:
    _reject_tags(doc, value, key, line)
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) \
        else [value]
    if not items:
        raise doc.error(key, "must name at least one column", line)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise doc.error(key, "must list columns by header name or by number (1 = first "
                            f"column), got {_describe(item)}", line)
        out.append(item)
    return out


def _column_index(doc: _Doc, ref: Any, header: list[str] | None, width: int, key: str,
                  line: int | None, shown: str) -> int:
    if isinstance(ref, int):
        if not 1 <= ref <= width:
            raise doc.error(key, f"column {ref} does not exist: {shown} has {width} column"
                            f"{'s' if width != 1 else ''} (numbered from 1)", line)
        return ref - 1
    if header is None:
        raise doc.error(key, f"names column {ref!r}, but {shown} has no header row; number "
                        "the columns instead (1 = first)", line)
    if ref not in header:
        import difflib

        close = difflib.get_close_matches(ref, header, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else \
            f"; the header has: {', '.join(header)}"
        raise doc.error(key, f"names column {ref!r}, which {shown} does not have{hint}", line)
    return header.index(ref)


def _bad_target_rows(y: np.ndarray, loss: str) -> np.ndarray:
    return np.flatnonzero(LOSSES[loss].bad_targets(y))


def training_generator(text: str, name: str = "<problem>"):
    """The ``data.generate`` of a problem file as a datasets.Generator, or None.

    For plots, which draw the noise-free function beside the data.  Call it on a
    file that :func:`parse_problem` accepted; anything unexpected gives None.
    """
    try:
        root = parse_yaml(text, name)
        data = root["data"]
        if not isinstance(data, Mapping) or "generate" not in data:
            return None
        problem = parse_problem(text, name)
        return _generator(_Doc(name), data, "data.generate", problem.layers, problem.loss,
                          None)
    except (ProblemError, KeyError, TypeError):
        return None


def _check_targets(doc: _Doc, y: np.ndarray, loss: str, key: str, node: Any,
                   line: int | None) -> None:
    spec = LOSSES[loss]
    for i in _bad_target_rows(y, loss):
        raise doc.error(f"{key}[{i}]", f"{spec.targets_message}, got {y[i].tolist()}",
                        _item_line(node, int(i), line))


def _weights(doc: _Doc, root: Mapping, layers: tuple[int, ...], seed: int
             ) -> tuple[tuple[np.ndarray, ...] | None, str]:
    if "weights" not in root or root["weights"] is None:
        return None, "none"
    line = _value_line(root, "weights")
    node = root["weights"]
    depth = len(layers) - 1
    names = [f"W{n}" for n in range(1, depth + 1)]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        value = _number(doc, node, "weights", line)
        return tuple(np.full((layers[n] + 1, layers[n + 1]), value) for n in range(depth)), \
            f"every weight {value:g}"
    node = _mapping(doc, node, "weights", line)
    _check_keys(doc, node, tuple(names) + ("fill", "random"), "weights")
    if "fill" in node and "random" in node:
        raise doc.error("weights.random", "cannot be combined with weights.fill; choose one",
                        _key_line(node, "random"))
    default = None
    origin = "explicit"
    if "fill" in node:
        fill = _number(doc, node["fill"], "weights.fill", _value_line(node, "fill"))
        default = lambda shape: np.full(shape, fill)  # noqa: E731
        origin = f"every weight {fill:g}"
    elif "random" in node:
        default, origin = _random_init(doc, node, seed)
    result = []
    for n, name in enumerate(names):
        shape = (layers[n] + 1, layers[n + 1])
        if name in node:
            wline = _value_line(node, name)
            raw = node[name]
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                result.append(np.full(shape, _number(doc, raw, f"weights.{name}", wline)))
                continue
            w = _matrix(doc, raw, f"weights.{name}", wline)
            if w.shape != shape:
                rows_label = "N+1" if n == 0 else "M+1"
                cols_label = "M" if n < depth - 1 else "K"
                raise doc.error(f"weights.{name}",
                                f"must be {shape[0]} x {shape[1]} (({rows_label}) x "
                                f"{cols_label} for layers {list(layers)}; row 0 holds the "
                                f"biases), got {w.shape[0]} x {w.shape[1]}", wline)
            result.append(w)
        elif default is not None:
            result.append(default(shape))
        else:
            raise doc.error(f"weights.{name}", f"is missing; expected a {shape[0]} x "
                            f"{shape[1]} matrix (or weights.fill / weights.random)", line)
    return tuple(result), origin


def _random_init(doc: _Doc, node: Mapping, seed: int):
    raw = node["random"]
    line = _value_line(node, "random")
    settings: Mapping = {}
    if raw is True or raw is None:
        settings = {}
    else:
        settings = _mapping(doc, raw, "weights.random", line)
        _check_keys(doc, settings, RANDOM_KEYS, "weights.random")
    distribution = _choice(doc, settings.get("distribution", "uniform"),
                           "weights.random.distribution",
                           _value_line(settings, "distribution"), DISTRIBUTIONS)
    scale = 0.5
    if "scale" in settings:
        scale = _number(doc, settings["scale"], "weights.random.scale",
                        _value_line(settings, "scale"))
        if scale < 0:
            raise doc.error("weights.random.scale", f"must be >= 0, got {scale:g}",
                            _value_line(settings, "scale"))
    if "seed" in settings:
        seed = _integer(doc, settings["seed"], "weights.random.seed",
                        _value_line(settings, "seed"), 0)
    rng = np.random.default_rng(seed)

    def draw(shape: tuple[int, int]) -> np.ndarray:
        if distribution == "normal":
            return rng.normal(0.0, scale, size=shape)
        if distribution == "glorot":
            limit = math.sqrt(6.0 / (shape[0] - 1 + shape[1]))
            return rng.uniform(-limit, limit, size=shape)
        return rng.uniform(-scale, scale, size=shape)

    what = "glorot uniform" if distribution == "glorot" else f"{distribution} ±{scale:g}" \
        if distribution == "uniform" else f"normal sd {scale:g}"
    return draw, f"random ({what}, seed {seed})"


def _training(doc: _Doc, root: Mapping) -> Training:
    if "training" not in root or root["training"] is None:
        return Training()
    node = _mapping(doc, root["training"], "training", _value_line(root, "training"))
    _check_keys(doc, node, TRAINING_KEYS, "training")
    values: dict[str, Any] = {}

    def at(key: str) -> tuple[Any, str, int | None]:
        return node[key], f"training.{key}", _value_line(node, key)

    if "learning_rate" in node:
        lr = _number(doc, *at("learning_rate"))
        if lr <= 0:
            raise doc.error("training.learning_rate", f"must be > 0, got {lr:g}",
                            _value_line(node, "learning_rate"))
        values["learning_rate"] = lr
    if "method" in node:
        values["method"] = _choice(doc, *at("method"), METHODS)
    if "batch_size" in node:
        values["batch_size"] = _integer(doc, *at("batch_size"), 1)
    if "epochs" in node:
        values["epochs"] = _integer(doc, *at("epochs"), 1)
    if "l2" in node:
        beta = _number(doc, *at("l2"))
        if beta < 0:
            raise doc.error("training.l2", f"must be >= 0, got {beta:g}", _value_line(node, "l2"))
        values["l2"] = beta
    for key in ("l2_bias", "shuffle"):
        if key in node:
            values[key] = _boolean(doc, *at(key))
    if "seed" in node:
        values["seed"] = _integer(doc, *at("seed"), 0)
    if values.get("method") == "minibatch" and "batch_size" not in values:
        raise doc.error("training.batch_size", "is required when method is minibatch",
                        _key_line(node, "method"))
    return Training(**values)


# --------------------------------------------------------------------------- entry points


def load_problem(source: str | os.PathLike[str]) -> Problem:
    """Read and validate a problem file (or a bundled problem by name)."""
    path, display, text = _read_source(source)
    return parse_problem(text, name=display)


def _read_source(source: str | os.PathLike[str]) -> tuple[Path, str, str]:
    """(the file, its name in messages, its text) of a problem file or bundled name."""
    path = resolve_path(source)
    display = shown_name(source, path)
    from .textio import read_text

    if not path.exists() and not path.suffix:
        raise ProblemError("no such file or bundled problem (bundled problems: run "
                           "'bpnn-steps list')", file=display)
    return path, display, read_text(path, display, "problem file", MAX_FILE_BYTES)


def parse_problem(text: str, name: str = "<problem>") -> Problem:
    """Validate the YAML text of a problem file; ``name`` is used in messages."""
    return problem_from_tree(parse_yaml(text, name), name)


def problem_from_tree(root: Any, name: str) -> Problem:
    """Validate a problem file that :func:`parse_yaml` has read."""
    doc = _Doc(name)
    if root is None:
        raise doc.error(None, "is empty; expected a problem (run 'bpnn-steps new' for a "
                        "template)", None)
    root = _mapping(doc, root, "(top level)", 1)
    _check_keys(doc, root, TOP_KEYS, "")
    title = _text(doc, root["title"], "title", _value_line(root, "title")) \
        if root.get("title") is not None else ""
    description = _text(doc, root["description"], "description",
                        _value_line(root, "description")) \
        if root.get("description") is not None else ""
    layers, activations = _network(doc, root)
    loss = "mse"
    if "loss" in root:
        loss = _choice(doc, root["loss"], "loss", _value_line(root, "loss"), tuple(LOSSES))
    needs = LOSSES[loss].output_activation
    if needs is not None and activations[-1] != needs:
        raise doc.error("loss", f"{loss} needs a {needs} output layer "
                        f"(network.activations[{len(activations) - 1}]), got {activations[-1]}",
                        _value_line(root, "loss"))
    training = _training(doc, root)
    if training.method != "minibatch" and training.batch_size is not None:
        node = root["training"]
        raise doc.error("training.batch_size", f"applies to method minibatch only, but method "
                        f"is {training.method}; remove it or set method: minibatch",
                        _key_line(node, "batch_size"))
    x, y, x_test, y_test = _data(doc, root, layers, loss)
    weights, origin = _weights(doc, root, layers, training.seed)
    return Problem(layers=layers, activations=activations, loss=loss, x=x, y=y,
                   weights=weights, training=training, title=title,
                   description=description.strip(), source=name,
                   weights_origin=origin, x_test=x_test, y_test=y_test,
                   lines=_key_lines(root))


def _key_lines(root: Mapping) -> dict[str, int]:
    """Lines of the top-level keys and the training keys, so that errors found later
    (a diverging run, weights that overflow) can point at them."""
    lines: dict[str, int] = {}
    for key in root:
        line = _key_line(root, key)
        if line is not None:
            lines[str(key)] = line
    node = root.get("training")
    if isinstance(node, Mapping):
        for key in node:
            line = _value_line(node, key)
            if line is not None:
                lines[f"training.{key}"] = line
    return lines


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML 1.2 text with line numbers kept; syntax errors become ProblemError."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt", pure=True)
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or "invalid YAML").strip()
        if "duplicate key" in problem:
            problem = problem.split(" with value")[0]
        context = f" ({exc.context.strip()})" if exc.context else ""
        raise ProblemError(f"is not valid YAML: {problem}{context}", file=name,
                           line=line) from None
    except YAMLError as exc:
        raise ProblemError(f"is not valid YAML: {exc}", file=name) from None
    except RecursionError:
        raise ProblemError("is not valid YAML: nested too deeply", file=name) from None


# --------------------------------------------------------------------------- read once


class ProblemDocument(NamedTuple):
    """A problem file read and validated once, with what commands need of it later.

    (A NamedTuple rather than a frozen dataclass: this module is imported by every
    solve, and a dataclass costs five times as much to create at start-up.)
    """

    problem: Problem
    tree: Any                         # parse_yaml's tree (--save keeps data as written)
    path: Path                        # the file (a bundled problem's file, for a name)
    generator: Generator | None       # data.generate, for plots of the noise-free function

    @property
    def folder(self) -> Path:
        """The folder of the file, against which its relative CSV paths are read."""
        return self.path.resolve().parent


def read_problem_document(source: str | os.PathLike[str], *,
                          seed: int | None = None) -> ProblemDocument:
    """Read, parse and validate a problem file (or a bundled problem by name) once.

    ``seed`` replaces ``training.seed`` before validation, so that it drives
    shuffling and ``weights.random`` (without a seed of its own) exactly as if the
    file said it.
    """
    path, display, text = _read_source(source)
    tree = parse_yaml(text, display)
    if seed is not None:
        _set_training_seed(tree, seed)
    problem = problem_from_tree(tree, display)
    return ProblemDocument(problem=problem, tree=tree, path=path,
                           generator=_data_generator(tree, display, problem))


def _set_training_seed(tree: Any, seed: int) -> None:
    # A tree that is not a mapping, or a training that is not one, is left for
    # validation to report.
    if not isinstance(tree, MutableMapping):
        return
    training = tree.get("training")
    if training is None:
        tree["training"] = {"seed": seed}
    elif isinstance(training, MutableMapping):
        training["seed"] = seed


def _data_generator(tree: Any, name: str, problem: Problem) -> Generator | None:
    data = tree.get("data") if isinstance(tree, Mapping) else None
    if not isinstance(data, Mapping) or "generate" not in data:
        return None
    generator: Generator = _generator(_Doc(name), data, "data.generate", problem.layers,
                                      problem.loss, None)
    return generator
