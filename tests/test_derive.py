"""`bpnn-steps derive`: the lecture's quiz solution, entry by entry, the matrix
forms, derivative forms, a 4-8-4 network, and bad input."""

from __future__ import annotations

import json
import os
import re

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

from helpers import run_cli  # noqa: E402

from bpnn_steps.cli import app  # noqa: E402
from bpnn_steps.present.derivation import derivation_report  # noqa: E402
from bpnn_steps.present.blocks import Document  # noqa: E402
from bpnn_steps.render.registry import render  # noqa: E402


def blocks_document(blocks, title):
    return render(Document(title, tuple(blocks)), "latex")


def document_markdown(blocks):
    return render(Document("", tuple(blocks)), "markdown")


def report_text(blocks, decimals):
    return render(Document("", tuple(blocks)), "text", decimals)
from bpnn_steps.maths.symbolic import derive  # noqa: E402

runner = CliRunner()

# Quiz 1.1 of the lecture notes, as printed there (sample index (t) left out),
# written out by hand from the notes: the output layer ...
QUIZ_OUTPUT = {
    (0, 1): "ŷ₁ − y₁", (0, 2): "ŷ₂ − y₂",
    (1, 1): "(ŷ₁ − y₁) h₁", (1, 2): "(ŷ₂ − y₂) h₁",
    (2, 1): "(ŷ₁ − y₁) h₂", (2, 2): "(ŷ₂ − y₂) h₂",
}
# ... and the input layer: [(ŷ1 − y1) w11 + (ŷ2 − y2) w12] h1(1 − h1) x_i, ...
_S1 = "[(ŷ₁ − y₁) w₁,₁⁽²⁾ + (ŷ₂ − y₂) w₁,₂⁽²⁾] h₁(1 − h₁)"
_S2 = "[(ŷ₁ − y₁) w₂,₁⁽²⁾ + (ŷ₂ − y₂) w₂,₂⁽²⁾] h₂(1 − h₂)"
QUIZ_INPUT = {
    (0, 1): _S1, (1, 1): _S1 + " x₁", (2, 1): _S1 + " x₂",
    (0, 2): _S2, (1, 2): _S2 + " x₁", (2, 2): _S2 + " x₂",
}


