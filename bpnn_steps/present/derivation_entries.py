"""Every entry of a derived gradient as data (``bpnn-steps derive --format json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def derivation_entries(layers: Sequence[int], activations: Sequence[str], loss: str
                       ) -> dict[str, Any]:
    """The network, and every entry dJ/dw_{i,j}^[n] in LaTeX, Unicode and sympy's
    text (sympy's names: see :func:`bpnn_steps.maths.symbolic.answer_symbols`)."""
    from ..maths.symbolic import derive, gradient_entries, to_latex, to_unicode

    d = derive(layers, activations, loss)
    exprs = gradient_entries(layers, activations, loss)
    entries = []
    for layer in d.layer:
        for i, row in enumerate(layer.entries):
            for j, node in enumerate(row, start=1):
                entries.append({"layer": layer.n, "i": i, "j": j, "latex": to_latex(node),
                                "text": to_unicode(node), "sympy": str(exprs[(layer.n, i, j)])})
    return {"layers": list(d.layers), "activations": list(d.activations), "loss": d.loss,
            "entries": entries}
