"""Answer files: keys, numbers as written, templates, and bad input (exit 2).

Bad input must give exit code 2 and one line ``file:line: key message`` on
stderr, never a traceback; the answer file is untrusted.
"""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from bpnn_steps.model.answer_sheet import Precision  # noqa: E402
from bpnn_steps.model.quantities import parse_key  # noqa: E402
from helpers import examples  # noqa: E402
from helpers import invoke as run  # noqa: E402


def write(tmp_path, text: str, name: str = "answers.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("key, depth, expected", [
    ("h(1)", 2, ("a", 1, 1)),
    ("a[1](2)", 2, ("a", 1, 2)),
    ("yhat(2)", 2, ("a", 2, 2)),
    ("ŷ(2)", 2, ("a", 2, 2)),
    ("Yhat ( 1 )", 2, ("a", 2, 1)),
    ("z[1](1)", 2, ("z", 1, 1)),
    ("z[2](1)", 2, ("z", 2, 1)),
    ("J(2)", 2, ("J", None, 2)),
    ("J", 2, ("cost", None, None)),
    ("cost", 2, ("cost", None, None)),
    ("delta[1](2)", 2, ("delta", 1, 2)),
    ("grad W[2](1)", 2, ("grad", 2, 1)),
    ("gradW[2](1)", 2, ("grad", 2, 1)),
    ("∇W[2](1)", 2, ("grad", 2, 1)),
    ("grad W[2](t)", 2, ("grad", 2, "t")),
    ("grad W[1]", 2, ("mean", 1, None)),
    ("W[1] new", 2, ("new", 1, None)),
    ("w[2]new", 2, ("new", 2, None)),
    ("h[2](1)", 3, ("a", 2, 1)),
    ("yhat(1)", 3, ("a", 3, 1)),
])
def test_keys_read_like_the_lecture(key, depth, expected):
    spec = parse_key(key, depth)
    assert (spec.kind, spec.layer, spec.sample) == expected


@pytest.mark.parametrize("key, depth, fragment", [
    ("h(1)", 3, "needs the hidden layer"),
    ("h[2](1)", 2, "the network has layers 1..1"),
    ("z(1)", 2, "needs the layer"),
    ("grad W[3](1)", 2, "W[1]..W[2]"),
    ("W[0] new", 2, "W[1]..W[2]"),
    ("hidden(1)", 2, "is not a known key"),
])
def test_bad_keys(key, depth, fragment):
    assert fragment in parse_key(key, depth)


@pytest.mark.parametrize("text, decimals, figures, ulp", [
    ("0.55", 2, 2, 0.01),
    ("0.270", 3, 3, 0.001),
    ("-2.08", 2, 3, 0.01),
    ("19.628", 3, 5, 0.001),
    ("0.003", 3, 1, 0.001),
    ("3", 0, 1, 1.0),
    ("-1.5e-3", 4, 2, 1e-4),          # -0.0015: four decimals, as its ulp says
    ("2.0e-1", 2, 2, 0.01),            # 0.20
    ("1.5e2", 0, 2, 10.0),             # 150, written to the tens
    ("2.", 0, 1, 1.0),
])
def test_precision_as_written(text, decimals, figures, ulp):
    p = Precision.of(text)
    assert (p.decimals, p.figures) == (decimals, figures)
    assert p.ulp == pytest.approx(ulp)


def test_numbers_keep_the_decimals_they_are_written_with(tmp_path):
    from bpnn_steps.marking.marker import load

    path = write(tmp_path, "problem: lecture_122\nanswers:\n"
                 "  h(1): [0.550, .55]\n"
                 "  W[1] new:\n    - [0.205, 0.2050]\n    - - 0.27\n      - 0.270\n")
    sheet, *_ = load(path)
    texts = [c.text for g in sheet.entries for c in g.cells]
    assert texts == ["0.550", ".55", "0.205", "0.2050", "0.27", "0.270"]
    lines = [c.line for g in sheet.entries for c in g.cells]
    assert lines == [3, 3, 5, 5, 6, 7]


