"""The fast YAML path (libyaml's node tree, scalars resolved by YAML 1.2's rules)
reads every file exactly as ruamel.yaml's round-trip loader does: the same values
of the same types, and the same line and column for every key, value and item.
Where it cannot be sure, it must give up (NotPlain) rather than differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpnn_steps.files.yaml_fast import NotPlain, plain_tree
from helpers import examples

ROOT = Path(__file__).resolve().parent.parent


def ruamel_tree(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="rt", pure=True).load(text)


def base_type(value: Any) -> type:
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind
    return type(value)


def assert_same(fast: Any, slow: Any, where: str = "") -> None:
    """The same tree: values, their plain types, and every position ruamel keeps."""
    if isinstance(slow, dict):
        assert isinstance(fast, dict), where
        assert list(fast) == list(slow), where
        for key in slow:
            assert fast.lc.key(key) == tuple(slow.lc.key(key)), f"{where}.{key} key"
            assert fast.lc.value(key) == tuple(slow.lc.value(key)), f"{where}.{key} value"
            assert_same(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(slow, list):
        assert isinstance(fast, list) and len(fast) == len(slow), where
        for i, item in enumerate(slow):
            assert fast.lc.item(i) == tuple(slow.lc.item(i)), f"{where}[{i}]"
            assert_same(fast[i], item, f"{where}[{i}]")
    else:
        assert base_type(fast) is base_type(slow), f"{where}: {fast!r} vs {slow!r}"
        assert fast == slow or (fast != fast and slow != slow), f"{where}: {fast!r} vs {slow!r}"


def agree(text: str) -> bool:
    """Whether the fast path read ``text`` (it must then agree with ruamel)."""
    try:
        fast = plain_tree(text)
    except NotPlain:
        return False
    assert_same(fast, ruamel_tree(text))
    return True


def agree_or_give_up(text: str) -> None:
    """A text ruamel refuses makes the fast path give up; any other reads alike."""
    try:
        slow = ruamel_tree(text)
    except Exception:
        with pytest.raises(NotPlain):
            plain_tree(text)
        return
    try:
        fast = plain_tree(text)
    except NotPlain:
        return
    assert_same(fast, slow)         # (ruamel's tree read once: it is the slow part)


def project_yaml_files() -> list[Path]:
    files = [p for folder in ("problems", "examples", "tests", "docs")
             for p in sorted((ROOT / folder).rglob("*.yaml"))]
    return [p for p in files if ".test-cache" not in p.parts]


def test_libyaml_is_installed() -> None:
    # PyYAML's wheels bundle libyaml; without it every file takes the slow path.
    import yaml

    assert hasattr(yaml, "CSafeLoader")


@pytest.mark.parametrize("path", project_yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_project_file_reads_as_ruamel_reads_it(path: Path) -> None:
    # An invalid file (a test input) must make the fast path give up.
    agree_or_give_up(path.read_text(encoding="utf-8"))


def test_the_bundled_problems_take_the_fast_path() -> None:
    # Otherwise the fast path would be dead code for the files users run most.
    for path in sorted((ROOT / "problems").glob("*.yaml")):
        assert agree(path.read_text(encoding="utf-8")), path.name


# Scalars where YAML 1.1 (libyaml) and 1.2 (ruamel) differ, or that look alike.
TRICKY = ["1e3", "1E-3", "5e+2", "-.5e1", ".5e+1", ".5", "1.", "+5", "-0", "00", "012",
          "0x1F", "0o17", "0b101", "1_000", "1_0.5", ".inf", "-.Inf", ".nan", "yes", "No",
          "on", "OFF", "y", "n", "true", "False", "TRUE", "null", "Null", "~", "", "<<", "=",
          "12:30", "1:20:30.5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1e999",
          "-1e-999", "9" * 5000, "'1e3'", '"yes"', "x1", "_1", "a b", "0.", "-.", ".",
          "+", "-", "1e", "1e+", "e3", "0x", "1.5.2", "- 1", "!!str 3", "!!float 1",
          "&a 1", "|\n  text", ">\n  folded"]


@pytest.mark.parametrize("scalar", TRICKY)
def test_tricky_scalars(scalar: str) -> None:
    for text in (f"a: {scalar}\n", f"a: [{scalar}, 1]\n", f"- {scalar}\n"):
        agree_or_give_up(text)


STRUCTURES = ["a: &x [1, 2]\nb: *x\n", "a: 1\na: 2\n", "<<: {a: 1}\n", "? [1]\n: 2\n",
              "--- 1\n--- 2\n", "a: !!python/object:os.system x\n", "a: {b: [1, {c: 2}]}\n",
              "a:\n  - [1, 2]\n  -   [3, 4]\nb:\n    c: 1\n", "# only a comment\n", "",
              "a:\n\n\n  b: 1\n", "a: [\n  1,\n  2\n]\n", "a: {b: 1,\n    c: 2}\n",
              "[" * 400 + "]" * 400,
              # a pair straight inside a flow list: ruamel.yaml refuses a quoted key
              # right before its colon there, libyaml reads it
              "a: [0, '':0]\n", "a: ['b':1, c]\n", "a: [b: 1]\n", "a: [? b]\n",
              # an anchor's name ends at different characters in YAML 1.1 and 1.2
              "&0?#a: b\nc: 1\n", "a: &x?y 1\nb: 2\n"]


@pytest.mark.parametrize("text", STRUCTURES, ids=range(len(STRUCTURES)))
def test_structures(text: str) -> None:
    agree_or_give_up(text)


scalar_text = st.text(alphabet="0123456789+-.eE_:xob ntrufalsyNO~'\"#", max_size=8)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(scalar_text, min_size=1, max_size=4))
def test_random_scalars_agree_or_give_up(scalars: list[str]) -> None:
    text = "a: [" + ", ".join(scalars) + "]\nb: " + scalars[0] + "\n"
    agree_or_give_up(text)


BUNDLED = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "problems").glob("*.yaml"))]


@settings(max_examples=examples(200), deadline=None)
@given(st.sampled_from(BUNDLED), st.lists(st.tuples(st.floats(0, 1), st.text(
    alphabet=" \n\t-:[]{},#&*!|>'\"?%@`0123456789.eE+~yn", min_size=0, max_size=3)),
    min_size=1, max_size=3))
def test_mutated_problem_files_agree_or_give_up(text: str, edits: list[tuple[float, str]]
                                                ) -> None:
    for where, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + len(insert) // 2:]
    agree_or_give_up(text)
