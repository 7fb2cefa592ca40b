"""Golden files: what every command prints for every bundled problem, pinned byte
for byte, so that a change of the inside cannot change what users see unnoticed.

Each case runs the real command line in-process (typer's CliRunner) and compares
its standard output with ``tests/golden/<command>/<case>.<ext>``; standard error
and the exit code are compared with ``<case>.status`` (absent: exit 0 and
nothing on stderr).  A missing golden file fails.  Goldens are written only on
request::

    python -m pytest tests/test_goldens.py --update-goldens

and the change then shows in ``git diff tests/golden`` for review.

The numbers in these files are checked elsewhere against independent
calculations (the lecture's figures, finite differences, sympy); here they only
guard the layout and wording of every output.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from helpers import BUNDLED, REPO  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
EXTRA = GOLDEN / "problems"

# Problems that train for many epochs: their worked solutions cover one epoch.
TRAINING = {"line_1101_gd", "sine_1101_l2", "sine_1101_overfit", "sine_181_sgd"}


@dataclass(frozen=True)
class Case:
    folder: str                 # the command (and variant): one folder of goldens
    name: str                   # the problem's name
    args: tuple[str, ...]       # the command line; {out} is a file in a temporary folder
    ext: str
    output_file: bool = False   # the result is written to {out}, not to stdout

    @property
    def path(self) -> Path:
        return GOLDEN / self.folder / f"{self.name}.{self.ext}"

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"


def _problems() -> list[tuple[str, str]]:
    """(name, how the command line names it) of every problem with goldens."""
    bundled = [(p.stem, p.stem) for p in sorted(BUNDLED.glob("*.yaml"))]
    extra = [(p.stem, str(p.relative_to(REPO))) for p in sorted(EXTRA.glob("*.yaml"))]
    return bundled + extra


def _cases() -> list[Case]:
    cases: list[Case] = []
    for name, ref in _problems():
        one = ("--epochs", "1") if name in TRAINING else ()
        solve = ("solve", ref, *one)
        cases += [
            Case("solve", name, solve, "txt"),
            Case("solve-markdown", name, (*solve, "--format", "markdown"), "md"),
            Case("solve-latex", name, (*solve, "--format", "latex"), "tex"),
            Case("solve-json", name, (*solve, "--format", "json"), "json"),
            Case("solve-exact", name, (*solve, "--exact"), "txt"),
            Case("solve-exact-json", name, (*solve, "--exact", "--format", "json"), "json"),
            Case("solve-exact-latex", name, (*solve, "--exact", "--format", "latex"), "tex"),
            Case("solve-exact-markdown", name, (*solve, "--exact", "--format", "markdown"),
                 "md"),
            Case("solve-round3", name, (*solve, "--round-as-you-go", "3"), "txt"),
            Case("solve-round3-json", name, (*solve, "--round-as-you-go", "3", "--format",
                                             "json"), "json"),
            Case("derive", name, ("derive", ref), "txt"),
            Case("derive-markdown", name, ("derive", ref, "--format", "markdown"), "md"),
            Case("derive-latex", name, ("derive", ref, "--format", "latex"), "tex"),
            Case("derive-json", name, ("derive", ref, "--format", "json"), "json"),
            Case("check-template", name, ("check", "--template", ref,
                                          *(("--updates", "2") if one else ())), "yaml"),
            Case("train-json", name, ("train", ref, "--epochs", "3", "--kernel", "numpy",
                                      "--format", "json", "--no-progress"), "json"),
            Case("train", name, ("train", ref, "--epochs", "3", "--kernel", "numpy",
                                 "--no-progress"), "txt"),
            Case("train-save", name, ("train", ref, "--epochs", "3", "--kernel", "numpy",
                                      "--no-progress", "--format", "json", "--save", "{out}"),
                 "yaml", output_file=True),
        ]
        for sheet in ("question", "solution", "both", "derivation"):
            cases.append(Case(f"export-{sheet}", name,
                              ("export", ref, *one, "--sheet", sheet, "-o", "{out}"), "tex",
                              output_file=True))
        for sheet in ("both", "derivation"):
            cases.append(Case(f"export-{sheet}-markdown", name,
                              ("export", ref, *one, "--sheet", sheet, "--format", "markdown",
                               "-o", "{out}"), "md", output_file=True))
        if name in TRAINING:       # the whole run: traced, or refused with a message
            cases.append(Case("solve-full", name, ("solve", ref), "txt"))
    answers = sorted((REPO / "examples" / "answers").glob("*.yaml"))
    for path in answers:
        ref = str(path.relative_to(REPO))
        cases += [
            Case("check", path.stem, ("check", ref), "txt"),
            Case("check-wrong-only", path.stem, ("check", ref, "--wrong-only"), "txt"),
            Case("check-json", path.stem, ("check", ref, "--format", "json"), "json"),
        ]
    cases.append(Case("check-batch", "examples", ("check", "--batch", "examples/answers",
                                                  "-o", "{tmp}"), "txt"))
    cases.append(Case("check-batch-json", "examples",
                      ("check", "--batch", "examples/answers", "-o", "{tmp}", "--format",
                       "json"), "json"))
    return cases


# Commands that still refuse conventions other than the lecture's (issue 12: derive,
# --exact, train and the derivation sheet): a problem with other conventions has no
# golden of them until they follow its conventions, so a refusal is not pinned.
LECTURE_ONLY = ("solve-exact", "derive", "train", "export-derivation")


@functools.cache
def _lecture_conventions(name: str) -> bool:
    from bpnn_steps.files.problem_file import load_problem

    path = BUNDLED / f"{name}.yaml"
    return load_problem(path if path.exists() else EXTRA / f"{name}.yaml").conventions.is_lecture


CASES = [c for c in _cases()
         if not c.folder.startswith(LECTURE_ONLY) or _lecture_conventions(c.name)]

# Measured, not computed: times and rates differ from run to run.
_VOLATILE = [
    (re.compile(r'("seconds": )[0-9.e+-]+'), r"\1<seconds>"),
    (re.compile(r'("updates_per_second": )[0-9.e+-]+'), r"\1<rate>"),
    (re.compile(r"in [0-9.e+-]+ s \([0-9.e+-]+/s"), "in <seconds> s (<rate>/s"),
]


def _stable(text: str, tmp: Path) -> str:
    text = text.replace(str(tmp), "<tmp>")
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def run_case(case: Case, tmp: Path) -> tuple[str, str]:
    """(output, status) of one case: status is '' for exit 0 with nothing on stderr."""
    from typer.testing import CliRunner

    from bpnn_steps.cli import app

    out = tmp / f"out.{case.ext}"
    args = [a.replace("{out}", str(out)).replace("{tmp}", str(tmp / "book"))
            for a in case.args]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", "NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    output = out.read_text(encoding="utf-8") if case.output_file else result.stdout
    status = ""
    if result.exit_code != 0 or result.stderr:
        status = f"exit {result.exit_code}\n{result.stderr}"
    return _stable(output, tmp), _stable(status, tmp)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                request: pytest.FixtureRequest) -> None:
    monkeypatch.chdir(REPO)
    output, status = run_case(case, tmp_path)
    status_path = case.path.with_suffix(".status")
    if request.config.getoption("--update-goldens"):
        case.path.parent.mkdir(parents=True, exist_ok=True)
        case.path.write_text(output, encoding="utf-8")
        if status:
            status_path.write_text(status, encoding="utf-8")
        elif status_path.exists():
            status_path.unlink()
        return
    if not case.path.exists():
        pytest.fail(f"golden file {case.path.relative_to(REPO)} is missing; write it with "
                    "'python -m pytest tests/test_goldens.py --update-goldens' and review it")
    assert output == case.path.read_text(encoding="utf-8"), \
        f"{case.id}: the output differs from {case.path.relative_to(REPO)}"
    expected_status = status_path.read_text(encoding="utf-8") if status_path.exists() else ""
    assert status == expected_status, f"{case.id}: exit code or stderr changed"


def test_no_stray_goldens() -> None:
    """Every golden file belongs to a case (a renamed case leaves none behind)."""
    known = {c.path for c in CASES} | {c.path.with_suffix(".status") for c in CASES}
    stray = [p.relative_to(REPO) for p in GOLDEN.rglob("*")
             if p.is_file() and p.parent != EXTRA and p.parent != GOLDEN and p not in known]
    assert not stray, f"golden files without a case: {stray}"
