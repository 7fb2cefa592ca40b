"""Bad input through the real CLI: exit code 2, one clear line on stderr naming
the file and the key (and the line where it is known), nothing on stdout, no
traceback, no output file (CONTRACT section 4)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import bpnn_steps
from helpers import run_cli, write_file

# Line numbers matter: the messages must point at them.
BASE = """\
network:
  layers: [1, 2, 2]
  activations: [sigmoid, linear]
data:
  x: [[1], [2]]
  y: [[3, 4], [6, 5]]
weights:
  W1: [[0.1, 0.1], [0.1, 0.1]]
  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]
training:
  learning_rate: 0.5
  method: batch
  epochs: 1
loss: mse
"""
LINE = {text.strip().split(":")[0]: n for n, text in enumerate(BASE.splitlines(), start=1)}
MARKER = "PWNED"


def variant(*pairs: tuple[str, str]) -> str:
    """BASE with each (old, new) replaced exactly once."""
    text = BASE
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def tag(value_yaml_path: str) -> str:
    return f'!!python/object/apply:os.system ["touch {value_yaml_path}"]'


# (id, file text or None for special set-ups, key expected in the message,
#  line expected (None: not checked), other fragments expected in the message)
CASES = [
    ("unknown-top", variant(("loss: mse", "los: mse")), "los", LINE["loss"], ["'loss'"]),
    # only `variants` writes variant:, and a sheet carries it to check, which reads an id
    # (a hand-written 'variant: A' gave a blank sheet that check refused)
    ("variant-not-an-id", variant(("loss: mse", "loss: mse\nvariant: A")), "variant",
     LINE["loss"] + 1, ["must be a variant id such as lecture_122-s7-003", "got 'A'"]),
    ("unknown-network", variant(("  layers:", "  layer:")), "network.layer", 2, ["'layers'"]),
    ("unknown-data", variant(("  x: [[1], [2]]", "  xs: [[1], [2]]")), "data.xs", 5, ["'x'"]),
    ("unknown-weights", variant(("  W2:", "  W02:")), "weights.W02", 9, ["'W2'"]),
    ("unknown-training", variant(("learning_rate", "learnig_rate")),
     "training.learnig_rate", 11, ["'learning_rate'"]),
    ("unknown-random",
     variant(("  W1: [[0.1, 0.1], [0.1, 0.1]]\n  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]\n",
              "  random:\n    distribution: normal\n    sede: 3\n")),
     "weights.random.sede", 10, ["'seed'"]),
    ("unknown-no-close-match", variant(("loss: mse", "colour: blue")), "colour", 14,
     ["expected one of", "network"]),
    ("shape-W1", variant(("  W1: [[0.1, 0.1], [0.1, 0.1]]",
                          "  W1: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]")),
     "weights.W1", 8, ["2 x 2", "got 3 x 2"]),
    ("row-length-x", variant(("  x: [[1], [2]]", "  x: [[1, 5], [2]]")), "data.x[0]", 5,
     ["1 number", "got 2"]),
    ("row-length-y", variant(("  y: [[3, 4], [6, 5]]", "  y: [[3, 4], [6]]")), "data.y[1]", 6,
     ["2 numbers", "got 1"]),
    ("row-count", variant(("  y: [[3, 4], [6, 5]]", "  y: [[3, 4]]")), "data.y", 6,
     ["2", "got 1"]),
    ("inf-learning-rate", variant(("learning_rate: 0.5", "learning_rate: .inf")),
     "training.learning_rate", 11, ["finite"]),
    ("nan-weight", variant(("  W1: [[0.1, 0.1]", "  W1: [[.nan, 0.1]")), "weights.W1[0][0]", 8,
     ["finite"]),
    ("minus-inf-data", variant(("  x: [[1], [2]]", "  x: [[1], [-.inf]]")), "data.x[1][0]", 5,
     ["finite"]),
    ("quoted-number", variant(("learning_rate: 0.5", 'learning_rate: "0.1"')),
     "training.learning_rate", 11, ["number", "'0.1'"]),
    ("quoted-number-in-matrix", variant(("  W2: [[0.1, 0.1],", '  W2: [[0.1, "0.1"],')),
     "weights.W2[0][1]", 9, ["number", "'0.1'"]),
    ("boolean-learning-rate", variant(("learning_rate: 0.5", "learning_rate: true")),
     "training.learning_rate", 11, ["number", "true"]),
    ("boolean-in-data", variant(("  y: [[3, 4]", "  y: [[false, 4]")), "data.y[0][0]", 6,
     ["number", "false"]),
    ("boolean-layer-size", variant(("layers: [1, 2, 2]", "layers: [1, true, 2]")),
     "network.layers[1]", 2, ["whole number"]),
    ("softmax-hidden", variant(("[sigmoid, linear]", "[softmax, linear]")),
     "network.activations[0]", 3, ["softmax", "output"]),
    ("bce-without-sigmoid", variant(("loss: mse", "loss: bce")), "loss", 14,
     ["bce", "sigmoid"]),
    ("ce-without-softmax", variant(("loss: mse", "loss: ce")), "loss", 14, ["ce", "softmax"]),
    ("bce-targets", variant(("loss: mse", "loss: bce"), ("[sigmoid, linear]", "[sigmoid, sigmoid]")),
     "data.y[0]", 6, ["[0, 1]"]),
    ("ce-targets", variant(("loss: mse", "loss: ce"), ("[sigmoid, linear]", "[sigmoid, softmax]"),
                           ("  y: [[3, 4], [6, 5]]", "  y: [[0, 1],\n      [0.5, 0.4]]")),
     "data.y[1]", 7, ["sum to 1"]),
    ("minibatch-without-batch-size", variant(("method: batch", "method: minibatch")),
     "training.batch_size", None, ["minibatch"]),
    ("negative-learning-rate", variant(("learning_rate: 0.5", "learning_rate: -0.5")),
     "training.learning_rate", 11, ["> 0"]),
    ("zero-learning-rate", variant(("learning_rate: 0.5", "learning_rate: 0")),
     "training.learning_rate", 11, ["> 0"]),
    ("epochs-zero", variant(("epochs: 1", "epochs: 0")), "training.epochs", 13, [">= 1"]),
    ("epochs-fraction", variant(("epochs: 1", "epochs: 1.5")), "training.epochs", 13,
     ["whole number"]),
    ("unknown-activation", variant(("[sigmoid, linear]", "[sigmoyd, linear]")),
     "network.activations[0]", 3, ["'sigmoid'"]),
    ("unknown-method", variant(("method: batch", "method: stochastic")), "training.method", 12,
     ["batch", "sgd", "minibatch"]),
    ("activations-count", variant(("[sigmoid, linear]", "[sigmoid]")), "network.activations", 3,
     ["2"]),
    ("missing-weights", variant(("weights:\n  W1: [[0.1, 0.1], [0.1, 0.1]]\n"
                                 "  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]\n", "")),
     "weights", None, ["missing"]),
    ("missing-learning-rate", variant(("  learning_rate: 0.5\n", "")), "training.learning_rate",
     None, ["missing"]),
    ("missing-network", variant(("network:\n  layers: [1, 2, 2]\n"
                                 "  activations: [sigmoid, linear]\n", "")),
     "network", None, ["missing"]),
    ("duplicate-key", BASE + "loss: mse\n", None, 15, ["duplicate", "loss"]),
    ("yaml-syntax", variant(("  layers: [1, 2, 2]", "  layers: [1, 2, 2")), None, None,
     ["YAML"]),
    ("empty-file", "", None, None, ["empty"]),
    ("only-comments", "# nothing here\n", None, None, ["empty"]),
    ("top-level-list", "- 1\n- 2\n", None, 1, ["mapping"]),
    ("top-level-text", "just some words\n", None, 1, ["mapping"]),
    ("tag-learning-rate", variant(("learning_rate: 0.5", "learning_rate: " + tag(MARKER))),
     "training.learning_rate", 11, ["tag"]),
    ("tag-weights", variant(("  W1: [[0.1, 0.1], [0.1, 0.1]]", "  W1: " + tag(MARKER))),
     "weights.W1", 8, ["tag"]),
    ("tag-title", "title: " + tag(MARKER) + "\n" + BASE, "title", 1, ["tag"]),
    ("tag-whole-file", tag(MARKER) + "\n", None, 1, ["tag"]),
    ("tag-section", variant(("training:\n", "training: !!python/object/apply:os.system\n")),
     "training", None, ["tag"]),
]


def check_bad_input(out, tmp_path: Path, name: str, key, line, fragments) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    for stream in (out.stdout, out.stderr):
        assert "Traceback" not in stream
    assert out.stdout == ""
    err = out.stderr.strip("\n")
    assert err, "no message on stderr"
    assert "\n" not in err, f"more than one line on stderr:\n{out.stderr}"
    assert name in err
    if line is not None:
        assert f"{name}:{line}:" in err, f"line {line} not named: {err}"
    if key is not None:
        assert re.search(rf"(?<![\w.]){re.escape(key)}(?![\w\[])", err), \
            f"key {key!r} not named: {err}"
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert not (tmp_path / "out.txt").exists(), "an output file was written"
    assert not (tmp_path / MARKER).exists(), "a YAML tag was executed"
    return err


@pytest.fixture(scope="module")
def case_runs(tmp_path_factory):
    """Run every case of CASES once, each in its own folder:
    {case id: (folder, completed process)}."""

    def run(case):
        folder = tmp_path_factory.mktemp(case[0])
        write_file(folder, "lecture.yaml", case[1])
        return case[0], (folder, run_cli("solve", "lecture.yaml", "-o", "out.txt", cwd=folder))

    return dict(map(run, CASES))


@pytest.mark.parametrize("case_id,text,key,line,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_problem_file(case_runs, case_id, text, key, line, fragments):
    folder, out = case_runs[case_id]
    assert (folder / "lecture.yaml").read_text(encoding="utf-8") == text
    check_bad_input(out, folder, "lecture.yaml", key, line, fragments)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_bad_input_prints_nothing_on_stdout(tmp_path, fmt):
    write_file(tmp_path, "lecture.yaml", variant(("  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]",
                                                  "  W2: [[0.1, 0.1], [0.1, 0.1]]")))
    out = run_cli("solve", "lecture.yaml", "--format", fmt, cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture.yaml", "weights.W2", 9, [])


def test_wrong_weight_shape_message_style(tmp_path):
    """`lecture.yaml:9: weights.W2 must be 3 x 2 ... got 2 x 2`."""
    write_file(tmp_path, "lecture.yaml", variant(("  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]",
                                                  "  W2: [[0.1, 0.1], [0.1, 0.1]]")))
    out = run_cli("solve", "lecture.yaml", "-o", "out.txt", cwd=tmp_path)
    err = check_bad_input(out, tmp_path, "lecture.yaml", "weights.W2", 9, [])
    assert re.search(r"(^|\s)lecture\.yaml:9: weights\.W2 must be 3 x 2\b.*\bgot 2 x 2\s*$", err), err


def test_yaml_syntax_error_names_its_line(tmp_path):
    text = BASE.replace("  x: [[1], [2]]", "  x: [[1], [2]\n  y2: 1")
    write_file(tmp_path, "lecture.yaml", text)
    out = run_cli("solve", "lecture.yaml", "-o", "out.txt", cwd=tmp_path)
    err = check_bad_input(out, tmp_path, "lecture.yaml", None, None, ["YAML"])
    m = re.search(r"lecture\.yaml:(\d+):", err)
    assert m and 5 <= int(m.group(1)) <= 7, err


def test_python_tag_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    text = variant(("learning_rate: 0.5", "learning_rate: " + tag(str(marker))))
    write_file(tmp_path, "lecture.yaml", text)
    out = run_cli("solve", "lecture.yaml", cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture.yaml", "training.learning_rate", 11, ["tag"])
    assert not marker.exists()
    with pytest.raises(bpnn_steps.ProblemError):
        bpnn_steps.parse_problem(text)
    assert not marker.exists()


# ----------------------------------------------------------------- files that cannot be read


def test_missing_file(tmp_path):
    out = run_cli("solve", "missing.yaml", "-o", "out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "missing.yaml", None, None, ["no such file"])


def test_missing_bundled_name(tmp_path):
    out = run_cli("solve", "lecture_999", cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture_999", None, None, [])


def test_directory(tmp_path):
    (tmp_path / "problems.yaml").mkdir()
    out = run_cli("solve", "problems.yaml", "-o", "out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "problems.yaml", None, None, ["folder"])


def test_path_through_a_file_cannot_be_read(tmp_path):
    write_file(tmp_path, "lecture.yaml", BASE)
    out = run_cli("solve", "lecture.yaml/inner.yaml", "-o", "out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture.yaml/inner.yaml", None, None, [])


# Run the real command line with the opening of lecture.yaml failing with EACCES,
# for root (CI containers), who reads files whatever their permissions.
_DENY_OPEN = """
import errno, os, pathlib, sys
_open, _os_open = pathlib.Path.open, os.open
def _denied(self, *args, **kwargs):
    if self.name == "lecture.yaml":
        raise PermissionError(errno.EACCES, "Permission denied", str(self))
    return _open(self, *args, **kwargs)
