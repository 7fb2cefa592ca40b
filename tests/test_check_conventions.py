"""`check` under conventions (CONTRACT section 5): marking, follow-through and the
diagnosis of a student who follows other conventions.

Right answers are the engine's trace under the conventions in force (the engine is
checked against central finite differences of the CONTRACT's cost for every key
in tests/test_conventions.py, and against Mazur's published numbers in
tests/test_mazur.py).  Follow-through values are worked out here with plain numpy
from the student's own numbers.  A student following other conventions is the
engine's trace of the same problem under those conventions: independent of the
diagnosis code, which recomputes with marking's own chain.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import BUNDLED, run_cli

from bpnn_steps.files.problem_file import parse_problem
from bpnn_steps.marking.marker import check_file
from bpnn_steps.maths.engine import solve
from bpnn_steps.model.conventions import PRESETS
from bpnn_steps.model.quantities import answer_quantities, key_of, value_in

LECTURE = (BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")
DEEP = (BUNDLED / "deep_1221.yaml").read_text(encoding="utf-8")


def with_conventions(text: str, **keys: object) -> str:
    block = "".join(f"  {k}: {str(v).lower() if isinstance(v, bool) else v}\n"
                    for k, v in keys.items())
    return text + ("conventions:\n" + block if block else "")


def answers_of(problem_text: str) -> dict[int, dict[str, np.ndarray]]:
    """Every answer key of every update, valued by the engine's trace of the problem."""
    trace = solve(parse_problem(problem_text))
    depth = len(trace.settings.layers) - 1
    out: dict[int, dict[str, np.ndarray]] = {}
    for step in trace.steps:
        section = out.setdefault(step.index, {})
        for q in answer_quantities(trace.settings.layers, step.samples, step.index):
            value = value_in(step, q)
            if value is not None:
                section[key_of(q, depth)] = np.array(value, dtype=float)
    return out


def _yaml(value: np.ndarray) -> str:
    return json.dumps(np.asarray(value, dtype=float).round(12).tolist())


