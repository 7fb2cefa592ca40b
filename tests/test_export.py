"""LaTeX / PDF / Markdown export: every bundled problem in every sheet variant
compiles with pdflatex, the PDF text holds the key numbers, titles print as
written, and output files are written atomically."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bpnn_steps.maths.engine import solve
from bpnn_steps.numfmt import fmt
from bpnn_steps.model.problem import Problem, Training
from bpnn_steps.present.sheet import sheet_problem
from bpnn_steps.present.blocks import Document
from bpnn_steps.present.sheet import sheet_blocks
from bpnn_steps.present.sheet import sheet_document as _sheet_document
from bpnn_steps.render.registry import render


def sheet_document(trace, sheet):
    return render(_sheet_document(trace, sheet), "latex")


def blocks_document(blocks, title):
    return render(Document(title, tuple(blocks)), "latex")


def document_markdown(blocks):
    return render(Document("", tuple(blocks)), "markdown")
from bpnn_steps.files.bundled import bundled_problems
from bpnn_steps.files.problem_file import load_problem, parse_problem
from helpers import TEST_CACHE

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

BUNDLED = [name for name, _ in bundled_problems()]
SHEETS = ("question", "solution", "both")
HAVE_TEX = bool(shutil.which("pdflatex")) and bool(shutil.which("pdftotext"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def needs_tex() -> None:
    """Skip without pdflatex, except in CI, where a missing pdflatex is a failure."""
    if not HAVE_TEX:
        if IN_CI:
            pytest.fail("pdflatex/pdftotext missing in CI (.ci/run installs them)")
        pytest.skip("pdflatex/pdftotext not installed")


def compile_tex(tex: str, folder: Path, name: str) -> tuple[int, str, list[str]]:
    """(return code, first error, text of each page)."""
    code, error, pages, _ = compile_sheet(tex, folder, name)
    return code, error, pages


def compile_sheet(tex: str, folder: Path, name: str
                  ) -> tuple[int, str, list[str], list[str]]:
    """(return code, first error, text of each page, the log's Overfull \\hbox lines).

    A compile's result is kept in the test cache under the hash of the source and
    of the TeX installation, so a run after the first compiles only the sheets whose
    LaTeX changed (each compile takes a second or two; there are forty)."""
    key = hashlib.sha256(f"{_tex_version()}\n{tex}".encode()).hexdigest()
    cached = TEST_CACHE / "tex" / f"{key}.json"
    if cached.exists():
        found = json.loads(cached.read_text(encoding="utf-8"))
        if len(found) == 4:         # older entries lack the overfull boxes
            code, error, pages, overfull = found
            return code, error, pages, overfull
    result = _compile_tex(tex, folder, name)
    if result[0] == 0:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(cached)
    return result


@functools.cache
def _tex_version() -> str:
    found = [subprocess.run([tool, "-v" if tool == "pdftotext" else "--version"],
                            capture_output=True, text=True, errors="replace")
             for tool in ("pdflatex", "pdftotext")]
    return "\n".join(run.stdout + run.stderr for run in found)


def _compile_tex(tex: str, folder: Path, name: str
                 ) -> tuple[int, str, list[str], list[str]]:
    source = folder / f"{name}.tex"
    source.write_text(tex, encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             "-no-shell-escape", source.name], cwd=folder,
                            capture_output=True, text=True, errors="replace", timeout=120)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    pdf = folder / f"{name}.pdf"
    if result.returncode != 0 or not pdf.exists():
        return result.returncode or 1, errors[0] if errors else "no PDF", [], []
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    overfull = [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]
    text = subprocess.run(["pdftotext", "-layout", pdf.name, "-"], cwd=folder,
                          capture_output=True, text=True, errors="replace").stdout
    return 0, "", text.split("\f"), overfull


def _random_problem(layers, activations, loss, method="batch", epochs=1, batch_size=None,
                    seed=0, title=""):
    rng = np.random.default_rng(seed)
    t = 4
    x = np.round(rng.normal(size=(t, layers[0])), 2)
    if loss == "ce":
        y = np.eye(layers[-1])[rng.integers(0, layers[-1], size=t)]
    elif loss == "bce":
        y = rng.integers(0, 2, size=(t, layers[-1])).astype(float)
    else:
        y = np.round(rng.normal(size=(t, layers[-1])), 2)
    weights = tuple(np.round(rng.normal(scale=0.5, size=(layers[n] + 1, layers[n + 1])), 2)
                    for n in range(len(layers) - 1))
    return Problem(layers=tuple(layers), activations=tuple(activations), loss=loss, x=x, y=y,
                   weights=weights, title=title,
                   training=Training(learning_rate=0.3, method=method, epochs=epochs,
                                     batch_size=batch_size))


EXTRA = {
    "one_layer_3_1": _random_problem([3, 1], ["sigmoid"], "bce", seed=1),
    "deep_3_5_4_3_2": _random_problem([3, 5, 4, 3, 2], ["relu", "tanh", "sigmoid", "softmax"],
                                      "ce", method="minibatch", batch_size=3, epochs=1, seed=2),
    "wide_4_8_4": _random_problem([4, 8, 4], ["tanh", "linear"], "mse", method="sgd", seed=3),
    "specials_title": _random_problem(
        [1, 2, 1], ["sigmoid", "linear"], "mse", seed=4,
        title=r"Tricky _ % & # $ { } \input{/etc/passwd} \write18{echo pwned} ~ ^"),
}


@functools.cache
def bundled_trace(name: str):
    """The trace of a bundled problem's sheets (test_export, test_sheets_fit and
    test_sheet_text read the same ones): solved once per test process."""
    return solve(sheet_problem(load_problem(name))[0])


@functools.cache
def bundled_sheet(name: str, sheet: str) -> str:
    """The LaTeX of a bundled problem's sheet, rendered once per test process."""
    return sheet_document(bundled_trace(name), sheet)


