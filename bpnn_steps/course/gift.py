"""A course as GIFT, Moodle's plain-text question format.

GIFT has no question with several numeric blanks, so each variant is a category
of its own: a description (the problem, in HTML) followed by one numerical
question per entry a student computes, ``{#0.550:0.0005#feedback}`` (the answer
at the sheet's decimals, the tolerance from the marking options, feedback naming
the quantity).  Every text is escaped: GIFT's special characters
``~ = # { } :`` and the backslash get a backslash, HTML's ``< > &`` become
entities, and a line break becomes a space (a blank line would end a question).
For one variant per student in Moodle, use the Moodle XML (one Cloze question
per variant in one category).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..marking.diagnose import Tolerance
from .answer_entries import VariantAnswers, answer_text, answer_tolerance, tolerance_text

_GIFT_SPECIAL = "\\~=#{}:"
_GIFT_TABLE = str.maketrans({c: "\\" + c for c in _GIFT_SPECIAL})


def gift_text(text: str) -> str:
    """Plain text as GIFT [html] text: shows as written, nothing of it is GIFT syntax."""
    escaped = html.escape(" ".join(text.splitlines()), quote=False)
    return escaped.translate(_GIFT_TABLE)


def gift_category(path: str) -> str:
    """A ``$CATEGORY:`` line (one line; a / in a name is written //)."""
    return "$CATEGORY: $course$/top/" + " ".join(path.splitlines())


def gift(answers: Sequence[VariantAnswers], decimals: int, category: str,
         tolerance: Tolerance | None = None) -> str:
    """The GIFT of a course: per variant a category, a description, a numerical
    question per entry."""
    from .moodle import statement_html

    tol = tolerance_text(answer_tolerance(decimals, tolerance))
    out = [f"// {len(answers)} variants written by bpnn-steps; each variant is a category.",
           ""]
    for a in answers:
        ident = a.variant.id
        out += [gift_category(_category(category, ident)), ""]
        statement = statement_html(a, decimals, picture=False)
        out += [f"::{gift_text(ident + ' problem')}::[html]"
                + " ".join(statement.splitlines()).translate(_GIFT_TABLE), ""]
        for e in a.entries:
            said = f"{e.symbol} ({e.name}) = {answer_text(e.value, decimals)}"
            out += [f"::{gift_text(ident + ' ' + e.name)}::[html]"
                    f"<p>Variant {gift_text(ident)}\\: {gift_text(e.symbol)} "
                    f"({gift_text(e.name)}) \\= ?</p>"
                    f"{{#{answer_text(e.value, decimals)}:{tol}#{gift_text(said)}}}", ""]
    return "\n".join(out)


def _category(category: str, ident: str) -> str:
    return category.replace("/", "//") + "/" + ident.replace("/", "//")
