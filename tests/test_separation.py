"""The issue's separability test: for 200 variants of lecture_122, a right answer
file is marked all right, and each mistake check can diagnose, injected in turn into
the whole answer file, is the mistake check names first.

The mistaken answers are computed here with plain numpy, written from the meaning
of each mistake (not by marking/recompute), and written at the sheet's 3 decimals
as a student would.  Marking runs in-process (marking.marker.check) on answer
sheets built here; a few are also written as answer files and marked through the
file reader, which must give the same result."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from helpers import BUNDLED

COUNT = 200
SEED = 2026
DECIMALS = 3

# The mistakes check diagnoses for a 1-2-2 sigmoid/linear mse batch step, each with
# the code check names.
MISTAKES = {
    "missing-derivative": "missing-derivative",   # delta[1] without h(1 - h)
    "new-weights-too-early": "new-weights-too-early",   # delta[1] through the new W[2]
    "sign-update": "sign",                        # W + lambda grad
    "missing-lambda": "missing-lambda",           # W - grad
    "sum-not-mean": "sum-not-mean",               # sums over the samples
    "missing-1/2": "missing-1/2",                 # J without its 1/2
    "sign-error": "sign",                         # y - yhat
    "missing-bias": "missing-bias",               # z without the bias row
    "missing-activation": "missing-activation",   # h = z
    "transposed": "transposed",                   # every matrix written transposed
    "wrong-sample": "wrong-sample",               # each sample given the next one's values
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def solution(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray, lr: float,
             mistake: str | None = None) -> dict[str, np.ndarray]:
    """Every answer of the lecture's answer sheet (template keys), with ``mistake``
    made from where it applies, as a student who makes it consistently would."""
    bias = 0.0 if mistake == "missing-bias" else 1.0
    half = 1.0 if mistake == "missing-1/2" else 0.5
    out: dict[str, np.ndarray] = {}
    deltas2, hs, zs1 = [], [], []
    for t, (xt, yt) in enumerate(zip(x, y), start=1):
        z1 = bias * w1[0] + xt @ w1[1:]
        h = z1.copy() if mistake == "missing-activation" else _sigmoid(z1)
        yhat = bias * w2[0] + h @ w2[1:]
        out[f"z[1]({t})"], out[f"h({t})"], out[f"yhat({t})"] = z1, h, yhat
        out[f"J({t})"] = np.array(half * np.sum((yhat - yt) ** 2))
        d2 = (yhat - yt) * (2.0 if mistake == "missing-1/2" else 1.0)
        d2 = -d2 if mistake == "sign-error" else d2
        deltas2.append(d2)
        hs.append(h)
        zs1.append(z1)
    T = len(x)
    losses = [float(out[f"J({t})"]) for t in range(1, T + 1)]
    out["J"] = np.array(sum(losses) if mistake == "sum-not-mean" else sum(losses) / T)
    mean = (lambda gs: np.sum(gs, axis=0)) if mistake == "sum-not-mean" else \
        (lambda gs: np.mean(gs, axis=0))

    def update(w: np.ndarray, g: np.ndarray) -> np.ndarray:
        if mistake == "sign-update":
            return w + lr * g
        if mistake == "missing-lambda":
            return w - g
        return w - lr * g

    grads2 = [np.outer(np.concatenate(([1.0], h)), d2) for h, d2 in zip(hs, deltas2)]
    g2 = mean(grads2)
    w2_new = update(w2, g2)
    through = w2_new if mistake == "new-weights-too-early" else w2
    grads1 = []
    for t, (xt, h, d2) in enumerate(zip(x, hs, deltas2), start=1):
        out[f"delta[2]({t})"] = d2
        out[f"grad W[2]({t})"] = grads2[t - 1]
        back = through[1:] @ d2
        d1 = back if mistake == "missing-derivative" else back * h * (1 - h)
        out[f"delta[1]({t})"] = d1
        grads1.append(np.outer(np.concatenate(([1.0], xt)), d1))
        out[f"grad W[1]({t})"] = grads1[-1]
    out["grad W[2]"], out["W[2] new"] = g2, w2_new
    g1 = mean(grads1)
    out["grad W[1]"], out["W[1] new"] = g1, update(w1, g1)
    if mistake == "wrong-sample":
        right = solution(w1, w2, x, y, lr)
        for key in right:
            if key.endswith(")") and "(" in key:
                t = int(key[key.rindex("(") + 1:-1])
                out[key] = right[key.replace(f"({t})", f"({t % T + 1})")]
    if mistake == "transposed":
        out = {k: (v.T if v.ndim == 2 else v) for k, v in solution(w1, w2, x, y, lr).items()}
    return out


def _text(v: float) -> str:
    text = f"{v:.{DECIMALS}f}"
    return "0.000" if text == "-0.000" else text


@functools.lru_cache(maxsize=None)
def _key(key: str, layers: tuple[int, ...]):
    """The quantity a key of the 1-2-2 sheet names and its shape (every sheet has the
    same keys: read once)."""
    from bpnn_steps.model.quantities import Quantity, parse_key, shape_of

    spec = parse_key(key, 2)
    assert not isinstance(spec, str), spec
    sample = spec.sample if isinstance(spec.sample, int) else None
    q = Quantity(1, spec.kind, spec.layer, sample)
    return q, tuple(shape_of(q.kind, q.layer, layers))


@functools.lru_cache(maxsize=4096)
def _cell(text: str):
    """The cell a number written as ``text`` reads as, as the reader makes it (a
    variant's 12 sheets repeat most numbers: each text is read once; cells are frozen)."""
    from bpnn_steps.model.answer_sheet import Cell, Precision

    return Cell(float(text), text, Precision.of(text), None)


def sheet(problem, answers: dict[str, np.ndarray]):
    """The AnswerSheet the answer file with these numbers reads as (matrices in the
    transposed shape are read back into place, flagged transposed, as the reader does)."""
    from bpnn_steps.model.answer_sheet import AnswerSheet, Given

    entries = []
    for key, value in answers.items():
        q, shape = _key(key, tuple(problem.layers))
        value = np.atleast_1d(np.asarray(value, dtype=float)) if shape else \
            np.asarray(value, dtype=float)
        transposed = len(shape) == 2 and value.shape != tuple(shape)
        placed = value.T if transposed else value
        cells = tuple(_cell(_text(v)) for v in placed.ravel().tolist())
        entries.append(Given(key, q, None, cells, tuple(shape), transposed=transposed))
    return AnswerSheet("answers.yaml", "s", "variant", None, tuple(entries), ())


def answer_file(ref: str, answers: dict[str, np.ndarray]) -> str:
    lines = [f"problem: {ref}", "answers:"]
    for key, value in answers.items():
        value = np.asarray(value)
        if value.ndim == 2:
            lines.append(f"  {key}:")
            lines += ["    - [" + ", ".join(_text(v) for v in row) + "]" for row in value]
        elif value.ndim == 1:
            lines.append(f"  {key}: [" + ", ".join(_text(v) for v in value) + "]")
        else:
            lines.append(f"  {key}: {_text(float(value))}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def lecture_variants():
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import variants
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.maths.engine import solve

    base = load_problem(BUNDLED / "lecture_122.yaml")
    run = variants(base, default_spec(base), COUNT, SEED)
    assert run.failed is None and len(run.variants) == COUNT
    return [(v, solve(v.problem)) for v in run.variants]


def _numbers(v):
    p = v.problem
    w1, w2 = (np.asarray(w, dtype=float) for w in p.initial_weights())
    x, y = (np.asarray(a, dtype=float) for a in p.data())
    return w1, w2, x, y, p.learning_rate()


def test_the_template_keys_are_the_sheet_s(lecture_variants) -> None:
    """The keys solution() writes are those of check --template (z[2] of a linear
    output is left out, as the template does)."""
    import re

    from bpnn_steps.files.answer_template import template_text

    v, trace = lecture_variants[0]
    template = template_text(v.problem, "p", [s.samples for s in trace.steps])
    keys = re.findall(r"^  ([^#\s][^:]*):", template, re.M)
    assert sorted(keys) == sorted(solution(*_numbers(v)))


PARTS = 4       # the 200 variants in four tests, so that the suite's workers share them


@pytest.mark.parametrize("part", range(PARTS))
def test_a_right_answer_file_is_all_right_and_each_mistake_is_named_first(
        lecture_variants, part: int) -> None:
    from bpnn_steps.marking.diagnose import Mistake
    from bpnn_steps.marking.marker import check
    from bpnn_steps.marking.reference import Reference

    failures = []
    misnamed = Counter()
    for v, trace in lecture_variants[part::PARTS]:
        numbers = _numbers(v)
        # What marking needs of the variant's solution, shared by its 12 sheets (as a
        # batch of answer files shares it).
        reference = Reference(v.problem, trace)
        right = check(sheet(v.problem, solution(*numbers)), v.problem, trace,
                      reference=reference)
        if not right.all_right:
            failures.append((v.id, "right answers", right.mistakes()))
        for mistake, code in MISTAKES.items():
            result = check(sheet(v.problem, solution(*numbers, mistake)), v.problem, trace,
                           reference=reference)
            # An error carried forward is the consequence, not a diagnosis (an h = z
            # outside (0, 1) earns no follow-through): the first cause check names.
            named = [c for c in result.mistakes() if c != Mistake.CARRIED_FORWARD]
            if not named or named[0] != code:
                failures.append((v.id, mistake, result.mistakes()))
            # (check names the sum of the losses in the cost "missing 1/T")
            expected = {code, Mistake.CARRIED_FORWARD} | \
                ({Mistake.MISSING_1_T} if mistake == "sum-not-mean" else set())
            misnamed[mistake] += sum(1 for e in result.entries
                                     if e.cause and e.cause not in expected)
    assert not failures, failures[:10]
    # Entries named by another mistake than the one made (reported, not asserted: the
    # test of the issue is the first name).
    print("entries named otherwise:", dict(misnamed))


def test_the_file_reader_gives_the_same_marks(lecture_variants, tmp_path: Path) -> None:
    """Answer files written and marked through check_file mark exactly as the sheets
    built in-process above."""
    from bpnn_steps.course.variants import variant_text
    from bpnn_steps.marking.marker import SolvedProblems, check, check_file
    from bpnn_steps.marking.reference import Reference

    for v, trace in lecture_variants[:3]:
        (tmp_path / f"{v.id}.yaml").write_text(variant_text(v, "lecture_122"),
                                               encoding="utf-8")
        # Each side solves the variant once for its 12 files, as a batch does (every
        # file is still read, and its problem file found and read, by the reader).
        solved, reference = SolvedProblems(), Reference(v.problem, trace)
        for mistake in [None, *MISTAKES]:
            answers = solution(*_numbers(v), mistake)
            path = tmp_path / "answers.yaml"
            path.write_text(answer_file(f"{v.id}.yaml", answers), encoding="utf-8")
            from_file = check_file(path, solved=solved)
            in_process = check(sheet(v.problem, answers), v.problem, trace,
                               reference=reference)
            assert [(e.key, e.index, e.mark, e.cause) for e in from_file.entries] == \
                [(e.key, e.index, e.mark, e.cause) for e in in_process.entries], (v.id, mistake)


def test_the_lecture_s_own_numbers_do_not_separate() -> None:
    """Why the quality test exists: with the lecture's numbers (lambda = 1/2, T = 2,
    equal weights) check cannot tell every mistake apart."""
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.marking.diagnose import Mistake
    from bpnn_steps.marking.marker import check
    from bpnn_steps.maths.engine import solve

    p = load_problem(BUNDLED / "lecture_122.yaml")
    trace = solve(p)
    w1, w2 = (np.asarray(w) for w in p.initial_weights())
    x, y = (np.asarray(a) for a in p.data())
    numbers = (w1, w2, x, y, p.learning_rate())
    # lambda left out, sum instead of mean and missing 1/2: the same new weights
    new = [solution(*numbers, m)["W[2] new"] for m in ("missing-lambda", "sum-not-mean",
                                                        "missing-1/2")]
    assert np.allclose(new[0], new[1]) and np.allclose(new[0], new[2])
    # a transposed grad W[1](1) reads as right: it is symmetric
    g = solution(*numbers)["grad W[1](1)"]
    assert np.allclose(g, g.T)
    result = check(sheet(p, solution(*numbers, "transposed")), p, trace)
    marks = {e.cause for e in result.entries if e.key == "grad W[1](1)"}
    assert marks == {None}                      # all "right"
    result = check(sheet(p, solution(*numbers, "missing-lambda")), p, trace)
    also = [e.message for e in result.entries if e.cause == Mistake.MISSING_LAMBDA]
    assert any("also fits" in m for m in also)


@pytest.mark.parametrize("name", ["softmax_233", "deep_1221", "classification_121",
                                  "quiz_11"])
def test_other_networks_name_each_mistake_too(name: str) -> None:
    """Beyond the lecture's network (ce and softmax, two hidden layers, bce, one
    sample, several updates): each mistake check tries, made through a whole answer
    sheet with check's own recomputation, is the first it names, in every variant."""
    from bpnn_steps.course.quality import hand_sized
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import variants
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.marking.diagnose import Mistake
    from bpnn_steps.marking.marker import check
    from bpnn_steps.marking.recompute import Chain, scenarios_for, trace_env
    from bpnn_steps.marking.reference import Reference
    from bpnn_steps.maths.engine import solve
    from bpnn_steps.model.answer_sheet import AnswerSheet, Cell, Given, Precision
    from bpnn_steps.model.quantities import Kind, Quantity, answer_quantities, key_of, shape_of

    base = load_problem(name)
    run = variants(base, default_spec(base), 3, 3)
    assert run.failed is None
    failures = []
    for v in run.variants:
        p = hand_sized(v.problem)
        trace = solve(p)
        chain, exact = Chain(p, trace), trace_env(trace)
        reference = Reference(p, trace)     # shared by the variant's sheets, as in a batch
        for s in scenarios_for(p, chain.schedule):
            env, made = {}, {}
            for u in range(1, len(chain.schedule) + 1):
                for q in chain.nodes(u):
                    env[q] = made[q] = chain.calc(q, env, s)
                for n in range(1, p.depth + 1):      # each update from the right weights
                    env[Quantity(u, Kind.NEW, n)] = exact[Quantity(u, Kind.NEW, n)]
            entries = []
            for u, step in enumerate(trace.steps, start=1):
                for q in answer_quantities(p.layers, step.samples, u):
                    shape = shape_of(q.kind, q.layer, p.layers)
                    texts = [_text(x) for x in np.asarray(made[q], dtype=float).ravel()]
                    entries.append(Given(key_of(q, p.depth), q, None, tuple(
                        Cell(float(t), t, Precision.of(t), None) for t in texts), tuple(shape)))
            result = check(AnswerSheet("a.yaml", "s", v.id, None, tuple(entries), ()), p, trace,
                           reference=reference)
            named = [c for c in result.mistakes() if c != Mistake.CARRIED_FORWARD]
            if not named or named[0] != s.code:
                failures.append((v.id, s.code, result.mistakes()))
    assert not failures, failures
