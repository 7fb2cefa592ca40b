"""Fuzz: problem files, answer files and formulas, mutated the way a careless or a
hostile student would (and a class's roster and variant index, as a careless TA's
spreadsheet would), never crash, hang, read outside their folder or reach the
terminal with escape codes.

Each example writes a mutated file into its own folder ``box/`` beside a secret
file (``secret.csv``, valid CSV data, so reading it would succeed) and a symlink
from inside the box to it, runs the real command line in-process, and asserts:

* the exit code is 0, 1 or 2 and nothing escaped as an exception (a traceback);
* it finished within a generous alarm (a hang fails the example, it does not
  stall the suite);
* the secret file was never opened (seen by an audit hook, whatever the path
  spelling: ``..``, absolute, symlink) and its contents appear in no output;
* no escape character reaches stdout or stderr.

Hypothesis runs derandomized with a fixed budget, so the suite is reproducible;
BPNN_STEPS_FUZZ=K runs K times the budget with new examples (docs/testing.md).
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import BUNDLED, REPO, examples, fuzz_factor, read_yaml

SECRET = "SECRET-7f3a"          # the secret file's marker: it must never be printed
ALARM_SECONDS = 20              # far above any legitimate run, far below a hang
# Examples per test: a problem file is solved in milliseconds, an answer file is
# marked in about a third of a second, a batch takes one to four of them.
FUZZ = settings(max_examples=examples(40), deadline=None, derandomize=fuzz_factor() == 1,
                database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
FUZZ_ANSWERS = settings(FUZZ, max_examples=examples(20))
FUZZ_BATCH = settings(FUZZ, max_examples=examples(6))

# Paths a hostile file would use to reach the secret (relative to box/).
STEALING_PATHS = ["../secret.csv", "link.csv", "sub/../../secret.csv", "/dev/zero",
                  "../box/../secret.csv", ".", "/etc/passwd", "nonexistent.csv"]


# The data: sections that would read them.
STEALING_DATA = [{"csv": p} for p in STEALING_PATHS] + [
    {"csv": {"file": p, "delimiter": d}} for p in STEALING_PATHS for d in (",", "|")]


# --------------------------------------------------------------------------- the box


class _OpenWatch:
    """Records every path opened while watching (an audit hook cannot be removed,
    so one hook is installed once and switched on per run)."""

    def __init__(self) -> None:
        self.watching: Path | None = None
        self.opened_secret: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.watching is None or event != "open" or not args:
            return
        target = args[0]
        if isinstance(target, int):
            return
        try:
            path = Path(os.fsdecode(target))
            if not path.is_absolute():
                path = Path.cwd() / path
            if os.path.realpath(path) == str(self.watching):
                self.opened_secret.append(str(target))
        except (OSError, ValueError, TypeError):
            pass

    @contextmanager
    def watch(self, secret: Path) -> Iterator[list[str]]:
        self.opened_secret = []
        self.watching = Path(os.path.realpath(secret))
        try:
            yield self.opened_secret
        finally:
            self.watching = None


WATCH = _OpenWatch()


class Hang(Exception):
    pass


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _box(root: Path) -> Path:
    """root/secret.csv (outside), root/box/ with a symlink to it and a sub-folder."""
    root.mkdir(parents=True, exist_ok=True)
    secret = root / "secret.csv"
    secret.write_text(f"a,b,c,d,e,f\n1,2,3,4,5,6\n3,4,5,6,7,8\n{SECRET},1,2,3,4,5\n",
                      encoding="utf-8")
    box = root / "box"
    (box / "sub").mkdir(parents=True, exist_ok=True)
    link = box / "link.csv"
    if not link.is_symlink():
        link.symlink_to(secret)
    return box


def _run(args: list[str], box: Path) -> tuple[int, str, str]:
    """Run the CLI in-process inside the box; assert the trust properties."""
    from typer.testing import CliRunner

    from bpnn_steps.cli import app

    secret = box.parent / "secret.csv"
    old = Path.cwd()
    os.chdir(box)
    try:
        with WATCH.watch(secret) as opened, _alarm(ALARM_SECONDS):
            result = CliRunner().invoke(app, args, env={"COLUMNS": "100", "NO_COLOR": "1"})
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    out, err = result.stdout, result.stderr
    assert result.exit_code in (0, 1, 2), (result.exit_code, err[-500:])
    assert not opened, f"read a file outside the input's folder: {opened}"
    written = "".join(p.read_text(encoding="utf-8", errors="replace")
                      for p in box.rglob("*") if p.is_file() and not p.is_symlink())
    for text in (out, err, written):
        assert SECRET not in text
    for text in (out, err):
        assert "\x1b" not in text and "\x9b" not in text, "an escape code reached the terminal"
    if result.exit_code == 2:
        assert err.strip(), "exit 2 without a message"
        assert "Traceback" not in err
    return result.exit_code, out, err


# --------------------------------------------------------------------------- values


_WILD_NUMBERS = st.sampled_from([
    0, -1, 1, 2, 3, 10**12, -(10**12), 10**400, 1e308, -1e308, 1e-320,
    float("inf"), float("-inf"), float("nan"), 0.5, 2.5, 1e300,
])
_WILD_TEXT = st.sampled_from([
    "", " ", "~", "sigmoid", "relu", "mse", "softmax", "batch", "minibatch", "sgd",
    "1e999", "19,628", "1,5", "nan", ".inf", "-.inf", "exp(1000)", "exp(exp(exp(100)))",
    "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "a\x00b", "\u202eevil", "x" * 300,
    "((((((((((1))))))))))", "{{", "[", "*anchor", "!!python/object:os.system ls",
    *STEALING_PATHS,
])
_LEAF = st.one_of(_WILD_NUMBERS, _WILD_TEXT, st.booleans(), st.none(),
                  st.floats(allow_nan=True, allow_infinity=True),
                  st.integers(min_value=-(10**6), max_value=10**6),
                  st.text(max_size=20))
_WILD = st.one_of(
    _LEAF,
    st.lists(_LEAF, max_size=4),
    st.lists(st.lists(_LEAF, max_size=3), max_size=3),
    st.dictionaries(st.sampled_from(["csv", "file", "x", "y", "W1", "delimiter", "bogus"]),
                    _LEAF, max_size=3),
    st.sampled_from(STEALING_DATA),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _paths(value, (*at, k))


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """One to three random edits: replace a node, delete a key, add an unknown key,
    or grow a list."""
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return copy.deepcopy(data.draw(_WILD, label="whole document"))
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "unknown",
                                            "grow"]), label="action")
        if action == "replace":
            parent[last] = copy.deepcopy(data.draw(_WILD, label="value"))
        elif action == "delete":
            del parent[last]
        elif action == "unknown" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["bogus", "Title", "batch_size", "l2 ",
                                              "\x1b[31mred"]), label="key")] = 1
        elif action == "grow" and isinstance(parent[last], list):
            parent[last] = parent[last] * data.draw(st.integers(2, 50), label="times")
    return doc


def _dump(doc: Any) -> str:
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    stream = StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _text_mutation(text: str, data: st.DataObject) -> str:
    """Edits a YAML parser sees: truncation, a junk character, a long comment."""
    kind = data.draw(st.sampled_from(["none", "none", "truncate", "insert", "comment",
                                      "tabs", "duplicate"]), label="text edit")
    if kind == "truncate":
        return text[:data.draw(st.integers(0, len(text)), label="cut")]
    if kind == "insert":
        at = data.draw(st.integers(0, len(text)), label="at")
        junk = data.draw(st.sampled_from([":", "- ", "\t", "\x1b[2J", "'", '"', "&a ",
                                          "*a", "%YAML 1.1\n", "\x00", "{", "]"]),
                         label="junk")
        return text[:at] + junk + text[at:]
    if kind == "comment":
        return "# " + "x" * data.draw(st.integers(1000, 200_000), label="comment") + "\n" + text
    if kind == "tabs":
        return text.replace("  ", "\t")
    if kind == "duplicate":
        lines = text.splitlines(keepends=True)
        k = data.draw(st.integers(0, max(0, len(lines) - 1)), label="line")
        return "".join(lines[:k + 1] + lines[k:])
    return text


PROBLEMS = sorted(BUNDLED.glob("*.yaml")) + sorted((REPO / "tests/golden/problems").glob("*.yaml"))
# Quick to solve as they are; the training examples (many epochs) go through solve
# only when a mutation has not made them bigger.
COMMANDS = [["solve", "{file}"], ["solve", "{file}", "--format", "json"],
            ["derive", "{file}"], ["export", "{file}", "--sheet", "question"],
            ["check", "--template", "{file}"]]


# --------------------------------------------------------------------------- tests


@FUZZ
@given(data=st.data())
def test_mutated_problem_files(tmp_path_factory: pytest.TempPathFactory,
                               data: st.DataObject) -> None:
    box = _box(tmp_path_factory.mktemp("fuzz"))
    source = data.draw(st.sampled_from(PROBLEMS), label="problem")
    doc = _read(source)
    if data.draw(st.booleans(), label="data from a file"):
        doc["data"] = copy.deepcopy(data.draw(st.sampled_from(STEALING_DATA), label="data"))
    doc = _mutate(doc, data)
    text = _text_mutation(_dump(doc), data)
    (box / "p.yaml").write_text(text, encoding="utf-8")
    command = data.draw(st.sampled_from(COMMANDS), label="command")
    _run([a.replace("{file}", "p.yaml") for a in command], box)


_TEMPLATES: dict[str, Any] = {}
_READ: dict[Path, Any] = {}


def _read(path: Path) -> Any:
    """A problem file as data, read once per file (ruamel's reader is the slow part
    of an example); each caller gets its own copy to mutate."""
    if path not in _READ:
        _READ[path] = read_yaml(path)
    return copy.deepcopy(_READ[path])


def _answer_template(problem: str, box: Path) -> Any:
    """check --template's answer file of a bundled problem, as data (made and read
    once per problem: it is the same every time, and reading it is most of a run)."""
    if problem not in _TEMPLATES:
        code, out, _ = _run(["check", "--template", problem], box)
        assert code == 0
        _TEMPLATES[problem] = read_yaml(out, text=True)
    return copy.deepcopy(_TEMPLATES[problem])


def _fill(doc: Any, value: st.SearchStrategy[Any], data: st.DataObject) -> Any:
    """Every blank (None) cell gets one of up to 12 drawn values, spread over the
    cells by a drawn seed (a hypothesis draw per cell, hundreds per file, cost more
    than marking the file)."""
    pool = data.draw(st.lists(value, min_size=1, max_size=12), label="cells")
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="spread"))

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return copy.deepcopy(rng.choice(pool)) if node is None else node

    return fill(doc)


_JUNK_CELL = st.one_of(
    _WILD_NUMBERS.filter(lambda v: not isinstance(v, float) or v == v),
    _WILD_TEXT,
    st.lists(st.floats(-5, 5), max_size=4),
    st.sampled_from(["1/3", "2**3**4**5", "(" * 500 + "1" + ")" * 500, "1e999*0",
                     "0/0", "x1 +", "yhat1 - y1", "y1 - yhat1", "exp(1000)"]),
)


@FUZZ_ANSWERS
@given(data=st.data())
def test_mutated_answer_files(tmp_path_factory: pytest.TempPathFactory,
                              data: st.DataObject) -> None:
    box = _box(tmp_path_factory.mktemp("fuzz"))
    problem = data.draw(st.sampled_from(["lecture_122", "quiz_11", "softmax_233"]),
                        label="problem")
    doc = _fill(_answer_template(problem, box), _JUNK_CELL, data)
    if data.draw(st.booleans(), label="mutate further"):
        doc = _mutate(doc, data)
    if data.draw(st.booleans(), label="problem from a file"):
        if isinstance(doc, dict):
            doc["problem"] = data.draw(st.sampled_from(STEALING_PATHS + ["p.yaml"]),
                                       label="problem path")
        (box / "p.yaml").write_text(
            _dump({**_read(BUNDLED / "lecture_122.yaml"),
                   "data": copy.deepcopy(data.draw(st.sampled_from(STEALING_DATA),
                                                    label="data"))}),
            encoding="utf-8")
    text = _text_mutation(_dump(doc), data)
    (box / "answers.yaml").write_text(text, encoding="utf-8")
    fmt = data.draw(st.sampled_from([[], ["--format", "json"]]), label="format")
    code, out, _ = _run(["check", "answers.yaml", *fmt], box)
    if code != 2 and fmt:
        score = json.loads(out)["score"]
        # Junk earns nothing: no junk cell is the right number or formula, except
        # the few _right_by_chance counts.
        assert score["correct"] + score["follow-through"] <= _right_by_chance(doc), score


def _right_by_chance(doc: Any) -> int:
    """Cells that could be right although drawn as junk: the two formula spellings
    of an output error (right for some grad W[2](t) entries of quiz_11), formulas
    of numbers (``0/0`` is never right, but ``1/3`` could be), and numbers within the
    absolute tolerance of 0 (quiz_11's z[1](3) is 0: ``1e-320`` is right there)."""
    count = 0
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif node in ("yhat1 - y1", "1/3", 0, 1, -1, 0.5, 2, 3, 2.5, True, False) or (
                isinstance(node, float) and abs(node) <= 1e-9):
            count += 1
    return count


@FUZZ_BATCH
@given(data=st.data())
def test_batch_of_hostile_answer_files(tmp_path_factory: pytest.TempPathFactory,
                                       data: st.DataObject) -> None:
    """A folder of mutated answer files marked in one batch: exit 0, 1 or 2, and the
    gradebook carries nothing from outside the folder."""
    box = _box(tmp_path_factory.mktemp("fuzz"))
    template = _answer_template("lecture_122", box)
    folder = box / "class"
    folder.mkdir()
    for k in range(data.draw(st.integers(1, 4), label="files")):
        doc = _mutate(_fill(json.loads(json.dumps(template)), _JUNK_CELL, data), data)
        (folder / f"s{k}.yaml").write_text(_text_mutation(_dump(doc), data),
                                           encoding="utf-8")
    _run(["check", "--batch", "class", "-o", "book"], box)


_CSV_JUNK = st.sampled_from([",", '"', "\r", "\n", "\r\n", "\x00", "\x1b[2J", "\ufeff",
                             "=HYPERLINK(1)", "../", "/", "x" * 200_000, ";", "\t", "é"])


def _csv_mutation(text: str, data: st.DataObject) -> str:
    """One to four edits of a CSV file: junk put in, or a piece cut out."""
    for _ in range(data.draw(st.integers(1, 4), label="csv edits")):
        at = data.draw(st.integers(0, len(text)), label="at")
        cut = data.draw(st.integers(0, 6), label="cut")
        text = text[:at] + data.draw(_CSV_JUNK, label="junk") + text[at + cut:]
    return text


@settings(FUZZ, max_examples=examples(20))     # most end at the first bad line
@given(data=st.data())
def test_mutated_roster_and_variant_index(tmp_path_factory: pytest.TempPathFactory,
                                          data: st.DataObject) -> None:
    """check --batch --variants --roster with a mutated roster, index.csv or both
    (a CR in index.csv, a NUL in a file name it lists, each ended in a traceback: a
    longer run found them; tests/test_check_variants.py and test_variant_folder.py
    keep them as fixed cases)."""
    import shutil

    box = _box(tmp_path_factory.mktemp("fuzz"))
    shutil.copytree(REPO / "examples" / "course", box / "course")
    (box / "class").mkdir()
    for name in ("ada.yaml", "alan.yaml"):
        shutil.copy(REPO / "examples" / "class" / "answers" / name, box / "class" / name)
    for path in data.draw(st.sampled_from([["roster.csv"], ["course/index.csv"],
                                           ["roster.csv", "course/index.csv"]]),
                          label="mutated"):
        source = REPO / "examples" / "class" / path if path == "roster.csv" else box / path
        text = _csv_mutation(source.read_text(encoding="utf-8"), data)
        (box / path).write_bytes(text.encode("utf-8", "surrogatepass"))
    if not (box / "roster.csv").exists():
        shutil.copy(REPO / "examples" / "class" / "roster.csv", box / "roster.csv")
    _run(["check", "--batch", "class", "--variants", "course", "--roster", "roster.csv",
          "-o", "book"], box)
