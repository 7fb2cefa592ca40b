"""`bpnn-steps train` as a user runs it: summary, JSON, --save, overrides, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

import numpy as np
import pytest
from typer.testing import CliRunner

from bpnn_steps.cli import app
from bpnn_steps.maths.engine import solve
from bpnn_steps.files.problem_file import load_problem

runner = CliRunner()

EXAMPLES = ("line_1101_gd", "sine_181_sgd", "sine_1101_overfit", "sine_1101_l2")


def run(*args: str):
    return runner.invoke(app, ["train", *args])


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_bundled_examples_are_listed_with_titles():
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in EXAMPLES:
        assert name in result.stdout
    assert "over-fitting" in result.stdout.lower() or "Over-fitting" in result.stdout


def test_text_summary_reports_costs_errors_and_weights():
    # 30 epochs (4,500 updates at 300 took a second and a half): the summary's parts
    # do not depend on the length of the run
    result = run("sine_1101_overfit", "--epochs", "30")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "ran      30 of 30 epochs" in out
    assert "before training" in out and "after epoch 30" in out
    assert "training error" in out and "test error" in out
    assert "W1 (2 x 10)" in out and "W2 (11 x 1)" in out
    assert "cost per epoch, log scale" in out
    assert result.stderr == ""                    # no progress bar when not a terminal


def test_json_gives_history_and_final_weights_matching_the_engine():
    result = run("lecture_122", "--epochs", "5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    trace = solve(load_problem("lecture_122").with_training(epochs=5))
    assert doc["format"] == "bpnn-steps training"
    assert doc["epochs_run"] == 5 and not doc["interrupted"]
    assert doc["cost_history"]["epochs"] == [0, 1, 2, 3, 4, 5]
    assert doc["cost_history"]["costs"][1:] == list(trace.epoch_costs)
    for n, w in enumerate(trace.final_weights, start=1):
        assert doc["final"]["weights"][f"W{n}"] == w.tolist()
    assert doc["final"]["test_error"] is None


def test_overrides_reach_the_run():
    result = run("sine_181_sgd", "--epochs", "3", "--lr", "0.05", "--method", "minibatch",
                 "--batch-size", "7", "--beta", "0.01", "--shuffle", "--seed", "4",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    p = json.loads(result.stdout)["problem"]
    assert (p["epochs"], p["learning_rate"], p["method"], p["batch_size"], p["l2"],
            p["shuffle"], p["seed"]) == (3, 0.05, "minibatch", 7, 0.01, True, 4)
    doc = json.loads(result.stdout)
    assert doc["updates"] == 3 * 6                # ceil(40 / 7) updates per epoch


def test_seed_option_drives_random_initial_weights_and_is_reproducible(tmp_path):
    body = """\
        network: {layers: [1, 3, 1], activations: [sigmoid, linear]}
        data: {generate: {kind: sine, points: 5}}
        weights: {random: {scale: 0.5}}
        training: {learning_rate: 0.1, epochs: 2%s}
    """
    prob = write(tmp_path / "p.yaml", body % "")
    args = (str(prob), "--format", "json")
    a = json.loads(run(*args, "--seed", "7").stdout)["final"]["weights"]
    b = json.loads(run(*args, "--seed", "7").stdout)["final"]["weights"]
    c = json.loads(run(*args, "--seed", "8").stdout)["final"]["weights"]
    assert a == b
    assert a != c
    # the same as writing the seed into the file
    literal = write(tmp_path / "q.yaml", body % ", seed: 7")
    trace = solve(load_problem(literal))
    assert a["W1"] == trace.final_weights[0].tolist()


def test_seed_option_on_a_file_without_training_settings(tmp_path):
    body = """\
        network: {layers: [1, 2, 1], activations: [tanh, linear]}
        data: {x: [0, 1, 2], y: [1, 0, 1]}
        weights: {random: {distribution: normal, scale: 0.5}}
        %s"""
    bare = write(tmp_path / "bare.yaml", body % "")
    literal = write(tmp_path / "literal.yaml", body % "training: {seed: 7}\n")
    args = ("--lr", "0.1", "--epochs", "2", "--format", "json")
    seeded = json.loads(run(str(bare), "--seed", "7", *args).stdout)
    assert seeded["final"]["weights"] == \
        json.loads(run(str(literal), *args).stdout)["final"]["weights"]
    assert seeded["final"]["weights"] != \
        json.loads(run(str(bare), "--seed", "8", *args).stdout)["final"]["weights"]
    assert seeded["problem"]["seed"] == 7


def test_the_problem_file_is_read_and_parsed_once(tmp_path, monkeypatch):
    """--seed, --save and generated data (the JSON names their generator) all come
    from one reading of the file."""
    from bpnn_steps.files import problem_file, textio

    reads: list[str] = []
    parses: list[str] = []
    read_text, parse_yaml = textio.read_text, problem_file.parse_yaml

    def counted_read(path, display, *args):
        reads.append(display)
        return read_text(path, display, *args)

    def counted_parse(text, name):
        parses.append(name)
        return parse_yaml(text, name)

    monkeypatch.setattr(textio, "read_text", counted_read)
    monkeypatch.setattr(problem_file, "parse_yaml", counted_parse)
    prob = write(tmp_path / "p.yaml", """\
        network: {layers: [1, 3, 1], activations: [sigmoid, linear]}
        data: {generate: {kind: sine, points: 5}}
        weights: {random: {scale: 0.5}}
        training: {learning_rate: 0.1, epochs: 2}
    """)
    result = run(str(prob), "--seed", "3", "--save", str(tmp_path / "t.yaml"),
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data"]["generate"]["kind"] == "sine"
    assert reads == [str(prob)] and parses == [str(prob)]


def test_save_writes_a_problem_file_that_solve_and_train_accept(tmp_path):
    saved = tmp_path / "trained.yaml"
    result = run("sine_181_sgd", "--epochs", "20", "--save", str(saved), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"wrote {saved}" in result.stderr
    final = json.loads(result.stdout)["final"]["weights"]
    p = load_problem(saved)
    for n, w in enumerate(p.weights, start=1):
        assert w.tolist() == final[f"W{n}"]       # exactly: full precision round trip
    original = load_problem("sine_181_sgd")
    assert np.array_equal(p.x, original.x) and np.array_equal(p.y, original.y)
    assert p.training.epochs == 20 and p.training.learning_rate == 0.03
    # one traced step from the trained weights
    step = runner.invoke(app, ["solve", str(saved), "--epochs", "1", "--format", "json"])
    assert step.exit_code == 0, step.stderr
    assert json.loads(step.stdout)["steps"][0]["weights_before"]["W1"] == final["W1"]
    # training continues from them: 20 + 20 epochs = 40 epochs at once
    more = json.loads(run(str(saved), "--format", "json").stdout)["final"]["weights"]
    once = json.loads(run("sine_181_sgd", "--epochs", "40", "--format", "json").stdout)
    for n in (1, 2):
        np.testing.assert_allclose(more[f"W{n}"], once["final"]["weights"][f"W{n}"],
                                   rtol=1e-12, atol=1e-12)


def test_save_keeps_csv_data_reachable_from_another_folder(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    write(tmp_path / "in" / "pts.csv", "x,y\n0,0\n1,1\n2,4\n")
    prob = write(tmp_path / "in" / "p.yaml", """\
        network: {layers: [1, 2, 1], activations: [tanh, linear]}
        data: {csv: pts.csv, test_fraction: 0.34}
        weights: 0.1
        training: {learning_rate: 0.1, epochs: 3}
    """)
    saved = tmp_path / "out" / "t.yaml"
    assert run(str(prob), "--save", str(saved)).exit_code == 0
    p = load_problem(saved)
    q = load_problem(prob)
    assert np.array_equal(p.x, q.x) and np.array_equal(p.x_test, q.x_test)


@pytest.mark.parametrize("args,message", [
    (("sine_181_sgd", "--method", "minibatch"), "--method minibatch needs --batch-size"),
    (("sine_181_sgd", "--batch-size", "3"), "--batch-size applies to method minibatch only"),
    (("sine_181_sgd", "--lr", "0"), "--learning-rate must be a finite number > 0"),
    (("sine_181_sgd", "--beta", "-1"), "--beta must be a finite number >= 0"),
    (("sine_181_sgd", "--plot", "fig.gif"), "--plot: fig.gif must end in .png, .svg or .pdf"),
    (("no_such_problem",), "no_such_problem: no such file"),
    (("lecture_122", "--lr", "1e9", "--epochs", "50"), "diverged"),
])
def test_bad_command_lines_exit_2_with_one_message(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("data,csv_text,message", [
    ("csv: d.csv", "x,y\n1,2\n3,oops\n", "d.csv:3: column 'y' must be a finite number"),
    ("csv: d.csv", "", "d.csv: has no rows of data"),
    ("csv: missing.csv", None, "data.csv cannot read 'missing.csv': no such file"),
    ("generate: {kind: moons}", None, "data.generate.kind moons data have 2 inputs"),
    ("{x: [1, 2], y: [1]}", None, "data.y must have one row per row of data.x"),
])
def test_bad_data_files_exit_2(tmp_path, monkeypatch, data, csv_text, message):
    monkeypatch.chdir(tmp_path)
    if csv_text is not None:
        (tmp_path / "d.csv").write_text(csv_text)
    write(tmp_path / "p.yaml", f"""\
        network: {{layers: [1, 2, 1], activations: [tanh, linear]}}
        data: {data if data.startswith("{") else "{" + data + "}"}
        weights: 0.1
        training: {{learning_rate: 0.1, epochs: 3}}
    """)
    result = run("p.yaml")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("bpnn-steps: error: ")
    assert "Traceback" not in result.stderr


def test_progress_bar_when_asked_goes_to_stderr():
    result = run("sine_181_sgd", "--epochs", "10", "--progress")
    assert result.exit_code == 0
    assert "epoch" in result.stderr and "updates/s" in result.stderr


def _modules_after(code: str) -> list[set[str]]:
    """The modules imported after each part of ``code`` (parts separated by "#--")."""
    report = "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", report.join(code.split("#--")) + report],
                         capture_output=True, text=True, check=True)
    return [set(line.split()) for line in out.stdout.splitlines()]


def test_small_runs_and_solve_never_import_numba_or_matplotlib():
    # One process for both: neither may import numba or matplotlib, so the modules
    # after the small run and then after solve as well answer for each of them.
    small, solved = _modules_after("from bpnn_steps.cli import app\n"
                                   "from typer.testing import CliRunner\n"
                                   "r = CliRunner().invoke(app, ['train', 'lecture_122', "
                                   "'--epochs', '20'])\nassert r.exit_code == 0, r.output\n"
                                   "#--"
                                   "r = CliRunner().invoke(app, ['solve', 'lecture_122'])\n"
                                   "assert r.exit_code == 0")
    assert "numba" not in small and "matplotlib" not in small and "sympy" not in small
    assert "numba" not in solved and "matplotlib" not in solved
    [big] = _modules_after("from bpnn_steps.files.problem_file import load_problem\n"
                           "from bpnn_steps.maths.training import train\n"
                           "train(load_problem('sine_181_sgd').with_training(epochs=2000))")
    assert "numba" in big and "matplotlib" not in big


def test_kernel_folder_choice_skips_folders_that_cannot_be_written(tmp_path, monkeypatch):
    from bpnn_steps.maths import kernels

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("BPNN_STEPS_KERNEL_DIR", str(tmp_path / "kernels"))
    assert kernels.cache_dir() == tmp_path / "kernels"
    monkeypatch.setenv("BPNN_STEPS_KERNEL_DIR", str(blocked / "sub"))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)    # would come before XDG
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernels.cache_dir() == tmp_path / "xdg" / "bpnn-steps" / "kernels"


def test_kernel_without_a_writable_folder_compiles_in_memory(tmp_path, monkeypatch):
    from bpnn_steps.maths import kernels
    from bpnn_steps.files.problem_file import parse_problem
    from bpnn_steps.maths.training import train

    monkeypatch.setattr(kernels, "cache_dir", lambda: None)
    monkeypatch.setattr(kernels, "_LOADED", {})
    problem = parse_problem("network: {layers: [1, 1], activations: [linear]}\n"
                            "data: {x: [0, 1, 2], y: [1, 3, 5]}\nweights: 0.0\n"
                            "training: {learning_rate: 0.1, method: sgd, epochs: 5}\n")
    result = train(problem, kernel="compiled")
    assert result.kernel == "compiled"
    module = next(iter(kernels._LOADED.values()))
    assert module.CACHE is False                  # compiled from text, not from a file
    reference = solve(problem)
    for got, ref in zip(result.weights, reference.final_weights):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_ctrl_c_writes_what_training_has_and_says_so(tmp_path):
    """SIGINT during a run of 10**8 epochs (whose set-up no longer allocates per
    epoch): the JSON, the saved problem and the plot of the epochs run so far are
    written, stderr says where it stopped and what it wrote, exit 130.  A signal
    that lands before training starts (a slow machine) interrupts the set-up
    instead, so the test then tries again with a longer wait."""
    import signal
    import time

    out, saved, plot = tmp_path / "out.json", tmp_path / "saved.yaml", tmp_path / "fit.png"
    command = [sys.executable, "-m", "bpnn_steps", "train", "sine_181_sgd", "--epochs",
               "100000000", "--kernel", "numpy", "-f", "json", "-o", str(out), "--save",
               str(saved), "--plot", str(plot), "--no-progress"]
    for wait in (1.5, 4, 10, 20, 40):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=tmp_path)
        time.sleep(wait)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr
        if out.exists():
            break
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["interrupted"] and 0 < doc["epochs_run"] < 100_000_000
    assert f"interrupted at epoch {doc['epochs_run']:} of 100000000; wrote {saved}, {plot}, " \
           f"{out}" in stderr
    assert saved.exists() and plot.exists()
    assert stdout == ""
