"""The one list of a worked solution's quantities (bpnn_steps.model.quantities):
every kind is in it, keys read back, shapes match the trace, dependencies come
first, and every consumer (template, reader, gradebook) follows it."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from bpnn_steps.files.problem_file import load_problem  # noqa: E402
from bpnn_steps.maths.engine import solve  # noqa: E402
from bpnn_steps.model.quantities import (SPECS, Kind, Quantity, answer_quantities,  # noqa: E402
                                         inputs, key_of, parse_key, shape_of,
                                         update_quantities, value_in)
from helpers import BUNDLED  # noqa: E402

SOLVED = ["lecture_122", "deep_1221", "classification_121", "softmax_233", "quiz_11"]


def test_every_kind_has_a_record():
    assert set(SPECS) == set(Kind)


@pytest.mark.parametrize("name", SOLVED)
def test_the_list_covers_every_kind_layer_and_sample(name):
    problem = load_problem(name)
    trace = solve(problem)
    step = trace.steps[0]
    depth = len(problem.layers) - 1
    listed = update_quantities(problem.layers, step.samples, 1)
    assert len(set(listed)) == len(listed)
    for kind in Kind:
        spec = SPECS[kind]
        layers = range(1, depth + 1) if spec.layered else [None]
        samples = step.samples if spec.per_sample else [None]
        for n in layers:
            for t in samples:
                assert Quantity(1, kind, n, t) in listed, (kind, n, t)


@pytest.mark.parametrize("name", SOLVED)
def test_values_sit_in_the_trace_with_the_listed_shape(name):
    problem = load_problem(name)
    trace = solve(problem)
    step = trace.steps[0]
    for q in update_quantities(problem.layers, step.samples, 1):
        value = value_in(step, q)
        if value is None:       # the output's error and H_d when the loss cancels them
            assert q.kind in (Kind.ERROR, Kind.DERIVATIVE) and q.layer == len(problem.layers) - 1
            continue
        assert np.shape(value) == shape_of(q.kind, q.layer, problem.layers), q
    # Spot checks against the trace's own fields (independent of value_in's dispatch).
    f, b = step.forward[0], step.backward[0]
    t = f.sample
    assert value_in(step, Quantity(1, Kind.Z, 1, t)) is f.z[0]
    assert value_in(step, Quantity(1, Kind.GRAD, 1, t)) is b.grad[0]
    assert value_in(step, Quantity(1, Kind.NEW, 1)) is step.weights_after[0]


@pytest.mark.parametrize("name", SOLVED)
def test_inputs_come_earlier_in_the_lecture_order(name):
    problem = load_problem(name)
    trace = solve(problem.with_training(epochs=2))
    schedule = [s.samples for s in trace.steps]
    depth = len(problem.layers) - 1
    seen: set[Quantity] = set()
    for u, samples in enumerate(schedule, start=1):
        listed = update_quantities(problem.layers, samples, u)
        # The update's weights are needed last: the lecture lists them after all
        # gradients, so check each quantity's inputs against everything up to it.
        for q in listed:
            for i in inputs(q, schedule, depth):
                if i.kind is Kind.NEW and i.update == u:
                    continue
                assert i in seen or i.update < u, (q, i)
            seen.add(q)


@pytest.mark.parametrize("layers", [(1, 2, 2), (2, 3, 2, 1), (3, 1)])
def test_canonical_keys_read_back(layers):
    depth = len(layers) - 1
    for q in answer_quantities(layers, (1, 2)):
        spec = parse_key(key_of(q, depth), depth)
        assert not isinstance(spec, str), key_of(q, depth)
        assert (spec.kind, spec.layer, spec.sample) == (q.kind, q.layer, q.sample)


def test_the_template_asks_for_exactly_the_answerable_quantities(cli, tmp_path):
    out = cli("check", "--template", "deep_1221", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    problem = load_problem("deep_1221")
    depth = len(problem.layers) - 1
    keys = [line.strip().split(":")[0] for line in out.stdout.splitlines()
            if line.startswith("  ") and not line.strip().startswith(("#", "-"))]
    samples = solve(problem).steps[0].samples
    expected = [key_of(q, depth) for q in answer_quantities(problem.layers, samples)
                if not (q.kind is Kind.Z and q.layer == depth)]   # z of the linear output is ŷ
    assert keys == expected


def test_gradebook_columns_are_canonical_however_students_spell_keys(cli, tmp_path):
    """Two students answer the same questions with different spellings of the keys:
    the gradebook has one column per question."""
    folder = tmp_path / "class"
    folder.mkdir()
    # The lecture example by hand (6 decimals): sigma(0.2) = 0.549834, etc.
    (folder / "ann.yaml").write_text(
        "problem: lecture_122\nanswers:\n"
        "  yhat(1): [0.209967, 0.209967]\n"
        "  J: 19.628361\n"
        "  grad W[2](1): [[-2.790033, -3.790033], [-1.534055, -2.083889], "
        "[-1.534055, -2.083889]]\n"
        "  W[1] new: [[0.205316, 0.205316], [0.269916, 0.269916]]\n", encoding="utf-8")
    (folder / "bob.yaml").write_text(
        "problem: lecture_122\nanswers:\n"
        "  ŷ(1): [0.209967, 0.209967]\n"
        "  cost: 19.628361\n"
        "  gradW[2](1): [[-2.790033, -3.790033], [-1.534055, -2.083889], "
        "[-1.534055, -2.083889]]\n"
        "  W[1]new: [[0.205316, 0.205316], [0.269916, 0.269916]]\n", encoding="utf-8")
    out = cli("check", "--batch", str(folder), "-o", str(tmp_path / "book"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr + out.stdout
    rows = list(csv.reader(io.StringIO((tmp_path / "book" / "gradebook.csv").read_text(
        encoding="utf-8"))))
    header = rows[0][6:]
    assert header == ["yhat(1) [2]", "J [1]", "grad W[2](1) [6]", "W[1] new [4]"]
    assert rows[1][6:] == rows[2][6:] == ["2", "1", "6", "4"]


def test_bundled_problems_all_have_quantities():
    for path in BUNDLED.glob("*.yaml"):
        problem = load_problem(path.stem)
        assert answer_quantities(problem.layers, (1,))
