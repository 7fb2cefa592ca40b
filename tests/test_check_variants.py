"""check knows variants: a class where every student has their own numbers.

The folder of variants is written here the way ``bpnn-steps variants`` writes one
(complete problem files + index.csv), from the lecture example with other weights
and learning rates.  Each student's right answers come from ``helpers.ref_solve``
run on *their* variant's file (an independent scalar calculation), never from
the marker.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers import run_cli
from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.files.problem_writer import problem_text
from bpnn_steps.files.variant_folder import INDEX, index_text, variant_file
from bpnn_steps.model.variant import Variant, variant_id

BASE = "lecture_122"
IDS = [variant_id(BASE, 7, i) for i in (1, 2, 3)]
# Two students a variant; the file of each is named by the roster's student.
ROSTER = {"ada": IDS[0], "grace": IDS[0], "alan": IDS[1], "edsger": IDS[1],
          "barbara": IDS[2], "donald": IDS[2]}


def make_variants(folder: Path, count: int = 3) -> list[Variant]:
    """``count`` variants of the lecture example: weights drawn in [-0.5, 0.5] step
    0.1 (no zero), learning rate 0.1, 0.2, ..., written with the project's writers."""
    base = load_problem(BASE)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(1, count + 1):
        rng = np.random.default_rng([7, i])
        weights = []
        for w in base.initial_weights():
            drawn = rng.integers(1, 6, w.shape) * rng.choice([-1, 1], w.shape) / 10
            weights.append(drawn)
        ident = variant_id(BASE, 7, i)
        problem = replace(base.with_weights(tuple(weights))
                          .with_training(learning_rate=round(0.1 * i, 1)), variant=ident)
        out.append(Variant(ident, problem, ("W1", "W2", "learning_rate")))
        (folder / variant_file(ident)).write_text(problem_text(problem, ["test variant"]),
                                                  encoding="utf-8")
    (folder / INDEX).write_text(index_text(out), encoding="utf-8")
    return out


def reference(variant_file_path: Path) -> dict:
    """The one update of a variant by helpers.ref_solve, read from its file."""
    problem = helpers.problem_from_yaml(helpers.read_yaml(variant_file_path))
    return helpers.ref_solve(**problem)["steps"][0]


def right_answers(step: dict) -> dict[str, object]:
    """Every key of the lecture's solution, from the reference calculation."""
    out: dict[str, object] = {}
    for t, (fwd, grad) in enumerate(zip(step["forward"], step["gradients"]), start=1):
        out[f"z[1]({t})"] = fwd["z"][0]
        out[f"h({t})"] = fwd["a"][0]
        out[f"yhat({t})"] = fwd["y_hat"]
        out[f"J({t})"] = fwd["loss"]
    out["J"] = step["cost"]
    for t, grad in enumerate(step["gradients"], start=1):
        out[f"grad W[2]({t})"] = grad["W2"]
        out[f"grad W[1]({t})"] = grad["W1"]
    for n in (2, 1):
        gs = [g[f"W{n}"] for g in step["gradients"]]
        out[f"grad W[{n}]"] = (np.array(gs[0]) + np.array(gs[1])) / 2
        out[f"W[{n}] new"] = step["weights_after"][f"W{n}"]
    return out


def _number(v: float) -> str:
    return f"{float(v):.6f}"


def _yaml_value(value: object) -> str:
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return _number(a)
    if a.ndim == 1:
        return "[" + ", ".join(_number(v) for v in a) + "]"
    return "[" + ", ".join("[" + ", ".join(_number(v) for v in row) + "]" for row in a) + "]"


