"""Batch marking: a TA marks a folder of answer files in one command.

The answer files are built from the lecture's own numbers (see test_check.py for
the hand calculation), with typical mistakes made on purpose.
"""

from __future__ import annotations

import csv
import shutil
import io
import json
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

import helpers  # noqa: E402
from bpnn_steps.cli import app  # noqa: E402

runner = CliRunner()

# The lecture example, by hand (6 decimals).
RIGHT = {
    "h(1)": "[0.549834, 0.549834]",
    "yhat(1)": "[0.209967, 0.209967]",
    "J": "19.628361",
    "grad W[2](1)": "[[-2.790033, -3.790033], [-1.534055, -2.083889], [-1.534055, -2.083889]]",
    "grad W[1](1)": "[[-0.162868, -0.162868], [-0.162868, -0.162868]]",
    "grad W[2]": "[[-4.287572, -4.287572], [-2.428635, -2.41633], [-2.428635, -2.41633]]",
    "W[1] new": "[[0.205316, 0.205316], [0.269916, 0.269916]]",
}
# grad W[1](1) without the sigmoid derivative: the hidden error -0.658007 times [1; 1].
NO_DERIVATIVE = "[[-0.658007, -0.658007], [-0.658007, -0.658007]]"
# grad W[2] summed over the two samples instead of averaged.
SUMMED = "[[-8.575145, -8.575145], [-4.857269, -4.832661], [-4.857269, -4.832661]]"


