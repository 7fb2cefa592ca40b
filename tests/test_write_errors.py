"""Output that cannot be written: one clear message and exit code 2, never a
traceback, never a half-written or destroyed output file; one folder policy for
every command (an output's folder must exist; only ``check --batch -o DIR`` makes
its own folder, never that folder's missing parents)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import BUNDLED, cli_env, console_script, invoke


FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
LONG_NAME = "a" * 300 + ".txt"          # longer than any file system's 255


def refused(result, *words: str) -> None:
    """Exit 2, one line on stderr holding ``words``, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpnn-steps: error: "), result.stderr
    assert "Traceback" not in result.stderr and result.exception is None or \
        isinstance(result.exception, SystemExit)
    for word in words:
        assert word in lines[0], (word, lines[0])


# --------------------------------------------------------------------------- stdout


@needs_dev_full
@pytest.mark.parametrize("args", [
    ("solve", "lecture_122"),
    ("solve", "lecture_122", "--format", "json"),
    ("derive", "quiz_11"),
    ("check", "--template", "lecture_122"),
    ("list",),
    ("--help",),
    ("--version",),
], ids=lambda a: " ".join(a))
def test_a_full_standard_output_is_one_message(args):
    with FULL.open("w") as full:
        done = subprocess.run([console_script(), *args], stdout=full, stderr=subprocess.PIPE,
                              env=cli_env(), text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("bpnn-steps: error: cannot write to standard output: "
                           "No space left on device\n")


# --------------------------------------------------------------------------- -o targets


@needs_dev_full
def test_a_full_disk_as_the_output_file():
    refused(invoke("solve", "lecture_122", "-o", str(FULL)), "/dev/full", "cannot write",
            "No space left")


@pytest.mark.parametrize("command", [
    ("solve", "lecture_122"),
    ("derive", "quiz_11"),
    ("export", "lecture_122"),
    ("check", "--template", "lecture_122"),
])
def test_bad_output_paths_are_clear_errors(tmp_path, command):
    (tmp_path / "folder").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    cases = {
        "folder": "it is a folder",
        LONG_NAME: "too long",
        "loop": "symbolic links",
        "missing/x.txt": "folder 'missing' does not exist",
    }
    for target, words in cases.items():
        result = invoke(*command, "-o", target, cwd=tmp_path)
        refused(result, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "loop"]


def test_a_failed_write_keeps_the_existing_file(tmp_path, monkeypatch):
    from bpnn_steps.errors import ProblemError
    from bpnn_steps.files import textio

    target = tmp_path / "solution.txt"
    target.write_text("the old solution\n")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(textio.os, "replace", fail)
    with pytest.raises(ProblemError, match="No space left on device"):
        textio.write_atomic(target, "the new one\n")
    assert target.read_text() == "the old solution\n"
    assert [p.name for p in tmp_path.iterdir()] == ["solution.txt"]   # no temporary left


def test_writing_to_a_device_writes_in_place(tmp_path):
    from bpnn_steps.files.textio import write_atomic

    write_atomic(os.devnull, "nothing\n")          # not replaced by a regular file
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


# --------------------------------------------------------------------------- folders


def test_no_command_creates_a_missing_folder(tmp_path):
    answers = tmp_path / "answers"
    answers.mkdir()
    for args in (("new", "nodir/p.yaml"),
                 ("solve", "lecture_122", "-o", "nodir/s.txt"),
                 ("export", "lecture_122", "-o", "nodir/s.tex"),
                 ("derive", "quiz_11", "-o", "nodir/d.txt"),
                 ("check", "--template", "lecture_122", "-o", "nodir/t.yaml"),
                 ("check", "--batch", "answers", "-o", "nodir/marks")):
        result = invoke(*args, cwd=tmp_path)
        refused(result, "'nodir'", "does not exist")
        assert not (tmp_path / "nodir").exists(), args


def test_the_batch_folder_itself_is_created(tmp_path):
    answers = tmp_path / "answers"
    answers.mkdir()
    template = invoke("check", "--template", "lecture_122", "-o", "answers/a.yaml",
                      cwd=tmp_path)
    assert template.exit_code == 0, template.stderr
    result = invoke("check", "--batch", "answers", "-o", "marks", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr          # a blank sheet is not right
    assert (tmp_path / "marks" / "gradebook.csv").is_file()


def test_train_checks_its_outputs_before_training(tmp_path, monkeypatch):
    from bpnn_steps.maths import training

    def never(*args, **kwargs):
        raise AssertionError("trained before checking the output paths")

    monkeypatch.setattr(training, "train", never)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for option, target, words in (("--plot", "nodir/x.png", "does not exist"),
                                  ("--save", "nodir/t.yaml", "does not exist"),
                                  ("-o", "nodir/s.txt", "does not exist"),
                                  ("--save", "loop", "symbolic links"),
                                  ("-o", LONG_NAME, "too long")):
        refused(invoke("train", "lecture_122", option, target, cwd=tmp_path), words)


# --------------------------------------------------------------------------- the boundary


@pytest.mark.parametrize("error, words", [
    (MemoryError(), "out of memory"),
    (OSError(5, "Input/output error", "some.yaml"), "some.yaml: Input/output error"),
])
def test_the_boundary_turns_the_environment_s_failures_into_one_line(monkeypatch, error, words):
    from bpnn_steps.maths import engine

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine, "solve", fail)
    refused(invoke("solve", "lecture_122"), words)


def test_a_note_is_written_once(tmp_path):
    problem = tmp_path / "p.yaml"
    problem.write_text("network: {layers: [1, 2, 2], activations: [sigmoid, linear]}\n"
                       "data: {x: [[1], [2]], y: [[3, 4], [6, 5]]}\nweights: {fill: 0.1}\n"
                       "training: {learning_rate: 0.5, method: batch, batch_size: 2}\n")
    answers = tmp_path / "answers"
    answers.mkdir()
    for name in ("a", "b", "c"):
        (answers / f"{name}.yaml").write_text("problem: ../p.yaml\nanswers: {}\n")
    result = invoke("check", "--batch", "answers", "-o", "marks", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert len(notes) == 1, result.stderr
    assert notes[0].endswith("p.yaml:4: training.batch_size applies to method minibatch only; "
                             "the method is batch, so it is ignored")


@pytest.mark.parametrize("args", [("solve", "lecture_122"), ("check", "--template", "quiz_11"),
                                  ("derive", "lecture_122", "--format", "json")],
                         ids=lambda a: " ".join(a))
def test_a_reader_that_stopped_reading_ends_the_command_quietly(args):
    """`bpnn-steps ... | head -1`: the reader has what it wants, so no message and no
    traceback, and the exit code a shell gives a process ended by SIGPIPE.  (The
    pipe's reading end is closed before the command writes, as head's is when it
    has its line.)"""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([console_script(), *args], stdout=write_end,
                              stderr=subprocess.PIPE, env=cli_env(), text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_a_reader_that_stops_partway_gets_the_shell_s_exit_code():
    """`solve ... | head -c 10` on 740 KB: the pipe took the first 64 KB of one large
    write, Python's buffered writer dropped the rest, and the command exited 0 as if
    all had been read; now the rest meets the closed pipe: 141, quietly.  A reader
    that reads everything gets every byte."""
    command = [console_script(), "solve", "sine_181_sgd", "-e", "5", "-s", "1-100"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env())
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(10)
    proc.stdout.close()
    assert (proc.wait(timeout=120), proc.stderr.read(), len(head)) == (141, b"", 10)
    whole = subprocess.run(command, capture_output=True, env=cli_env(), timeout=120)
    assert whole.returncode == 0 and len(whole.stdout) > 500_000
    assert whole.stdout.decode("utf-8").endswith("\n")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("args", [
    ("solve", "lecture_122"),
    ("solve", "lecture_122", "--format", "markdown"),
    ("solve", "quiz_11", "--exact"),
    ("derive", "quiz_11"),
    ("train", "lecture_122", "--epochs", "3"),
    ("train", "lecture_122", "--epochs", "3", "--plot", "p.png"),
    ("check", "answers/a.yaml"),
    ("check", "--batch", "answers", "-o", "marks"),
    ("variants", "lecture_122", "-n", "1", "-o", "v", "--explain"),
], ids=lambda a: " ".join(a))
def test_a_report_on_an_ascii_standard_output_is_written_escaped(tmp_path, args):
    """PYTHONIOENCODING=ascii or LC_ALL=C: the report's maths (w₁, ∂J, λ) is written
    with the characters the stream cannot hold escaped, as Python writes them on
    standard error, and the command ends as it would have."""
    runs = {}
    for charset in ("utf-8", "ascii"):
        folder = tmp_path / charset
        (folder / "answers").mkdir(parents=True)
        assert invoke("check", "--template", "lecture_122", "-o", "answers/a.yaml",
                      cwd=folder).exit_code == 0
        runs[charset] = invoke(*args, cwd=folder, charset=charset)
    usual, result = runs["utf-8"], runs["ascii"]
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == usual.exit_code, (result.exit_code, result.stderr)
    assert not usual.stdout.isascii()
    def untimed(text: str) -> str:         # train says how long it took
        return re.sub(r"in [0-9.e+-]+ s \([^)]*\)", "", text)

    assert untimed(result.stdout) == untimed(usual.stdout.encode("ascii",
                                                                 "backslashreplace").decode())
    if "--plot" in args:
        assert (tmp_path / "ascii" / "p.png").is_file()


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
                                  "PYTHONIOENCODING": ""}], ids=["ascii", "C-locale"])
