"""Answer files: a student's numbers for the quantities of a worked solution.

An answer file is YAML that names its problem and lists answers under keys that
read like the lecture::

    problem: lecture_122            # a bundled problem, or a .yaml file next to this one
    student: Ada Lovelace           # optional
    variant: lecture_122-s7-003     # optional: the variant (bpnn-steps variants) answered
    answers:
      h(1): [0.55, 0.55]            # hidden values of sample 1
      yhat(2): [0.215, 0.215]
      J: 19.628                     # the cost of the update
      grad W[2](1): [[-2.79, -3.79], [-1.534, -2.08], [-1.534, -2.08]]
      W[1] new: [[0.205, 0.205], [0.270, 0.270]]
      update 2:                     # later updates (sgd, minibatch, more epochs)
        h(1): [0.56, 0.56]

Keys (n = weight layer 1..L, t = sample number; spaces and case do not matter):

=====================  ==========================================================
``z[n](t)``            z of layer n for sample t (a list, one number per node)
``h(t)``               hidden values, one hidden layer (the lecture's h)
``h[n](t)``            hidden layer n of a deeper network; ``a[n](t)`` for any layer
``yhat(t)``            the outputs of sample t
``J(t)``               the loss of sample t
``J``                  the cost of the update (mean of J(t) + L2 term); also ``cost``
``delta[n](t)``        dJ/dz of layer n for sample t
``grad W[n](t)``       the gradient matrix of sample t (shape of W[n], row 0 = biases)
``grad W[n]``          the mean gradient of the update, (1/B) sum_t grad W[n](t)
``W[n] new``           the weights after the update
``grad W[n](t)``       with the letter t: formulas of a generic sample, in symbols
=====================  ==========================================================

A cell is a number, ``~`` (blank: not answered) or a quoted formula.  In a
numeric key a formula may only use numbers (``"1/3"``); in ``grad W[n](t)`` it
uses the problem's symbols (``"(yhat1 - y1)*h1"``).  The decimals a number is
written with are kept: they decide the "as written" tolerance.

The file is untrusted.  It is parsed by the round-trip loader (never constructs
Python objects, tags are refused), its size is capped, every key is checked
against the problem, and its ``problem:`` may only name a bundled problem or a
.yaml file inside the answer file's folder or the current folder.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ProblemError
from .untrusted import ALLOW_OPTION, CONFINED, ReadAccess, clean_text, excerpt
from .yamldoc import Doc, describe, parse_yaml, reject_tags, yaml_line
from ..model.answer_sheet import AnswerSheet, Cell, FormulaGiven, Given, Precision
from ..model.problem import Problem
from ..model.variant import NOT_AN_ID, VariantId
from ..model.quantities import (UPDATE_KEY, Kind, Quantity, answer_quantities, compact,
                                describe_shape, key_name, key_of, parse_key, shape_of)

MAX_ANSWER_BYTES = 1_000_000
TOP_KEYS = ("problem", "student", "variant", "answers", "notes")


# --------------------------------------------------------------------------- reading


def _pos(node: Any, where: Any) -> tuple[int | None, int | None]:
    """0-based (line, column) of a sequence item (int) or mapping value (str)."""
    try:
        if isinstance(where, int):
            line, col = node.lc.item(where)
        else:
            line, col = node.lc.value(where)
        return int(line), int(col)
    except Exception:
        return None, None


def _key_line(mapping: Any, key: Any) -> int | None:
    try:
        return yaml_line(mapping.lc.key(key))
    except Exception:
        return None


_NUMBER_AT = re.compile(r"[-+]?(?:\.\d[\d_]*|\d[\d_]*(?:\.[\d_]*)?)(?:[eE][-+]?\d+)?")


def _same_number(text: str, value: float) -> bool:
    try:
        return float(text.replace("_", "")) == float(value)
    except ValueError:
        return False


class _Reader:
    """Validates the parsed YAML of one answer file against its problem."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.splitlines()

    def error(self, key: str | None, message: str, line: int | None) -> ProblemError:
        return ProblemError(message, file=self.name, line=line, key=key)

    def reject_tags(self, value: Any, key: str, line: int | None) -> None:
        reject_tags(Doc(self.name, "answer files"), value, key, line)

    def written(self, container: Any, where: Any, value: float) -> str:
        line, col = _pos(container, where)
        if line is not None and col is not None and line < len(self.lines):
            m = _NUMBER_AT.match(self.lines[line], col)
            if m is not None and _same_number(m.group(), value):
                return m.group()
        # 0x1A, 0o7, 1_0: a whole number, with no decimals to speak of (repr's "1.0"
        # gave 0x1 two significant figures, where 1 has one)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)

    def comma_hint(self, line: int | None, rows: int = 1) -> str:
        """A hint when a list's lines hold a decimal comma (``[1,5, 2]`` is three numbers
        to YAML): the count is wrong because ',' separates the numbers."""
        if line is None:
            return ""
        text = "\n".join(self.lines[line - 1:line - 1 + max(rows, 1) + 1])
        if re.search(r"\d,\d", text) is None:
            return ""
        return " (',' separates the numbers of a list; the decimal point is '.': write 1.5, " \
            "not 1,5)"

    def cell(self, value: Any, container: Any, where: Any, key: str, line: int | None
             ) -> Cell:
        """One number, blank or formula string; shape problems raise ProblemError."""
        from ..maths.formula import FormulaError, arithmetic_only, constant_value, parse

        pos_line = _pos(container, where)[0]
        line = pos_line + 1 if pos_line is not None else line
        self.reject_tags(value, key, line)
        if value is None:
            return Cell(math.nan, None, None, line)
        if isinstance(value, bool):
            raise self.error(key, f"must be a number (or ~ for a blank), got the boolean "
                             f"{str(value).lower()}", line)
        if isinstance(value, (int, float)):
            try:
                x = float(value)
            except OverflowError:           # a whole number of 309 digits or more
                x = math.inf
            if not math.isfinite(x):
                got = self.written(container, where, x) if isinstance(value, float) else \
                    f"a whole number of {len(str(abs(value)))} digits"
                raise self.error(key, f"must be a finite number, got {got}", line)
            text = self.written(container, where, x)
            return Cell(x, text, Precision.of(text), line)
        if isinstance(value, str):
            if not value.strip():
                return Cell(math.nan, None, None, line)
            shown = clean_text(value if len(value) <= 60 else value[:57] + "...")
            if _NOT_FINITE.fullmatch(value.strip()):
                raise self.error(key, f"must be a finite number, got {shown!r}", line)
            try:
                formula = parse(value, ())
                number = constant_value(formula)
                arithmetic_only(formula)
            except FormulaError as err:
                return Cell(math.nan, shown, None, line, error=f"cannot read {shown!r}: {err}"
                            f"{_comma_hint(value)}", formula=True)
            literal = formula.literal
            precision = Precision.of(literal) if literal is not None else \
                _finest(value, number)
            return Cell(number, clean_text(value.strip()), precision, line,
                        formula=literal is None)
        raise self.error(key, f"must be a number, ~ or a quoted formula, got "
                         f"{describe(value)}", line)

    def array(self, value: Any, container: Any, where: Any, key: str, line: int | None,
              shape: tuple[int, ...], what: str) -> tuple[tuple[Cell, ...], bool]:
        """Cells in the expected shape (row-major) and whether they were transposed."""
        self.reject_tags(value, key, line)
        if not shape:
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
                return (self.cell(value[0], value, 0, key, line),), False
            return (self.cell(value, container, where, key, line),), False
        if not isinstance(value, Sequence) or isinstance(value, str):
            if shape == (1,) and (value is None or isinstance(value, (int, float, str))):
                return (self.cell(value, container, where, key, line),), False
            raise self.error(key, f"must be {what}, got {describe(value)}", line)
        if len(shape) == 1:
            return self.vector(value, key, line, shape[0], what), False
        return self.matrix(value, key, line, shape, what)

    def vector(self, value: Sequence[Any], key: str, line: int | None, size: int,
               what: str) -> tuple[Cell, ...]:
        items: list[tuple[Any, Any, Any]] = []
        for i, item in enumerate(value):
            if isinstance(item, Sequence) and not isinstance(item, str):   # a column [[a], [b]]
                if len(item) != 1:
                    item_line = _pos(value, i)[0]
                    raise self.error(f"{key}[{i}]", f"must be one number, got "
                                     f"{describe(item)} ({key} must be {what})",
                                     item_line + 1 if item_line is not None else line)
                items.append((item[0], item, 0))
            else:
                items.append((item, value, i))
        if len(items) != size:
            raise self.error(key, f"must be {what}, got {len(items)}"
                             f"{self.comma_hint(line)}", line)
        return tuple(self.cell(v, c, w, f"{key}[{i}]", line)
                     for i, (v, c, w) in enumerate(items))

    def matrix(self, value: Sequence[Any], key: str, line: int | None, shape: tuple[int, ...],
               what: str) -> tuple[tuple[Cell, ...], bool]:
        rows, cols = shape
        flat_column = cols == 1 and all(not isinstance(v, Sequence) or isinstance(v, str)
                                        for v in value)
        grid: list[list[Cell]] = []
        for i, row in enumerate(value):
            row_line = _pos(value, i)[0]
            row_line = row_line + 1 if row_line is not None else line
            self.reject_tags(row, f"{key}[{i}]", row_line)
            if flat_column:
                grid.append([self.cell(row, value, i, f"{key}[{i}]", row_line)])
                continue
            if not isinstance(row, Sequence) or isinstance(row, str):
                raise self.error(f"{key}[{i}]", f"must be a row (a list of numbers), got "
                                 f"{describe(row)}; {key} must be {what}", row_line)
            grid.append([self.cell(v, row, j, f"{key}[{i}][{j}]", row_line)
                         for j, v in enumerate(row)])
        widths = {len(r) for r in grid}
        if len(widths) > 1:
            raise self.error(key, f"has rows of different lengths ({sorted(widths)}); it must "
                             f"be {what}{self.comma_hint(line, len(grid))}", line)
        got = (len(grid), widths.pop() if widths else 0)
        if got == (rows, cols):
            return tuple(c for r in grid for c in r), False
        if got == (cols, rows) and rows != cols:
            return tuple(grid[j][i] for i in range(rows) for j in range(cols)), True
        raise self.error(key, f"must be {what}, got {got[0]} x {got[1]}"
                         f"{self.comma_hint(line, len(grid))}", line)


