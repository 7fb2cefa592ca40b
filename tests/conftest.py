"""Fixtures shared by the test modules; the helpers themselves live in helpers.py."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

# One BLAS (and OpenMP) thread per test process, set before numpy is first imported
# (below, by helpers): the suite runs one worker per core, and each worker's pool of
# BLAS threads, spinning while it waits for work, took CPU from the other worker.
for _pool in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

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


# The garbage collector: a full collection walks every object alive, and after sympy,
# matplotlib and the collected tests that is millions of objects, each time (a fifth
# of the suite's time went into it).  What has lived through the collection and
# through a whole test module almost always lives to the end, so it is frozen
# (gc.freeze: kept out of later collections); garbage is still collected before.
def _freeze_survivors() -> None:
    gc.collect()
    gc.freeze()


# The modules whose tests take longest each (a browser, hypothesis, 200 variants,
# training, processes), run first.  pytest-xdist's worksteal gives each worker a
# contiguous share of the collection and an idle worker steals from the end of
# another's share: with these at the front, what is stolen at the end is the many
# short tests that even the workers out.  First of all the modules whose tests share
# a costly fixture or cache (200 variants drawn and solved, the browser, torch, the
# pages exported): a steal reaches them last, so they are not split between the
# workers and built twice.  Only the order changes, never what runs.
LONGEST_FIRST = ("test_readme", "test_separation", "test_html_browser", "test_libraries",
                 "test_html", "test_check_variants",
                 "test_fuzz", "test_train_examples", "test_plot", "test_check_batch",
                 "test_train_cli", "test_solve_memory", "test_gradients", "test_startup",
                 "test_write_errors", "test_train_engine", "test_derive", "test_variants")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank))
               if item.module is not None else len(rank))       # a stable sort


def pytest_collection_finish(session):
    _freeze_survivors()
    # Young collections every 50,000 new objects, not 700: a test makes and drops
    # millions of small ones (sympy, the trace's arrays), and each young collection
    # walks what survived the last.
    gc.set_threshold(50_000, 20, 20)


@pytest.hookimpl(trylast=True)          # after the module's own fixtures are torn down
def pytest_runtest_teardown(item, nextitem):
    if nextitem is None or nextitem.module is not item.module:
        _freeze_survivors()


def pytest_unconfigure(config):
    # Before pytest's own clean-up, which collects five times over to find errors in
    # finalizers: now each of those walks only what is left of the run.
    _freeze_survivors()