def test_the_console_script_writes_its_report_on_an_ascii_output(env):
    done = subprocess.run([console_script(), "solve", "lecture_122"], capture_output=True,
                          env={**cli_env(), **env}, timeout=120)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr.decode()
    assert b"\\u" in done.stdout


# --------------------------------------------------------------------------- closed streams


def run_closed(args: tuple[str, ...], closed: str, cwd: Path | None = None
               ) -> subprocess.CompletedProcess:
    """The console script started as a shell's ``>&-`` (``closed="1"``), ``2>&-``
    (``"2"``) or both (``"12"``) starts it: without that standard stream."""
    redirect = " ".join(f"{fd}>&-" for fd in closed)
    return subprocess.run(["sh", "-c", f'exec "$0" "$@" {redirect}', console_script(), *args],
                          cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=120)


STDOUT_CLOSED = "bpnn-steps: error: cannot write to standard output: Bad file descriptor\n"


@pytest.mark.parametrize("args", [("solve", "lecture_122"), ("check", "--template", "quiz_11"),
                                  ("list",), ("--help",), ("--version",)],
                         ids=lambda a: " ".join(a))
def test_a_report_for_a_closed_standard_output_is_one_message(args):
    done = run_closed(args, "1")
    assert (done.returncode, done.stderr) == (2, STDOUT_CLOSED)


