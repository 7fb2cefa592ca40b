"""Write a trained network as a problem file (``bpnn-steps train --save``).

The file is written line by line rather than dumped by a YAML library, so that
weight matrices come out one row per line at full precision and the data
section keeps the form it was given in (a generator stays a generator, a CSV
file stays a CSV file, its path made relative to the new file).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.conventions import preset_conventions
from ..model.problem import Problem
from .untrusted import clean_text

if TYPE_CHECKING:
    from ..maths.training import TrainResult
    from .problem_file import ProblemDocument


def saved_problem(result: TrainResult, document: ProblemDocument, target: Path) -> str:
    """The trained network as a problem file: same network, data and settings, the
    trained weights as its initial weights.  ``target`` is where it will be written
    (its name goes into the comments, its folder anchors relative CSV paths)."""
    p = result.problem
    name = clean_text(target.name)      # comments: one line each, whatever the names
    lines = [
        f"# Trained by 'bpnn-steps train': {result.epochs_run} epoch"
        f"{'s' if result.epochs_run != 1 else ''} from {clean_text(p.source)}.",
        "# The weights below are the trained ones.  One update from them, step by step:",
        f"#   bpnn-steps solve {name} --epochs 1",
        "# Train further:",
        f"#   bpnn-steps train {name}",
    ]
    title = p.title or "network"
    if not title.endswith("(trained)"):
        title += " (trained)"
    lines.append(f"title: {_yaml_scalar(title)}")
    lines += _network_lines(p)
    tree = document.tree
    data = _plain(tree.get("data")) if tree is not None else None
    if isinstance(data, dict):
        _relocate_csv(data, document.folder, target.resolve().parent)
        lines.append("data:")
        for key, value in data.items():
            lines.append(f"  {key}: {_yaml_flow(value)}")
    else:
        lines += _data_lines(p)
    lines += _weight_lines(result.weights)
    lines += _training_lines(p)
    lines += _conventions_lines(p)
    return "\n".join(lines) + "\n"


def problem_text(problem: Problem, comments: Sequence[str] = ()) -> str:
    """A complete problem file for ``problem``: every key written out (explicit
    weights and data, every training setting), so that it reads back as the same
    problem whatever defaults a later version has.  ``comments`` go first, one
    ``#`` line each."""
    p = problem
    lines = [f"# {c}" if c else "#" for c in comments]
    if p.title:
        lines.append(f"title: {_yaml_scalar(p.title)}")
    if p.variant:
        lines.append(f"variant: {_yaml_scalar(p.variant)}")
    if p.description:
        lines.append(f"description: {_yaml_scalar(p.description)}")
    lines += _network_lines(p)
    lines += _data_lines(p, whole=True)
    lines += _weight_lines(p.initial_weights(), whole=True)
    lines += _training_lines(p)
    lines += _conventions_lines(p)
    return "\n".join(lines) + "\n"


def _network_lines(p: Problem) -> list[str]:
    return ["network:",
            f"  layers: {_yaml_flow(list(p.layers))}",
            f"  activations: {_yaml_flow(list(p.activations))}",
            f"loss: {p.loss}"]


def _data_lines(p: Problem, whole: bool = False) -> list[str]:
    x, y = p.data()
    lines = ["data:", f"  x: {_yaml_flow(x.tolist(), whole)}",
             f"  y: {_yaml_flow(y.tolist(), whole)}"]
    held_out = p.test_data()
    if held_out is not None:
        lines += ["  test:", f"    x: {_yaml_flow(held_out[0].tolist(), whole)}",
                  f"    y: {_yaml_flow(held_out[1].tolist(), whole)}"]
    return lines


def _weight_lines(weights: Sequence[np.ndarray], whole: bool = False) -> list[str]:
    lines = ["weights:"]
    for n, w in enumerate(weights, start=1):
        rows = [_yaml_flow([float(v) for v in row], whole) for row in w]
        head = f"  W{n}: ["
        lines.append(head + (",\n" + " " * len(head)).join(rows) + "]")
    return lines


def _training_lines(p: Problem) -> list[str]:
    t = p.training
    lines = ["training:"]
    if t.learning_rate is not None:
        lines.append(f"  learning_rate: {_yaml_scalar(float(t.learning_rate))}")
    lines.append(f"  method: {t.method}")
    if t.method == "minibatch":
        lines.append(f"  batch_size: {t.batch_size}")
    lines += [f"  epochs: {t.epochs}",
              f"  l2: {_yaml_scalar(float(t.l2))}",
              f"  l2_bias: {_yaml_scalar(t.l2_bias)}",
              f"  shuffle: {_yaml_scalar(t.shuffle)}",
              f"  seed: {t.seed}"]
    return lines


def _conventions_lines(p: Problem) -> list[str]:
    """The ``conventions:`` block: the preset and every key that differs from it
    (nothing for the lecture's, which a file without the block means)."""
    c = p.conventions
    preset = preset_conventions(c.preset).to_dict()
    keys = [(key, value) for key, value in c.to_dict().items()
            if key != "preset" and value != preset[key]]
    if c.preset == "lecture" and not keys:
        return []
    return ["conventions:", f"  preset: {c.preset}",
            *(f"  {key}: {value if isinstance(value, str) else _yaml_scalar(value)}"
              for key, value in keys)]


def _yaml_scalar(value: Any, whole: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
        # repr: the shortest text that reads back exactly; ``whole``: a whole number as
        # a hand calculation writes it (2, not 2.0), which reads back the same.
        if whole and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if value is None:
        return "null"
    return yaml_string(str(value))


# What json.dumps leaves as it is and a YAML reader takes as a line break (U+2028,
# U+0085) or refuses in a file (C1 controls, U+FEFF, noncharacters, lone surrogates:
# a byte of a file name that is not UTF-8), written as escapes.
_YAML_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as ``text`` (a JSON
    string is one): a name with a newline cannot add keys to a file written."""
    return _YAML_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}",
                             json.dumps(text, ensure_ascii=False))


def _yaml_flow(value: Any, whole: bool = False) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_flow(v, whole)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_flow(v, whole) for v in value) + "]"
    return _yaml_scalar(value, whole)


def _plain(node: Any) -> Any:
    """A ruamel node as plain dicts, lists and scalars."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _relocate_csv(section: dict[str, Any], source_dir: Path, target_dir: Path) -> None:
    """Rewrite csv file paths (relative to the source file) relative to the new file."""
    test = section.get("test")
    for holder in (section, test if isinstance(test, dict) else None):
        if not holder or "csv" not in holder:
            continue
        node = holder["csv"]
        file_text = node if isinstance(node, str) else node.get("file")
        if not isinstance(file_text, str):
            continue
        resolved = Path(file_text) if Path(file_text).is_absolute() else source_dir / file_text
        try:
            new = os.path.relpath(resolved, target_dir)
        except ValueError:
            new = str(resolved)
        if isinstance(node, str):
            holder["csv"] = new
        else:
            node["file"] = new
