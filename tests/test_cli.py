"""The command line through its real entry points (the ``bpnn-steps`` console
script and ``python -m bpnn_steps``), and the documented Python API."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import bpnn_steps
from helpers import (BUNDLED, REPO, problem_from_yaml, read_yaml, ref_cost, ref_solve, run_cli,
                     write_file)

BUNDLED_NAMES = sorted(p.stem for p in BUNDLED.glob("*.yaml"))
UPDATE_RE = re.compile(r"^Update (\d+) of (\d+)\b", re.M)


def lecture_reference() -> dict:
    """helpers.ref_solve of the lecture example (independent of bpnn_steps)."""
    return ref_solve(**problem_from_yaml(read_yaml(BUNDLED / "lecture_122.yaml")))


def lecture_text() -> str:
    return (BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")


def sgd_two_samples(tmp_path):
    """The lecture network trained by SGD: 2 updates per epoch."""
    text = lecture_text().replace("method: batch", "method: sgd")
    assert "method: sgd" in text
    write_file(tmp_path, "sgd.yaml", text)
    return text


# ----------------------------------------------------------------- entry points


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_version(module):
    out = run_cli("--version", module=module)
    assert out.returncode == 0
    assert out.stdout.strip() == f"bpnn-steps {bpnn_steps.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", bpnn_steps.__version__)


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_help_lists_every_command(module):
    from bpnn_steps.cli import app

    registered = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    assert {"solve", "list", "new"} <= registered
    out = run_cli("--help", module=module)
    assert out.returncode == 0
    for command in sorted(registered):
        assert re.search(rf"^[\s│|]+{command}\s", out.stdout, re.M), command
    assert "--version" in out.stdout


def test_ctrl_c_while_the_command_line_loads_is_a_note(monkeypatch, capsys):
    """The console script's imports (typer, rich, numpy) take a moment: a Ctrl-C
    then ends the command as one during it does, with a note and 130, not a
    traceback."""
    import bpnn_steps.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_load", interrupted)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "bpnn-steps: interrupted\n"


def test_no_arguments_shows_help():
    out = run_cli()
    assert "Usage" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_list_shows_every_bundled_problem(module, tmp_path):
    assert set(BUNDLED_NAMES) >= {"lecture_122", "quiz_11", "classification_121",
                                  "softmax_233", "deep_1221"}
    out = run_cli("list", module=module, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name in BUNDLED_NAMES:
        assert re.search(rf"(?<!\w){name}(?!\w)", out.stdout), name
    assert "Lecture example" in out.stdout


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_solve_by_bundled_name_from_another_folder(tmp_path, module):
    out = run_cli("solve", "lecture_122", module=module, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "19.628" in out.stdout and "2.244" in out.stdout
    assert list(tmp_path.iterdir()) == []          # nothing written to the cwd


# ----------------------------------------------------------------- new


def test_new_writes_a_template_that_solves(tmp_path):
    out = run_cli("new", "mine.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    template = (tmp_path / "mine.yaml").read_text(encoding="utf-8")
    assert "network:" in template and "learning_rate" in template
    solved = run_cli("solve", "mine.yaml", "--format", "json", cwd=tmp_path)
    assert solved.returncode == 0, solved.stderr
    doc = json.loads(solved.stdout)
    # The template must describe a complete problem: check it against the reference.
    problem = problem_from_yaml(read_yaml(tmp_path / "mine.yaml"))
    expected = ref_solve(**problem)
    assert doc["final"]["cost"] == pytest.approx(expected["final"]["cost"], rel=1e-12)


def test_new_refuses_to_overwrite_without_force(tmp_path):
    path = write_file(tmp_path, "mine.yaml", "keep me\n")
    out = run_cli("new", "mine.yaml", cwd=tmp_path)
    assert out.returncode == 2
    assert "mine.yaml" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""
    assert path.read_text() == "keep me\n"
    forced = run_cli("new", "mine.yaml", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "network:" in path.read_text()


def test_new_into_missing_folder(tmp_path):
    out = run_cli("new", "nowhere/mine.yaml", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (tmp_path / "nowhere").exists()


# ----------------------------------------------------------------- solve options


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_format_json_is_json_only(module):
    out = run_cli("solve", "lecture_122", "--format", "json", module=module)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    # 19.628361 by hand (test_lecture.py); to full precision from the reference
    assert doc["steps"][0]["cost"] == pytest.approx(lecture_reference()["steps"][0]["cost"],
                                                    rel=1e-14)
    assert out.stderr == ""


def test_format_markdown():
    out = run_cli("solve", "lecture_122", "--format", "markdown")
    assert out.returncode == 0, out.stderr
    md = out.stdout
    assert "$$" in md
    assert md.count("$$") % 2 == 0
    assert re.search(r"^#+ ", md, re.M)
    assert "19.628" in md and "2.244" in md


@pytest.mark.parametrize("fmt,probe", [("text", "19.628"), ("json", '"steps"'),
                                       ("markdown", "$$")])
def test_output_file(tmp_path, fmt, probe):
    out = run_cli("solve", "lecture_122", "--format", fmt, "-o", "result.out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    written = (tmp_path / "result.out").read_text(encoding="utf-8")
    assert probe in written
    if fmt == "json":
        json.loads(written)
    # Same content as printed to stdout (up to the final newline).
    printed = run_cli("solve", "lecture_122", "--format", fmt, cwd=tmp_path).stdout
    assert written.rstrip("\n") == printed.rstrip("\n")
    # Only the result file (atomic write leaves no temporaries).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.out"]


def test_decimals_changes_printed_digits():
    three = run_cli("solve", "lecture_122").stdout
    five = run_cli("solve", "lecture_122", "--decimals", "5").stdout
    # sigma(0.2) = 0.549834, sigma(0.3) = 0.574443, cost 19.628361
    assert "0.550" in three and "0.54983" not in three
    assert "0.54983" in five and "0.57444" in five and "19.62836" in five
    assert not re.search(r"(?<![\d.])0\.550(?!\d)", five)
    # Exact inputs stay short at any precision.
    assert "0.1 + 0.1 × 1" in five


def test_round_as_you_go_changes_values():
    exact = json.loads(run_cli("solve", "lecture_122", "--format", "json").stdout)
    out = run_cli("solve", "lecture_122", "--format", "json", "--round-as-you-go", "2")
    assert out.returncode == 0, out.stderr
    rounded = json.loads(out.stdout)
    step = rounded["steps"][0]

    def on_grid(v):
        return abs(v * 100 - round(v * 100)) < 1e-9

    values = [v for f in step["forward"] for layer in f["z"] + f["a"] for v in layer]
    values += [f["loss"] for f in step["forward"]]
    values += [v for g in step["gradients"] for n in ("W1", "W2") for r in g[n] for v in r]
    values += [v for n in ("W1", "W2") for r in step["weights_after"][n] for v in r]
    assert all(on_grid(v) for v in values), values
    # h_(1) = round(0.549834, 2) = 0.55, h_(2) = round(0.574443, 2) = 0.57
    assert step["forward"][0]["a"][0] == pytest.approx([0.55, 0.55], abs=1e-12)
    assert step["forward"][1]["a"][0] == pytest.approx([0.57, 0.57], abs=1e-12)
    assert rounded["final"]["weights"] != exact["final"]["weights"]
    text = run_cli("solve", "lecture_122", "--round-as-you-go", "2").stdout
    assert text != run_cli("solve", "lecture_122").stdout


# ----------------------------------------------------------------- --show


def updates_shown(text: str) -> list[int]:
    found = [(int(k), int(n)) for k, n in UPDATE_RE.findall(text)]
    assert all(n == 12 for _, n in found)
    return [k for k, _ in found]


SUMMARY_HEADER = "cost of all data after epoch"


def summary_rows(text: str) -> list[tuple[int, str, float, float]]:
    rows = re.findall(r"^\s*(\d+)\s+(\d+(?:[–-]\d+)?)\s+([-\d.e]+)\s+([-\d.e]+)\s*$", text, re.M)
    return [(int(e), span, float(a), float(b)) for e, span, a, b in rows]


@pytest.fixture
def sgd_file(tmp_path):
    sgd_two_samples(tmp_path)
    return tmp_path


def solve_sgd(folder, *args):
    out = run_cli("solve", "sgd.yaml", "--epochs", "6", *args, cwd=folder)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_show_first_last(sgd_file):
    text = solve_sgd(sgd_file, "--show", "first,last")
    assert updates_shown(text) == [1, 12]
    assert SUMMARY_HEADER in text
    assert text.index("Update 1 of 12") < text.index(SUMMARY_HEADER) < text.index("Update 12 of 12")


def test_show_auto_is_first_and_last_for_many_updates(sgd_file):
    assert updates_shown(solve_sgd(sgd_file)) == [1, 12]


def test_show_every_k(sgd_file):
    text = solve_sgd(sgd_file, "--show", "every:3")
    assert updates_shown(text) == [3, 6, 9, 12]
    assert SUMMARY_HEADER in text


def test_show_all(sgd_file):
    text = solve_sgd(sgd_file, "--show", "all")
    assert updates_shown(text) == list(range(1, 13))
    assert SUMMARY_HEADER not in text
    # Each heading names the epoch and the sample of SGD in data order.
    assert "Update 3 of 12: epoch 2, sample 1" in text
    assert "Update 12 of 12: epoch 6, sample 2" in text


def test_show_none_summarises_every_epoch(sgd_file):
    text = solve_sgd(sgd_file, "--show", "none")
    assert updates_shown(text) == []
    assert SUMMARY_HEADER in text
    rows = summary_rows(text)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r[1].replace("–", "-") for r in rows] == ["1-2", "3-4", "5-6", "7-8", "9-10",
                                                      "11-12"]
    # Check the numbers against the reference, epoch by epoch.
    problem = problem_from_yaml(read_yaml(sgd_file / "sgd.yaml"))
    problem["epochs"] = 6
    ref = ref_solve(**problem)
    for epoch, _, first_cost, after_cost in rows:
        steps = [s for s in ref["steps"] if s["epoch"] == epoch]
        ws = [steps[-1]["weights_after"][f"W{n}"] for n in (1, 2)]
        whole = ref_cost(ws, problem["x"], problem["y"], problem["acts"], problem["loss"])
        assert after_cost == pytest.approx(whole, abs=1e-6)
        assert first_cost == pytest.approx(steps[0]["cost"], abs=1e-6)


def test_show_ranges(sgd_file):
    assert updates_shown(solve_sgd(sgd_file, "--show", "2-4,10")) == [2, 3, 4, 10]


# ----------------------------------------------------------------- the Python API


def test_python_api_round_trip():
    problem = bpnn_steps.load_problem("lecture_122")
    trace = bpnn_steps.solve(problem)
    text = bpnn_steps.to_text(trace)
    assert "19.628" in text and "0.1 + 0.1 × 1" in text
    assert "0.54983" in bpnn_steps.to_text(trace, decimals=5)
    md = bpnn_steps.to_markdown(trace)
    assert "$$" in md
    assert trace._repr_markdown_() == md
    again = bpnn_steps.Trace.from_json(trace.to_json())
    assert again.to_dict() == trace.to_dict()
    assert again.to_json() == trace.to_json()
    for a, b in zip(again.final_weights, trace.final_weights):
        np.testing.assert_array_equal(a, b)
    assert again.final_cost == trace.final_cost
    assert again.steps[0].backward[1].grad[1].tolist() == trace.steps[0].backward[1].grad[1].tolist()


def test_from_json_round_trip_of_multi_step_runs():
    problem = bpnn_steps.load_problem("softmax_233").with_training(epochs=2, l2=0.01,
                                                                  l2_bias=False)
    trace = bpnn_steps.solve(problem)
    again = bpnn_steps.Trace.from_json(trace.to_json())
    assert again.to_dict() == trace.to_dict()
    assert len(again.steps) == 6


def test_load_problem_by_path_and_name_agree():
    a = bpnn_steps.load_problem("lecture_122")
    b = bpnn_steps.load_problem(REPO / "problems" / "lecture_122.yaml")
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.x, b.x)


def test_trace_arrays_are_read_only():
    trace = bpnn_steps.solve(bpnn_steps.load_problem("lecture_122"))
    step = trace.steps[0]
    arrays = [step.weights_before[0], step.weights_after[1], step.mean_grad[0],
              step.forward[0].z[0], step.forward[0].a[1], step.forward[0].x,
              step.forward[1].y, step.backward[0].grad[0], step.backward[1].delta[0],
              step.backward[0].error[0], step.backward[1].derivative[0], trace.final_weights[1]]
    for a in arrays:
        with pytest.raises(ValueError):
            a[0] = 1.0
    with pytest.raises(ValueError):
        trace.final_weights[0][0, 0] = 5.0
    problem = bpnn_steps.load_problem("lecture_122")
    with pytest.raises(ValueError):
        problem.weights[0][0, 0] = 5.0
    # Solving did not change the problem's weights.
    np.testing.assert_array_equal(problem.weights[0], np.full((2, 2), 0.1))


def test_a_sample_record_keeps_no_view_of_an_array_that_can_still_change():
    """A trace record shares a row of a batch array only once that array is read-only
    (the engine's, after an update); a row of an array still writable is copied, so
    writing to that array later leaves the record as it was."""
    from bpnn_steps.model.trace import SampleForward, read_only

    batch = np.array([[1.0, 2.0], [3.0, 4.0]])
    row = batch[0]
    row.flags.writeable = False                 # read-only itself, its array is not
    record = SampleForward(sample=1, x=row, y=batch[1], z=(row,), a=(batch[1],), loss=0.0)
    batch[:] = 9.0
    assert record.x.tolist() == [1.0, 2.0] and record.z[0].tolist() == [1.0, 2.0]
    assert record.a[0].tolist() == [3.0, 4.0]
    frozen = read_only(np.array([[1.0, 2.0], [3.0, 4.0]]))
    shared = SampleForward(sample=1, x=frozen[0], y=frozen[1], z=(frozen[0],),
                           a=(frozen[1],), loss=0.0)
    assert np.shares_memory(shared.x, frozen)          # kept as it is, not copied
    with pytest.raises(ValueError):
        shared.x[0] = 5.0


def test_solving_leaves_caller_arrays_alone():
    w1 = np.full((2, 2), 0.1)
    w2 = np.full((3, 2), 0.1)
    problem = bpnn_steps.Problem(layers=(1, 2, 2), activations=("sigmoid", "linear"),
                                 x=np.array([[1.0], [2.0]]), y=np.array([[3.0, 4.0], [6.0, 5.0]]),
                                 weights=(w1, w2), training=bpnn_steps.Training(learning_rate=0.5))
    trace = bpnn_steps.solve(problem)
    assert w1.flags.writeable and (w1 == 0.1).all() and (w2 == 0.1).all()
    # 0.269916 by hand (test_lecture.py); to full precision from the reference
    want = lecture_reference()["steps"][0]["weights_after"]["W1"][1][0]
    assert trace.steps[0].weights_after[0][1, 0] == pytest.approx(want, rel=1e-13)


def test_readme_api_extras():
    problem = bpnn_steps.load_problem("lecture_122")
    # Cost of the data under any weights: the initial ones give the lecture's 19.628361.
    assert bpnn_steps.cost(problem, problem.weights) == pytest.approx(
        ref_cost([[[0.1, 0.1]] * 2, [[0.1, 0.1]] * 3], [[1.0], [2.0]],
                 [[3.0, 4.0], [6.0, 5.0]], ["sigmoid", "linear"], "mse"), rel=1e-13)
    bigger = problem.with_training(epochs=3, learning_rate=0.1)
    assert bigger.training.epochs == 3 and bigger.training.learning_rate == 0.1
    assert problem.training.epochs == 1                    # the original is unchanged
    trace = bpnn_steps.solve(bigger)
    assert len(trace.steps) == 3
    # The final cost is the cost of the data under the final weights.
    assert trace.final_cost == pytest.approx(
        ref_cost([w.tolist() for w in trace.final_weights], [[1.0], [2.0]],
                 [[3.0, 4.0], [6.0, 5.0]], ["sigmoid", "linear"], "mse"), rel=1e-12)


def test_problem_error_attributes():
    text = lecture_text().replace("  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]",
                                  "  W2: [[0.1, 0.1], [0.1, 0.1]]")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("  W2:"))
    with pytest.raises(bpnn_steps.ProblemError) as info:
        bpnn_steps.parse_problem(text, name="inline")
    err = info.value
    assert (err.file, err.line, err.key) == ("inline", line, "weights.W2")
    assert "3 x 2" in err.message and "2 x 2" in err.message
    assert str(err).startswith(f"inline:{line}: weights.W2 ")


def test_input_conveniences_equal_explicit_matrices():
    explicit = bpnn_steps.parse_problem(lecture_text())
    text = lecture_text().replace("x: [[1], [2]]", "x: [1, 2]")
    text = re.sub(r"weights:\n  W1: .*\n  W2: .*\n", "weights:\n  fill: 0.1\n", text)
    assert "fill: 0.1" in text and "x: [1, 2]" in text
    short = bpnn_steps.parse_problem(text)
    np.testing.assert_array_equal(short.x, explicit.x)
    for a, b in zip(short.weights, explicit.weights):
        np.testing.assert_array_equal(a, b)
    assert bpnn_steps.solve(short).to_dict()["steps"] == bpnn_steps.solve(explicit).to_dict()["steps"]


# ----------------------------------------------------------------- one error boundary


def _invoke(*args: str, **kwargs):
    from typer.testing import CliRunner

    from bpnn_steps.cli import app
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120", "NO_COLOR": "1"},
                              **kwargs)


def test_exit_codes_are_the_contracts():
    from bpnn_steps.errors import ExitCode

    # CONTRACT section 4, and as shells report a process ended by a signal:
    # 130 = 128 + SIGINT (Ctrl-C), 141 = 128 + SIGPIPE (a pipe's reader stopped: | head)
    assert {c.name: int(c) for c in ExitCode} == {"OK": 0, "WRONG_ANSWERS": 1, "BAD_INPUT": 2,
                                                 "INTERRUPTED": 130, "READER_GONE": 141}


@pytest.mark.parametrize("args,message", [
    (("solve", "no_such_problem"), "no_such_problem: no such file or bundled problem"),
    (("solve", "lecture_122", "--show", "7"), "--show '7': there is no update 7"),
    (("export", "lecture_122", "--show", "7", "-o", "-"), "--show '7': there is no update 7"),
    (("export", "lecture_122", "--pdf", "--format", "markdown"), "--pdf makes a PDF from LaTeX"),
    (("derive", "no_such_problem"), "no_such_problem: no such file"),
    (("check",), "check needs exactly one of ANSWERS"),
    (("check", "--template", "no_such_problem"), "no_such_problem: no such file"),
    (("train", "lecture_122", "--lr", "-1"), "--learning-rate must be a finite number > 0"),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else "")
def test_bad_input_in_process_and_in_a_process_alike(args, message):
    """The error boundary is the same for typer's CliRunner (the tests) and the
    console script: one line on stderr, exit code 2, nothing on stdout."""
    inside = _invoke(*args)
    outside = run_cli(*args)
    for code, stdout, stderr in ((inside.exit_code, inside.stdout, inside.stderr),
                                 (outside.returncode, outside.stdout, outside.stderr)):
        assert code == 2
        assert stdout == ""
        assert stderr.startswith("bpnn-steps: error: ") and message in stderr, stderr
        assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert inside.stderr == outside.stderr


def test_ctrl_c_exits_130_with_a_note(monkeypatch):
    from bpnn_steps.maths import engine

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "solve", interrupted)
    result = _invoke("solve", "lecture_122")
    assert result.exit_code == 130
    assert result.stderr == "bpnn-steps: interrupted\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", [("solve", "lecture_122"),
                                     ("export", "lecture_122", "-o", "-"),
                                     ("check", "examples/answers/lecture_notes.yaml"),
                                     ("train", "lecture_122", "--epochs", "1")])
def test_decimals_has_one_range_everywhere(command):
    """-d/--decimals accepts 0..15 in every command that has it (check allowed only 12)."""
    for decimals, code in (("15", None), ("0", None), ("16", 2), ("-1", 2)):
        result = _invoke(*command, "--decimals", decimals)
        if code is None:
            assert result.exit_code in (0, 1), result.stderr      # check: 1 = wrong answers
        else:
            assert result.exit_code == code
            assert "--decimals" in result.stderr and "0<=x<=15" in result.stderr


def test_check_shows_15_decimals():
    result = _invoke("check", "examples/answers/lecture_notes.yaml", "--wrong-only",
                     "--decimals", "15")
    assert result.exit_code == 1
    # sample 2's gradient entry dJ/dw01[2]: -5.785 to 3 decimals, 15 requested
    assert re.search(r"−5\.78\d{13}(?!\d)", result.stdout), result.stdout


@pytest.mark.parametrize("command,formats", [
    (("solve", "lecture_122"), {"text", "json", "markdown", "latex"}),
    (("derive", "lecture_122"), {"text", "json", "markdown", "latex"}),
    (("export", "lecture_122", "-o", "-"), {"latex", "markdown"}),
    (("check", "examples/answers/lecture_notes.yaml"), {"text", "json"}),
    (("train", "lecture_122", "--epochs", "1"), {"text", "json"}),
])
def test_each_command_accepts_exactly_its_formats(command, formats):
    for fmt in ("text", "json", "markdown", "latex"):
        result = _invoke(*command, "--format", fmt)
        if fmt in formats:
            assert result.exit_code in (0, 1), (fmt, result.stderr)
            assert result.stdout.strip()
        else:
            assert result.exit_code == 2, fmt
            assert f"'{fmt}' is not one of" in result.stderr


# ----------------------------------------------------------------- number options

# Every float option of every command, with a command line that it is tried on.
FLOAT_OPTIONS = {
    ("check", "--abs-tol"): ("check", "examples/answers/student_mistakes.yaml"),
    ("check", "--rel-tol"): ("check", "examples/answers/student_mistakes.yaml"),
    ("train", "--learning-rate"): ("train", "lecture_122", "-e", "1"),
    ("train", "--beta"): ("train", "lecture_122", "-e", "1"),
}
POSITIVE = {("train", "--learning-rate")}      # 0 is meaningless for these too


def test_every_float_option_is_tried():
    """A new float option of any command joins FLOAT_OPTIONS, and so the test below."""
    import typing

    import typer.main

    from bpnn_steps.cli import app

    group = typer.main.get_command(app)
    found = set()
    for name, command in group.commands.items():
        hints = typing.get_type_hints(command.callback)
        for param in command.params:
            if hints.get(param.name) in (float, typing.Optional[float]):
                found.add((name, param.opts[0]))
    assert found == set(FLOAT_OPTIONS)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "-1", "0", "zero"])
@pytest.mark.parametrize("command,option", sorted(FLOAT_OPTIONS),
                         ids=[" ".join(key) for key in sorted(FLOAT_OPTIONS)])
def test_a_float_option_must_be_a_finite_number(command, option, value):
    """nan, inf and 1e400 (inf as a double) were taken as tolerances: --abs-tol nan
    marked exactly right answers as slips, --abs-tol inf every wrong one right."""
    if value == "0" and (command, option) not in POSITIVE:
        return
    bound = "> 0" if (command, option) in POSITIVE else ">= 0"
    out = run_cli(*FLOAT_OPTIONS[command, option], option, value)
    assert (out.returncode, out.stdout) == (2, ""), out.stdout
    assert out.stderr == (f"bpnn-steps: error: {option} must be a finite number {bound}, "
                          f"got {value}\n")


def test_a_finite_tolerance_is_taken():
    out = run_cli("check", "examples/answers/student_mistakes.yaml", "--abs-tol", "1e-3",
                  "--rel-tol", "0")
    assert out.returncode == 1, out.stderr
    assert "abs 0.001, rel 0" in out.stdout


# ----------------------------------------------------------------- options that do nothing

ANSWERS = "examples/answers/student_mistakes.yaml"
TEMPLATE_REFUSES = ("not go with --template, which writes a blank answer sheet of the "
                    "problem it names: marking options go with ANSWERS or --batch DIR")


@pytest.mark.parametrize("args,message", [
    (("check", "--template", "lecture_122", "-p", "quiz_11"),
     "--problem does " + TEMPLATE_REFUSES),
    (("check", "--template", "lecture_122", "-f", "json", "--wrong-only", "--abs-tol", "0.1",
      "--round-as-you-go", "2", "--no-follow-through"),
     "--format, --abs-tol, --round-as-you-go, --no-follow-through and --wrong-only do "
     + TEMPLATE_REFUSES),
    (("check", ANSWERS, "--updates", "5"),
     "--updates does not go with ANSWERS (--updates and --force shape the blank sheet "
     "--template PROBLEM writes)"),
    (("check", ANSWERS, "--force"),
     "--force does not go with ANSWERS (--updates and --force shape the blank sheet "
     "--template PROBLEM writes)"),
    (("check", "--batch", "examples/answers", "-o", "marks", "--updates", "1", "--force"),
     "--updates and --force do not go with --batch (--updates and --force shape the blank "
     "sheet --template PROBLEM writes)"),
    (("check", "--batch", "examples/answers", "-o", "marks", "--wrong-only", "-d", "4"),
     "--wrong-only and --decimals do not go with --batch, whose gradebook shows scores, not "
     "entries (check ANSWERS shows a file's entries)"),
    (("train", "lecture_122", "--shuffle", "-m", "batch"),
     "--shuffle applies to methods sgd and minibatch only, but the method is batch; add "
     "--method sgd or --method minibatch"),
    (("course", "examples/course", "--tex", "--only", "moodle,key"),
     "--tex writes the question and solution books as LaTeX, but --only moodle,key writes "
     "neither; add questions or solutions to --only, or leave out --tex"),
], ids=lambda a: " ".join(a[:1] + a[2:]) if isinstance(a, tuple) else "")
def test_an_option_that_would_do_nothing_is_refused(tmp_path, args, message):
    """Each was accepted and ignored: the sheet of --template, not of -p, was written;
    --updates and --force marked the file; train --shuffle ran batch GD unshuffled;
    course --tex --only moodle wrote Moodle XML and no LaTeX."""
    args = tuple(str(REPO / a) if a.startswith("examples/") else a for a in args)
    out = run_cli(*args, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (2, ""), out.stderr
    assert out.stderr == f"bpnn-steps: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("check", "--template", "lecture_122", "--updates", "1", "--force", "-o", "s.yaml"),
    ("check", ANSWERS, "-p", "lecture_122", "--abs-tol", "0.1", "--no-follow-through",
     "--wrong-only", "-d", "4", "-f", "json"),
    ("train", "lecture_122", "--shuffle", "-m", "sgd", "-e", "2"),
    ("train", "lecture_122", "--no-shuffle", "-e", "2"),
    ("course", "examples/course", "--tex", "--only", "moodle,questions"),
])
def test_the_options_a_mode_uses_are_taken(tmp_path, args):
    args = tuple(str(REPO / a) if a.startswith("examples/") else a for a in args)
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode in (0, 1), out.stderr