def test_a_closed_standard_output_is_not_needed_for_a_file(tmp_path):
    done = run_closed(("solve", "lecture_122", "-o", "o.txt"), "1", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "wrote o.txt\n")
    assert "Feed-forward" in (tmp_path / "o.txt").read_text()


def test_bad_input_with_a_closed_stream_is_still_bad_input(tmp_path):
    done = run_closed(("solve", "nope.yaml"), "1", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, "bpnn-steps: error: nope.yaml: no such file\n")
    for closed in ("2", "12"):
        done = run_closed(("solve", "nope.yaml"), closed, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (2, "")


def test_a_closed_standard_error_loses_only_the_messages(tmp_path):
    done = run_closed(("solve", "lecture_122", "-o", "o.txt"), "2", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert (tmp_path / "o.txt").is_file()
    done = run_closed(("solve", "lecture_122"), "2", cwd=tmp_path)
    assert done.returncode == 0 and "Feed-forward" in done.stdout
    assert run_closed(("solve", "lecture_122"), "12").returncode == 2


# --------------------------------------------------------------------------- paths as typed


def class_folder(tmp_path: Path) -> Path:
    """tmp_path with answers/a.yaml, a blank sheet of lecture_122."""
    (tmp_path / "answers").mkdir()
    assert invoke("check", "--template", "lecture_122", "-o", "answers/a.yaml",
                  cwd=tmp_path).exit_code == 0
    return tmp_path


@pytest.mark.parametrize("args", [
    ("solve", "lecture_122", "-o", "{}"),
    ("derive", "quiz_11", "-o", "{}"),
    ("export", "lecture_122", "-o", "{}"),
    ("export", "lecture_122", "-f", "html", "-o", "{}"),
    ("check", "answers/a.yaml", "-o", "{}"),
    ("check", "--template", "lecture_122", "-o", "{}"),
    ("train", "lecture_122", "--epochs", "2", "--plot", "{}"),
    ("train", "lecture_122", "--epochs", "2", "--save", "{}"),
    ("train", "lecture_122", "--epochs", "2", "-o", "{}"),
    ("new", "{}"),
], ids=lambda a: " ".join(a))
def test_a_trailing_slash_names_a_folder(tmp_path, args):
    """pathlib drops a trailing '/': ``-o newdir/`` wrote a FILE named newdir."""
    suffix = ".png" if "--plot" in args else ""           # --plot checks it first
    class_folder(tmp_path)
    (tmp_path / f"folder{suffix}").mkdir()
    (tmp_path / f"file{suffix}").write_text("kept\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    for name, words in (("newdir", "folder 'newdir{}/' does not exist"),
                        ("folder", "it is a folder"),
                        ("file", "'file{}' is a file, not a folder")):
        typed = f"{name}{suffix}/"
        refused(invoke(*(a.replace("{}", typed) for a in args), cwd=tmp_path),
                f"{typed}: cannot write: ", words.format(suffix))
        assert sorted(p.name for p in tmp_path.iterdir()) == before, typed
        assert (tmp_path / f"file{suffix}").read_text() == "kept\n"


def test_a_trailing_slash_is_welcome_where_a_folder_is_meant(tmp_path):
    class_folder(tmp_path)
    result = invoke("check", "--batch", "answers/", "-o", "marks/", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert (tmp_path / "marks" / "gradebook.csv").is_file()
    result = invoke("variants", "lecture_122", "-n", "1", "-o", "v/", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "v" / "index.csv").is_file()


@pytest.mark.parametrize("args, option", [
    (("solve", ""), "PROBLEM"),
    (("solve", "lecture_122", "-o", ""), "-o"),
    (("solve", "lecture_122", "--allow-read", ""), "--allow-read"),
    (("derive", "quiz_11", "-o", ""), "-o"),
    (("variants", "lecture_122", "-o", ""), "-o"),
    (("check", ""), "ANSWERS"),
    (("check", "answers/a.yaml", "-p", ""), "-p"),
    (("check", "--template", ""), "--template"),
    (("check", "--template", "lecture_122", "-o", ""), "-o"),
    (("check", "--batch", ""), "--batch"),
    (("check", "--batch", "answers", "-o", ""), "-o"),
    (("check", "--batch", "answers", "--sheet", ""), "--sheet"),
    (("train", "lecture_122", "--save", ""), "--save"),
    (("train", "lecture_122", "--plot", ""), "--plot"),
    (("course", ""), "FOLDER"),
    (("new", ""), "PATH"),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else a)
def test_an_empty_path_is_refused_by_name(tmp_path, args, option):
    """pathlib reads '' as '.': ``--allow-read ''`` allowed the current folder,
    ``variants -o ''`` wrote into it, ``check -p ''`` said ': is a folder'."""
    class_folder(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    refused(invoke(*args, cwd=tmp_path), f"an empty path for {option}; expected")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_allow_read_names_a_file_as_a_file(tmp_path):
    (tmp_path / "data.csv").write_text("x\n1\n")
    refused(invoke("solve", "lecture_122", "--allow-read", "data.csv", cwd=tmp_path),
            "--allow-read data.csv: is a file, not a folder")
    refused(invoke("solve", "lecture_122", "--allow-read", "nodir", cwd=tmp_path),
            "--allow-read nodir: no such folder")


# --------------------------------------------------------------------------- inputs and outputs


@pytest.mark.parametrize("args", [
    ("solve", "L.yaml", "-o", "{}"),
    ("derive", "L.yaml", "-o", "{}"),
    ("derive", "L.yaml", "-f", "latex", "-o", "{}"),
    ("derive", "L.yaml", "--pdf", "-o", "{}"),
    ("export", "L.yaml", "-o", "{}"),
    ("export", "L.yaml", "--pdf", "-o", "{}"),
    ("export", "L.yaml", "-f", "html", "-o", "{}"),
    ("export", "L.yaml", "-f", "markdown", "-o", "{}"),
    ("train", "L.yaml", "-o", "{}"),
    ("train", "L.yaml", "--save", "{}"),
    ("check", "--template", "L.yaml", "-o", "{}", "--force"),
], ids=lambda a: " ".join(a))
def test_an_output_never_overwrites_the_input(tmp_path, args, monkeypatch):
    """``solve L.yaml -o L.yaml`` replaced the problem with its solution; as
    ``./L.yaml`` or through a link too."""
    from bpnn_steps.maths import engine, training

    def never(*args, **kwargs):
        raise AssertionError("worked before checking the output paths")

    monkeypatch.setattr(engine, "solve", never)
    monkeypatch.setattr(training, "train", never)
    problem = tmp_path / "L.yaml"
    problem.write_text((BUNDLED / "lecture_122.yaml").read_text())
    (tmp_path / "link.yaml").symlink_to("L.yaml")
    os.link(problem, tmp_path / "hard.yaml")
    for target, also in (("L.yaml", ""), ("./L.yaml", " L.yaml"), ("link.yaml", " L.yaml"),
                         ("hard.yaml", " L.yaml"), (str(problem), " L.yaml")):
        option = args[args.index("{}") - 1]
        refused(invoke(*(target if a == "{}" else a for a in args), cwd=tmp_path),
                f"{target}: {option} would overwrite the input file{also}")
        assert problem.read_text() == (BUNDLED / "lecture_122.yaml").read_text()


def test_a_bundled_problem_is_an_input_too(tmp_path, monkeypatch):
    from bpnn_steps.files import bundled

    # a copy: a failing run must not overwrite the package's own file
    (tmp_path / "problems").mkdir()
    copy = tmp_path / "problems" / "quiz_11.yaml"
    copy.write_text((BUNDLED / "quiz_11.yaml").read_text())
    monkeypatch.setattr(bundled, "BUNDLED_DIR", copy.parent)
    refused(invoke("solve", "quiz_11", "-o", str(copy), cwd=tmp_path),
            f"{copy}: -o would overwrite the input file quiz_11")
    assert copy.read_text() == (BUNDLED / "quiz_11.yaml").read_text()


def test_check_never_overwrites_the_answer_file_or_its_problem(tmp_path):
    """``check hand_3dp.yaml -o hand_3dp.yaml`` replaced a student's answers with
    the report on them."""
    (tmp_path / "p.yaml").write_text((BUNDLED / "quiz_11.yaml").read_text())
    assert invoke("check", "--template", "p.yaml", "-o", "a.yaml", cwd=tmp_path).exit_code == 0
    (tmp_path / "q.yaml").write_text((BUNDLED / "quiz_11.yaml").read_text())
    files = {p.name: p.read_text() for p in tmp_path.iterdir()}
    for args, words in ((("a.yaml", "-o", "a.yaml"), "a.yaml: -o would overwrite the input file"),
                        (("a.yaml", "-o", "p.yaml"), "p.yaml: -o would overwrite the input file"),
                        (("a.yaml", "-p", "q.yaml", "-o", "q.yaml"), "q.yaml: -o would"),
                        (("a.yaml", "-f", "json", "-o", "./a.yaml"), "./a.yaml: -o would")):
        refused(invoke("check", *args, cwd=tmp_path), words)
        assert {p.name: p.read_text() for p in tmp_path.iterdir()} == files


@pytest.mark.parametrize("options", [
    ("--plot", "x.png", "--save", "x.png"),
    ("--plot", "x.png", "-o", "x.png"),
    ("--save", "s.yaml", "-o", "s.yaml"),
    ("--save", "s.yaml", "-o", "./s.yaml"),
    ("--save", "new/../s.yaml", "-o", "s.yaml"),
], ids=lambda a: " ".join(a))
def test_two_outputs_of_a_run_are_two_files(tmp_path, monkeypatch, options):
    """``train --plot x.png --save x.png`` wrote both, the second over the first."""
    from bpnn_steps.maths import training

    def never(*args, **kwargs):
        raise AssertionError("trained before checking the output paths")

    monkeypatch.setattr(training, "train", never)
    (tmp_path / "new").mkdir()
    first, second = sorted([options[0], options[2]], key=["--save", "--plot", "-o"].index)
    refused(invoke("train", "lecture_122", *options, cwd=tmp_path),
            f"{first} and {second} name the same file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_devices_may_take_several_outputs(tmp_path):
    result = invoke("train", "lecture_122", "--epochs", "2", "--save", os.devnull, "-o",
                    os.devnull, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