@functools.cache
def bundled_derivation(name: str) -> str:
    """The LaTeX of a bundled problem's derivation, rendered once per test process."""
    from bpnn_steps.present.derivation import derivation_report, setting_of

    prob = load_problem(name)
    return blocks_document(derivation_report(prob.layers, prob.activations, prob.loss,
                                             title=prob.title, setting=setting_of(prob)),
                           prob.title)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory):
    """Every bundled problem in every sheet, the derivations, and a few generated
    problems of other depths, compiled two at a time."""
    needs_tex()
    folder = tmp_path_factory.mktemp("pdf")
    jobs: dict[str, str] = {}
    for name in BUNDLED:
        for sheet in SHEETS:
            jobs[f"{name}-{sheet}"] = bundled_sheet(name, sheet)
    for name in BUNDLED:
        jobs[f"{name}-derivation"] = bundled_derivation(name)
    for name, prob in EXTRA.items():
        jobs[f"{name}-both"] = sheet_document(solve(prob), "both")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(jobs, pool.map(lambda k: compile_tex(jobs[k], folder, k), jobs)))
    return results


def _text(compiled, key) -> str:
    code, error, pages = compiled[key]
    assert code == 0, f"{key}: {error}"
    return "\n".join(pages)


def _norm(text: str) -> str:
    return text.replace("−", "-")


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("sheet", SHEETS + ("derivation",))
def test_bundled_problem_compiles(compiled, name, sheet):
    _text(compiled, f"{name}-{sheet}")


@pytest.mark.parametrize("name", list(EXTRA))
def test_any_depth_compiles(compiled, name):
    text = _text(compiled, f"{name}-both")
    assert "Answer key" in text


def test_lecture_pdf_has_the_lecture_numbers(compiled):
    """The numbers printed in the lecture notes (section 1.1) appear in the answer key."""
    text = _norm(_text(compiled, "lecture_122-both"))
    for number in ["0.550", "0.574", "0.210", "0.215", "19.628", "-2.790", "-3.790",
                   "-1.534", "-2.084", "-0.163", "2.244", "1.314", "1.308", "0.205", "0.270"]:
        assert number in text, number


def test_question_sheet_holds_no_answers_and_key_starts_a_new_page(compiled):
    question = _norm(_text(compiled, "lecture_122-question"))
    for answer in ["19.628", "2.244", "-0.163", "0.550"]:
        assert answer not in question
    assert "0.1" in question and "Tasks" in question
    _, _, pages = compiled["lecture_122-both"]
    first_key = next(k for k, page in enumerate(pages) if "Answer key" in page)
    assert first_key > 0
    assert not any("2.244" in p for p in pages[:first_key])
    assert pages[first_key].lstrip().startswith("Answer key")


@pytest.mark.parametrize("name", BUNDLED)
def test_solution_pdf_shows_the_final_weights(compiled, name):
    trace = bundled_trace(name)
    text = _norm(_text(compiled, f"{name}-solution"))
    for w in trace.final_weights:
        for v in w.ravel():
            assert fmt(float(v), 3) in text


