"""A folder of variants reads back as the problems that were written into it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bpnn_steps.errors import ProblemError
from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.files.problem_writer import problem_text
from bpnn_steps.files.variant_folder import INDEX, index_text, read_variants, variant_file
from bpnn_steps.model.variant import Variant, VariantId, variant_id


def _write(folder: Path, variants: list[Variant]) -> None:
    for v in variants:
        (folder / variant_file(v.id)).write_text(problem_text(v.problem, ["test"]),
                                                 encoding="utf-8")
    (folder / INDEX).write_text(index_text(variants), encoding="utf-8")


def _variants(name: str, count: int) -> list[Variant]:
    base = load_problem(name)
    out = []
    for i in range(1, count + 1):
        ident = variant_id(name, 7, i)
        weights = tuple(w + 0.1 * i for w in base.initial_weights())
        problem = replace(base.with_weights(weights), variant=ident)
        out.append(Variant(ident, problem, ("W1", "W2")))
    return out


@pytest.mark.parametrize("name", ["lecture_122", "softmax_233", "deep_1221", "sine_1101_l2"])
def test_every_number_and_setting_reads_back(tmp_path: Path, name: str) -> None:
    written = _variants(name, 2)
    _write(tmp_path, written)
    back = read_variants(tmp_path)
    assert [v.id for v in back] == [v.id for v in written]
    for a, b in zip(written, back):
        p, q = a.problem, b.problem
        assert (q.layers, q.activations, q.loss, q.training, q.title, q.variant) == \
            (p.layers, p.activations, p.loss, p.training, p.title, p.variant)
        assert b.varied == a.varied
        for u, v in zip(p.initial_weights(), q.initial_weights()):
            assert np.array_equal(u, v)            # repr of a float reads back exactly
        for u, v in zip(p.data(), q.data()):
            assert np.array_equal(u, v)


def test_ids_take_apart_and_sort_in_index_order() -> None:
    ids = [variant_id("lecture_122", 7, i) for i in range(1, 1000)]
    assert ids == sorted(ids)
    assert VariantId.parse("lecture_122-s7-003") == VariantId("lecture_122", 7, 3)
    assert str(VariantId.parse("a-b-s12-1234")) == "a-b-s12-1234"
    assert VariantId.parse("lecture_122") is None
    assert VariantId.parse("x-s7-3") is None


def test_a_file_that_is_not_the_variant_the_index_names(tmp_path: Path) -> None:
    written = _variants("lecture_122", 2)
    _write(tmp_path, written)
    other = tmp_path / variant_file(written[1].id)
    other.write_text(problem_text(written[0].problem), encoding="utf-8")
    with pytest.raises(ProblemError, match="listed in index.csv as variant"):
        read_variants(tmp_path)


@pytest.mark.parametrize("index, message", [
    (None, "has no index.csv"),
    ("a,b\n", "the first line must be id,seed,index,file,varied"),
    ("id,seed,index,file,varied\n", "lists no variants"),
    ("id,seed,index,file,varied\nnot-an-id,7,1,x.yaml,\n", "is not a variant id"),
    ("id,seed,index,file,varied\nx-s7-001,7,1,../x.yaml,\n", "must be a .yaml file in the folder"),
    # a NUL in the name ended in a ValueError traceback when the file was looked for
    ("id,seed,index,file,varied\nx-s7-001,7,1,x\x00.yaml,\n",
     "must be a .yaml file in the folder"),
    ("id,seed,index,file,varied\nx-s7-001,7,1,x\x1b[2J.yaml,\n",
     "must be a .yaml file in the folder"),
    ("id,seed,index,file,varied\nx-s7-001,7,1,\"x\r.yaml\",\n",
     "must be a .yaml file in the folder"),
])
def test_a_bad_index_is_one_clear_error(tmp_path: Path, index: str | None, message: str) -> None:
    if index is not None:
        (tmp_path / INDEX).write_text(index, encoding="utf-8")
    with pytest.raises(ProblemError, match=message.replace(".", r"\.")):
        read_variants(tmp_path)


def test_a_variant_file_that_links_out_of_the_folder_is_not_read(tmp_path: Path) -> None:
    """What check --variants refused, course read: a variant file that is a link to a
    file outside the folder (course would publish that file's numbers)."""
    from helpers import run_cli

    folder, outside = tmp_path / "course", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    written = _variants("lecture_122", 2)
    _write(folder, written)
    name = variant_file(written[1].id)
    (folder / name).rename(outside / name)
    (folder / name).symlink_to(outside / name)
    with pytest.raises(ProblemError, match="is a link that leads outside the folder"):
        read_variants(folder)
    (tmp_path / "out").mkdir()
    result = run_cli("course", "course", "--only", "key", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "is a link that leads outside the folder of " \
        "variants" in result.stderr, result.stderr
    assert not any((tmp_path / "out").iterdir())