def answer_text(answers: dict[str, object], *, student: str | None = None,
                variant: str | None = None, problem: str = BASE) -> str:
    lines = [f"problem: {problem}"]
    if student is not None:
        lines.append(f"student: {student}")
    if variant is not None:
        lines.append(f"variant: {variant}")
    lines.append("answers:")
    lines += [f"  {key}: {_yaml_value(value)}" for key, value in answers.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def _course_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class of ``course``, written once per module (each test gets its own copy:
    many change it)."""
    folder = tmp_path_factory.mktemp("course")
    make_variants(folder / "variants")
    answers = folder / "answers"
    answers.mkdir()
    for student, ident in ROSTER.items():
        step = reference(folder / "variants" / variant_file(ident))
        (answers / f"{student}.yaml").write_text(
            answer_text(right_answers(step), student=student.title(), variant=ident),
            encoding="utf-8")
    roster = "student,variant\n" + "".join(f"{s},{v}\n" for s, v in ROSTER.items())
    (folder / "roster.csv").write_text(roster, encoding="utf-8")
    return folder


@pytest.fixture
def course(tmp_path: Path, _course_built: Path) -> Path:
    """tmp_path/variants (3 variants), tmp_path/answers (6 students, each right for
    their own variant, with variant: written), tmp_path/roster.csv."""
    shutil.copytree(_course_built, tmp_path, dirs_exist_ok=True)
    return tmp_path


def batch(course: Path, *extra: str, roster: str | None = "roster.csv"):
    args = ["check", "--batch", "answers", "--variants", "variants", "-o", "marks", *extra]
    if roster is not None:
        args += ["--roster", roster]
    return run_cli(*args, cwd=course)


def gradebook(course: Path) -> tuple[list[str], dict[str, dict[str, str]], dict]:
    text = (course / "marks" / "gradebook.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    by_student = {r[1]: dict(zip(header, r)) for r in rows[1:]}
    doc = json.loads((course / "marks" / "gradebook.json").read_text(encoding="utf-8"))
    return header, by_student, doc


# --------------------------------------------------------------------------- a class


def test_each_student_right_for_their_own_variant_is_all_right(course: Path) -> None:
    result = batch(course)
    assert result.returncode == 0, result.stdout + result.stderr
    header, rows, doc = gradebook(course)
    assert header[:7] == ["file", "student", "variant", "status", "score", "total", "percent"]
    assert len(rows) == len(ROSTER)
    for student, ident in ROSTER.items():
        row = rows[student.title()]
        assert row["variant"] == ident and row["status"] == "all right"
        # per sample z, h, yhat (2 each), J(t): 7; J; grad W[2](t) 6, grad W[1](t) 4;
        # grad W[2], W[2] new 6 each, grad W[1], W[1] new 4 each
        assert row["score"] == row["total"] == str(2 * 7 + 1 + 2 * (6 + 4) + 2 * (6 + 4))
    assert {s["variant"] for s in doc["students"]} == set(IDS)
    assert doc["variants"] == "variants" and doc["roster"] == "roster.csv"
    assert "Against 3 variants of variants, as roster.csv assigns them." in result.stdout


def test_the_roster_alone_decides_without_variant_keys(course: Path) -> None:
    for path in (course / "answers").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text("\n".join(l for l in text.splitlines() if not l.startswith("variant:"))
                        + "\n", encoding="utf-8")
    assert batch(course).returncode == 0


def test_without_a_roster_each_file_names_its_variant(course: Path) -> None:
    result = batch(course, roster=None)
    assert result.returncode == 0, result.stdout + result.stderr
    _, rows, doc = gradebook(course)
    assert [rows[s.title()]["variant"] for s in ROSTER] == list(ROSTER.values())
    assert "roster" not in doc


def test_columns_are_the_canonical_quantities_identical_across_variants(
        course: Path, tmp_path: Path) -> None:
    assert batch(course).returncode == 0
    header, _, doc = gradebook(course)
    # The same answers for the base problem, marked without variants: the same columns.
    plain = tmp_path / "plain"
    plain.mkdir()
    step = reference(helpers.BUNDLED / f"{BASE}.yaml")
    (plain / "base.yaml").write_text(answer_text(right_answers(step)), encoding="utf-8")
    assert run_cli("check", "--batch", "plain", "-o", "plainmarks", cwd=tmp_path).returncode == 0
    plain_header = next(csv.reader(io.StringIO(
        (tmp_path / "plainmarks" / "gradebook.csv").read_text(encoding="utf-8"))))
    assert header[7:] == plain_header[6:] and len(header[7:]) == 17
    # every student of every variant has every column, named the same
    columns = {k for k, _ in ((g["key"], g["points"]) for g in doc["groups"])}
    for student in doc["students"]:
        assert set(student["groups"]) == columns


def test_a_student_who_used_another_variants_numbers(course: Path) -> None:
    """Ada (variant 1) hands in Alan's variant-2 numbers: wrong, and flagged as variant 2's."""
    step = reference(course / "variants" / variant_file(IDS[1]))
    (course / "answers" / "ada.yaml").write_text(
        answer_text(right_answers(step), student="Ada"), encoding="utf-8")
    result = batch(course)
    assert result.returncode == 1
    _, rows, doc = gradebook(course)
    ada = rows["Ada"]
    assert ada["variant"] == IDS[0]
    assert int(ada["score"]) < int(ada["total"])        # (follow-through credits some)
    assert ada["status"].startswith("flagged: these are the numbers of variant "
                                    f"{IDS[1]} (55 of 55 match it")
    assert f"flagged ada.yaml: these are the numbers of variant {IDS[1]}" in result.stdout
    assert all(rows[s.title()]["status"] == "all right" for s in ROSTER if s != "ada")


def test_one_file_is_marked_against_its_variant_with_the_right_values(course: Path) -> None:
    """check ANSWERS --variants DIR: every expected value is the reference's for that
    variant; another variant's numbers are wrong there."""
    ident = IDS[2]
    step = reference(course / "variants" / variant_file(ident))
    expected = right_answers(step)
    result = run_cli("check", "answers/barbara.yaml", "--variants", "variants", "--format",
                     "json", cwd=course)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["problem"]["variant"] == ident and doc["all_right"]
    for group in doc["groups"]:
        want = np.asarray(expected[group["key"]], dtype=float)
        for e in group["entries"]:
            assert e["expected"] == pytest.approx(float(want[tuple(e["index"])]), rel=1e-9,
                                                  abs=1e-12)
    # Alan's variant-2 numbers, claimed as variant 3: wrong against variant 3.
    other = right_answers(reference(course / "variants" / variant_file(IDS[1])))
    (course / "answers" / "mixed.yaml").write_text(answer_text(other, variant=ident),
                                                   encoding="utf-8")
    wrong = run_cli("check", "answers/mixed.yaml", "--variants", "variants", "--format",
                    "json", cwd=course)
    assert wrong.returncode == 1
    marks = [e["mark"] for g in json.loads(wrong.stdout)["groups"] for e in g["entries"]]
    assert marks.count("correct") < len(marks) // 4
    assert wrong.stderr == (f"bpnn-steps: note: answers/mixed.yaml: these are the numbers of "
                            f"variant {IDS[1]} (55 of 55 match it, 0 match {ident})\n")
    assert run_cli("check", "answers/barbara.yaml", "--variants", "variants",
                   cwd=course).stderr == ""


# --------------------------------------------------------------------------- inconsistencies


def test_a_student_not_in_the_roster_gets_an_error_row(course: Path) -> None:
    text = (course / "answers" / "ada.yaml").read_text(encoding="utf-8")
    (course / "answers" / "zed.yaml").write_text(text.replace("student: Ada", "student: Zed"),
                                                 encoding="utf-8")
    result = batch(course)
    assert result.returncode == 1
    _, rows, _ = gradebook(course)
    assert rows["Zed"]["status"].startswith("error: zed.yaml: not in the roster roster.csv")
    assert rows["Zed"]["score"] == ""
    assert rows["Ada"]["status"] == "all right"


def test_a_student_of_the_roster_found_by_student_key(course: Path) -> None:
    (course / "answers" / "ada.yaml").rename(course / "answers" / "upload-17.yaml")
    result = batch(course)
    assert result.returncode == 0, result.stdout
    _, rows, _ = gradebook(course)
    assert rows["Ada"]["file"] == "upload-17.yaml" and rows["Ada"]["variant"] == IDS[0]


def test_a_file_name_and_a_student_key_naming_two_students_is_flagged(course: Path) -> None:
    """ada.yaml says student: Alan: the file name decides (Ada's variant), and the row
    is flagged; Alan's own file is marked as usual."""
    path = course / "answers" / "ada.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("student: Ada", "student: Alan"),
                    encoding="utf-8")
    (course / "answers" / "alan.yaml").rename(course / "answers" / "turing.yaml")
    result = batch(course)
    assert result.returncode == 1
    text = (course / "marks" / "gradebook.csv").read_text(encoding="utf-8")
    by_file = {r["file"]: r for r in csv.DictReader(io.StringIO(text))}
    ada, alan = by_file["ada.yaml"], by_file["turing.yaml"]
    assert ada["variant"] == IDS[0] and ada["score"] == ada["total"]
    assert ada["status"] == ("flagged: student: 'Alan' is the roster's line 4, the file name "
                             "its line 2")
    assert alan["variant"] == IDS[1] and alan["status"] == "all right"


