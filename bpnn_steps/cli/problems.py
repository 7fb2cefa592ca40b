"""``bpnn-steps list`` and ``bpnn-steps new``: the bundled problems, and a template
to write one's own.  Neither imports numpy."""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ProblemError
from .options import path_parser
from .output import check_outputs, console, say


def list_problems() -> None:
    """List the bundled example problems (usable by name from any folder)."""
    from rich.table import Table

    from ..files.bundled import bundled_problems

    table = Table("name", "title", show_edge=False, header_style="bold")
    for name, title in bundled_problems():
        table.add_row(name, title)
    console().print(table)


def new(
    path: Annotated[Path, typer.Argument(parser=path_parser("PATH"),
                                         help="File to write.")] = Path("problem.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented template problem file to start from."""
    from ..files.problem_template import TEMPLATE
    from ..files.textio import write_atomic

    check_outputs({"PATH": path})      # a folder, a missing one, or newdir/: not '--force'
    if path.exists() and not force:
        raise ProblemError("already exists; use --force to overwrite it", file=str(path))
    write_atomic(path, TEMPLATE.format(name=path))
    say(f"wrote {path}; solve it with: bpnn-steps solve {path}")
