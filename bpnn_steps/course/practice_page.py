"""The HTML practice page of a problem (``export FILE --format html``): the worked
solution with every step collapsed, and an input for every number the check
template asks for, marked as the student types, with a hint per entry and a
button that downloads the answers as a file ``bpnn-steps check`` accepts.

Every expected value is the trace's, taken through the one list of quantities
(the same loop as :func:`bpnn_steps.course.answer_entries.variant_answers`); the
answer file is the check template (:func:`template_text`) with its blanks filled.
The page's script compares numbers with check's tolerance rules; it computes no
formula.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ProblemError
from ..files.answer_template import template_quantities, template_text
from ..marking.diagnose import Tolerance
from ..marking.marker import checkable
from ..model.problem import Problem
from ..model.quantities import Quantity, entry_name, entry_symbol, key_of, shape_of, symbol, \
    value_in
from ..model.trace import Trace
from ..render.html import BlocksHtml, Step, html_page, json_script
from .answer_entries import entry_label

# A blank of the template's answers: "~" as a value (not the one of "student: ~").
_BLANK = re.compile(r"(?<=[\[ ])~(?=[,\]]|\s*(#|$))")


@dataclass(frozen=True)
class PracticeEntry:
    """One input of the page: the template key, the 0-based place, its label, the
    lecture's symbol, the trace's value (None: not formed) and its hint step."""

    key: str
    update: int
    index: tuple[int, ...]
    label: str
    name: str
    value: float | None
    hint: str | None


def practice_entries(problem: Problem, trace: Trace, steps: Sequence[Step],
                     worked: Collection[int] | None = None) -> list[PracticeEntry]:
    """Every entry of every quantity of the check template, in its order; ``worked``:
    the 1-based updates practised (None: all)."""
    depth = len(problem.layers) - 1
    updates = len(trace.steps)
    out: list[PracticeEntry] = []
    for u, step in enumerate(trace.steps, start=1):
        if worked is not None and u not in worked:
            continue
        hints = _Hints([s for s in steps if s.update == u])
        for q in template_quantities(problem, step.samples, u):
            value = value_in(step, q)
            key = key_of(q, depth)
            shape = shape_of(q.kind, q.layer, problem.layers)
            for index in np.ndindex(shape):
                place = tuple(int(i) for i in index)
                out.append(PracticeEntry(
                    key, u, place, entry_label(key, place, u, updates),
                    entry_name(q, place, depth),
                    None if value is None else float(value[index]),
                    hints.of(q, place, depth)))
    return out


class _Hints:
    """The step of the worked solution that computes an entry: its own row (z, h,
    ŷ, J), else the displayed equation of its quantity (δ, gradients, updates).

    The first such step, looked up in a table built once per update (rows) and once
    per length of a quantity's symbol (heads): a scan of every step for every entry
    took seconds on a 21-sample page (1,407 entries)."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = steps
        self.rows: dict[object, str] | None = {}
        try:
            for s in steps:
                self.rows.setdefault(s.lhs, s.ident)
        except TypeError:          # a left-hand side that cannot be a key: scan instead
            self.rows = None
        # per length n: the first step of each n-long start of a left-hand side
        self.heads: dict[int, dict[object, str]] = {}

    def of(self, q: Quantity, index: tuple[int, ...], depth: int) -> str | None:
        entry = (entry_symbol(q, index, depth),)
        row = (next((s.ident for s in self.steps if s.lhs == entry), None)
               if self.rows is None else self.rows.get(entry))
        if row is not None:
            return row
        whole = tuple(symbol(q, depth))
        if self.rows is None:
            return next((s.ident for s in self.steps if s.lhs[:len(whole)] == whole), None)
        if len(whole) not in self.heads:
            heads: dict[object, str] = {}
            for s in self.steps:
                heads.setdefault(s.lhs[:len(whole)], s.ident)
            self.heads[len(whole)] = heads
        return self.heads[len(whole)].get(whole)


def template_parts(template: str, count: int) -> list[str]:
    """The template cut at each blank of its answers: the answer file is the parts
    joined by the student's numbers (``~`` where none is given)."""
    head, sep, answers = template.partition("\nanswers:\n")
    if not sep:
        raise ProblemError("the check template has no answers section")
    lines = answers.split("\n")
    body: list[str] = []
    for line in lines:
        code, hash_, comment = line.partition("#") if not line.lstrip().startswith("#") \
            else ("", "", line)
        body.append(_BLANK.sub("\0", code) + hash_ + comment)
    parts = (head + sep + "\n".join(body)).split("\0")
    if len(parts) != count + 1:
        raise ProblemError(f"the check template has {len(parts) - 1} blanks for "
                           f"{count} entries")
    return parts