def test_a_student_of_the_roster_without_an_answer_file(course: Path) -> None:
    (course / "answers" / "grace.yaml").unlink()
    result = batch(course)
    assert result.returncode == 1
    _, rows, doc = gradebook(course)
    assert rows["grace"]["file"] == "" and rows["grace"]["variant"] == IDS[0]
    assert rows["grace"]["status"] == "error: no answer file (roster line 3)"
    assert "1 student of the roster handed in no answer file" in result.stdout
    assert "  grace: no answer file (roster line 3)" in result.stdout
    assert "Marked 5 of 5 answer files" in result.stdout


def test_an_answer_whose_variant_disagrees_with_the_roster_is_flagged(course: Path) -> None:
    path = course / "answers" / "ada.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"variant: {IDS[0]}",
                                                             f"variant: {IDS[2]}"),
                    encoding="utf-8")
    result = batch(course)
    assert result.returncode == 1
    _, rows, doc = gradebook(course)
    ada = rows["Ada"]
    assert ada["variant"] == IDS[0] and ada["score"] == ada["total"]    # the roster's
    assert ada["status"] == (f"flagged: the answer file says variant {IDS[2]}, the roster "
                             f"(roster.csv, line 2) gives {IDS[0]}: marked against {IDS[0]}")
    [entry] = [s for s in doc["students"] if s["student"] == "Ada"]
    assert entry["status"] == "flagged" and "says variant" in entry["flag"]


