"""Books of a course: one LaTeX document of every variant's question sheet, one of
every variant's worked solution, each compiled in one pdflatex run.

Each variant's sheet is the one ``bpnn-steps export`` writes (present/tutorial_sheet,
render/latex), starting on a new page numbered 1 and with the variant id in
every page header, so the printed stack can be handed out student by student.
The preamble is written once per book.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

from ..model.variant import Variant
from ..present.blocks import Block, Text


# pdflatex's time limit for a book: a sheet takes a fraction of a second on an idle
# core, many times that on a busy one.
BOOK_TIMEOUT = 180
SECONDS_PER_VARIANT = 3


class Book(StrEnum):
    questions = "questions"     # every variant's question sheet
    solutions = "solutions"     # every variant's worked solution (the answer key)


def book_latex(variants: Sequence[Variant], book: Book, decimals: int) -> str:
    """The LaTeX of a book: the preamble once, then every variant's sheet."""
    from ..present.tutorial_sheet import Sheet, tutorial_sheet
    from ..render.latex import blocks_latex, escape_text, preamble

    what = "Questions" if book is Book.questions else "Worked solution"
    body = [r"\pagestyle{myheadings}"]
    for v in variants:
        blocks: Sequence[Block]
        if book is Book.questions:
            blocks = tutorial_sheet(v.problem, Sheet.question, decimals=decimals,
                                    show="all").blocks
        else:
            blocks = _solution(v, decimals)
        body += [r"\clearpage", r"\setcounter{page}{1}",
                 rf"\markright{{{what}, variant {escape_text(v.id)}}}",
                 blocks_latex(blocks, decimals)]
    return preamble() + "\n".join(body) + "\n" + r"\end{document}" + "\n"


def _solution(v: Variant, decimals: int) -> Sequence[Block]:
    """A variant's worked solution after its problem statement; the picture of the
    network is in the question book (TikZ is most of a book's compile time)."""
    from ..maths.engine import solve
    from ..present.sheet import sheet_problem, solution_blocks

    problem, note = sheet_problem(v.problem)
    blocks = solution_blocks(solve(problem), show="all", diagram=False)
    return blocks[:1] + [Text(note)] + blocks[1:] if note else blocks


def write_books(variants: Sequence[Variant], targets: dict[Book, Path], decimals: int,
                *, tex: bool = False,
                out: Callable[[str | os.PathLike[str], bytes], None] | None = None
                ) -> list[Path]:
    """Write each book to its target (PDF, or LaTeX when ``tex``) by ``out`` (an
    OutputGroup's write; alone by default); the PDFs are compiled side by side
    (pdflatex runs on one core each)."""
    from ..files.textio import write_atomic
    from ..render.pdf import compile_pdf

    put = out or write_atomic

    def write(book: Book, target: Path) -> None:
        text = book_latex(variants, book, decimals)
        if tex:
            put(target, text.encode("utf-8"))
        else:
            limit = BOOK_TIMEOUT + SECONDS_PER_VARIANT * len(variants)
            compile_pdf(text, target, timeout=limit, write=put)

    # One thread per book: while one book's pdflatex runs (a process of its own),
    # the other book's LaTeX is written.
    workers = max(1, min(len(targets), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(write, book, target) for book, target in targets.items()]
        for job in jobs:
            job.result()
    return list(targets.values())
