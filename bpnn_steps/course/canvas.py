"""A course as a Canvas quiz package (QTI 1.2, zipped): one quiz per variant, one
numerical question per entry a student computes.

Why this shape, and why not text2qti: Canvas's classic quizzes have no question
with several numeric blanks ("fill in multiple blanks" compares text, not
numbers), and a question group draws single questions, not a whole variant; so
each variant is a quiz of its own, which the lecturer assigns to its students
("Assign to").  text2qti (the well-kept Markdown-to-QTI tool) writes the same
numerical questions, but one quiz per package (200 imports for 200 variants),
from a text format that would need an escaping layer of its own, and brings two
dependencies; the QTI it writes is small, so this module writes the same
structure directly, all quizzes in one package.

A numerical question is right for the answer at the sheet's decimals or any
number within the tolerance of it (the marking options' "as written"), as
Canvas writes "exact answer with margin": ``<varequal>`` or
``<vargte>``..``<varlte>``.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from decimal import Decimal

from ..marking.diagnose import Tolerance
from .answer_entries import VariantAnswers, answer_text, answer_tolerance, tolerance_text

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
# A zip entry's time: fixed, so the same course gives the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def quiz_ident(variant: str) -> str:
    """A QTI identifier for a variant's quiz: ASCII letters, digits, - and _ as they
    are, '.' as '..' and any other character as '.HEX.' (its code point), so that
    two ids never share one (writing each other character '_' made 'a b-s1-001' and
    'a_b-s1-001' one quiz)."""
    def part(c: str) -> str:
        if c.isascii() and (c.isalnum() or c in "-_"):
            return c
        return ".." if c == "." else f".{ord(c):x}."

    return "bpnn_" + "".join(map(part, variant))


def answer_range(answer: str, tolerance: str) -> tuple[str, str]:
    """The lowest and highest accepted number, in decimal (no binary rounding)."""
    a, t = Decimal(answer), Decimal(tolerance)
    return str(a - t), str(a + t)


def canvas_zip(answers: Sequence[VariantAnswers], decimals: int,
               tolerance: Tolerance | None = None) -> bytes:
    """The QTI package: a manifest, and per variant its quiz and quiz settings."""
    from .moodle import statement_html

    tol = tolerance_text(answer_tolerance(decimals, tolerance))
    files: dict[str, bytes] = {}
    for a in answers:
        ident = quiz_ident(a.variant.id)
        files[f"{ident}/{ident}.xml"] = _xml(_assessment(a, ident, decimals, tol))
        files[f"{ident}/assessment_meta.xml"] = _xml(
            _meta(a, ident, statement_html(a, decimals, picture=False)))
    files["imsmanifest.xml"] = _xml(_manifest([quiz_ident(a.variant.id) for a in answers]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ["imsmanifest.xml", *(n for n in files if n != "imsmanifest.xml")]:
            z.writestr(zipfile.ZipInfo(name, _ZIP_TIME), files[name],
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, "utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _field(parent: ET.Element, label: str, entry: str) -> None:
    f = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(f, "fieldlabel").text = label
    ET.SubElement(f, "fieldentry").text = entry


def _assessment(a: VariantAnswers, ident: str, decimals: int, tol: str) -> ET.Element:
    import html

    root = ET.Element("questestinterop", xmlns=QTI_NS)
    assessment = ET.SubElement(root, "assessment", ident=ident, title=f"Variant {a.variant.id}")
    _field(ET.SubElement(assessment, "qtimetadata"), "cc_maxattempts", "1")
    section = ET.SubElement(assessment, "section", ident="root_section")
    for k, e in enumerate(a.entries, start=1):
        answer = answer_text(e.value, decimals)
        low, high = answer_range(answer, tol)
        item = ET.SubElement(section, "item", ident=f"{ident}_q{k}", title=e.name)
        meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
        _field(meta, "question_type", "numerical_question")
        _field(meta, "points_possible", "1")
        material = ET.SubElement(ET.SubElement(item, "presentation"), "material")
        ET.SubElement(material, "mattext", texttype="text/html").text = (
            f"<p>{html.escape(e.symbol)} ({html.escape(e.name)}) = ? "
            f"({decimals} decimals)</p>")
        presentation = item.find("presentation")
        assert presentation is not None
        response = ET.SubElement(presentation, "response_str", ident="response1",
                                 rcardinality="Single")
        ET.SubElement(ET.SubElement(response, "render_fib", fibtype="Decimal"),
                      "response_label", ident="answer1")
        processing = ET.SubElement(item, "resprocessing")
        ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", maxvalue="100",
                      minvalue="0", varname="SCORE", vartype="Decimal")
        condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
        either = ET.SubElement(ET.SubElement(condition, "conditionvar"), "or")
        ET.SubElement(either, "varequal", respident="response1").text = answer
        both = ET.SubElement(either, "and")
        ET.SubElement(both, "vargte", respident="response1").text = low
        ET.SubElement(both, "varlte", respident="response1").text = high
        ET.SubElement(condition, "setvar", action="Set", varname="SCORE").text = "100"
    return root


def _meta(a: VariantAnswers, ident: str, statement: str) -> ET.Element:
    root = ET.Element("quiz", identifier=ident, xmlns=CANVAS_NS)
    points = f"{len(a.entries)}.0"
    for tag, text in (("title", f"Variant {a.variant.id}"), ("description", statement),
                      ("shuffle_answers", "false"), ("scoring_policy", "keep_highest"),
                      ("quiz_type", "assignment"), ("points_possible", points),
                      ("show_correct_answers", "true"), ("allowed_attempts", "1"),
                      ("one_question_at_a_time", "false"), ("available", "false")):
        ET.SubElement(root, tag).text = text
    assignment = ET.SubElement(root, "assignment", identifier=f"{ident}_assignment")
    for tag, text in (("title", f"Variant {a.variant.id}"), ("workflow_state", "unpublished"),
                      ("quiz_identifierref", ident), ("points_possible", points),
                      ("grading_type", "points"), ("submission_types", "online_quiz")):
        ET.SubElement(assignment, tag).text = text
    return root


def _manifest(idents: Sequence[str]) -> ET.Element:
    root = ET.Element("manifest", identifier="bpnn_steps_course", xmlns=MANIFEST_NS)
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    for ident in idents:
        quiz = ET.SubElement(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
        ET.SubElement(quiz, "file", href=f"{ident}/{ident}.xml")
        ET.SubElement(quiz, "dependency", identifierref=f"{ident}_meta")
        meta = ET.SubElement(resources, "resource", identifier=f"{ident}_meta",
                             type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                             href=f"{ident}/assessment_meta.xml")
        ET.SubElement(meta, "file", href=f"{ident}/assessment_meta.xml")
    return root
