"""Readers of the course outputs written for the tests, independently of
bpnn_steps: a strict GIFT reader from the GIFT documentation, a reader of Moodle
Cloze fields ported from Moodle's own regular expressions, and the reference
value of every entry name from ``helpers.ref_solve``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from helpers import ref_solve

# --------------------------------------------------------------------------- GIFT
# From Moodle's GIFT documentation: "// text" is a comment line; questions are
# separated by blank lines; "::title::" is a title; "[html]" (etc.) the text's
# format; "{" starts the answers (none at all: a description); "{#" starts numeric
# answers "answer:tolerance" (or "low..high"), each optionally followed by
# "#feedback"; "}" ends them; "\" escapes the special meaning of ~ = # { } : (and
# itself); "$CATEGORY: path" sets the category of the questions that follow.

GIFT_SPECIAL = set("~=#{}:")


class GiftError(ValueError):
    pass


@dataclass
class GiftQuestion:
    category: str
    title: str
    format: str
    text: str                      # unescaped
    numeric: list[tuple[float, float, str]] | None = None     # (answer, tolerance, feedback)
    answer_texts: list[tuple[str, str]] = field(default_factory=list)    # as written


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise GiftError(f"a lone backslash ends {text!r}")
            nxt = text[i + 1]
            if nxt == "n":
                out.append("\n")
            elif nxt in GIFT_SPECIAL or nxt == "\\":
                out.append(nxt)
            else:
                raise GiftError(f"unknown escape \\{nxt} in {text!r}")
            i += 2
            continue
        if c in GIFT_SPECIAL:
            raise GiftError(f"unescaped {c!r} in {text!r}")
        out.append(c)
        i += 1
    return "".join(out)


def _split_unescaped(text: str, stop: str) -> tuple[str, str | None, str]:
    """(before, the stop character found, after) at the first unescaped stop char."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in stop:
            return text[:i], text[i], text[i + 1:]
        i += 1
    return text, None, ""


def read_gift(source: str) -> list[GiftQuestion]:
    """Every question of a GIFT file; GiftError for anything not in the format."""
    questions: list[GiftQuestion] = []
    category = ""
    for block in re.split(r"\n\s*\n", source):
        lines = [ln for ln in block.splitlines() if not ln.lstrip().startswith("//")]
        if not lines:
            continue
        if lines[0].startswith("$CATEGORY:"):
            if len(lines) != 1:
                raise GiftError(f"a category line shares its block: {lines!r}")
            category = lines[0][len("$CATEGORY:"):].strip()
            continue
        text = "\n".join(lines).strip()
        title = ""
        if text.startswith("::"):
            raw_title, found, text = _split_unescaped(text[2:], ":")
            if found != ":" or not text.startswith(":"):
                raise GiftError(f"unterminated title in {block!r}")
            title, text = _unescape(raw_title), text[1:]
        fmt = "moodle"
        m = re.match(r"\[(html|moodle|plain|markdown)\]", text)
        if m:
            fmt, text = m.group(1), text[m.end():]
        before, found, rest = _split_unescaped(text, "{")
        question = GiftQuestion(category, title, fmt, _unescape(before))
        if found is None:
            questions.append(question)          # a description
            continue
        inside, closed, after = _split_unescaped(rest, "}")
        if closed is None or after.strip():
            raise GiftError(f"answers not closed, or text after them: {block!r}")
        if not inside.startswith("#"):
            raise GiftError(f"not a numeric question: {inside!r}")
        question.numeric = []
        for alternative in _alternatives(inside[1:]):
            answer, hashed, feedback = _split_unescaped(alternative, "#")
            answer = answer.strip()
            if answer.startswith("="):
                answer = answer[1:]
            value, colon, tol = _split_unescaped(answer, ":")
            if colon is None:
                raise GiftError(f"no tolerance in {answer!r}")
            question.numeric.append((float(value), float(tol),
                                     _unescape(feedback) if hashed else ""))
            question.answer_texts.append((value, tol))
        questions.append(question)
    return questions


def _alternatives(text: str) -> list[str]:
    out, rest = [], text
    while True:
        before, found, rest = _split_unescaped(rest, "=~")
        if before.strip():
            out.append(before)
        if found is None:
            return out


# --------------------------------------------------------------------------- Cloze
# Ported from Moodle's question/type/multianswer/questiontype.php (the regexes
# qtype_multianswer_extract_question uses to find the fields of a Cloze text).
# Python's look-behind needs one width per assertion: (?<!\\|&|&amp;) is written
# as three assertions.

FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = f"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE = f"^({NUMBER})(:{NUMBER})?$"
TYPES = (r"(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
         r"(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|(MULTICHOICE_S|MCS)|"
         r"(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|(MULTIRESPONSE|MR)|"
         r"(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)")
FIELD = re.compile(r"\{([0-9]*):(" + TYPES + "):(" + ALTERNATIVE + "(~" + ALTERNATIVE + ")*)\\}",
                   re.S)


