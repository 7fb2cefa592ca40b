"""`bpnn-steps solve` must not pay for the heavy optional libraries: neither
sympy nor matplotlib may be imported for text or JSON output; `--help`,
`--version`, `list` and `new` do not even import numpy.  (No timing assertions:
only which modules get imported; benchmarks/startup.py measures the time.)"""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest

from helpers import REPO, cli_env

HEAVY = ("sympy", "matplotlib")

PROBE = """
import sys
from bpnn_steps.cli import main
sys.argv = ["bpnn-steps"] + sys.argv[1:]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"sympy", "matplotlib"})
sys.stderr.write("\\nHEAVY=" + repr(heavy) + " CODE=" + repr(code) + "\\n")
sys.stderr.write("NUMPY=" + repr("numpy" in sys.modules) + "\\n")
sys.stderr.write("TREE=" + repr("bpnn_steps.maths.tree" in sys.modules) + "\\n")
"""


def run_probe(*args, cwd=REPO):
    if cwd == REPO:
        return _probe_in_the_repository(args)
    return _probe(args, cwd)


def _probe(args, cwd):
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


@functools.cache
def _probe_in_the_repository(args):
    """One process per command line, whoever asks about it: a process reports every
    module it imported (heavy ones, numpy, the chain rule's tree) at once."""
    return _probe(args, REPO)


@pytest.mark.parametrize("args", [
    ["solve", "problems/lecture_122.yaml"],
    ["solve", "problems/lecture_122.yaml", "--format", "json"],
    ["solve", "lecture_122", "--format", "markdown"],
    ["list"],
])
def test_no_heavy_imports_in_cli_run(args):
    out = run_probe(*args)
    assert "HEAVY=[] CODE=0" in out.stderr, out.stderr[-2000:]
    assert out.stdout.strip()
    if "json" in args:
        json.loads(out.stdout)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_importtime_shows_no_heavy_modules(fmt):
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "bpnn_steps", "solve",
                          "problems/lecture_122.yaml", "--format", fmt],
                         cwd=REPO, env=cli_env(), capture_output=True, text=True,
                         encoding="utf-8", timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [l for l in out.stderr.splitlines() if l.startswith("import time:")]
    assert lines, "no -X importtime output"
    imported = {l.rsplit("|", 1)[-1].strip().split(".")[0] for l in lines[1:]}
    assert "bpnn_steps" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_importing_the_package_stays_light():
    code = ("import sys, bpnn_steps; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sympy', 'matplotlib'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [
    ["--help"],
    ["--version"],
    [],
    ["list"],
    ["new", "mine.yaml"],
    ["solve", "--help"],
    ["train", "--help"],
    ["check", "--help"],
], ids=lambda a: " ".join(a) or "no-arguments")
def test_light_commands_do_not_import_numpy(args, tmp_path):
    out = run_probe(*args, cwd=tmp_path)
    assert "NUMPY=False" in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    if args[:1] == ["new"]:
        assert "CODE=0" in out.stderr and (tmp_path / "mine.yaml").is_file()
    elif args:
        assert "CODE=0" in out.stderr and out.stdout.strip()
    else:
        assert "Usage" in out.stdout + out.stderr       # help, with exit code 2


def test_solve_imports_numpy_as_it_must():
    """The probe above can see numpy: solve loads it."""
    out = run_probe("solve", "problems/lecture_122.yaml", "--format", "json")
    assert "NUMPY=True" in out.stderr and "CODE=0" in out.stderr, out.stderr[-2000:]


def test_solve_builds_no_chain_rule_tree():
    """The activation records import the chain rule's tree nodes only inside the
    callables that build a tree (derive, check): solve never loads them."""
    out = run_probe("solve", "problems/lecture_122.yaml")
    assert "CODE=0" in out.stderr, out.stderr[-2000:]
    assert "TREE=False" in out.stderr, out.stderr[-2000:]