_NOT_FINITE = re.compile(r"[-+]?\.?(?:nan|inf|infinity)", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"([-+]?\d+),(\d+)")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+")


def _comma_hint(text: str) -> str:
    """What a comma in a number meant: '.' is the decimal point (1,5 is 1.5), and a
    number is written without thousands separators (1,234,567 is 1234567); 19,628
    could be either, so both are offered (the file is never read by guessing)."""
    clean = text.strip()
    if "," not in clean:
        return ""
    one = _DECIMAL_COMMA.fullmatch(clean)
    if one is not None and len(one.group(2)) != 3:
        return f"; ',' is not a decimal point: write {one.group(1)}.{one.group(2)}"
    if one is not None:
        return (f"; ',' is not a decimal point: write {one.group(1)}.{one.group(2)} (or "
                f"{one.group(1)}{one.group(2)}: no thousands separators)")
    if _THOUSANDS.fullmatch(clean):
        return f"; write numbers without thousands separators: {clean.replace(',', '')}"
    return "; ',' is not a decimal point (write 0.5, not 0,5)"


def _finest(text: str, number: float) -> Precision | None:
    """Arithmetic of written numbers ("0.21 - 3") is as precise as its most precise
    number; an expression of whole numbers ("1/3") is exact (no as-written slack).
    Its significant figures are those of its *value* written to that place, so
    "0.5*1.0" is as coarse as 0.5 (one figure: too few), not as 1.0."""
    written = [Precision.of(m.group()) for m in _NUMBER_AT.finditer(text)]
    # (by the place of the last digit: 0.000e5 is written to the hundreds)
    found = [p for p in written if p is not None and p.decimals > 0 and p.ulp < 1]
    if not found:
        return None
    finest = min(found, key=lambda p: p.ulp)
    places = min(30, max(0, round(-math.log10(finest.ulp))))
    shown = Precision.of(f"{number:.{places}f}")
    figures = shown.figures if shown is not None else 0
    return Precision(decimals=finest.decimals, figures=figures, ulp=finest.ulp)


