"""Atomic output files: a reader never sees a half-written file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProblemError

if TYPE_CHECKING:
    _SystemPath = Path
else:
    _SystemPath = type(Path())      # PosixPath or WindowsPath: Path itself cannot be
                                    # subclassed before Python 3.12


class GivenPath(_SystemPath):
    """A path from the command line that remembers how it was typed: pathlib drops
    a trailing '/', which says that a folder is meant (``-o newdir/`` wrote a FILE
    named newdir).  The paths made from it (its parent, ``path / name``) are
    ordinary paths again."""

    typed = ""


def given_path(value: str | os.PathLike[str], option: str, expected: str) -> Path:
    """A path as the command line gave it to ``option``.  An empty one is refused:
    pathlib reads '' as '.', so ``-o ''`` wrote into the current folder and
    ``--allow-read ''`` allowed it."""
    text = os.fspath(value)
    if not text:
        raise ProblemError(empty_path(option, expected))
    path = GivenPath(text)
    path.typed = text
    return path


def empty_path(option: str, expected: str) -> str:
    return f"an empty path for {option}; expected {expected}"


def as_typed(path: str | os.PathLike[str]) -> str:
    """A path as the user typed it (with its trailing '/'), for messages."""
    return getattr(path, "typed", "") or os.fspath(path)


def names_a_folder(path: str | os.PathLike[str]) -> bool:
    """Whether the path was typed with a trailing separator (``newdir/``)."""
    return as_typed(path).endswith(("/", os.sep))


def read_text(path: Path, display: str, kind: str, max_bytes: int) -> str:
    """A UTF-8 input file (problem or answer file), size-capped, errors as ProblemError.

    ``kind`` names the file in messages ("problem file", "answer file").
    """
    try:
        if path.is_dir():
            raise ProblemError(f"is a folder, not {_article(kind)} {kind}", file=display)
        # O_NONBLOCK: opening a pipe with no writer would wait for ever; what was
        # opened is then checked, so a pipe or a device is refused, never read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ProblemError(f"is not a regular file (a device, a pipe or a socket), "
                                   f"so it cannot be {_article(kind)} {kind}", file=display)
            if info.st_size > max_bytes:
                raise ProblemError(f"is too large for {_article(kind)} {kind} "
                                   f"({info.st_size} bytes, at most {max_bytes})",
                                   file=display)
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ProblemError("no such file", file=display) from None
    except OSError as exc:
        raise ProblemError(f"cannot be read: {exc.strerror or exc}", file=display) from None
    if len(raw) > max_bytes:   # grew while being read, or a device
        raise ProblemError(f"is too large for {_article(kind)} {kind} (more than {max_bytes} "
                           "bytes)", file=display)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(f"is not UTF-8 text (byte {exc.start})", file=display) from None


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work is done, an output path that cannot be written.

    The one folder policy of every command: an output file's folder must exist
    (nothing creates missing folders silently); the path must not be a folder
    (nor name one, with a trailing '/'), a symbolic-link loop or a name the
    system cannot hold.
    """
    shown = as_typed(path)
    if not shown:
        raise ProblemError("cannot write: the output file name is empty", file="''")
    if names_a_folder(path) and not os.path.isdir(shown):
        bare = shown.rstrip("/" + os.sep)
        if os.path.lexists(bare):
            raise ProblemError(f"cannot write: {bare!r} is a file, not a folder (a name "
                               "ending in '/' names a folder)", file=shown)
        raise ProblemError(f"cannot write: folder {shown!r} does not exist (a name ending "
                           "in '/' names a folder, not a file)", file=shown)
    try:
        target = Path(os.path.realpath(path))
        if target.is_dir():
            raise ProblemError("cannot write: it is a folder", file=shown)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return                # a device or a pipe (/dev/null, /dev/stdout)
        except FileNotFoundError:
            pass                      # a new file (or a link to one): its folder must exist
        folder = target.parent
        if not folder.is_dir():
            raise ProblemError(f"cannot write: folder {str(Path(path).parent)!r} does not "
                               "exist (create it first)", file=shown)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ProblemError(f"cannot write: permission denied (folder "
                               f"{str(Path(path).parent)!r})", file=shown)
    except OSError as exc:           # too long a name, a symbolic-link loop, ...
        raise ProblemError(f"cannot write: {exc.strerror or exc}", file=shown) from None
    except ValueError as exc:        # a NUL character in the name
        raise ProblemError(f"cannot write: {exc}", file=shown) from None