def practice_page(problem: Problem, problem_ref: str, *, decimals: int = 3,
                  show: str = "auto", tolerance: Tolerance | None = None) -> str:
    """The whole page as one HTML document."""
    from ..maths.engine import solve
    from ..present.sheet import sheet_problem, sheet_steps, solution_blocks, statement_blocks

    shown, note = sheet_problem(checkable(problem))
    trace = solve(shown)
    # The worked solution shows solve's --show updates in full (auto: all of a short
    # run, the first and last of a long one).  The practice covers those a hand
    # calculation can reach from the statement: the shown updates from update 1 on
    # with none skipped (a later one starts from weights only a machine has), so a
    # long run's page stays a page and check marks its file in moments.
    full = sheet_steps(problem, len(trace.steps), show)
    worked = [u for k, u in enumerate(full, start=1) if u == k] or full
    writer = BlocksHtml(decimals)
    title = problem.title or problem_ref
    statement = BlocksHtml(decimals, collapse=False).blocks(statement_blocks(trace))
    # Its first block is the title, which the page writes once, at its top.
    solution = writer.blocks(solution_blocks(trace, show=show, statement=False)[1:])
    entries = practice_entries(shown, trace, writer.steps, worked)
    template = template_text(shown, problem_ref, [s.samples for s in trace.steps],
                             only=worked)
    parts = template_parts(template, len(entries))
    tol = Tolerance() if tolerance is None else tolerance
    data = {
        "entries": [{"label": e.label, "value": e.value, "hint": e.hint} for e in entries],
        "tolerance": {"abs": tol.abs_tol, "rel": tol.rel_tol, "as_written": tol.as_written,
                      "min_figures": tol.min_figures, "min_decimals": tol.min_decimals},
        "template": parts,
        "file": f"{problem_ref.rsplit('/', 1)[-1].removesuffix('.yaml')}-answers.yaml",
    }
    body = [f'<h1 class="literal">{_text(title)}</h1>']
    if note:
        body.append(f"<p>{_text(note)}</p>")
    body.append(statement)
    body.append('<nav class="modes" aria-label="Parts of the page">'
                '<a class="button" href="#practice">Practice</a>'
                '<a class="button" href="#solution">Worked solution</a></nav>')
    cut = ""
    if len(worked) < len(trace.steps):
        cut = (f"This run has {len(trace.steps)} updates: the worked solution shows "
               f"{_updates(full)} in full (as <code>bpnn-steps solve --show "
               f"{_text(show)}</code> does) and the practice covers {_updates(worked)}")
        cut += (": a later update starts from the weights of every update before it."
                if worked != full else ".")
    body.append(_practice_html(entries, decimals, cut))
    body.append(f'<section id="solution" aria-labelledby="solution-title">'
                f'<h2 id="solution-title">Worked solution</h2>'
                f"<p>Every step is folded: open one (Enter or Space) to compare it with "
                f"your working.</p>\n{solution}</section>")
    script = json_script("practice-data", data) + f"<script>{SCRIPT}</script>"
    return html_page(title, "\n".join(body), script)


def _text(text: str) -> str:
    from html import escape
    return escape(text)


def _updates(numbers: Sequence[int]) -> str:
    words = [str(n) for n in numbers]
    if len(words) == 1:
        return f"update {words[0]}"
    return "updates " + ", ".join(words[:-1]) + " and " + words[-1]


def _practice_html(entries: Sequence[PracticeEntry], decimals: int, cut: str = "") -> str:
    out = ['<section id="practice" class="practice" aria-labelledby="practice-title">',
           '<h2 id="practice-title">Practice</h2>',
           "<p>Work each number out by hand and type it in: it is marked as you type, "
           "with the same tolerance as <code>bpnn-steps check</code> (a number counts "
           "as written: 0.550 stands for anything from 0.5495 to 0.5505). A hint shows "
           "the step with its numbers. When you are done, download your answers and mark "
           "them with <code>bpnn-steps check FILE</code>.</p>",
           f'<p class="note">{cut}</p>' if cut else "",
           '<p class="score" role="status" aria-live="polite" id="score"></p>',
           '<p><button type="button" id="download">Download my answers</button> '
           '<label>Your name (optional) <input id="student" autocomplete="name"></label>'
           "</p>"]
    group = None
    for k, e in enumerate(entries):
        heading = f"update {e.update}: {e.key}" if entries[-1].update > 1 else e.key
        if heading != group:
            if group is not None:
                out.append("</fieldset>")
            group = heading
            out.append(f"<fieldset><legend>{_text(heading)}</legend>")
        hint = (f'<details class="hint" data-step="{e.hint}"><summary>Hint</summary>'
                f'<div class="hint-body"></div></details>' if e.hint else "")
        out.append(f'<div class="entry"><label for="a{k}">{_text(e.name)} '
                   f'<small>({_text(e.label)})</small></label>'
                   f'<input id="a{k}" data-k="{k}" inputmode="decimal" autocomplete="off" '
                   f'spellcheck="false" aria-describedby="m{k}">'
                   f'<span class="mark" id="m{k}" aria-live="polite"></span>{hint}</div>')
    if group is not None:
        out.append("</fieldset>")
    out.append("</section>")
    return "\n".join(out)


