"""The marking report of ``bpnn-steps check`` laid out with rich: a table with
coloured marks on a terminal, the same table as plain text for files and pipes.

The words come from :mod:`bpnn_steps.present.marking_report`; this module only
chooses columns, widths and styles.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ..marking.marker import BLANK, CORRECT, FOLLOW_THROUGH, INVALID, WRONG
from ..present.marking_report import (MarkingReport, gradebook_columns, gradebook_rows,
                                      marking_report)

if TYPE_CHECKING:
    from ..marking.gradebook import Gradebook
    from ..marking.marker import CheckResult

MARK_STYLES: Mapping[str, str] = {CORRECT: "green", FOLLOW_THROUGH: "green", WRONG: "bold red",
                                  BLANK: "dim", INVALID: "bold red"}
PLAIN_WIDTH = 120      # files and pipes: wide enough that notes rarely wrap


def marking_renderables(report: MarkingReport) -> list[RenderableType]:
    """The header, the table (one row per answered number, grouped by answer-file
    key), the score and the mistakes."""
    out: list[RenderableType] = [Text(line) for line in report.header]
    if report.rows:
        table = _table()
        table.add_column("entry", no_wrap=True)
        table.add_column("mark", no_wrap=True)
        table.add_column("given", justify="right", no_wrap=True, max_width=20)
        table.add_column("expected", justify="right", no_wrap=True, max_width=22)
        table.add_column("note", min_width=30, ratio=1)
        for row in report.rows:
            if row.mark is None:
                table.add_row(Text(row.entry, style="bold"), "", "", "", Text(row.note))
            else:
                table.add_row(Text(row.entry), Text(row.glyph, style=MARK_STYLES[row.mark]),
                              Text(row.given), Text(row.expected), Text(row.note))
        out.append(table)
    elif report.nothing_shown:
        out.append(Text(report.nothing_shown))
    out.append(Text(report.score, style="bold"))
    if report.mistakes:
        out.append(Text(report.mistakes))
    return out


def marking_text(result: CheckResult, decimals: int = 3, wrong_only: bool = False,
                 width: int = PLAIN_WIDTH) -> str:
    """The marking report as plain text (files, pipes, tests)."""
    return plain_text(marking_renderables(marking_report(result, decimals, wrong_only)), width)


def gradebook_table(book: Gradebook) -> Table:
    """One row per answer file of a batch: file, student, score, %, mistakes."""
    table = _table()
    for name in gradebook_columns(book):
        table.add_column(name, justify="right" if name in ("score", "%") else "left",
                         overflow="fold")
    for row in gradebook_rows(book):
        table.add_row(*(Text(cell) for cell in row))
    return table


def plain_text(renderables: Iterable[RenderableType], width: int = PLAIN_WIDTH) -> str:
    """Renderables printed without colour or terminal codes, trailing spaces cut."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None,
                      force_terminal=False, emoji=False)
    for item in renderables:
        console.print(item)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _table() -> Table:
    return Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)


def gradebook_text(book: Gradebook) -> str:
    """The batch report as plain text: the table of files, then the class summary."""
    from ..marking.gradebook import summary_lines

    return plain_text([gradebook_table(book)]) + "\n".join(summary_lines(book)) + "\n"
