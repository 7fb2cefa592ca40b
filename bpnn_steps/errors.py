"""The one exception type for bad input, carrying file, line and key path, and the
exit codes of the command line."""

from __future__ import annotations

from enum import IntEnum

PROG = "bpnn-steps"         # the command's name, in every message it writes


class ExitCode(IntEnum):
    """What ``bpnn-steps`` exits with (CONTRACT section 4)."""

    OK = 0
    WRONG_ANSWERS = 1      # check: at least one answer is not right
    BAD_INPUT = 2          # a bad file or a bad command line (ProblemError, usage errors)
    INTERRUPTED = 130      # Ctrl-C: 128 + SIGINT, as shells report it
    READER_GONE = 141      # the pipe's reader stopped reading (| head): 128 + SIGPIPE


class ProblemError(Exception):
    """Bad input: the CLI prints ``str(err)`` on stderr and exits with code 2.

    The message reads ``FILE:LINE: KEY what was expected, got what was found``.
    A wrong command line (a bad option value) is bad input too: its message names
    the option instead of a file.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        key = f"{self.key} " if self.key else ""
        return f"{where}{key}{self.message}"


class ProblemNote(UserWarning):
    """Something in a file that is accepted but has no effect (a key that does not
    apply): a warning for the Python API, a ``note:`` line on stderr for the CLI."""