@dataclass
class ClozeAnswer:
    fraction: float
    answer: str
    tolerance: float | None
    feedback: str                  # as Moodle stores it (HTML)


@dataclass
class ClozeField:
    mark: str
    kind: str
    answers: list[ClozeAnswer]


def read_cloze(text: str) -> tuple[list[ClozeField], str]:
    """The fields of a Cloze text as Moodle reads them, and the text with each field
    replaced by {#N}."""
    fields: list[ClozeField] = []
    while True:
        m = FIELD.search(text)
        if m is None:
            return fields, text
        fields.append(ClozeField(m.group(1), m.group(2), _alternatives_of(m)))
        text = text[:m.start()] + "{#" + str(len(fields)) + "}" + text[m.end():]


def _alternatives_of(m: re.Match[str]) -> list[ClozeAnswer]:
    numerical = m.group(2) in ("NUMERICAL", "NM")
    remaining = m.group(16)
    one = re.compile("~?" + ALTERNATIVE, re.S)
    out = []
    while remaining:
        a = one.match(remaining)
        if a is None:
            raise ValueError(f"cannot read {remaining!r}")
        fraction_text, percent, answer, _, feedback = a.groups()
        fraction = 1.0 if fraction_text == "=" else (
            float(percent.replace(",", ".")) / 100 if percent else 0.0)
        stored = ""
        if feedback is not None:
            stored = html.unescape(feedback).replace("\\}", "}").replace("\\#", "#")
        tolerance = None
        n = re.match(NUMERICAL_ALTERNATIVE, answer, re.S) if numerical else None
        if n is not None:
            answer = n.group(1)
            tolerance = float(n.group(6)) if n.group(6) else 0.0
        out.append(ClozeAnswer(fraction, answer, tolerance, stored))
        remaining = remaining[a.end():]
    return out


# --------------------------------------------------------------------------- reference


def conventions_keys(conventions) -> dict:
    """helpers.ref_solve's keyword arguments for a problem's conventions."""
    return {"mse_half": conventions.mse_half,
            "output_mean": conventions.output_reduction.value == "mean",
            "cost_sum": conventions.cost.value == "sum",
            "update_biases": conventions.update_biases,
            "output_first": conventions.update_order.value == "output_first"}


def reference_values(problem) -> dict[str, float]:
    """Every entry of a problem's worked solution by its documented name
    (docs/course.md), from helpers.ref_solve: units count from 1, weight rows from
    0 (the bias row), weight columns from 1; several updates: "update U: " first."""
    xs, ys = problem.data()
    t = problem.training
    ref = ref_solve(problem.layers, problem.activations, problem.loss,
                    [list(map(float, r)) for r in xs], [list(map(float, r)) for r in ys],
                    [[list(map(float, r)) for r in w] for w in problem.initial_weights()],
                    t.learning_rate, t.method, getattr(t, "batch_size", None), t.epochs,
                    t.l2, t.l2_bias, **conventions_keys(problem.conventions))
    depth = len(problem.layers) - 1
    out: dict[str, float] = {}
    steps = ref["steps"]
    for u, step in enumerate(steps, start=1):
        pre = f"update {u}: " if len(steps) > 1 else ""
        for f in step["forward"]:
            s = f["sample"]
            for n in range(1, depth + 1):
                for j, v in enumerate(f["z"][n - 1], start=1):
                    out[f"{pre}z[{n}]({s})[{j}]"] = v
                for j, v in enumerate(f["a"][n - 1], start=1):
                    unit = ("yhat" if n == depth else
                            "h" if depth == 2 else f"h[{n}]")
                    out[f"{pre}{unit}({s})[{j}]"] = v
            out[f"{pre}J({s})"] = f["loss"]
        out[f"{pre}J"] = step["cost"]
        for g in step["gradients"]:
            s = g["sample"]
            for n in range(1, depth + 1):
                w = g[f"W{n}"]
                for j, v in enumerate(w[0], start=1):
                    out[f"{pre}delta[{n}]({s})[{j}]"] = v      # row 0: the bias input 1
                for i, row in enumerate(w):
                    for j, v in enumerate(row, start=1):
                        out[f"{pre}grad W[{n}]({s})[{i},{j}]"] = v
        for n in range(1, depth + 1):
            grads = [g[f"W{n}"] for g in step["gradients"]]
            for i in range(len(grads[0])):
                for j in range(len(grads[0][0])):
                    out[f"{pre}grad W[{n}][{i},{j + 1}]"] = sum(g[i][j] for g in grads) / len(grads)
                    out[f"{pre}W[{n}] new[{i},{j + 1}]"] = step["weights_after"][f"W{n}"][i][j]
    return out


def assert_answer(written: str, reference: float, decimals: int) -> None:
    """A written answer is the reference rounded to ``decimals``: that many decimals,
    within half a unit of the last one."""
    assert re.fullmatch(rf"-?\d+\.\d{{{decimals}}}" if decimals else r"-?\d+", written), written
    assert abs(float(written) - reference) <= 0.5 * 10 ** -decimals + 1e-9, (written, reference)
