"""The question sheet asks for exactly what an answer file holds: its answer boxes,
update by update, carry the keys ``check --template`` writes, in the template's
order, so a student copies a sheet into an answer file key for key.

Both sides are read the way a user meets them: the sheet's LaTeX from ``bpnn-steps
export --sheet question`` and the template from ``bpnn-steps check --template``
(parsed as YAML, the way ``check`` reads it)."""

from __future__ import annotations

import re

import pytest
from helpers import read_yaml, run_cli
from test_export import BUNDLED

_UPDATE = re.compile(r"\\subsection\*\{Update (\d+) of \d+")
_LABEL = re.compile(r"\\text\{([^{}]*):\}")


def _sheet_keys(tex: str) -> dict[int, list[str]]:
    """update -> the key labels of its answer boxes, in the order printed."""
    parts = _UPDATE.split(tex)
    return {int(u): _LABEL.findall(body) for u, body in zip(parts[1::2], parts[2::2])}


def _template_keys(name: str, updates: int) -> dict[int, list[str]]:
    result = run_cli("check", "--template", name, "--updates", str(updates))
    assert result.returncode == 0, result.stderr
    answers = read_yaml(result.stdout, text=True)["answers"]
    nested = {k: v for k, v in answers.items() if str(k).startswith("update ")}
    if not nested:
        return {1: list(answers)}
    return {int(str(k).split()[1]): list(v) for k, v in nested.items()}


@pytest.mark.parametrize("name", BUNDLED)
def test_the_question_sheet_boxes_are_the_template_keys(name):
    result = run_cli("export", name, "--sheet", "question", "-o", "-")
    assert result.returncode == 0, result.stderr
    sheet = _sheet_keys(result.stdout)
    assert sheet, "the question sheet asks for no update"
    template = _template_keys(name, max(sheet))
    for update, keys in sheet.items():
        assert keys == template[update], f"update {update}"


def test_the_template_asks_for_delta_and_the_mean_gradient():
    """The quantities the issue found missing on the sheet are among the keys compared."""
    result = run_cli("export", "lecture_122", "--sheet", "question", "-o", "-")
    keys = _sheet_keys(result.stdout)[1]
    assert {"delta[2](1)", "delta[1](2)", "grad W[2]", "grad W[1]", "W[1] new"} <= set(keys)