# --------------------------------------------------------------------------- bad input

GOOD_HEAD = "problem: lecture_122\nanswers:\n"

BAD = [
    # (id, text, fragments expected in the one stderr line)
    ("syntax", GOOD_HEAD + "  h(1): [0.55, 0.55\n", [":4:", "not valid YAML"]),
    ("top-list", "- 1\n- 2\n", [":1:", "must be a mapping"]),
    ("empty", "", ["is empty", "--template"]),
    ("top-typo", "problem: lecture_122\nanswer:\n  h(1): [1, 1]\n",
     [":2:", "answer is not a known key", "did you mean 'answers'"]),
    ("no-answers", "problem: lecture_122\n", ["answers is missing"]),
    ("empty-answers", "problem: lecture_122\nanswers: {}\n", [":2:", "lists no answers"]),
    ("key-typo", GOOD_HEAD + "  grad W2(1): [[1, 1], [1, 1], [1, 1]]\n",
     [":3:", "answers.grad W2(1)", "did you mean 'grad W[2](1)'"]),
    ("sample-range", GOOD_HEAD + "  yhat(3): [1, 1]\n",
     [":3:", "answers.yhat(3)", "names sample 3", "samples 1..2"]),
    ("layer-range", GOOD_HEAD + "  grad W[3](1): [[1]]\n", [":3:", "W[1]..W[2]"]),
    ("vector-length", GOOD_HEAD + "  h(1): [0.55, 0.55, 0.55]\n",
     [":3:", "answers.h(1)", "must be 2 numbers", "got 3"]),
    ("matrix-shape", GOOD_HEAD + "  W[2] new: [[1, 1], [1, 1]]\n",
     [":3:", "answers.W[2] new", "must be a 3 x 2 matrix", "got 2 x 2"]),
    ("ragged", GOOD_HEAD + "  W[1] new: [[1, 1], [1]]\n", [":3:", "rows of different lengths"]),
    ("scalar-list", GOOD_HEAD + "  J: [1, 2]\n", [":3:", "answers.J", "must be a number"]),
    ("bool-true", GOOD_HEAD + "  J: true\n", [":3:", "the boolean true"]),
    ("mapping", GOOD_HEAD + "  h(1): {a: 1}\n", [":3:", "must be 2 numbers"]),
    ("nested-cell", GOOD_HEAD + "  h(1): [[1, 2], 3]\n", [":3:", "answers.h(1)[0]"]),
    ("infinite", GOOD_HEAD + "  J: .inf\n", [":3:", "finite number"]),
    ("yaml-duplicate", GOOD_HEAD + "  J: 1\n  J: 2\n", ["duplicate key"]),
    ("same-quantity", GOOD_HEAD + "  h(1): [1, 1]\n  a[1](1): [1, 1]\n",
     [":4:", "given twice", "'h(1)' on line 3"]),
    ("tag", GOOD_HEAD + "  J: !!python/object/apply:os.system [id]\n",
     [":3:", "YAML tag", "not allowed in answer files"]),
    ("update-range", GOOD_HEAD + "  update 2:\n    J: 1\n", [":3:", "names update 2",
                                                              "1 update"]),
    ("generic-sample", GOOD_HEAD + "  h(t): [1, 1]\n", [":3:", "generic sample t"]),
    ("formula-shape", GOOD_HEAD + "  grad W[2](t): [[\"yhat1 - y1\"]]\n",
     [":3:", "must be a 3 x 2 matrix"]),
    ("problem-missing", "answers:\n  J: 1\n", ["problem is missing"]),
    ("problem-unknown", "problem: lecture_999\nanswers:\n  J: 1\n",
     [":1:", "no bundled problem 'lecture_999'"]),
    ("problem-absolute", "problem: /etc/passwd\nanswers:\n  J: 1\n",
     [":1:", "problem must be a bundled problem name", "--problem"]),
    ("problem-escape", "problem: ../../../etc/secret.yaml\nanswers:\n  J: 1\n",
     [":1:", "inside the answer file's folder"]),
    ("problem-not-yaml", "problem: notes.txt\nanswers:\n  J: 1\n",
     [":1:", "needs its .yaml suffix"]),
]


