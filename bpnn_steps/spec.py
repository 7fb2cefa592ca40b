"""Load and validate problem files (YAML 1.2) with line-numbered errors.

ruamel.yaml's round-trip loader keeps the line of every key and item, reads
``1e-3`` as a number and refuses duplicate keys.  It never constructs Python
objects: tags such as ``!!python/object`` stay inert nodes, and validation
rejects them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .errors import ProblemError
from .losses import LOSSES
from .problem import METHODS, Problem, Training

MAX_FILE_BYTES = 20_000_000
BUNDLED_DIR = Path(__file__).parent / "problems"

TOP_KEYS = ("title", "description", "network", "loss", "data", "weights", "training")
NETWORK_KEYS = ("layers", "activations")
DATA_KEYS = ("x", "y", "x_test", "y_test")
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
    x = float(value)
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
        if flat_ok and not isinstance(row, (Sequence, Mapping)) or isinstance(row, str):
            rows.append([_number(doc, row, row_key, row_line)])
            continue
        if not isinstance(row, Sequence) or isinstance(row, Mapping):
            raise doc.error(row_key, f"must be a list of numbers (one row), got {_describe(row)}",
                            row_line)
        rows.append([_number(doc, item, f"{row_key}[{j}]", _item_line(row, j, row_line))
                     for j, item in enumerate(row)])
    widths = {len(r) for r in rows}
    expected = columns if columns is not None else len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != expected:
            what = f"{expected} number{'s' if expected != 1 else ''}"
            raise doc.error(f"{key}[{i}]", f"must have {what}, got {len(r)}",
                            _item_line(value, i, line))
    del widths
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
        raw_list: Sequence = [raw] * (len(layers) - 1) if len(layers) == 2 else None  # type: ignore
        if raw_list is None:
            raise doc.error("network.activations", f"must list {len(layers) - 1} activations, "
                            f"one per weight layer, got the single name {raw!r}", line)
        raw = raw_list
    _reject_tags(doc, raw, "network.activations", line)
    if not isinstance(raw, Sequence):
        raise doc.error("network.activations", f"must be a list, got {_describe(raw)}", line)
    if len(raw) != len(layers) - 1:
        raise doc.error("network.activations",
                        f"must list {len(layers) - 1} activations (one per weight layer for "
                        f"layers {list(layers)}), got {len(raw)}", line)
    names = tuple(_choice(doc, a, f"network.activations[{i}]", _item_line(raw, i, line),
                          tuple(ACTIVATIONS)) for i, a in enumerate(raw))
    for i, name in enumerate(names[:-1]):
        if name == "softmax":
            raise doc.error(f"network.activations[{i}]", "softmax is allowed on the output "
                            "layer only; use sigmoid, tanh, relu or linear for hidden layers",
                            _item_line(raw, i, line))
    if names[-1] == "softmax" and layers[-1] < 2:
        raise doc.error(f"network.activations[{len(names) - 1}]", "softmax needs at least 2 "
                        f"outputs, got K = {layers[-1]}", _item_line(raw, len(names) - 1, line))
    return layers, names


def _data(doc: _Doc, root: Mapping, layers: tuple[int, ...], loss: str
          ) -> tuple[np.ndarray | None, ...]:
    if "data" not in root or root["data"] is None:
        return (None, None, None, None)
    data = _mapping(doc, root["data"], "data", _value_line(root, "data"))
    _check_keys(doc, data, DATA_KEYS, "data")
    n, k = layers[0], layers[-1]
    out: list[np.ndarray | None] = []
    for xkey, ykey in (("x", "y"), ("x_test", "y_test")):
        if xkey not in data and ykey not in data:
            out += [None, None]
            continue
        for key in (xkey, ykey):
            if key not in data:
                other = ykey if key == xkey else xkey
                raise doc.error(f"data.{key}", f"is missing (data.{other} is given)",
                                _key_line(root, "data"))
        x = _matrix(doc, data[xkey], f"data.{xkey}", _value_line(data, xkey), columns=n,
                    flat_ok=n == 1)
        y = _matrix(doc, data[ykey], f"data.{ykey}", _value_line(data, ykey), columns=k,
                    flat_ok=k == 1)
        if x.shape[0] != y.shape[0]:
            raise doc.error(f"data.{ykey}", f"must have one row per row of data.{xkey} "
                            f"({x.shape[0]}), got {y.shape[0]}", _value_line(data, ykey))
        _check_targets(doc, y, loss, f"data.{ykey}", data[ykey], _value_line(data, ykey))
        out += [x, y]
    return tuple(out)


def _check_targets(doc: _Doc, y: np.ndarray, loss: str, key: str, node: Any,
                   line: int | None) -> None:
    for i, row in enumerate(y):
        row_line = _item_line(node, i, line)
        if loss == "bce" and np.any((row < 0) | (row > 1)):
            raise doc.error(f"{key}[{i}]", "bce targets must lie in [0, 1] (1 = true, "
                            f"0 = false), got {row.tolist()}", row_line)
        if loss == "ce":
            if np.any(row < 0) or abs(row.sum() - 1.0) > 1e-9:
                raise doc.error(f"{key}[{i}]", "ce targets must be probabilities that sum to "
                                f"1 (one-hot, e.g. [0, 1, 0]), got {row.tolist()}", row_line)


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


def resolve_path(name: str | os.PathLike[str]) -> Path:
    """A problem file by path, or a bundled problem by name (``lecture_122``)."""
    path = Path(name)
    if path.exists() or path.suffix or os.sep in str(name):
        return path
    bundled = BUNDLED_DIR / f"{name}.yaml"
    return bundled if bundled.exists() else path


def load_problem(source: str | os.PathLike[str]) -> Problem:
    """Read and validate a problem file (or a bundled problem by name)."""
    path = resolve_path(source)
    display = str(source) if Path(source) == path else f"{source} ({path.name})"
    try:
        if path.is_dir():
            raise ProblemError("is a folder, not a problem file", file=display)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProblemError(f"is too large for a problem file ({size} bytes, at most "
                               f"{MAX_FILE_BYTES})", file=display)
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = " (bundled problems: run 'bpnn-steps list')" if not path.suffix else ""
        raise ProblemError(f"no such file{hint}", file=display) from None
    except OSError as exc:
        raise ProblemError(f"cannot be read: {exc.strerror or exc}", file=display) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(f"is not UTF-8 text (byte {exc.start})", file=display) from None
    return parse_problem(text, name=display)


def parse_problem(text: str, name: str = "<problem>") -> Problem:
    """Validate the YAML text of a problem file; ``name`` is used in messages."""
    doc = _Doc(name)
    root = parse_yaml(text, name)
    if root is None:
        raise doc.error(None, "is empty; expected a problem (run 'bpnn-steps new' for a "
                        "template)", None)
    root = _mapping(doc, root, "(top level)", 1)
    _check_keys(doc, root, TOP_KEYS, "")
    title = _text(doc, root["title"], "title", _value_line(root, "title")) \
        if root.get("title") is not None else ""
    if root.get("description") is not None:
        _text(doc, root["description"], "description", _value_line(root, "description"))
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
                   weights=weights, training=training, title=title, source=name,
                   weights_origin=origin, x_test=x_test, y_test=y_test)


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


def require_for_solving(problem: Problem) -> None:
    """Raise a ProblemError naming what ``solve`` needs but the file lacks."""
    missing = []
    if problem.x is None:
        missing.append(("data", "is missing; solving needs data.x and data.y"))
    if problem.weights is None:
        missing.append(("weights", "are missing; solving needs initial weights (matrices, "
                        "weights.fill or weights.random)"))
    if problem.training.learning_rate is None:
        missing.append(("training.learning_rate", "is missing; solving needs lambda"))
    if missing:
        key, message = missing[0]
        raise ProblemError(message, file=problem.source, key=key)


def bundled_problems() -> list[tuple[str, str]]:
    """(name, title) of every bundled problem, sorted by name."""
    out = []
    for path in sorted(BUNDLED_DIR.glob("*.yaml")):
        title = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("title:"):
                title = line.split(":", 1)[1].strip().strip("'\"")
                break
        out.append((path.stem, title))
    return out
