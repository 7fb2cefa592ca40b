"""``bpnn-steps variants FILE --count N --seed S -o DIR``: N variants of a problem,
each a complete problem file named by its id, and an index.

Only typer is imported at module level (this module is imported on every start);
numpy and the course code when the command runs.
"""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .options import allow_read_option, path_parser, problem_argument, read_access

if TYPE_CHECKING:
    from ..course.variant_spec import VariantSpec
    from ..course.variants import Run
    from ..model.problem import Problem

MAX_COUNT = 10_000


def variants(
    problem: Annotated[str, problem_argument("Problem file, or a bundled problem's name; "
                                             "its variants: block says what varies.")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="DIR", parser=path_parser("-o", "a folder name"),
        help="Folder to write the variants and index.csv to (created if missing; its "
             "parent must exist).")],
    count: Annotated[int, typer.Option(
        "--count", "-n", min=1, max=MAX_COUNT, help="How many variants.")] = 10,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, max=2**63 - 1,
        help="Seed of the draw: the same file, seed and index give the same variant "
             "on every machine.")] = 1,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Say why candidates were rejected (counts per reason, with "
                          "examples) and whether the file's own numbers pass.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the variants DIR already holds (its index.csv and the "
                        "files it lists).")] = False,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
) -> None:
    """Write variants of a problem: the same network, loss and settings with new
    hand-friendly numbers, each passing the quality test (well-posed, and every
    mistake check diagnoses shows and names itself)."""
    from ..course.variant_spec import read_spec
    from ..course.variants import assess_own, explanation, variant_text
    from ..course.variants import variants as draw_variants
    from ..files.problem_file import read_problem_document
    from ..files.textio import make_output_folder, write_atomic
    from ..errors import ProblemError
    from ..files.variant_folder import INDEX, index_text, read_index, variant_file
    from ..model.variant import VariantId, id_base
    from .output import say, write_stdout

    document = read_problem_document(problem, access=read_access(allow_read))
    base = document.problem
    spec = read_spec(document.tree, base)
    base.require_for_solving()
    # A course's variants are not replaced by accident (the quiz and the sheets were
    # made from them): a folder that holds an index needs --force.
    earlier: list[str] = []
    if (output / INDEX).exists():
        if not force:
            raise ProblemError(f"already holds variants ({INDEX}); give --force to replace "
                               "them, or write to another folder", file=str(output))
        earlier = [name for _, name, _ in read_index(output)]
    make_output_folder(output)
    run = _draw(base, spec, count, seed, id_base(document.path.stem), draw_variants)
    if explain:
        write_stdout(explanation(run, assess_own(base, spec)))
    run.require_complete()
    for v in run.variants:
        write_atomic(output / variant_file(v.id), variant_text(v, problem))
    write_atomic(output / INDEX, index_text(run.variants))
    kept = {variant_file(v.id) for v in run.variants}
    source = document.path.resolve()
    for name in earlier:                # the replaced run's files, not this run's
        # only variant files: an index that lists the problem being varied (or any
        # other file) must not make --force delete it
        stale = output / name
        if name not in kept and VariantId.parse(Path(name).stem) is not None \
                and stale.resolve() != source:
            stale.unlink(missing_ok=True)
    first, last = run.variants[0].id, run.variants[-1].id
    span = variant_file(first) if first == last else \
        f"{variant_file(first)} .. {variant_file(last)}"
    rejected = len(run.rejected)
    why = "" if explain or not rejected else " (--explain says why)"
    say(f"wrote {len(run.variants)} variant{'s' if len(run.variants) != 1 else ''} of "
        f"{problem} to {output}: {span} and {INDEX}; {run.candidates} candidates drawn, "
        f"{rejected} rejected{why}")


# A count worth a progress bar: 200 variants take about 3 s, 10,000 about 3 minutes.
BAR_FROM = 100


def _draw(base: "Problem", spec: "VariantSpec", count: int, seed: int, name: str,
          draw_variants: Callable[..., "Run"]) -> "Run":
    """The run, with a progress bar on standard error when it is a terminal and the
    count is large (the terminal otherwise showed nothing for minutes)."""
    if count < BAR_FROM or not sys.stderr.isatty():
        return draw_variants(base, spec, count, seed, name)
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    columns = (TextColumn("variant"), MofNCompleteColumn(), BarColumn(),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("variants", total=count)
        return draw_variants(base, spec, count, seed, name,
                             progress=lambda i: bar.update(task, completed=i))
