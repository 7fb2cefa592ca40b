"""The course outputs read back: every number of the answer key, the Moodle XML,
the GIFT and the Canvas package equals the reference value of that variant
(helpers.ref_solve, not bpnn_steps), and hostile titles cannot change a
question's structure."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from bpnn_steps.course.answer_entries import course_answers
from bpnn_steps.course.answer_key import answer_key_csv
from bpnn_steps.course.canvas import canvas_zip
from bpnn_steps.course.gift import gift
from bpnn_steps.course.moodle import moodle_xml
from bpnn_steps.files.variant_folder import read_variants
from course_folders import make_variants, write_folder
from course_readers import NUMBER, assert_answer, read_cloze, read_gift, reference_values
from helpers import run_cli

HOSTILE = '}#~/"\\ <script>alert(1)</script> {1:NUMERICAL:=5} \\} ::x:: =y ~z'
PROBLEMS = ("lecture_122", "deep_1221", "softmax_233", "quiz_11")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Three variants of each problem, read back from their folders."""
    out = {}
    for name in PROBLEMS:
        folder = write_folder(tmp_path_factory.mktemp(name), make_variants(name, 3))
        out[name] = course_answers(read_variants(folder))
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> list:
    folder = write_folder(tmp_path_factory.mktemp("hostile"),
                          make_variants("lecture_122", 2, title=HOSTILE))
    return course_answers(read_variants(folder))


def _references(answers: list) -> dict[str, dict[str, float]]:
    return {a.variant.id: reference_values(a.variant.problem) for a in answers}


@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("decimals", [3, 4])
def test_answer_key_every_number(course: dict, name: str, decimals: int) -> None:
    answers = course[name]
    refs = _references(answers)
    rows = list(csv.reader(io.StringIO(answer_key_csv(answers, decimals))))
    header, body = rows[0], rows[1:]
    assert header[0] == "variant"
    assert [r[0] for r in body] == [a.variant.id for a in answers]
    for row in body:
        ref = refs[row[0]]
        # every column is an entry the reference knows, and every entry of the
        # template's quantities is there (z of a linear output is yhat itself)
        assert set(header[1:]) <= set(ref)
        assert len(header) == len(set(header))
        # and every entry is there but z of a linear output (it is yhat itself)
        depth = len(answers[0].variant.problem.layers) - 1
        missing = set(ref) - set(header)
        assert all(re.fullmatch(rf"(update \d+: )?z\[{depth}\]\(\d+\)\[\d+\]", k)
                   for k in missing)
        assert bool(missing) == (answers[0].variant.problem.activations[-1] == "linear")
        for column, written in zip(header[1:], row[1:]):
            assert_answer(written, ref[column], decimals)
    if name == "softmax_233":
        assert header[1].startswith("update 1: ") and any(h.startswith("update 3: ")
                                                          for h in header)


def test_answer_key_columns_are_the_documented_entries(course: dict) -> None:
    header = next(csv.reader(io.StringIO(answer_key_csv(course["lecture_122"], 3))))
    assert header[:8] == ["variant", "z[1](1)[1]", "z[1](1)[2]", "h(1)[1]", "h(1)[2]",
                          "yhat(1)[1]", "yhat(1)[2]", "J(1)"]
    assert "grad W[2](1)[0,1]" in header and "W[1] new[1,2]" in header
    assert "grad W[2][2,2]" in header and "delta[1](2)[2]" in header
    assert not any(h.startswith("z[2]") for h in header)    # linear output: z is yhat
    assert len(header) == 1 + 63


def _moodle_questions(text: str) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(text)
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    assert all(q.get("type") == "cloze" for q in questions[1:])
    return questions[0], questions[1:]


