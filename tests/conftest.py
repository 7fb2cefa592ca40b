"""Fixtures shared by the test modules; the helpers themselves live in helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# pytest rewrites the asserts of every test module (6 s for this suite) and keeps the
# result only where bytecode may be written: keep it, even where PYTHONDONTWRITEBYTECODE
# is set, so that a run after the first collects in a second or two.
sys.dont_write_bytecode = False

import helpers  # noqa: E402


def _build_the_command_line_once() -> None:
    """typer's CliRunner builds the click command from the app on every invoke (10 ms,
    most of a small command's run in-process); the suite invokes it a thousand
    times, and the app does not change, so build it once per app."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple[object, object]] = {}

    def cached(app):  # type: ignore[no-untyped-def]
        if id(app) not in built:
            built[id(app)] = (app, build(app))     # the app kept: its id stays its own
        return built[id(app)][1]

    typer.testing._get_command = cached


_build_the_command_line_once()


def _parse_each_yaml_text_once() -> None:
    """ruamel's round-trip parser takes 10-20 ms for a one-kilobyte problem file, and the
    suite parses the same few files (the bundled problems, the example answers) nearly
    two thousand times: a tenth of its time.  The same text always parses to the same
    tree, so each text is parsed once per process and every caller gets its own copy
    (a pickle round trip, which keeps line numbers, comments and flow styles, in a
    fiftieth of the time).  A text that fails to parse is parsed, and fails, every time."""
    import pickle

    from bpnn_steps.files import answer_file, problem_file, yamldoc

    parse = yamldoc.parse_yaml
    trees: dict[str, bytes] = {}

    def parse_yaml(text: str, name: str) -> object:
        if text not in trees:
            trees[text] = pickle.dumps(parse(text, name))
        return pickle.loads(trees[text])

    for module in (yamldoc, problem_file, answer_file):
        module.parse_yaml = parse_yaml  # type: ignore[assignment]


_parse_each_yaml_text_once()


@pytest.fixture
def cli():
    """Run the real ``bpnn-steps`` console script: ``cli("solve", "x.yaml", cwd=...)``."""
    return helpers.run_cli


@pytest.fixture(scope="session")
def lecture_yaml() -> str:
    return (helpers.BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8")


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Write the golden files of tests/test_goldens.py from the current "
                          "outputs (review the result with git diff).")