def _text(reader: _Reader, value: Any, key: str, line: int | None) -> str:
    reader.reject_tags(value, key, line)
    if isinstance(value, bool) or value is None:
        raise reader.error(key, f"must be text, got {describe(value)}", line)
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise reader.error(key, f"must be text, got {describe(value)}", line)
    return clean_text(value)


def read_root(path: str | os.PathLike[str], display: str | None = None) -> tuple[Any, str]:
    """The parsed YAML of an answer file (size-capped, UTF-8) and its text."""
    from .textio import read_text

    name = display or str(path)
    text = read_text(Path(path), name, "answer file", MAX_ANSWER_BYTES)
    return parse_yaml(text, name), text


@dataclass(frozen=True)
class Header:
    """The top-level keys of an answer file, before its answers are read."""

    root: Any
    text: str
    name: str
    problem_ref: str | None
    problem_line: int | None
    student: str
    variant: str = ""                   # the variant id the file says it answers
    variant_line: int | None = None


def read_header(root: Any, text: str, name: str) -> Header:
    reader = _Reader(name, text)
    if root is None:
        raise reader.error(None, "is empty; expected problem: and answers: (run 'bpnn-steps "
                           "check --template PROBLEM' for a blank answer sheet)", None)
    reader.reject_tags(root, "(top level)", 1)
    if not isinstance(root, Mapping):
        raise reader.error("(top level)", f"must be a mapping with problem: and answers:, got "
                           f"{describe(root)}", 1)
    for key in root:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else \
                f"; expected one of: {', '.join(TOP_KEYS)}"
            shown = "(an empty key)" if key is None else clean_text(str(key))[:60]
            raise reader.error(shown, f"is not a known key{hint}", _key_line(root, key))
    ref = None
    line = None
    if root.get("problem") is not None:
        line = _key_line(root, "problem")
        ref = _text(reader, root["problem"], "problem", line).strip()
    student = ""
    if root.get("student") is not None:
        student = _text(reader, root["student"], "student", _key_line(root, "student")).strip()
        student = clean_text(student)[:200]
    variant, variant_line = "", None
    if root.get("variant") is not None:
        variant_line = _key_line(root, "variant")
        variant = _text(reader, root["variant"], "variant", variant_line).strip()
        if VariantId.parse(variant) is None:
            raise reader.error("variant", f"{NOT_AN_ID}, got {excerpt(variant)}", variant_line)
    if "answers" not in root:
        raise reader.error("answers", "is missing; list the answers under answers: (run "
                           "'bpnn-steps check --template PROBLEM' for a blank sheet)", None)
    return Header(root, text, name, ref, line, student, variant, variant_line)


