"""The command line, a thin layer over the Python API."""

from __future__ import annotations

import importlib
import io
import os
import sys
from types import ModuleType
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point.  The command line's modules (typer, rich, numpy)
    load here, so that a Ctrl-C while they load ends the command as one during it
    does: a note and exit code 130, never a traceback."""
    _stand_in_for_closed_streams()
    try:
        module = _load()
    except KeyboardInterrupt:
        from ..errors import PROG, ExitCode

        sys.stderr.write(f"{PROG}: interrupted\n")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    module.main()


def _stand_in_for_closed_streams() -> None:
    """A shell's ``>&-`` or ``2>&-`` starts the process without that stream, and
    Python's ``sys.stdout``/``sys.stderr`` is then None: every write was an
    AttributeError (a traceback, exit 1, even for ``-o FILE`` runs and bad input).

    Each closed descriptor gets /dev/null, so that no file the run opens (an
    output's temporary file, pdflatex's output) takes its number.  A closed
    standard error takes the messages and loses them; a closed standard output
    refuses to be written, so that a report meant for it fails as on a full disk:
    one message, exit code 2 (writing to /dev/null would claim success)."""
    for fd, name, mode in ((1, "stdout", os.O_RDONLY), (2, "stderr", os.O_WRONLY)):
        if getattr(sys, name) is not None:
            continue
        try:
            null = os.open(os.devnull, mode)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            # stdout: a write-only stream on a read-only descriptor, so a write
            # fails with EBADF, as it would on the closed one.
            stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace")
        except OSError:
            continue
        setattr(sys, name, stream)


def _load() -> ModuleType:
    return importlib.import_module(".commands", __name__)


def __getattr__(name: str) -> Any:
    if name == "app":
        return _load().app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
