"""Sheets that fit: no sheet of any bundled problem (question, solution, both,
derivation), nor of a seeded sweep of random networks up to [4, 8, 8, 4], puts
anything past the page's edge (pdflatex's ``Overfull \\hbox`` in the log), and
titles print literally (checked in the PDF's text with pdftotext).

Compiles go through the TeX cache of test_export (same sources, same results), so
the bundled sheets compiled there are not compiled again."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.maths.engine import solve
from bpnn_steps.present.derivation import derivation_report, setting_of
from bpnn_steps.present.sheet import sheet_problem
from test_export import (BUNDLED, SHEETS, _random_problem, blocks_document, bundled_derivation,
                         bundled_sheet, bundled_trace, compile_sheet, needs_tex, sheet_document)

# The sweep: the largest network the issue names, each loss, and every activation;
# four samples each (_random_problem).  A title with what TeX would otherwise
# typeset differently: straight quotes, a double hyphen, a backslash, specials.
LITERAL_TITLE = "It's the \"4-8-8-4\" net -- `quoted' --- \\relax 50% & $x_1$"
SWEEP = {
    "sweep_4_8_8_4_mse": _random_problem([4, 8, 8, 4], ["sigmoid", "tanh", "linear"], "mse",
                                         method="sgd", seed=11, title=LITERAL_TITLE),
    "sweep_4_8_3_ce": _random_problem([4, 8, 3], ["relu", "softmax"], "ce", seed=12,
                                      title="softmax -- 'three' classes"),
    "sweep_3_8_4_bce": _random_problem([3, 8, 4], ["tanh", "sigmoid"], "bce",
                                       method="minibatch", batch_size=2, seed=13),
    "sweep_1_8_8_1_mse": _random_problem([1, 8, 8, 1], ["relu", "sigmoid", "linear"], "mse",
                                         seed=14),
}


def _derivation(prob) -> str:
    return blocks_document(derivation_report(prob.layers, prob.activations, prob.loss,
                                             title=prob.title, setting=setting_of(prob)),
                           prob.title)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """name -> (return code, first error, page texts, overfull lines) of every sheet."""
    needs_tex()
    folder = tmp_path_factory.mktemp("fit")
    jobs: dict[str, tuple[str, str]] = {}       # key -> (LaTeX, title)
    for name in BUNDLED:
        title = load_problem(name).title
        for sheet in SHEETS:
            jobs[f"{name}-{sheet}"] = (bundled_sheet(name, sheet), title)
        jobs[f"{name}-derivation"] = (bundled_derivation(name), title)
    for name, prob in SWEEP.items():
        jobs[f"{name}-both"] = (sheet_document(solve(prob), "both"), prob.title)
    jobs["sweep_4_8_8_4_mse-derivation"] = (_derivation(SWEEP["sweep_4_8_8_4_mse"]),
                                            LITERAL_TITLE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda k: compile_sheet(jobs[k][0], folder, k), jobs)
        return {key: (result, jobs[key][1]) for key, result in zip(jobs, results)}


KEYS = ([f"{name}-{sheet}" for name in BUNDLED for sheet in SHEETS + ("derivation",)]
        + [f"{name}-both" for name in SWEEP] + ["sweep_4_8_8_4_mse-derivation"])


def _printed(title: str) -> re.Pattern[str]:
    """``title`` character for character, wherever TeX may have broken its lines: at
    a space, or after a hyphen it added (``regularisa- tion``)."""
    chars = [re.escape(c) for c in title if not c.isspace()]
    return re.compile(r"(?:-\s+|\s*)".join(chars))


@pytest.mark.parametrize("key", KEYS)
def test_nothing_runs_off_the_page(fitted, key):
    (code, error, _, overfull), _ = fitted[key]
    assert code == 0, f"{key}: {error}"
    assert overfull == [], f"{key}: {len(overfull)} overfull boxes: {overfull[:5]}"


@pytest.mark.parametrize("key", KEYS)
def test_the_title_prints_literally(fitted, key):
    (code, error, pages, _), title = fitted[key]
    assert code == 0, f"{key}: {error}"
    if title:
        assert _printed(title).search("\n".join(pages)), f"{key}: {title!r} not in the PDF"


def test_the_sweep_title_is_one_of_the_hard_ones():
    """The literal-title check above is only worth something if the title holds what
    TeX would change: quotes, dashes, specials."""
    for hard in ("'", '"', "--", "`", "\\", "%", "&", "$", "_"):
        assert hard in LITERAL_TITLE


@pytest.mark.parametrize("sheet", SHEETS)
def test_the_description_prints_once(sheet):
    """The statement prints the problem's description; the worked solution after it
    (or the answer key after the question sheet) does not print it again."""
    import dataclasses

    from bpnn_steps.present.blocks import Text
    from bpnn_steps.present.sheet import sheet_blocks

    description = "Fit the 'hat' -- by hand."
    prob = dataclasses.replace(SWEEP["sweep_1_8_8_1_mse"], description=description)
    blocks = sheet_blocks(solve(prob), sheet)
    assert sum(isinstance(b, Text) and description in b.text for b in blocks) == 1


def test_the_description_prints_literally(tmp_path):
    import dataclasses

    needs_tex()
    description = "Don't -- say \"dash\": 'quoted' `ticks` 100% & more"
    prob = dataclasses.replace(SWEEP["sweep_1_8_8_1_mse"], description=description)
    code, error, pages, _ = compile_sheet(sheet_document(solve(prob), "question"), tmp_path,
                                          "described")
    assert code == 0, error
    assert _printed(description).search("\n".join(pages))


@pytest.mark.parametrize("name", ["deep_1221", "classification_121", "line_1101_gd"])
def test_a_row_of_answer_boxes_never_mixes_samples_that_do_not_all_fit(name):
    """More samples than fit in a row: one sample per row, so a column of boxes never
    puts sample 3 under sample 1."""
    from bpnn_steps.model.notation import Box
    from bpnn_steps.model.quantities import Kind
    from bpnn_steps.present.blocks import Equations
    from bpnn_steps.present.sheet import BOXES_PER_ROW, sheet_blocks

    trace = bundled_trace(name)
    rows = [row for block in sheet_blocks(trace, "question") if isinstance(block, Equations)
            for row in block.rows]
    checked = 0
    for row in rows:
        boxes = [tok.quantity for seg in row for tok in seg if isinstance(tok, Box)]
        if boxes and boxes[0].kind in (Kind.Z, Kind.A):
            samples = {q.sample for q in boxes}
            # mixed only when every sample of the update is in the row
            assert len(samples) == 1 or samples == set(trace.steps[0].samples), row
            assert len(boxes) <= BOXES_PER_ROW
            checked += 1
    assert checked


def test_a_single_output_bce_loss_has_one_pair_of_parentheses():
    """-([y ln yhat + (1 - y) ln(1 - yhat)]) wrapped one term twice; it reads
    -(y ln yhat + (1 - y) ln(1 - yhat)), balanced."""
    from helpers import run_cli

    out = run_cli("solve", "classification_121").stdout
    rows = [line for line in out.splitlines() if line.startswith("J₍")]
    assert rows
    for row in rows:
        assert "−([" not in row and "[" not in row, row
        assert row.count("(") == row.count(")"), row
        assert "−(y₁" in row and "ln(1 − ŷ₁" in row, row


def test_the_note_quotes_a_command_as_typed():
    """A cut training run's note names 'bpnn-steps train': straight quotes, as typed
    (text_latex would set two closing quotes)."""
    from bpnn_steps.present.sheet import sheet_document as sheet_doc
    from bpnn_steps.render.registry import render

    prob = load_problem("sine_181_sgd")
    cut, note = sheet_problem(prob)
    assert note and "'bpnn-steps train'" in note
    tex = render(sheet_doc(solve(cut), "question", note=note), "latex")
    assert r"{\ttfamily\char13}bpnn-{}steps train{\ttfamily\char13}" in tex


@pytest.mark.parametrize("name, pages", [("sine_181_sgd", 6), ("line_1101_gd", 25)])
def test_a_training_question_sheet_asks_for_the_first_update_and_says_so(fitted, name, pages):
    """A run longer than solve shows in full: the question sheet asks for update 1
    (by hand each update starts from the one before), says that the rest are not
    asked, and stays a sheet, not a book (line_1101_gd's one update is a batch of 21
    samples through ten hidden units: most of its pages are that update's boxes)."""
    from bpnn_steps.present.sheet import question_updates

    trace = bundled_trace(name)
    assert len(trace.steps) > 4
    assert question_updates(len(trace.steps)) == [1]
    assert question_updates(len(trace.steps), "1-3") == [1, 2, 3]     # as asked
    (code, error, texts, _), _ = fitted[f"{name}-question"]
    assert code == 0, error
    text = " ".join(" ".join(texts).split())
    assert f"The run has {len(trace.steps)} updates; this sheet asks for update 1 in full" \
        in text
    assert "Update 1 of" in text and "Update 2 of" not in text
    assert len(texts) <= pages


def test_a_short_run_question_sheet_asks_for_every_update():
    from bpnn_steps.present.sheet import question_updates

    for count in range(1, 5):
        assert question_updates(count) == list(range(1, count + 1))


def test_answer_box_rows_fit_at_every_number_of_decimals(tmp_path):
    """boxes_per_row's rule, checked by pdflatex: rows of boxes after the longest keys
    (delta[3](t) of a 4-layer net, z and h of shallower ones) at every --decimals and
    at samples 9, 100 and 1000 put nothing past the edge."""
    from bpnn_steps.model.quantities import Kind, Quantity, entry_symbol
    from bpnn_steps.present.blocks import Equations, Heading
    from bpnn_steps.present.sheet import _box_rows, key_label

    needs_tex()
    blocks = []
    for t in (9, 100, 1000):
        for decimals in range(16):
            blocks.append(Heading(f"sample {t}, {decimals} decimals", 3))
            rows = []
            for depth, n in ((4, 3), (3, 2), (2, 1)):
                for kind in (Kind.Z, Kind.A, Kind.DELTA):
                    q = Quantity(1, kind, n, t)
                    items = [(entry_symbol(q, (j,), depth), q, (j,)) for j in range(8)]
                    rows += _box_rows(items, decimals, key_label(q, depth))
            blocks.append(Equations(tuple(rows)))
    code, error, _, overfull = compile_sheet(blocks_document(blocks, "rows"), tmp_path, "rows")
    assert code == 0, error
    assert overfull == []