# --------------------------------------------------------------------------- problem reference


_BUNDLED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def resolve_problem_ref(header: Header, answers_path: str | os.PathLike[str] | None,
                        cwd: Path | None = None, access: ReadAccess = CONFINED,
                        students: Path | None = None) -> Path:
    """The problem file an (untrusted) answer file names: a bundled problem, or a
    relative .yaml path that stays inside the answer file's folder or the current
    folder (or a folder ``access`` allows, ``--allow-read``).  Anything else is
    refused (use --problem to name another file).

    ``students``: the folder of a batch's answer files, which the students wrote:
    no problem file inside it is used (a student's own problem file, or one named
    like the TA's, earned full marks for wrong numbers, a classmate's too)."""
    from .bundled import BUNDLED_DIR, MAX_NAME, did_you_mean

    ref, line = header.problem_ref, header.problem_line
    if not ref:
        raise ProblemError("is missing; name the problem (e.g. problem: lecture_122) or pass "
                           "--problem", file=header.name, line=line, key="problem")
    allowed = "the answer file's folder or the current folder" + \
        (f" or a folder given to {ALLOW_OPTION}" if access.folders else "")
    refused = ProblemError(
        f"must be a bundled problem name or a relative .yaml path inside {allowed}, got "
        f"{excerpt(ref)}; pass --problem to name another problem file, or {ALLOW_OPTION} DIR "
        "to allow the problem files in DIR", file=header.name, line=line, key="problem")
    if "\x00" in ref or len(ref) > 4 * MAX_NAME:
        raise refused
    if any(len(os.fsencode(part)) > MAX_NAME for part in Path(ref).parts):
        raise ProblemError(f"names {excerpt(ref)}, which holds a name longer than a file name "
                           f"may be ({MAX_NAME} bytes)", file=header.name, line=line,
                           key="problem")
    if _BUNDLED_NAME.fullmatch(ref) and not ref.lower().endswith((".yaml", ".yml")):
        bundled = BUNDLED_DIR / f"{ref}.yaml"
        if bundled.is_file():
            return bundled
        raise ProblemError(f"names no bundled problem {excerpt(ref)}{did_you_mean(ref)} (see "
                           "'bpnn-steps list'); a problem file needs its .yaml suffix",
                           file=header.name, line=line, key="problem")
    path = Path(ref)
    if (path.is_absolute() and not access.anywhere) or \
            path.suffix.lower() not in (".yaml", ".yml"):
        raise refused
    try:
        base = Path(answers_path).resolve().parent if answers_path is not None else \
            Path.cwd()
        starts = [base, (cwd or Path.cwd()).resolve()]
        theirs = students.resolve() if students is not None else None
        skipped = None
        for start in starts:
            candidate = (start / path).resolve()
            if any(access.allows(candidate, home) for home in starts) and \
                    candidate.is_file():
                if theirs is not None and candidate.is_relative_to(theirs):
                    skipped = skipped or candidate
                    continue
                return candidate
        target = (base / path).resolve()
    except (OSError, RuntimeError, ValueError):     # a loop of links, a name too long
        raise refused from None
    if skipped is not None:
        raise ProblemError(f"names {excerpt(ref)}, a file in the folder of answer files, "
                           "which students could have written: keep the problem outside "
                           "it (in the current folder) or give it with --problem",
                           file=header.name, line=line, key="problem")
    if not any(access.allows(target, home) for home in starts):
        raise refused
    raise ProblemError(f"names {excerpt(ref)}, which does not exist (looked in "
                       f"{base})", file=header.name, line=line, key="problem")


