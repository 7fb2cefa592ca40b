"""Untrusted files stay in their box: the attacks of issue 9, tried for real.

A problem file reads CSV data only inside its own folder (no absolute path, no
``..`` or symbolic link out of it, regular files only, size-capped) unless the
user passes ``--allow-read DIR``; an answer file names only a bundled problem or
a problem inside its folder (or the current folder).  Whatever a file holds,
messages quote at most a short escaped excerpt, and no terminal escape, control
character or bidirectional override reaches the terminal, a CSV or LaTeX.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

import helpers  # noqa: E402
from bpnn_steps.cli import app  # noqa: E402

runner = CliRunner()

SECRET = "TOPSECRET-hunter2"
# What a terminal must never receive from a file: ESC (OSC, CSI), BEL, C1 CSI,
# and the bidirectional override that reverses what a marker reads.
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")
LECTURE_DATA = "data:\n  x: [[1], [2]]\n  y: [[3, 4], [6, 5]]\n"


def run(*args: str, cwd: Path | None = None):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(old)


def problem_text(lecture_yaml: str, data: str = LECTURE_DATA, title: str | None = None) -> str:
    assert LECTURE_DATA in lecture_yaml
    text = lecture_yaml.replace(LECTURE_DATA, data)
    if title is not None:
        text = "\n".join(f"title: {title}" if line.startswith("title:") else line
                         for line in text.splitlines()) + "\n"
    return text


def one_clear_error(result, *fragments: str) -> None:
    err = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.stdout, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and "hunter2" not in text


@pytest.fixture
def box(tmp_path, lecture_yaml) -> Path:
    """tmp/secret.txt (readable as CSV, with the secret in a cell) and tmp/box/, a
    problem folder whose p.yaml reads ../secret.txt and whose answer file names it."""
    (tmp_path / "secret.txt").write_text(f"x,y1,y2\n1,3,4\n{SECRET},6,5\n", encoding="utf-8")
    folder = tmp_path / "box"
    folder.mkdir()
    (folder / "p.yaml").write_text(problem_text(lecture_yaml, "data:\n  csv: {file: "
                                                "../secret.txt, delimiter: ','}\n"))
    (folder / "answers.yaml").write_text("problem: p.yaml\nanswers:\n  J: 19.628\n")
    return folder


# --------------------------------------------------------------------------- reading data


@pytest.mark.parametrize("command", [
    ["solve"], ["derive"], ["export", "-o", "-"], ["train"], ["check", "--template"],
])
def test_a_csv_path_out_of_the_folder_is_refused_by_every_command(box, command):
    result = run(*command, str(box / "p.yaml"))
    one_clear_error(result, "p.yaml:9: data.csv cannot read '../secret.txt'",
                    "outside the problem file's folder", "--allow-read DIR")
    no_secret(result.stdout, result.stderr)


def test_an_answer_file_cannot_make_check_read_outside(box, tmp_path):
    result = run("check", str(box / "answers.yaml"))
    one_clear_error(result, "outside the problem file's folder")
    no_secret(result.stdout, result.stderr)
    out = tmp_path / "marks"
    batch = run("check", "--batch", str(box), "-o", str(out), "-f", "json")
    assert batch.exit_code == 1, batch.stderr          # error rows, no traceback
    written = [(out / name).read_text(encoding="utf-8") for name in ("gradebook.csv",
                                                                     "gradebook.json")]
    no_secret(batch.stdout, batch.stderr, *written)
    rows = {r["file"]: r for r in json.loads(written[1])["students"]}
    # in a batch the box is the students' folder: its problem file is not even read
    assert "a file in the folder of answer files" in rows["answers.yaml"]["error"]


def test_allow_read_lets_the_user_widen_the_box(box, tmp_path):
    # The user allows the secret's folder: now the file is read, and its bad cell is
    # quoted (the user asked for that file).
    result = run("solve", str(box / "p.yaml"), "--allow-read", str(tmp_path))
    one_clear_error(result, "secret.txt:3: column 'x' must be a finite number")
    (tmp_path / "secret.txt").write_text("x,y1,y2\n1,3,4\n2,6,5\n", encoding="utf-8")
    assert run("solve", str(box / "p.yaml"), "--allow-read", str(tmp_path)).exit_code == 0
    assert run("train", str(box / "p.yaml"), "--allow-read", str(tmp_path)).exit_code == 0
    assert run("solve", str(box / "p.yaml")).exit_code == 2
    missing = run("solve", str(box / "p.yaml"), "--allow-read", str(tmp_path / "nope"))
    one_clear_error(missing, "--allow-read", "no such folder")


def test_absolute_paths_and_symbolic_links_out_are_refused(box, tmp_path, lecture_yaml):
    absolute = box / "abs.yaml"
    absolute.write_text(problem_text(lecture_yaml, f"data:\n  csv: {tmp_path / 'secret.txt'}\n"))
    result = run("solve", str(absolute))
    one_clear_error(result, "outside the problem file's folder")
    no_secret(result.stdout, result.stderr)

    (box / "link.csv").symlink_to(tmp_path / "secret.txt")
    linked = box / "link.yaml"
    linked.write_text(problem_text(lecture_yaml, "data:\n  csv: link.csv\n"))
    result = run("solve", str(linked))
    one_clear_error(result, "cannot read 'link.csv'", "outside the problem file's folder")
    no_secret(result.stdout, result.stderr)
    # a link that stays inside the folder is fine
    (box / "data.csv").write_text("x,y1,y2\n1,3,4\n2,6,5\n")
    (box / "inner.csv").symlink_to(box / "data.csv")
    linked.write_text(problem_text(lecture_yaml, "data:\n  csv: inner.csv\n"))
    assert run("solve", str(linked)).exit_code == 0
    # a sub-folder is inside; a sub-folder that is a link out is not
    (box / "sub").mkdir()
    (box / "sub" / "d.csv").write_text("x,y1,y2\n1,3,4\n2,6,5\n")
    linked.write_text(problem_text(lecture_yaml, "data:\n  csv: sub/d.csv\n"))
    assert run("solve", str(linked)).exit_code == 0
    (box / "out").symlink_to(tmp_path)
    linked.write_text(problem_text(lecture_yaml, "data:\n  csv: out/secret.txt\n"))
    one_clear_error(run("solve", str(linked)), "outside the problem file's folder")


def test_special_files_are_refused_without_waiting_or_reading(box, lecture_yaml):
    os.mkfifo(box / "pipe.csv")               # a reader would wait for a writer forever
    (box / "folder.csv").mkdir()
    for name, words in (("pipe.csv", "not a regular file"), ("folder.csv", "is a folder"),
                        ("/dev/zero", "outside the problem file's folder")):
        problem = box / "special.yaml"
        problem.write_text(problem_text(lecture_yaml, f"data:\n  csv: {name}\n"))
        result = helpers.run_cli("solve", str(problem), timeout=60)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    # allowed to read anywhere, /dev/zero is still no data file (it used to end in a
    # MemoryError)
    problem.write_text(problem_text(lecture_yaml, "data:\n  csv: /dev/zero\n"))
    result = helpers.run_cli("solve", str(problem), "--allow-read", "/", timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_files_have_a_size_cap(box, lecture_yaml):
    from bpnn_steps.files.untrusted import MAX_DATA_BYTES

    with open(box / "huge.csv", "wb") as handle:       # sparse: costs no disk
        handle.truncate(MAX_DATA_BYTES + 1)
    (box / "huge.yaml").write_text(problem_text(lecture_yaml, "data:\n  csv: huge.csv\n"))
    one_clear_error(run("solve", str(box / "huge.yaml")), "cannot read 'huge.csv'",
                    "too large", "20 MB")


def test_errors_quote_short_escaped_excerpts_of_a_file(box, lecture_yaml):
    long_cell = "A" * 500 + SECRET
    (box / "d.csv").write_text(f"x,y1,y2\n1,3,4\n{long_cell},6,5\n", encoding="utf-8")
    (box / "q.yaml").write_text(problem_text(lecture_yaml, "data:\n  csv: d.csv\n"))
    result = run("solve", str(box / "q.yaml"))
    one_clear_error(result, "must be a finite number, got 'AAAA", "...")
    no_secret(result.stderr)
    assert len(result.stderr) < 300
    # a header with an escape sequence and many names: listed short and clean
    header = ",".join(["\x1b]0;owned\x07x"] + [f"col{i}" for i in range(40)])
    (box / "d.csv").write_text(header + "\n" + ",".join(["1"] * 41) + "\n", encoding="utf-8")
    (box / "q.yaml").write_text(problem_text(lecture_yaml, "data:\n  csv: {file: d.csv, x: "
                                             "[nope], y: [col1, col2]}\n"))
    result = run("solve", str(box / "q.yaml"))
    one_clear_error(result, "names column 'nope'", "the header has: x, col0", ", ...")
    assert not any(c in result.stderr for c in FORBIDDEN)
    assert "col39" not in result.stderr
    # a YAML value: a long text is cut, its escapes are shown escaped, never raw
    text = problem_text(lecture_yaml).replace("loss: mse", 'loss: "\\e[2J' + "m" * 300 + '"')
    (box / "q.yaml").write_text(text)
    result = run("solve", str(box / "q.yaml"))
    one_clear_error(result, "loss must be one of", "'\\x1b[2Jmmm")
    assert "m" * 100 not in result.stderr and not any(c in result.stderr for c in FORBIDDEN)


def test_an_unknown_key_with_escapes_is_named_escaped(box, lecture_yaml):
    (box / "q.yaml").write_text(problem_text(lecture_yaml) + '"\\e]0;t\\aX": 1\n')
    result = run("solve", str(box / "q.yaml"))
    one_clear_error(result, "'\\x1b]0;t\\x07X' is not a known key")


# --------------------------------------------------------------------------- terminal escapes


HOSTILE_TITLE = '"\\e]0;pwned\\a\\e[2J\\e[31m\\u202eMy \\x9b2Jtitle\\r\\e[0m"'


@pytest.mark.parametrize("command", [
    ["solve"], ["solve", "-f", "markdown"], ["solve", "-f", "latex"], ["solve", "-f", "json"],
    ["derive"], ["derive", "-f", "latex"], ["export", "-o", "-"], ["train"],
    ["check", "--template"],
])
def test_a_hostile_title_reaches_no_output_raw(tmp_path, lecture_yaml, command):
    path = tmp_path / "p.yaml"
    path.write_text(problem_text(lecture_yaml, title=HOSTILE_TITLE) +
                    'description: "Line one\\nline \\e[1mtwo\\u2066"\n')
    result = run(*command, str(path))
    assert result.exit_code == 0, result.stderr
    out = result.stdout + result.stderr
    assert not any(c in out for c in FORBIDDEN), repr(out[:300])
    assert "\r" not in out
    if command == ["solve"]:
        assert "My title" in out and "Line one\nline two" in out


@pytest.mark.parametrize("command", [["solve", "-f", "markdown"],
                                     ["export", "-f", "markdown", "-o", "-"]])
def test_a_title_is_text_in_markdown_never_markup(tmp_path, lecture_yaml, command):
    """solve --format markdown wrote a title and a description as they were: HTML
    that a Markdown page runs, a heading of its own, maths."""
    (tmp_path / "p.yaml").write_text(
        problem_text(lecture_yaml, title='"<b>bold</b> $x^2$ *em*"') +
        'description: "# injected\\n<img src=x onerror=alert(1)>"\n', encoding="utf-8")
    result = run(*command, "p.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    title, description = "# \\<b\\>bold\\</b\\> \\$x^2\\$ \\*em\\*", \
        "\\# injected \\<img src=x onerror=alert(1)\\>"
    assert lines[0] == title and description in lines
    assert not any(line.startswith("# injected") for line in lines)


def test_check_shows_a_hostile_title_clean(tmp_path, lecture_yaml):
    (tmp_path / "p.yaml").write_text(problem_text(lecture_yaml, title=HOSTILE_TITLE))
    (tmp_path / "a.yaml").write_text('problem: p.yaml\nstudent: "\\e]0;x\\aAda\\u202e"\n'
                                     "answers:\n  J: 19.628\n")
    for fmt in ("text", "json"):
        result = run("check", str(tmp_path / "a.yaml"), "-f", fmt)
        assert result.exit_code == 0, result.stderr
        assert not any(c in result.stdout + result.stderr for c in FORBIDDEN)
        assert "Ada" in result.stdout


def test_the_terminal_renderer_is_the_last_guard():
    """Even a block built from uncleaned text is printed clean, with rich on a real
    terminal and as plain text."""
    from rich.console import Console

    from bpnn_steps.present.blocks import Document, Heading, Table, Text
    from bpnn_steps.render.terminal import TextRenderer

    blocks = (Heading("\x1b]0;pwned\x07Title\x1b[2J", 1), Text("a\u202eb\nc\td"),
              Table(("h\x1b[31m",), (("\x9b2Jcell",),)))
    plain = TextRenderer().render(Document("t", blocks), 3)
    assert not any(c in plain for c in FORBIDDEN) and "Title" in plain and "ab\nc\td" in plain
    console = Console(file=io.StringIO(), force_terminal=True, color_system="standard",
                      width=80)
    TextRenderer().show(Document("t", blocks), console, 3)
    shown = console.file.getvalue()
    assert "\x1b]" not in shown and "\x07" not in shown and "\x1b[2J" not in shown
    assert "\u202e" not in shown and "\x9b" not in shown and "Title" in shown


@pytest.mark.parametrize("raw, clean", [
    ("\x1b]0;pwned\x07Title", "Title"),                 # OSC ... BEL
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC ... ST (a hyperlink)
    ("\x1b[2J\x1b[H\x1b[1;31mred\x1b[0m", "red"),         # CSI clear, home, colour
    ("\x1bcreset", "reset"),                            # a two-character escape
    ("a\x9b2Jb\x9d0;x\x07c", "abc"),                    # C1 CSI and OSC
    ("\u202eevil\u202c \u2066iso\u2069", "evil iso"),   # bidi override and isolate
    ("tab\there\nnext\r\nline", "tab here next line"),  # one line
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("Ünïcødé ŷ ∇W J̄ 中文", "Ünïcødé ŷ ∇W J̄ 中文"),    # printable text is left alone
    ("\x1b]0;never ends", ""),
    ("x\ud800y", "x\ufffdy"),                      # a lone surrogate: no encoding writes it
    ("w\udce9.yaml", "w\ufffd.yaml"),              # a file name's byte that is not UTF-8
    ("A\ufeffB\ufffeC\uffffD", "ABCD"),            # BOM and noncharacters (XML refuses them)
])
def test_clean_text(raw, clean):
    from bpnn_steps.files.untrusted import clean_text

    assert clean_text(raw) == clean
    assert not any(c in clean_text(raw, lines=True) for c in FORBIDDEN)


# A title, a description and a student with characters no encoding can write (a
# lone surrogate) or XML refuses (U+FFFF): each ended every command that showed
# them in a UnicodeEncodeError traceback.
UNWRITABLE_TITLE = '"a\\ud800b\\uffffc\\ufeffd"'


@pytest.mark.parametrize("command", [
    ["solve"], ["solve", "-f", "json"], ["solve", "-f", "markdown"], ["derive"],
    ["check", "--template"], ["export", "-o", "-"], ["export", "-f", "html", "-o", "p.html"],
    ["train", "--epochs", "2"],
])
def test_text_no_encoding_can_write_is_shown_as_a_replacement(tmp_path, lecture_yaml,
                                                              command):
    (tmp_path / "p.yaml").write_text(problem_text(lecture_yaml, title=UNWRITABLE_TITLE) +
                                     'description: "one\\ud800two"\n', encoding="utf-8")
    result = run(*command, "p.yaml", cwd=tmp_path)
    assert result.exit_code == 0, (result.exception, result.stderr)
    written = (tmp_path / "p.html").read_text(encoding="utf-8") if "html" in command else ""
    if command == ["solve", "-f", "json"]:
        assert json.loads(result.stdout)["problem"]["title"] == "a\ufffdbcd"
    elif command[:2] == ["export", "-o"]:         # LaTeX names the character it cannot set
        assert "a{\\ttfamily [U+FFFD]}bcd" in result.stdout
    else:
        assert "a\ufffdbcd" in result.stdout + written


def test_a_student_and_file_names_no_encoding_can_write(tmp_path, lecture_yaml):
    (tmp_path / "a.yaml").write_text('problem: lecture_122\nstudent: "x\\ud800"\nanswers:\n'
                                     "  J: 19.628\n", encoding="utf-8")
    for fmt in ("text", "json"):
        result = run("check", "a.yaml", "-f", fmt, cwd=tmp_path)
        assert result.exit_code == 0, (result.exception, result.stderr)
        assert "x\ufffd" in result.stdout
    # a class folder with a file whose name is not UTF-8 (Latin-1 'w\xe9', as a zip made
    # on Windows unpacks): the whole batch ended in a traceback, with no gradebook
    folder = tmp_path / "class"
    folder.mkdir()
    answers = (tmp_path / "a.yaml").read_text(encoding="utf-8")
    (folder / "ok.yaml").write_text(answers, encoding="utf-8")
    (folder / os.fsdecode(b"w\xe9.yaml")).write_text(answers.replace('"x', '"y'),
                                                      encoding="utf-8")
    result = run("check", "--batch", "class", "-o", "book", cwd=tmp_path)
    assert result.exit_code == 0, (result.exception, result.stderr)
    book = (tmp_path / "book" / "gradebook.csv").read_text(encoding="utf-8")
    assert "w\ufffd.yaml" in book and "ok.yaml" in book
    doc = json.loads((tmp_path / "book" / "gradebook.json").read_text(encoding="utf-8"))
    assert sorted(s["file"] for s in doc["students"]) == ["ok.yaml", "w\ufffd.yaml"]


def test_file_names_reach_the_terminal_clean(tmp_path, lecture_yaml):
    """A file name with an escape (a student's, or one a TA's tab completion picked)
    shown in a status line or a report header loses it."""
    hostile = "x\x1b]0;pwned\x07\x1b[2J.yaml"
    (tmp_path / hostile).write_text(lecture_yaml, encoding="utf-8")
    (tmp_path / "a.yaml").write_text("problem: lecture_122\nanswers:\n  J: 19.628\n",
                                     encoding="utf-8")
    (tmp_path / ("a" + hostile)).write_text((tmp_path / "a.yaml").read_text(), "utf-8")
    for command in (["export", hostile, "-o", "e.tex"], ["check", "a" + hostile],
                    ["variants", hostile, "-n", "1", "-o", "v"],
                    ["train", hostile, "--epochs", "1", "--save", "s" + hostile],
                    ["check", "--template", hostile, "-o", "t" + hostile]):
        result = run(*command, cwd=tmp_path)
        assert result.exit_code == 0, (command, result.exception, result.stderr)
        out = result.stdout + result.stderr
        assert not any(c in out for c in FORBIDDEN), (command, repr(out[:300]))
        assert "x.yaml" in out or command[0] == "export", (command, out[:300])


def test_a_name_with_a_newline_adds_no_key_to_a_file_written(tmp_path, lecture_yaml):
    """The file names that go into files the tool writes (train --save's comments,
    a template's problem:, a variant's header) cannot add a key to them: a problem
    file named 'x<newline>conventions: {preset: pytorch}...' made train --save write
    a problem with the PyTorch conventions."""
    from helpers import read_yaml

    name = "x\nconventions: {preset: pytorch}\n#\u2028l: 1\x85\\\".yaml"
    (tmp_path / name).write_text(lecture_yaml, encoding="utf-8")
    result = run("train", name, "--epochs", "1", "--save", "saved.yaml", cwd=tmp_path)
    assert result.exit_code == 0, (result.exception, result.stderr)
    assert "conventions" not in read_yaml(tmp_path / "saved.yaml")
    result = run("check", "--template", name, "-o", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 0, (result.exception, result.stderr)
    sheet = read_yaml(tmp_path / "t.yaml")
    assert sheet["problem"] == name and "conventions" not in sheet


def test_variant_ids_are_safe_names_whatever_the_file_s_name(tmp_path, lecture_yaml):
    """The ids (the variants' file names, cells of index.csv and of the answer key)
    come from the problem file's name, made safe: a name such as '=HYPERLINK(...)'
    made formula cells, and a name that is not UTF-8 a file no encoding could write."""
    for stem in ('=HYPERLINK("x")', os.fsdecode(b"w\xe9"), "-x y"):
        (tmp_path / f"{stem}.yaml").write_text(lecture_yaml, encoding="utf-8")
        result = run("variants", f"./{stem}.yaml", "-n", "2", "-o", "v", "--force",
                     cwd=tmp_path)
        assert result.exit_code == 0, (stem, result.exception, result.stderr)
        rows = list(csv.reader(io.StringIO((tmp_path / "v" / "index.csv").read_text(
            encoding="utf-8"))))
        for row in rows[1:]:
            assert row[0][:1] not in "=+-@" and row[3][:1] not in "=+-@", row
            assert all(c.isalnum() or c in "_.-" for c in row[0]), row
        result = run("solve", str(Path("v") / rows[1][3]), cwd=tmp_path)
        assert result.exit_code == 0, result.stderr


def test_clean_text_keeps_lines_when_asked():
    from bpnn_steps.files.untrusted import clean_text

    assert clean_text("one\ntwo\tthree\r\nfour\u2028five", lines=True) == \
        "one\ntwo\tthree\nfour\nfive"


def test_excerpt_is_short_and_escaped():
    from bpnn_steps.files.untrusted import EXCERPT, excerpt

    assert excerpt("abc") == "'abc'"
    cut = excerpt("\x1b[2J" + "x" * 500)
    assert cut.startswith("'\\x1b[2J") and cut.endswith("'...")
    assert len(eval(cut[:-3])) == EXCERPT                  # the repr reads back
    assert "\u202e" not in excerpt("\u202eabc")


# --------------------------------------------------------------------------- gradebook


def test_gradebook_cells_are_clean_and_never_formulas(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    names = {"a.yaml": "=HYPERLINK('http://x')", "b.yaml": "-0.5", "c.yaml": "@SUM(A1)",
             "d.yaml": "\\e]0;x\\aEve\\u202e", "e.yaml": "+1+cmd|' /C calc'!A0",
             "f.yaml": "\\t=1+1"}
    for file, student in names.items():
        (folder / file).write_text(f'problem: lecture_122\nstudent: "{student}"\n'
                                   "answers:\n  J: 19.628\n", encoding="utf-8")
    (folder / "\x1b[2Jg.yaml").write_text("problem: lecture_12\nanswers:\n  J: 1\n")
    result = run("check", "--batch", str(folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1, result.stderr             # one file has a bad problem
    text = (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8")
    book = json.loads((tmp_path / "out" / "gradebook.json").read_text(encoding="utf-8"))
    for out in (text, result.stdout, result.stderr, json.dumps(book, ensure_ascii=False)):
        assert not any(c in out for c in FORBIDDEN)
    cells = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert cells["a.yaml"][1].startswith("'=HYPERLINK")
    assert cells["b.yaml"][1] == "-0.5"                     # a number stays a number
    assert cells["c.yaml"][1] == "'@SUM(A1)"
    assert cells["d.yaml"][1] == "Eve"
    assert cells["e.yaml"][1].startswith("'+1")
    assert cells["f.yaml"][1].startswith("'")
    bad = cells["g.yaml"]                                   # its name lost the escape
    assert "did you mean lecture_122" in bad[2]
    for row in cells.values():
        assert not any(c and c[0] in "=+-@" and c != "-0.5" for c in row[:3]), row


# --------------------------------------------------------------------------- problem names


def test_problem_names_get_a_did_you_mean(tmp_path):
    one_clear_error(run("solve", "lecture_12"), "lecture_12: no such file or bundled problem",
                    "did you mean lecture_122?")
    (tmp_path / "a.yaml").write_text("problem: lecture_12\nanswers:\n  J: 1\n")
    one_clear_error(run("check", str(tmp_path / "a.yaml")), "no bundled problem 'lecture_12'",
                    "did you mean lecture_122?")


@pytest.mark.parametrize("name", ["p" * 300, "p" * 300 + ".yaml", "x/" + "q" * 256 + ".yaml"])
def test_a_name_too_long_for_a_file_system_is_a_clear_error(tmp_path, name):
    for command in (["solve"], ["train"], ["derive"], ["export", "-o", "-"],
                    ["check", "--template"]):
        one_clear_error(run(*command, name), "more than a file name may have (255)")
    (tmp_path / "a.yaml").write_text(f"problem: {name}\nanswers:\n  J: 1\n")
    result = run("check", str(tmp_path / "a.yaml"))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert len(result.stderr) < 400


def test_an_answer_file_names_only_problems_inside_its_folder(tmp_path, lecture_yaml):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "p.yaml").write_text(lecture_yaml)
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside / "p.yaml")
    (folder / "a.yaml").write_text("problem: link.yaml\nanswers:\n  J: 19.628\n")
    one_clear_error(run("check", str(folder / "a.yaml"), cwd=folder),
                    "problem must be a bundled problem name", "--allow-read DIR")
    allowed = run("check", str(folder / "a.yaml"), "--allow-read", str(outside), cwd=folder)
    assert allowed.exit_code == 0, allowed.stderr
    (folder / "b.yaml").write_text(f"problem: {outside / 'p.yaml'}\nanswers:\n  J: 19.628\n")
    one_clear_error(run("check", str(folder / "b.yaml"), "--allow-read", str(outside),
                        cwd=folder), "problem must be a bundled problem name")


# --------------------------------------------------------------------------- templates


def test_a_template_of_a_problem_with_a_long_title_can_be_marked(tmp_path, lecture_yaml):
    """The sheet's first line shows the title, shortened: a title of 12,000
    characters made a comment line over the reader's limit (exit 2 on check)."""
    (tmp_path / "p.yaml").write_text(problem_text(lecture_yaml, title="L" * 12_000),
                                     encoding="utf-8")
    assert run("check", "--template", "p.yaml", "-o", "t.yaml", cwd=tmp_path).exit_code == 0
    first = (tmp_path / "t.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# bpnn-steps answer sheet: LLL") and first.endswith("L…")
    result = run("check", "t.yaml", cwd=tmp_path)
    assert result.exit_code == 1 and "not answered" in result.stdout, result.stderr


def test_a_template_names_its_problem_from_where_it_is_saved(tmp_path, lecture_yaml):
    (tmp_path / "sheets").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "sheets" / "tut5.yaml").write_text(lecture_yaml)
    work = tmp_path / "work"
    made = run("check", "--template", "../sheets/tut5.yaml", "-o", "t5.yaml", cwd=work)
    assert made.exit_code == 0, made.stderr
    assert "problem: \"../sheets/tut5.yaml\"" in (work / "t5.yaml").read_text()
    assert "--allow-read" in made.stderr                   # says how check will accept it
    # the reference leaves the sheet's folder: check needs the user's word ...
    one_clear_error(run("check", "t5.yaml", cwd=work), "--allow-read DIR")
    assert run("check", "t5.yaml", "--allow-read", "../sheets", cwd=work).exit_code == 1
    # ... or a current folder that holds both
    assert run("check", "work/t5.yaml", cwd=tmp_path).exit_code == 1
    # saved next to its problem, it is accepted from anywhere
    made = run("check", "--template", "sheets/tut5.yaml", "-o", "sheets/t6.yaml", cwd=tmp_path)
    assert made.exit_code == 0 and "note" not in made.stderr, made.stderr
    assert "problem: tut5.yaml" in (tmp_path / "sheets" / "t6.yaml").read_text()
    assert run("check", str(tmp_path / "sheets" / "t6.yaml"), cwd=work).exit_code == 1
    # written to standard output, it names the problem from the current folder
    made = run("check", "--template", "sheets/tut5.yaml", cwd=tmp_path)
    assert "problem: sheets/tut5.yaml" in made.stdout