def write_sheet(folder: Path, problem_text: str, answers: dict[int, dict[str, np.ndarray]],
                name: str = "a.yaml") -> Path:
    (folder / "p.yaml").write_text(problem_text, encoding="utf-8")
    lines = ["problem: p.yaml", "answers:"]
    for update, section in answers.items():
        indent = "  "
        if len(answers) > 1:
            lines.append(f"  update {update}:")
            indent = "    "
        lines += [f"{indent}{key}: {_yaml(v)}" for key, v in section.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def group(result, key: str, update: int = 1):
    return next(g for g in result.groups if g.key == key and g.update == update)


CONVENTIONS = [{"preset": p} for p in PRESETS] + [
    {"cost": "sum"}, {"update_order": "output_first"},
    {"preset": "mazur", "update_order": "output_first", "cost": "sum"},
    {"preset": "pytorch", "update_biases": False}]


@pytest.mark.parametrize("base", ["lecture_122", "deep_1221"])
@pytest.mark.parametrize("keys", CONVENTIONS, ids=[" ".join(f"{k}={v}" for k, v in c.items())
                                                   for c in CONVENTIONS])
def test_the_traced_answers_are_all_right_and_one_wrong_entry_is_named(
        tmp_path: Path, base: str, keys: dict) -> None:
    text = with_conventions(LECTURE if base == "lecture_122" else DEEP, **keys)
    answers = answers_of(text)
    result = check_file(write_sheet(tmp_path, text, answers))
    assert result.all_right, [(e.name, e.message) for e in result.entries
                              if e.mark != "correct"][:5]
    assert result.total > 20
    # One wrong entry: W[1] new's last weight.
    answers[1]["W[1] new"][-1, -1] += 0.25
    result = check_file(write_sheet(tmp_path, text, answers, "b.yaml"))
    rows, cols = answers[1]["W[1] new"].shape
    wrong = [e for e in result.entries if e.mark != "correct"]
    assert [(e.key, e.index, e.mark) for e in wrong] == \
        [("W[1] new", (rows - 1, cols - 1), "wrong")]


def test_the_template_of_a_summed_cost_says_sum(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(with_conventions(LECTURE, cost="sum"), encoding="utf-8")
    result = run_cli("check", "--template", str(tmp_path / "p.yaml"))
    assert result.returncode == 0, result.stderr
    assert "sum of J(t) over the update's samples" in result.stdout
    assert "mean" not in result.stdout.split("answers:")[1]


def test_follow_through_under_a_summed_cost(tmp_path: Path) -> None:
    # lecture_122, cost: sum.  A wrong grad W[2](1) entry; grad W[2] = the sum of the
    # student's two sample gradients, W[2] new = W[2] - 0.5 grad W[2].
    text = with_conventions(LECTURE, cost="sum")
    right = answers_of(text)[1]
    g1 = right["grad W[2](1)"].copy()
    g1[1, 0] += 0.4
    g2 = right["grad W[2](2)"]
    summed = g1 + g2
    new = np.full((3, 2), 0.1) - 0.5 * summed
    answers = {1: {"grad W[2](1)": g1, "grad W[2](2)": g2, "grad W[2]": summed,
                   "W[2] new": new}}
    result = check_file(write_sheet(tmp_path, text, answers))
    assert [e.mark for e in group(result, "grad W[2](1)").entries].count("wrong") == 1
    assert {e.mark for e in group(result, "grad W[2](2)").entries} == {"correct"}
    assert [e.mark for e in group(result, "grad W[2]").entries] == \
        ["correct", "correct", "follow-through", "correct", "correct", "correct"]
    assert [e.mark for e in group(result, "W[2] new").entries] == \
        ["correct", "correct", "follow-through", "correct", "correct", "correct"]


def test_follow_through_under_output_first_uses_the_students_new_weights(tmp_path: Path
                                                                         ) -> None:
    # lecture_122, output_first: delta[1](t) = (W-bar[2] new delta[2](t)) (.) h(1 - h),
    # with the student's own (wrong) W[2] new.
    text = with_conventions(LECTURE, update_order="output_first")
    right = answers_of(text)[1]
    w2 = right["W[2] new"].copy()
    w2[1, 0] += 0.3
    answers: dict[str, np.ndarray] = {"W[2] new": w2}
    for t, x in ((1, 1.0), (2, 2.0)):
        h = right[f"h({t})"]
        delta1 = (w2[1:] @ right[f"delta[2]({t})"]) * h * (1 - h)
        answers[f"delta[1]({t})"] = delta1
        answers[f"grad W[1]({t})"] = np.outer([1.0, x], delta1)
    answers["grad W[1]"] = (answers["grad W[1](1)"] + answers["grad W[1](2)"]) / 2
    answers["W[1] new"] = np.full((2, 2), 0.1) - 0.5 * answers["grad W[1]"]
    result = check_file(write_sheet(tmp_path, text, {1: answers}))
    assert [e.mark for e in group(result, "W[2] new").entries].count("wrong") == 1
    for key in ("delta[1](1)", "grad W[1](1)", "delta[1](2)", "grad W[1]", "W[1] new"):
        marks = {e.mark for e in group(result, key).entries}
        assert "follow-through" in marks and "wrong" not in marks, (key, marks)
    # The same numbers under the simultaneous order are wrong: they rest on new weights.
    plain = check_file(write_sheet(tmp_path, LECTURE, {1: answers}, "c.yaml"))
    assert "wrong" in {e.mark for e in group(plain, "delta[1](1)").entries}


# --------------------------------------------------------------------------- item 6


MISMATCHES = [
    # (id, base, the conventions in force, the conventions the student followed, key,
    #  cause, words)
    ("no-half", "lecture_122", {}, {"mse_half": False}, "grad W[2](1)", "missing-1/2",
     "as PyTorch's MSELoss does (conventions: mse_half false; preset pytorch)"),
    ("extra-half", "lecture_122", {"mse_half": False}, {}, "grad W[2](1)", "extra-1/2",
     "half the expected value"),
    ("outputs-mean", "lecture_122", {}, {"output_reduction": "mean"}, "delta[2](1)",
     "mean-over-outputs", "(conventions: output_reduction mean; preset pytorch)"),
    ("outputs-sum", "lecture_122", {"preset": "pytorch"}, {"mse_half": False},
     "grad W[2](1)", "sum-over-outputs", "2 times the expected value"),
    ("samples-sum", "lecture_122", {}, {"cost": "sum"}, "grad W[2]", "sum-not-mean", "sum"),
    ("samples-mean", "lecture_122", {"cost": "sum"}, {}, "grad W[2]", "mean-not-sum",
     "1/2 of the expected value"),
    ("biases-kept", "lecture_122", {}, {"update_biases": False}, "W[2] new",
     "biases-not-updated", "(conventions: update_biases false; preset mazur)"),
    ("biases-updated", "lecture_122", {"preset": "mazur"}, {}, "W[2] new", "biases-updated",
     "these conventions keep them"),
    ("output-first", "deep_1221", {}, {"update_order": "output_first"}, "grad W[1](1)",
     "new-weights-too-early", "(conventions: update_order output_first)"),
    ("simultaneous", "deep_1221", {"update_order": "output_first"}, {}, "grad W[1](1)",
     "old-weights-in-backward-pass", "(conventions: update_order simultaneous, the lecture's)"),
]


@pytest.mark.parametrize("case_id, base, in_force, followed, key, cause, words", MISMATCHES,
                         ids=[m[0] for m in MISMATCHES])
def test_a_student_following_other_conventions_is_told_which(
        tmp_path: Path, case_id: str, base: str, in_force: dict, followed: dict, key: str,
        cause: str, words: str) -> None:
    text = LECTURE if base == "lecture_122" else DEEP
    theirs = answers_of(with_conventions(text, **followed))[1]
    result = check_file(write_sheet(tmp_path, with_conventions(text, **in_force),
                                    {1: {key: theirs[key]}}))
    wrong = [e for e in group(result, key).entries if e.mark == "wrong"]
    assert wrong, [(e.mark, e.message) for e in group(result, key).entries]
    assert {e.cause for e in wrong} == {cause}, [(e.cause, e.message) for e in wrong]
    assert words in wrong[0].message, wrong[0].message


# --------------------------------------------------------------------------- export


def test_export_sheets_state_and_follow_the_conventions(tmp_path: Path) -> None:
    # pytorch preset with a summed cost: J(t) = (1/K) sum_k (yhat_k - y_k)^2, no 1/2.
    text = with_conventions(LECTURE, preset="pytorch", cost="sum")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    question = run_cli("export", str(path), "-f", "markdown", "--sheet", "question", "-o", "-")
    assert question.returncode == 0, question.stderr
    assert "J₍ₜ₎ = (1/K) Σₖ (ŷₖ − yₖ)²;" in question.stdout          # no ½, no lecture words
    assert "the cost J is the sum of J₍ₜ₎" in question.stdout
    assert "Conventions (pytorch preset: cost sum" in question.stdout.replace("\\_", "_")
    # The solution sheet's new weights are the conventions' (the engine's, checked
    # against finite differences in test_conventions): W[2]'s bias after the step.
    solution = run_cli("export", str(path), "-f", "markdown", "--sheet", "solution", "-o", "-")
    assert solution.returncode == 0, solution.stderr
    new_w2 = answers_of(text)[1]["W[2] new"]
    lecture_w2 = answers_of(LECTURE)[1]["W[2] new"]
    assert f"{new_w2[0, 0]:.3f}" in solution.stdout
    assert f"{new_w2[0, 0]:.3f}" != f"{lecture_w2[0, 0]:.3f}"
    # The lecture's own sheet states no conventions line.
    plain = run_cli("export", "lecture_122", "-f", "markdown", "--sheet", "question", "-o", "-")
    assert "Conventions" not in plain.stdout


def test_export_writes_every_sheet_under_other_conventions(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(with_conventions(LECTURE, preset="mazur"), encoding="utf-8")
    derivation = run_cli("export", str(path), "--sheet", "derivation", "-o", "-")
    assert derivation.returncode == 0, derivation.stderr
    assert "(mazur preset: update{\\ttfamily\\char95}biases false)" in derivation.stdout
    assert "stays at its value in every layer" in derivation.stdout
    assert run_cli("export", str(path), "--sheet", "both", "-o", "-").returncode == 0
