"""A fast path for reading plain YAML: libyaml (PyYAML's C parser) composes the
node tree, and this module turns it into the tree ruamel.yaml's round-trip loader
gives (mappings and lists that know the line and column of every key, value and
item), for the files that use nothing but the plain subset of YAML.

ruamel.yaml's pure-Python parser takes about 100 microseconds per value: 0.1 s for
a two-kilobyte file of random weights, most of a `solve`'s start-up.  libyaml
follows YAML 1.1, which reads scalars differently (``1e-3`` is text there), so it
is used only for the node tree, and every plain scalar is resolved here by YAML
1.2's rules, as ruamel.yaml reads it.  Anything outside the plain subset (tags,
anchors and aliases, merge keys, duplicate keys, several documents, a complex key,
a scalar that YAML 1.2 and 1.1 might read differently, a syntax error) makes
:func:`plain_tree` give up, and the caller parses with ruamel.yaml, which also
words every error.  ``tests/test_yaml_fast.py`` compares the two on every YAML
file of the project and on mutated ones.
"""

from __future__ import annotations

import re
from typing import Any

# Plain scalars the fast path reads itself; any other plain scalar that starts like
# a number or a YAML 1.1/1.2 keyword is left to ruamel.yaml.
# ruamel.yaml's YAML 1.2 patterns, without the forms it keeps as its own types
# (underscores, 0x/0o/0b, inf, nan), which are left to it.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
                    r"|[-+]?\.[0-9]+(?:[eE][-+][0-9]+)?")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True,
         "false": False, "False": False, "FALSE": False}
# Special floats and the merge and value keys, which ruamel.yaml keeps as its own
# types.  (YAML 1.1's y/n/yes/no/on/off booleans are text in YAML 1.2, as here.)
_UNSURE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|<<|=")
# A tag or an anchor starts a token: '!' or '&' at the start of a line or after a
# blank or a flow indicator.  libyaml's nodes record neither, so a text with one goes
# to ruamel.yaml, which keeps tags as inert nodes for the checks to refuse; and YAML
# 1.1 and 1.2 end an anchor's name at different characters (``&0?#`` is the anchor
# ``0`` before a key to libyaml, the anchor ``0?#`` to ruamel.yaml).  An alias needs
# an anchor, so this catches aliases too.
_TAG_OR_ANCHOR = re.compile(r"(?:^|[\s\[\]{},:-])[!&]", re.MULTILINE)
_NUMBER_START = frozenset("0123456789+-.")

# libyaml's implicit tags: a node carrying any other tag was tagged in the file.
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
                         "tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
                         "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                         "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
                         "tag:yaml.org,2002:value", "tag:yaml.org,2002:binary",
                         "tag:yaml.org,2002:merge", "tag:yaml.org,2002:yaml"})


class NotPlain(Exception):
    """The text uses more than plain YAML: ruamel.yaml reads it instead."""


class Positions:
    """Where each key, value or item of a mapping or list starts, 0-based, with
    ruamel.yaml's ``lc`` interface (``key``, ``value``, ``item``)."""

    __slots__ = ("_keys", "_values")

    def __init__(self) -> None:
        self._keys: dict[Any, tuple[int, int]] = {}
        self._values: dict[Any, tuple[int, int]] = {}

    def key(self, key: Any) -> tuple[int, int]:
        return self._keys[key]

    def value(self, key: Any) -> tuple[int, int]:
        return self._values[key]

    def item(self, index: int) -> tuple[int, int]:
        return self._values[index]


class PlainMap(dict[Any, Any]):
    """A mapping of the file that knows where its keys and values are (``lc``)."""

    def __init__(self) -> None:
        super().__init__()
        self.lc = Positions()


class PlainList(list[Any]):
    """A list of the file that knows where its items are (``lc``)."""

    def __init__(self) -> None:
        super().__init__()
        self.lc = Positions()


def plain_tree(text: str) -> Any:
    """The file's tree as ruamel.yaml's round-trip loader reads it; NotPlain when
    the text is not plain YAML (or libyaml is not installed)."""
    if "\t" in text or _TAG_OR_ANCHOR.search(text):   # parsers differ on tabs
        raise NotPlain
    try:
        import yaml
        loader = yaml.CSafeLoader(text)
    except (ImportError, AttributeError):
        raise NotPlain from None
    try:
        root = loader.get_single_node()
    except Exception:                     # syntax errors are worded by ruamel.yaml
        raise NotPlain from None
    finally:
        loader.dispose()
    try:
        return None if root is None else _tree(root, set(), text.splitlines())
    except RecursionError:
        raise NotPlain from None


def _start(node: Any) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line, mark.column


def _tree(node: Any, seen: set[int], lines: list[str]) -> Any:
    # An alias composes to the node it names: seen twice means anchors were used.
    if id(node) in seen or node.tag not in _PLAIN_TAGS:
        raise NotPlain
    seen.add(id(node))
    kind = node.id
    if kind == "scalar":
        return _scalar(node)
    if kind == "sequence":
        items = PlainList()
        for index, item in enumerate(node.value):
            items.lc._values[index] = _start(item)
            items.append(_tree(item, seen, lines))
        return items
    if node.flow_style and _char_at(lines, node) != "{":
        # A pair written straight into a flow list (``[a: 1]``, ``['a':1]``):
        # libyaml and ruamel.yaml disagree on which of these are valid.
        raise NotPlain
    mapping = PlainMap()
    for key_node, value_node in node.value:
        if key_node.id != "scalar":
            raise NotPlain
        key = _tree(key_node, seen, lines)
        if key in mapping or key == "<<":
            raise NotPlain
        mapping.lc._keys[key] = _start(key_node)
        mapping.lc._values[key] = _start(value_node)
        mapping[key] = _tree(value_node, seen, lines)
    return mapping


def _char_at(lines: list[str], node: Any) -> str:
    line, column = _start(node)
    return lines[line][column:column + 1] if line < len(lines) else ""


def _scalar(node: Any) -> Any:
    text: str = node.value
    if node.style:                        # quoted or a block scalar: text as written
        # (libyaml marks a plain scalar with an empty style, PyYAML's Python parser
        # with None)
        if node.style in ("|", ">"):
            raise NotPlain                # ruamel keeps these as its own string types
        return text
    if text in _NULL:
        if not text:                      # ruamel puts an empty value where the next
            raise NotPlain                # token starts, libyaml where the key ends
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _UNSURE.fullmatch(text):
        raise NotPlain
    if text[0] in _NUMBER_START:
        if _INT.fullmatch(text):
            try:
                return int(text)
            except ValueError:            # more than 4300 digits: ruamel words it
                raise NotPlain from None
        if _FLOAT.fullmatch(text):
            return float(text)
        raise NotPlain
    if ":" in text or "_" in text[:1]:
        raise NotPlain                    # sexagesimal numbers and times in YAML 1.1
    return text
