"""The docs' example outputs are real: every ``$ bpnn-steps ...`` shown with its
output, in README.md and in every docs/*.md page, is run, and every line of the
output shown must appear in what it prints, in the same order (the page may leave
lines out, marked ``...``).

The commands of one code block run in order, in one folder, so an example may use
a file that an earlier one wrote (``bpnn-steps new p.yaml`` then ``bpnn-steps solve
p.yaml``); ``$ head -N FILE`` shows the first lines of such a file.

Commands that compile PDFs (``--pdf``, and ``course`` writing its books), draw
plots, train (their timings vary) or name files that exist only in the page's story
are not run.
"""

from __future__ import annotations

import doctest
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO, run_cli

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_RUN = ("--pdf", "--plot", "train ")
WRITES = ("-o", "--output", "--save", "new")
HEAD = re.compile(r"head -(\d+) (\S+)$")


@dataclass(frozen=True)
class Example:
    page: str                  # path of the page, relative to the repository
    line: int                  # line of the command on that page
    command: str
    output: tuple[str, ...]
    before: tuple[str, ...]    # the block's earlier commands, run first

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _is_command(command: str) -> bool:
    return command.startswith("bpnn-steps ") or HEAD.match(command) is not None


def _examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    name = page.relative_to(REPO).as_posix()
    out: list[Example] = []
    for m in re.finditer(r"```[a-z]*\n(.*?)```", text, re.S):
        lines = m.group(1).splitlines()
        first = text[:m.start()].count("\n") + 2
        current: tuple[int, str] | None = None
        shown: list[str] = []
        before: list[str] = []
        for k, line in enumerate(lines + ["$ "]):
            if line.startswith("$ "):
                if current is not None and _is_command(current[1]):
                    out.append(Example(name, current[0], current[1], tuple(shown),
                                       tuple(before)))
                    before.append(current[1])
                current, shown = (first + k, line[2:].split("  #")[0].strip()), []
            elif current is not None:
                shown.append(line)
    return out


def _runs(command: str) -> bool:
    return not any(flag in command + " " for flag in NOT_RUN) and not _compiles_pdf(command)


def _compiles_pdf(command: str) -> bool:
    """`course` writes its two books as PDF unless --tex, or --only leaves them out."""
    words = shlex.split(command)
    if words[:2] != ["bpnn-steps", "course"] or "--tex" in words:
        return False
    only = words[words.index("--only") + 1].split(",") if "--only" in words else None
    return only is None or bool({"questions", "solutions"} & set(only))


def _runnable(example: Example) -> bool:
    if not _runs(example.command) or not example.output:
        return False
    words = shlex.split(example.command)
    # the files it reads: not those it writes (after -o, --save, or `new`)
    files = [w for before, w in zip(words, words[1:])
             if w.endswith((".yaml", ".yml")) and before not in WRITES]
    written = [w for command in example.before for w in shlex.split(command)]
    return all((REPO / w).exists() or w.startswith(("ada", "/tmp")) or w in written
               for w in files)


ALL = [e for page in PAGES for e in _examples(page)]
EXAMPLES = [e for e in ALL if _runnable(e)]


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


def _run(command: str, folder: Path) -> list[str]:
    """What COMMAND prints (standard output, then standard error), run in FOLDER."""
    command = command.replace("/tmp/", f"{folder}/")
    head = HEAD.match(command)
    if head:
        path = Path(head.group(2))
        text = (path if path.is_absolute() else folder / path).read_text(encoding="utf-8")
        return text.splitlines()[:int(head.group(1))]
    result = run_cli(*shlex.split(command)[1:], cwd=folder, timeout=120)
    return [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]


def _ran(commands: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in commands if _runs(c))


