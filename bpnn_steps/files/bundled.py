"""The bundled example problems, reachable by name from any folder.

Only the standard library is imported here: ``bpnn-steps list`` and the start-up
of every command read this module, and neither may pay for numpy.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "problems"


def resolve_path(name: str | os.PathLike[str]) -> Path:
    """A problem file by path, or a bundled problem by name (``lecture_122``)."""
    path = Path(name)
    if path.exists() or path.suffix or os.sep in str(name):
        return path
    bundled = BUNDLED_DIR / f"{name}.yaml"
    return bundled if bundled.exists() else path


def shown_name(source: str | os.PathLike[str], path: Path) -> str:
    """How messages name a problem: as given, plus the file for a bundled name
    (``lecture_122 (lecture_122.yaml)``)."""
    return str(source) if Path(source) == path else f"{source} ({path.name})"


def is_bundled(source: str | os.PathLike[str], path: Path) -> bool:
    """Whether ``source`` named a bundled problem (not a file of the same name here)."""
    return path.resolve().parent == BUNDLED_DIR.resolve() and not Path(source).exists()


def problem_reference(source: str | os.PathLike[str], path: Path,
                      sheet: Path | None) -> str:
    """How an answer sheet written to ``sheet`` (None: standard output) names its
    problem: a bundled problem by name, a file by its path relative to the sheet's
    folder (the current folder for standard output), with '/' on every system."""
    if is_bundled(source, path):
        return path.stem
    base = sheet.resolve().parent if sheet is not None else Path.cwd()
    return os.path.relpath(path.resolve(), base).replace(os.sep, "/")


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
