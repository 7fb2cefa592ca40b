"""``bpnn-steps check``: mark answer files, write blank answer sheets, mark a folder.

Only typer is imported at module level: this module is imported on every start
of the CLI, and ``solve`` must stay fast.  numpy, rich and the marking code are
imported when the command runs; sympy only when an answer file has a formula.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover
    from ..marking.marker import CheckResult, Options
    from ..marking.gradebook import Gradebook


class CheckFormat(str, Enum):
    text = "text"
    json = "json"


MARK_GLYPHS = {"correct": "✓", "follow-through": "✓ f/t", "wrong": "✗", "blank": "–",
               "invalid": "✗ ?"}


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    answers: Optional[str] = typer.Argument(
        None, metavar="[ANSWERS]", help="Answer file (YAML) to mark."),
    template: Optional[str] = typer.Option(
        None, "--template", metavar="PROBLEM",
        help="Write a blank answer sheet with every key for PROBLEM (a file or bundled name)."),
    batch: Optional[Path] = typer.Option(
        None, "--batch", metavar="DIR",
        help="Mark every *.yaml answer file in DIR; write gradebook.csv and gradebook.json."),
    problem: Optional[str] = typer.Option(
        None, "--problem", "-p",
        help="The problem to mark against (overrides the answer file's problem:)."),
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f",
                                    help="text (a table) or json (for gradebooks)."),
    abs_tol: float = typer.Option(1e-9, "--abs-tol", min=0.0,
                                  help="Accept numbers within this absolute difference."),
    rel_tol: float = typer.Option(1e-6, "--rel-tol", min=0.0,
                                  help="Accept numbers within this relative difference."),
    as_written: bool = typer.Option(
        True, "--as-written/--no-as-written",
        help="Accept a number that is the correctly rounded value at the decimals it is "
             "written with (at least 2 significant figures or 3 decimals)."),
    round_as_you_go: Optional[int] = typer.Option(
        None, "--round-as-you-go", min=0, max=15, metavar="D",
        help="Also accept a calculation that rounds every intermediate to D decimals "
             "(the decimals each answer is written with are always tried)."),
    follow_through: bool = typer.Option(
        True, "--follow-through/--no-follow-through",
        help="Credit later work that is consistent with the student's own earlier wrong "
             "values."),
    wrong_only: bool = typer.Option(False, "--wrong-only",
                                    help="Show only the entries that are not right."),
    decimals: int = typer.Option(3, "--decimals", "-d", min=0, max=12,
                                 help="Least decimals for expected values."),
    updates: Optional[int] = typer.Option(None, "--updates", min=1,
                                          help="--template: only the first N updates."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o",
        help="Write the report (or --template sheet) to this file; with --batch, the folder "
             "for gradebook.csv and gradebook.json (default: the current folder)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --template file."),
) -> None:
    """Mark a student's hand calculation entry by entry, with follow-through and diagnosis.

    Exit code 0 when every answer is right, 1 when anything is wrong or blank, 2 for bad
    input.
    """
    from .app import fail

    chosen = [name for name, value in (("ANSWERS", answers), ("--template", template),
                                       ("--batch", batch)) if value is not None]
    if len(chosen) != 1:
        fail("check needs exactly one of ANSWERS, --template PROBLEM or --batch DIR"
             + (f" (got {' and '.join(chosen)})" if chosen else ""))
    if template is not None:
        _template(template, output, updates, force)
        return
    options = _options(abs_tol, rel_tol, as_written, round_as_you_go, follow_through)
    if batch is not None:
        _batch(batch, problem, options, fmt, output)
        return
    _single(answers, problem, options, fmt, output, wrong_only, decimals)


def _options(abs_tol: float, rel_tol: float, as_written: bool, round_as_you_go: Optional[int],
             follow_through: bool) -> "Options":
    from ..marking.marker import Options
    from ..marking.diagnose import Tolerance

    return Options(Tolerance(abs_tol=abs_tol, rel_tol=rel_tol, as_written=as_written),
                   round_as_you_go=round_as_you_go, follow_through=follow_through)


# --------------------------------------------------------------------------- one file


def _single(answers: str, problem: Optional[str], options: "Options", fmt: CheckFormat,
            output: Optional[Path], wrong_only: bool, decimals: int) -> None:
    from ..marking.marker import check_file
    from .app import emit, fail
    from ..errors import ProblemError

    try:
        result = check_file(answers, problem, options)
    except ProblemError as err:
        fail(err)
    if fmt is CheckFormat.json:
        import json

        try:
            emit(json.dumps(result.to_dict(), indent=1, ensure_ascii=False, allow_nan=False),
                 output)
        except ProblemError as err:
            fail(err)
    elif output is None and sys.stdout.isatty():
        from .app import console

        terminal = console()
        for item in report_renderables(result, decimals, wrong_only):
            terminal.print(item)
    else:
        try:
            emit(render_text(result, decimals, wrong_only), output)
        except ProblemError as err:
            fail(err)
    raise typer.Exit(0 if result.all_right else 1)


MARK_STYLES = {"correct": "green", "follow-through": "green", "wrong": "bold red",
               "blank": "dim", "invalid": "bold red"}


def report_renderables(result: "CheckResult", decimals: int = 3,
                       wrong_only: bool = False) -> list:
    """The marking report as rich renderables: a header, the table (one row per
    answered number, grouped by answer-file key), the score and the mistakes."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..marking.diagnose import MISTAKES
    from ..numfmt import MINUS, fmt

    out: list = []
    who = f" ({result.student})" if result.student else ""
    out.append(Text(f"Checking {result.answers}{who}"))
    title = f"{result.problem_title} " if result.problem_title else ""
    out.append(Text(f"Problem: {title}[{result.problem}]"))
    tol = result.options.tolerance
    rules = []
    if tol.as_written:
        rules.append(f"as written (at least {tol.min_figures} significant figures or "
                     f"{tol.min_decimals} decimals)")
    rules.append(f"abs {tol.abs_tol:g}, rel {tol.rel_tol:g}")
    if result.options.round_as_you_go is not None:
        rules.append(f"rounding every step to {result.options.round_as_you_go} d.p.")
    rules.append("follow-through " + ("on" if result.options.follow_through else "off"))
    out.append(Text("Accepted: " + "; ".join(rules)))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("entry", no_wrap=True)
    table.add_column("mark", no_wrap=True)
    table.add_column("given", justify="right", no_wrap=True, max_width=20)
    table.add_column("expected", justify="right", no_wrap=True, max_width=22)
    table.add_column("note", min_width=30, ratio=1)
    shown = 0
    for group in result.groups:
        entries = [e for e in group.entries if not wrong_only or e.mark != "correct"]
        if not entries:
            continue
        where = f"line {group.line}" if group.line else ""
        note = where + (": " + group.note if group.note and where else group.note or "")
        table.add_row(Text(group.label, style="bold"), "", "", "", Text(note))
        for e in entries:
            given = "" if e.given_text is None else e.given_text
            if given.startswith("-") and e.given is not None:
                given = MINUS + given[1:]
            if e.expected_text is not None:
                expected = e.expected_text
            elif e.expected is None:
                expected = ""
            else:
                expected = fmt(e.expected, max(decimals, e.decimals), minus=MINUS)
            table.add_row(Text("  " + e.name), Text(MARK_GLYPHS[e.mark],
                                                    style=MARK_STYLES[e.mark]),
                          Text(given), Text(expected), Text(e.message))
            shown += 1
    if shown:
        out.append(table)
    elif wrong_only:
        out.append(Text("Every answer is right."))
    out.append(Text(score_line(result), style="bold"))
    mistakes = result.mistakes()
    if mistakes:
        out.append(Text("Mistakes: " + "; ".join(
            f"{MISTAKES.get(c, c)} ({n} entr{'y' if n == 1 else 'ies'})"
            for c, n in mistakes.items())))
    return out


