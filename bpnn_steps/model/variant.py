"""A variant of a problem: the same network, loss and settings with new numbers.

A course gives every student their own numbers.  ``bpnn-steps variants`` writes
each variant as a complete problem file named by its id; the course outputs
(sheets, Moodle, GIFT, the answer key) and ``check`` read them back as
:class:`Variant` records.  The id says where the variant came from, so the same
base file, seed and index always give the same id (and the same numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .problem import Problem

# A variant's id: the base problem's name, the seed and the 1-based index,
# e.g. lecture_122-s7-003.  The index has at least three digits so that ids sort
# in index order in a file manager.
# At most 19 digits for the seed (below 2**63) and 9 for the index: int() refuses
# a run of over 4,300 digits, and a hand-made id of 5,000 ended in a traceback.
_ID = re.compile(r"(?P<base>.+)-s(?P<seed>\d{1,19})-(?P<index>\d{3,9})")


# What a file's ``variant:`` must be, said by each reader that finds another text.
NOT_AN_ID = "must be a variant id such as lecture_122-s7-003 (as 'bpnn-steps variants' names them)"


def id_base(stem: str) -> str:
    """The name the ids of a problem file's variants start with: the file's stem,
    each character other than a letter, a digit, '_', '.' or '-' written '_', and no
    leading '-'.  The id names the variant's file and a cell of index.csv and of
    the answer key: a stem such as '=HYPERLINK(...)' or one that is not UTF-8 made
    a formula cell, or a file name no encoding could write."""
    base = "".join(c if c.isalnum() or c in "_.-" else "_" for c in stem)
    return "_" + base[1:] if base.startswith("-") else base or "problem"


def variant_id(base: str, seed: int, index: int) -> str:
    """The id of variant ``index`` (1-based) of ``base`` drawn with ``seed``."""
    if seed < 0 or index < 1:
        raise ValueError(f"no variant id for seed {seed}, index {index}")
    return f"{base}-s{seed}-{index:03d}"


@dataclass(frozen=True)
class VariantId:
    """A variant id taken apart: the base problem's name, the seed, the index."""

    base: str
    seed: int
    index: int

    @classmethod
    def parse(cls, text: str) -> VariantId | None:
        """The parts of an id written by :func:`variant_id`, or None."""
        m = _ID.fullmatch(text.strip())
        if m is None:
            return None
        return cls(m["base"], int(m["seed"]), int(m["index"]))

    def __str__(self) -> str:
        return variant_id(self.base, self.seed, self.index)


@dataclass(frozen=True, eq=False)
class Variant:
    """One variant: its id, the problem it is (``problem.variant`` is the id), and
    what was drawn anew (e.g. ``("W1", "W2", "x", "y", "learning_rate")``)."""

    id: str
    problem: Problem
    varied: tuple[str, ...] = ()

    @property
    def parts(self) -> VariantId | None:
        return VariantId.parse(self.id)