def test_two_files_for_one_student_are_flagged(course: Path) -> None:
    text = (course / "answers" / "ada.yaml").read_text(encoding="utf-8")
    (course / "answers" / "ada-again.yaml").write_text(text, encoding="utf-8")
    result = batch(course)
    assert result.returncode == 1
    assert "flagged ada-again.yaml: the roster's student is also matched by ada.yaml" \
        in result.stdout
    assert "flagged ada.yaml: the roster's student is also matched by ada-again.yaml" \
        in result.stdout


@pytest.mark.parametrize("roster, message", [
    ("name,variant\nada,x\n", "roster.csv:1: the first line must name the columns "
                              "student,variant (other columns are ignored), got 'name,variant'"),
    ("", "roster.csv: is empty; expected a header line student,variant"),
    ("student,variant\n", "roster.csv: lists no students"),
    (f"student,variant\nada,{IDS[0]}\n,{IDS[1]}\n", "roster.csv:3: student is empty"),
    ("student,variant\nada,\n", "roster.csv:2: variant is empty; expected the id of ada's"),
    (f"student,variant\nada,{IDS[0]}\nAda ,{IDS[1]}\n",
     "roster.csv:3: student 'Ada' is listed twice (also on line 2)"),
    ("student,variant\nada\n", "roster.csv:2: expected the 2 columns of the header"),
    (f"student,variant\nada,{BASE}-s7-009\n",
     f"roster.csv:2: variant '{BASE}-s7-009' is not a variant of variants (see "
     "variants/index.csv)"),
    ("student,variant\nada,\x1b]0;pwned\x07\n", "roster.csv:2: variant is empty"),
    (f"student,variant\n{'x' * 201},{IDS[0]}\n",
     "roster.csv:2: student is longer than 200 characters: 'xxxx"),
])
def test_a_bad_roster_is_one_clear_error(course: Path, roster: str, message: str) -> None:
    (course / "roster.csv").write_text(roster, encoding="utf-8")
    result = batch(course)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert result.stdout == "" and not (course / "marks").exists()


def test_a_roster_with_more_columns_and_a_bom(course: Path) -> None:
    text = "\ufeffEmail,Student,Variant\n" + "".join(
        f"{s}@uni.example,{s.upper()},{v}\n" for s, v in ROSTER.items())
    (course / "roster.csv").write_text(text, encoding="utf-8")
    assert batch(course).returncode == 0