def render_text(result: "CheckResult", decimals: int = 3, wrong_only: bool = False,
                width: int = 120) -> str:
    """The marking report as plain text (files, pipes, tests)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None,
                      force_terminal=False, emoji=False)
    for item in report_renderables(result, decimals, wrong_only):
        console.print(item)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def score_line(result: "CheckResult") -> str:
    parts = [f"{result.count('correct')} correct"]
    for mark, label in (("follow-through", "follow-through"), ("wrong", "wrong"),
                        ("blank", "blank"), ("invalid", "unreadable")):
        if result.count(mark):
            parts.append(f"{result.count(mark)} {label}")
    return (f"Score: {result.credited}/{result.total} ({result.percent:.1f}%): "
            + ", ".join(parts))


# --------------------------------------------------------------------------- template


def _template(template: str, output: Optional[Path], updates: Optional[int],
              force: bool) -> None:
    import os

    from ..files.answer_template import template_text
    from ..marking.marker import checkable
    from .app import emit, fail
    from ..maths.engine import solve
    from ..errors import ProblemError
    from ..files.problem_file import BUNDLED_DIR, load_problem, resolve_path

    if output is not None and output.exists() and not force:
        fail(ProblemError("already exists; use --force to overwrite it", file=str(output)))
    try:
        prob = checkable(load_problem(template))
        trace = solve(prob)
        path = resolve_path(template)
        if path.resolve().parent == BUNDLED_DIR.resolve() and not Path(template).exists():
            ref = path.stem
        else:
            base = output.resolve().parent if output is not None else Path.cwd()
            ref = os.path.relpath(path.resolve(), base).replace(os.sep, "/")
        text = template_text(prob, ref, [s.samples for s in trace.steps], updates)
        emit(text, output)
    except ProblemError as err:
        fail(err)


# --------------------------------------------------------------------------- batch


def _batch(folder: Path, problem: Optional[str], options: "Options", fmt: CheckFormat,
           output: Optional[Path]) -> None:
    from .app import fail
    from ..errors import ProblemError
    from ..files.textio import write_atomic
    from ..marking.gradebook import mark_folder, summary_lines

    target = output if output is not None else Path(".")
    try:
        if problem is not None:
            from ..files.problem_file import load_problem
            load_problem(problem)          # a bad --problem is bad input, not 30 bad rows
        if target.exists() and not target.is_dir():
            raise ProblemError("is not a folder (with --batch, -o names the folder for the "
                               "gradebook)", file=str(target))
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProblemError(f"cannot create the folder: {exc.strerror or exc}",
                               file=str(target)) from None
        book = mark_folder(folder, problem, options)
        write_atomic(target / "gradebook.csv", book.to_csv())
        write_atomic(target / "gradebook.json", book.to_json())
    except ProblemError as err:
        fail(err)
    if fmt is CheckFormat.json:
        sys.stdout.write(book.to_json())
    else:
        sys.stdout.write(_batch_table(book) + "\n".join(summary_lines(book)) + "\n")
    sys.stderr.write(f"wrote {target / 'gradebook.csv'} and {target / 'gradebook.json'}\n")
    bad = any(r.result is None or not r.result.all_right for r in book.rows)
    raise typer.Exit(1 if bad else 0)


def _batch_table(book: "Gradebook", width: int = 120) -> str:
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None,
                      force_terminal=False, emoji=False)
    from rich import box

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    for name, justify in (("file", "left"), ("student", "left"), ("score", "right"),
                          ("%", "right"), ("mistakes", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for r in book.rows:
        if r.result is None:
            table.add_row(Text(r.file), Text(r.student), "", "", Text(f"error: {r.error}"))
            continue
        res = r.result
        causes = ", ".join(f"{c} ×{n}" for c, n in res.mistakes().items())
        table.add_row(Text(r.file), Text(r.student), f"{res.credited}/{res.total}",
                      f"{res.percent:.1f}", Text(causes))
    console.print(table)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
