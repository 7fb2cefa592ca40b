"""``bpnn-steps course DIR``: every course output of a folder of variants - Moodle
XML, GIFT, a Canvas package, the answer key, and the PDFs of all question sheets
and all worked solutions."""

# No `from __future__ import annotations`: typer reads the command's annotations.

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ProblemError
from .options import decimals_option, path_parser
from .output import check_outputs, say

OUTPUT_NAMES = ("moodle", "gift", "canvas", "key", "questions", "solutions")


def course(
    folder: Annotated[Path, typer.Argument(
        parser=path_parser("FOLDER", "a folder name"), help="A folder of variants (written by 'bpnn-steps variants').")],
    outdir: Annotated[Path, typer.Option(
        "--output-dir", "-o", parser=path_parser("-o", "a folder name"), help="Folder to write into (it must exist).")] = Path("."),
    only: Annotated[Optional[str], typer.Option(
        "--only", metavar="LIST",
        help="Write only these, comma-separated: " + ", ".join(OUTPUT_NAMES)
             + " (default: all).")] = None,
    decimals: Annotated[int, decimals_option(
        "The sheets' decimals: answers are rounded to them, and accepted within half a "
        "unit of the last one.")] = 3,
    tex: Annotated[bool, typer.Option(
        "--tex", help="Write the question and solution books as LaTeX, not PDF.")] = False,
) -> None:
    """Write a course's outputs: Moodle XML, GIFT, Canvas QTI, answer-key CSV, and one
    PDF of all question sheets and one of all worked solutions."""
    from ..course.course_outputs import Output, course_name, output_paths, write_course
    from ..files.variant_folder import read_variants

    outputs = _outputs(only)
    if tex and not {"questions", "solutions"} & set(outputs):
        raise ProblemError(f"--tex writes the question and solution books as LaTeX, but "
                           f"--only {only} writes neither; add questions or solutions to "
                           "--only, or leave out --tex")
    if not tex and {"questions", "solutions"} & set(outputs):
        from ..render.pdf import INSTALL_HINT, tex_command

        if tex_command() is None:            # before any output is written
            raise ProblemError(INSTALL_HINT.replace("--pdf needs", "the PDF books need")
                               + "; or write the books as LaTeX with --tex")
    if not outdir.is_dir():
        raise ProblemError("is not a folder (create it first)", file=str(outdir))
    variants = read_variants(folder)
    name = course_name(variants, folder)
    paths = output_paths(name, outdir, [Output(o) for o in outputs], tex)
    check_outputs({str(o): path for o, path in paths.items()})     # before any work
    write_course(variants, paths, decimals, name, tex=tex, wrote=_say)


def _say(path: Path, what: str) -> None:
    say(f"wrote {path} ({what})")


def _outputs(only: Optional[str]) -> list[str]:
    if only is None:
        return list(OUTPUT_NAMES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in OUTPUT_NAMES]
    if unknown or not names:
        raise ProblemError(f"--only {only!r}: expected a comma-separated list of "
                           f"{', '.join(OUTPUT_NAMES)}")
    return [n for n in OUTPUT_NAMES if n in names]
