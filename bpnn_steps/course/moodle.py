"""A course as Moodle XML: one embedded-answers (Cloze) question per variant, all
in one question category, so that a quiz's random question from that category
gives every student one variant.

Each question states its variant's problem (data, initial weights, the network
as an SVG picture stored in the file), then asks for every entry a student
computes (``answer_entries``) with a NUMERICAL field ``{1:NUMERICAL:=0.550:0.0005
#feedback~%0%*#feedback}``: the answer at the sheet's decimals, the tolerance
from the marking options, and feedback naming the quantity for a right and for
any other answer.

Moodle reads a Cloze text with ``qtype_multianswer_extract_question``
(question/type/multianswer/questiontype.php): a field is ``{N:TYPE:...}``,
alternatives end at ``~``, ``#`` or ``}`` unless a backslash (or, for ``#``, an
``&``) precedes them, a feedback ends at ``~`` or ``}``, and afterwards only
``\\}`` and ``\\#`` are unescaped and the feedback is HTML-entity-decoded.  So
every text of ours inside a question - the statement, a title, a feedback - is
written with the characters the parser reads (``{ } # ~ / " \\``) and HTML's
``< > &`` as character references: none of them can open, end or split a field,
and each shows as itself (a backslash escape such as ``\\~`` would show its
backslash).  A feedback is decoded once more than the question text, so it is
escaped once more.
"""

from __future__ import annotations

import base64
import html
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

from ..marking.diagnose import Tolerance
from ..model.notation import Expr
from ..model.quantities import Extent, Quantity, symbol
from ..present.blocks import (Block, Diagram, Display, Document, Equations, Heading, Table,
                              Text)
from .answer_entries import (AnswerEntry, VariantAnswers, answer_text, answer_tolerance,
                             tolerance_text)

DIAGRAM_FILE = "network.svg"
# The characters Moodle's Cloze parser reads, and HTML's, as character references.
# In this order: & and # first, as the references written for the others hold them.
_CLOZE_REFERENCES = (("&", "&amp;"), ("#", "&#35;"), ("<", "&lt;"), (">", "&gt;"),
                     ('"', "&quot;"), ("{", "&#123;"), ("}", "&#125;"), ("~", "&#126;"),
                     ("/", "&#47;"), ("\\", "&#92;"))


def cloze_text(text: str) -> str:
    """Plain text for the HTML of a Cloze question: shows as written, and no
    character of it is one the Cloze parser acts on."""
    for c, reference in _CLOZE_REFERENCES:
        if c in text:
            text = text.replace(c, reference)
    return text


def cloze_feedback(text: str) -> str:
    """Plain text for a field's feedback, which Moodle HTML-decodes once before
    storing it as HTML: escaped for HTML, then as :func:`cloze_text`."""
    return cloze_text(html.escape(text, quote=True))


def cloze_field(entry: AnswerEntry, decimals: int, tolerance: Tolerance | None = None) -> str:
    """One NUMERICAL field (one mark) with feedback for a right and any other answer."""
    return _field(entry, decimals, tolerance_text(answer_tolerance(decimals, tolerance)))


def _field(entry: AnswerEntry, decimals: int, tol: str) -> str:
    answer = answer_text(entry.value, decimals)
    said = f"{entry.symbol} ({entry.name}) = {answer}"
    return (f"{{1:NUMERICAL:={answer}:{tol}#{cloze_feedback('Right: ' + said)}"
            f"~%0%*#{cloze_feedback(said + ', within ' + tol)}}}")


def category_path(name: str) -> str:
    """A category under the course's top category (a / in the name is written //,
    as Moodle reads a category path)."""
    return "$course$/top/" + name.replace("/", "//")


def moodle_xml(answers: Sequence[VariantAnswers], decimals: int, category: str,
               tolerance: Tolerance | None = None) -> str:
    """The Moodle XML of a course: a category, then one Cloze question per variant."""
    quiz = ET.Element("quiz")
    head = ET.SubElement(quiz, "question", type="category")
    ET.SubElement(ET.SubElement(head, "category"), "text").text = category_path(category)
    info = ET.SubElement(head, "info", format="html")
    ET.SubElement(info, "text").text = cloze_text(
        f"{len(answers)} variants written by bpnn-steps; a random question from this "
        "category gives each student one variant.")
    for a in answers:
        quiz.append(cloze_question(a, decimals, tolerance))
    ET.indent(quiz, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, "unicode") + "\n"


def cloze_question(a: VariantAnswers, decimals: int, tolerance: Tolerance | None = None
                   ) -> ET.Element:
    """The Cloze question of one variant (its diagram stored with it)."""
    from ..render.diagram_svg import network_svg

    trace = a.trace
    s = trace.settings
    question = ET.Element("question", type="cloze")
    title = s.title or a.variant.id
    ET.SubElement(ET.SubElement(question, "name"), "text").text = f"{a.variant.id} {title}"
    text = ET.SubElement(question, "questiontext", format="html")
    ET.SubElement(text, "text").text = question_html(a, decimals, tolerance)
    svg = network_svg(s.layers, s.activations, trace.steps[0].weights_before, decimals)
    ET.SubElement(text, "file", name=DIAGRAM_FILE, path="/", encoding="base64").text = \
        base64.b64encode(svg.encode("utf-8")).decode("ascii")
    feedback = ET.SubElement(question, "generalfeedback", format="html")
    ET.SubElement(feedback, "text").text = ""
    ET.SubElement(question, "penalty").text = "0"
    ET.SubElement(question, "hidden").text = "0"
    ET.SubElement(question, "idnumber").text = a.variant.id
    return question


