"""The terminal's equation rows: aligned on their '=' signs, but a formula wider than
a screen line does not pad every row beside it to its width."""

from __future__ import annotations

from bpnn_steps.api import solve, to_text
from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.render.terminal import ALIGN_COLUMNS, width


def _text(name: str, epochs: int | None = None) -> list[str]:
    problem = load_problem(name)
    if epochs is not None:
        problem = problem.with_training(epochs=epochs)
    return to_text(solve(problem)).splitlines()


def _equals_columns(line: str) -> list[int]:
    return [width(line[:i]) for i, c in enumerate(line) if c == "="]


def test_the_lecture_s_rows_share_their_equals_columns() -> None:
    lines = _text("lecture_122")
    z = next(line for line in lines if line.startswith("z₁,₍₁₎"))
    h = next(line for line in lines if line.startswith("h₁,₍₁₎"))
    assert _equals_columns(z) == _equals_columns(h)


def test_a_wide_formula_does_not_pad_the_rows_beside_it() -> None:
    """line_1101_gd's output rows have 10-term formulas (over 150 columns); the loss
    rows of the same block stay short and aligned among themselves.  One epoch: the
    rows of an update do not depend on how many follow it (its 2,000 epochs, all
    traced in full, take seconds), and the first update is the one read here."""
    lines = _text("line_1101_gd", epochs=1)
    wide = [line for line in lines if line.startswith("ŷ₁,₍")]
    first_update = lines[:next(i for i, line in enumerate(lines) if line.startswith("J̄"))]
    losses = [line for line in first_update if line.startswith("J₍")]
    assert wide and losses
    assert min(width(line) for line in wide) > 2 * ALIGN_COLUMNS
    assert max(width(line) for line in losses) < 2 * ALIGN_COLUMNS
    assert len({tuple(_equals_columns(line)) for line in losses}) == 1