def test_template_outputs_that_cannot_be_written_are_clear_errors(tmp_path):
    loop = tmp_path / "loop.yaml"
    os.symlink(tmp_path / "other.yaml", loop)
    os.symlink(loop, tmp_path / "other.yaml")
    # the loop is named for what it is before any "already exists" (test_write_errors)
    one_clear_error(run("check", "--template", "lecture_122", "-o", str(loop)),
                    "Too many levels of symbolic links")
    one_clear_error(run("check", "--template", "lecture_122", "-o",
                        str(tmp_path / ("n" * 300 + ".yaml"))), "cannot write")


def test_a_csv_the_reader_cannot_take_is_a_clear_error(box, lecture_yaml):
    (box / "d.csv").write_text("x,y1,y2\n" + "1" * 200_000 + ",1,2\n")
    (box / "q.yaml").write_text(problem_text(lecture_yaml, "data:\n  csv: d.csv\n"))
    one_clear_error(run("solve", str(box / "q.yaml")), "is not a CSV file that can be read",
                    "field larger than field limit")


def test_the_library_reads_where_its_caller_says(box, tmp_path):
    """A program names its own files: load_problem reads anywhere unless told to
    confine; marking (whose files are students') confines by default."""
    from bpnn_steps.errors import ProblemError
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.files.untrusted import CONFINED, ReadAccess
    from bpnn_steps.marking.marker import check_file

    (tmp_path / "secret.txt").write_text("x,y1,y2\n1,3,4\n2,6,5\n", encoding="utf-8")
    assert load_problem(box / "p.yaml").samples == 2
    with pytest.raises(ProblemError, match="outside the problem file's folder"):
        load_problem(box / "p.yaml", access=CONFINED)
    assert load_problem(box / "p.yaml", access=ReadAccess.allowing([tmp_path])).samples == 2
    with pytest.raises(ProblemError, match="outside the problem file's folder"):
        check_file(box / "answers.yaml")
    assert check_file(box / "answers.yaml", access=ReadAccess.allowing([tmp_path])).all_right


