"""The command line's one error boundary: the project's errors become a message on
standard error and an exit code here, and nowhere else.

The boundary sits in the command group's ``invoke``, so the console script and
typer's in-process ``CliRunner`` (the tests) go through the same code.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from ..errors import PROG, ExitCode, ProblemError, ProblemNote
from .output import write_text


def exit_with(code: ExitCode) -> NoReturn:
    """End the command with ``code`` (after its output is written)."""
    raise typer.Exit(int(code))


@contextmanager
def error_boundary() -> Iterator[None]:
    """Bad input (a ProblemError, from a file or the command line) -> one line on
    stderr and exit code 2; Ctrl-C -> a note and exit code 130.

    Standard output is flushed inside the boundary, so that a full disk or a
    closed pipe is reported here too; an operating-system error anywhere else (a
    file that vanished, a device that failed) and running out of memory get one
    line as well: never a traceback.
    """
    from .output import flush_stdout

    try:
        try:
            with _notes_on_stderr():
                yield
        except typer.Exit:
            flush_stdout()
            raise
        flush_stdout()
    except ProblemError as err:
        _fail(str(err))
    except BrokenPipeError:
        # The reader closed the pipe on purpose (| head): quiet, as cat and git are,
        # with the exit code a shell gives a process ended by SIGPIPE.
        exit_with(ExitCode.READER_GONE)
    except OSError as exc:
        _fail(_os_error_message(exc))
    except MemoryError:
        _fail("out of memory; the problem is too large for this machine (for big runs use "
              "'bpnn-steps train')")
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        exit_with(ExitCode.INTERRUPTED)


@contextmanager
def _notes_on_stderr() -> Iterator[None]:
    """A ProblemNote (an input key that has no effect) -> one ``note:`` line on
    stderr, once however often the file is read (check --batch reads a problem per
    answer file); every other warning is shown as Python shows it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always", ProblemNote)
        shown = warnings.showwarning
        noted: set[str] = set()

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
            if issubclass(category, ProblemNote):
                if str(message) not in noted:
                    noted.add(str(message))
                    write_text(sys.stderr, f"{PROG}: note: {message}\n")
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _say_error(message: str) -> None:
    from ..files.untrusted import clean_text    # the last guard: files quoted in messages

    write_text(sys.stderr, f"{PROG}: error: {clean_text(message, lines=True)}\n")


def _fail(message: str) -> NoReturn:
    _say_error(message)
    exit_with(ExitCode.BAD_INPUT)


def _os_error_message(exc: OSError) -> str:
    """An OSError that no command turned into a ProblemError: standard output's, if
    it is the one failing (rich writes to it directly), else the file's."""
    from .output import flush_stdout, stdout_failed

    try:
        flush_stdout()
    except ProblemError as err:
        return str(err)
    except BrokenPipeError:
        exit_with(ExitCode.READER_GONE)
    if exc.filename is None and exc.errno in _WRITE_ERRORS:
        # rich or click wrote to standard output and it failed, and the failed
        # text was dropped, so the flush above found nothing left to fail on.
        return str(stdout_failed(exc))
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


# EBADF: a closed standard output (cli._stand_in_for_closed_streams)
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EBADF,
                           getattr(errno, "EDQUOT", errno.ENOSPC)})


@contextmanager
def console_boundary() -> Iterator[None]:
    """Around the whole console script: what click writes itself (--help,
    --version, usage errors) outside a command's boundary, and the flush of
    standard output before the interpreter exits."""
    from .output import flush_stdout

    try:
        try:
            yield
        except SystemExit:
            flush_stdout()
            raise
        flush_stdout()
    except ProblemError as err:
        _say_error(str(err))
        raise SystemExit(int(ExitCode.BAD_INPUT)) from None
    except BrokenPipeError:
        raise SystemExit(int(ExitCode.READER_GONE)) from None
    except OSError as exc:
        _say_error(_os_error_message(exc))
        raise SystemExit(int(ExitCode.BAD_INPUT)) from None


class BoundedGroup(TyperGroup):
    """The command group, with every command run inside :func:`error_boundary`."""

    # ``ctx`` is a click Context; typer vendors click in some versions, so its type
    # is not importable under one public name.
    def invoke(self, ctx: Any) -> Any:
        with error_boundary():
            return super().invoke(ctx)
