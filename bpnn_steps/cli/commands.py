"""The command line: a thin layer over the Python API.

Each command reads its input, makes one call into the library and hands the
result to the renderer of the chosen format (:mod:`.formats`).  Errors become
messages and exit codes in one place (:mod:`.boundary`).  Only typer and the
standard library are imported at start-up: numpy, rich, sympy and matplotlib
are imported by the commands that need them, so ``--help``, ``list`` and ``new``
never load numpy and ``solve`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .._version import __version__
from ..errors import PROG
from .boundary import BoundedGroup, console_boundary
from .check import check
from .course import course
from .derive import derive
from .export import export
from .problems import list_problems, new
from .solve import solve
from .train import train
from .variants_command import variants

app = typer.Typer(
    name=PROG,
    cls=BoundedGroup,
    help="Back-propagation of small neural networks, step by step, laid out like a lecture's "
         "hand calculation.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"{PROG} {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Back-propagation of small neural networks, step by step."""


app.command()(solve)
app.command("list")(list_problems)
app.command()(new)
app.command()(derive)
app.command()(export)
app.command()(check)
app.command()(train)
app.command()(variants)
app.command()(course)


def main() -> None:
    """Console-script entry point."""
    with console_boundary():
        app()
