"""Every entry of a derived gradient as data (``bpnn-steps derive --format json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model.conventions import LECTURE, Conventions


def derivation_entries(layers: Sequence[int], activations: Sequence[str], loss: str,
                       conventions: Conventions = LECTURE) -> dict[str, Any]:
    """The network, and every entry dJ/dw_{i,j}^[n] in LaTeX, Unicode and sympy's
    text (sympy's names: see :func:`bpnn_steps.maths.symbolic.answer_symbols`).
    Under conventions other than the lecture's the document names them, and with
    ``update_order: output_first`` each entry says whether it is a derivative of
    the cost (``derivative``: false below the output layer)."""
    from ..maths.symbolic import derive, gradient_entries, to_latex, to_unicode

    d = derive(layers, activations, loss, conventions)
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
