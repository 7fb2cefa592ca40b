"""Marking answer files: every mark outcome, every diagnosis, follow-through,
tolerances and the lecture's own numbers.

Expected values are the lecture's printed numbers and hand calculations written
out in the comments (the 1-2-2 example: x = 1, 2; y = (3, 4), (6, 5); every
weight 0.1; lambda = 0.5), or come from the test helpers' independent scalar
reference (tests/helpers.py), never from bpnn_steps itself.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

import helpers  # noqa: E402
from bpnn_steps.marking.marker import Options, check_file  # noqa: E402
from bpnn_steps.cli import app  # noqa: E402
from bpnn_steps.marking.diagnose import Tolerance  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LECTURE_NOTES = REPO / "examples" / "answers" / "lecture_notes.yaml"
runner = CliRunner()

# The lecture example by hand (6 decimals):
#   h(1) = sigma(0.2) = 0.549834, h(2) = sigma(0.3) = 0.574443
#   yhat(t) = 0.1 + 0.1 h + 0.1 h: 0.209967, 0.214889
#   yhat - y: sample 1 (-2.790033, -3.790033), sample 2 (-5.785111, -4.785111)
#   J(1) = 1/2 (2.790033^2 + 3.790033^2) = 11.074318, J(2) = 28.182404, J = 19.628361
#   grad W[2](1) = [1; h(1)] (yhat - y)^T = [[-2.790033, -3.790033], [-1.534055, -2.083889] x2]
#   grad W[2](2) = [[-5.785111, -4.785111], [-3.323214, -2.748771] x2]
#   hidden error (1) = 0.1 (-2.790033) + 0.1 (-3.790033) = -0.658007; h(1 - h) = 0.247517
#   delta[1](1) = -0.162868; grad W[1](1) = [[-0.162868] x2, [-0.162868] x2]  (x = 1)
#   hidden error (2) = -1.057022; h(1 - h) = 0.244458; delta[1](2) = -0.258398
#   grad W[1](2) = [[-0.258398] x2, [-0.516796] x2]  (x = 2)
#   grad W[2] = [[-4.287572] x2, [-2.428635, -2.416330] x2]
#   W[2] new = 0.1 - 0.5 grad W[2] = [[2.243786] x2, [1.314317, 1.308165] x2]
#   grad W[1] = [[-0.210633] x2, [-0.339832] x2]; W[1] new = [[0.205316] x2, [0.269916] x2]


def sheet(tmp_path: Path, body: str, problem: str = "lecture_122", name: str = "a.yaml",
          student: str | None = None) -> Path:
    head = f"problem: {problem}\n" + (f"student: {student}\n" if student else "")
    path = tmp_path / name
    path.write_text(head + "answers:\n" + body, encoding="utf-8")
    return path


def marks(result, key: str) -> list[str]:
    return [e.mark for g in result.groups if g.key == key for e in g.entries]


def causes(result, key: str) -> list[str | None]:
    return [e.cause for g in result.groups if g.key == key for e in g.entries]


def group(result, key: str):
    return next(g for g in result.groups if g.key == key)


# --------------------------------------------------------------------------- the lecture notes


@pytest.fixture(scope="module")
def notes():
    return check_file(LECTURE_NOTES)


def test_lecture_notes_are_accepted_where_they_are_right(notes):
    for key in ("z[1](1)", "z[1](2)", "h(1)", "h(2)", "yhat(1)", "yhat(2)", "J",
                "grad W[2](1)", "grad W[1](1)", "W[2] new", "W[1] new"):
        assert set(marks(notes, key)) == {"correct"}, key
    # 0.55 (2 decimals) and 0.574 (3 decimals) are both right as written.
    assert [e.given_text for e in group(notes, "h(1)").entries] == ["0.55", "0.55"]


def test_lecture_misprint_of_sample_2_output_gradient_is_sample_1_rearranged(notes):
    # Printed [[-2.79, -1.534], [-1.534, -3.79], [-2.08, -2.08]]: sample 1's six numbers
    # in other places; the right matrix is [[-5.785, -4.785], [-3.323, -2.749] x2].
    g = group(notes, "grad W[2](2)")
    assert [e.mark for e in g.entries] == ["wrong"] * 6
    assert [e.cause for e in g.entries] == ["wrong-sample"] * 6
    assert "sample 1's values" in g.note and "re-arranged" in g.note
    expected = [round(e.expected, 3) for e in g.entries]
    assert expected == [-5.785, -4.785, -3.323, -2.749, -3.323, -2.749]
    # Each number is traced to where it sits in sample 1's gradient.
    assert g.entries[3].message == "sample 1's ∂J₍₁₎/∂w₀,₂⁽²⁾"     # -3.79 = w_{0,2}


def test_lecture_misprint_of_sample_2_hidden_gradient_repeats_sample_1(notes):
    # Printed [[-0.163, -0.163], [-0.163, -0.163]] again; right: [[-0.258] x2, [-0.517] x2].
    g = group(notes, "grad W[1](2)")
    assert [e.cause for e in g.entries] == ["wrong-sample"] * 4
    assert "these are sample 1's values" in g.note
    assert [round(e.expected, 3) for e in g.entries] == [-0.258, -0.258, -0.517, -0.517]


def test_lecture_notes_score_and_exit_code(notes):
    assert (notes.credited, notes.total) == (33, 43)
    assert notes.mistakes() == {"wrong-sample": 10}
    result = runner.invoke(app, ["check", str(LECTURE_NOTES)])
    assert result.exit_code == 1
    assert "Score: 33/43 (76.7%)" in result.stdout


# --------------------------------------------------------------------------- hand rounding


def _calc_round(x: float, d: int = 3) -> float:
    """Round as a person with a 10-digit calculator does: half up."""
    shown = Decimal(format(x, ".10g"))
    return float(shown.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))


def lecture_by_hand(d: int = 3) -> dict[str, object]:
    """The lecture example computed in plain Python, rounding every step to d decimals."""
    r = lambda v: _calc_round(v, d)  # noqa: E731
    xs, ys, w, lam = [1.0, 2.0], [[3.0, 4.0], [6.0, 5.0]], 0.1, 0.5
    out: dict[str, object] = {}
    g2s, g1s, losses = [], [], []
    for t, (x, y) in enumerate(zip(xs, ys), start=1):
        z = [r(w + w * x)] * 2
        h = [r(1 / (1 + math.exp(-v))) for v in z]
        yhat = [r(w + w * h[0] + w * h[1])] * 2
        loss = r(0.5 * ((yhat[0] - y[0]) ** 2 + (yhat[1] - y[1]) ** 2))
        d2 = [r(yhat[k] - y[k]) for k in range(2)]
        g2 = [d2, [r(h[0] * d2[0]), r(h[0] * d2[1])], [r(h[1] * d2[0]), r(h[1] * d2[1])]]
        err = [r(w * d2[0] + w * d2[1])] * 2
        hd = [r(v * (1 - v)) for v in h]
        d1 = [r(err[j] * hd[j]) for j in range(2)]
        g1 = [d1, [r(x * d1[0]), r(x * d1[1])]]
        out.update({f"z[1]({t})": z, f"h({t})": h, f"yhat({t})": yhat, f"J({t})": loss,
                    f"delta[2]({t})": d2, f"grad W[2]({t})": g2, f"delta[1]({t})": d1,
                    f"grad W[1]({t})": g1})
        losses.append(loss)
        g2s.append(g2)
        g1s.append(g1)
    out["J"] = r((losses[0] + losses[1]) / 2)
    for n, gs in ((2, g2s), (1, g1s)):
        mean = [[r((a + b) / 2) for a, b in zip(ra, rb)] for ra, rb in zip(*gs)]
        out[f"grad W[{n}]"] = mean
        out[f"W[{n}] new"] = [[r(w - lam * v) for v in row] for row in mean]
    return out


def _yaml_value(v, d: int = 3) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_value(i, d) for i in v) + "]"
    return f"{v:.{d}f}"


def test_hand_calculation_rounded_to_3_decimals_scores_full_marks(tmp_path):
    by_hand = lecture_by_hand(3)
    # It is a real hand calculation: its W[1] new drifts from the exact 0.205316.
    assert by_hand["W[1] new"][0] == [0.206, 0.206]
    assert by_hand["J(2)"] == 28.181                      # exact 28.182404
    body = "".join(f"  {k}: {_yaml_value(v)}\n" for k, v in by_hand.items())
    result = check_file(sheet(tmp_path, body))
    wrong = [(e.key, e.name, e.given_text, e.message) for e in result.entries
             if e.mark != "correct"]
    assert not wrong
    assert result.all_right and result.total == 63
    drift = next(e for e in group(result, "W[1] new").entries if e.index == (0, 0))
    assert drift.accepted in ("rounding 3", "own values")
    assert "exact 0.20532" in drift.message                # the drift is shown


def test_round_as_you_go_accepts_a_final_answer_without_its_working(tmp_path):
    # Only W[1] new, from a calculation rounded to 3 decimals: 0.206 (exact 0.205316).
    path = sheet(tmp_path, "  W[1] new: [[0.206, 0.206], [0.270, 0.270]]\n")
    result = check_file(path)
    entry = group(result, "W[1] new").entries[0]
    assert entry.mark == "correct" and entry.accepted == "rounding 3"
    assert "hand rounding to 3 d.p. gives 0.206" in entry.message
    # Written with 4 decimals, 0.2060 claims more precision than that calculation has.
    path = sheet(tmp_path, "  W[1] new: [[0.2060, 0.2053], [0.2699, 0.2699]]\n")
    result = check_file(path)
    assert marks(result, "W[1] new") == ["wrong", "correct", "correct", "correct"]
    assert causes(result, "W[1] new")[0] == "rounding"
    # solve --round-as-you-go shows the same hand calculation.
    trace = json.loads(runner.invoke(app, ["solve", "lecture_122", "--round-as-you-go", "3",
                                           "--format", "json"]).stdout)
    assert trace["steps"][0]["weights_after"]["W1"][0][0] == pytest.approx(0.206)


def test_rounded_earlier_values_carry_their_rounding_forward(tmp_path):
    # h written 0.55, then yhat = 0.1 + 0.1(0.55) + 0.1(0.55) = 0.21 exactly, and
    # (0.21 - 3)(0.55) = -1.5345: written -1.5345 it is right from the student's h,
    # though the exact value is -1.534055.
    path = sheet(tmp_path, "  h(1): [0.55, 0.55]\n  yhat(1): [0.21, 0.21]\n"
                 "  grad W[2](1): [[-2.79, -3.79], [-1.5345, -2.0845], [-1.5345, -2.0845]]\n")
    result = check_file(path)
    assert result.all_right
    entry = group(result, "grad W[2](1)").entries[2]
    assert entry.accepted == "own values" and "-1.534" in entry.message


# --------------------------------------------------------------------------- tolerances


@pytest.mark.parametrize("given, options, mark", [
    ("0.55", Options(), "correct"),               # right as written (2 decimals)
    ("0.550", Options(), "correct"),
    ("0.5498", Options(), "correct"),
    ("0.549834", Options(), "correct"),
    ("0.549", Options(), "wrong"),                # truncated, not rounded
    ("0.54", Options(), "wrong"),
    ("0.5", Options(), "wrong"),                  # 1 figure: too coarse
    ("0.55", Options(Tolerance(as_written=False)), "wrong"),
    ("0.55", Options(Tolerance(as_written=False, abs_tol=0.001)), "correct"),
    ("0.5495", Options(Tolerance(as_written=False, rel_tol=1e-3)), "correct"),
    ("0.5495", Options(Tolerance(as_written=False, rel_tol=1e-4)), "wrong"),
    ("0.549833997", Options(Tolerance(as_written=False)), "correct"),   # rel 1e-6
])
def test_tolerances(tmp_path, given, options, mark):
    result = check_file(sheet(tmp_path, f"  h(1): [{given}, 0.549834]\n"), options=options)
    assert marks(result, "h(1)")[0] == mark


def test_tolerance_options_on_the_command_line(tmp_path):
    path = sheet(tmp_path, "  h(1): [0.55, 0.55]\n")
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0
    assert runner.invoke(app, ["check", str(path), "--no-as-written"]).exit_code == 1
    assert runner.invoke(app, ["check", str(path), "--no-as-written", "--abs-tol",
                               "0.001"]).exit_code == 0
    assert runner.invoke(app, ["check", str(path), "--no-as-written", "--rel-tol",
                               "0.001"]).exit_code == 0


# --------------------------------------------------------------------------- outcomes


def test_blank_and_unreadable_entries(tmp_path):
    path = sheet(tmp_path, '  h(1): [~, "0.55"]\n  yhat(1): ["0.21 - 0", "1 +"]\n'
                 '  J(1): "(0.21-3)^2/2 + (0.21-4)^2/2"\n  J(2): "1/3"\n')
    result = check_file(path)
    assert marks(result, "h(1)") == ["blank", "correct"]      # a quoted number is a number
    assert marks(result, "yhat(1)") == ["correct", "invalid"]
    bad = group(result, "yhat(1)").entries[1]
    assert bad.cause == "formula" and "cannot read '1 +'" in bad.message
    # (0.21 - 3)^2/2 + (0.21 - 4)^2/2 = 3.89205 + 7.18205 = 11.0741: arithmetic of
    # 2-decimal numbers is as precise as they are (11.074318 exact).
    assert marks(result, "J(1)") == ["correct"]
    assert marks(result, "J(2)") == ["wrong"]                 # 1/3 is exact, and wrong
    assert result.count("blank") == 1 and result.count("invalid") == 1


def test_follow_through_credits_work_consistent_with_a_wrong_earlier_value(tmp_path):
    # h(1) = 0.6 is wrong (0.549834).  From it: yhat = 0.1 + 0.1(0.6) + 0.1(0.6) = 0.22,
    # yhat - y = (-2.78, -3.78), grad W[2](1) = [[-2.78, -3.78], [-1.668, -2.268] x2].
    path = sheet(tmp_path, "  h(1): [0.6, 0.6]\n  yhat(1): [0.22, 0.22]\n"
                 "  grad W[2](1): [[-2.78, -3.78], [-1.668, -2.268], [-1.668, -2.268]]\n")
    result = check_file(path)
    assert marks(result, "h(1)") == ["wrong", "wrong"]
    assert marks(result, "yhat(1)") == ["follow-through"] * 2
    assert marks(result, "grad W[2](1)") == ["follow-through"] * 6
    entry = group(result, "grad W[2](1)").entries[2]
    assert "consistent with your h(1)" in entry.message and entry.expected == \
        pytest.approx(-1.534055, abs=1e-6)
    assert (result.credited, result.total, result.count("follow-through")) == (8, 10, 8)
    # Without follow-through the later entries are wrong: error carried forward.
    strict = check_file(path, options=Options(follow_through=False))
    assert causes(strict, "yhat(1)") == ["carried-forward"] * 2
    assert "carried forward from your wrong h(1)" in group(strict, "yhat(1)").entries[0].message
    result = runner.invoke(app, ["check", str(path), "--no-follow-through", "-f", "json"])
    assert json.loads(result.stdout)["score"]["credited"] == 0


@pytest.mark.parametrize("h, reason", [
    ("[0, 0]", "all zeros"),
    ("[1e-11, 1e-11]", "all but zero"),             # a sigmoid of z = -25: 0.000
    ("[0.0001, 0.0001]", "all but zero"),           # under a thousandth of 0.550
    ("[1.5, 1.5]", "strictly between 0 and 1"),     # impossible for a sigmoid
])
def test_degenerate_earlier_answers_earn_no_follow_through(tmp_path, h, reason):
    # With h = 0: yhat = 0.1 and the h rows of grad W[2] are 0, a much easier sheet.
    # With h = 1.5: yhat = 0.4, grad W[2](1) = [[-2.6, -3.6], [-3.9, -5.4] x2].
    values = {"[0, 0]": ("[0.1, 0.1]", "[[-2.9, -3.9], [0, 0], [0, 0]]"),
              "[1e-11, 1e-11]": ("[0.1, 0.1]", "[[-2.9, -3.9], [0, 0], [0, 0]]"),
              "[0.0001, 0.0001]": ("[0.100, 0.100]", "[[-2.9, -3.9], [0, 0], [0, 0]]"),
              "[1.5, 1.5]": ("[0.4, 0.4]", "[[-2.6, -3.6], [-3.9, -5.4], [-3.9, -5.4]]")}
    yhat, grad = values[h]
    path = sheet(tmp_path, f"  h(1): {h}\n  yhat(1): {yhat}\n  grad W[2](1): {grad}\n")
    result = check_file(path)
    assert result.credited == 0 and result.count("follow-through") == 0
    assert set(causes(result, "yhat(1)")) == {"carried-forward"}
    assert reason in group(result, "yhat(1)").entries[0].message


def test_a_nearly_zero_earlier_entry_makes_its_consequences_trivially_zero(tmp_path):
    # h(1) = (1e-11, 0.549834): yhat = 0.1 + 0.1 (1e-11) + 0.1 (0.549834) = 0.155 and
    # yhat - y = (-2.845, -3.845); grad W[2](1)'s h_1 row is 1e-11 times that, 0 to
    # any hand: no credit for it, follow-through for the rest.
    path = sheet(tmp_path, "  h(1): [1e-11, 0.549834]\n  yhat(1): [0.155, 0.155]\n"
                 "  grad W[2](1): [[-2.845, -3.845], [0, 0], [-1.564, -2.114]]\n")
    result = check_file(path)
    assert marks(result, "grad W[2](1)") == ["follow-through"] * 2 + ["wrong"] * 2 + \
        ["follow-through"] * 2
    assert "trivially zero" in group(result, "grad W[2](1)").entries[2].message


def test_zeros_made_by_a_saturated_sigmoid_earn_no_follow_through(tmp_path):
    # h(1) = 0.9999 (a sigmoid value, but 0.550 is right): yhat = 0.1 + 0.2 (0.9999)
    # = 0.29998, yhat - y = (-2.70002, -3.70002), both follow through.  Then
    # h(1 - h) = 1e-4 makes delta[1](1) = 1e-4 (0.1 (-2.7) + 0.1 (-3.7)) = -6.4e-5 and
    # grad W[1](1) of the same size, 0.000 to 3 decimals where -0.163 is right: a
    # vanishing factor, no work shown.
    path = sheet(tmp_path, "  h(1): [0.9999, 0.9999]\n  yhat(1): [0.300, 0.300]\n"
                 "  delta[2](1): [-2.7, -3.7]\n  delta[1](1): [0.000, 0.000]\n"
                 "  grad W[1](1): [[0.000, 0.000], [0.000, 0.000]]\n")
    result = check_file(path)
    assert marks(result, "yhat(1)") + marks(result, "delta[2](1)") == ["follow-through"] * 4
    assert set(causes(result, "delta[1](1)") + causes(result, "grad W[1](1)")) == \
        {"carried-forward"}
    assert "trivially zero" in group(result, "grad W[1](1)").entries[0].message
    # Written out, the same consequences show the work: -0.000064 follows through.
    path = sheet(tmp_path, "  h(1): [0.9999, 0.9999]\n  delta[1](1): [-0.000064, -0.000064]\n")
    assert marks(check_file(path), "delta[1](1)") == ["follow-through"] * 2


def test_an_earlier_answer_out_of_all_proportion_earns_no_follow_through(tmp_path):
    # yhat(1) = -1e12 for y = (3, 4): J(1) = ((1e12 + 3)^2 + (1e12 + 4)^2) / 2 is 1e24
    # within a relative 1e-11, and the bias row of grad W[2](1), yhat - y, is -1e12
    # within 4e-12.  Next to 1e12 the problem's own numbers vanish within the relative
    # tolerance (1e-6): consistency shows nothing, and junk must earn nothing.
    path = sheet(tmp_path, "  yhat(1): [-1000000000000, -1000000000000]\n"
                 "  J(1): 1e24\n"
                 "  grad W[2](1): [[-1e12, -1e12], [-5.49834e11, -5.49834e11],"
                 " [-5.49834e11, -5.49834e11]]\n")
    result = check_file(path)
    assert result.credited == 0 and result.count("follow-through") == 0
    assert set(causes(result, "J(1)")) == {"carried-forward"}
    assert "over a million times too large" in group(result, "J(1)").entries[0].message
    # A wrong yhat of a hand calculation's size still earns follow-through:
    # yhat(1) = (0.5, 0.5), J(1) = (2.5^2 + 3.5^2) / 2 = 9.25.
    path = sheet(tmp_path, "  yhat(1): [0.5, 0.5]\n  J(1): 9.25\n")
    assert marks(check_file(path), "J(1)") == ["follow-through"]


def test_the_old_weights_written_to_three_decimals_are_no_update(tmp_path):
    # The lecture's network by SGD with w_0,1 = 0.1234: a student who copies W[1] as
    # "W[1] new" (to three decimals, 0.123) and goes on makes update 2 from the old
    # weights: z[1](2) = 0.1234 + 2 (0.1) = 0.3234 and 0.1 + 2 (0.1) = 0.3, which
    # "follow" from the copy.  No update was made: no credit flows from it.
    (tmp_path / "p.yaml").write_text(
        (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")
        .replace("W1: [[0.1, 0.1]", "W1: [[0.1234, 0.1]").replace("method: batch", "method: sgd"),
        encoding="utf-8")
    body = ("  update 1:\n    W[1] new: [[0.123, 0.100], [0.100, 0.100]]\n"
            "  update 2:\n    z[1](2): [0.323, 0.300]\n")
    result = check_file(sheet(tmp_path, body, problem="p.yaml"))
    assert set(causes(result, "z[1](2)")) == {"carried-forward"}
    assert "the old weights (no update made)" in group(result, "z[1](2)").entries[0].message


def test_yhat_equal_to_the_targets_is_degenerate(tmp_path):
    # yhat = y makes every gradient 0: no credit for the zeros that follow.
    path = sheet(tmp_path, "  yhat(1): [3, 4]\n  grad W[2](1): [[0, 0], [0, 0], [0, 0]]\n")
    result = check_file(path)
    assert set(causes(result, "grad W[2](1)")) == {"carried-forward"}
    assert "equals the targets y" in group(result, "grad W[2](1)").entries[0].message


def test_follow_through_across_updates_with_sgd(tmp_path):
    # softmax_233 runs 3 SGD updates.  A student's W[1] after update 1 with one wrong
    # entry; update 2 (sample 2, x = (0, 1)) computed from it: z[1](2) = [1, 0, 1] W1.
    ref = helpers.ref_solve(**helpers.problem_from_yaml(
        helpers.read_yaml(helpers.BUNDLED / "softmax_233.yaml")))
    w1 = [row[:] for row in ref["steps"][0]["weights_after"]["W1"]]
    w1[2][0] += 0.25                                   # w_{2,1}^[1] wrong
    z_own = [w1[0][j] + w1[2][j] for j in range(3)]    # x = (0, 1)
    z_true = ref["steps"][1]["forward"][0]["z"][0]
    fmt_row = lambda r: "[" + ", ".join(f"{v:.6f}" for v in r) + "]"  # noqa: E731
    body = ("  update 1:\n    W[1] new: [" + ", ".join(fmt_row(r) for r in w1) + "]\n"
            "  update 2:\n    z[1](2): " + fmt_row(z_own) + "\n")
    result = check_file(sheet(tmp_path, body, problem="softmax_233"))
    assert marks(result, "W[1] new") == ["correct"] * 6 + ["wrong"] + ["correct"] * 2
    assert marks(result, "z[1](2)") == ["follow-through", "correct", "correct"]
    assert group(result, "z[1](2)").entries[0].expected == pytest.approx(z_true[0])
    assert group(result, "z[1](2)").label == "update 2: z[1](2)"


def test_bce_loss_follows_through_from_a_wrong_yhat(tmp_path):
    # classification_121 (bce): with a wrong yhat(1) = 0.7 and y = 1, J(1) = -ln 0.7.
    path = sheet(tmp_path, f"  yhat(1): 0.7\n  J(1): {-math.log(0.7):.6f}\n",
                 problem="classification_121")
    result = check_file(path)
    assert marks(result, "yhat(1)") == ["wrong"]
    assert marks(result, "J(1)") == ["follow-through"]


# --------------------------------------------------------------------------- diagnoses


DIAGNOSES = [
    # (id, body, key, expected cause, fragment of the message)
    ("missing-derivative",
     # grad W[1](1) without h(1 - h): the hidden error -0.658007 times [1; x] = [1; 1]
     "  grad W[1](1): [[-0.658007, -0.658007], [-0.658007, -0.658007]]\n",
     "grad W[1](1)", "missing-derivative", "h(1 − h)"),
    ("new-weights-too-early",
     # error through W[2] new: 1.314317(-2.790033) + 1.308165(-3.790033) = -8.62499,
     # times h(1 - h) = 0.247517: -2.134825
     "  grad W[1](1): [[-2.134825, -2.134825], [-2.134825, -2.134825]]\n",
     "grad W[1](1)", "new-weights-too-early", "updated W[2]"),
    ("missing-1/2",
     # J(1) without the 1/2: 2.790033^2 + 3.790033^2 = 22.148636
     "  J(1): 22.148636\n", "J(1)", "missing-1/2", "1/2"),
    ("missing-1/T",
     # J(1) + J(2) = 39.256722 (T = 2, so twice the mean: missing 1/2 fits as well)
     "  J: 39.256722\n", "J", "missing-1/T", "also fits: missing 1/2"),
    ("sum-not-mean",
     # grad W[2] summed: [[-8.575145] x2, [-4.857269, -4.832661] x2]
     "  grad W[2]: [[-8.575145, -8.575145], [-4.857269, -4.832661], "
     "[-4.857269, -4.832661]]\n", "grad W[2]", "sum-not-mean", "sum"),
    ("sum-or-lambda",
     # W[2] new = 0.1 - 0.5 (sum) = 0.1 - (mean) = [[4.387572] x2, [2.528635, 2.516330] x2]:
     # with lambda T = 1 the sum and a left-out lambda give the same numbers.
     "  W[2] new: [[4.387572, 4.387572], [2.528635, 2.51633], [2.528635, 2.51633]]\n",
     "W[2] new", "missing-lambda", "also fits: sum instead of mean"),
    ("sign-update",
     # W + lambda grad: 0.1 + 0.5 (-4.287572) = -2.043786, ...
     "  W[2] new: [[-2.043786, -2.043786], [-1.114317, -1.108165], "
     "[-1.114317, -1.108165]]\n", "W[2] new", "sign", "W + λ∇J"),
    ("sign-error",
     # y - yhat instead of yhat - y: grad W[2](1) with every sign flipped
     "  grad W[2](1): [[2.790033, 3.790033], [1.534055, 2.083889], [1.534055, 2.083889]]\n",
     "grad W[2](1)", "sign", "sign slip"),
    ("sign-entry", "  yhat(2): [-0.215, 0.215]\n", "yhat(2)", "sign", "sign slip"),
    ("missing-lambda",
     # W - grad (lambda left out): 0.1 + 4.287572 = 4.387572?  No: that is the sum
     # case; use W[1]: 0.1 + 0.210633 = 0.310633, 0.1 + 0.339832 = 0.439832
     "  W[1] new: [[0.310633, 0.310633], [0.439832, 0.439832]]\n",
     "W[1] new", "missing-lambda", "λ left out"),
    ("rounding", "  h(2): [0.575, 0.574]\n", "h(2)", "rounding", "rounding slip"),
    ("too-few-figures", "  h(2): [0.6, 0.574]\n", "h(2)", "rounding", "too few figures"),
    ("missing-bias",
     # z[1](1) without the bias: 0.1 x 1 = 0.1 (right: 0.2)
     "  z[1](1): [0.1, 0.2]\n", "z[1](1)", "missing-bias", "bias"),
    ("transposed-shape",
     # grad W[2](1) written 2 x 3: [1, h1, h2] across, one row per output
     "  grad W[2](1): [[-2.790033, -1.534055, -1.534055], [-3.790033, -2.083889, "
     "-2.083889]]\n", "grad W[2](1)", "transposed", "transposed"),
    ("transposed-square",
     # grad W[1](2) is [[-0.258398] x2, [-0.516796] x2]; transposed:
     "  grad W[1](2): [[-0.258398, -0.516796], [-0.258398, -0.516796]]\n",
     "grad W[1](2)", "transposed", "transposed"),
    ("rearranged",
     # W[2] new with its rows in the wrong order
     "  W[2] new: [[1.314, 1.308], [2.244, 2.244], [1.314, 1.308]]\n",
     "W[2] new", "rearranged", "belongs at w₁,₁⁽²⁾ new"),
    ("wrong-sample-entry", "  yhat(2): [0.215, 0.210]\n", "yhat(2)", "wrong-sample",
     "sample 1's value"),
    ("unknown", "  yhat(1): [0.5, 0.21]\n", "yhat(1)", "unknown", "expected 0.210"),
]


@pytest.mark.parametrize("case_id, body, key, cause, fragment", DIAGNOSES,
                         ids=[d[0] for d in DIAGNOSES])
def test_diagnosis(tmp_path, case_id, body, key, cause, fragment):
    result = check_file(sheet(tmp_path, body))
    wrong = [e for e in group(result, key).entries if e.mark == "wrong"]
    assert wrong, [(e.mark, e.message) for e in group(result, key).entries]
    assert wrong[0].cause == cause, [(e.cause, e.message) for e in wrong]
    text = (group(result, key).note or "") + " " + wrong[0].message
    assert fragment in text, text


def test_missing_derivative_of_each_layer_of_a_deeper_network(tmp_path):
    # deep_1221 (sigmoid, tanh, linear), sample 1, x = 0.5, by plain numpy: the
    # gradient of W[2] without tanh', and of W[1] without sigmoid'.
    import numpy as np

    doc = helpers.problem_from_yaml(helpers.read_yaml(helpers.BUNDLED / "deep_1221.yaml"))
    w = [np.array(m) for m in doc["weights"]]
    x, y = np.array(doc["x"][0]), np.array(doc["y"][0])
    zs, acts = helpers.np_forward(w, x, doc["acts"])
    d3 = acts[2] - y                                    # linear output, mse
    e2 = w[2][1:] @ d3
    d2_no = e2                                          # tanh' left out
    d2 = e2 * (1 - acts[1] ** 2)
    e1 = w[1][1:] @ d2
    d1_no = e1                                          # sigmoid' left out
    grad2_no = np.outer(np.r_[1, acts[0]], d2_no)
    grad1_no = np.outer(np.r_[1, x], d1_no)
    row = lambda m: "[" + ", ".join("[" + ", ".join(f"{v:.6f}" for v in r) + "]"  # noqa
                                    for r in m) + "]"
    body = f"  grad W[2](1): {row(grad2_no)}\n  grad W[1](1): {row(grad1_no)}\n"
    result = check_file(sheet(tmp_path, body, problem="deep_1221"))
    for key, layer in (("grad W[2](1)", 2), ("grad W[1](1)", 1)):
        wrong = [e for e in group(result, key).entries if e.mark == "wrong"]
        assert wrong and {e.cause for e in wrong} == {"missing-derivative"}, key
        assert f"of layer {layer}" in wrong[0].message


def test_sum_instead_of_mean_with_three_samples_is_not_the_missing_half(tmp_path):
    # quiz_11 has T = 3: the cost summed is 3 x the mean, told apart from 2 x.
    ref = helpers.ref_solve(**helpers.problem_from_yaml(
        helpers.read_yaml(helpers.BUNDLED / "quiz_11.yaml")))
    cost = ref["steps"][0]["cost"]
    losses = [f["loss"] for f in ref["steps"][0]["forward"]]
    body = f"  J: {3 * cost:.6f}\n  J(2): {2 * losses[1]:.6f}\n"
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    assert causes(result, "J") == ["missing-1/T"]
    assert "also fits" not in group(result, "J").entries[0].message
    assert causes(result, "J(2)") == ["missing-1/2"]


def test_sum_instead_of_mean_in_the_update(tmp_path):
    # quiz_11: lambda = 0.5, T = 3: W - lambda (sum) = W - 1.5 (mean).
    doc = helpers.problem_from_yaml(helpers.read_yaml(helpers.BUNDLED / "quiz_11.yaml"))
    ref = helpers.ref_solve(**doc)
    before = ref["steps"][0]["weights_before"]["W2"]
    after = ref["steps"][0]["weights_after"]["W2"]
    summed = [[w - 3 * (w - a) for w, a in zip(rw, ra)] for rw, ra in zip(before, after)]
    body = "  W[2] new: [" + ", ".join("[" + ", ".join(f"{v:.6f}" for v in r) + "]"
                                      for r in summed) + "]\n"
    result = check_file(sheet(tmp_path, body, problem="quiz_11"))
    assert set(causes(result, "W[2] new")) == {"sum-not-mean"}


# --------------------------------------------------------------------------- output


def test_json_report(tmp_path):
    path = sheet(tmp_path, "  h(1): [0.55, 0.6]\n  J: 19.628\n", student="Ada")
    result = runner.invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)                    # stdout is exactly one document
    assert doc["format"] == "bpnn-steps check" and doc["student"] == "Ada"
    assert doc["score"] == {"credited": 2, "total": 3, "percent": 66.67, "correct": 2,
                            "follow-through": 0, "wrong": 1, "blank": 0, "invalid": 0}
    entry = doc["groups"][0]["entries"][1]
    assert entry["name"] == "h₂,₍₁₎" and entry["given_text"] == "0.6"
    assert entry["expected"] == pytest.approx(0.549834, abs=1e-6)
    assert entry["mark"] == "wrong" and entry["line"] == 4


def test_text_report_shows_marks_given_expected_and_cause(tmp_path):
    path = sheet(tmp_path, "  yhat(2): [-0.215, 0.215]\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    out = result.stdout
    for fragment in ("entry", "mark", "given", "expected", "note", "ŷ₁,₍₂₎", "✗", "✓",
                     "−0.215", "sign slip", "Score: 1/2 (50.0%)"):
        assert fragment in out, fragment


def test_all_right_exits_0(tmp_path):
    result = runner.invoke(app, ["check", str(sheet(tmp_path, "  J: 19.628\n"))])
    assert result.exit_code == 0 and "Score: 1/1 (100.0%)" in result.stdout


def test_numbers_only_check_does_not_import_sympy():
    code = ("import sys\n"
            "from bpnn_steps.cli import main\n"
            f"sys.argv = ['bpnn-steps', 'check', {str(LECTURE_NOTES)!r}, '-f', 'json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('SYMPY=%s' % ('sympy' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=helpers.cli_env(), timeout=60)
    assert "SYMPY=False" in done.stderr, done.stderr
    assert json.loads(done.stdout)["score"]["total"] == 43


def test_real_console_script_marks_the_lecture_notes():
    done = helpers.run_cli("check", str(LECTURE_NOTES))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "sample 1's values in other places" in done.stdout


# The counts by hand: lecture_notes: 43 numbers, of which the two misprinted sample-2
# gradients (6 + 4) are wrong (see the tests above).  hand_3dp: the 3-decimal hand
# calculation of lecture_by_hand, all 63 right.  student_mistakes: h(1) wrong (2),
# yhat(1) and grad W[2](1) follow through from it (2 + 6), grad W[1](2) without
# h(1 - h) wrong (4: -1.057022 x [1; 2]), grad W[2] summed wrong (6), W[1] new right
# (4): 12 of 24, 8 by follow-through.  formulas: 12 entries, one without h2(1 - h2).
@pytest.mark.parametrize("name, credited, total, follow_through", [
    ("lecture_notes.yaml", 33, 43, 0),
    ("hand_3dp.yaml", 63, 63, 0),
    ("student_mistakes.yaml", 12, 24, 8),
    ("formulas.yaml", 11, 12, 0),
])
def test_example_answer_files(name, credited, total, follow_through):
    if name == "hand_3dp.yaml":      # it is exactly the hand calculation above
        answers = helpers.read_yaml(LECTURE_NOTES.parent / name)["answers"]
        assert answers == lecture_by_hand(3)
    result = check_file(LECTURE_NOTES.parent / name)
    assert (result.credited, result.total) == (credited, total)
    assert result.count("follow-through") == follow_through
