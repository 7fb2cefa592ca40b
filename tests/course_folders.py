"""Folders of variants for the course tests, written the way ``bpnn-steps
variants`` writes them (a problem file per variant and index.csv), with new
weights drawn here so that every variant has its own numbers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.files.problem_writer import problem_text
from bpnn_steps.files.variant_folder import INDEX, index_text, variant_file
from bpnn_steps.model.variant import Variant, variant_id


def make_variants(name: str, count: int, seed: int = 7, title: str | None = None
                  ) -> list[Variant]:
    """``count`` variants of a bundled problem: weights one decimal in [-0.5, 0.5]
    (no zero), drawn from ``seed``; ``title`` replaces the problem's title."""
    base = load_problem(name)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(1, count + 1):
        ident = variant_id(name, seed, i)
        weights = []
        for w in base.initial_weights():
            drawn = rng.integers(1, 6, size=w.shape) * rng.choice([-1, 1], size=w.shape)
            weights.append(drawn / 10)
        problem = replace(base.with_weights(tuple(weights)), variant=ident)
        if title is not None:
            problem = replace(problem, title=title)
        out.append(Variant(ident, problem, tuple(f"W{n}" for n in range(1, len(weights) + 1))))
    return out


def write_folder(folder: Path, variants: list[Variant]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for v in variants:
        (folder / variant_file(v.id)).write_text(problem_text(v.problem, ["test"]),
                                                 encoding="utf-8")
    (folder / INDEX).write_text(index_text(variants), encoding="utf-8")
    return folder