def _sub(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _entry_lines(output: str) -> dict[tuple[int, int, int], str]:
    """'∂J/∂wᵢ,ⱼ⁽ⁿ⁾ = entry' lines of the text output."""
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
    sub = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    out = {}
    for line in output.splitlines():
        m = re.match(r"∂J/∂w([₀-₉]+),([₀-₉]+)⁽([⁰¹²³⁴⁵⁶⁷⁸⁹]+)⁾\s*= (.*)$", line)
        if m:
            key = (int(m[3].translate(sup)), int(m[1].translate(sub)), int(m[2].translate(sub)))
            out[key] = m[4].strip()
    return out


def test_quiz_derivation_reproduces_the_lecture_solution():
    result = runner.invoke(app, ["derive", "quiz_11"])
    assert result.exit_code == 0, result.output
    entries = _entry_lines(result.stdout)
    assert len(entries) == 12
    for (i, j), text in QUIZ_OUTPUT.items():
        assert entries[(2, i, j)] == text
    for (i, j), text in QUIZ_INPUT.items():
        assert entries[(1, i, j)] == text
    # the matrix forms, as the lecture writes them
    assert "∇J(W⁽²⁾) = [(Ŷ − Y)Hᵀ]ᵀ" in result.stdout
    assert "({[(Ŷ − Y)ᵀ(W̄⁽²⁾)ᵀ]ᵀ ⊙ H_d}Xᵀ)ᵀ" in result.stdout
    assert "W̄⁽²⁾(Ŷ − Y)" in result.stdout
    assert "H_d = [h₁(1 − h₁); h₂(1 − h₂)]" in result.stdout
    # the cost and the update with the problem's T = 3 and lambda = 0.5
    assert "J̄" in result.stdout and "1/3 Σₜ J₍ₜ₎" in result.stdout
    assert "W⁽²⁾ new = W⁽²⁾ old − λ 1/T Σₜ ∇J₍ₜ₎(W⁽²⁾) = W⁽²⁾ old − 0.5 × 1/3 Σₜ" \
        in result.stdout


def test_quiz_latex_entries_are_the_lecture_latex():
    d = derive([2, 2, 2], ["sigmoid", "linear"], "mse")
    tex = blocks_document(derivation_report([2, 2, 2], ["sigmoid", "linear"], "mse",
                                            derivation=d), "quiz")
    squash = lambda s: re.sub(r"\\,|\s", "", s)  # noqa: E731
    lecture = (r"[(\hat{y}_{1,(t)} - y_{1,(t)}) w_{1,1}^{[2]} + (\hat{y}_{2,(t)} - y_{2,(t)})"
               r" w_{1,2}^{[2]}] h_{1,(t)}(1-h_{1,(t)}) x_{1,(t)}")
    assert squash(lecture) in squash(tex)
    assert squash(r"(\hat{y}_{2,(t)} - y_{2,(t)})h_{1,(t)}") in squash(tex)


@pytest.mark.parametrize("activation,expected", [
    ("sigmoid", "h₁(1 − h₁)"), ("tanh", "1 − h₁²"), ("relu", "[z₁⁽¹⁾ > 0]")])
def test_activation_derivatives_are_written_as_a_lecture_does(activation, expected):
    d = derive([1, 2, 1], [activation, "linear"], "mse")
    text = report_text(derivation_report([1, 2, 1], [activation, "linear"], "mse",
                                         derivation=d), 3)
    entry = _entry_lines(text)[(1, 1, 1)]
    assert expected in entry
    assert "exp" not in entry and "cosh" not in entry


@pytest.mark.parametrize("layers,acts,loss", [
    ((2, 2, 1), ("sigmoid", "sigmoid"), "bce"),
    ((2, 3, 3), ("tanh", "softmax"), "ce"),
    ((2, 2, 3), ("relu", "softmax"), "mse"),
    ((1, 2, 2, 1), ("sigmoid", "tanh", "linear"), "mse"),
    ((2, 3, 2, 2, 2), ("relu", "tanh", "linear", "sigmoid"), "mse"),
])
def test_every_supported_network_derives(layers, acts, loss):
    blocks = derivation_report(layers, acts, loss)
    text = report_text(blocks, 3)
    entries = _entry_lines(text)
    expected = sum((layers[n - 1] + 1) * layers[n] for n in range(1, len(layers)))
    assert len(entries) == expected
    assert "exp(" not in "".join(entries.values())
    if loss in ("bce", "ce"):
        assert "cancels" in text
    md = document_markdown(blocks)
    assert md.count("$$") % 2 == 0


def test_deep_network_shows_the_general_recursion():
    text = report_text(derivation_report((1, 2, 2, 1), ("sigmoid", "tanh", "linear"), "mse"), 3)
    assert "δ⁽ⁿ⁾" in text and "(W̄⁽ⁿ⁺¹⁾ δ⁽ⁿ⁺¹⁾) ⊙ H_d⁽ⁿ⁾" in text
    assert "Hidden layer 2 gradient" in text and "Hidden layer 1 gradient" in text


def test_derive_4_8_4_in_every_format(tmp_path):
    # (No timing assertion: the speed of derive is measured in benchmarks/.)
    problem = tmp_path / "net.yaml"
    problem.write_text("network: {layers: [4, 8, 4], activations: [sigmoid, linear]}\n")
    for fmt in ("text", "latex", "markdown"):
        result = runner.invoke(app, ["derive", str(problem), "--format", fmt])
        assert result.exit_code == 0, result.output
    # every entry is printed: 5 x 8 of W[1] and 9 x 4 of W[2]
    text = runner.invoke(app, ["derive", str(problem)]).stdout
    assert len(_entry_lines(text)) == 5 * 8 + 9 * 4


def test_derive_needs_only_the_architecture_and_shows_lambda_symbolically(tmp_path):
    problem = tmp_path / "net.yaml"
    problem.write_text("network: {layers: [2, 2, 2], activations: [sigmoid, linear]}\n"
                       "training: {method: minibatch, batch_size: 2, l2: 0.01}\n")
    result = runner.invoke(app, ["derive", str(problem)])
    assert result.exit_code == 0, result.output
    assert "1/|B| Σₜ∈B" in result.stdout and "1/2 Σₜ∈B" in result.stdout
    assert "β" in result.stdout and "0.01" in result.stdout
    assert "1/T Σₜ J₍ₜ₎" in result.stdout


def test_derive_json_and_verify():
    result = runner.invoke(app, ["derive", "quiz_11", "--format", "json", "--verify"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["entries"]) == 12
    first = next(e for e in doc["entries"] if (e["layer"], e["i"], e["j"]) == (1, 1, 1))
    assert "x1" in first["sympy"] and "h1" in first["sympy"]
    assert "verified" in result.stderr


def rational(p, q):
    import sympy

    return sympy.Rational(p, q)


def _injected(mistake):
    """symbolic.gradient_entries with entry (1, 1, 1) replaced by mistake(entry)."""
    from bpnn_steps.maths import symbolic

    right = symbolic.gradient_entries

    def entries(layers, activations, loss, *conventions):
        out = dict(right(layers, activations, loss, *conventions))
        out[(1, 1, 1)] = mistake(out[(1, 1, 1)], symbolic.answer_symbols(layers))
        return out
    return entries


def test_derive_verify_fails_on_an_injected_wrong_formula(monkeypatch):
    from bpnn_steps.maths import symbolic

    # the lecture's slip: the hidden unit's derivative h(1 - h) left out
    monkeypatch.setattr(symbolic, "gradient_entries",
                        _injected(lambda e, s: e / (s["h1"] * (1 - s["h1"]))))
    result = runner.invoke(app, ["derive", "quiz_11", "--verify"])
    assert result.exit_code == 1, result.output
    assert "1 of 12 derived entries disagree" in result.stderr and "w1,1[1]" in result.stderr
    assert "verified" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("layers, acts, loss", [
    ((2, 2, 2), ("sigmoid", "sigmoid"), "mse"),
    ((3, 4, 3), ("relu", "softmax"), "ce"),
    ((2, 3, 3, 1), ("tanh", "leaky_relu", "sigmoid"), "bce"),
])
@pytest.mark.parametrize("mistake", [
    pytest.param(lambda e, s: 2 * e, id="doubled"),
    pytest.param(lambda e, s: e * (1 + rational(1, 10 ** 9)), id="off-by-1e-9"),
    pytest.param(lambda e, s: e + s["w1_0_1"] * rational(1, 10 ** 6), id="extra-term"),
])
def test_the_verify_check_finds_a_wrong_entry_and_only_it(monkeypatch, layers, acts, loss,
                                                          mistake):
    import numpy as np
    from bpnn_steps.maths import symbolic

    checked, bad = symbolic.check_with_sympy(layers, acts, loss, rng=np.random.default_rng(5))
    assert checked > 0 and bad == []
    monkeypatch.setattr(symbolic, "gradient_entries", _injected(mistake))
    checked, bad = symbolic.check_with_sympy(layers, acts, loss, rng=np.random.default_rng(5))
    assert bad == [(1, 1, 1)]


def test_derive_verify_4_8_8_4_is_accepted_and_agrees(tmp_path):
    net = tmp_path / "deep.yaml"
    net.write_text("network: {layers: [4, 8, 8, 4], activations: [sigmoid, tanh, sigmoid]}\n"
                   "loss: mse\n")
    result = runner.invoke(app, ["derive", str(net), "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "verified: all 148 entries agree" in result.stderr


def test_derive_bad_input(tmp_path):
    result = runner.invoke(app, ["derive", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "missing.yaml" in result.stderr and "Traceback" not in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {layers: [2, 2], activations: [softmax]}\nloss: bce\n")
    result = runner.invoke(app, ["derive", str(bad), "-o", str(tmp_path / "out.tex")])
    assert result.exit_code == 2 and "loss" in result.stderr
    assert not (tmp_path / "out.tex").exists()


def test_json_of_a_network_beyond_hand_calculation_is_refused_quickly(tmp_path):
    """derive --format json writes every entry in full; each layer deeper multiplies
    an entry by its width ([1, 10, 10, 10, 10, 1]: 240,000 symbols took 15 s, and a
    net of width 30 ran for hours).  The text output shows it in matrix form."""
    from bpnn_steps.present.derivation_entries import MAX_JSON_SYMBOLS

    path = tmp_path / "deep.yaml"
    path.write_text("network: {layers: [1, 10, 10, 10, 10, 1], activations: [sigmoid, "
                    "sigmoid, sigmoid, sigmoid, linear]}\ndata: {x: [[1]], y: [[1]]}\n"
                    "weights: {fill: 0.1}\n", encoding="utf-8")
    refused = runner.invoke(app, ["derive", str(path), "--format", "json"])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert f"at most {MAX_JSON_SYMBOLS:,}" in refused.stderr
    assert runner.invoke(app, ["derive", str(path)]).exit_code == 0


@pytest.mark.parametrize("command,args,message", [
    ("derive", ("--format", "json"), "--pdf makes a PDF from LaTeX; leave out --format json"),
    ("derive", ("--format", "markdown"),
     "--pdf makes a PDF from LaTeX; leave out --format markdown"),
    ("export", ("--format", "html"), "--pdf makes a PDF from LaTeX; leave out --format html"),
    ("derive", ("-o", "-"), "--pdf cannot write to standard output; give a file with -o"),
    ("export", ("-o", "-"), "--pdf cannot write to standard output; give a file with -o"),
])
def test_pdf_refuses_what_it_would_ignore(tmp_path, command, args, message):
    """derive --pdf -f json wrote a PDF and -o - a PDF named '-': refused, as export
    refuses them, by the same check (before any work: nothing is written)."""
    out = run_cli(command, "lecture_122", "--pdf", *args, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == f"bpnn-steps: error: {message}\n"
    assert list(tmp_path.iterdir()) == []
