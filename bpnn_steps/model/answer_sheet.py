"""A student's answers as read from an answer file: every number with the text and
precision it was written with, every formula as written, by quantity."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .quantities import Quantity
from ..numfmt import decimals_written


@dataclass(frozen=True)
class Precision:
    """How precisely a number was written: ``0.270`` has 3 decimals, 3 figures,
    and its last written place is 0.001."""

    decimals: int
    figures: int
    ulp: float

    @classmethod
    def of(cls, text: str) -> "Precision | None":
        clean = text.strip().replace("_", "")
        m = re.fullmatch(r"[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", clean)
        if m is None or not (m.group(1) or m.group(2)):
            return None
        exponent = int(m.group(3) or 0)
        digits = (m.group(1) or "") + (m.group(2) or "")
        figures = len(digits.lstrip("0"))
        return cls(decimals=decimals_written(clean), figures=figures,
                   ulp=10.0 ** (exponent - len(m.group(2) or "")))


@dataclass(frozen=True)
class Cell:
    """One answered number: its value (NaN when blank or unreadable), the text as
    written, its precision (None for formulas other than a plain number), and the
    reason it could not be read."""

    value: float
    text: str | None
    precision: Precision | None
    line: int | None
    error: str | None = None
    formula: bool = False          # written as a quoted formula (not a plain number)

    @property
    def blank(self) -> bool:
        return self.text is None and self.error is None


BLANK = Cell(math.nan, None, None, None)


@dataclass(frozen=True, eq=False)
class Given:
    """The student's answer for one numeric key."""

    key: str                       # as written in the file
    quantity: Quantity
    line: int | None
    cells: tuple[Cell, ...]        # row-major over the expected shape
    shape: tuple[int, ...]         # the expected shape
    transposed: bool = False       # a matrix written with rows and columns swapped

    def cell(self, index: tuple[int, ...]) -> Cell:
        return self.cells[int(np.ravel_multi_index(index, self.shape)) if self.shape else 0]

    @property
    def values(self) -> np.ndarray:
        """Given numbers in the expected shape, NaN where blank or unreadable."""
        return np.array([c.value for c in self.cells], dtype=float).reshape(self.shape)

    @property
    def complete(self) -> bool:
        return all(c.text is not None and c.error is None for c in self.cells)


@dataclass(frozen=True, eq=False)
class FormulaGiven:
    """The student's formulas for ``grad W[n](t)`` (a generic sample)."""

    key: str
    layer: int
    line: int | None
    cells: tuple[tuple[str | None, int | None], ...]   # (formula text or None, line), row-major
    shape: tuple[int, int]


@dataclass(frozen=True, eq=False)
class AnswerSheet:
    source: str                    # the answer file as named on the command line
    student: str
    problem_ref: str | None
    problem_line: int | None
    entries: tuple[Given, ...]
    formulas: tuple[FormulaGiven, ...]

    @property
    def max_update(self) -> int:
        return max((g.quantity.update for g in self.entries), default=0)