def _os_denied(path, *args, **kwargs):
    if os.fspath(path).endswith("lecture.yaml"):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
    return _os_open(path, *args, **kwargs)
pathlib.Path.open, os.open = _denied, _os_denied
from bpnn_steps.cli import main
sys.argv = ["bpnn-steps"] + sys.argv[1:]
main()
"""


def test_unreadable_file(tmp_path):
    import subprocess
    import sys

    from helpers import cli_env

    path = write_file(tmp_path, "lecture.yaml", BASE)
    args = ("solve", "lecture.yaml", "-o", "out.txt")
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
        try:
            out = run_cli(*args, cwd=tmp_path)
        finally:
            path.chmod(0o644)
    else:
        out = subprocess.run([sys.executable, "-c", _DENY_OPEN, *args], cwd=tmp_path,
                             env=cli_env(), capture_output=True, text=True, encoding="utf-8",
                             timeout=60)
    check_bad_input(out, tmp_path, "lecture.yaml", None, None, ["cannot be read"])


def test_non_utf8_bytes(tmp_path):
    (tmp_path / "lecture.yaml").write_bytes(b"title: caf\xe9 \xff\xfe\n" + BASE.encode())
    out = run_cli("solve", "lecture.yaml", "-o", "out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture.yaml", None, None, ["UTF-8"])


def test_output_into_missing_folder(tmp_path):
    write_file(tmp_path, "lecture.yaml", BASE)
    out = run_cli("solve", "lecture.yaml", "-o", "nowhere/out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "out.txt", None, None, ["nowhere"])
    assert not (tmp_path / "nowhere").exists()


# ----------------------------------------------------------------- numbers


def test_exponent_numbers_load_as_floats(tmp_path):
    text = variant(("learning_rate: 0.5", "learning_rate: 5e-1"), ("epochs: 1", "epochs: 1\n  l2: 1e-3"))
    p = bpnn_steps.parse_problem(text, name="sci.yaml")
    assert p.training.learning_rate == 0.5 and isinstance(p.training.learning_rate, float)
    assert p.training.l2 == 0.001 and isinstance(p.training.l2, float)
    write_file(tmp_path, "sci.yaml", text)
    out = run_cli("solve", "sci.yaml", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["problem"]["learning_rate"] == 0.5
    assert doc["problem"]["l2"] == 0.001


def test_too_large_integer_is_bad_input(tmp_path):
    """A 400-digit integer is finite YAML but no double: it must be reported, not crash."""
    text = variant(("learning_rate: 0.5", "learning_rate: 1" + "0" * 400))
    write_file(tmp_path, "lecture.yaml", text)
    out = run_cli("solve", "lecture.yaml", "-o", "out.txt", cwd=tmp_path)
    check_bad_input(out, tmp_path, "lecture.yaml", "training.learning_rate", 11, [])


def test_diverging_training_with_json_output_is_reported_not_a_traceback(tmp_path):
    """lambda = 5 for 500 epochs overflows to inf/nan; JSON has no literal for
    those, so the run must end with a clear error (exit 2), not a traceback."""
    text = variant(("learning_rate: 0.5", "learning_rate: 5"), ("epochs: 1", "epochs: 500"))
    write_file(tmp_path, "lecture.yaml", text)
    out = run_cli("solve", "lecture.yaml", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in out.stderr
    assert out.returncode == 2, out.stderr[-500:]
    assert out.stdout == ""
    last = out.stderr.strip().splitlines()[-1]
    assert "lecture.yaml" in last


# ----------------------------------------------------------------- command-line errors


@pytest.mark.parametrize("args", [
    ["solve", "lecture_122", "--bogus"],
    ["solve", "lecture_122", "--show", "every:x"],
    ["solve", "lecture_122", "--show", "every:0"],
    ["solve", "lecture_122", "--show", "sometimes"],
    ["solve", "lecture_122", "--format", "pdf"],
    ["solve", "lecture_122", "--decimals", "99"],
    ["solve", "lecture_122", "--epochs", "0"],
    ["solve"],
    ["frobnicate"],
], ids=lambda a: " ".join(a[1:]) or a[0])
def test_command_line_errors(args):
    out = run_cli(*args)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stdout == ""
    assert out.stderr.strip()


# What a problem file may leave out (derive needs none of it) and what solving says.
LEFT_OUT = [
    (("data:\n  x: [[1], [2]]\n  y: [[3, 4], [6, 5]]\n", ""), "data",
     "solving needs data.x and data.y"),
    (("weights:\n  W1: [[0.1, 0.1], [0.1, 0.1]]\n"
      "  W2: [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]\n", ""), "weights",
     "solving needs initial weights"),
    (("  learning_rate: 0.5\n", ""), "training.learning_rate", "solving needs lambda"),
]
NEEDS_SOLVING = [
    ("solve", "p.yaml", "-o", "out.txt"),
    ("export", "p.yaml", "-o", "out.txt"),
    ("export", "p.yaml", "--sheet", "question", "-o", "out.txt"),
    ("export", "p.yaml", "-f", "html", "-o", "out.txt"),
    ("check", "--template", "p.yaml", "-o", "out.txt"),
    ("check", "answers.yaml", "-o", "out.txt"),
    ("train", "p.yaml", "--save", "out.txt"),
    ("variants", "p.yaml", "--count", "2", "-o", "out.txt"),
]


@pytest.mark.parametrize("cut, key, need", LEFT_OUT, ids=[c[1] for c in LEFT_OUT])
def test_a_problem_without_what_solving_needs_is_one_message(tmp_path, cut, key,
                                                              need) -> None:
    """Every command that solves names what the file left out; derive needs none of it.
    (check --template and the practice page once divided by the zero samples of a
    problem without data.)"""
    write_file(tmp_path, "p.yaml", variant(cut))
    write_file(tmp_path, "answers.yaml", "problem: p.yaml\nanswers:\n  J: 1\n")
    for args in NEEDS_SOLVING:
        err = check_bad_input(run_cli(*args, cwd=tmp_path), tmp_path, "p.yaml", key, None,
                              [need])
        assert err.count("p.yaml") == 1, (args, err)
    assert run_cli("derive", "p.yaml", cwd=tmp_path).returncode == 0


# ----------------------------------------------------------------- values an option gave

LONG = variant(("epochs: 1", "epochs: 20001"))
STRONG_L2 = variant(("epochs: 1", "epochs: 50\n  l2: 1e30"))


@pytest.mark.parametrize("args,starts", [
    (("train", "lecture.yaml", "--beta", "1e30", "-e", "50"),
     "--beta 1e+30 is too large for the learning rate 0.5: each update multiplies the "
     "weights by 1 - lambda beta = -5e+29, so the calculation diverged at epoch "),
    (("train", "lecture.yaml", "--lr", "1e9", "-e", "50"),
     "--learning-rate 1e+09 is too large for these weights and data: the calculation "
     "diverged at epoch "),
    (("solve", "lecture.yaml", "-e", "20001"),
     "--epochs gives 20,001 updates (20,001 epochs); solve traces every intermediate"),
    (("solve", "line_1101_gd", "-e", "5000"),
     "--epochs gives 105,000 sample passes (5,000 epochs x 21 samples); solve traces"),
    (("export", "lecture.yaml", "-e", "1000", "-s", "500", "-o", "-"),
     "--show '500': the sheet covers only the first 100 of the 1,000 updates --epochs "
     "gives (a sheet holds at most 100 updates, whole epochs; 'bpnn-steps solve' shows "
     "any of them)"),
    (("export", "long.yaml", "-s", "500", "-o", "-"),
     "--show '500': the sheet covers only the first 100 of the 20,001 updates the problem "
     "file gives"),
    # the same values from the file still name the file, its line and key
    (("solve", "long.yaml"), f"long.yaml:{LINE['epochs']}: training.epochs gives 20,001 "
                             "updates"),
    (("train", "strong.yaml"), f"strong.yaml:{LINE['epochs'] + 1}: training.l2 1e+30 is too "
                               "large for the learning rate 0.5"),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else "")
def test_a_value_an_option_gave_is_blamed_on_the_option(tmp_path, args, starts):
    """train --beta 1e30 said 'L.yaml:15: training.learning_rate 0.5 is too large',
    solve -e 20001 'L.yaml: training.epochs gives 20,001 updates', and export -e 1000
    -s 500 'there is no update 500: this run has 100' (the sheet's cap unsaid)."""
    write_file(tmp_path, "lecture.yaml", BASE)
    write_file(tmp_path, "long.yaml", LONG)
    write_file(tmp_path, "strong.yaml", STRONG_L2)
    out = run_cli(*args, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith(f"bpnn-steps: error: {starts}"), out.stderr
    assert out.stderr.count("\n") == 1
