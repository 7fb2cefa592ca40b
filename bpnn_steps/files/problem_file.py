"""Load and validate problem files (YAML 1.2) with line-numbered errors.

ruamel.yaml's round-trip loader keeps the line of every key and item, reads
``1e-3`` as a number and refuses duplicate keys.  It never constructs Python
objects: tags such as ``!!python/object`` stay inert nodes, and validation
rejects them.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import replace
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..maths.activations import ACTIVATIONS, hidden_names
from ..errors import ProblemError, ProblemNote
from ..maths.losses import LOSSES
from ..model.conventions import (KEY_CHOICES, PRESET_L2_BIAS, Combine, Conventions,
                                 UpdateOrder, preset_conventions)
from ..model.problem import METHODS, Problem, Training
from ..model.variant import NOT_AN_ID, VariantId
from .bundled import resolve_path, shown_name
from .problem_data import data_section, generator_section
from .untrusted import ANYWHERE, ReadAccess, excerpt
from .yamldoc import (Doc, YamlMapping, as_boolean, as_choice, as_integer, as_mapping,
                      as_matrix, as_number, as_text, check_keys, describe, item_line,
                      key_line, parse_yaml, reject_tags, value_line)

if TYPE_CHECKING:
    from ..maths.datasets import Generator

# A problem file is read by ruamel.yaml's pure-Python parser (line numbers for every
# message), at some tens of microseconds per character: large data go in a CSV file.
MAX_FILE_BYTES = 2_000_000
MAX_LAYER_WIDTH = 1_000_000
MAX_WEIGHTS = 10_000_000       # every W[n] is built while the file is read: 80 MB
MAX_EPOCHS = 1_000_000_000
MAX_BATCH_SIZE = 1_000_000_000

TOP_KEYS = ("title", "description", "network", "loss", "data", "weights", "training",
            "conventions", "variant", "variants")
NETWORK_KEYS = ("layers", "activations")
TRAINING_KEYS = ("learning_rate", "method", "batch_size", "epochs", "l2", "l2_bias",
                 "shuffle", "seed")
RANDOM_KEYS = ("distribution", "scale", "seed")
DISTRIBUTIONS = ("uniform", "normal", "glorot")

# Initial weights of a shape ((rows, columns) of W[n]) for the matrices a file leaves out.
WeightFill = Callable[[tuple[int, int]], np.ndarray]


# --------------------------------------------------------------------------- locating


















# --------------------------------------------------------------------------- scalars














# --------------------------------------------------------------------------- matrices




# --------------------------------------------------------------------------- sections


def _network(doc: Doc, root: YamlMapping) -> tuple[tuple[int, ...], tuple[str, ...]]:
    if "network" not in root:
        raise doc.error("network", "is missing; expected layers: [N, M, ..., K] and "
                        "activations: [...]", None)
    net = as_mapping(doc, root["network"], "network", value_line(root, "network"))
    check_keys(doc, net, NETWORK_KEYS, "network")
    for key in NETWORK_KEYS:
        if key not in net:
            raise doc.error(f"network.{key}", "is missing", key_line(root, "network"))
    line = value_line(net, "layers")
    raw = net["layers"]
    reject_tags(doc, raw, "network.layers", line)
    if isinstance(raw, str) or not isinstance(raw, Sequence) or len(raw) < 2:
        raise doc.error("network.layers", "must list at least two layer sizes [N, ..., K], "
                        f"got {describe(raw)}", line)
    layers = tuple(as_integer(doc, n, f"network.layers[{i}]", item_line(raw, i, line), 1,
                              MAX_LAYER_WIDTH) for i, n in enumerate(raw))
    weights = sum((n + 1) * m for n, m in zip(layers, layers[1:]))
    if weights > MAX_WEIGHTS:
        raise doc.error("network.layers", f"{list(layers)} has {weights:,} weights; at most "
                        f"{MAX_WEIGHTS:,}", line)

    line = value_line(net, "activations")
    raw = net["activations"]
    if isinstance(raw, str):
        raise doc.error("network.activations", f"must be a list of {len(layers) - 1} "
                        f"activations, one per weight layer, got the single name "
                        f"{excerpt(raw)}", line)
    reject_tags(doc, raw, "network.activations", line)
    if not isinstance(raw, Sequence):
        raise doc.error("network.activations", f"must be a list, got {describe(raw)}", line)
    if len(raw) != len(layers) - 1:
        raise doc.error("network.activations",
                        f"must list {len(layers) - 1} activations (one per weight layer for "
                        f"layers {list(layers)}), got {len(raw)}", line)
    names = tuple(as_choice(doc, a, f"network.activations[{i}]", item_line(raw, i, line),
                          tuple(ACTIVATIONS)) for i, a in enumerate(raw))
    hidden = hidden_names()
    for i, name in enumerate(names[:-1]):
        if ACTIVATIONS[name].output_only:
            raise doc.error(f"network.activations[{i}]", f"{name} is allowed on the output "
                            f"layer only; use {', '.join(hidden[:-1])} or {hidden[-1]} for "
                            "hidden layers", item_line(raw, i, line))
    least = ACTIVATIONS[names[-1]].min_units
    if layers[-1] < least:
        raise doc.error(f"network.activations[{len(names) - 1}]", f"{names[-1]} needs at "
                        f"least {least} outputs, got K = {layers[-1]}",
                        item_line(raw, len(names) - 1, line))
    return layers, names


























def _weights(doc: Doc, root: YamlMapping, layers: tuple[int, ...], seed: int
             ) -> tuple[tuple[np.ndarray, ...] | None, str]:
    if "weights" not in root or root["weights"] is None:
        return None, "none"
    line = value_line(root, "weights")
    node = root["weights"]
    depth = len(layers) - 1
    names = [f"W{n}" for n in range(1, depth + 1)]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        value = as_number(doc, node, "weights", line)
        return tuple(np.full((layers[n] + 1, layers[n + 1]), value) for n in range(depth)), \
            f"every weight {value:g}"
    node = as_mapping(doc, node, "weights", line)
    check_keys(doc, node, tuple(names) + ("fill", "random"), "weights")
    if "fill" in node and "random" in node:
        raise doc.error("weights.random", "cannot be combined with weights.fill; choose one",
                        key_line(node, "random"))
    default: WeightFill | None = None
    origin = "explicit"
    if "fill" in node:
        fill = as_number(doc, node["fill"], "weights.fill", value_line(node, "fill"))
        default = lambda shape: np.full(shape, fill)  # noqa: E731
        origin = f"every weight {fill:g}"
    elif "random" in node:
        default, origin = _random_init(doc, node, seed)
    result: list[np.ndarray] = []
    for n, name in enumerate(names):
        shape = (layers[n] + 1, layers[n + 1])
        if name in node:
            wline = value_line(node, name)
            raw = node[name]
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                result.append(np.full(shape, as_number(doc, raw, f"weights.{name}", wline)))
                continue
            w = as_matrix(doc, raw, f"weights.{name}", wline)
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


def _random_init(doc: Doc, node: YamlMapping, seed: int) -> tuple[WeightFill, str]:
    raw = node["random"]
    line = value_line(node, "random")
    settings: YamlMapping = {}
    if raw is True or raw is None:
        settings = {}
    else:
        settings = as_mapping(doc, raw, "weights.random", line)
        check_keys(doc, settings, RANDOM_KEYS, "weights.random")
    distribution = as_choice(doc, settings.get("distribution", "uniform"),
                           "weights.random.distribution",
                           value_line(settings, "distribution"), DISTRIBUTIONS)
    scale = 0.5
    if "scale" in settings:
        scale = as_number(doc, settings["scale"], "weights.random.scale",
                        value_line(settings, "scale"))
        if scale < 0:
            raise doc.error("weights.random.scale", f"must be >= 0, got {scale:g}",
                            value_line(settings, "scale"))
    if "seed" in settings:
        seed = as_integer(doc, settings["seed"], "weights.random.seed",
                        value_line(settings, "seed"), 0)
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


def _training(doc: Doc, root: YamlMapping) -> Training:
    if "training" not in root or root["training"] is None:
        return Training()
    node = as_mapping(doc, root["training"], "training", value_line(root, "training"))
    check_keys(doc, node, TRAINING_KEYS, "training")
    values: dict[str, Any] = {}

    def at(key: str) -> tuple[Any, str, int | None]:
        return node[key], f"training.{key}", value_line(node, key)

    if "learning_rate" in node:
        lr = as_number(doc, *at("learning_rate"))
        if lr <= 0:
            raise doc.error("training.learning_rate", f"must be > 0, got {lr:g}",
                            value_line(node, "learning_rate"))
        values["learning_rate"] = lr
    if "method" in node:
        values["method"] = as_choice(doc, *at("method"), METHODS)
    if "batch_size" in node:
        values["batch_size"] = as_integer(doc, *at("batch_size"), 1, MAX_BATCH_SIZE)
    if "epochs" in node:
        values["epochs"] = as_integer(doc, *at("epochs"), 1, MAX_EPOCHS)
    if "l2" in node:
        beta = as_number(doc, *at("l2"))
        if beta < 0:
            raise doc.error("training.l2", f"must be >= 0, got {beta:g}", value_line(node, "l2"))
        values["l2"] = beta
    for key in ("l2_bias", "shuffle"):
        if key in node:
            values[key] = as_boolean(doc, *at(key))
    if "seed" in node:
        values["seed"] = as_integer(doc, *at("seed"), 0)
    if values.get("method") == "minibatch" and "batch_size" not in values:
        raise doc.error("training.batch_size", "is required when method is minibatch",
                        key_line(node, "method"))
    return Training(**values)


def _conventions(doc: Doc, root: YamlMapping) -> Conventions:
    """The ``conventions:`` block (CONTRACT section 5): a preset, and keys that win
    over it."""
    if root.get("conventions") is None:
        return preset_conventions("lecture")
    node = as_mapping(doc, root["conventions"], "conventions", value_line(root, "conventions"))
    check_keys(doc, node, tuple(KEY_CHOICES), "conventions")

    def at(key: str) -> tuple[Any, str, int | None]:
        return node[key], f"conventions.{key}", value_line(node, key)

    def choice(key: str) -> str:
        return as_choice(doc, *at(key), KEY_CHOICES[key])

    written: dict[str, Any] = {}
    if "cost" in node:
        written["cost"] = Combine(choice("cost"))
    if "output_reduction" in node:
        written["output_reduction"] = Combine(choice("output_reduction"))
    if "update_order" in node:
        written["update_order"] = UpdateOrder(choice("update_order"))
    for key in ("mse_half", "update_biases"):
        if key in node:
            written[key] = as_boolean(doc, *at(key))
    preset = choice("preset") if "preset" in node else "lecture"
    return preset_conventions(preset, **written)


# --------------------------------------------------------------------------- entry points


def load_problem(source: str | os.PathLike[str], *, access: ReadAccess = ANYWHERE) -> Problem:
    """Read and validate a problem file (or a bundled problem by name); ``access``
    says where its CSV data may lie (the command line confines them to its folder)."""
    path, display, text = read_source(source)
    return parse_problem(text, display, home=path.resolve().parent, access=access)


def read_source(source: str | os.PathLike[str]) -> tuple[Path, str, str]:
    """(the file, its name in messages, its text) of a problem file or bundled name."""
    path = resolve_path(source)
    display = shown_name(source, path)
    from .textio import read_text

    if not path.exists() and not path.suffix:
        raise ProblemError("no such file or bundled problem (bundled problems: run "
                           "'bpnn-steps list')", file=display)
    return path, display, read_text(path, display, "problem file", MAX_FILE_BYTES)


def parse_problem(text: str, name: str = "<problem>", *, home: Path | None = None,
                  access: ReadAccess = ANYWHERE) -> Problem:
    """Validate the YAML text of a problem file; ``name`` is used in messages, and
    its CSV data is read inside ``home`` (as :func:`problem_from_tree`)."""
    return problem_from_tree(parse_yaml(text, name), name, home=home, access=access)


def problem_from_tree(root: Any, name: str, *, home: Path | None = None,
                      access: ReadAccess = ANYWHERE) -> Problem:
    """Validate a problem file that :func:`parse_yaml` has read; its CSV paths are
    read inside ``home`` (default: the folder of the file ``name``) as ``access``
    allows."""
    doc = Doc(name)
    if root is None:
        raise doc.error(None, "is empty; expected a problem (run 'bpnn-steps new' for a "
                        "template)", None)
    root = as_mapping(doc, root, "(top level)", 1)
    check_keys(doc, root, TOP_KEYS, "")
    title = as_text(doc, root["title"], "title", value_line(root, "title")) \
        if root.get("title") is not None else ""
    description = as_text(doc, root["description"], "description",
                        value_line(root, "description")) \
        if root.get("description") is not None else ""
    variant = as_text(doc, root["variant"], "variant", value_line(root, "variant")) \
        if root.get("variant") is not None else ""
    if variant and VariantId.parse(variant) is None:
        # only `variants` writes it; a sheet carries it to check, which reads an id
        raise doc.error("variant", f"{NOT_AN_ID}, got {excerpt(variant)}",
                        value_line(root, "variant"))
    if root.get("variants") is not None:
        # What varies is read by `bpnn-steps variants` (course/variant_spec); every
        # other command only needs it to be a mapping.
        as_mapping(doc, root["variants"], "variants", value_line(root, "variants"))
    layers, activations = _network(doc, root)
    loss = "mse"
    if "loss" in root:
        loss = as_choice(doc, root["loss"], "loss", value_line(root, "loss"), tuple(LOSSES))
    needs = LOSSES[loss].output_activation
    if needs is not None and activations[-1] != needs:
        raise doc.error("loss", f"{loss} needs a {needs} output layer "
                        f"(network.activations[{len(activations) - 1}]), got {activations[-1]}",
                        value_line(root, "loss"))
    training = _training(doc, root)
    conventions = _conventions(doc, root)
    preset_l2_bias = PRESET_L2_BIAS.get(conventions.preset)
    written = root.get("training")
    if preset_l2_bias is not None and not (isinstance(written, Mapping)
                                           and "l2_bias" in written):
        training = replace(training, l2_bias=preset_l2_bias)
    if training.method != "minibatch" and training.batch_size is not None:
        # CONTRACT section 2 writes batch_size beside method: batch: accepted, with a note.
        node = root["training"]
        note = doc.error("training.batch_size", f"applies to method minibatch only; the method "
                         f"is {training.method}, so it is ignored", key_line(node, "batch_size"))
        warnings.warn(ProblemNote(str(note)), stacklevel=2)
        training = replace(training, batch_size=None)
    x, y, x_test, y_test = data_section(doc, root, layers, loss, home, access)
    weights, origin = _weights(doc, root, layers, training.seed)
    return Problem(layers=layers, activations=activations, loss=loss, x=x, y=y,
                   weights=weights, training=training, title=title,
                   description=description.strip(), source=name,
                   weights_origin=origin, x_test=x_test, y_test=y_test,
                   lines=_key_lines(root), variant=variant, conventions=conventions)


def _key_lines(root: YamlMapping) -> dict[str, int]:
    """Lines of the top-level keys and the training keys, so that errors found later
    (a diverging run, weights that overflow) can point at them."""
    lines: dict[str, int] = {}
    for key in root:
        line = key_line(root, key)
        if line is not None:
            lines[str(key)] = line
    node = root.get("training")
    if isinstance(node, Mapping):
        for key in node:
            line = value_line(node, key)
            if line is not None:
                lines[f"training.{key}"] = line
    return lines




def training_generator(text: str, name: str = "<problem>") -> Generator | None:
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
        return generator_section(Doc(name), data, "data.generate", problem.layers, problem.loss,
                          None)
    except (ProblemError, KeyError, TypeError):
        return None


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


def read_problem_document(source: str | os.PathLike[str], *, seed: int | None = None,
                          access: ReadAccess = ANYWHERE) -> ProblemDocument:
    """Read, parse and validate a problem file (or a bundled problem by name) once.

    ``seed`` replaces ``training.seed`` before validation, so that it drives
    shuffling and ``weights.random`` (without a seed of its own) exactly as if the
    file said it.
    """
    path, display, text = read_source(source)
    tree = parse_yaml(text, display)
    if seed is not None:
        _set_training_seed(tree, seed)
    problem = problem_from_tree(tree, display, home=path.resolve().parent, access=access)
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
    generator: Generator = generator_section(Doc(name), data, "data.generate", problem.layers,
                                      problem.loss, None)
    return generator