# --------------------------------------------------------------------------- answers

# The keys read so far (a quantity, or ("formula", n) for grad W[n](t)), with the key as
# written and its line, to name the first spelling when one is given twice.
_Seen = dict[Quantity | tuple[str, int], tuple[str, int | None]]


def read_answers(header: Header, problem: Problem, schedule: Sequence[Sequence[int]]
                 ) -> AnswerSheet:
    """Validate the answers against the problem.  ``schedule[u - 1]`` lists the
    samples of update u."""
    reader = _Reader(header.name, header.text)
    root = header.root
    node = root["answers"]
    line = _key_line(root, "answers")
    reader.reject_tags(node, "answers", line)
    if node is None:
        raise reader.error("answers", "is empty; list the answers under it", line)
    if not isinstance(node, Mapping):
        raise reader.error("answers", f"must be a mapping of keys such as h(1): [...], got "
                           f"{describe(node)}", line)
    entries: list[Given] = []
    formulas: list[FormulaGiven] = []
    seen: _Seen = {}
    sections: list[tuple[int, Any, str, int | None]] = [(1, node, "answers", line)]
    direct = [k for k in node if not UPDATE_KEY.fullmatch(compact(str(k)))]
    for key in node:
        m = UPDATE_KEY.fullmatch(compact(str(key)))
        if m is None:
            continue
        update = int(m.group(1))
        kline = _key_line(node, key)
        key_text = clean_text(str(key))
        if not 1 <= update <= len(schedule):
            raise reader.error(f"answers.{key_text}", f"names update {update}; the problem has "
                               f"{len(schedule)} update{'s' if len(schedule) != 1 else ''}",
                               kline)
        section = node[key]
        reader.reject_tags(section, f"answers.{key_text}", kline)
        if not isinstance(section, Mapping):
            raise reader.error(f"answers.{key_text}", f"must be a mapping of answers, got "
                               f"{describe(section)}", kline)
        sections.append((update, section, f"answers.{key_text}", kline))
    for update, section, prefix, _ in sections:
        keys = direct if section is node else list(section)
        for key in keys:
            _read_entry(reader, problem, schedule, update, section, key, prefix, seen,
                        entries, formulas)
    if not entries and not formulas:
        raise reader.error("answers", "lists no answers (run 'bpnn-steps check --template "
                           "PROBLEM' for every key)", line)
    return AnswerSheet(source=header.name, student=header.student,
                       problem_ref=header.problem_ref, problem_line=header.problem_line,
                       entries=tuple(entries), formulas=tuple(formulas))


