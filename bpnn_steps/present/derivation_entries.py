"""Every entry of a derived gradient as data (``bpnn-steps derive --format json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ProblemError
from ..model.conventions import LECTURE, Conventions

# Symbols of all entries written out in full: [4, 16, 16, 3] has 20,614 (2 s); each
# layer deeper multiplies them by its width ([1, 10, 10, 10, 10, 1]: 240,000 symbols,
# 15 s and 10 MB; [2, 30, 30, 30, 30, 30, 2]: 8 million in one entry, hours).
MAX_JSON_SYMBOLS = 50_000


def derivation_entries(layers: Sequence[int], activations: Sequence[str], loss: str,
                       conventions: Conventions = LECTURE) -> dict[str, Any]:
    """The network, and every entry dJ/dw_{i,j}^[n] in LaTeX, Unicode and sympy's
    text (sympy's names: see :func:`bpnn_steps.maths.symbolic.answer_symbols`).
    Under conventions other than the lecture's the document names them, and with
    ``update_order: output_first`` each entry says whether it is a derivative of
    the cost (``derivative``: false below the output layer)."""
    from ..maths.symbolic import derive, gradient_entries, size, to_latex, to_unicode

    d = derive(layers, activations, loss, conventions)
    memo: dict[int, int] = {}
    symbols = sum(size(node, memo) for layer in d.layer for row in layer.entries
                  for node in row)
    if symbols > MAX_JSON_SYMBOLS:
        raise ProblemError(
            f"derive --format json writes every entry in full: this network's come to "
            f"{symbols:,} symbols (at most {MAX_JSON_SYMBOLS:,}, a network for hand "
            f"calculation); the other formats show large layers in matrix form")
    exprs = gradient_entries(layers, activations, loss, conventions)
    entries = []
    for layer in d.layer:
        for i, row in enumerate(layer.entries):
            for j, node in enumerate(row, start=1):
                entry = {"layer": layer.n, "i": i, "j": j, "latex": to_latex(node),
                         "text": to_unicode(node), "sympy": str(exprs[(layer.n, i, j)])}
                if d.through_new_weights:
                    entry["derivative"] = layer.n == d.depth
                entries.append(entry)
    out = {"layers": list(d.layers), "activations": list(d.activations), "loss": d.loss,
           "entries": entries}
    if conventions.stated:
        out["conventions"] = conventions.to_dict()    # the lecture's: as before
    return out