@pytest.mark.parametrize("end", ["\r", "\r\n"])
def test_a_roster_and_an_index_with_other_line_ends_read_alike(course: Path, end: str
                                                                ) -> None:
    """Lines ending in CR alone (Excel for Mac's CSV) or CR LF (Windows) read as
    lines ending in LF: the same gradebook."""
    assert batch(course).returncode == 0
    expected = gradebook(course)
    shutil.rmtree(course / "marks")
    for path in (course / "roster.csv", course / "variants" / "index.csv"):
        text = path.read_text(encoding="utf-8")
        path.write_bytes(text.replace("\n", end).encode("utf-8"))
    result = batch(course)
    assert result.returncode == 0, result.stderr
    assert gradebook(course) == expected


def test_an_index_the_csv_reader_refuses_is_one_clear_error(course: Path) -> None:
    path = course / "variants" / "index.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] += ',"' + "x" * 200_000 + '"'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = batch(course)
    assert result.returncode == 2, result.stderr
    assert "variants/index.csv: is not CSV that can be read: field larger than" in \
        result.stderr
    assert "Traceback" not in result.stderr and not (course / "marks").exists()


def test_a_roster_is_size_capped_and_cleaned(course: Path) -> None:
    from bpnn_steps.marking.roster import MAX_ROSTER_BYTES

    (course / "roster.csv").write_text("student,variant\n" + "x" * MAX_ROSTER_BYTES,
                                       encoding="utf-8")
    result = batch(course)
    assert result.returncode == 2 and "is too large for a roster" in result.stderr
    # a name with terminal escapes and a formula-like name: cleaned, and quoted in the CSV
    rows = dict(ROSTER)
    del rows["ada"]
    text = "student,variant\n" + "".join(f"{s},{v}\n" for s, v in rows.items()) + \
        f"\"=HYPERLINK(1)\x1b[2J\",{IDS[0]}\n"
    (course / "roster.csv").write_text(text, encoding="utf-8")
    (course / "answers" / "ada.yaml").unlink()
    result = batch(course)
    assert result.returncode == 1
    csv_text = (course / "marks" / "gradebook.csv").read_text(encoding="utf-8")
    assert "\x1b" not in csv_text + result.stdout
    assert "'=HYPERLINK(1)" in csv_text


def test_a_variant_the_roster_gives_whose_file_is_bad_is_bad_input(course: Path) -> None:
    (course / "variants" / variant_file(IDS[1])).unlink()
    result = batch(course)
    assert result.returncode == 2
    assert f"variants/{variant_file(IDS[1])}: no such file" in result.stderr
    # the file of another variant
    make_variants(course / "variants")
    other = (course / "variants" / variant_file(IDS[0])).read_text(encoding="utf-8")
    (course / "variants" / variant_file(IDS[1])).write_text(other, encoding="utf-8")
    result = batch(course)
    assert result.returncode == 2
    assert f"is listed in index.csv as variant {IDS[1]} but says variant: " in result.stderr


def test_without_a_roster_an_unknown_or_missing_variant_is_an_error_row(course: Path) -> None:
    for name, line in (("ada", f"variant: {BASE}-s7-009"), ("grace", None)):
        path = course / "answers" / f"{name}.yaml"
        lines = [l for l in path.read_text(encoding="utf-8").splitlines()
                 if not l.startswith("variant:")]
        if line:
            lines.insert(1, line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = batch(course, roster=None)
    assert result.returncode == 1
    _, rows, _ = gradebook(course)
    assert rows["Ada"]["status"] == f"error: variants/index.csv: lists no variant " \
        f"'{BASE}-s7-009'"
    assert rows["Grace"]["status"] == "error: grace.yaml: variant is missing; with " \
        "--variants an answer file names its variant (variant: ID), or a --roster gives it"
    assert rows["Alan"]["status"] == "all right"


# --------------------------------------------------------------------------- one file


def test_an_answer_file_whose_problem_is_a_variant_file(course: Path) -> None:
    """problem: names the variant file itself: marked as any problem; a variant: that
    disagrees with the file's is bad input."""
    answers = course / "answers"
    text = (answers / "alan.yaml").read_text(encoding="utf-8")
    path = course / "alan.yaml"
    path.write_text(text.replace(f"problem: {BASE}",
                                 f"problem: variants/{variant_file(IDS[1])}"), encoding="utf-8")
    result = run_cli("check", "alan.yaml", "--format", "json", cwd=course)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["problem"]["variant"] == IDS[1]
    path.write_text(path.read_text(encoding="utf-8").replace(f"variant: {IDS[1]}",
                                                             f"variant: {IDS[0]}"),
                    encoding="utf-8")
    result = run_cli("check", "alan.yaml", cwd=course)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"bpnn-steps: error: alan.yaml:3: variant says {IDS[0]}, "
                                     f"but its problem variants/{variant_file(IDS[1])} is "
                                     f"variant {IDS[1]}")