def test_titles_print_as_written(compiled, tmp_path):
    text = _text(compiled, "specials_title-both")
    flat = re.sub(r"\s+", " ", text)
    assert r"Tricky _ % & # $ { } \input{/etc/passwd} \write18{echo pwned} ~ ^" in flat


def test_quiz_derivation_pdf_has_the_quiz_entries(compiled):
    text = _norm(_text(compiled, "quiz_11-derivation"))
    assert "Every entry" in text
    assert "h1,(t) (1 - h1,(t) )" in re.sub(r"[ ]+", " ", text) or "(1 - h" in text


# --------------------------------------------------------------------------- CLI


@pytest.fixture()
def runner():
    from typer.testing import CliRunner
    return CliRunner()


def _app():
    from bpnn_steps.cli import app
    return app


def test_export_pdf_one_command(runner, tmp_path, monkeypatch):
    needs_tex()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(_app(), ["export", "lecture_122", "--sheet", "both", "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "lecture_122-both.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["lecture_122-both.pdf"]


def test_pdf_without_pdflatex_says_how_to_install(runner, tmp_path, monkeypatch):
    import bpnn_steps.render.pdf as pdf
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    target = tmp_path / "x.pdf"
    result = runner.invoke(_app(), ["export", "lecture_122", "--pdf", "-o", str(target)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "apt-get install" in lines[0] and "Traceback" not in lines[0]
    assert not target.exists()


def test_failed_compile_leaves_no_file(runner, tmp_path, monkeypatch):
    import bpnn_steps.render.pdf as pdf
    monkeypatch.setattr(pdf, "tex_command", lambda: [sys.executable, "-c", "raise SystemExit(1)"])
    target = tmp_path / "x.pdf"
    result = runner.invoke(_app(), ["export", "lecture_122", "--pdf", "-o", str(target)])
    assert result.exit_code == 2
    assert "failed" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_latex_and_markdown_files(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args, name in ((["--sheet", "question"], "lecture_122-question.tex"),
                       (["--format", "markdown", "--sheet", "solution"],
                        "lecture_122-solution.md")):
        result = runner.invoke(_app(), ["export", "lecture_122", *args])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).exists()
    tex = (tmp_path / "lecture_122-question.tex").read_text()
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    used = set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", tex))
    assert used <= {"inputenc", "geometry", "amsmath", "amssymb", "booktabs", "graphicx", "tikz"}


def test_export_bad_input_exits_2_without_output(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {layers: [1, 2], activations: [sigmoid]}\nloss: nope\n")
    target = tmp_path / "out.tex"
    result = runner.invoke(_app(), ["export", str(bad), "-o", str(target)])
    assert result.exit_code == 2
    assert "loss" in result.stderr and "bad.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()
    result = runner.invoke(_app(), ["export", "lecture_122", "-o",
                                    str(tmp_path / "missing" / "x.tex")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_export_needs_data_for_sheets(runner, tmp_path):
    arch = tmp_path / "arch.yaml"
    arch.write_text("network: {layers: [2, 2, 1], activations: [tanh, linear]}\n")
    result = runner.invoke(_app(), ["export", str(arch), "-o", str(tmp_path / "a.tex")])
    assert result.exit_code == 2 and "data" in result.stderr
    result = runner.invoke(_app(), ["export", str(arch), "--sheet", "derivation",
                                    "-o", str(tmp_path / "d.tex")])
    assert result.exit_code == 0, result.output


def test_markdown_maths_is_katex_friendly():
    trace = solve(load_problem("deep_1221"))
    md = document_markdown(sheet_blocks(trace, "both"))
    assert md.count("$$") % 2 == 0
    assert "```mermaid" in md and "\n---\n" in md
    assert r"\begin{align*}" not in md and r"\begin{align}" not in md   # KaTeX: aligned
    assert "^{[2]}^" not in md and "}^{T}^" not in md       # no double superscripts
    assert "\\right)" not in md or md.count("\\left(") == md.count("\\right)")


def test_markdown_escapes_titles():
    prob = parse_problem("title: '<img src=x onerror=alert(1)> *bold* $x$ [l](u)'\n"
                         "network: {layers: [1, 1, 1], activations: [sigmoid, linear]}\n"
                         "data: {x: [[1]], y: [[1]]}\nweights: 0.5\n"
                         "training: {learning_rate: 0.1}\n")
    md = document_markdown(sheet_blocks(solve(prob), "solution"))
    first = md.splitlines()[0]
    assert first == r"# \<img src=x onerror=alert(1)\> \*bold\* \$x\$ [l\](u)"