def _read_entry(reader: _Reader, problem: Problem, schedule: Sequence[Sequence[int]],
                update: int, section: Any, key: Any, prefix: str, seen: _Seen,
                entries: list[Given], formulas: list[FormulaGiven]) -> None:
    layers = problem.layers
    depth = len(layers) - 1
    samples = tuple(schedule[update - 1])
    line = _key_line(section, key)
    where = clean_text(f"{prefix}.{key}")[:120]
    if not isinstance(key, str):
        raise reader.error(where, "is not a known key (keys are text such as h(1))", line)
    spec = parse_key(key, depth)
    if isinstance(spec, str):
        valid = [key_of(q, depth) for q in answer_quantities(layers, samples)]
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5) or \
            difflib.get_close_matches(compact(key), [compact(v) for v in valid], n=1,
                                      cutoff=0.5)
        if close and close[0] not in valid:
            close = [valid[[compact(v) for v in valid].index(close[0])]]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise reader.error(where, f"{spec}{hint} (keys read like the lecture: h(1), yhat(2), "
                           "J, grad W[2](1), grad W[1], W[1] new)", line)
    if spec.sample == "t":
        if spec.kind is not Kind.GRAD:
            raise reader.error(where, "uses the generic sample t, which only grad W[n](t) "
                               "(formulas) accepts; give a sample number, e.g. "
                               f"{key_name(spec.kind, spec.layer, samples[0], depth)}", line)
        marker = ("formula", spec.n)
        if marker in seen:
            raise reader.error(where, f"is given twice (also as {seen[marker][0]!r} on line "
                               f"{seen[marker][1]})", line)
        seen[marker] = (key, line)
        formulas.append(_read_formulas(reader, problem, section, key, where, line, spec.n))
        return
    if spec.sample is not None and spec.sample not in samples:
        if len(schedule) == 1:
            detail = f"the problem has samples 1..{problem.samples}"
        else:
            shown = ", ".join(str(s) for s in samples)
            detail = f"update {update} uses sample{'s' if len(samples) != 1 else ''} {shown}"
        raise reader.error(where, f"names sample {spec.sample}, but {detail}", line)
    quantity = Quantity(update, spec.kind, spec.layer,
                        spec.sample if isinstance(spec.sample, int) else None)
    if quantity in seen:
        other, other_line = seen[quantity]
        raise reader.error(where, f"is given twice (also as {other!r} on line {other_line})",
                           line)
    seen[quantity] = (key, line)
    shape = shape_of(spec.kind, spec.layer, layers)
    what = describe_shape(spec.kind, spec.layer, layers)
    cells, transposed = reader.array(section[key], section, key, where, line, shape, what)
    entries.append(Given(key=key, quantity=quantity, line=line, cells=cells, shape=shape,
                         transposed=transposed))


def _read_formulas(reader: _Reader, problem: Problem, section: Any, key: str, where: str,
                   line: int | None, layer: int) -> FormulaGiven:
    shape = shape_of(Kind.GRAD, layer, problem.layers)
    value = section[key]
    what = describe_shape(Kind.GRAD, layer, problem.layers) + " of formulas"
    reader.reject_tags(value, where, line)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != shape[0]:
        got = describe(value)
        raise reader.error(where, f"must be {what}, got {got}", line)
    cells: list[tuple[str | None, int | None]] = []
    for i, row in enumerate(value):
        row_line = _pos(value, i)[0]
        row_line = row_line + 1 if row_line is not None else line
        reader.reject_tags(row, f"{where}[{i}]", row_line)
        if shape[1] == 1 and (row is None or isinstance(row, str)):
            row = [row]
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) != shape[1]:
            raise reader.error(f"{where}[{i}]", f"must be a row of {shape[1]} formulas, got "
                               f"{describe(row)}", row_line)
        for j, item in enumerate(row):
            reader.reject_tags(item, f"{where}[{i}][{j}]", row_line)
            if item is None or (isinstance(item, str) and not item.strip()):
                cells.append((None, row_line))
            elif isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise reader.error(f"{where}[{i}][{j}]", f"must be a quoted formula or ~, got "
                                   f"{describe(item)}", row_line)
            else:
                cells.append((str(item), row_line))     # shown only after parsing or clean_text
    return FormulaGiven(key=key, layer=layer, line=line, cells=tuple(cells),
                        shape=(shape[0], shape[1]))
