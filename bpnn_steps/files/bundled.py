"""The bundled example problems, reachable by name from any folder.

Only the standard library is imported here: ``bpnn-steps list`` and the start-up
of every command read this module, and neither may pay for numpy.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "problems"


MAX_NAME = 255      # bytes in one file name on common file systems


def resolve_path(name: str | os.PathLike[str]) -> Path:
    """A problem file by path, or a bundled problem by name (``lecture_122``).

    A name that is neither (no suffix, no folder) is bad input, with the bundled
    problem it most resembles; so is a name no file system can hold.
    """
    from ..errors import ProblemError

    text = str(name)
    path = Path(name)
    too_long = [part for part in path.parts if len(os.fsencode(part)) > MAX_NAME]
    if too_long or "\x00" in text:
        what = (f"a name in it has {len(os.fsencode(too_long[0]))} bytes, more than a file "
                f"name may have ({MAX_NAME})") if too_long else "it holds a NUL character"
        raise ProblemError(f"is not a usable file or problem name: {what}",
                           file=_shown(text))
    try:
        if path.exists() or path.suffix or os.sep in text or "/" in text:
            return path
        bundled = BUNDLED_DIR / f"{name}.yaml"
        if bundled.exists():
            return bundled
    except OSError as exc:
        raise ProblemError(f"cannot be read: {exc.strerror or exc}", file=_shown(text)) from None
    raise ProblemError("no such file or bundled problem" + did_you_mean(text) +
                       " (bundled problems: run 'bpnn-steps list')", file=_shown(text))


def bundled_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def did_you_mean(name: str) -> str:
    """'; did you mean lecture_122?' for a name close to a bundled problem's, else ''."""
    import difflib

    close = difflib.get_close_matches(name, bundled_names(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _shown(text: str) -> str:
    from .untrusted import shown_key

    return shown_key(text, 80)


def shown_name(source: str | os.PathLike[str], path: Path) -> str:
    """How messages name a problem: as given, plus the file for a bundled name
    (``lecture_122 (lecture_122.yaml)``)."""
    return str(source) if Path(source) == path else f"{source} ({path.name})"


def shown_file(shown: str) -> Path:
    """The file (links followed) that a name of :func:`shown_name` stands for, so
    that two names of one problem compare equal: ``lecture_122 (lecture_122.yaml)``
    given by name, and the bundled file's path that an answer file's
    ``problem: lecture_122`` resolves to."""
    name, _, rest = shown.rpartition(" (")
    if name and rest == f"{name}.yaml)" and not Path(shown).exists():
        return (BUNDLED_DIR / rest[:-1]).resolve()
    return Path(os.path.realpath(shown))


def is_bundled(source: str | os.PathLike[str], path: Path) -> bool:
    """Whether ``source`` named a bundled problem (not a file of the same name here)."""
    return path.resolve().parent == BUNDLED_DIR.resolve() and not Path(source).exists()


def problem_reference(source: str | os.PathLike[str], path: Path,
                      sheet: Path | None) -> str:
    """How an answer sheet written to ``sheet`` (None: standard output) names its
    problem: a bundled problem by name, a file by its path relative to the sheet's
    folder (the current folder for standard output), with '/' on every system.

    The folder is the one the sheet really lands in (links followed), as ``check``
    reads it; a sheet name that cannot be resolved (a loop) is left to the writer
    to report.
    """
    if is_bundled(source, path):
        return path.stem
    base = sheet_folder(sheet)
    return os.path.relpath(os.path.realpath(path), base).replace(os.sep, "/")


def sheet_folder(sheet: Path | None) -> Path:
    """The folder an answer sheet written to ``sheet`` lands in (None: stdout, the
    current folder)."""
    if sheet is None or str(sheet) == "-":
        return Path.cwd()
    return Path(os.path.realpath(os.path.abspath(sheet))).parent


def bundled_problems() -> list[tuple[str, str]]:
    """(name, title) of every bundled problem, sorted by name."""
    out = []
    for path in sorted(BUNDLED_DIR.glob("*.yaml")):
        title = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("title:"):
                title = line.split(":", 1)[1].strip().strip("'\"")
                break
        out.append((path.stem, title))
    return out