# The command sequences a later example starts from (its block's earlier commands),
# and those two pages show alike (the README's tour repeats a command its page
# explains), and, per worker, the folder each left behind and what its last command
# printed: `variants ... --count 200` runs once, not again before every later
# command of its block nor for the other page.
STARTS = {_ran(e.before) for e in EXAMPLES if _ran(e.before)}
_AFTERS = [(*_ran(e.before), e.command) for e in EXAMPLES]
KEPT = STARTS | {after for after in _AFTERS if _AFTERS.count(after) > 1}
LEFT: dict[tuple[str, ...], tuple[Path, list[str]]] = {}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_readme_output_is_real(example: Example, tmp_path: Path,
                               tmp_path_factory: pytest.TempPathFactory) -> None:
    before = _ran(example.before)
    after = (*before, example.command)
    if after in LEFT:
        folder, printed = LEFT[after]
        shutil.copytree(folder, tmp_path, symlinks=True, dirs_exist_ok=True)
    else:
        if before in LEFT:
            shutil.copytree(LEFT[before][0], tmp_path, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copytree(REPO / "examples", tmp_path / "examples")
            (tmp_path / "problems").symlink_to(REPO / "bpnn_steps" / "problems")
            for command in before:
                _run(command, tmp_path)
        printed = _run(example.command, tmp_path)
        if after in KEPT:
            LEFT[after] = (tmp_path_factory.mktemp("left"), printed)
            shutil.copytree(tmp_path, LEFT[after][0], symlinks=True, dirs_exist_ok=True)
    missing = _matches(example.output, printed)
    assert missing is None, (f"{example.where}: `{example.command}` no longer "
                             f"prints {missing!r}")


def test_the_readme_shows_outputs() -> None:
    """The examples above exist (a change of the pages' layout would skip them all)."""
    assert len(EXAMPLES) >= 10
    assert sum(1 for e in EXAMPLES if e.page == "README.md") >= 5
    assert len({e.page for e in EXAMPLES}) >= 6


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_json_sketch_is_real() -> None:
    """docs/solve.md sketches `solve --format json` (one long line in reality): every
    key it names is a key of the real document, every full-precision number in it is
    printed."""
    text = (REPO / "docs" / "solve.md").read_text(encoding="utf-8")
    sketch = re.search(r"## JSON output\n.*?```text\n(.*?)```", text, re.S)
    assert sketch is not None, "docs/solve.md has no JSON sketch under '## JSON output'"
    printed = run_cli("solve", "lecture_122", "--format", "json", cwd=REPO).stdout
    keys = set(re.findall(r'"(\w+)":', sketch.group(1)))
    numbers = re.findall(r"-?\d+\.\d{8,}", sketch.group(1))
    assert len(keys) >= 20 and len(numbers) >= 3
    assert keys <= _keys(json.loads(printed)), keys - _keys(json.loads(printed))
    for number in numbers:
        assert number in printed, f"docs/solve.md's JSON sketch shows {number}, not printed"


def _python_examples() -> list[tuple[str, int, str]]:
    """The ```python blocks written as doctests (with '>>>'), as (page, line, text)."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r"```python\n(.*?)```", text, re.S):
            if ">>>" in m.group(1):
                out.append((page.relative_to(REPO).as_posix(),
                            text[:m.start()].count("\n") + 2, m.group(1)))
    return out


PYTHON = _python_examples()


@pytest.mark.parametrize("page,line,text", PYTHON, ids=[f"{p}:{n}" for p, n, _ in PYTHON])
def test_python_examples_are_real(page: str, line: int, text: str) -> None:
    """Each block runs after the page's earlier ones, in the same namespace, as a
    reader would type them."""
    names: dict[str, object] = {}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for other_page, other_line, other in PYTHON:
        if other_page == page and other_line <= line:
            test = doctest.DocTestParser().get_doctest(other, names, f"{page}:{other_line}",
                                                        page, other_line - 1)
            report.clear()
            result = runner.run(test, out=report.append, clear_globs=False)
            names = test.globs          # (a DocTest works on a copy of the names given)
    assert result.failed == 0, "".join(report)


def test_the_docs_show_python_examples() -> None:
    assert PYTHON, "no Python examples with '>>>' found (a change of layout would skip them)"


def _first_yaml_block(page: str) -> str:
    found = re.search(r"```yaml\n(.*?)```", (REPO / page).read_text(encoding="utf-8"), re.S)
    assert found is not None, f"{page} shows no YAML example"
    return found.group(1)


def test_the_problem_file_example_solves(tmp_path: Path) -> None:
    """docs/problem-files.md's annotated problem file is one that bpnn-steps accepts."""
    (tmp_path / "example.yaml").write_text(_first_yaml_block("docs/problem-files.md"),
                                           encoding="utf-8")
    result = run_cli("solve", "example.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_answer_file_example_is_all_right(tmp_path: Path) -> None:
    """docs/check.md's first answer file (the lecture example's numbers) is accepted and
    marked all right."""
    (tmp_path / "ada.yaml").write_text(_first_yaml_block("docs/check.md"), encoding="utf-8")
    result = run_cli("check", "ada.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Score: 15/15 (100.0%)" in result.stdout