def make_output_folder(path: str | os.PathLike[str]) -> None:
    """Create a command's own output folder (``check --batch -o DIR``) if it is not
    there yet; its parent must exist, as for every output file."""
    shown = str(path)
    folder = Path(path)
    try:
        if folder.is_dir():
            return
        if folder.exists() or folder.is_symlink():
            raise ProblemError("is not a folder", file=shown)
        parent = folder.parent
        if not parent.is_dir():
            raise ProblemError(f"cannot create the folder: folder {str(parent)!r} does not "
                               "exist (create it first)", file=shown)
        folder.mkdir()
    except OSError as exc:
        raise ProblemError(f"cannot create the folder: {exc.strerror or exc}",
                           file=shown) from None
    except ValueError as exc:
        raise ProblemError(f"cannot create the folder: {exc}", file=shown) from None


class _Staged:
    """One output written to a temporary file beside its target, not yet in place."""

    def __init__(self, path: str | os.PathLike[str], payload: bytes) -> None:
        check_writable(path)
        self.shown = as_typed(path)
        self.target = Path(os.path.realpath(path))
        self.tmp: str | None = None
        try:
            if self.target.exists() and not self.target.is_file():
                # a device or a pipe: written directly (renaming over it would
                # replace the device), when the run's outputs are committed
                self.payload: bytes | None = payload
                return
            self.payload = None
            mode = (stat.S_IMODE(self.target.stat().st_mode) if self.target.exists()
                    else 0o666 & ~_umask())
            import tempfile     # on use: printing to the terminal never needs it (start-up)

            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name[:200]}.",
                                            suffix=".tmp", dir=self.target.parent)
        except OSError as exc:
            raise ProblemError(f"cannot write: {exc.strerror or exc}", file=self.shown) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            # mkstemp makes the file private (0600): give it the target's permissions.
            os.chmod(self.tmp, mode)
        except OSError as exc:
            self.discard()
            raise ProblemError(f"cannot write: {exc.strerror or exc}", file=self.shown) from None

    def commit(self) -> None:
        try:
            if self.payload is not None:
                with self.target.open("wb") as handle:
                    handle.write(self.payload)
            elif self.tmp is not None:
                os.replace(self.tmp, self.target)
                self.tmp = None
        except OSError as exc:
            self.discard()
            raise ProblemError(f"cannot write: {exc.strerror or exc}", file=self.shown) from None

    def discard(self) -> None:
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


def _payload(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` so that a reader never sees half a file.

    A regular file (or a new one) is written to a temporary file in the same
    folder and renamed over the target, keeping an existing file's permissions,
    so a failed write (a full disk) leaves an existing file as it was.
    A symbolic link is followed (the file it points to is replaced, the link
    stays).  Anything else that is not a regular file (/dev/null, a pipe) is
    written directly: renaming over it would replace the device.
    """
    _Staged(path, _payload(data)).commit()


class OutputGroup:
    """The files of one run, written together (``with OutputGroup() as out:
    out.write(path, data)``): each is staged beside its target as it is made, and
    all are renamed into place only when the block ends without an error; an
    error leaves every existing file as it was (a course's Moodle file replaced
    and its PDFs not, or gradebook.csv without its gradebook.json, were out of
    step).  ``write`` may be called from several threads."""

    def __init__(self) -> None:
        import threading

        self._staged: list[_Staged] = []
        self._lock = threading.Lock()

    def write(self, path: str | os.PathLike[str], data: str | bytes) -> None:
        staged = _Staged(path, _payload(data))
        with self._lock:
            self._staged.append(staged)

    def __enter__(self) -> "OutputGroup":
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is not None:
            for staged in self._staged:
                staged.discard()
            return
        for k, staged in enumerate(self._staged):
            try:
                staged.commit()
            except ProblemError:
                for rest in self._staged[k + 1:]:
                    rest.discard()
                raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