def statement_html(a: VariantAnswers, decimals: int, picture: bool = True) -> str:
    """The problem of a variant as HTML (every text as :func:`cloze_text`), with
    the picture of the network stored in the question when ``picture``."""
    from ..present.report import report_title
    from ..present.sheet import statement_blocks

    trace = a.trace
    out = [f"<h3>{cloze_text(report_title(trace))}</h3>",
           f"<p>Variant {cloze_text(a.variant.id)}</p>"]
    if a.note:
        out.append(f"<p>{cloze_text(a.note)}</p>")
    # The picture where the statement's own Diagram block stands (matching a text
    # that starts "A " put it after a description that did too, twice).
    for block in statement_blocks(trace, diagram=picture):
        if isinstance(block, Diagram):
            out.append(f'<p><img src="@@PLUGINFILE@@/{DIAGRAM_FILE}" '
                       f'alt="{cloze_text(_diagram_alt(a))}"></p>')
        else:
            out.append(_block_html(block, decimals))
    return "\n".join(out)


def question_html(a: VariantAnswers, decimals: int, tolerance: Tolerance | None = None) -> str:
    """The question text: the problem, the picture, then a field per entry."""
    trace = a.trace
    out = [statement_html(a, decimals)]
    out.append("<h4>Tasks</h4>")
    out.append(f"<p>{cloze_text(_task_text(a, decimals))}</p>")
    depth = len(trace.settings.layers) - 1
    updates = len(trace.steps)
    tol = tolerance_text(answer_tolerance(decimals, tolerance))
    update = 0
    for q, entries in _by_quantity(a.entries):
        if updates > 1 and q.update != update:
            update = q.update
            out.append(f"<h4>Update {update}</h4>")
        name = cloze_text(entries[0].name.rsplit("[", 1)[0] if entries[0].index
                          else entries[0].name)
        whole = cloze_text(_unicode(symbol(q, depth), decimals))
        if q.spec.extent is Extent.WEIGHTS:
            rows = 1 + max(e.index[0] for e in entries)
            cells = [[""] * (1 + max(e.index[1] for e in entries)) for _ in range(rows)]
            for e in entries:
                cells[e.index[0]][e.index[1]] = _field(e, decimals, tol)
            body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
                           for row in cells)
            out.append(f"<p>{whole} ({name}), row 0 = biases:</p><table>{body}</table>")
        else:
            fields = " &nbsp; ".join(f"{cloze_text(e.symbol)} = {_field(e, decimals, tol)}"
                                     for e in entries)
            out.append(f"<p>{fields}</p>")
    return "\n".join(out)


def _by_quantity(entries: Sequence[AnswerEntry]) -> Iterator[tuple[Quantity, list[AnswerEntry]]]:
    group: list[AnswerEntry] = []
    for e in entries:
        if group and e.quantity != group[0].quantity:
            yield group[0].quantity, group
            group = []
        group.append(e)
    if group:
        yield group[0].quantity, group


def _unicode(expr: Expr, decimals: int) -> str:
    from ..render.spelling import expr_unicode

    return expr_unicode(expr, decimals)


def _task_text(a: VariantAnswers, decimals: int) -> str:
    what = "the update" if len(a.trace.steps) == 1 else f"the {len(a.trace.steps)} updates"
    return (f"Carry out {what} by hand: the feed-forward, the back-propagated deltas and "
            f"gradients, their mean and the new weights. Give each number to {decimals} "
            "decimals; weight matrices have row 0 = biases.")


def _diagram_alt(a: VariantAnswers) -> str:
    s = a.trace.settings
    return (f"The {'-'.join(str(n) for n in s.layers)} network with its initial weights "
            "on the arrows")


def _block_html(block: Block, decimals: int) -> str:
    """A block of the problem statement as HTML (its maths as the terminal spells it)."""
    if isinstance(block, Heading):
        return f"<h4>{cloze_text(block.text)}</h4>"
    if isinstance(block, Text):
        return f"<p>{cloze_text(block.text)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{cloze_text(h)}</th>" for h in block.headers)
        rows = "".join("<tr>" + "".join(f"<td>{cloze_text(c)}</td>" for c in row) + "</tr>"
                       for row in block.rows)
        return f'<table border="1"><tr>{head}</tr>{rows}</table>'
    if isinstance(block, (Display, Equations)):
        from ..render.registry import renderer

        text = renderer("text").render(Document("", (block,)), decimals).strip()
        return f"<p>{cloze_text(text)}</p>"
    raise TypeError(f"a Moodle question cannot show {block!r}")