def test_batch_marking_does_not_follow_links_out_of_the_folder(tmp_path):
    (tmp_path / "private.yaml").write_text(f"{SECRET}: 1\nproblem: lecture_122\nanswers:\n"
                                           "  J: 19.628\n")
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.yaml").write_text("problem: lecture_122\nanswers:\n  J: 19.628\n")
    (folder / "eve.yaml").symlink_to(tmp_path / "private.yaml")
    result = run("check", "--batch", str(folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1, result.stderr
    written = [(tmp_path / "out" / n).read_text() for n in ("gradebook.csv", "gradebook.json")]
    no_secret(result.stdout, result.stderr, *written)
    assert "a link that leads outside the folder" in written[0]
    allowed = run("check", "--batch", str(folder), "-o", str(tmp_path / "out2"),
                  "--allow-read", str(tmp_path))
    assert allowed.exit_code == 1, allowed.stderr
    assert "a link that leads outside" not in (tmp_path / "out2" / "gradebook.csv").read_text()


LONG = "9" * 5000         # int() refuses over 4,300 digits: each was a ValueError traceback


@pytest.mark.parametrize("text, message", [
    (f"variant: lecture_122-s{LONG}-001\nanswers:\n  J: 1\n", "must be a variant id"),
    (f"variant: lecture_122-s7-{LONG}\nanswers:\n  J: 1\n", "must be a variant id"),
    # (a plain key is at most 1,024 characters: '? ' writes a longer one)
    (f"answers:\n  ? h({LONG})\n  : [1, 2]\n", "is not a known key"),
    (f"answers:\n  ? grad W[{LONG}]\n  : [[1, 2]]\n", "is not a known key"),
    (f"answers:\n  ? update {LONG}\n  :\n    J: 1\n", "is not a known key"),
], ids=["seed", "index", "sample", "layer", "update"])
def test_numbers_too_long_for_int_are_bad_input(tmp_path, text, message):
    (tmp_path / "a.yaml").write_text("problem: lecture_122\n" + text, encoding="utf-8")
    result = run("check", "a.yaml", cwd=tmp_path)
    one_clear_error(result, message)
    assert LONG not in result.stderr


def test_an_answer_file_answering_a_long_run_is_refused_before_marking(tmp_path):
    """Marking works every answered update through at each precision written: 200
    updates of line_1101_gd's 21 samples took 145 s and 5.7 GB.  At most 500 sample
    passes; 24 updates of 21 are 504."""
    body = "".join(f"  update {u}:\n    J: 1\n" for u in range(1, 25))
    (tmp_path / "a.yaml").write_text("problem: line_1101_gd\nanswers:\n" + body,
                                     encoding="utf-8")
    one_clear_error(run("check", "a.yaml", cwd=tmp_path),
                    "answers 24 updates, 504 sample passes in all; check marks at most 500",
                    "--updates N")


def _gradebook_rows(folder: Path) -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text())))
    return {r["student"]: r for r in rows}


