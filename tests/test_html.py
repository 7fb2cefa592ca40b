"""The HTML practice page (export --format html): one offline file whose expected
values are the trace's (checked against helpers.ref_solve, an independent
calculation) and whose downloaded answer file `check` marks all right."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import helpers
from course_readers import reference_values

NAMES = sorted(p.stem for p in helpers.BUNDLED.glob("*.yaml"))


class PageReader(HTMLParser):
    """The page's embedded data, its inputs (with their labels) and every URL it
    would load."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict | None = None
        self.inputs: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.steps = 0
        self.urls: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            assert "src" not in a, "the page loads a script"
            self._script = a.get("id")
        if tag == "input" and "data-k" in a:
            self.inputs.append(a)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag == "details" and "step" in (a.get("class") or ""):
            self.steps += 1
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = a.get(name)
            if value and not value.startswith("#") and tag != "script":
                self.urls.append(f"{tag} {name}={value}")
        if tag == "link":
            self.urls.append(f"link {a}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script == "practice-data":
            self.data = json.loads(data)


def export_page(name: str, folder: Path) -> tuple[str, PageReader]:
    """A bundled problem's page, written to ``folder``/page.html, and what it holds.

    Exported and read once per test process (the page of a bundled problem is the
    same whatever the folder; line_1101_gd's is 1.8 MB and three tests read it)."""
    text, reader = _exported_page(name)
    (folder / "page.html").write_text(text, encoding="utf-8")
    return text, reader


@functools.cache
def _exported_page(name: str) -> tuple[str, PageReader]:
    with tempfile.TemporaryDirectory() as folder:
        result = helpers.run_cli("export", name, "--format", "html", "-o", "page.html",
                                 cwd=folder)
        assert result.returncode == 0, result.stderr
        text = (Path(folder) / "page.html").read_text(encoding="utf-8")
    reader = PageReader()
    reader.feed(text)
    assert reader.data is not None
    return text, reader


def answer_file(data: dict, answers: list[str]) -> str:
    """The answer file the page's script writes: the template's parts joined by the
    typed numbers (~ where none is typed)."""
    parts = data["template"]
    out = parts[0]
    for k, part in enumerate(parts[1:]):
        out += (answers[k].strip() or "~") + part
    return out


@functools.cache
def reference_of(name: str) -> dict[str, float]:
    """reference_values of a bundled problem's page, computed once per test process
    (the tests only read it)."""
    return reference_values(shown_problem(name))


def shown_problem(name: str):
    from bpnn_steps.files.problem_file import read_problem_document
    from bpnn_steps.marking.marker import checkable
    from bpnn_steps.present.sheet import sheet_problem

    return sheet_problem(checkable(read_problem_document(name).problem))[0]


@pytest.mark.parametrize("name", NAMES)
def test_page_values_are_the_reference(name, tmp_path):
    text, page = export_page(name, tmp_path)
    assert not page.urls, page.urls[:3]
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<svg" in text and "<math" in text
    entries = page.data["entries"]
    assert len(page.inputs) == len(entries) == len(page.data["template"]) - 1
    assert {i["id"] for i in page.inputs} <= page.labels, "an input has no label"
    assert page.steps > 0
    reference = reference_of(name)
    assert [e["label"] for e in entries if e["label"] in reference] == \
        [e["label"] for e in entries], "entries with no reference value"
    for e in entries:
        expected = reference[e["label"]]
        assert e["value"] == pytest.approx(expected, rel=1e-9, abs=1e-12), e["label"]
    hinted = [e for e in entries if e["hint"]]
    assert hinted, "no entry has a hint"
    ids = set(re.findall(r'<details class="step" id="(step\d+)"', text))
    assert {e["hint"] for e in hinted} <= ids


@pytest.mark.parametrize("name", ["lecture_122", "softmax_233", "classification_121",
                                  "deep_1221", "sine_181_sgd"])
def test_downloaded_answers_pass_check(name, tmp_path):
    _, page = export_page(name, tmp_path)
    reference = reference_of(name)
    answers = [repr(reference[e["label"]]) for e in page.data["entries"]]
    (tmp_path / "answers.yaml").write_text(answer_file(page.data, answers), encoding="utf-8")
    result = helpers.run_cli("check", "answers.yaml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    marks = json.loads(result.stdout)
    assert marks["all_right"], marks["score"]
    assert marks["score"]["total"] == len(answers), marks["score"]

def test_blank_answer_file_is_the_template(tmp_path):
    """Nothing typed: the download is `check --template` itself."""
    _, page = export_page("lecture_122", tmp_path)
    blank = answer_file(page.data, [""] * len(page.data["entries"]))
    result = helpers.run_cli("check", "--template", "lecture_122", cwd=tmp_path)
    assert blank == result.stdout


def test_title_and_description_print_literally(tmp_path):
    """What a user wrote is shown exactly as written (escaped, never markup or TeX),
    once: quotes straight, -- as two hyphens, spaces kept."""
    title = "It's <b>x</b> -- \"y\" & \\textbf{z}  100%"
    description = "Line one -- a 'quote'\n  <i>indented</i> $x$"
    text = (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^title: .*$", lambda _: "title: " + json.dumps(title)
                  + "\ndescription: " + json.dumps(description), text)
    (tmp_path / "mine.yaml").write_text(text, encoding="utf-8")
    result = helpers.run_cli("export", "mine.yaml", "--format", "html", "-o", "page.html",
                             cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in page and "<i>indented</i>" not in page
    assert page.count(f'<h1 class="literal">{escape(title)}</h1>') == 1
    assert page.count(f'<p class="literal">{escape(description)}</p>') == 1
    assert page.count(escape(description)) == 1


HOSTILE_TITLE = "a <!--<script> b </script> c ]]> d & e"


def hostile_page(folder: Path) -> str:
    """The page of lecture_122 titled HOSTILE_TITLE, written to ``folder``/page.html."""
    text = (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^title: .*$", lambda _: "title: " + json.dumps(HOSTILE_TITLE), text)
    (folder / "mine.yaml").write_text(text, encoding="utf-8")
    result = helpers.run_cli("export", "mine.yaml", "--format", "html", "-o", "page.html",
                             cwd=folder)
    assert result.returncode == 0, result.stderr
    return (folder / "page.html").read_text(encoding="utf-8")


def test_a_title_cannot_end_the_page_s_data_early(tmp_path):
    """The page's data sits in a script element, whose text the HTML parser leaves
    only at a '<' ('</script>' ends it; '<!--<script>' makes it run on past its own
    end and swallow the page's script).  So the data's text holds no '<' at all,
    whatever the title, and still reads back as the title (the browser's side:
    tests/test_html_browser.py)."""
    page = hostile_page(tmp_path)
    start = page.index('<script type="application/json" id="practice-data">')
    data = page[start:page.index("</script>", start)].split(">", 1)[1]
    assert "<" not in data
    assert HOSTILE_TITLE in json.loads(data)["template"][0]


def test_long_run_practises_the_updates_a_hand_calculation_reaches(tmp_path):
    """line_1101_gd (100 updates on a sheet): the worked solution shows updates 1
    and 100 (solve --show auto); the practice and the downloaded file cover update 1,
    and the page says why."""
    text, page = export_page("line_1101_gd", tmp_path)
    labels = [e["label"] for e in page.data["entries"]]
    assert labels and all(label.startswith("update 1: ") for label in labels)
    assert "Update 100 of 100" in text
    assert "the practice covers update 1: a later update starts from the weights" in text
    template = "".join(page.data["template"])
    assert "update 1:" in template and "update 2:" not in template