@pytest.mark.parametrize("name", PROBLEMS)
def test_moodle_every_number(course: dict, name: str) -> None:
    answers = course[name]
    refs = _references(answers)
    category, questions = _moodle_questions(moodle_xml(answers, 3, "course-s7"))
    assert category.findtext("category/text") == "$course$/top/course-s7"
    assert len(questions) == len(answers)
    for a, q in zip(answers, questions):
        assert q.findtext("idnumber") == a.variant.id
        assert a.variant.id in q.findtext("name/text")
        body = q.find("questiontext")
        assert body.get("format") == "html"
        fields, rest = read_cloze(body.findtext("text"))
        assert len(fields) == len(a.entries)
        for k, (f, e) in enumerate(zip(fields, a.entries), start=1):
            assert f.kind == "NUMERICAL" and f.mark == "1"
            # what qtype_multianswer_validate_question asks of a numerical field: a
            # full-mark answer, and every answer a number or *
            assert max(x.fraction for x in f.answers) == 1.0
            assert all(re.fullmatch(NUMBER, x.answer) or x.answer == "*" for x in f.answers)
            right, other = f.answers
            assert right.fraction == 1.0 and right.tolerance == 0.0005
            assert_answer(right.answer, refs[a.variant.id][e.name], 3)
            assert e.name in right.feedback and e.name in other.feedback
            assert (other.fraction, other.answer) == (0.0, "*")
            assert "{#%d}" % k in rest
        # the picture: a file of the question text, shown by @@PLUGINFILE@@
        file = body.find("file")
        assert file.get("encoding") == "base64" and file.get("path") == "/"
        assert f'src="@@PLUGINFILE@@/{file.get("name")}"' in rest
        svg = ET.fromstring(base64.b64decode(file.text))
        assert svg.tag.endswith("svg")
        labels = [t.text for t in svg.iter() if t.tag.endswith("text")]
        for w in a.variant.problem.initial_weights():        # the weights label the arrows
            for v in w.ravel():
                assert f"{v:g}" in labels


def test_moodle_hostile_title_is_text(hostile: list) -> None:
    _, questions = _moodle_questions(moodle_xml(hostile, 3, "a/b {c}"))
    for a, q in zip(hostile, questions):
        text = q.findtext("questiontext/text")
        fields, rest = read_cloze(text)
        assert len(fields) == len(a.entries)          # no field from the title
        assert "<script" not in rest                  # only as text
        title = re.search(r"<h3>(.*?)</h3>", rest).group(1)
        raw = re.sub(r"&#\d+;|&[a-z]+;", "", title)    # all but character references
        assert not set(raw) & set('{}#~/"\\<>&')      # none of them raw
        assert html.unescape(title) == HOSTILE        # and it shows as written
        assert q.findtext("name/text").endswith(HOSTILE)
        for f in fields:                              # feedback shows as written too
            shown = html.unescape(f.answers[0].feedback)
            assert shown.startswith("Right: ") and "(" in shown


def test_moodle_shows_the_picture_once_whatever_the_description(hostile: list) -> None:
    """The picture stands after the network's description, once: a description that
    started with 'A ', as that text does, got a second one."""
    from dataclasses import replace

    from bpnn_steps.model.variant import Variant

    described = [replace(a, variant=Variant(a.variant.id, replace(
        a.variant.problem, description="A small network for week 5."), a.variant.varied))
        for a in hostile]
    described = course_answers([a.variant for a in described])
    _, questions = _moodle_questions(moodle_xml(described, 3, "c"))
    for q in questions:
        text = q.findtext("questiontext/text")
        assert text.count("<img ") == 1, text[:600]
        assert text.index("A small network") < text.index("A 1-2-2 network") < \
            text.index("<img ")


def test_cloze_feedback_with_every_special_character() -> None:
    from bpnn_steps.course.moodle import cloze_feedback

    said = 'a}b#c~d/e"f\\g<h>&i'
    source = "{1:NUMERICAL:=0.550:0.0005#" + cloze_feedback(said) + "}"
    fields, rest = read_cloze(source)
    assert rest == "{#1}" and len(fields) == 1
    (answer,) = fields[0].answers
    assert (answer.answer, answer.tolerance) == ("0.550", 0.0005)
    assert html.unescape(answer.feedback) == said     # stored as HTML, shown as written


@pytest.mark.parametrize("name", PROBLEMS)
def test_gift_every_number(course: dict, name: str) -> None:
    answers = course[name]
    refs = _references(answers)
    questions = read_gift(gift(answers, 3, "course-s7"))
    for a in answers:
        mine = [q for q in questions if q.category == f"$course$/top/course-s7/{a.variant.id}"]
        description, numeric = mine[0], mine[1:]
        assert description.numeric is None and description.format == "html"
        assert len(numeric) == len(a.entries)
        for q, e in zip(numeric, a.entries):
            assert q.title == f"{a.variant.id} {e.name}"
            ((value, tol, feedback),) = q.numeric
            ((written, tol_text),) = q.answer_texts
            assert_answer(written, refs[a.variant.id][e.name], 3)
            assert tol_text == "0.0005" and e.name in feedback


def test_gift_hostile_title_is_text(hostile: list) -> None:
    questions = read_gift(gift(hostile, 3, "a/b"))
    descriptions = [q for q in questions if q.numeric is None]
    assert len(descriptions) == 2
    for d in descriptions:
        title = re.search(r"<h3>(.*?)</h3>", d.text).group(1)
        assert html.unescape(title) == HOSTILE
    assert sum(q.numeric is not None for q in questions) == 2 * len(hostile[0].entries)


