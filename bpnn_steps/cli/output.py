"""Where a command's result goes: a file (written atomically), standard output as
plain text, or a terminal with rich's layout."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO, Union

if TYPE_CHECKING:
    from rich.console import Console

PIPE_WIDTH = 120     # piped output: wide enough that rows of equations do not wrap


def to_stdout(output: Path | None) -> bool:
    """Whether ``-o`` names standard output (left out, or '-')."""
    return output is None or str(output) == "-"


def check_outputs(outputs: Mapping[str, Path | None],
                  inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Refuse, before any work, a run's output files (``outputs``: option -> path;
    None and '-' are standard output) that cannot be written (check_writable), that
    would overwrite one of its ``inputs`` (problem and answer files, a bundled
    problem by name), or that two options name.  Compared as the files they are,
    so ``./L.yaml``, a link to it and a hard link are L.yaml.  The one check of
    every command's output paths."""
    from ..errors import ProblemError
    from ..files.textio import as_typed, check_writable

    read = [(source, key) for source in inputs if source is not None
            for key in [_input_key(source)] if key is not None]
    written: dict[tuple[object, ...], str] = {}
    for option, path in outputs.items():
        if path is None or to_stdout(path):
            continue
        check_writable(path)
        key = _output_key(path)
        if key is None:
            continue            # a device (/dev/null): writing it twice destroys nothing
        for source, input_key in read:
            if input_key == key:
                also = "" if as_typed(source) == as_typed(path) else f" {as_typed(source)}"
                raise ProblemError(f"{option} would overwrite the input file{also}",
                                   file=as_typed(path))
        if key in written:
            raise ProblemError(f"{written[key]} and {option} name the same file",
                               file=as_typed(path))
        written[key] = option


def _input_key(source: str | os.PathLike[str]) -> tuple[object, ...] | None:
    """An input file's identity (device and inode), None when there is no such file
    (its own command reports that)."""
    from ..errors import ProblemError
    from ..files.bundled import resolve_path

    try:
        info = os.stat(resolve_path(source))
    except (ProblemError, OSError, ValueError):
        return None
    return ("file", info.st_dev, info.st_ino)


def _output_key(path: Path) -> tuple[object, ...] | None:
    """An output file's identity: an existing file's device and inode, a new one's
    real path; None for a device or a pipe."""
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ("new", os.path.realpath(path))
    except (OSError, ValueError):
        return None             # check_writable let it pass: written as it is
    if not stat.S_ISREG(info.st_mode):
        return None
    return ("file", info.st_dev, info.st_ino)


def say(message: str) -> None:
    """A status line on stderr ("wrote FILE"): the names in it are file names a user
    or a student chose, so nothing in them reaches the terminal as an escape."""
    from ..files.untrusted import clean_text

    write_text(sys.stderr, clean_text(message, lines=True) + "\n")


def write_text(stream: TextIO, text: str) -> None:
    """Write ``text`` to a standard stream whatever its encoding: what the encoding
    cannot hold (an ASCII or C-locale terminal has no w₁ or ∂) is written as
    Python writes it on standard error (``\\u2202``), not a UnicodeEncodeError
    after half the output.  The one writer of every report and message."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        # A text stream encodes the whole text before it writes any of it, so
        # nothing was written yet.
        encoding = _encoding(stream)
        stream.write(_encoded(text, encoding).decode(encoding))


def _encoding(stream: TextIO) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def _encoded(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding``, what it cannot hold escaped (``\\u2202``)."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace")


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to the output file atomically (and say so on stderr), or to
    stdout; it ends with exactly the newline it has, or one added."""
    text = text if text.endswith("\n") else text + "\n"
    if output is None or str(output) == "-":
        write_stdout(text)
        return
    from ..files.textio import write_atomic
    write_atomic(output, text)
    say(f"wrote {output}")


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output now; a full disk or a closed pipe is bad
    output, reported by :func:`flush_stdout`'s message."""
    try:
        if not _write_all(text):
            write_text(sys.stdout, text)
    except OSError as exc:
        raise stdout_failed(exc) from None
    flush_stdout()


def _write_all(text: str) -> bool:
    """Write ``text`` to standard output's descriptor until all of it is written;
    False when standard output has none (a test harness's buffer).  A pipe whose
    reader stops (``| head``) takes part of a large write, and Python's buffered
    writer then dropped the rest and exited 0; here the next write meets the
    closed pipe (exit 141, as the shell's own tools)."""
    stream = sys.stdout
    if os.linesep != "\n":         # the text stream would translate line ends
        return False
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    data = _encoded(text, _encoding(stream))
    stream.flush()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return True


def flush_stdout() -> None:
    """Push what standard output holds; if it cannot take it (/dev/full, a closed
    pipe), raise the ProblemError that says so and drop what is left, so that
    Python's own flush at exit does not fail a second time with a traceback."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise stdout_failed(exc) from None
    except ValueError:          # closed by a test harness: nothing is pending
        pass


def stdout_failed(exc: OSError) -> Exception:
    """The error for output that standard output refused, after silencing it."""
    from ..errors import ProblemError

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass                    # not a real file (a test harness's buffer)
    if isinstance(exc, BrokenPipeError):
        return exc              # | head has all it wants: no message (see error_boundary)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ProblemError(f"cannot write to standard output: {reason}")


def console(width: int | None = None) -> Console:
    """The rich console on stdout."""
    from rich.console import Console

    if width is None and not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = PIPE_WIDTH
    return Console(width=width, highlight=False)


class TerminalView(NamedTuple):
    """Output with two forms: rich layout for a terminal, plain text for the rest.

    (A NamedTuple, not a frozen dataclass: this module is imported on every start.)
    """

    plain: Callable[[], str]
    show: Callable[[Console], None]


# What a renderer hands back: text, or a view that knows its terminal form.
Rendered = Union[str, TerminalView]


def deliver(rendered: Rendered, output: Path | None) -> None:
    """Show a terminal view on a terminal; write everything else as text."""
    if isinstance(rendered, TerminalView):
        if output is None and sys.stdout.isatty():
            rendered.show(console())
            return
        rendered = rendered.plain()
    emit(rendered, output)
