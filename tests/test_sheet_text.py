"""What a reader of a solution sheet's PDF sees: every number of every quantity of
the updates the sheet works (the lecture's list, model.quantities, read from the
trace and rounded by the one number format), and the title as written.  The text
is pdftotext's, so a number TeX lost (a box cut off, a scaled matrix with a
missing column, a line past the edge) fails here.

Compiles go through test_export's TeX cache: the same sources as test_export and
test_sheets_fit compile once."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from bpnn_steps.model.quantities import update_quantities, value_in
from bpnn_steps.numfmt import DEFAULT_DECIMALS, fmt
from bpnn_steps.present.report import select_steps
from test_export import BUNDLED, bundled_sheet, bundled_trace, compile_sheet, needs_tex
from test_sheets_fit import _printed

# pdftotext writes TeX's minus as U+2212 and may keep its ligatures as one glyph.
_GLYPHS = str.maketrans({"−": "-", "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"})


def _normalised(text: str) -> str:
    return text.translate(_GLYPHS)


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    """name -> (trace, page texts) of every bundled problem's solution sheet."""
    needs_tex()
    folder = tmp_path_factory.mktemp("text")
    def build(name: str):
        code, error, pages, _ = compile_sheet(bundled_sheet(name, "solution"),
                                              folder, f"{name}-solution")
        assert code == 0, f"{name}: {error}"
        return bundled_trace(name), pages

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(BUNDLED, pool.map(build, BUNDLED)))


def _printed_number(value: float) -> re.Pattern[str]:
    """A number as the sheet prints it: 1.5e-05 is set as 1.5 × 10⁻⁵, which
    pdftotext writes with the exponent on the line above or beside."""
    text = fmt(value, DEFAULT_DECIMALS)
    mantissa, e, _ = text.partition("e")
    if not e:
        return re.compile(r"(?<![\d.\-])" + re.escape(text) + r"(?!\d)")
    return re.compile(r"(?<![\d.\-])" + re.escape(mantissa) + r"\s*×\s*10")


_NUMBER_CHARS = re.compile(r"[\d.\-]+")
_DIGIT = re.compile(r"\d")
_TIMES_TEN = re.compile(r"\s*×\s*10")


class _PrintedNumbers:
    """Answers "does _printed_number(v) find v in this text?" for thousands of v
    with one pass over the text instead of one regex scan per number (the 21-sample
    sheet of line_1101_gd has 3,800 numbers in 1 MB of text: 30 s of scans).

    Exactly the same test.  A number's text (or an exponent's mantissa) is made of
    digits, '.' and '-', and the regex's lookbehind puts its start at the start of
    a maximal run of those characters.  A plain number's lookahead lets it end
    where the run ends or before a '.' or '-' in it: the numbers found are the run
    prefixes that end there.  A mantissa must be followed by "× 10", which no
    character of a run is: it is a whole run with "× 10" after it.  Any other text
    still goes through the regex."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: set[str] = set()
        self.mantissas: set[str] = set()
        for match in _NUMBER_CHARS.finditer(text):
            run = match.group()
            self.found.add(run)
            self.found.update(run[:i] for i in range(1, len(run))
                              if not _DIGIT.match(run[i]))
            if _TIMES_TEN.match(text, match.end()):
                self.mantissas.add(run)

    def has(self, value: float) -> bool:
        text = fmt(value, DEFAULT_DECIMALS)
        mantissa, e, _ = text.partition("e")
        if not _NUMBER_CHARS.fullmatch(mantissa):
            return bool(_printed_number(value).search(self.text))
        return mantissa in (self.mantissas if e else self.found)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_number_of_the_worked_updates_is_in_the_pdf(solutions, name):
    trace, pages = solutions[name]
    text = _normalised("\n".join(pages))
    printed = _PrintedNumbers(text)
    layers = trace.settings.layers
    checked = 0
    missing: list[str] = []
    for index in select_steps(len(trace.steps), "auto"):
        step = trace.steps[index - 1]
        for q in update_quantities(layers, step.samples, index):
            value = value_in(step, q)
            if value is None:
                continue
            for v in value.ravel().tolist():
                checked += 1
                if not printed.has(float(v)):
                    missing.append(f"update {index} {q.kind} n={q.layer} t={q.sample}: "
                                   f"{fmt(float(v), DEFAULT_DECIMALS)}")
    assert checked
    assert not missing, f"{len(missing)} of {checked} numbers missing: {missing[:8]}"


@pytest.mark.parametrize("name", BUNDLED)
def test_the_title_is_in_the_pdf_as_written(solutions, name):
    trace, pages = solutions[name]
    title = trace.settings.title
    assert title
    assert _printed(title).search(_normalised("\n".join(pages))), title
