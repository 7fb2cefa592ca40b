"""The command line's one error boundary: the project's errors become a message on
standard error and an exit code here, and nowhere else.

The boundary sits in the command group's ``invoke``, so the console script and
typer's in-process ``CliRunner`` (the tests) go through the same code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from ..errors import ExitCode, ProblemError

PROG = "bpnn-steps"


def exit_with(code: ExitCode) -> NoReturn:
    """End the command with ``code`` (after its output is written)."""
    raise typer.Exit(int(code))


@contextmanager
def error_boundary() -> Iterator[None]:
    """Bad input (a ProblemError, from a file or the command line) -> one line on
    stderr and exit code 2; Ctrl-C -> a note and exit code 130."""
    try:
        yield
    except ProblemError as err:
        from ..files.untrusted import clean_text    # the last guard: files quoted in messages

        sys.stderr.write(f"{PROG}: error: {clean_text(str(err), lines=True)}\n")
        exit_with(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        exit_with(ExitCode.INTERRUPTED)


class BoundedGroup(TyperGroup):
    """The command group, with every command run inside :func:`error_boundary`."""

    # ``ctx`` is a click Context; typer vendors click in some versions, so its type
    # is not importable under one public name.
    def invoke(self, ctx: Any) -> Any:
        with error_boundary():
            return super().invoke(ctx)
