"""Every output of a course from one folder of variants: which files, their names,
and writing them (``bpnn-steps course``).

Each output reads the same entries (``answer_entries``), so the Moodle XML, the
GIFT, the Canvas package and the answer key agree number for number, and the
books are the sheets ``bpnn-steps export`` writes for each variant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path

from ..model.variant import Variant


class Output(StrEnum):
    """A course output (``--only`` names them)."""

    moodle = "moodle"           # Moodle XML, one Cloze question per variant
    gift = "gift"               # GIFT, a category per variant
    canvas = "canvas"           # Canvas QTI package, a quiz per variant
    key = "key"                 # answer-key CSV
    questions = "questions"     # PDF (or LaTeX) of every question sheet
    solutions = "solutions"     # PDF (or LaTeX) of every worked solution


_ENDINGS = {Output.moodle: "-moodle.xml", Output.gift: ".gift", Output.canvas: "-canvas.zip",
            Output.key: "-answer-key.csv", Output.questions: "-questions.pdf",
            Output.solutions: "-solutions.pdf"}
BOOKS = (Output.questions, Output.solutions)


def course_name(variants: Sequence[Variant], folder: Path) -> str:
    """The name the outputs share: base problem and seed (``lecture_122-s7``), or
    the folder's name when the ids do not say."""
    parts = variants[0].parts if variants else None
    if parts is None:
        return folder.resolve().name or "course"
    return f"{parts.base}-s{parts.seed}"


def output_paths(name: str, outdir: Path, outputs: Sequence[Output], tex: bool = False
                 ) -> dict[Output, Path]:
    """Where each output goes: ``OUTDIR/NAME-moodle.xml`` and so on (books as
    ``.tex`` when ``tex``)."""
    paths = {}
    for o in outputs:
        ending = _ENDINGS[o]
        if tex and o in BOOKS:
            ending = ending.replace(".pdf", ".tex")
        paths[o] = outdir / f"{name}{ending}"
    return paths


def write_course(variants: Sequence[Variant], paths: dict[Output, Path], decimals: int,
                 name: str, *, tex: bool = False,
                 wrote: Callable[[Path, str], None] | None = None) -> None:
    """Write every output in ``paths`` (the quick ones first, then the books), all
    together: a failure (a book that does not compile, a full disk) leaves every
    existing output as it was, and ``wrote`` is told of each only once all are in
    place."""
    from ..files.textio import OutputGroup
    from .answer_entries import course_answers

    say = wrote or (lambda path, what: None)
    done: list[tuple[Path, str]] = []
    quick = [o for o in paths if o not in BOOKS]
    with OutputGroup() as out:
        if quick:
            answers = course_answers(variants)
            fields = len(answers[0].entries) if answers else 0
            for o in quick:
                if o is Output.moodle:
                    from .moodle import moodle_xml
                    out.write(paths[o], moodle_xml(answers, decimals, name))
                    done.append((paths[o], f"{len(answers)} Cloze questions of {fields} "
                                           "fields in one category"))
                elif o is Output.gift:
                    from .gift import gift
                    out.write(paths[o], gift(answers, decimals, name))
                    done.append((paths[o], f"{len(answers)} categories of {fields} "
                                           "numerical questions"))
                elif o is Output.canvas:
                    from .canvas import canvas_zip
                    out.write(paths[o], canvas_zip(answers, decimals))
                    done.append((paths[o], f"{len(answers)} quizzes of {fields} numerical "
                                           "questions"))
                else:
                    from .answer_key import answer_key_csv
                    out.write(paths[o], answer_key_csv(answers, decimals))
                    done.append((paths[o], f"{len(answers)} rows of {fields} entries"))
        books = {o: paths[o] for o in BOOKS if o in paths}
        if books:
            from .books import Book, write_books

            write_books(variants, {Book(o.value): p for o, p in books.items()}, decimals,
                        tex=tex, out=out.write)
            for o, p in books.items():
                what = "question sheets" if o is Output.questions else "worked solutions"
                done.append((p, f"{len(variants)} {what}"))
    for path, what in done:
        say(path, what)
