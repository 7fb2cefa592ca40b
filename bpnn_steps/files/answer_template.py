"""The blank answer sheet that ``check --template`` writes: every key of a problem's
worked solution, read from the one list of quantities."""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence
from pathlib import Path

from ..maths.activations import ACTIVATIONS
from ..model.problem import Problem
from ..model.quantities import Kind, Quantity, answer_quantities, key_of, shape_of
from .untrusted import ALLOW_OPTION, clean_text


def template_text(problem: Problem, problem_ref: str, schedule: Sequence[Sequence[int]],
                  updates: int | None = None, only: Collection[int] | None = None) -> str:
    """A blank answer sheet with every key of the problem (``~`` = not answered);
    ``only``: the 1-based updates it asks for (None: all), those a practice page
    practises."""
    layers = problem.layers
    depth = len(layers) - 1
    count = len(schedule) if updates is None else min(updates, len(schedule))
    nested = len(schedule) > 1
    out = [
        "# bpnn-steps answer sheet" + (f": {_title_line(problem.title)}" if problem.title
                                       else ""),
        "# Replace each ~ by your number (leave ~ where you have no answer), then mark",
        "# it with:  bpnn-steps check THIS_FILE",
        "# Keys read like the lecture: z[n](t), h(t) (hidden values of sample t), yhat(t),",
        "# J(t) (loss of sample t), J (the cost), delta[n](t) = dJ/dz, grad W[n](t) (the",
        "# gradient of sample t), grad W[n] (their mean), W[n] new.  Matrices have the",
        "# shape of W[n], row 0 = biases.  A quoted formula of numbers (\"1/3\") is fine.",
        f"problem: {_yaml_scalar(problem_ref)}",
        "student: ~",
        "answers:",
    ]
    if problem.variant:             # the variant a sheet answers travels with it
        out.insert(-2, f"variant: {_yaml_scalar(problem.variant)}")
    for u in range(1, count + 1):
        if only is not None and u not in only:
            continue
        samples = tuple(schedule[u - 1])
        indent = "  "
        if nested:
            shown = ", ".join(str(s) for s in samples)
            out.append(f"  update {u}:{' ' * 10}# sample{'s' if len(samples) > 1 else ''} "
                       f"{shown}")
            indent = "    "
        section = None
        for q in template_quantities(problem, samples, u):
            key = key_of(q, depth)
            heading = _template_heading(q, depth, problem)
            if heading != section:
                section = heading
                out.append(f"{indent}# {heading}")
            shape = shape_of(q.kind, q.layer, layers)
            comment = _template_comment(q, depth, problem)
            if len(shape) == 2:
                out.append(f"{indent}{key}:{'':<4}# {comment}")
                row = "[" + ", ".join(["~"] * shape[1]) + "]"
                out.extend(f"{indent}  - {row}" for _ in range(shape[0]))
            else:
                value = "~" if not shape else "[" + ", ".join(["~"] * shape[0]) + "]"
                entry = f"{indent}{key}: {value}"
                out.append(f"{entry:<40}# {comment}" if comment else entry)
    if count < len(schedule):
        out.append(f"  # ... updates {count + 1}..{len(schedule)} left out (--updates)")
    elif only is not None and len(only) < count:
        out.append(f"  # only update{'s' if len(only) != 1 else ''} "
                   f"{', '.join(map(str, sorted(only)))} of {count} (those the page practises)")
    out.append("# Formulas of a generic sample t (checked for algebraic equivalence), e.g.")
    out.append(f"#   grad W[{depth}](t): [[\"yhat1 - y1\", ...], ...]")
    hidden = "h1, h2, ..." if depth == 2 else "h1_1 (layer 1, unit 1), ..."
    out.append(f"# in the symbols x1, ..., y1, ..., yhat1, ..., {hidden} and the weights "
               "w{n}_{i}_{j} (w2_0_1 = w_{0,1}^[2]).")
    return "\n".join(out) + "\n"


