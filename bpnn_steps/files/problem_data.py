"""The ``data`` section of a problem file: samples given as lists, generated
(:mod:`bpnn_steps.maths.datasets`) or read from CSV files, and held-out test data."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import ProblemError
from ..maths.losses import LOSSES, Targets
from .bundled import BUNDLED_DIR
from .untrusted import (ANYWHERE, Missing, ReadAccess, Refused, clean_text, excerpt,
                        read_inside, shown_key)
from .yamldoc import (Doc, YamlMapping, as_choice, as_integer, as_mapping, as_matrix,
                      as_number, as_text, check_keys, describe, item_line, key_line,
                      looks_numeric, reject_tags, value_line)

if TYPE_CHECKING:
    from ..maths.datasets import Generator

DATA_KEYS = ("x", "y", "x_test", "y_test", "generate", "csv", "test", "test_fraction",
             "split_seed")
GENERATE_KEYS = ("kind", "points", "range", "noise", "seed", "spacing", "slope", "intercept",
                 "amplitude", "frequency", "phase")
CSV_KEYS = ("file", "x", "y", "delimiter")
TEST_KEYS = ("x", "y", "generate", "csv")
MAX_POINTS = 10_000_000
MAX_LISTED = 12          # header names a message lists


def data_section(doc: Doc, root: YamlMapping, layers: tuple[int, ...], loss: str,
                 home: Path | None = None, access: ReadAccess = ANYWHERE
                 ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None,
                            np.ndarray | None]:
    """(x, y, x_test, y_test) from the data section (any may be None).

    Training data: x/y, ``generate`` or ``csv`` (one of them).  Held-out data:
    x_test/y_test, ``test`` (x/y, generate or csv) or ``test_fraction`` (one).
    CSV files are read inside ``home`` (the problem file's folder; by default the
    one its name gives) as ``access`` allows.
    """
    files = _Files(home, access)
    if "data" not in root or root["data"] is None:
        return (None, None, None, None)
    data = as_mapping(doc, root["data"], "data", value_line(root, "data"))
    check_keys(doc, data, DATA_KEYS, "data")
    given = [key for key in ("x", "generate", "csv") if key in data or
             (key == "x" and "y" in data)]
    if len(given) > 1:
        second = given[1]
        raise doc.error(f"data.{second}", f"cannot be combined with data.{given[0]}"
                        f"{'/data.y' if given[0] == 'x' else ''}; give the training data "
                        "one way (x and y, generate, or csv)", key_line(data, second))
    tests = [key for key in ("x_test", "test", "test_fraction") if key in data or
             (key == "x_test" and "y_test" in data)]
    if len(tests) > 1:
        raise doc.error(f"data.{tests[1]}", f"cannot be combined with data.{tests[0]}; give "
                        "the test data one way (x_test and y_test, test, or test_fraction)",
                        key_line(data, tests[1]))
    if "split_seed" in data and "test_fraction" not in data:
        raise doc.error("data.split_seed", "applies to data.test_fraction only",
                        key_line(data, "split_seed"))
    if not given:
        if tests and tests[0] != "x_test":
            raise doc.error(f"data.{tests[0]}", "needs training data too (data.x and data.y, "
                            "data.generate or data.csv)", key_line(data, tests[0]))
        x = y = None
        generator: Generator | None = None
    else:
        x, y, generator = _data_source(doc, data, "data", given[0], layers, loss, None, files)
    x_test = y_test = None
    if tests and tests[0] == "x_test":
        x_test, y_test = _xy_pair(doc, data, "x_test", "y_test", "data", layers, loss)
    elif tests and tests[0] == "test":
        line = value_line(data, "test")
        node = as_mapping(doc, data["test"], "data.test", line)
        check_keys(doc, node, TEST_KEYS, "data.test")
        kinds = [key for key in ("x", "generate", "csv") if key in node or
                 (key == "x" and "y" in node)]
        if not kinds:
            raise doc.error("data.test", "is empty; expected x and y, generate or csv", line)
        if len(kinds) > 1:
            raise doc.error(f"data.test.{kinds[1]}", f"cannot be combined with "
                            f"data.test.{kinds[0]}; give the test data one way",
                            key_line(node, kinds[1]))
        x_test, y_test, _ = _data_source(doc, node, "data.test", kinds[0], layers, loss,
                                         generator, files)
    elif tests:
        fraction = as_number(doc, data["test_fraction"], "data.test_fraction",
                           value_line(data, "test_fraction"))
        if not 0.0 < fraction < 1.0:
            raise doc.error("data.test_fraction", "must lie strictly between 0 and 1 (the "
                            f"share of the samples held out for testing), got {fraction:g}",
                            value_line(data, "test_fraction"))
        if x is None or y is None or x.shape[0] < 2:
            raise doc.error("data.test_fraction", "needs at least 2 samples to split",
                            value_line(data, "test_fraction"))
        seed = 0
        if "split_seed" in data:
            seed = as_integer(doc, data["split_seed"], "data.split_seed",
                            value_line(data, "split_seed"), 0)
        from ..maths.datasets import split
        keep, held = split(np.random.default_rng(seed), x.shape[0], fraction)
        x, y, x_test, y_test = x[keep], y[keep], x[held], y[held]
    return (x, y, x_test, y_test)


def _xy_pair(doc: Doc, data: YamlMapping, xkey: str, ykey: str, prefix: str,
             layers: tuple[int, ...], loss: str) -> tuple[np.ndarray, np.ndarray]:
    n, k = layers[0], layers[-1]
    for key in (xkey, ykey):
        if key not in data:
            other = ykey if key == xkey else xkey
            raise doc.error(f"{prefix}.{key}", f"is missing ({prefix}.{other} is given)",
                            key_line(data, other))
    x = as_matrix(doc, data[xkey], f"{prefix}.{xkey}", value_line(data, xkey), columns=n,
                flat_ok=n == 1)
    y = as_matrix(doc, data[ykey], f"{prefix}.{ykey}", value_line(data, ykey), columns=k,
                flat_ok=k == 1)
    if x.shape[0] != y.shape[0]:
        raise doc.error(f"{prefix}.{ykey}", f"must have one row per row of {prefix}.{xkey} "
                        f"({x.shape[0]}), got {y.shape[0]}", value_line(data, ykey))
    _check_targets(doc, y, loss, f"{prefix}.{ykey}", data[ykey], value_line(data, ykey))
    return x, y


def _data_source(doc: Doc, node: YamlMapping, prefix: str, kind: str,
                 layers: tuple[int, ...], loss: str, inherit: Generator | None, files: _Files
                 ) -> tuple[np.ndarray, np.ndarray, Generator | None]:
    """(x, y, generator or None) from x/y, generate or csv under ``node``."""
    if kind == "x":
        return (*_xy_pair(doc, node, "x", "y", prefix, layers, loss), None)
    if kind == "generate":
        generator = generator_section(doc, node, f"{prefix}.generate", layers, loss, inherit)
        x, y = generator.generate(layers[-1])
        return x, y, generator
    x, y = _csv(doc, node, f"{prefix}.csv", layers, loss, files)
    return x, y, None


def generator_section(doc: Doc, parent: YamlMapping, key: str, layers: tuple[int, ...],
                      loss: str, inherit: Generator | None) -> Generator:
    """The validated ``generate`` mapping as a datasets.Generator.

    Under data.test, keys left out are taken from data.generate (when the
    training data are generated), except seed, which defaults to its seed + 1.
    """
    from ..maths.datasets import (CLASSIFICATION, DEFAULT_NOISE, DEFAULT_POINTS, INPUTS, KINDS,
                           PARAMETERS, SPACINGS, Generator)

    line = value_line(parent, "generate")
    node = parent["generate"]
    if isinstance(node, str) and not getattr(node, "tag", None):
        node = {"kind": node}
        lines: Any = None
    else:
        node = as_mapping(doc, node, key, line)
        check_keys(doc, node, GENERATE_KEYS, key)
        lines = node

    def at(name: str) -> int | None:
        return value_line(lines, name) if lines is not None and name in node else line

    if "kind" in node:
        kind = as_choice(doc, node["kind"], f"{key}.kind", at("kind"), KINDS)
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
                            f"{kind}", key_line(lines, name))
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
        points = as_integer(doc, node["points"], f"{key}.points", at("points"), 1)
        if points > MAX_POINTS:
            raise doc.error(f"{key}.points", f"must be at most {MAX_POINTS}, got {points}",
                            at("points"))
    noise = base.noise if base is not None else DEFAULT_NOISE[kind]
    if "noise" in node:
        noise = as_number(doc, node["noise"], f"{key}.noise", at("noise"))
        if noise < 0:
            raise doc.error(f"{key}.noise", f"must be >= 0 (a standard deviation), got "
                            f"{noise:g}", at("noise"))
    seed = base.seed + 1 if base is not None else 0
    if "seed" in node:
        seed = as_integer(doc, node["seed"], f"{key}.seed", at("seed"), 0)
    params = dict(base.params) if base is not None else {}
    for name in PARAMETERS[kind]:
        if name not in node:
            continue
        if name == "range":
            raw = node["range"]
            reject_tags(doc, raw, f"{key}.range", at("range"))
            if isinstance(raw, str) or not isinstance(raw, Sequence) or len(raw) != 2:
                raise doc.error(f"{key}.range", f"must be [low, high], got {describe(raw)}",
                                at("range"))
            low, high = (as_number(doc, v, f"{key}.range[{i}]", at("range"))
                         for i, v in enumerate(raw))
            if not low < high:
                raise doc.error(f"{key}.range", f"must have low < high, got [{low:g}, "
                                f"{high:g}]", at("range"))
            params["range"] = (low, high)
        elif name == "spacing":
            params["spacing"] = as_choice(doc, node["spacing"], f"{key}.spacing",
                                        at("spacing"), SPACINGS)
        else:
            params[name] = as_number(doc, node[name], f"{key}.{name}", at(name))
    return Generator(kind=kind, points=points, noise=noise, seed=seed, params=params)


class _Files(NamedTuple):
    """Where a problem file's CSV paths are read: its folder, and what else the
    user allowed.  (A NamedTuple: this module is imported by every solve.)"""

    home: Path | None           # None: the folder the file's name gives (_base_dir)
    access: ReadAccess


def _base_dir(doc: Doc) -> Path:
    """The folder of the problem file named ``doc.name`` (a bundled problem's folder
    for 'NAME (NAME.yaml)', the current folder for text that names no file)."""
    name = doc.name
    path = Path(name)
    try:
        if path.is_file():
            return path.resolve().parent
    except (OSError, ValueError):
        pass
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


def _csv(doc: Doc, parent: YamlMapping, key: str, layers: tuple[int, ...], loss: str,
         files: _Files) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) read from a CSV file (path relative to the problem file)."""
    import csv

    line = value_line(parent, "csv")
    node = parent["csv"]
    reject_tags(doc, node, key, line)
    columns: dict[str, Any] = {}
    delimiter = ","
    if isinstance(node, str):
        file_text = node
    else:
        node = as_mapping(doc, node, key, line)
        check_keys(doc, node, CSV_KEYS, key)
        if "file" not in node:
            raise doc.error(f"{key}.file", "is missing; expected the CSV file's path", line)
        file_text = as_text(doc, node["file"], f"{key}.file", value_line(node, "file"))
        if ("x" in node) != ("y" in node):
            given, other = ("x", "y") if "x" in node else ("y", "x")
            raise doc.error(f"{key}.{other}", f"is missing ({key}.{given} is given); name "
                            "the input and the target columns", key_line(node, given))
        for part in ("x", "y"):
            if part in node:
                columns[part] = _column_refs(doc, node[part], f"{key}.{part}",
                                             value_line(node, part))
        if "delimiter" in node:
            delimiter = as_text(doc, node["delimiter"], f"{key}.delimiter",
                              value_line(node, "delimiter"))
            if delimiter == "\\t":
                delimiter = "\t"
            if len(delimiter) != 1:
                raise doc.error(f"{key}.delimiter", f"must be one character, got "
                                f"{excerpt(delimiter)}", value_line(node, "delimiter"))
    if not file_text.strip():
        raise doc.error(key, "must name a CSV file", line)
    home = files.home if files.home is not None else _base_dir(doc)
    looked = _shown_path(home / file_text) if "\x00" not in file_text else file_text
    try:
        path, raw = read_inside(file_text, home, files.access,
                                home_name="the problem file's folder")
    except Missing:
        raise doc.error(key, f"cannot read {excerpt(file_text)}: no such file (looked for "
                        f"{shown_key(looked, 200)}; a relative path is taken from the "
                        "problem file's folder)", line) from None
    except Refused as why:
        raise doc.error(key, f"cannot read {excerpt(file_text)}: {why}", line) from None
    shown = clean_text(_shown_path(path), lines=False)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(f"is not UTF-8 text (byte {exc.start})", file=shown) from None
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        for number, fields in enumerate(reader, start=1):
            if not fields or all(not f.strip() for f in fields) or \
                    fields[0].lstrip()[:1] == "#":
                continue
            rows.append((number, [f.strip() for f in fields]))
    except csv.Error as exc:
        raise ProblemError(f"is not a CSV file that can be read: {shown_key(str(exc), 80)}",
                           file=shown, line=reader.line_num or None) from None
    if not rows:
        raise ProblemError("has no rows of data", file=shown)
    header: list[str] | None = None
    first_line = rows[0][0]
    if not all(looks_numeric(f) for f in rows[0][1]):
        header = [clean_text(name, lines=False) for name in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise ProblemError("has a header but no rows of data", file=shown)
    width = len(header) if header is not None else len(rows[0][1])
    n, k = layers[0], layers[-1]
    names = header or [str(i + 1) for i in range(width)]
    if columns:
        picks = {part: [_column_index(doc, ref, header, width, f"{key}.{part}",
                                      value_line(node, part), shown) for ref in refs]
                 for part, refs in columns.items()}
        for part, want in (("x", n), ("y", k)):
            if len(picks[part]) != want:
                what = "inputs (N)" if part == "x" else "outputs (K)"
                raise doc.error(f"{key}.{part}", f"must name {want} column"
                                f"{'s' if want != 1 else ''}, one per network {what}, got "
                                f"{len(picks[part])}", value_line(node, part))
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
                raise ProblemError(f"must be a finite number, got {excerpt(field_text)}",
                                   file=shown, line=number, key=f"column {excerpt(names[c])}")
            values[r, c] = v
    x = values[:, x_cols]
    y = values[:, y_cols]
    bad_rows = _bad_target_rows(y, loss)
    if len(bad_rows):
        first = int(bad_rows[0])
        _check_targets(Doc(shown), y[first:first + 1], loss, "targets", None,
                       rows[first][0])
    return x, y


def _column_refs(doc: Doc, value: Any, key: str, line: int | None) -> list[Any]:
    reject_tags(doc, value, key, line)
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) \
        else [value]
    if not items:
        raise doc.error(key, "must name at least one column", line)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise doc.error(key, "must list columns by header name or by number (1 = first "
                            f"column), got {describe(item)}", line)
        out.append(item)
    return out