@pytest.mark.parametrize("name", ["lecture_122", "softmax_233"])
def test_canvas_every_number(course: dict, name: str) -> None:
    answers = course[name]
    refs = _references(answers)
    package = zipfile.ZipFile(io.BytesIO(canvas_zip(answers, 3)))
    ns = {"m": "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
          "q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    quizzes = [r for r in manifest.iterfind("m:resources/m:resource", ns)
               if r.get("type") == "imsqti_xmlv1p2"]
    assert len(quizzes) == len(answers)
    for a, resource in zip(answers, quizzes):
        quiz = ET.fromstring(package.read(resource.find("m:file", ns).get("href")))
        assessment = quiz.find("q:assessment", ns)
        assert a.variant.id in assessment.get("title")
        items = assessment.findall("q:section/q:item", ns)
        assert len(items) == len(a.entries)
        for item, e in zip(items, a.entries):
            assert item.get("title") == e.name
            kind = [f.findtext("q:fieldentry", namespaces=ns)
                    for f in item.iterfind(".//q:qtimetadatafield", ns)
                    if f.findtext("q:fieldlabel", namespaces=ns) == "question_type"]
            assert kind == ["numerical_question"]
            exact = item.findtext(".//q:varequal", namespaces=ns)
            low = Decimal(item.findtext(".//q:vargte", namespaces=ns))
            high = Decimal(item.findtext(".//q:varlte", namespaces=ns))
            assert_answer(exact, refs[a.variant.id][e.name], 3)
            assert low == Decimal(exact) - Decimal("0.0005")
            assert high == Decimal(exact) + Decimal("0.0005")


