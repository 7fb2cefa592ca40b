"""The README's example outputs are real: every ``$ bpnn-steps ...`` shown with its
output is run, and every line of the output shown must appear in what it prints,
in the same order (the README may leave lines out, marked ``...``).

Commands that compile PDFs, draw plots, train (their timings vary) or name files
that exist only in the README's story are not run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")

# The first output block is introduced in prose, not with a "$" line.
INTRODUCED = {"Lecture example 1-2-2, one batch gradient-descent step":
              "bpnn-steps solve problems/lecture_122.yaml"}
NOT_RUN = ("--pdf", "--plot", "train ")


@dataclass(frozen=True)
class Example:
    line: int                  # README line of the command
    command: str
    output: tuple[str, ...]


def _examples() -> list[Example]:
    out: list[Example] = []
    for m in re.finditer(r"```[a-z]*\n(.*?)```", README, re.S):
        lines = m.group(1).splitlines()
        first = README[:m.start()].count("\n") + 2
        if lines and lines[0] in INTRODUCED:
            out.append(Example(first - 1, INTRODUCED[lines[0]], tuple(lines)))
            continue
        current: tuple[int, str] | None = None
        shown: list[str] = []
        for k, text in enumerate(lines + ["$ "]):
            if text.startswith("$ "):
                if current is not None and current[1].startswith("bpnn-steps "):
                    out.append(Example(current[0], current[1], tuple(shown)))
                current, shown = (first + k, text[2:].split("  #")[0].strip()), []
            elif current is not None:
                shown.append(text)
    return out


def _runnable(example: Example) -> bool:
    if any(flag in example.command + " " for flag in NOT_RUN) or not example.output:
        return False
    words = shlex.split(example.command)
    files = [w for w in words[1:] if w.endswith((".yaml", ".yml")) and "-o" not in w]
    return all((REPO / w).exists() or w.startswith(("ada", "/tmp")) for w in files)


EXAMPLES = [e for e in _examples() if _runnable(e)]


def _matches(shown: tuple[str, ...], printed: list[str]) -> str | None:
    """None when the shown lines occur in the printed ones in the same order (lines
    in between may have been left out, with or without a '...'); else the first
    shown line that is not found."""
    at = 0
    for line in shown:
        line = line.rstrip()
        if line.strip() in ("", "...", "…"):
            continue
        while at < len(printed) and printed[at] != line:
            at += 1
        if at == len(printed):
            return line
        at += 1
    return None


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line {e.line}" for e in EXAMPLES])
def test_readme_output_is_real(example: Example, tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "problems").symlink_to(REPO / "bpnn_steps" / "problems")
    words = [w.replace("/tmp/", f"{tmp_path}/") for w in shlex.split(example.command)[1:]]
    result = run_cli(*words, cwd=tmp_path, timeout=120)
    printed = [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]
    missing = _matches(example.output, printed)
    assert missing is None, (f"README line {example.line}: `{example.command}` no longer "
                             f"prints {missing!r}")


def test_the_readme_shows_outputs() -> None:
    """The examples above exist (a change of the README's layout would skip them all)."""
    assert len(EXAMPLES) >= 10