def template_quantities(problem: Problem, samples: Sequence[int], update: int
                        ) -> list[Quantity]:
    """The quantities a student gives for one update, in the lecture's order: those
    an answer file may give, less z of a linear output (it is yhat itself).  The
    template, the course outputs and their answer keys ask for exactly these."""
    return asked_quantities(problem.layers, problem.activations, samples, update)


def asked_quantities(layers: Sequence[int], activations: Sequence[str], samples: Sequence[int],
                     update: int) -> list[Quantity]:
    """:func:`template_quantities` of a network (the question sheet's answer boxes are
    exactly these, so a sheet copies into an answer file key for key)."""
    depth = len(layers) - 1
    linear = ACTIVATIONS[activations[-1]].identity
    return [q for q in answer_quantities(layers, samples, update)
            if not (linear and q.kind is Kind.Z and q.layer == depth)]


def _template_heading(q: Quantity, depth: int, problem: Problem) -> str:
    from ..numfmt import fmt

    if q.kind in (Kind.Z, Kind.A, Kind.LOSS):
        xs, ys = problem.data()
        x = ", ".join(fmt(v) for v in xs[q.t - 1])
        y = ", ".join(fmt(v) for v in ys[q.t - 1])
        return f"Feed-forward, sample {q.sample}: x = [{x}], y = [{y}]"
    if q.kind is Kind.COST:
        return "Cost of the update"
    if q.kind in (Kind.DELTA, Kind.GRAD):
        which = "output layer" if q.layer == depth else f"layer {q.layer}"
        return f"Backward propagation, {which} (W[{q.layer}])"
    return f"Update of W[{q.layer}]"


def _template_comment(q: Quantity, depth: int, problem: Problem) -> str:
    layers = problem.layers
    if q.kind is Kind.Z:
        return f"z of layer {q.layer}, {layers[q.n]} nodes"
    if q.kind is Kind.A:
        return "" if q.layer == depth else f"{problem.activations[q.n - 1]} values"
    if q.kind is Kind.LOSS:
        return "loss of this sample"
    combine = problem.conventions.cost.value     # mean, or sum (conventions' cost)
    if q.kind is Kind.COST:
        return f"{combine} of J(t) over the update's samples"
    if q.kind is Kind.DELTA:
        return "dJ/dz"
    rows, cols = shape_of(q.kind, q.layer, layers)
    if q.kind is Kind.GRAD:
        return f"{rows} x {cols}, row 0 = biases"
    if q.kind is Kind.MEAN:
        return f"{rows} x {cols}, {combine} over the update's samples"
    return f"{rows} x {cols}, W[{q.layer}] - lambda * grad W[{q.layer}]"


def reference_note(problem_ref: str, problem_path: Path, sheet: Path | None) -> str:
    """A note for the writer of a sheet whose ``problem:`` leads out of the sheet's
    folder: ``check`` reads an answer file's problem only inside the answer file's
    folder or the current folder, unless told otherwise."""
    if not problem_ref.startswith("../") and problem_ref != "..":
        return ""
    from .bundled import sheet_folder

    # absolute: the marking may run from another folder than the one writing the sheet
    folder = os.path.realpath(problem_path.parent)
    where = "standard output" if sheet is None or str(sheet) == "-" else str(sheet)
    return (f"the sheet ({where}) names its problem {problem_ref}, outside the "
            f"sheet's folder {sheet_folder(sheet)}; check accepts it when run from a folder "
            f"that holds both, or with {ALLOW_OPTION} {folder}")


TITLE_SHOWN = 200      # characters of the title in the sheet's first line


def _title_line(title: str) -> str:
    """The title for a comment line: clean and short (a title of 12,000 characters
    made a line over the answer-file reader's limit, so the sheet could not be marked)."""
    title = clean_text(title)
    return title if len(title) <= TITLE_SHOWN else title[:TITLE_SHOWN - 1] + "…"


def _yaml_scalar(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", text) and not text.startswith(("-", ".")):
        return text
    from .problem_writer import yaml_string

    return yaml_string(text)