def _column_index(doc: Doc, ref: Any, header: list[str] | None, width: int, key: str,
                  line: int | None, shown: str) -> int:
    if isinstance(ref, int):
        if not 1 <= ref <= width:
            raise doc.error(key, f"column {ref} does not exist: {shown} has {width} column"
                            f"{'s' if width != 1 else ''} (numbered from 1)", line)
        return ref - 1
    if header is None:
        raise doc.error(key, f"names column {excerpt(ref)}, but {shown} has no header row; "
                        "number the columns instead (1 = first)", line)
    if ref not in header:
        import difflib

        close = difflib.get_close_matches(ref, header, n=1, cutoff=0.6)
        listed = ", ".join(shown_key(name) for name in header[:MAX_LISTED])
        more = ", ..." if len(header) > MAX_LISTED else ""
        hint = f"; did you mean {excerpt(close[0])}?" if close else \
            f"; the header has: {listed}{more}"
        raise doc.error(key, f"names column {excerpt(ref)}, which {shown} does not have{hint}",
                        line)
    return header.index(ref)


def _bad_target_rows(y: np.ndarray, loss: str) -> np.ndarray:
    return np.flatnonzero(LOSSES[loss].bad_targets(y))


def _check_targets(doc: Doc, y: np.ndarray, loss: str, key: str, node: Any,
                   line: int | None) -> None:
    spec = LOSSES[loss]
    for i in _bad_target_rows(y, loss):
        raise doc.error(f"{key}[{i}]", f"{spec.targets_message}, got {y[i].tolist()}",
                        item_line(node, int(i), line))
