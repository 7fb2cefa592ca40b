"""The command line, a thin layer over the Python API."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point.  The command line's modules (typer, rich, numpy)
    load here, so that a Ctrl-C while they load ends the command as one during it
    does: a note and exit code 130, never a traceback."""
    try:
        module = _load()
    except KeyboardInterrupt:
        from ..errors import PROG, ExitCode

        sys.stderr.write(f"{PROG}: interrupted\n")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    module.main()


def _load() -> ModuleType:
    return importlib.import_module(".commands", __name__)


def __getattr__(name: str) -> Any:
    if name == "app":
        return _load().app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
