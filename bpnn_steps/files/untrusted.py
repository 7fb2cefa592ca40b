"""Input that other people wrote: problem files, answer files and their CSV data.

Three rules, each kept here once:

* :func:`clean_text` - text from a file (titles, names, keys, cells) loses
  terminal escapes, control characters and bidirectional overrides before any
  output sees it, so that a title cannot retitle the terminal, clear it or
  reorder what a marker reads.
* :func:`excerpt` - a message quotes at most a short, escaped piece of what it
  found, so that an error never carries a file's contents.
* :func:`read_inside` - a file reads other files only inside its own folder (or
  the folders the user allowed with ``--allow-read``): no absolute path, ``..``
  or symbolic link that leads out of it, regular files only, size-capped.

Only the standard library is imported: ``solve`` reads this module on start-up.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from ..model.value import Value

# ESC sequences whole (OSC and the other string commands up to BEL or ST, CSI with
# its parameters, two- and three-character escapes), C1 string commands, then any
# single control, DEL, C1 control or bidirectional embedding/override/isolate.
_ESCAPES = re.compile(
    r"\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x9b[0-?]*[ -/]*[@-~]?")
# Besides: a lone surrogate (a YAML "\\ud800", or a byte of a file name that is not
# UTF-8) can be written in no encoding, so every output ended in a
# UnicodeEncodeError: it becomes U+FFFD, the mark of a character that could not be
# read.  U+FEFF, U+FFFE and U+FFFF are no characters to show (XML refuses the last two).
_SURROGATES = re.compile("[\ud800-\udfff]")
_NOT_TEXT = "\ud800-\udfff\ufeff\ufffe\uffff"
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069\ufeff\ufffe\uffff]")
_BREAKS = re.compile("[\t\n\u2028\u2029\x85]")      # line and column breaks
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069" + _NOT_TEXT + "]")
_UNSAFE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                              "\u202a-\u202e\u2066-\u2069" + _NOT_TEXT + "]")

EXCERPT = 40          # characters a message quotes of what it found


def clean_text(text: str, *, lines: bool = False) -> str:
    """``text`` from an input file, safe for a terminal, a CSV cell or LaTeX.

    Escape sequences are removed whole (``ESC ] 0 ; title BEL``, ``ESC [ 2 J``),
    other control characters and bidirectional overrides are removed, and a lone
    surrogate (which no encoding can write) becomes U+FFFD.  Newlines
    and tabs become spaces (a name, a key, a cell), or stay with ``lines`` (a
    description).  Text without any of these is returned as it is.
    """
    if (_UNSAFE_IN_LINES if lines else _UNSAFE).search(text) is None:
        return text
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")
                                          .replace("\u2028", "\n").replace("\u2029", "\n")
                                          .replace("\x85", "\n")))
    return text if lines else _BREAKS.sub(" ", text)


def is_clean(text: str) -> bool:
    """Whether ``text`` needs no cleaning to be shown on one line."""
    # Every character removed is a control, format or line separator, a surrogate or
    # a noncharacter, none of which is printable: a printable text (most of them) is
    # known clean after one quick pass in C, without the regular expression's slower
    # one.
    return text.isprintable() or _UNSAFE.search(text) is None


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """What a message quotes of a found value: at most ``limit`` characters,
    escaped as Python writes a string (``'\\x1b[2J'``), with ``...`` when cut."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "..."


def shown_key(key: object, limit: int = EXCERPT) -> str:
    """A key of a file as a message names it: as written when it is short and clean
    (``data.genrate``), else as an excerpt."""
    text = key if isinstance(key, str) else str(key)
    if len(text) <= limit and is_clean(text):
        return text
    return excerpt(text, limit)


# --------------------------------------------------------------------------- reading files


MAX_DATA_BYTES = 20_000_000       # a data file (CSV), the same cap as a problem file
ALLOW_OPTION = "--allow-read"     # the command-line option that widens the box


class ReadAccess(Value):
    """Where an input file may read other files: inside its own folder and inside
    ``folders`` (``--allow-read``); ``anywhere`` for a program's own files (the
    library's default, which names its files itself)."""

    folders: tuple[Path, ...] = ()
    anywhere: bool = False

    @classmethod
    def allowing(cls, folders: tuple[Path, ...] | list[Path] | None) -> ReadAccess:
        """The command line's access: the file's own folder and each ``--allow-read``."""
        return cls(folders=tuple(Path(os.path.realpath(f)) for f in folders or ()))

    def allows(self, target: Path, home: Path) -> bool:
        """Whether the resolved path ``target`` may be read by a file in ``home``."""
        if self.anywhere:
            return True
        roots = (Path(os.path.realpath(home)), *self.folders)
        return any(target == root or target.is_relative_to(root) for root in roots)


CONFINED = ReadAccess()
ANYWHERE = ReadAccess(anywhere=True)


class Refused(Exception):
    """A file that an input file names may not or cannot be read; the message says
    why, in words that follow ``cannot read 'NAME': ``."""


class Missing(Refused):
    """The file does not exist (the caller says where it looked)."""


def outside_message(home_name: str) -> str:
    return (f"it is outside {home_name} (a data file must lie inside it; "
            f"{ALLOW_OPTION} DIR allows the files in DIR too)")


def read_inside(name: str, home: Path, access: ReadAccess, *, home_name: str,
                max_bytes: int = MAX_DATA_BYTES) -> tuple[Path, bytes]:
    """(the resolved path, the bytes) of the file ``name`` (relative to ``home``)
    that an input file names, or :class:`Refused`.

    The path is resolved (symbolic links followed) before it is judged, the file
    is opened without following a link and without waiting on a pipe, and what
    was opened is judged again: a regular file, at most ``max_bytes``, and (where
    the system tells) still inside the box.
    """
    if "\x00" in name:
        raise Refused("a file name cannot hold a NUL character")
    path = Path(name)       # an absolute path is judged like any other: where it leads
    try:
        target = Path(os.path.realpath(home / path, strict=True))
    except FileNotFoundError:
        raise Missing("no such file") from None
    except (OSError, RuntimeError, ValueError) as exc:     # a loop, a name too long
        raise Refused(_reason(exc)) from None
    if not access.allows(target, home):
        raise Refused(outside_message(home_name))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise Refused(_reason(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Refused("it is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise Refused("it is not a regular file (a device, a pipe or a socket)")
        if info.st_size > max_bytes:
            raise Refused(f"it is too large ({info.st_size} bytes; a data file may have at "
                          f"most {max_bytes // 1_000_000} MB)")
        opened = _opened_path(fd)
        if opened is not None and not access.allows(opened, home):
            raise Refused(outside_message(home_name))      # swapped after it was judged
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise Refused(_reason(exc)) from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise Refused(f"it is too large (more than {max_bytes // 1_000_000} MB)")
    return target, b"".join(chunks)


def _opened_path(fd: int) -> Path | None:
    """The path of an open file as the system knows it (Linux), else None."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return "the path cannot be resolved (a loop of symbolic links?)"


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula: one clean line, and a
    leading apostrophe before =, +, -, @ (or a tab or CR) unless it is a plain number
    such as -0.5, which a spreadsheet reads as the number it is."""
    raw = str(text)
    text = clean_text(raw)
    if _NUMBER.fullmatch(text):
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@") or raw[:1] in ("\t", "\r") else text
