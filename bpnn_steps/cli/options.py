"""The options that several commands share, declared once: their flags, ranges
and checks live here; a command gives only its default and, where its meaning
differs, its help text."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..errors import ProblemError

if TYPE_CHECKING:
    from ..files.untrusted import ReadAccess

MAX_DECIMALS = 15      # a double has 15-17 significant digits


class Format(StrEnum):
    """An output format (``--format``); each command accepts some of them."""

    text = "text"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    html = "html"


def path_parser(name: str, expected: str = "a file name"
                ) -> Callable[[str | os.PathLike[str]], Path]:
    """How every path option and argument (``name``: ``-o``, ``PATH``) is read: as
    typed (a trailing '/' names a folder), and never empty."""
    def path(value: str | os.PathLike[str]) -> Path:      # its name is the metavar
        from ..files.textio import given_path

        return given_path(value, name, expected)

    return path


def name_parser(name: str, expected: str = "a problem file or a bundled problem's name"
                ) -> Callable[[str], str]:
    """How an option or argument that names a file or a bundled problem is read:
    never empty (as a path, '' is '.', the current folder: 'is a folder')."""
    def text(value: str) -> str:
        if not value:
            from ..files.textio import empty_path

            raise ProblemError(empty_path(name, expected))
        return value

    text.__name__ = "str"                                 # the metavar, as before
    return text


def problem_argument(help: str = "Problem file, or the name of a bundled problem (see "
                                 "'bpnn-steps list').") -> Any:
    return typer.Argument(help=help, parser=name_parser("PROBLEM"))


def decimals_option(help: str = "Decimals shown (exact values are written short, as "
                                "given).") -> Any:
    return typer.Option("--decimals", "-d", min=0, max=MAX_DECIMALS, help=help)


def format_option(choices: Iterable[Format], help: str) -> Any:
    """``--format/-f``, accepting only ``choices`` (the formats a command renders)."""
    names = [Format(c).value for c in choices]

    def parse(value: str) -> Format:
        if str(value) not in names:
            raise typer.BadParameter(f"{str(value)!r} is not one of "
                                     f"{', '.join(repr(n) for n in names)}.")
        return Format(value)

    return typer.Option("--format", "-f", parser=parse, metavar=f"<{'|'.join(names)}>",
                        help=help)


def output_option(help: str = "Write to this file (atomically) instead of standard "
                              "output.", expected: str = "a file name") -> Any:
    return typer.Option("--output", "-o", parser=path_parser("-o", expected), help=help)


def show_option() -> Any:
    return typer.Option("--show", "-s",
                        help="Updates shown in full: auto (all if at most 4, else first and "
                             "last), all, none, or a list of first, last, every:K, numbers "
                             "and ranges (e.g. 'first,every:10,last' or '1-3'). The others "
                             "get a one-line summary per epoch.")


def samples_option() -> Any:
    return typer.Option("--samples",
                        help="Samples of each update shown in full: auto (all if at most 25, "
                             "else the first 3), all, or a number N (the first N). The cost "
                             "and the mean gradient always use every sample.")


def samples_spec(samples: str) -> str:
    """``--samples`` checked (a bad one is bad input naming the option)."""
    from ..present.report import select_samples

    try:
        select_samples((), samples)
    except ValueError as err:
        raise ProblemError(f"--samples {samples!r}: {err}; expected auto, all or a whole "
                           "number such as 3") from None
    return samples


def round_as_you_go_option(help: str) -> Any:
    return typer.Option("--round-as-you-go", min=0, max=MAX_DECIMALS, metavar="D", help=help)


def allow_read_option() -> Any:
    """``--allow-read DIR``: the one way to let input files read outside their folder."""
    return typer.Option("--allow-read", metavar="DIR", parser=path_parser("--allow-read", "a folder name"),
                        help="Also let input files read files inside DIR (CSV data; for "
                             "check, the problem an answer file names). By default a file "
                             "reads only inside its own folder. Repeat for more folders.")


def read_access(folders: list[Path] | None) -> ReadAccess:
    """Where input files may read: their own folder and each ``--allow-read`` folder."""
    from ..files.untrusted import ReadAccess

    for folder in folders or ():
        if not folder.is_dir():
            found = "is a file, not a folder" if folder.exists() else "no such folder"
            raise ProblemError(f"--allow-read {folder}: {found}")
    return ReadAccess.allowing(folders)


def epochs_option() -> Any:
    return typer.Option("--epochs", "-e", min=1, max=1_000_000_000,
                        help="Override the file's training.epochs.")


@contextmanager
def show_spec(show: str) -> Iterator[None]:
    """Around the call that checks ``--show`` against a run (``select_steps``): its
    ValueError becomes bad input naming the option."""
    try:
        yield
    except ValueError as err:
        raise ProblemError(f"--show {show!r}: {err}; expected auto, all, none, or a list of "
                           "first, last, every:K, numbers and ranges such as 1-3") from None


def shown_updates(show: str) -> Callable[[int], int]:
    """``--show`` as the number of updates it puts in full in a run of so many
    updates (a bad ``--show`` is bad input naming the option)."""
    def count(updates: int) -> int:
        from ..present.report import select_steps

        with show_spec(show):
            return len(select_steps(updates, show))

    return count
