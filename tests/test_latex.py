"""The LaTeX renderer: escaping of user text, Unicode maths in report text,
numbers through numfmt, no sympy at import, and the golden files of the lecture
example (LaTeX and Markdown) and of the quiz derivation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bpnn_steps.maths.engine import solve
from bpnn_steps.present.blocks import Document
from bpnn_steps.present.sheet import sheet_blocks, worked_solution
from bpnn_steps.present.sheet import sheet_document as _sheet_document
from bpnn_steps.render.latex import escape_text, text_latex
from bpnn_steps.render.registry import render


def sheet_document(trace, sheet):
    return render(_sheet_document(trace, sheet), "latex")


def solution_document(trace):
    return render(worked_solution(trace, statement=True), "latex")


def document_markdown(blocks):
    return render(Document("", tuple(blocks)), "markdown")
from bpnn_steps.files.problem_file import load_problem

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BPNN_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("text,expected", [
    (r"\input{/etc/passwd}", r"\textbackslash{}input\{/etc/passwd\}"),
    (r"\write18{rm -rf x}", r"\textbackslash{}write18\{rm -{}rf x\}"),
    ("50% & #1 $5", r"50\% \& \#1 \ensuremath{\$}5"),
    ("a_b ~ ^", r"a{\ttfamily\char95}b {\ttfamily\char126} {\ttfamily\char94}"),
    ("line\nbreak\ttab", "line break tab"),
    ("é ß Ø", r"\'{e} \ss{} \O{}"),
    ("中", r"{\ttfamily [U+4E2D]}"),
])
def test_escape_text(text, expected):
    assert escape_text(text) == expected


def test_user_text_maths_characters_never_run_together():
    # each character its own inline maths: ½₁ was "$\tfrac{1}{2}$$_{1}$", whose '$$'
    # opens display maths (it printed "21"); a user's x⁽¹⁾ is x^(1), not the report's
    # layer notation x^[1]
    out = escape_text("½₁ λσ x⁽¹⁾")
    assert "$" not in out
    assert out.count(r"\ensuremath{") == 7
    assert "[" not in out and "(" in out and ")" in out


def test_escaped_text_has_no_live_commands():
    nasty = r"\def\x{1}\catcode`\@=11 \csname foo\endcsname \makeatletter \immediate\write18{id}"
    out = escape_text(nasty)
    # every backslash left is one of ours, followed by a known command
    commands = set(re.findall(r"\\([A-Za-z]+|.)", out))
    assert commands <= {"textbackslash", "ttfamily", "char", "{", "}", "ensuremath", "$",
                        "%", "&", "#"}


def test_report_text_becomes_inline_maths():
    assert text_latex("J₍ₜ₎ = Σₖ ½(ŷₖ − yₖ)²") == \
        r"$J_{(t)}$ = $\Sigma_{k}$ $\tfrac{1}{2}$($\hat{y}_{k}$ $-$ $y_{k}$)${}^{2}$"
    assert text_latex("∇J(W⁽²⁾), λ = 0.5, W̄ and J̄") == \
        r"$\nabla$J($W^{[2]}$), $\lambda$ = 0.5, $\bar{W}$ and $\bar{J}$"
    assert text_latex("the layer's w₀,ⱼ") == r"the layer'{}s $w_{0,j}$"


def test_numbers_keep_trailing_zeros():
    tex = solution_document(solve(load_problem("lecture_122")))
    assert "0.550" in tex and "0.270" in tex and "2.244" in tex
    assert "0.5499" not in tex                  # rounded by numfmt, not printed raw


def test_latex_output_never_imports_sympy():
    code = ("import sys\n"
            "from bpnn_steps.cli import main\n"
            "sys.argv = ['bpnn-steps', 'solve', 'lecture_122', '--format', 'latex']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('SYMPY' if 'sympy' in sys.modules else 'CLEAN')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().endswith("CLEAN"), result.stderr
    assert r"\begin{document}" in result.stdout


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE and os.environ.get("CI"):
            pytest.fail(f"golden file {name} is missing")
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), \
        f"{name} changed; if intended, rerun with BPNN_UPDATE_GOLDEN=1 and review the diff"


def test_golden_lecture_latex():
    tex = sheet_document(solve(load_problem("lecture_122")), "both")
    # The lecture's printed numbers must be in it (independent of the golden file).
    for number in ["19.628", "2.244", "1.314", "1.308", "0.205", "0.270", "-0.163"]:
        assert number in tex
    _golden("lecture_122-both.tex", tex)


def test_golden_lecture_markdown():
    md = document_markdown(sheet_blocks(solve(load_problem("lecture_122")), "solution"))
    for number in ["19.628", "2.244", "1.314", "1.308", "0.205", "0.270", "-0.163"]:
        assert number in md
    _golden("lecture_122-solution.md", md)


def test_golden_quiz_derivation():
    os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")
    from typer.testing import CliRunner

    from bpnn_steps.cli import app
    result = CliRunner().invoke(app, ["derive", "quiz_11", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    _golden("quiz_11-derivation.md", result.stdout)