def test_a_batch_of_files_whose_problems_are_variant_files(course: Path) -> None:
    """Without --variants, answer files that name their variant file are marked
    against it as any problem, and the gradebook still shows the variant."""
    for path in (course / "answers").glob("*.yaml"):
        ident = ROSTER[path.stem]
        path.write_text(path.read_text(encoding="utf-8").replace(
            f"problem: {BASE}", f"problem: variants/{variant_file(ident)}"), encoding="utf-8")
    result = run_cli("check", "--batch", "answers", "-o", "marks", cwd=course)
    assert result.returncode == 0, result.stdout + result.stderr
    header, rows, doc = gradebook(course)
    assert header[2] == "variant" and "variants" not in doc
    assert {rows[s.title()]["variant"] for s in ROSTER} == set(IDS)
    assert "Against 3 variants." in result.stdout


def test_a_variant_of_the_base_problem_without_the_folder(course: Path, monkeypatch) -> None:
    """With no way to draw the variant again, the message asks for the folder."""
    from bpnn_steps.cli import check as check_command

    monkeypatch.setattr(check_command, "_regenerate", lambda access: None)
    result = run_cli("check", "answers/ada.yaml", cwd=course)
    assert result.returncode == 2
    assert f"answers/ada.yaml:3: variant says {IDS[0]}, but its problem {BASE} is not a " \
        "variant; mark it with --variants DIR" in result.stderr


