"""``bpnn-steps check``: mark answer files, write blank answer sheets, mark a folder.

Only typer is imported at module level: this module is imported on every start
of the CLI, and ``solve`` must stay fast.  numpy, rich and the marking code are
imported when the command runs; sympy only when an answer file has a formula.
"""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..errors import ExitCode, ProblemError
from .boundary import exit_with
from .formats import GRADEBOOK, MARKING, Marking
from .options import (Format, allow_read_option, decimals_option, format_option, given,
                      name_parser, number_option, output_option, path_parser, read_access,
                      refuse_with, round_as_you_go_option)
from .output import check_outputs, deliver, emit, say, to_stdout

if TYPE_CHECKING:
    from ..files.untrusted import ReadAccess
    from ..marking.marker import Options, Regenerate


def check(
    ctx: typer.Context,
    answers: Annotated[Optional[str], typer.Argument(
        metavar="[ANSWERS]", parser=name_parser("ANSWERS", "an answer file"), help="Answer file (YAML) to mark.")] = None,
    template: Annotated[Optional[str], typer.Option(
        "--template", metavar="PROBLEM", parser=name_parser("--template"),
        help="Write a blank answer sheet with every key for PROBLEM (a file or bundled "
             "name).")] = None,
    batch: Annotated[Optional[Path], typer.Option(
        "--batch", metavar="DIR", parser=path_parser("--batch", "a folder name"),
        help="Mark every *.yaml answer file in DIR; write gradebook.csv and "
             "gradebook.json.")] = None,
    problem: Annotated[Optional[str], typer.Option(
        "--problem", "-p", parser=name_parser("-p"),
        help="The problem to mark against (overrides the answer file's problem:).")] = None,
    fmt: Annotated[Format, format_option(MARKING, "text (a table) or json (for "
                                         "gradebooks).")] = Format.text,
    abs_tol: Annotated[float, number_option(
        "--abs-tol", help="Accept numbers within this absolute difference.")] = 1e-9,
    rel_tol: Annotated[float, number_option(
        "--rel-tol", help="Accept numbers within this relative difference.")] = 1e-6,
    as_written: Annotated[bool, typer.Option(
        "--as-written/--no-as-written",
        help="Accept a number that is the correctly rounded value at the decimals it is "
             "written with (at least 2 significant figures or 3 decimals).")] = True,
    round_as_you_go: Annotated[Optional[int], round_as_you_go_option(
        "Also accept a calculation that rounds every intermediate to D decimals (the "
        "decimals each answer is written with, from 2 up, are always tried).")] = None,
    follow_through: Annotated[bool, typer.Option(
        "--follow-through/--no-follow-through",
        help="Credit later work that is consistent with the student's own earlier wrong "
             "values.")] = True,
    wrong_only: Annotated[bool, typer.Option(
        "--wrong-only", help="Show only the entries that are not right.")] = False,
    decimals: Annotated[int, decimals_option("Least decimals for expected values.")] = 3,
    updates: Annotated[Optional[int], typer.Option(
        "--updates", min=1, help="--template: only the first N updates.")] = None,
    output: Annotated[Optional[Path], output_option(
        "Write the report (or --template sheet) to this file; with --batch, the folder "
        "for gradebook.csv and gradebook.json (default: the current folder).",
        "a file or folder name")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite an existing --template file.")] = False,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
    variants: Annotated[Optional[Path], typer.Option(
        "--variants", metavar="DIR", parser=path_parser("--variants", "a folder name"),
        help="Mark against the variants in DIR (written by 'bpnn-steps variants'): each "
             "answer file against the variant its variant: (or the --roster) names.")] = None,
    roster: Annotated[Optional[Path], typer.Option(
        "--roster", metavar="FILE", parser=path_parser("--roster"),
        help="With --batch and --variants: a CSV file with the columns student,variant "
             "that gives each student their variant.")] = None,
    sheet: Annotated[Optional[Path], typer.Option(
        "--sheet", metavar="FILE", parser=path_parser("--sheet"),
        help="With --batch: the sheet the class was given (a check --template file); each "
             "file is scored against it: a question left out counts as blank, a key it "
             "does not ask counts for nothing, a file of another problem is an error "
             "row.")] = None,
) -> None:
    """Mark a student's hand calculation entry by entry, with follow-through and diagnosis.

    Exit code 0 when every answer is right, 1 when anything is wrong or blank, 2 for bad
    input.
    """
    chosen = [name for name, value in (("ANSWERS", answers), ("--template", template),
                                       ("--batch", batch)) if value is not None]
    if len(chosen) != 1:
        raise ProblemError("check needs exactly one of ANSWERS, --template PROBLEM or "
                           "--batch DIR" + (f" (got {' and '.join(chosen)})" if chosen else ""))
    access = read_access(allow_read)
    _variant_options(variants, roster, template, batch, problem)
    _unused_options(ctx, chosen[0])
    if template is not None:
        _template(template, output, updates, force, access)
        return
    options = _options(abs_tol, rel_tol, as_written, round_as_you_go, follow_through)
    if sheet is not None and batch is None:
        raise ProblemError("--sheet is the sheet a class was given: it goes with --batch DIR")
    if batch is not None:
        _batch(batch, problem, options, fmt, output, access, variants, roster, sheet)
        return
    assert answers is not None
    if not to_stdout(output):
        # the student's file, and its problem: the report replaced them
        check_outputs({"-o": output}, [answers, problem, _named_problem(answers, access)])
    if variants is not None:
        from ..marking.roster import VariantFolder, check_variant_file

        result = check_variant_file(answers, VariantFolder.read(variants), options)
    else:
        from ..marking.marker import check_file

        result = check_file(answers, problem, options, access, regenerate=_regenerate(access))
    deliver(MARKING[fmt](Marking(result, decimals, wrong_only)), output)
    exit_with(ExitCode.OK if result.all_right else ExitCode.WRONG_ANSWERS)


def _variant_options(variants: Optional[Path], roster: Optional[Path],
                     template: Optional[str], batch: Optional[Path],
                     problem: Optional[str]) -> None:
    """--variants marks answer files (not --template) and replaces --problem; --roster
    marks a class against a folder of variants."""
    if variants is not None and template is not None:
        raise ProblemError("--variants marks answer files; for a variant's blank sheet run "
                           "check --template DIR/ID.yaml")
    if variants is not None and problem is not None:
        raise ProblemError("give --problem or --variants, not both (with --variants each "
                           "answer file is marked against its variant)")
    if roster is not None and (batch is None or variants is None):
        raise ProblemError("--roster gives each student of a class a variant: it needs "
                           "--batch DIR and --variants DIR")


def _named_problem(answers: str, access: "ReadAccess") -> Optional[Path]:
    """The problem file an answer file names, if it names one that can be read (the
    marking reports a bad one)."""
    from ..files.answer_file import read_header, read_root, resolve_problem_ref

    try:
        root, text = read_root(answers)
        return resolve_problem_ref(read_header(root, text, answers), answers, access=access)
    except ProblemError:
        return None
# What marks (or, in a gradebook, shows the entries of) answer files, and what
# shapes --template's blank sheet: each is bad input in the mode that ignores it.
MARKS = ("problem", "fmt", "abs_tol", "rel_tol", "as_written", "round_as_you_go",
           "follow_through", "wrong_only", "decimals", "sheet")
SHEET = ("updates", "force")
ENTRIES = ("wrong_only", "decimals")


def _unused_options(ctx: typer.Context, mode: str) -> None:
    """Refuse the options the chosen mode (ANSWERS, --template or --batch) would
    ignore: check --template L.yaml -p quiz_11 wrote lecture_122's sheet."""
    if mode == "--template":
        refuse_with(given(ctx, MARKS), "--template, which writes a blank answer sheet of "
                    "the problem it names: marking options go with ANSWERS or --batch DIR")
        return
    refuse_with(given(ctx, SHEET), f"{mode} (--updates and --force shape the blank "
                "sheet --template PROBLEM writes)")
    if mode == "--batch":
        refuse_with(given(ctx, ENTRIES), "--batch, whose gradebook shows scores, not "
                    "entries (check ANSWERS shows a file's entries)")


def _regenerate(access: "ReadAccess") -> "Regenerate":
    """What draws variant ID of a base problem again, for an answer file that names
    the base problem and ``variant: ID`` (marker.load): the base's ``variants:``
    block, read as ``bpnn-steps variants`` reads it."""
    from ..course.variants import Regenerator

    return Regenerator(access)


def _options(abs_tol: float, rel_tol: float, as_written: bool, round_as_you_go: Optional[int],
             follow_through: bool) -> "Options":
    from ..marking.diagnose import Tolerance
    from ..marking.marker import Options

    return Options(Tolerance(abs_tol=abs_tol, rel_tol=rel_tol, as_written=as_written),
                   round_as_you_go=round_as_you_go, follow_through=follow_through)


def _template(source: str, output: Optional[Path], updates: Optional[int],
              force: bool, access: "ReadAccess") -> None:
    """A blank answer sheet for the problem ``source``; its ``problem:`` names the
    problem as seen from the sheet's folder."""
    from ..files.answer_template import reference_note, template_text
    from ..files.bundled import problem_reference
    from ..files.problem_file import read_problem_document
    from ..marking.marker import checkable
    from ..maths.engine import solve
    from ..maths.workload import check_workload

    check_outputs({"-o": output}, [source])
    # lexists: a link counts as there (a loop was refused by check_outputs)
    if output is not None and os.path.lexists(output) and not force:
        raise ProblemError("already exists; use --force to overwrite it", file=str(output))
    document = read_problem_document(source, access=access)
    prob = checkable(document.problem)
    check_workload(prob)
    trace = solve(prob)
    ref = problem_reference(source, document.path, output)
    emit(template_text(prob, ref, [s.samples for s in trace.steps], updates), output)
    note = reference_note(ref, document.path, output)
    if note:
        import warnings

        from ..errors import ProblemNote
        warnings.warn(ProblemNote(note), stacklevel=1)   # one "bpnn-steps: note:" line


def _batch(folder: Path, problem: Optional[str], options: "Options", fmt: Format,
           output: Optional[Path], access: "ReadAccess", variants: Optional[Path] = None,
           roster: Optional[Path] = None, sheet: Optional[Path] = None) -> None:
    """Mark every answer file of ``folder``; the gradebook goes into the folder -o."""
    from ..files.textio import OutputGroup, make_output_folder
    from ..marking.gradebook import mark_folder, read_sheet, same_problem

    asked = read_sheet(sheet, access) if sheet is not None else None    # bad input first
    target = output if output is not None else Path(".")
    if problem is not None:
        from ..files.problem_file import load_problem
        # a bad --problem is bad input, not 30 bad rows
        prob = load_problem(problem, access=access)
        if asked is not None and not same_problem(prob, asked):
            raise ProblemError(f"--problem {problem} is not the problem of --sheet {sheet} "
                               f"({asked.variant or asked.problem}): every file would be "
                               "an error row; give the sheet of that problem, or leave out "
                               "--problem")
    if target.exists() and not target.is_dir():
        raise ProblemError("is not a folder (with --batch, -o names the folder for the "
                           "gradebook)", file=str(target))
    if variants is not None:
        from ..marking.roster import VariantFolder, mark_class, read_roster

        by_variant = VariantFolder.read(variants)      # bad input before any folder is made
        names = read_roster(roster, by_variant) if roster is not None else None
    make_output_folder(target)        # the gradebook's own folder; not missing parents
    if variants is not None:
        book = mark_class(folder, by_variant, names, options, access, sheet=asked)
    else:
        book = mark_folder(folder, problem, options, access, regenerate=_regenerate(access),
                           sheet=asked)
    with OutputGroup() as out:          # the pair is replaced together or not at all
        out.write(target / "gradebook.csv", book.to_csv())
        out.write(target / "gradebook.json", book.to_json())
    deliver(GRADEBOOK[fmt](book), None)
    say(f"wrote {target / 'gradebook.csv'} and {target / 'gradebook.json'}")
    bad = any(not r.done for r in book.rows)
    exit_with(ExitCode.WRONG_ANSWERS if bad else ExitCode.OK)