# The page's script: reads a typed number's value and precision the way check does
# (files.answer_file / model.answer_sheet.Precision) and applies Tolerance.close;
# it never evaluates a formula.
SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("practice-data").textContent);
  var tol = data.tolerance;
  var NUMBER = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
  function precision(text) {
    var clean = text.trim().replace(/_/g, "");
    var m = NUMBER.exec(clean);
    if (!m || !(m[1] || m[2])) return null;
    var decimals = Math.max(0, (m[2] || "").length - parseInt(m[3] || "0", 10));
    var exponent = parseInt(m[3] || "0", 10);
    var digits = (m[1] || "") + (m[2] || "");
    var figures = digits.replace(/^0+/, "").length;
    return {decimals: decimals, figures: figures,
            ulp: Math.pow(10, exponent - (m[2] || "").length)};
  }
  function preciseEnough(p) {
    if (!p) return false;
    var places = p.ulp <= 0 ? Infinity : -Math.log10(p.ulp) + 1e-9;
    return p.figures >= tol.min_figures || places >= tol.min_decimals;
  }
  // marking.diagnose.Tolerance.close
  function close(given, ref, p) {
    if (!isFinite(given) || !isFinite(ref)) return false;
    var d = Math.abs(given - ref);
    if (d <= tol.abs || d <= tol.rel * Math.abs(ref)) return true;
    if (tol.as_written && p && preciseEnough(p))
      return d <= 0.5 * p.ulp * (1 + 1e-9) + 1e-12 * Math.max(1, Math.abs(ref));
    return false;
  }
  function plain(text) { return NUMBER.test(text.trim().replace(/_/g, "")); }
  var inputs = Array.prototype.slice.call(document.querySelectorAll("input[data-k]"));
  function mark(input) {
    var e = data.entries[+input.dataset.k];
    var text = input.value.trim();
    var out = document.getElementById("m" + input.dataset.k);
    input.classList.remove("right", "wrong");
    if (!text) { out.textContent = ""; out.className = "mark"; return null; }
    if (!plain(text)) { out.textContent = "not a number"; out.className = "mark wrong";
                        input.classList.add("wrong"); return false; }
    var ok = e.value !== null && close(parseFloat(text.replace(/_/g, "")), e.value,
                                       precision(text));
    out.textContent = ok ? "\u2713 right" : "\u2717 not yet";
    out.className = "mark " + (ok ? "right" : "wrong");
    input.classList.add(ok ? "right" : "wrong");
    return ok;
  }
  // Each input's mark, kept: typing re-marks only the input typed in (re-marking
  // every input made each key take a tenth of a second on a page of 1,400 entries).
  var marks = inputs.map(function () { return null; });
  function score() {
    var right = 0, given = 0;
    marks.forEach(function (m) { if (m !== null) given++; if (m) right++; });
    document.getElementById("score").textContent =
      right + " of " + inputs.length + " right (" + given + " answered)";
  }
  inputs.forEach(function (i, k) {
    i.addEventListener("input", function () { marks[k] = mark(i); score(); });
  });
  document.querySelectorAll("details.hint").forEach(function (d) {
    d.addEventListener("toggle", function () {
      var body = d.querySelector(".hint-body");
      if (d.open && !body.childNodes.length) {
        var step = document.getElementById(d.dataset.step);
        body.innerHTML = step ? step.querySelector(".body").innerHTML : "";
      }
    });
  });
  function yamlValue(text) {
    text = text.trim();
    if (!text) return "~";
    if (plain(text)) return text.replace(/_/g, "");
    return JSON.stringify(text);
  }
  function answerFile() {
    var parts = data.template, out = parts[0];
    for (var k = 1; k < parts.length; k++) out += yamlValue(inputs[k - 1].value) + parts[k];
    var name = document.getElementById("student").value.trim();
    if (name) out = out.replace(/^student: ~$/m, "student: " + JSON.stringify(name));
    return out;
  }
  window.bpnnAnswerFile = answerFile;
  document.getElementById("download").addEventListener("click", function () {
    var a = document.createElement("a");
    a.href = "data:text/yaml;charset=utf-8," + encodeURIComponent(answerFile());
    a.download = data.file;
    document.body.appendChild(a); a.click(); a.remove();
  });
  inputs.forEach(function (i, k) { marks[k] = mark(i); });
  score();
})();
"""
