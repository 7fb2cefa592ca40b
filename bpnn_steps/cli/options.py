"""The options that several commands share, declared once: their flags, ranges
and checks live here; a command gives only its default and, where its meaning
differs, its help text."""

from __future__ import annotations

import os
import math
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


def number_option(*names: str, positive: bool = False, help: str) -> Any:
    """A float option that must be a finite number >= 0 (> 0 with ``positive``).

    Checked as the command line is read, from the text given: click's float type
    takes nan and inf (and 1e400, which a double holds only as inf), and a nan
    tolerance or learning rate compares false with everything, so a run went on
    and gave wrong answers instead of stopping."""
    bound = "> 0" if positive else ">= 0"

    def parse(value: str | float) -> float:
        if isinstance(value, float):           # the declared default
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and (number > 0 if positive else number >= 0)):
            raise ProblemError(f"{names[0]} must be a finite number {bound}, got {value}")
        return number

    return typer.Option(*names, parser=parse, metavar="X", help=help)


def check_pdf(pdf: bool, fmt: Format, output: Path | None, *, default: Format) -> None:
    """``--pdf`` compiles the LaTeX into a file: another ``--format`` (than LaTeX or
    the command's default) and ``-o -`` are refused before any work, not ignored
    (a PDF written for -f json, or to a file named '-')."""
    if not pdf:
        return
    if fmt not in (Format.latex, default):
        raise ProblemError(f"--pdf makes a PDF from LaTeX; leave out --format {fmt.value}")
    if output is not None and str(output) == "-":
        raise ProblemError("--pdf cannot write to standard output; give a file with -o")


def given(ctx: Any, names: Iterable[str]) -> list[str]:
    """The options among the parameters ``names`` that the command line gave, as
    flags (``--no-as-written`` for a switch turned off), in the command's order.

    ``ctx`` is the command's click Context (``typer.Context``)."""
    wanted = set(names)
    flags = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name) if param.name in wanted else None
        if source is None or source.name in ("DEFAULT", "DEFAULT_MAP"):
            continue
        off = getattr(param, "secondary_opts", None) and ctx.params.get(param.name) is False
        flags.append(param.secondary_opts[0] if off else
                     max(param.opts, key=lambda o: o.startswith("--")))
    return flags


def refuse_with(flags: list[str], why: str) -> None:
    """Bad input naming the options ``flags`` (given, and of no use here): ``why``
    says what they go with instead."""
    if flags:
        names = " and ".join([", ".join(flags[:-1]), flags[-1]] if len(flags) > 1 else flags)
        raise ProblemError(f"{names} {'does' if len(flags) == 1 else 'do'} not go with {why}")


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


# How a problem's training key was given by an option, for its messages.
EPOCHS_GIVEN = {"epochs": "--epochs"}


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