def answer_file(folder: Path, name: str, student: str, changes: dict[str, str]) -> None:
    values = {**RIGHT, **changes}
    body = "".join(f"  {k}: {v}\n" for k, v in values.items())
    (folder / name).write_text(f"problem: lecture_122\nstudent: {json.dumps(student)}\n"
                               f"answers:\n{body}", encoding="utf-8")


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("quiz3")
    n = 0
    for i in range(12):                                         # all right
        answer_file(folder, f"s{n:02}.yaml", f"Student {n}", {})
        n += 1
    for i in range(8):                                          # derivative left out
        answer_file(folder, f"s{n:02}.yaml", f"Student {n}", {"grad W[1](1)": NO_DERIVATIVE})
        n += 1
    for i in range(5):                                          # sum instead of mean
        answer_file(folder, f"s{n:02}.yaml", f"Student {n}", {"grad W[2]": SUMMED})
        n += 1
    answer_file(folder, f"s{n:02}.yaml", "=HYPERLINK(\"http://x\")", {})   # spreadsheet bait
    n += 1
    answer_file(folder, f"s{n:02}.yaml", "Mallory",
                {"h(1)": "[\"__import__('os').system('id')\", \"9^9^9^9\"]"})
    n += 1
    answer_file(folder, f"s{n:02}.yaml", "Deep", {"J": "\"" + "(" * 5000 + "1" + ")" * 5000
                                                  + "\""})
    n += 1
    (folder / f"s{n:02}.yaml").write_text("problem: lecture_122\nanswers: [unclosed\n",
                                          encoding="utf-8")
    n += 1
    (folder / f"s{n:02}.yml").write_text("problem: lecture_122\nanswers:\n  h(7): [1, 1]\n",
                                         encoding="utf-8")
    (folder / "notes.txt").write_text("not an answer file", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def marked(class_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("gradebook")
    done = helpers.run_cli("check", "--batch", str(class_folder), "-o", str(out))
    return done, out


def test_one_command_marks_30_files_and_writes_a_gradebook(marked):
    done, out = marked
    assert done.returncode == 1                     # some answers are wrong
    assert "Traceback" not in done.stderr
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 31 and rows[0][:6] == ["file", "student", "status", "score", "total",
                                               "percent"]
    # One column per entry group, with its points, in the order of a worked solution.
    assert rows[0][6:] == ["h(1) [2]", "yhat(1) [2]", "J [1]", "grad W[2](1) [6]",
                           "grad W[1](1) [4]", "grad W[2] [6]", "W[1] new [4]"]
    by_file = {r[0]: r for r in rows[1:]}
    assert by_file["s00.yaml"][2:6] == ["all right", "25", "25", "100.0"]
    assert by_file["s12.yaml"][3:5] == ["21", "25"] and by_file["s12.yaml"][10] == "0"
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert book["format"] == "bpnn-steps gradebook" and len(book["students"]) == 30


def test_summary_names_the_most_common_mistakes(marked):
    done, _ = marked
    out = done.stdout
    assert "Marked 28 of 30 answer files" in out and "2 could not be read" in out
    lines = out.splitlines()
    start = lines.index("Most common mistakes (students affected):")
    first, second = lines[start + 1], lines[start + 2]
    assert first.split()[0] == "8" and "missing activation derivative" in first
    assert "grad W[1](1) (8)" in first
    assert second.split()[0] == "5" and "sum instead of mean" in second


def test_hostile_and_broken_files_do_not_stop_the_batch(marked):
    done, out = marked
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    students = {s["file"]: s for s in book["students"]}
    mallory = students["s26.yaml"]
    assert mallory["status"] == "marked" and mallory["mistakes"] == {"formula": 2}
    assert students["s27.yaml"]["mistakes"] == {"formula": 1}          # nested too deeply
    assert students["s28.yaml"]["status"] == "error"
    assert "s28.yaml:3" in students["s28.yaml"]["error"]
    assert "names sample 7" in students["s29.yml"]["error"]
    assert "could not mark s28.yaml" in done.stdout


def test_csv_cells_never_start_a_spreadsheet_formula(marked):
    _, out = marked
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_batch_json_to_stdout_and_bad_folders(class_folder, tmp_path):
    result = runner.invoke(app, ["check", "--batch", str(class_folder), "-o", str(tmp_path),
                                 "--format", "json"])
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["students"]) == 30
    missing = runner.invoke(app, ["check", "--batch", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "is not a folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["check", "--batch", str(empty)])
    assert result.exit_code == 2 and "holds no answer files" in result.stderr
    result = runner.invoke(app, ["check", "--batch", str(class_folder), "-p",
                                 str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "none.yaml" in result.stderr


def test_batch_with_the_problem_option(tmp_path, lecture_yaml):
    (tmp_path / "problem.yaml").write_text(lecture_yaml, encoding="utf-8")
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "a.yaml").write_text("answers:\n  J: 19.628\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "--batch", str(folder), "-o", str(tmp_path),
                                 "--problem", str(tmp_path / "problem.yaml")])
    assert result.exit_code == 0, result.stdout
    assert "1 with everything right" in result.stdout


def test_batch_summary_is_the_same_in_every_run(tmp_path):
    """The class summary lists tied keys in the worked solution's order, not in the
    order of a set (which changes with Python's hash seed from run to run).

    Three runs with three hash seeds: this process's own (random unless
    PYTHONHASHSEED fixes it) and two others; a seed is fixed when Python starts, so
    each other seed is a real run of the console script (each ~1.5 s, most of it
    importing sympy for the formulas): two of them, not three."""
    import subprocess

    own = runner.invoke(app, ["check", "--batch", str(helpers.REPO / "examples" / "answers"),
                              "-o", str(tmp_path / "own")], env=helpers.CLI_ENV)
    assert own.exit_code == 1, own.output
    outputs = [own.stdout]
    others = [seed for seed in ("1", "2", "3") if seed != os.environ.get("PYTHONHASHSEED")]
    for seed in others[:2]:
        env = dict(helpers.cli_env(), PYTHONHASHSEED=seed)
        out = subprocess.run([helpers.console_script(), "check", "--batch",
                              str(helpers.REPO / "examples" / "answers"), "-o",
                              str(tmp_path / seed)], env=env, capture_output=True, text=True,
                             encoding="utf-8", timeout=120)
        assert out.returncode == 1, out.stderr
        outputs.append(out.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    # grad W[2](2) comes before grad W[1](2) in a worked solution (backward pass).
    assert "in grad W[2](2) (1), grad W[1](2) (1)" in outputs[0]


def test_a_batch_solves_each_problem_once(tmp_path, monkeypatch):
    """20 answer files naming the same problem: it is read and solved once per run;
    a second problem named by some files is solved once more."""
    from bpnn_steps.maths import engine
    from bpnn_steps.marking.gradebook import mark_folder

    exact_solves = []
    real_solve = engine.solve

    def counting_solve(problem, **kwargs):
        if kwargs.get("round_as_you_go") is None:
            exact_solves.append(problem.source)
        return real_solve(problem, **kwargs)

    monkeypatch.setattr(engine, "solve", counting_solve)
    for n in range(20):
        answer_file(tmp_path, f"s{n:02}.yaml", f"Student {n}", {} if n % 2 else
                    {"grad W[2]": SUMMED})
    book = mark_folder(tmp_path)
    assert len(book.rows) == 20
    assert len(exact_solves) == 1
    assert sum(r.result is not None and r.result.all_right for r in book.rows) == 10
    # The same marks as marking each file on its own.
    from bpnn_steps.marking.marker import check_file
    for row, path in zip(book.rows, sorted(tmp_path.glob("*.yaml"))):
        alone = check_file(path)
        assert row.result is not None
        assert row.result.to_dict() == alone.to_dict()

    exact_solves.clear()
    # the TA's problem file beside the folder of answer files (none is taken from in it)
    course = tmp_path / "course"
    other = course / "answers"
    (course / "problems").mkdir(parents=True)
    other.mkdir()
    (course / "problems" / "p.yaml").write_text(
        (Path(helpers.__file__).parent.parent / "bpnn_steps" / "problems" /
         "lecture_122.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    for n in range(4):
        answer_file(other, f"a{n}.yaml", f"Student {n}", {})
    for n in range(4, 8):
        text = (other / "a0.yaml").read_text(encoding="utf-8")
        (other / f"a{n}.yaml").write_text(text.replace("problem: lecture_122",
                                                       "problem: problems/p.yaml"), encoding="utf-8")
    monkeypatch.chdir(course)
    book = mark_folder(other)
    assert len(exact_solves) == 2
    assert all(r.result is not None and r.result.all_right for r in book.rows)


def test_a_sheet_scores_every_file_against_the_questions_asked(tmp_path):
    """--sheet: the class's sheet (here a blank one of 7 keys, 26 entries) is the
    standard.  A file of one right key was 2/2, 100%; a second spelling of y-hat
    (z[2] of a linear output) scored twice."""
    # (each key of RIGHT, its numbers made blanks: the shapes a blank sheet has)
    sheet = "problem: lecture_122\nanswers:\n" + "".join(
        f"  {k}: {re.sub(r'-?[0-9.]+', '~', v)}\n" for k, v in RIGHT.items())
    (tmp_path / "sheet.yaml").write_text(sheet, encoding="utf-8")
    folder = tmp_path / "class"
    folder.mkdir()
    answer_file(folder, "ada.yaml", "Ada", {})                        # every key right
    (folder / "eve.yaml").write_text(                                   # one key
        "problem: lecture_122\nstudent: Eve\nanswers:\n  h(1): [0.549834, 0.549834]\n",
        encoding="utf-8")
    (folder / "pad.yaml").write_text(                                   # one key twice
        "problem: lecture_122\nstudent: Pad\nanswers:\n  yhat(1): [0.209967, 0.209967]\n"
        "  z[2](1): [0.209967, 0.209967]\n", encoding="utf-8")
    entries = 2 + 2 + 1 + 6 + 4 + 6 + 4
    plain = helpers.run_cli("check", "--batch", "class", "-o", "plain", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr          # without the sheet: all "all right"
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "plain" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert (rows["Eve"]["score"], rows["Eve"]["total"]) == ("2", "2")      # as it was
    assert (rows["Pad"]["score"], rows["Pad"]["total"]) == ("4", "4")
    result = helpers.run_cli("check", "--batch", "class", "--sheet", "sheet.yaml", "-o",
                             "marks", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert (rows["Ada"]["score"], rows["Ada"]["total"], rows["Ada"]["status"]) == \
        (str(entries), str(entries), "all right")
    assert (rows["Eve"]["score"], rows["Eve"]["total"]) == ("2", str(entries))
    assert (rows["Pad"]["score"], rows["Pad"]["total"]) == ("2", str(entries))
    doc = json.loads((tmp_path / "marks" / "gradebook.json").read_text(encoding="utf-8"))
    assert [g["key"] for g in doc["groups"]] == list(RIGHT)            # the sheet's keys
    assert doc["sheet"] == "sheet.yaml" and f"({entries} entries)" in result.stdout
    eve = next(s for s in doc["students"] if s["student"] == "Eve")
    assert eve["groups"]["J"] == {"credited": 0, "total": 1}             # left out: blank
    # without --batch, and a sheet that cannot be read: bad input before any marking
    alone = helpers.run_cli("check", "class/eve.yaml", "--sheet", "sheet.yaml", cwd=tmp_path)
    assert alone.returncode == 2 and "goes with --batch" in alone.stderr
    bad = helpers.run_cli("check", "--batch", "class", "--sheet", "none.yaml", "-o", "x",
                          cwd=tmp_path)
    assert bad.returncode == 2 and "none.yaml" in bad.stderr and not (tmp_path / "x").exists()


def test_a_sheet_scores_only_files_of_its_problem(tmp_path):
    """A file answering another problem is an error row, not a score on the sheet: a
    J of Mazur's published example (0.298371109) landed in lecture_122's J column,
    and line_1101_gd's ten h(1) entries made the class's 2-point h(1) column one of
    10 points.  A variant of the sheet's problem is scored (test below)."""
    helpers.run_cli("check", "--template", "lecture_122", "-o", "sheet.yaml", cwd=tmp_path)
    folder = tmp_path / "class"
    folder.mkdir()
    answer_file(folder, "ada.yaml", "Ada", {})
    (folder / "mallory.yaml").write_text(
        "problem: mazur_222\nstudent: Mallory\nanswers:\n  J: 0.298371109\n", encoding="utf-8")
    (folder / "lina.yaml").write_text(
        "problem: line_1101_gd\nstudent: Lina\nanswers:\n  h(1): [" +
        ", ".join(["0.5"] * 10) + "]\n", encoding="utf-8")
    result = helpers.run_cli("check", "--batch", "class", "--sheet", "sheet.yaml", "-o",
                             "marks", cwd=tmp_path)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert rows["ada.yaml"]["status"] == "marked" and rows["ada.yaml"]["total"] == "63"
    for name, problem in (("mallory.yaml", "mazur_222"), ("lina.yaml", "line_1101_gd")):
        assert rows[name]["status"].startswith("error") and rows[name]["score"] == "", rows[name]
        assert f"answers {problem}, not the sheet's problem lecture_122" in result.stdout
    header = (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "h(1) [2]" in header and "J [1]" in header, header


def test_a_sheet_of_the_base_problem_scores_its_variants(tmp_path):
    helpers.run_cli("check", "--template", "lecture_122", "-o", "sheet.yaml", cwd=tmp_path)
    result = helpers.run_cli(
        "check", "--batch", str(helpers.REPO / "examples" / "class" / "answers"),
        "--variants", str(helpers.REPO / "examples" / "course"), "--sheet", "sheet.yaml",
        "-o", "marks", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8"))))
    assert rows and all(r["status"] != "error" and r["total"] == "63" for r in rows), rows
    assert "not the sheet's problem" not in result.stdout


def test_a_file_of_another_problem_is_flagged_without_a_sheet(tmp_path):
    """Without --sheet, a file answering another problem than most of the class's
    (Mazur's published example, or the easiest problem there is) scored in the same
    columns with nothing to show it."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ada", "bob", "cy"):
        answer_file(folder, f"{name}.yaml", name.title(), {})
    (folder / "mallory.yaml").write_text(
        "problem: mazur_222\nstudent: Mallory\nanswers:\n  J: 0.298371109\n", encoding="utf-8")
    result = helpers.run_cli("check", "--batch", "class", "-o", "marks", cwd=tmp_path)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert rows["mallory.yaml"]["status"] == ("flagged: answers mazur_222; the files answer "
                                              "2 problems, most of them lecture_122")
    assert all(rows[f"{n}.yaml"]["status"] == "all right" for n in ("ada", "bob", "cy"))
    assert "flagged mallory.yaml: answers mazur_222" in result.stdout
    # one file each of two problems: no majority, both flagged
    (folder / "bob.yaml").unlink()
    (folder / "cy.yaml").unlink()
    helpers.run_cli("check", "--batch", "class", "-o", "even", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(
        (tmp_path / "even" / "gradebook.csv").read_text(encoding="utf-8"))))
    assert all(r["status"].startswith("flagged: answers ") for r in rows), rows


def test_the_gradebook_pair_is_replaced_together_or_not_at_all(tmp_path):
    """gradebook.csv was replaced, then gradebook.json could not be written: the pair
    was left out of step.  Now a failure leaves both as they were."""
    folder = tmp_path / "class"
    folder.mkdir()
    answer_file(folder, "ada.yaml", "Ada", {})
    marks = tmp_path / "marks"
    marks.mkdir()
    (marks / "gradebook.csv").write_text("last week\n", encoding="utf-8")
    (marks / "gradebook.json").mkdir()            # cannot be written as a file
    result = helpers.run_cli("check", "--batch", "class", "-o", "marks", cwd=tmp_path)
    assert result.returncode == 2 and "gradebook.json" in result.stderr, result.stderr
    assert (marks / "gradebook.csv").read_text(encoding="utf-8") == "last week\n"
    assert sorted(p.name for p in marks.iterdir()) == ["gradebook.csv", "gradebook.json"]


def test_a_problem_that_is_not_the_sheets_is_refused_before_marking(tmp_path):
    """--problem quiz_11 with a sheet of lecture_122 made every row an error and
    overwrote the gradebook; the sheet's own problem, by name or by path, was refused
    row by row too (its name and the path the sheet's problem: resolves to differ)."""
    helpers.run_cli("check", "--template", "lecture_122", "-o", "sheet.yaml", cwd=tmp_path)
    folder = tmp_path / "class"
    folder.mkdir()
    answer_file(folder, "ada.yaml", "Ada", {})
    (tmp_path / "marks").mkdir()
    (tmp_path / "marks" / "gradebook.csv").write_text("last week's\n", encoding="utf-8")
    result = helpers.run_cli("check", "--batch", "class", "--sheet", "sheet.yaml", "-p",
                             "quiz_11", "-o", "marks", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "bpnn-steps: error: --problem quiz_11 is not the problem of --sheet sheet.yaml "
        "(lecture_122): every file would be an error row; give the sheet of that problem, "
        "or leave out --problem\n")
    assert (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8") == "last week's\n"
    for same in ("lecture_122", str(helpers.BUNDLED / "lecture_122.yaml")):
        result = helpers.run_cli("check", "--batch", "class", "--sheet", "sheet.yaml", "-p",
                                 same, "-o", "marks", cwd=tmp_path)
        assert result.returncode == 1, result.stderr        # Ada left most of it blank
        row = next(csv.DictReader(io.StringIO(
            (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8"))))
        assert row["status"] == "marked" and row["total"] == "63", row


def test_the_base_problem_is_no_answer_to_a_sheet_of_its_variant(tmp_path):
    """A class given one fresh variant (so the lecture's published numbers are no
    use): a file answering lecture_122 itself, the published worked example, scored
    63/63 "all right" against the variant's sheet; without the sheet it was not
    flagged either."""
    made = helpers.run_cli("variants", "lecture_122", "-n", "1", "--seed", "9", "-o", "exam",
                           cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    variant = next((tmp_path / "exam").glob("lecture_122-s9-*.yaml"))
    helpers.run_cli("check", "--template", str(variant), "-o", "sheet.yaml",
                    "--allow-read", str(tmp_path / "exam"), cwd=tmp_path)
    folder = tmp_path / "answers"
    folder.mkdir()
    shutil.copy(helpers.REPO / "examples" / "answers" / "hand_3dp.yaml", folder / "cheat.yaml")
    for name in ("ann", "bob"):      # blank sheets of the variant: its own id
        shutil.copy(tmp_path / "sheet.yaml", folder / f"{name}.yaml")
    result = helpers.run_cli("check", "--batch", "answers", "--sheet", "sheet.yaml", "-o",
                             "marks", "--allow-read", str(tmp_path / "exam"), cwd=tmp_path)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert rows["cheat.yaml"]["status"].startswith("error"), rows["cheat.yaml"]
    assert "not the sheet's problem" in result.stdout
    plain = helpers.run_cli("check", "--batch", "answers", "-o", "plain",
                            "--allow-read", str(tmp_path / "exam"), cwd=tmp_path)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "plain" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert rows["cheat.yaml"]["status"].startswith("flagged: answers lecture_122"), \
        (rows["cheat.yaml"], plain.stdout)
    assert not rows["ann.yaml"]["status"].startswith("flagged")


def test_two_files_naming_one_student_are_flagged(tmp_path):
    """Without a roster, a second file under a classmate's name got a row of its own
    and no flag: imported by name, it could replace the classmate's grade."""
    folder = tmp_path / "class"
    folder.mkdir()
    answer_file(folder, "ada.yaml", "Ada", {})
    answer_file(folder, "zz.yaml", "ADA", {})
    answer_file(folder, "bob.yaml", "Bob", {})
    helpers.run_cli("check", "--batch", "class", "-o", "marks", cwd=tmp_path)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "marks" / "gradebook.csv").read_text(encoding="utf-8")))}
    assert rows["ada.yaml"]["status"] == "flagged: another file names the same student: zz.yaml"
    assert rows["zz.yaml"]["status"] == "flagged: another file names the same student: ada.yaml"
    assert rows["bob.yaml"]["status"] == "all right"
