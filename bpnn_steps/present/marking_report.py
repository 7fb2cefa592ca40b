"""What the marking report of ``bpnn-steps check`` says, as plain strings.

The header, one row per answered number grouped by answer-file key, the score
and the mistakes; for a batch, one row per answer file.  How they are laid out
(a rich table, colours) is :mod:`bpnn_steps.render.marking_table`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..marking.marker import BLANK, CORRECT, FOLLOW_THROUGH, INVALID, WRONG
from ..files.untrusted import clean_text
from ..numfmt import MINUS, fmt

if TYPE_CHECKING:
    from ..marking.gradebook import Gradebook
    from ..marking.marker import CheckResult, EntryResult, GroupResult

# How a mark is written in the report (the README's table explains them).
MARK_GLYPHS: Mapping[str, str] = {CORRECT: "✓", FOLLOW_THROUGH: "✓ f/t", WRONG: "✗",
                                  BLANK: "–", INVALID: "✗ ?"}

# The score line names the marks in this order; "invalid" reads "unreadable".
_SCORE_WORDS = ((FOLLOW_THROUGH, "follow-through"), (WRONG, "wrong"), (BLANK, "blank"),
                (INVALID, "unreadable"))


@dataclass(frozen=True)
class MarkedRow:
    """One row of the report: an answer-file key (``mark`` None) or one of its numbers."""

    entry: str
    mark: str | None        # one of the marker's marks; None for a key's heading row
    given: str = ""
    expected: str = ""
    note: str = ""

    @property
    def glyph(self) -> str:
        return "" if self.mark is None else MARK_GLYPHS[self.mark]


@dataclass(frozen=True)
class MarkingReport:
    header: tuple[str, ...]            # which file, which problem, what was accepted
    rows: tuple[MarkedRow, ...]        # empty: nothing to show
    nothing_shown: str | None          # said instead of an empty table (--wrong-only)
    score: str
    mistakes: str | None


def marking_report(result: CheckResult, decimals: int = 3,
                   wrong_only: bool = False) -> MarkingReport:
    """The report of one marked answer file; ``decimals``: the least decimals of the
    expected values; ``wrong_only``: only the entries that are not right."""
    from ..marking.diagnose import MISTAKES

    rows: list[MarkedRow] = []
    for group in result.groups:
        entries = [e for e in group.entries if not wrong_only or e.mark != CORRECT]
        if not entries:
            continue
        rows.append(MarkedRow(group.label, None, note=_group_note(group)))
        rows += [_entry_row(e, decimals) for e in entries]
    mistakes = result.mistakes()
    return MarkingReport(
        header=_header(result),
        rows=tuple(rows),
        nothing_shown="Every answer is right." if wrong_only and not rows else None,
        score=score_line(result),
        mistakes=("Mistakes: " + "; ".join(
            f"{MISTAKES.get(c, c)} ({n} entr{'y' if n == 1 else 'ies'})"
            for c, n in mistakes.items())) if mistakes else None)


def _header(result: CheckResult) -> tuple[str, ...]:
    who = f" ({result.student})" if result.student else ""
    title = f"{result.problem_title} " if result.problem_title else ""
    tol = result.options.tolerance
    rules = []
    if tol.as_written:
        rules.append(f"as written (at least {tol.min_figures} significant figures or "
                     f"{tol.min_decimals} decimals)")
    rules.append(f"abs {tol.abs_tol:g}, rel {tol.rel_tol:g}")
    if result.options.round_as_you_go is not None:
        rules.append(f"rounding every step to {result.options.round_as_you_go} d.p.")
    rules.append("follow-through " + ("on" if result.options.follow_through else "off"))
    # the file names as the user or the student chose them, shown safely; a problem
    # read from a file by where it is (a regrade of one student's file must show
    # that its problem is the student's own copy beside it, not the bundled one)
    answers, problem = clean_text(result.answers), clean_text(_problem_place(result))
    return (f"Checking {answers}{who}", f"Problem: {title}[{problem}]",
            "Accepted: " + "; ".join(rules))


def _problem_place(result: CheckResult) -> str:
    """The problem as named, or, when it was read from a file other than a bundled
    one, that file's path from the current folder."""
    import os

    from ..files.bundled import BUNDLED_DIR

    source = result.source
    if not source or not os.path.isabs(source) or result.variant or \
            os.path.dirname(source) == str(BUNDLED_DIR.resolve()):
        return result.problem
    try:
        return os.path.relpath(source)
    except ValueError:          # another drive
        return source


def _group_note(group: GroupResult) -> str:
    where = f"line {group.line}" if group.line else ""
    return where + (": " + group.note if group.note and where else group.note or "")


def _entry_row(e: EntryResult, decimals: int) -> MarkedRow:
    given = "" if e.given_text is None else e.given_text
    if given.startswith("-") and e.given is not None:
        given = MINUS + given[1:]
    if e.expected_text is not None:
        expected = e.expected_text
    elif e.expected is None:
        expected = ""
    else:
        expected = fmt(e.expected, max(decimals, e.decimals), minus=MINUS)
    return MarkedRow("  " + e.name, e.mark, given, expected, e.message)


def score_line(result: CheckResult) -> str:
    """``Score: 33/43 (76.7%): 33 correct, 10 wrong``."""
    parts = [f"{result.count(CORRECT)} correct"]
    parts += [f"{result.count(mark)} {word}" for mark, word in _SCORE_WORDS
              if result.count(mark)]
    return (f"Score: {result.credited}/{result.total} ({result.percent:.1f}%): "
            + ", ".join(parts))


# --------------------------------------------------------------------------- batch


GRADEBOOK_COLUMNS = ("file", "student", "score", "%", "mistakes")


def gradebook_columns(book: Gradebook) -> tuple[str, ...]:
    """:data:`GRADEBOOK_COLUMNS`, with the variant after the student when the class
    answered variants."""
    return GRADEBOOK_COLUMNS[:2] + ("variant",) * book.by_variant + GRADEBOOK_COLUMNS[2:]


def gradebook_rows(book: Gradebook) -> tuple[tuple[str, ...], ...]:
    """One row per answer file of a batch, in :func:`gradebook_columns`."""
    rows = []
    for r in book.rows:
        who = (r.file, r.student) + (r.variant,) * book.by_variant
        if r.result is None:
            rows.append(who + ("", "", f"error: {r.error}"))
            continue
        res = r.result
        causes = ", ".join(f"{c} ×{n}" for c, n in res.mistakes().items())
        if r.flag:              # the reason is in the summary below the table
            causes = "flagged" + (f"; {causes}" if causes else "")
        rows.append(who + (f"{res.credited}/{res.total}", f"{res.percent:.1f}", causes))
    return tuple(rows)