def test_a_batch_takes_no_problem_file_from_the_students_folder(tmp_path, lecture_yaml):
    """The folder of a batch is the students': a problem file of their own in it (a
    hidden sub-folder keeps it out of the scan) gave full marks for wrong numbers,
    and one named like the TA's problem replaced it for every classmate."""
    own = lecture_yaml.replace("W1: [[0.1, 0.1], [0.1, 0.1]]", "W1: [[0.2, 0.2], [0.2, 0.2]]")
    assert own != lecture_yaml
    course = tmp_path / "course"
    subs = course / "subs"
    (subs / ".hidden").mkdir(parents=True)
    (course / "week5.yaml").write_text(lecture_yaml, encoding="utf-8")     # the TA's
    (subs / ".hidden" / "p.yaml").write_text(own, encoding="utf-8")
    (subs / "week5.yaml").write_text(own, encoding="utf-8")
    right, wrong = "[0.550, 0.550]", "[0.599, 0.599]"     # h(1) of the TA's, of their own
    for student, problem, h in (("alice", "week5.yaml", right),
                                ("mallory", "week5.yaml", wrong),
                                ("eve", ".hidden/p.yaml", wrong)):
        (subs / f"{student}.yaml").write_text(f"problem: {problem}\nstudent: {student}\n"
                                              f"answers:\n  h(1): {h}\n", encoding="utf-8")
    result = run("check", "--batch", "subs", "-o", "out", cwd=course)
    assert result.exit_code == 1, result.stderr
    rows = _gradebook_rows(course / "out")
    assert rows["alice"]["status"] == "all right"
    assert rows["mallory"]["score"] == "0"
    assert rows["eve"]["score"] == "" and "a file in the folder of answer files" in \
        rows["eve"]["status"], rows["eve"]
    # marked alone, a student's file still names the problem beside it
    assert run("check", "subs/eve.yaml", cwd=course).exit_code == 0