def test_a_variant_of_the_base_problem_is_drawn_again(tmp_path: Path) -> None:
    """An answer file that names the base problem and its variant is marked against
    the variant that `bpnn-steps variants` wrote, without the folder."""
    made = run_cli("variants", BASE, "--count", "3", "--seed", "7", "-o", "v", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    (tmp_path / "answers").mkdir()
    for ident in IDS:
        step = reference(tmp_path / "v" / variant_file(ident))
        (tmp_path / "answers" / f"{ident}.yaml").write_text(
            answer_text(right_answers(step), variant=ident), encoding="utf-8")
    one = run_cli("check", f"answers/{IDS[2]}.yaml", "--format", "json", cwd=tmp_path)
    assert one.returncode == 0, one.stdout[-500:] + one.stderr
    assert json.loads(one.stdout)["problem"]["variant"] == IDS[2]
    batch_result = run_cli("check", "--batch", "answers", "-o", "m", cwd=tmp_path)
    assert batch_result.returncode == 0, batch_result.stdout + batch_result.stderr


def test_the_regeneration_hook_draws_the_variant_of_the_base_problem(course: Path) -> None:
    """marker.load's ``regenerate`` (the command line gives course.variants.Regenerator):
    an answer file naming the base problem and a variant is marked against
    the variant drawn again, each variant drawn once per batch."""
    from bpnn_steps.errors import ProblemError
    from bpnn_steps.marking.gradebook import mark_folder
    from bpnn_steps.marking.marker import check_file

    calls = []

    def regenerate(path: Path, ident) -> object:       # a stand-in for make_variant
        calls.append((path.name, str(ident)))
        return load_problem(course / "variants" / variant_file(str(ident)))

    answers = course / "answers"
    result = check_file(answers / "alan.yaml", regenerate=regenerate)
    assert result.all_right and result.variant == IDS[1]
    assert calls == [(f"{BASE}.yaml", IDS[1])]
    calls.clear()
    book = mark_folder(answers, regenerate=regenerate)
    assert all(r.done for r in book.rows) and len(book.rows) == 6
    assert sorted(calls) == sorted((f"{BASE}.yaml", i) for i in IDS)      # once each
    assert {r.student: r.variant for r in book.rows} == \
        {s.title(): v for s, v in ROSTER.items()}
    path = answers / "ada.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        f"variant: {IDS[0]}", "variant: quiz_11-s7-001"), encoding="utf-8")
    with pytest.raises(ProblemError, match=f"ada.yaml:3: variant says quiz_11-s7-001, a "
                       f"variant of quiz_11, but its problem is {BASE}"):
        check_file(path, regenerate=regenerate)


@pytest.mark.parametrize("value, message", [
    ("lecture_122", "variant must be a variant id such as lecture_122-s7-003"),
    ("[1, 2]", "variant must be text, got a list"),
    ('"\\e]0;x\\a-s1-001"', "variant must be a variant id"),
])
def test_a_bad_variant_key_is_bad_input(course: Path, value: str, message: str) -> None:
    path = course / "answers" / "ada.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"variant: {IDS[0]}",
                                                             f"variant: {value}"),
                    encoding="utf-8")
    result = run_cli("check", "answers/ada.yaml", "--variants", "variants", cwd=course)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--batch", "answers", "--roster", "roster.csv"], "--roster gives each student"),
    (["answers/ada.yaml", "--roster", "roster.csv", "--variants", "variants"],
     "--roster gives each student"),
    (["answers/ada.yaml", "--variants", "variants", "-p", BASE],
     "give --problem or --variants, not both"),
    (["--template", BASE, "--variants", "variants"], "--variants marks answer files"),
    (["answers/ada.yaml", "--variants", "answers"], "answers: has no index.csv"),
])
def test_options_that_do_not_go_together(course: Path, args: list[str], message: str) -> None:
    result = run_cli("check", *args, cwd=course)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_the_template_of_a_variant_names_it_and_marks_against_it(course: Path) -> None:
    ident = IDS[1]
    result = run_cli("check", "--template", f"variants/{variant_file(ident)}", cwd=course)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert f"variant: {ident}" in lines
    assert lines.index(f"variant: {ident}") == lines.index(
        f"problem: variants/{variant_file(ident)}") + 1
    # the plain template is unchanged: no variant line
    assert "variant:" not in run_cli("check", "--template", BASE).stdout
    # a blank sheet of the variant reads and marks (all blank) against its variant
    (course / "sheet.yaml").write_text(result.stdout, encoding="utf-8")
    marked = run_cli("check", "sheet.yaml", "--format", "json", cwd=course)
    assert marked.returncode == 1
    doc = json.loads(marked.stdout)
    assert doc["problem"]["variant"] == ident and doc["score"]["blank"] == doc["score"]["total"]


# --------------------------------------------------------------------------- speed