@pytest.mark.parametrize("case_id, text, fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_answer_file_is_exit_2_with_one_clear_line(tmp_path, case_id, text, fragments):
    path = write(tmp_path, text)
    result = run("check", str(path))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    err = result.stderr
    assert result.stdout == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"bpnn-steps: error: {path}"), err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_missing_answer_file_and_folder(tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = run("check", str(tmp_path))
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_too_large_and_non_utf8_files(tmp_path):
    big = write(tmp_path, GOOD_HEAD + "  J: 1\n#" + "x" * 1_000_001 + "\n", "big.yaml")
    result = run("check", str(big))
    assert result.exit_code == 2 and "too large for an answer file" in result.stderr
    raw = tmp_path / "latin1.yaml"
    raw.write_bytes(b"problem: lecture_122\nstudent: Ren\xe9\nanswers:\n  J: 1\n")
    result = run("check", str(raw))
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_problem_next_to_the_answer_file_and_the_problem_option(tmp_path, lecture_yaml):
    (tmp_path / "quiz.yaml").write_text(lecture_yaml, encoding="utf-8")
    folder = tmp_path / "answers"
    folder.mkdir()
    inside = write(tmp_path, "problem: quiz.yaml\nanswers:\n  J: 19.628\n", "inside.yaml")
    assert run("check", str(inside)).exit_code == 0
    # ../quiz.yaml leaves the answer file's folder: refused unless it is under the
    # current folder, or the marker names the problem with --problem.
    outside = write(folder, "problem: ../quiz.yaml\nanswers:\n  J: 19.628\n", "ada.yaml")
    assert run("check", str(outside), cwd=folder).exit_code == 2
    assert run("check", str(outside), cwd=tmp_path).exit_code == 0
    assert run("check", str(outside), "--problem", str(tmp_path / "quiz.yaml"),
               cwd=folder).exit_code == 0
    bad = run("check", str(outside), "--problem", str(tmp_path / "none.yaml"), cwd=folder)
    assert bad.exit_code == 2 and "none.yaml" in bad.stderr and "no such file" in bad.stderr


def test_command_line_needs_exactly_one_mode(tmp_path):
    for args in (["check"], ["check", "a.yaml", "--template", "lecture_122"],
                 ["check", "--template", "lecture_122", "--batch", str(tmp_path)]):
        result = run(*args)
        assert result.exit_code == 2 and "exactly one of" in result.stderr


# --------------------------------------------------------------------------- templates


def _fill(template: str, values: dict) -> str:
    """Replace every ~ of the template's answers with ``values[(update, key)]``."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    doc = yaml.load(template)
    answers = doc["answers"]
    sections = [(1, answers)] if "update 1" not in answers else \
        [(int(k.split()[1]), answers[k]) for k in answers]
    for update, section in sections:
        for key in list(section):
            section[key] = values[(update, key)]
    doc["student"] = "reference"
    import io

    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _reference_value(step: dict, key: str, depth: int):
    """The value of one answer key in one update of ``helpers.ref_solve``'s trace
    (an independent scalar calculation), the key read with plain regular
    expressions rather than bpnn_steps.answers."""
    import re

    def sample(t):
        i = step["samples"].index(int(t))
        return step["forward"][i], step["gradients"][i]

    if key == "J":
        return step["cost"]
    m = re.fullmatch(r"z\[(\d+)\]\((\d+)\)", key)
    if m:
        return sample(m[2])[0]["z"][int(m[1]) - 1]
    m = re.fullmatch(r"h(?:\[(\d+)\])?\((\d+)\)", key)
    if m:
        layer = int(m[1]) if m[1] else 1
        assert m[1] or depth == 2, key
        return sample(m[2])[0]["a"][layer - 1]
    m = re.fullmatch(r"yhat\((\d+)\)", key)
    if m:
        return sample(m[1])[0]["y_hat"]
    m = re.fullmatch(r"J\((\d+)\)", key)
    if m:
        return sample(m[1])[0]["loss"]
    m = re.fullmatch(r"delta\[(\d+)\]\((\d+)\)", key)
    if m:                                    # dJ/dz = the bias row of grad W[n](t)
        return sample(m[2])[1][f"W{m[1]}"][0]
    m = re.fullmatch(r"grad W\[(\d+)\]\((\d+)\)", key)
    if m:
        return sample(m[2])[1][f"W{m[1]}"]
    m = re.fullmatch(r"grad W\[(\d+)\]", key)
    if m:                                    # mean over the update's samples (no L2 here)
        gs = [g[f"W{m[1]}"] for g in step["gradients"]]
        return [[sum(g[i][j] for g in gs) / len(gs) for j in range(len(gs[0][0]))]
                for i in range(len(gs[0]))]
    m = re.fullmatch(r"W\[(\d+)\] new", key)
    if m:
        return step["weights_after"][f"W{m[1]}"]
    raise AssertionError(f"template key {key!r} not known to the test")


def _reference_values(name: str, template: str) -> dict:
    import helpers
    from ruamel.yaml import YAML

    problem = helpers.problem_from_yaml(helpers.read_yaml(helpers.BUNDLED / f"{name}.yaml"))
    assert problem["l2"] == 0.0                # the mean gradient above has no L2 term
    ref = helpers.ref_solve(**problem)
    depth = len(problem["layers"]) - 1
    answers = YAML(typ="safe", pure=True).load(template)["answers"]
    sections = [(1, answers)] if "update 1" not in answers else \
        [(int(k.split()[1]), answers[k]) for k in answers]
    return {(u, key): _reference_value(ref["steps"][u - 1], key, depth)
            for u, section in sections for key in section}


@pytest.mark.parametrize("name", ["lecture_122", "quiz_11", "deep_1221", "classification_121",
                                  "softmax_233"])
def test_template_filled_with_reference_values_scores_full_marks(tmp_path, name):
    # The values come from helpers.ref_solve, not from bpnn_steps: full marks means
    # the template's keys and the checker's expected values both agree with an
    # independent calculation.
    result = run("check", "--template", name)
    assert result.exit_code == 0, result.stderr
    template = result.stdout
    assert template.count("~") > 10 and f"problem: {name}" in template
    filled = write(tmp_path, _fill(template, _reference_values(name, template)))
    marked = run("check", str(filled), "--format", "json")
    assert marked.exit_code == 0, marked.stdout[-2000:]
    import json

    doc = json.loads(marked.stdout)
    assert doc["all_right"] and doc["score"]["credited"] == doc["score"]["total"] > 20


def test_blank_template_scores_nothing_and_exits_1(tmp_path):
    template = run("check", "--template", "lecture_122").stdout
    path = write(tmp_path, template)
    result = run("check", str(path), "--format", "json")
    assert result.exit_code == 1
    import json

    doc = json.loads(result.stdout)
    assert doc["score"]["blank"] == doc["score"]["total"] > 40 and doc["score"]["credited"] == 0


def test_template_to_a_file_and_problem_path(tmp_path, lecture_yaml):
    problem = tmp_path / "my problem.yaml"
    problem.write_text(lecture_yaml, encoding="utf-8")
    sheet = tmp_path / "sheet.yaml"
    result = run("check", "--template", str(problem), "-o", str(sheet))
    assert result.exit_code == 0, result.stderr
    assert 'problem: "my problem.yaml"' in sheet.read_text(encoding="utf-8")
    assert run("check", str(sheet)).exit_code == 1          # all blank, but readable
    again = run("check", "--template", str(problem), "-o", str(sheet))
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_template_for_several_updates_has_one_section_per_update():
    text = run("check", "--template", "softmax_233").stdout   # sgd, 3 samples: 3 updates
    for u in (1, 2, 3):
        assert f"  update {u}:" in text
    assert "    yhat(2):" in text and "    W[2] new:" in text
    short = run("check", "--template", "softmax_233", "--updates", "1").stdout
    assert "update 2:" not in short and "left out" in short


# --------------------------------------------------------------------------- hostile files


def _laughs(where: str) -> str:
    """Nine levels of YAML aliases, 9 each: 9^10 strings if expanded."""
    lines = ["problem: lecture_122", "notes:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", '
             '"lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["answers:", f"  {where}"]
    return "\n".join(lines) + "\n"


def test_alias_bombs_do_not_expand(tmp_path):
    # Through the real console script: an expanding loader would hang or run out of
    # memory, which run_cli's subprocess timeout turns into a failure (no timing
    # assertion).
    import helpers

    ignored = helpers.run_cli("check", str(write(tmp_path, _laughs("J: 19.628"),
                                                  "notes.yaml")))
    assert ignored.returncode == 0, ignored.stderr     # notes are never walked
    used = helpers.run_cli("check", str(write(tmp_path, _laughs("h(1): *a9"), "used.yaml")))
    assert used.returncode == 2 and "must be one number" in used.stderr


def test_control_characters_never_reach_the_terminal(tmp_path):
    path = write(tmp_path, GOOD_HEAD + '  "\\e[2Jh(1)": [1, 1]\n')
    result = run("check", str(path))
    assert result.exit_code == 2 and "\x1b" not in result.stderr
    path = write(tmp_path, 'problem: lecture_122\nstudent: "\\e[31mEve"\n'
                 'answers:\n  J: "\\e[2J"\n')
    result = run("check", str(path), "-f", "json")
    assert result.exit_code == 1 and "\x1b" not in result.stdout
    result = run("check", str(path))
    assert "\x1b" not in result.stdout and "Eve" in result.stdout


def test_random_answer_sheets_never_crash(tmp_path):
    """Odd but well-formed numbers anywhere: marked, never a traceback."""
    import random

    from bpnn_steps.model.quantities import answer_quantities, key_of, shape_of
    from bpnn_steps.marking.marker import check_file
    from bpnn_steps.render.marking_table import marking_text as render_text
    from bpnn_steps.files.problem_file import load_problem

    rng = random.Random(7)
    odd = ["0", "-0.0", "1e-300", "1e300", "-1e300", "0.5", "2.5", '"1/3"', '"x"', "~", "1"]
    for name in ("lecture_122", "deep_1221", "classification_121", "softmax_233"):
        problem = load_problem(name)
        for _ in range(examples(6)):
            lines = [f"problem: {name}", "answers:"]
            for q in answer_quantities(problem.layers, (1,)):
                if rng.random() < 0.5:
                    continue
                key = key_of(q, len(problem.layers) - 1)
                shape = shape_of(q.kind, q.layer, problem.layers)
                cells = [rng.choice(odd) for _ in range(max(1, int(__import__("math").prod(
                    shape))))]
                if not shape:
                    value = cells[0]
                elif len(shape) == 1:
                    value = "[" + ", ".join(cells) + "]"
                else:
                    value = "[" + ", ".join("[" + ", ".join(cells[r * shape[1]:(r + 1) *
                                                                  shape[1]]) + "]"
                                            for r in range(shape[0])) + "]"
                lines.append(f"  {key}: {value}")
            if len(lines) == 2:
                continue
            path = write(tmp_path, "\n".join(lines) + "\n", "odd.yaml")
            result = check_file(path)
            json.dumps(result.to_dict(), allow_nan=False)
            assert "Score:" in render_text(result)
