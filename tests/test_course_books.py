"""The books of a course: one LaTeX document of every question sheet and one of
every worked solution; each compiles in one pdflatex run and every page names
its variant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bpnn_steps.course.books import Book, book_latex
from course_folders import make_variants, write_folder
from helpers import run_cli
from test_export import compile_tex, needs_tex

HOSTILE = '}#~/"\\ <script>{1:NUMERICAL:=5} \\input{/etc/passwd} %$&_^'


@pytest.mark.parametrize("book", list(Book))
@pytest.mark.parametrize("name", ["lecture_122", "softmax_233"])
def test_a_book_compiles_and_every_page_names_its_variant(tmp_path: Path, book: Book,
                                                          name: str) -> None:
    needs_tex()
    variants = make_variants(name, 3, title=HOSTILE)
    tex = book_latex(variants, book, 3)
    assert tex.count(r"\documentclass") == 1 and tex.count(r"\begin{document}") == 1
    code, error, pages = compile_tex(tex, tmp_path, f"{name}-{book.value}")
    assert code == 0, error
    pages = [p for p in pages if p.strip()]
    seen = []
    for page in pages:
        header = page.strip().splitlines()[0]
        m = re.search(r"variant (\S+-s7-\d{3})", header)
        assert m, header
        seen.append(m.group(1))
    assert sorted(set(seen)) == [v.id for v in variants]
    assert seen == sorted(seen)                   # each variant's pages together
    text = "\n".join(pages)
    assert text.count("<script>") == len(variants)   # the title, printed as written
    if book is Book.questions:
        assert text.count("Tasks") == len(variants)
    else:
        assert text.count("Worked solution") >= len(variants)


def test_course_command_writes_the_books_as_latex(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 2))
    result = run_cli("course", str(folder), "--only", "questions,solutions", "--tex",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("lecture_122-s7-questions.tex", "lecture_122-s7-solutions.tex"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text.count(r"\markright") == 2 and text.count(r"\documentclass") == 1
