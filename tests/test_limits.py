"""Limits instead of hangs: sizes refused before any work, with a message that
names the limit (and ``train`` for big runs); integers that must be integers;
input files too large to read quickly; CONTRACT section 2 read as written.

The workload limits are tested at their boundary (just under passes, just over is
refused) with the sizes counted here, by hand, from the layer widths, samples and
updates; no test times anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from helpers import BUNDLED, REPO

from bpnn_steps.cli import app
from bpnn_steps.errors import ProblemError, ProblemNote
from bpnn_steps.files import problem_file, yamldoc
from bpnn_steps.files.problem_file import load_problem, parse_problem
from bpnn_steps.maths import workload
from bpnn_steps.model.problem import Problem, Training

runner = CliRunner()
CONTRACT = REPO.parent / "shared" / "CONTRACT.md"
CONTRACT_COPY = Path(__file__).parent / "fixtures" / "contract_section2.yaml"


def net(layers: list[int], samples: int, epochs: int = 1, method: str = "batch",
        batch_size: int | None = None) -> Problem:
    rng = np.random.default_rng(0)
    return Problem(layers=tuple(layers), activations=("sigmoid",) * (len(layers) - 2) + ("linear",),
                   x=rng.random((samples, layers[0])), y=rng.random((samples, layers[-1])),
                   training=Training(learning_rate=0.1, epochs=epochs, method=method,
                                     batch_size=batch_size),
                   source="p.yaml")


# Counted by hand: a sample pass keeps z and a of every unit after the input and the
# sample's gradient (one value per weight); an update keeps the weights before and
# after it and the mean gradient.
def weights_of(layers: list[int]) -> int:
    return sum((layers[i] + 1) * layers[i + 1] for i in range(len(layers) - 1))


def per_sample(layers: list[int]) -> int:
    return weights_of(layers) + 2 * sum(layers[1:])


def widest(limit: int, values_of_width) -> int:
    """The largest width w with values_of_width(w) <= limit (values grow with w)."""
    lo, hi = 1, 1
    while values_of_width(hi) <= limit:
        hi *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if values_of_width(mid) <= limit else (lo, mid)
    return lo


def nothing_shown(updates: int) -> int:
    return 0


# --------------------------------------------------------------------------- workload


def test_sample_passes_boundary():
    limit = workload.MAX_SAMPLE_PASSES
    samples = 50
    workload.solve_workload(net([1, 1, 1], samples, epochs=limit // samples), nothing_shown)
    with pytest.raises(ProblemError, match=r"sample passes.*at most 50,000.*bpnn-steps train"):
        workload.solve_workload(net([1, 1, 1], samples + 1, epochs=limit // samples),
                                nothing_shown)


def test_traced_values_boundary():
    # one sample, one update: [1, w, 1]
    def traced(w: int) -> int:
        return per_sample([1, w, 1]) + 3 * weights_of([1, w, 1])

    w = widest(workload.MAX_TRACED_VALUES, traced)
    workload.solve_workload(net([1, w, 1], 1), nothing_shown)
    with pytest.raises(ProblemError, match=r"intermediate values.*at most 5,000,000.*train"):
        workload.solve_workload(net([1, w + 1, 1], 1), nothing_shown)


def test_shown_values_boundary():
    samples = 20

    def shown(w: int) -> int:      # two updates in full, each with its 20 samples
        return 2 * (samples * per_sample([2, w, 1]) + 3 * weights_of([2, w, 1]))

    w = widest(workload.MAX_SHOWN_VALUES, shown)
    workload.solve_workload(net([2, w, 1], samples, epochs=5), lambda updates: 2)
    with pytest.raises(ProblemError, match=r"2 updates shown in full.*at most 100,000.*--show"):
        workload.solve_workload(net([2, w + 1, 1], samples, epochs=5), lambda updates: 2)
    # the same network with nothing shown in full is within the limits
    workload.solve_workload(net([2, w + 1, 1], samples, epochs=5), nothing_shown)


def test_one_update_to_answer_boundary():
    samples = 10

    def answered(w: int) -> int:
        return samples * per_sample([1, w, 1]) + 3 * weights_of([1, w, 1])

    w = widest(workload.MAX_SHOWN_VALUES, answered)
    workload.check_workload(net([1, w, 1], samples))
    with pytest.raises(ProblemError, match=r"one update has .* values to answer"):
        workload.check_workload(net([1, w + 1, 1], samples))


def test_derived_weights_boundary():
    w = widest(workload.MAX_DERIVED_WEIGHTS, lambda w: weights_of([1, w, 1]))
    workload.derive_workload(net([1, w, 1], 1))
    with pytest.raises(ProblemError, match=r"weights to derive; derive writes out at most 5,000"):
        workload.derive_workload(net([1, w + 1, 1], 1))


def test_verify_boundary():
    # the cost evaluated twice per weight, a forward pass through every weight each time
    def work(w: int) -> int:
        return weights_of([2, w, 1]) * weights_of([2, w, 1])

    w = widest(workload.MAX_VERIFY_WORK, work)
    workload.derive_workload(net([2, w, 1], 1), verify=True)
    with pytest.raises(ProblemError, match="too large for --verify"):
        workload.derive_workload(net([2, w + 1, 1], 1), verify=True)
    workload.derive_workload(net([2, w + 1, 1], 1))        # without --verify it is fine


def every_problem() -> list[Path]:
    return sorted(BUNDLED.glob("*.yaml")) + sorted((REPO / "tests" / "golden" / "problems")
                                                    .glob("*.yaml"))


@pytest.mark.parametrize("path", every_problem(), ids=lambda p: p.stem)
def test_every_bundled_and_golden_problem_is_within_the_limits(path):
    from bpnn_steps.marking.marker import checkable

    prob = load_problem(path)
    for p in (prob, prob.with_training(epochs=1)):
        workload.solve_workload(p, lambda updates: min(updates, 4))
        workload.export_workload(p, lambda updates: min(updates, 4), derivation=False)
    workload.check_workload(checkable(prob))
    workload.derive_workload(prob)


@pytest.mark.parametrize("args, words", [
    (("solve", "{wide}"), "the 1 update shown in full would write"),
    (("export", "{wide}", "-o", "-"), "the 1 update shown in full would write"),
    (("check", "--template", "{wide}"), "one update has"),
    (("derive", "{deep}"), "weights to derive"),
    (("solve", "{long}"), "sample passes"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_the_commands_refuse_before_computing(tmp_path, args, words):
    files = {
        "wide": "network: {layers: [1, 100000, 1], activations: [sigmoid, linear]}\n"
                "data: {x: [[1]], y: [[2]]}\nweights: {fill: 0.1}\n"
                "training: {learning_rate: 0.1}\n",
        "deep": "network: {layers: [1, 3000, 3000, 1], activations: [sigmoid, sigmoid, linear]}\n",
        "long": "network: {layers: [1, 2, 1], activations: [sigmoid, linear]}\n"
                "data: {generate: {kind: sine, points: 1000, seed: 1}}\n"
                "weights: {fill: 0.1}\ntraining: {learning_rate: 0.1, epochs: 1000}\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    argv = [a.format(**{k: str(tmp_path / f"{k}.yaml") for k in files}) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, (result.stdout[-300:], result.stderr)
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


# --------------------------------------------------------------------------- integers


# The lecture's problem (its epochs on line 13), as test_errors writes it.
from test_errors import BASE  # noqa: E402


@pytest.mark.parametrize("old, new, line, words", [
    ("[1, 2, 2]", "[1, 1e308, 2]", 2, "network.layers[1] must be a whole number >= 1, got 1e+308"),
    ("[1, 2, 2]", "[1, 2.0, 2]", 2, "got 2.0 (write it as 2, without a decimal point"),
    ("[1, 2, 2]", "[1, 1000000000000, 2]", 2, "must be at most 1,000,000, got 1,000,000,000,000"),
    ("[1, 2, 2]", "[1, 100000, 200]", 2, "network.layers [1, 100000, 200] has 20,200,200 weights;"
                                         " at most 10,000,000"),
    ("epochs: 1", "epochs: .inf", 13, "training.epochs must be a whole number >= 1, got inf"),
    ("epochs: 1", "epochs: 1000000000000", 13, "training.epochs must be at most 1,000,000,000"),
    ("epochs: 1", "epochs: 1e3", 13, "got 1000.0 (write it as 1000"),
])
def test_integer_keys_need_integers_within_bounds(old, new, line, words):
    text = BASE.replace(old, new, 1)
    with pytest.raises(ProblemError) as caught:
        parse_problem(text, "p.yaml")
    assert str(caught.value).startswith(f"p.yaml:{line}: ")
    assert words in str(caught.value)


def test_the_largest_counts_are_accepted():
    prob = parse_problem(BASE.replace("epochs: 1", f"epochs: {problem_file.MAX_EPOCHS:_}"
                                      .replace("_", "")), "p.yaml")
    assert prob.training.epochs == problem_file.MAX_EPOCHS


# --------------------------------------------------------------------------- input files


def test_a_long_comment_line_is_refused_before_the_parse():
    text = "# " + "x" * 800_000 + "\n" + BASE
    with pytest.raises(ProblemError, match=r"p.yaml:1: has a comment line of 800,002 characters; "
                                           r"at most 10,000"):
        parse_problem(text, "p.yaml")
    # a comment just within the limit is read as before
    text = "# " + "x" * (yamldoc.MAX_COMMENT_CHARS - 2) + "\n" + BASE
    assert parse_problem(text, "p.yaml").layers == (1, 2, 2)
    # a long line of data is not a comment
    x = ", ".join(["[1]"] * 3000)
    y = ", ".join(["[3, 4]"] * 3000)
    text = BASE.replace("[[1], [2]]", f"[{x}]").replace("[[3, 4], [6, 5]]", f"[{y}]")
    assert parse_problem(text, "p.yaml").samples == 3000


def test_too_many_values_are_refused_before_the_parse():
    values = ", ".join(["0"] * (yamldoc.MAX_YAML_ITEMS + 1))
    with pytest.raises(ProblemError, match=r"too large to read: about .* at most 100,000; put "
                                           r"large data sets in a CSV file"):
        parse_problem(f"# {values}\n" + BASE, "p.yaml")


def test_nested_brackets_count_as_values_before_the_parse():
    """Each '[' is a node for the parser: a line of 2,500 lists nested 50 deep, with
    no comma and no line break, took the parser over a minute in a 1 MB file."""
    nest = "[" * 50 + "]" * 50
    with pytest.raises(ProblemError, match=r"too large to read: about 125,\d{3} values"):
        parse_problem(BASE + "notes: [" + " ".join([nest] * 2500) + "]\n", "p.yaml")


def test_a_problem_file_over_the_size_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(BASE + "#" * 80 + ("\n" + "#" * 80) * (problem_file.MAX_FILE_BYTES // 81))
    result = runner.invoke(app, ["solve", str(big)])
    assert result.exit_code == 2
    assert re.search(r"is too large for a problem file \([\d,]+ bytes, at most 2000000\)",
                     result.stderr), result.stderr


# --------------------------------------------------------------------------- CONTRACT 2


def contract_section_2(text: str) -> str:
    section = text.split("## 2.", 1)[1].split("\n## ", 1)[0]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def loads_with_a_note(text: str, tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.warns(ProblemNote, match="training.batch_size applies to method minibatch "
                                         "only; the method is batch, so it is ignored"):
        prob = load_problem(path)
    assert prob.layers == (1, 2, 2) and prob.training.batch_size is None
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"bpnn-steps: note: {path}:15: training.batch_size applies to "
                             "method minibatch only; the method is batch, so it is ignored\n")
    assert "Worked example 1-2-2" in result.stdout


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/CONTRACT.md is not beside the repo")
def test_the_contract_section_2_example_loads_as_written(tmp_path):
    text = contract_section_2(CONTRACT.read_text(encoding="utf-8"))
    loads_with_a_note(text, tmp_path)
    assert text == CONTRACT_COPY.read_text(encoding="utf-8"), "refresh tests/fixtures/" \
        "contract_section2.yaml from CONTRACT.md section 2"


def test_the_copy_of_contract_section_2_loads(tmp_path):
    loads_with_a_note(CONTRACT_COPY.read_text(encoding="utf-8"), tmp_path)


def test_marking_refuses_a_problem_too_large_to_mark(tmp_path):
    (tmp_path / "wide.yaml").write_text(
        "network: {layers: [1, 100000, 1], activations: [sigmoid, linear]}\n"
        "data: {x: [[1]], y: [[2]]}\nweights: {fill: 0.1}\ntraining: {learning_rate: 0.1}\n")
    (tmp_path / "answers.yaml").write_text("problem: wide.yaml\nanswers: {}\n")
    result = runner.invoke(app, ["check", str(tmp_path / "answers.yaml")])
    assert result.exit_code == 2, result.stderr
    values = per_sample([1, 100000, 1]) + 3 * weights_of([1, 100000, 1])     # one sample
    assert f"one update has {values:,} values to answer; at most 100,000" in result.stderr