def test_a_class_solves_each_variant_once(tmp_path: Path, monkeypatch) -> None:
    from bpnn_steps.files import problem_file
    from bpnn_steps.marking.roster import VariantFolder, mark_class, read_roster

    variants = make_variants(tmp_path / "variants", 4)
    answers = tmp_path / "answers"
    answers.mkdir()
    steps = {v.id: reference(tmp_path / "variants" / variant_file(v.id)) for v in variants}
    roster = ["student,variant"]
    for k in range(24):
        ident = variants[k % 4].id
        roster.append(f"s{k:02d},{ident}")
        (answers / f"s{k:02d}.yaml").write_text(answer_text(right_answers(steps[ident])),
                                                encoding="utf-8")
    (tmp_path / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    parsed = []
    real = problem_file.parse_problem
    monkeypatch.setattr(problem_file, "parse_problem",
                        lambda *a, **k: parsed.append(a[1]) or real(*a, **k))
    folder = VariantFolder.read(tmp_path / "variants")
    book = mark_class(answers, folder, read_roster(tmp_path / "roster.csv", folder))
    assert len(book.rows) == 24 and all(r.done for r in book.rows)
    assert sorted(parsed) == sorted(str(tmp_path / "variants" / variant_file(v.id))
                                    for v in variants)


def test_the_example_class_of_the_docs_is_what_it_says() -> None:
    """examples/class (docs/check.md): the variants of examples/course, a roster
    that names them, and Ada's numbers are her variant's (by the reference)."""
    from bpnn_steps.files.variant_folder import read_variants

    folder = helpers.REPO / "examples" / "class"
    variants_folder = helpers.REPO / "examples" / "course"
    ids = [v.id for v in read_variants(variants_folder)]
    assert ids == IDS
    roster = list(csv.DictReader(io.StringIO((folder / "roster.csv").read_text("utf-8"))))
    assert {r["variant"] for r in roster} <= set(ids)
    ada = helpers.read_yaml(folder / "answers" / "ada.yaml")
    assert ada["variant"] == IDS[0]
    step = reference(variants_folder / variant_file(IDS[0]))
    want = right_answers(step)
    for key, value in ada["answers"].items():
        assert np.allclose(np.asarray(value, dtype=float), np.asarray(want[key], dtype=float),
                           atol=5e-4 + 1e-12), key


def test_the_example_variants_are_what_the_command_draws(tmp_path: Path) -> None:
    """examples/course is exactly what `bpnn-steps variants lecture_122 --count 3
    --seed 7` writes, so its ids can be drawn again (an answer file naming the base
    problem and an id is marked against the same numbers)."""
    made = run_cli("variants", BASE, "--count", "3", "--seed", "7", "-o", "v", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    example = helpers.REPO / "examples" / "course"
    names = sorted(p.name for p in example.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "v").iterdir())
    for name in names:
        assert (example / name).read_bytes() == (tmp_path / "v" / name).read_bytes(), name


def test_a_student_cannot_make_check_draw_thousands_of_variants(tmp_path: Path) -> None:
    """Drawing variant i draws 1 .. i-1 too; an id comes from a student, so check
    draws at most up to index 300 and says to give the folder past it."""
    (tmp_path / "a.yaml").write_text(
        f"problem: {BASE}\nvariant: {variant_id(BASE, 7, 301)}\nanswers:\n  J: 1\n",
        encoding="utf-8")
    result = run_cli("check", "a.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "variant index 301 is above 300" in result.stderr
    assert "--variants DIR" in result.stderr


def test_files_naming_many_seeds_cannot_make_a_batch_draw_without_end(monkeypatch) -> None:
    """Each seed is a draw of its own: files naming variant 300 of seed after seed
    made a batch draw 300 variants per file.  One run draws at most 600 in all; past
    that, each such file is bad input naming --variants."""
    from bpnn_steps.course import variants as module
    from bpnn_steps.course.variants import Regenerator
    from bpnn_steps.errors import ProblemError
    from bpnn_steps.model.variant import VariantId

    drawn = []

    def counted(base, spec, count, seed, name):      # the draw itself is not the point
        drawn.append(count)
        return module.Run(base.source, seed, tuple(module.Variant(
            variant_id(name, seed, i), base) for i in range(1, count + 1)), (), 1)

    monkeypatch.setattr(module, "variants", counted)
    regenerate = Regenerator()
    base = helpers.BUNDLED / f"{BASE}.yaml"
    regenerate(base, VariantId(BASE, 1, 300))
    regenerate(base, VariantId(BASE, 2, 300))
    with pytest.raises(ProblemError, match="past 600 variants drawn; mark the class with "
                                           "--variants DIR"):
        regenerate(base, VariantId(BASE, 3, 300))
    assert drawn == [300, 300]
    regenerate(base, VariantId(BASE, 1, 120))        # drawn already: no new draw
    assert drawn == [300, 300]


def test_a_class_naming_many_variants_shares_one_draw(monkeypatch) -> None:
    """The Regenerator extends one run per base file and seed by doubling: variants
    1 .. 9 asked for in order cost draws of 1, 2, 4, 8 and 16 variants, not 45."""
    from bpnn_steps.course import variants as module
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.model.variant import VariantId

    drawn: list[int] = []
    real = module.variants
    monkeypatch.setattr(module, "variants",
                        lambda base, spec, count, seed, name=None:
                        drawn.append(count) or real(base, spec, count, seed, name))
    regenerate = module.Regenerator()
    path = helpers.BUNDLED / f"{BASE}.yaml"
    problems = [regenerate(path, VariantId(BASE, 7, i)) for i in range(1, 10)]
    assert drawn == [1, 2, 4, 8, 16]
    whole = real(load_problem(path), default_spec(load_problem(path)), 9, 7, BASE)
    assert [p.variant for p in problems] == [v.id for v in whole.variants]
    for p, v in zip(problems, whole.variants):
        assert all(np.array_equal(a, b) for a, b in zip(p.initial_weights(),
                                                        v.problem.initial_weights()))
