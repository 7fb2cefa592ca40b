"""The answer key of a course as CSV: one row per variant, its id, then one column
per entry a student computes (named by ``answer_entries.entry_label``), each the
trace's value rounded to the sheet's decimals.

The columns are the same for every variant, in the lecture's order, so a
spreadsheet can look a student's variant up and compare column by column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ..files.untrusted import csv_cell
from .answer_entries import VariantAnswers, answer_text

ID_COLUMN = "variant"


def answer_key_csv(answers: Sequence[VariantAnswers], decimals: int) -> str:
    """The answer key: a header (``variant``, then every entry's name) and a row per
    variant."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = answers[0].names if answers else ()
    writer.writerow((ID_COLUMN, *names))
    for a in answers:
        writer.writerow((csv_cell(a.variant.id),
                         *(answer_text(e.value, decimals) for e in a.entries)))
    return out.getvalue()