def test_with_problem_every_file_is_marked_against_it(tmp_path):
    """--problem P marks each file against P: an answer file's variant: (a seed the
    student chose) made check draw that variant and mark against it, full marks."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "m.yaml").write_text(
        "problem: lecture_122\nvariant: lecture_122-s99-001\nstudent: m\nanswers:\n"
        "  h(1): [0.3543, 0.5987]\n", encoding="utf-8")
    assert run("check", "subs/m.yaml", cwd=tmp_path).exit_code == 0   # its own variant
    result = run("check", "--batch", "subs", "-p", "lecture_122", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    row = _gradebook_rows(tmp_path / "out")["m"]
    assert row["score"] == "" and "is not a variant" in row["status"], row
    single = run("check", "subs/m.yaml", "-p", "lecture_122", cwd=tmp_path)
    assert single.exit_code == 2 and "is not a variant" in single.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", [("solve",), ("check",), ("derive",), ("check", "--template")])
def test_a_pipe_or_device_named_as_the_input_is_refused_not_waited_on(tmp_path, command):
    """A named pipe with no writer would block a plain open() for ever; /dev/zero
    never ends."""
    pipe = tmp_path / "p.yaml"
    os.mkfifo(pipe)
    for target in (str(pipe), "/dev/zero"):
        out = helpers.run_cli(*command, target, timeout=30)
        assert out.returncode == 2, out.stderr
        assert "is not a regular file" in out.stderr and "Traceback" not in out.stderr
