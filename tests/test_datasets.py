"""Data generators, CSV files and held-out test sets in problem files."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bpnn_steps.maths import datasets
from bpnn_steps.errors import ProblemError
from bpnn_steps.files.problem_file import load_problem, parse_problem, training_generator

NET_1 = "network: {layers: [1, 3, 1], activations: [sigmoid, linear]}\n"
NET_2 = "network: {layers: [2, 3, 1], activations: [tanh, sigmoid]}\nloss: bce\n"
REST = "weights: 0.1\ntraining: {learning_rate: 0.1}\n"


def problem_text(data: str, net: str = NET_1) -> str:
    return net + "data:\n" + textwrap.indent(textwrap.dedent(data), "  ") + REST


# --------------------------------------------------------------------------- generators


def test_line_without_noise_is_the_line_evenly_spaced():
    x, y = datasets.line(np.random.default_rng(0), 11, low=-1, high=1, slope=2, intercept=1)
    assert x.shape == (11, 1) and y.shape == (11, 1)
    assert np.allclose(x[:, 0], np.arange(-10, 11, 2) / 10)
    assert np.allclose(y, 2 * x + 1)


def test_sine_noise_has_the_asked_spread_and_no_bias():
    rng = np.random.default_rng(5)
    x, y = datasets.sine(rng, 20_000, low=0, high=2 * math.pi, noise=0.3, amplitude=2,
                         frequency=0.5, phase=0.25)
    residual = y[:, 0] - 2 * np.sin(0.5 * x[:, 0] + 0.25)
    assert abs(residual.mean()) < 0.01
    assert residual.std() == pytest.approx(0.3, rel=0.03)


def test_random_spacing_stays_in_range_and_is_not_sorted():
    x, _ = datasets.line(np.random.default_rng(1), 200, low=2, high=3, spacing="random")
    assert np.all((x >= 2) & (x <= 3))
    assert not np.all(np.diff(x[:, 0]) > 0)


def test_xor_labels_follow_the_truth_table():
    x, labels = datasets.xor(np.random.default_rng(0), 8, noise=0.0)
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] * 2
    assert labels.tolist() == [0, 1, 1, 0] * 2
    noisy, noisy_labels = datasets.xor(np.random.default_rng(0), 400, noise=0.1)
    corners = np.round(noisy).astype(int)
    assert np.mean((corners[:, 0] ^ corners[:, 1]) == noisy_labels) > 0.95


def test_moons_lie_on_their_half_circles():
    x, labels = datasets.moons(np.random.default_rng(3), 101, noise=0.0)
    assert labels.tolist() == [i % 2 for i in range(101)]
    upper = x[labels == 0]
    lower = x[labels == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= -1e-12)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_same_generator_state_same_data_and_no_global_state():
    a = datasets.sine(np.random.default_rng(9), 30, noise=0.2)
    np.random.seed(123)                     # the legacy global state plays no part
    b = datasets.sine(np.random.default_rng(9), 30, noise=0.2)
    c = datasets.sine(np.random.default_rng(10), 30, noise=0.2)
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_targets_one_hot_and_split():
    assert datasets.targets(np.array([0, 1, 1]), 2).tolist() == [[1, 0], [0, 1], [0, 1]]
    assert datasets.targets(np.array([0, 1]), 1).tolist() == [[0], [1]]
    keep, held = datasets.split(np.random.default_rng(0), 10, 0.3)
    assert len(held) == 3 and len(keep) == 7
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(10))
    assert np.all(np.diff(keep) > 0) and np.all(np.diff(held) > 0)


# --------------------------------------------------------------------------- in problem files


def test_generate_in_a_problem_file():
    p = parse_problem(problem_text("""\
        generate: {kind: line, points: 5, range: [0, 4], slope: -1, intercept: 2}
    """))
    assert p.x[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert p.y[:, 0].tolist() == [2, 1, 0, -1, -2]


def test_generate_shorthand_and_defaults():
    p = parse_problem(problem_text("generate: sine\n"))
    assert p.x.shape == (datasets.DEFAULT_POINTS["sine"], 1)
    assert np.allclose(p.y[:, 0], np.sin(p.x[:, 0]))
    assert p.x[-1, 0] == pytest.approx(2 * math.pi)


def test_test_generator_inherits_the_training_settings_with_a_new_seed():
    text = problem_text("""\
        generate: {kind: sine, points: 10, noise: 0.2, seed: 4, amplitude: 3}
        test: {generate: {points: 50}}
    """)
    p = parse_problem(text)
    assert p.x_test.shape == (50, 1)
    expected = datasets.Generator("sine", 50, 0.2, seed=5, params={"amplitude": 3.0})
    ex, ey = expected.generate()
    assert np.array_equal(p.x_test, ex) and np.array_equal(p.y_test, ey)
    gen = training_generator(text)
    assert gen.kind == "sine" and gen.seed == 4 and gen.param("amplitude") == 3.0
    assert np.allclose(gen.true_function()(np.array([math.pi / 2])), [3.0])


def test_classification_generators_give_one_hot_for_two_outputs():
    p = parse_problem(problem_text("generate: {kind: xor, points: 8, noise: 0}\n",
                                   net="network: {layers: [2, 4, 2], activations: "
                                       "[tanh, softmax]}\nloss: ce\n"))
    assert p.y.tolist() == [[1, 0], [0, 1], [0, 1], [1, 0]] * 2
    q = parse_problem(problem_text("generate: {kind: moons, points: 6}\n", net=NET_2))
    assert q.y[:, 0].tolist() == [0, 1, 0, 1, 0, 1]


def test_test_fraction_holds_out_samples_in_order():
    p = parse_problem(problem_text("""\
        generate: {kind: line, points: 10}
        test_fraction: 0.3
        split_seed: 2
    """))
    assert p.samples == 7 and p.x_test.shape == (3, 1)
    all_x = np.linspace(0, 1, 10)
    keep, held = datasets.split(np.random.default_rng(2), 10, 0.3)
    assert np.allclose(p.x[:, 0], all_x[keep]) and np.allclose(p.x_test[:, 0], all_x[held])


def test_explicit_test_data_still_work():
    p = parse_problem(problem_text("""\
        x: [1, 2]
        y: [3, 4]
        x_test: [5]
        y_test: [6]
    """))
    assert p.x_test.tolist() == [[5]] and p.y_test.tolist() == [[6]]


# --------------------------------------------------------------------------- CSV


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_csv_relative_to_the_problem_file_with_header_and_comments(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "points.csv", """\
        # measured
        x,y
        0,1

        1,3.5
        2,-4e-1
    """)
    prob = write(tmp_path, "p.yaml", problem_text("csv: data/points.csv\n"))
    monkeypatch.chdir("/")
    p = load_problem(prob)
    assert p.x[:, 0].tolist() == [0, 1, 2]
    assert p.y[:, 0].tolist() == [1, 3.5, -0.4]


def test_csv_columns_by_name_and_number(tmp_path):
    write(tmp_path, "d.csv", """\
        a;b;target;x2
        1;2;0;5
        3;4;1;6
    """)
    p = load_problem(write(tmp_path, "p.yaml", problem_text(
        "csv: {file: d.csv, x: [b, 4], y: target, delimiter: ';'}\n", net=NET_2)))
    assert p.x.tolist() == [[2, 5], [4, 6]]
    assert p.y.tolist() == [[0], [1]]


def test_csv_without_header_and_as_test_set(tmp_path):
    write(tmp_path, "train.csv", "0,0\n1,1\n")
    write(tmp_path, "test.csv", "0.5,0.5\n")
    p = load_problem(write(tmp_path, "p.yaml", problem_text("""\
        csv: train.csv
        test: {csv: test.csv}
    """)))
    assert p.samples == 2 and p.x_test.tolist() == [[0.5]]


@pytest.mark.parametrize("csv_text,message", [
    ("x,y\n0,1\n1,abc\n", "d.csv:3: column 'y' must be a finite number, got 'abc'"),
    ("0,1\n1,2,3\n", "d.csv:2: has 3 fields, expected 2 (as in the first row)"),
    ("0,1,2\n", "d.csv:1: has 3 columns, but the network needs 1 input and 1 target"),
    ("x,y\n", "d.csv: has a header but no rows of data"),
    ("0,nan\n", "d.csv:1: column '2' must be a finite number, got 'nan'"),
])
def test_bad_csv_files_name_file_line_and_column(tmp_path, monkeypatch, csv_text, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "d.csv", csv_text)
    with pytest.raises(ProblemError) as info:
        load_problem(write(tmp_path, "p.yaml", problem_text("csv: d.csv\n")))
    assert message in str(info.value)


def test_bce_targets_out_of_range_in_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "d.csv", "x1,x2,y\n0,0,0\n1,1,2\n")
    with pytest.raises(ProblemError, match=r"d.csv:3: targets\[0\] bce targets must lie in"):
        load_problem(write(tmp_path, "p.yaml", problem_text("csv: d.csv\n", net=NET_2)))


@pytest.mark.parametrize("data,message", [
    ("csv: missing.csv\n", "p.yaml:3: data.csv cannot read 'missing.csv': no such file"),
    ("csv: {file: d.csv, x: [nope], y: [y]}\n",
     "data.csv.x names column 'nope', which d.csv does not have; the header has: x, y"),
    ("csv: {file: d.csv, x: [3], y: [1]}\n", "column 3 does not exist: d.csv has 2 columns"),
    ("csv: {file: d.csv, x: [1]}\n", "data.csv.y is missing (data.csv.x is given)"),
    ("generate: {kind: sines}\n", "data.generate.kind must be one of line, sine, xor, moons, "
                                  "got the text 'sines'; did you mean 'sine'?"),
    ("generate: {kind: sine, pionts: 3}\n", "data.generate.pionts is not a known key; did "
                                            "you mean 'points'?"),
    ("generate: {kind: sine, slope: 3}\n", "data.generate.slope applies to line data, not "
                                           "sine"),
    ("generate: {kind: xor}\n", "data.generate.kind xor data have 2 inputs, but the network "
                                "has N = 1"),
    ("generate: {kind: line, range: [1, 0]}\n", "data.generate.range must have low < high"),
    ("generate: {kind: line, noise: -1}\n", "data.generate.noise must be >= 0"),
    ("generate: {kind: line, points: 0}\n", "data.generate.points must be a whole number "
                                            ">= 1, got 0"),
    ("generate: line\nx: [1]\ny: [1]\n", "data.generate cannot be combined with data.x"),
    ("generate: line\ntest_fraction: 1.5\n", "data.test_fraction must lie strictly between "
                                             "0 and 1"),
    ("generate: line\ntest_fraction: 0.5\ntest: {generate: {}}\n",
     "data.test_fraction cannot be combined with data.test"),
    ("generate: line\ntest: {generate: {kind: sine}, x: [1], y: [2]}\n",
     "data.test.generate cannot be combined with data.test.x"),
    ("generate: line\nsplit_seed: 3\n", "data.split_seed applies to data.test_fraction only"),
    ("x: [1]\ny: [2]\ntest: {generate: {points: 3}}\n",
     "data.test.generate.kind is missing; expected one of line, sine, xor, moons"),
    ("test: {x: [1], y: [1]}\n", "data.test needs training data too"),
    ("genrate: line\n", "data.genrate is not a known key; did you mean 'generate'?"),
])
def test_bad_data_sections_name_the_key(tmp_path, monkeypatch, data, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "d.csv", "x,y\n0,1\n")
    write(tmp_path, "p.yaml", problem_text(data))
    with pytest.raises(ProblemError) as info:
        load_problem("p.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("p.yaml:")
