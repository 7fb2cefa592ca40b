"""The command line: a thin layer over the Python API.

Each command loads its input, makes one call into the library and renders the
result.  Heavy libraries (sympy, matplotlib) are imported only inside the
commands that need them, so ``solve`` starts fast.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .._version import __version__
from ..errors import ProblemError

app = typer.Typer(
    name="bpnn-steps",
    help="Back-propagation of small neural networks, step by step, laid out like a lecture's "
         "hand calculation.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class TextFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    latex = "latex"


def fail(err: ProblemError | str) -> None:
    """Print one line on stderr and exit with code 2 (bad input)."""
    sys.stderr.write(f"bpnn-steps: error: {err}\n")
    raise typer.Exit(2)


def emit(text: str, output: Optional[Path]) -> None:
    """Write to the output file atomically, or to stdout."""
    text = text if text.endswith("\n") else text + "\n"
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    from ..files.textio import write_atomic
    write_atomic(output, text)
    sys.stderr.write(f"wrote {output}\n")


def console(width: Optional[int] = None):
    from rich.console import Console
    env_width = os.environ.get("COLUMNS")
    if width is None and not sys.stdout.isatty() and not env_width:
        width = 120   # piped output: wide enough that rows of equations do not wrap
    return Console(width=width, highlight=False)


def version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"bpnn-steps {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Back-propagation of small neural networks, step by step."""


DecimalsOpt = typer.Option(3, "--decimals", "-d", min=0, max=15,
                           help="Decimals shown (exact values are written short, as given).")


@app.command()
def solve(
    problem: str = typer.Argument(..., help="Problem file, or the name of a bundled problem "
                                            "(see 'bpnn-steps list')."),
    decimals: int = DecimalsOpt,
    show: str = typer.Option("auto", "--show", "-s",
                             help="Updates shown in full: auto (all if at most 4, else first and "
                                  "last), all, none, or a list of first, last, every:K, numbers "
                                  "and ranges (e.g. 'first,every:10,last' or '1-3'). The others "
                                  "get a one-line summary per epoch."),
    fmt: TextFormat = typer.Option(TextFormat.text, "--format", "-f",
                                   help="text (tables), json (the full trace, double "
                                        "precision), markdown ($$ maths), latex."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", min=1,
                                         help="Override the file's training.epochs."),
    round_as_you_go: Optional[int] = typer.Option(
        None, "--round-as-you-go", min=0, max=15, metavar="D",
        help="Round every intermediate value to D decimals, as a hand calculation does."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write to this file (atomically) instead of "
                                               "standard output."),
    exact: bool = typer.Option(False, "--exact",
                               help="Also calculate with exact fractions (sympy): inputs are "
                                    "read as the decimals they are written as (0.1 = 1/10) "
                                    "and exact values are shown beside the decimals."),
) -> None:
    """Solve a problem and show every step: feed-forward, back-propagation, update."""
    from ..files.problem_file import load_problem
    from ..maths.engine import solve as run
    from ..present.report import select_steps
    from ..render.registry import renderer

    try:
        prob = load_problem(problem)
        if epochs is not None:
            prob = prob.with_training(epochs=epochs)
        trace = run(prob, round_as_you_go=round_as_you_go)
        select_steps(len(trace.steps), show)
    except ProblemError as err:
        fail(err)
    except ValueError as err:
        fail(f"--show {show!r}: {err}; expected auto, all, none, or a list of first, "
             "last, every:K, numbers and ranges such as 1-3")
    out = renderer(fmt.value)
    if exact:
        from ..present.exact_values import exact_document
        document = exact_document(prob, trace, show=show, statement=out.standalone)
    else:
        from ..present.sheet import worked_solution
        document = worked_solution(trace, show=show, statement=out.standalone)
    show_document(document, out, decimals, output)


def show_document(document, out, decimals: int, output: Optional[Path]) -> None:
    """Write a document in a format: to a file or pipe as text, to a terminal with
    colour (text format)."""
    if out.name == "text" and output is None and sys.stdout.isatty():
        out.show(document, console(), decimals)
        return
    emit(out.render(document, decimals), output)


@app.command("list")
def list_problems() -> None:
    """List the bundled example problems (usable by name from any folder)."""
    from rich.table import Table

    from ..files.problem_file import bundled_problems

    table = Table("name", "title", show_edge=False, header_style="bold")
    for name, title in bundled_problems():
        table.add_row(name, title)
    console().print(table)


@app.command()
def new(
    path: Path = typer.Argument(Path("problem.yaml"), help="File to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented template problem file to start from."""
    from ..files.textio import write_atomic
    from ..files.problem_template import TEMPLATE

    if path.exists() and not force:
        fail(ProblemError("already exists; use --force to overwrite it", file=str(path)))
    try:
        write_atomic(path, TEMPLATE.format(name=path))
    except ProblemError as err:
        fail(err)
    sys.stderr.write(f"wrote {path}; solve it with: bpnn-steps solve {path}\n")


def _register_optional_commands() -> None:
    # Commands of later features live in their own modules; each registers itself.
    import importlib

    for name in ("derive", "export", "check", "train"):
        try:
            module = importlib.import_module(f".{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"cli.{name}"):
                continue
            raise
        module.register(app)


_register_optional_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ProblemError as err:       # a command that let one through
        sys.stderr.write(f"bpnn-steps: error: {err}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("bpnn-steps: interrupted\n")
        sys.exit(130)
