"""Figures of training runs: each kind written and non-empty; the terminal chart."""

from __future__ import annotations

import functools
import os
import textwrap

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

import numpy as np
import pytest
from typer.testing import CliRunner

from bpnn_steps.cli import app
from bpnn_steps.errors import ProblemError
from bpnn_steps.render.plot import plot_kind, save_plot, text_chart
from bpnn_steps.files.problem_file import load_problem, parse_problem
from bpnn_steps.maths.training import train

runner = CliRunner()

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-", ".svg": b"<?xml"}

REGRESSION = "sine_1101_overfit"
CLASSIFICATION_BCE = """\
    title: moons, bce
    network: {layers: [2, 5, 1], activations: [tanh, sigmoid]}
    loss: bce
    data: {generate: {kind: moons, points: 40, noise: 0.1, seed: 2}, test_fraction: 0.25}
    weights: {random: {scale: 1.0}}
    training: {learning_rate: 0.5, method: batch, epochs: 60}
"""
CLASSIFICATION_CE = """\
    title: xor, softmax
    network: {layers: [2, 4, 2], activations: [tanh, softmax]}
    loss: ce
    data: {generate: {kind: xor, points: 20, noise: 0.1}}
    weights: {random: {scale: 1.0}}
    training: {learning_rate: 0.5, method: sgd, epochs: 30}
"""
COST_ONLY = """\
    network: {layers: [2, 3, 2], activations: [sigmoid, linear]}
    data: {x: [[0, 1], [1, 0]], y: [[1, 0], [0, 1]]}
    weights: 0.1
    training: {learning_rate: 0.5, epochs: 20}
"""


@functools.cache
def small_run(kind: str):
    """A short training run of a kind; run once and shared, as the figures of all
    formats draw the same run (a TrainResult is frozen, its arrays read-only)."""
    if kind == "regression":
        return train(load_problem(REGRESSION).with_training(epochs=200))
    text = {"classification-bce": CLASSIFICATION_BCE, "classification-ce": CLASSIFICATION_CE,
            "cost": COST_ONLY}[kind]
    return train(parse_problem(textwrap.dedent(text)))


@pytest.fixture(scope="module")
def figure(tmp_path_factory):
    """``figure(kind, suffix)``: (the kind save_plot drew, the file) of the run of a
    kind saved in a format, each in a folder of its own; drawn once for the module,
    as the reproducibility test compares a second drawing with the first."""
    drawn = {}

    def draw(kind: str, suffix: str):
        if (kind, suffix) not in drawn:
            folder = tmp_path_factory.mktemp(f"{kind}{suffix}")
            target = folder / f"fig{suffix}"
            made = save_plot(small_run(kind), target,
                             true_function=np.sin if kind == "regression" else None)
            drawn[kind, suffix] = made, target
        return drawn[kind, suffix]

    return draw


@pytest.mark.parametrize("kind", ["regression", "classification-bce", "classification-ce",
                                  "cost"])
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_each_plot_kind_is_written_in_each_format(figure, kind, suffix):
    result = small_run(kind)
    drawn, target = figure(kind, suffix)
    assert drawn == kind.split("-")[0]
    assert plot_kind(result) == drawn
    data = target.read_bytes()
    assert len(data) > 5000
    assert data.startswith(MAGIC[suffix])
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]   # no temp left


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_vector_output_is_reproducible(figure, tmp_path, suffix, monkeypatch):
    result = small_run("regression")
    _, first = figure("regression", suffix)
    # drawn as if in 1970 (matplotlib's clock for a file's date): the same bytes, so
    # the file holds no date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    save_plot(result, tmp_path / f"b{suffix}", true_function=np.sin)
    assert first.read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_plot_refuses_unknown_format_and_missing_folder(tmp_path):
    result = small_run("cost")
    with pytest.raises(ProblemError, match="use .png, .svg, .pdf"):
        save_plot(result, tmp_path / "fig.gif")
    with pytest.raises(ProblemError, match="does not exist"):
        save_plot(result, tmp_path / "nowhere" / "fig.png")


def test_cli_plot_option_writes_the_figure(tmp_path):
    target = tmp_path / "line.png"
    result = runner.invoke(app, ["train", "line_1101_gd", "--epochs", "50", "--plot",
                                 str(target)])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {target}" in result.stderr
    assert target.read_bytes().startswith(MAGIC[".png"])
    assert "cost per epoch, log scale" not in result.stdout   # the file replaces the preview


def test_text_chart_places_marks_by_log_value():
    chart = text_chart([(np.array([0, 1, 2, 3]), np.array([1.0, 0.1, 0.01, 0.001]), "*")],
                       width=4, height=4)
    rows = chart.splitlines()
    plot_rows = [r.split("|", 1)[1] for r in rows[:4]]
    # one decade per row: a diagonal from top left to bottom right
    assert plot_rows == ["*   ", " *  ", "  * ", "   *"]
    assert rows[0].strip().startswith("1") and rows[3].strip().startswith("0.001")
    assert rows[-1].split() == ["0", "3"]
    assert text_chart([]) == ""


def test_text_chart_draws_a_steep_fall_within_a_column_as_a_stroke():
    chart = text_chart([(np.array([0, 1, 2, 3]), np.array([100.0, 1.0, 1.0, 1.0]), "*")],
                       width=2, height=3)
    assert [r.split("|", 1)[1] for r in chart.splitlines()[:3]] == ["* ", "* ", "**"]


def test_the_title_is_drawn_as_written_never_as_maths(tmp_path):
    """A title is the user's text: matplotlib set '$x$' as maths, and '$\\foo$' or an
    unclosed '$\\frac{1}{$' ended in a parse error (a traceback) after training, in
    every format (the title is laid out before any format is written)."""
    import matplotlib

    title = "cost $\\foo$ and $\\frac{1}{$ of $x^2$"
    path = tmp_path / "t.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):      # SVG text stays text
        save_plot(small_run("cost"), path, title=title)
    assert title in path.read_text(encoding="utf-8")
