"""Reading YAML 1.2 files with line-numbered errors: the parser and the checks every
value of a problem or answer file goes through.

ruamel.yaml's round-trip loader keeps the line of every key and item, reads
``1e-3`` as a number and refuses duplicate keys.  It never constructs Python
objects: tags such as ``!!python/object`` stay inert nodes, and
:func:`reject_tags` refuses them.  A file in plain YAML takes a fast path
(:mod:`.yaml_fast`) that gives the same tree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ProblemError
from .untrusted import clean_text, excerpt, shown_key
from .yaml_fast import NotPlain, plain_tree


# A mapping of a parsed file: keys and values are whatever the YAML holds, to be
# checked one by one with the functions below.
YamlMapping = Mapping[Any, Any]


class Doc:
    """The file being validated: turns key paths and nodes into error messages;
    ``kind`` names such files in messages ("problem files", "answer files")."""

    def __init__(self, name: str, kind: str = "problem files") -> None:
        self.name = name
        self.kind = kind

    def error(self, key: str | None, message: str, line: int | None) -> ProblemError:
        return ProblemError(message, file=self.name, line=line, key=key)


def yaml_line(position: Any) -> int:
    """The 1-based line of a position ruamel.yaml keeps, a 0-based (line, column)
    pair (untyped: ruamel.yaml has no type hints)."""
    line: int = position[0]
    return line + 1


def key_line(mapping: Any, key: str) -> int | None:
    try:
        return yaml_line(mapping.lc.key(key))
    except Exception:
        return None


def value_line(mapping: Any, key: str) -> int | None:
    try:
        return yaml_line(mapping.lc.value(key))
    except Exception:
        return key_line(mapping, key)


def item_line(seq: Any, index: int, default: int | None) -> int | None:
    try:
        return yaml_line(seq.lc.item(index))
    except Exception:
        return default


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {excerpt(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, Sequence):
        return f"a list of {len(value)}"
    return shown_number(value) if isinstance(value, (int, float)) else shown_key(repr(value))


def shown_number(value: int | float, grouped: bool = False) -> str:
    """A number from a file as a message quotes it: as written (or with thousands
    separators) when short, else cut."""
    try:
        text = f"{value:,}" if grouped else str(value)
    except ValueError:                  # an int too long to convert
        return "a number with thousands of digits"
    return text if len(text) <= 40 else text[:40] + "..."


def reject_tags(doc: Doc, value: Any, key: str, line: int | None) -> None:
    tag = getattr(value, "tag", None)
    tag_text = getattr(tag, "value", None) if tag is not None else None
    if tag_text is None and type(value).__name__ == "TaggedScalar":
        tag_text = str(tag)
    if tag_text:
        raise doc.error(key, f"has the YAML tag {excerpt(tag_text)}; tags are not allowed in "
                        f"{doc.kind}", line)


def check_keys(doc: Doc, mapping: Any, allowed: Sequence[str], prefix: str) -> None:
    import difflib

    for key in mapping:
        if key not in allowed:
            where = f"{prefix}.{shown_key(key)}" if prefix else shown_key(key)
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else \
                f"; expected one of: {', '.join(allowed)}"
            raise doc.error(where, f"is not a known key{hint}", key_line(mapping, key))


def as_mapping(doc: Doc, value: Any, key: str, line: int | None) -> YamlMapping:
    reject_tags(doc, value, key, line)
    if not isinstance(value, Mapping):
        raise doc.error(key, f"must be a mapping of keys, got {describe(value)}", line)
    return value


def as_number(doc: Doc, value: Any, key: str, line: int | None) -> float:
    reject_tags(doc, value, key, line)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (remove the quotes)" if isinstance(value, str) and looks_numeric(value) else ""
        raise doc.error(key, f"must be a number, got {describe(value)}{hint}", line)
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise doc.error(key, f"must be a finite number, got {shown_number(value)}", line)
    return x


def looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# The largest whole number any key takes unless it sets its own limit: a seed, say.
MAX_WHOLE = 2**63 - 1


def as_integer(doc: Doc, value: Any, key: str, line: int | None, minimum: int,
               maximum: int = MAX_WHOLE) -> int:
    """A whole number written as one (``3``, not ``3.0`` or ``3e0``: a float is not
    a count, and ``1e308`` would pass as one) from ``minimum`` to ``maximum``."""
    reject_tags(doc, value, key, line)
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, float) and value.is_integer() and abs(value) <= maximum:
            hint = f" (write it as {int(value)}, without a decimal point or exponent)"
        raise doc.error(key, f"must be a whole number >= {minimum}, got "
                        f"{describe(value)}{hint}", line)
    if value < minimum:
        raise doc.error(key, f"must be a whole number >= {minimum}, got {shown_number(value)}",
                        line)
    if value > maximum:
        raise doc.error(key, f"must be at most {maximum:,}, got {shown_number(value, True)}",
                        line)
    return int(value)


def as_boolean(doc: Doc, value: Any, key: str, line: int | None) -> bool:
    reject_tags(doc, value, key, line)
    if not isinstance(value, bool):
        raise doc.error(key, f"must be true or false, got {describe(value)}", line)
    return value


def as_choice(doc: Doc, value: Any, key: str, line: int | None, choices: Sequence[str]) -> str:
    reject_tags(doc, value, key, line)
    if not isinstance(value, str) or value not in choices:
        import difflib

        shown = describe(value)
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5) \
            if isinstance(value, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise doc.error(key, f"must be one of {', '.join(choices)}, got {shown}{hint}", line)
    return value


def as_text(doc: Doc, value: Any, key: str, line: int | None) -> str:
    """A text value, cleaned of terminal escapes and control characters (newlines and
    tabs stay): every text of a problem file is read here, so no output sees them."""
    reject_tags(doc, value, key, line)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return shown_number(value)
    if not isinstance(value, str):
        raise doc.error(key, f"must be text, got {describe(value)}", line)
    return clean_text(value, lines=True)


def as_matrix(doc: Doc, value: Any, key: str, line: int | None, *,
            columns: int | None = None, flat_ok: bool = False) -> np.ndarray:
    """A list of equal-length rows of numbers.  With ``flat_ok`` (one column
    expected), a plain list of numbers is read as one number per row."""
    reject_tags(doc, value, key, line)
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) == 0:
        raise doc.error(key, f"must be a non-empty list of rows, got {describe(value)}", line)
    rows: list[list[float]] = []
    for i, row in enumerate(value):
        row_line = item_line(value, i, line)
        row_key = f"{key}[{i}]"
        reject_tags(doc, row, row_key, row_line)
        if isinstance(row, str) or (flat_ok and not isinstance(row, (Sequence, Mapping))):
            rows.append([as_number(doc, row, row_key, row_line)])
            continue
        if not isinstance(row, Sequence):
            raise doc.error(row_key, f"must be a list of numbers (one row), got {describe(row)}",
                            row_line)
        rows.append([as_number(doc, item, f"{row_key}[{j}]", item_line(row, j, row_line))
                     for j, item in enumerate(row)])
    expected = columns if columns is not None else len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != expected:
            what = f"{expected} number{'s' if expected != 1 else ''}"
            raise doc.error(f"{key}[{i}]", f"must have {what}, got {len(r)}",
                            item_line(value, i, line))
    return np.array(rows, dtype=float)


# ruamel.yaml's scanner builds a comment one character at a time, which takes time
# quadratic in the comment's length once the heap has grown (a 0.8 MB comment line:
# 10-20 s).  Comments are never read, so a long one is refused before the parse.
MAX_COMMENT_CHARS = 10_000


# ruamel.yaml's round-trip parser (the one that keeps line numbers) takes some 50 to
# 250 microseconds per node: a file of a million tiny values would take minutes.
# Commas, line breaks and opening brackets bound the number of nodes (a comment-free
# line of 9,500 nests [[[...]]] 50 deep, in a 1 MB answer file, took 89 s); large data
# belong in a CSV file.
MAX_YAML_ITEMS = 100_000


def check_comment_lines(text: str, name: str) -> None:
    """Refuse, before the parse, a file whose parse would take too long: more than
    MAX_YAML_ITEMS values, or a line longer than MAX_COMMENT_CHARS that holds a
    comment."""
    if len(text) <= MAX_COMMENT_CHARS:
        return
    items = text.count(",") + text.count("\n") + text.count("[") + text.count("{")
    if items > MAX_YAML_ITEMS:
        raise ProblemError(f"is too large to read: about {items:,} values (commas, lines and "
                           "brackets), "
                           f"at most {MAX_YAML_ITEMS:,}; put large data sets in a CSV file "
                           "(data: {csv: ...})", file=name)
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_COMMENT_CHARS and _has_comment(line):
            raise ProblemError(f"has a comment line of {len(line):,} characters; at most "
                               f"{MAX_COMMENT_CHARS:,} (shorten or split it)", file=name,
                               line=number)


def _has_comment(line: str) -> bool:
    """Whether a YAML line may hold a comment: '#' at its start or after a blank."""
    stripped = line.lstrip()
    return stripped.startswith("#") or " #" in line or "\t#" in line


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML 1.2 text with line numbers kept; syntax errors become ProblemError."""
    check_comment_lines(text, name)
    try:
        return plain_tree(text)
    except NotPlain:
        pass
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
        raise ProblemError(f"is not valid YAML: {_parser_words(problem + context)}", file=name,
                           line=line) from None
    except YAMLError as exc:
        raise ProblemError(f"is not valid YAML: {_parser_words(str(exc))}",
                           file=name) from None
    except ValueError as exc:           # an integer of more than 4300 digits
        what = "a whole number has too many digits (more than 4300)" if "digits" in str(exc) \
            else f"a value cannot be read ({_parser_words(str(exc))})"
        raise ProblemError(f"is not valid YAML: {what}", file=name) from None
    except RecursionError:
        raise ProblemError("is not valid YAML: nested too deeply", file=name) from None


def _parser_words(message: str) -> str:
    """The parser's message, which may quote the file (a duplicate key): one line,
    clean, at most 160 characters."""
    words = clean_text(message, lines=False)
    return words if len(words) <= 160 else words[:160] + "..."
