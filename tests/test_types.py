"""mypy reports no error in the packages pyproject.toml configures ([tool.mypy]:
strict for the model and the maths, the untyped bodies checked elsewhere)."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def test_mypy_reports_no_errors() -> None:
    # No arguments: mypy reads what to check and how from pyproject.toml.
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                         text=True, encoding="utf-8", timeout=900)
    assert run.returncode == 0, f"mypy exited with {run.returncode}:\n{run.stdout}{run.stderr}"