def test_every_variant_id_is_its_own_canvas_quiz() -> None:
    """Canvas names each quiz by an identifier made of the variant id: two ids never
    share one ('a b-s1-001' and 'a_b-s1-001' were one quiz in a hand-made folder),
    and it holds only what a QTI identifier and a zip folder may."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bpnn_steps.course.canvas import quiz_ident

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=6, unique=True))
    def distinct(ids: list[str]) -> None:
        made = [quiz_ident(i) for i in ids]
        assert len(set(made)) == len(ids), (ids, made)
        assert all(re.fullmatch(r"bpnn_[A-Za-z0-9._-]+", m) for m in made), made

    distinct()
    assert quiz_ident("lecture_122-s7-001") == "bpnn_lecture_122-s7-001"     # as before
    assert len({quiz_ident(i) for i in ("a b", "a_b", "a.b", "a..b", "a.20.b")}) == 5


def test_the_same_course_gives_the_same_bytes(course: dict) -> None:
    answers = course["lecture_122"]
    assert canvas_zip(answers, 3) == canvas_zip(answers, 3)
    assert moodle_xml(answers, 3, "c") == moodle_xml(answers, 3, "c")


# --------------------------------------------------------------------------- command


def test_course_command_writes_every_quick_output(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 2))
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("course", str(folder), "-o", str(out), "--only", "moodle,gift,canvas,key")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["lecture_122-s7-answer-key.csv", "lecture_122-s7-canvas.zip",
                     "lecture_122-s7-moodle.xml", "lecture_122-s7.gift"]
    assert "wrote " in result.stderr and "2 Cloze questions of 63 fields" in result.stderr


def test_course_command_checks_every_path_before_work(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 2))
    out = tmp_path / "out"
    out.mkdir()
    (out / "lecture_122-s7.gift").mkdir()          # one output path is a folder
    result = run_cli("course", str(folder), "-o", str(out))
    assert result.returncode == 2
    assert "lecture_122-s7.gift" in result.stderr and "folder" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["lecture_122-s7.gift"]


@pytest.mark.parametrize("args, message", [
    (["--only", "moodle,pdf"], "--only 'moodle,pdf': expected a comma-separated list"),
    (["-o", "missing"], "is not a folder"),
])
def test_course_command_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 1))
    result = run_cli("course", str(folder), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_course_command_on_a_folder_without_index(tmp_path: Path) -> None:
    result = run_cli("course", str(tmp_path))
    assert result.returncode == 2 and "has no index.csv" in result.stderr


@pytest.mark.parametrize("text", ['}#~/"\\<>&', "&#35;", "a{1:NUMERICAL:=5}b", "x\\}y\\#z"])
def test_cloze_text_shows_as_written_and_holds_no_syntax(text: str) -> None:
    from bpnn_steps.course.moodle import cloze_text

    written = cloze_text(text)
    assert html.unescape(written) == text
    assert not set(re.sub(r"&#\d+;|&[a-z]+;", "", written)) & set('{}#~/"\\<>&')
    assert read_cloze(written) == ([], written)


@pytest.mark.parametrize("name", ["lecture_122", "deep_1221", "softmax_233"])
def test_the_svg_diagram_draws_every_node_and_weight_inside_its_box(name: str) -> None:
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.render.diagram_svg import network_svg

    p = load_problem(name)
    svg = ET.fromstring(network_svg(p.layers, p.activations, p.initial_weights()))
    width, height = float(svg.get("width")), float(svg.get("height"))
    tag = lambda e: e.tag.split("}")[-1]                         # noqa: E731
    circles = [e for e in svg.iter() if tag(e) == "circle"]
    lines = [e for e in svg.iter() if tag(e) == "line"]
    depth = len(p.layers) - 1
    assert len(circles) == sum(p.layers) + depth                  # units and bias nodes
    assert len(lines) == sum((p.layers[n] + 1) * p.layers[n + 1] for n in range(depth))
    texts = [e for e in svg.iter() if tag(e) == "text"]
    for e in circles:
        r = float(e.get("r"))
        assert r <= float(e.get("cx")) <= width - r and r <= float(e.get("cy")) <= height - r
    for e in texts:
        half = 3.6 * len(e.text)                                  # 12 px font: ~7 px a char
        assert half <= float(e.get("x")) + 1 and float(e.get("x")) + half <= width + 1, e.text
    shown = {e.text for e in texts}
    assert {"input", f"output ({p.activations[-1]})"} <= shown


def test_course_command_without_pdflatex_says_so_before_writing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 1))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))     # no pdflatex here
    result = run_cli("course", str(folder), "-o", str(out))
    assert result.returncode == 2
    assert "the PDF books need pdflatex" in result.stderr and "--tex" in result.stderr
    assert list(out.iterdir()) == []


def test_answer_key_id_cannot_run_as_a_spreadsheet_formula(course: dict) -> None:
    from dataclasses import replace

    a = course["lecture_122"][0]
    evil = "=HYPERLINK(\"x\")-s7-001"
    answers = [replace(a, variant=replace(a.variant, id=evil))]
    row = list(csv.reader(io.StringIO(answer_key_csv(answers, 3))))[1]
    assert row[0] == "'" + evil
    assert all(re.fullmatch(r"-?\d+\.\d{3}", cell) for cell in row[1:])   # numbers stay numbers


def test_a_course_that_fails_halfway_leaves_every_earlier_output_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A book that does not compile (here a pdflatex that fails) is found after the
    Moodle, GIFT, Canvas and answer-key files are made: they replaced last week's
    and the books did not, leaving the course out of step.  Now nothing is replaced
    and no temporary file is left."""
    import os
    import sys

    folder = write_folder(tmp_path / "v", make_variants("lecture_122", 1))
    out = tmp_path / "out"
    out.mkdir()
    first = run_cli("course", str(folder), "-o", str(out), "--tex")
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pdflatex"
    fake.write_text("#!/bin/sh\necho '! Emergency stop.' > sheet.log\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}")
    for path in out.iterdir():          # last week's outputs, as the PDFs would be
        path.write_bytes(b"last week\n")
    result = run_cli("course", str(folder), "-o", str(out))
    assert result.returncode == 2 and "failed" in result.stderr, result.stderr
    assert "wrote" not in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == \
        {name: b"last week\n" for name in before}


def test_the_docs_snippets_are_what_course_writes(tmp_path: Path) -> None:
    """docs/course.md quotes a Moodle field and a GIFT question of examples/course,
    and docs/check.md an answer file of one of its variants: each is checked here
    (they showed another draw's numbers, 0.711 and [0.690, 0.378])."""
    from helpers import REPO

    result = run_cli("course", str(REPO / "examples" / "course"), "-o", str(tmp_path),
                     "--only", "moodle,gift")
    assert result.returncode == 0, result.stderr
    written = "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    page = (REPO / "docs" / "course.md").read_text(encoding="utf-8")
    quoted = [line for line in page.splitlines()
              if line.startswith(("h₁,₍₁₎ = {1:NUMERICAL", "::lecture_122-s7-001 h(1)[1]::"))]
    assert len(quoted) == 2
    for line in quoted:
        assert line in written, line
    # the answer file docs/check.md shows for variant lecture_122-s7-003 is Grace's
    check_page = (REPO / "docs" / "check.md").read_text(encoding="utf-8")
    grace = (REPO / "examples" / "class" / "answers" / "grace.yaml").read_text(encoding="utf-8")
    shown = re.search(r"variant: lecture_122-s7-003.*\nanswers:\n  (h\(1\): \[[^\]]*\])",
                      check_page)
    assert shown and shown.group(1) in grace, shown
