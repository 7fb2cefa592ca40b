"""The LaTeX layout rule for a single term wider than a line (render/latex.py, rule 3):
it is scaled down to fit, never below MIN_SCALE; a term that fits is not scaled;
and a derivation's column of formulas is measured by its columns, so it is not
shrunk to MIN_SCALE as if all its rows stood on one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpnn_steps.model.notation import EQUALS, Mat, Sym
from bpnn_steps.render.latex import MIN_SCALE, display_latex, document
from helpers import REPO, run_cli
from test_export import compile_sheet, needs_tex

_SCALE = re.compile(r"\\scalebox\{([0-9.]+)\}")


def _matrix(cols: int) -> tuple:
    values = np.round(np.linspace(-1.5, 1.5, 2 * cols).reshape(2, cols), 3)
    return (Sym("W", (), None, 1), EQUALS, Mat(values))


def _scales(tex: str) -> list[float]:
    return [float(f) for f in _SCALE.findall(tex)]


def test_a_matrix_that_fits_is_not_scaled():
    assert _scales(display_latex(_matrix(4), 3)) == []


@pytest.mark.parametrize("cols", [11, 14, 18])
def test_a_matrix_a_little_too_wide_is_scaled_to_fit(tmp_path, cols):
    """Scaled between MIN_SCALE and 1, and pdflatex finds nothing past the edge."""
    tex = display_latex(_matrix(cols), 3)
    scales = _scales(tex)
    assert len(scales) == 1 and MIN_SCALE < scales[0] < 1, tex[:200]
    needs_tex()
    code, error, _, overfull = compile_sheet(document(tex), tmp_path, f"wide{cols}")
    assert code == 0, error
    assert overfull == []


def test_no_matrix_is_set_below_min_scale():
    """However wide, the factor stops at MIN_SCALE (printed with two decimals)."""
    scales = _scales(display_latex(_matrix(200), 3))
    assert scales == [float(f"{MIN_SCALE:.2f}")]


def test_every_golden_respects_min_scale():
    found = []
    for path in (REPO / "tests" / "golden").rglob("*.tex"):
        found += _scales(path.read_text(encoding="utf-8"))
    assert found
    assert all(MIN_SCALE <= f < 1 for f in found), sorted(found)[:5]


def test_a_derivation_column_of_formulas_stays_legible():
    """sine_181_sgd's dJ/dW[2] is a column of nine short formulas: it fits the line at
    full size (measured as one line of Unicode, it was set at 0.65)."""
    tex = run_cli("derive", "sine_181_sgd", "--format", "latex").stdout
    line = next(row for row in tex.splitlines()
                if r"\begin{bmatrix} \hat{y}_{1,(t)} - y_{1,(t)} \\" in row)
    assert r"\scalebox" not in line
