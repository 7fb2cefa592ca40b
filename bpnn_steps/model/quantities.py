"""The quantities of a worked solution: one list, read by every part of bpnn-steps.

An update of a hand calculation is made of these quantities, in the lecture's
order: the feed-forward of each sample (z, then the unit values h or ŷ of each
layer, then the sample's loss J₍ₜ₎), the cost J̄ of the update, the backward
pass layer by layer from the output (each sample's error, the derivatives H_d,
δ, then each sample's gradient matrix), and the update (each layer's mean
gradient and new weights).

For every kind this module says, once: its canonical key (the form
``check --template`` writes, which is also the gradebook's column), the
spellings an answer file may use, its symbol, its shape, where its value sits
in a :class:`~bpnn_steps.model.trace.Trace`, which earlier quantities it is
computed from, and its place in the lecture's order.  The report, the sheets,
the check template, the answer reader, follow-through marking and the
gradebook all read it from here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum, StrEnum
from typing import NamedTuple

import numpy as np

from .notation import MINUS, Entry, EntryForm, Expr, Grad, Sym, Token, sub, unit_base
from .trace import Step


class Kind(StrEnum):
    """What a quantity is (its value is the canonical short name)."""

    Z = "z"                    # z[n] of sample t: the weighted input of layer n
    A = "a"                    # a[n] of sample t: h (hidden units) or ŷ (outputs)
    LOSS = "J"                 # J₍ₜ₎, the loss of sample t
    COST = "cost"              # J̄, the cost of the update's samples
    ERROR = "error"            # dJ/da[n]: Ŷ − Y at the output, W̄ δ below
    DERIVATIVE = "derivative"  # H_d[n] = f'(z[n])
    DELTA = "delta"            # δ[n] = dJ/dz[n]
    GRAD = "grad"              # ∇J₍ₜ₎(W[n]), the gradient of sample t
    MEAN = "mean"              # the mean gradient of the update's samples
    NEW = "new"                # W[n] after the update


class Extent(Enum):
    """The shape of a quantity's value."""

    SCALAR = "a number"
    UNITS = "one number per unit of layer n"
    WEIGHTS = "a matrix of the shape of W[n]"


class Spec(NamedTuple):
    """What is fixed for a kind of quantity."""

    kind: Kind
    per_sample: bool           # one per sample t (else one per update)
    layered: bool              # one per weight layer n
    extent: Extent
    answered: bool             # an answer file may give it (check --template asks for it)
    computed_from: str         # how it is computed, for messages and sheets


SPECS: dict[Kind, Spec] = {s.kind: s for s in (
    Spec(Kind.Z, True, True, Extent.UNITS, True, "z = [1, a[n-1]] W[n]"),
    Spec(Kind.A, True, True, Extent.UNITS, True, "a = f(z)"),
    Spec(Kind.LOSS, True, False, Extent.SCALAR, True, "the loss of the sample"),
    Spec(Kind.COST, False, False, Extent.SCALAR, True, "the mean of J(t) over the update"),
    Spec(Kind.ERROR, True, True, Extent.UNITS, False, "dJ/da"),
    Spec(Kind.DERIVATIVE, True, True, Extent.UNITS, False, "f'(z)"),
    Spec(Kind.DELTA, True, True, Extent.UNITS, True, "dJ/dz = error (.) f'(z)"),
    Spec(Kind.GRAD, True, True, Extent.WEIGHTS, True, "[1, a[n-1]]^T delta"),
    Spec(Kind.MEAN, False, True, Extent.WEIGHTS, True, "the mean over the update"),
    Spec(Kind.NEW, False, True, Extent.WEIGHTS, True, "W - lambda (mean gradient + beta R)"),
)}


class Quantity(NamedTuple):
    """One quantity of a worked solution: its kind, the update (1-based), the weight
    layer n (1-based; None for J and the cost) and the sample t (1-based; None for
    per-update quantities)."""

    update: int
    kind: Kind
    layer: int | None = None
    sample: int | None = None

    @property
    def spec(self) -> Spec:
        return SPECS[self.kind]

    @property
    def n(self) -> int:
        """The weight layer of a layered quantity."""
        if self.layer is None:
            raise ValueError(f"{self.kind} has no layer")
        return self.layer

    @property
    def t(self) -> int:
        """The sample of a per-sample quantity."""
        if self.sample is None:
            raise ValueError(f"{self.kind} has no sample")
        return self.sample


# --------------------------------------------------------------------------- the list


def update_quantities(layers: Sequence[int], samples: Sequence[int], update: int = 0
                      ) -> list[Quantity]:
    """Every quantity of one update in the lecture's order: the feed-forward sample
    by sample, the cost, the backward pass layer by layer (each kind for all
    samples), then the update layer by layer."""
    depth = len(layers) - 1
    out: list[Quantity] = []
    for t in samples:
        for n in range(1, depth + 1):
            out += [Quantity(update, Kind.Z, n, t), Quantity(update, Kind.A, n, t)]
        out.append(Quantity(update, Kind.LOSS, None, t))
    out.append(Quantity(update, Kind.COST))
    for n in range(depth, 0, -1):
        for kind in (Kind.ERROR, Kind.DERIVATIVE, Kind.DELTA, Kind.GRAD):
            out += [Quantity(update, kind, n, t) for t in samples]
    for n in range(depth, 0, -1):
        out += [Quantity(update, Kind.MEAN, n), Quantity(update, Kind.NEW, n)]
    return out


def answer_quantities(layers: Sequence[int], samples: Sequence[int], update: int = 0
                      ) -> list[Quantity]:
    """The quantities an answer file may give for one update, in the lecture's order."""
    return [q for q in update_quantities(layers, samples, update) if q.spec.answered]


def inputs(q: Quantity, schedule: Sequence[Sequence[int]], depth: int) -> list[Quantity]:
    """The quantities ``q`` is computed from; the weights before an update are the
    previous update's new weights (the problem's initial weights for update 1)."""
    u, L = q.update, depth
    if q.kind is Kind.COST:
        before = [Quantity(u - 1, Kind.NEW, k) for k in range(1, L + 1)] if u > 1 else []
        return [Quantity(u, Kind.LOSS, None, s) for s in schedule[u - 1]] + before
    if q.kind is Kind.LOSS:
        return [Quantity(u, Kind.Z, L, q.sample), Quantity(u, Kind.A, L, q.sample)]
    n = q.n
    if q.kind is Kind.MEAN:
        return [Quantity(u, Kind.GRAD, n, s) for s in schedule[u - 1]]
    if q.kind is Kind.NEW:
        return [Quantity(u, Kind.MEAN, n)] + ([Quantity(u - 1, Kind.NEW, n)] if u > 1 else [])
    t = q.t

    def w(m: int) -> list[Quantity]:
        return [Quantity(u - 1, Kind.NEW, m)] if u > 1 else []

    def a(m: int) -> list[Quantity]:         # a[m] of sample t (m = 0 is the input x)
        return [Quantity(u, Kind.A, m, t)] if m > 0 else []

    if q.kind is Kind.Z:
        return a(n - 1) + w(n)
    if q.kind is Kind.A:
        return [Quantity(u, Kind.Z, n, t)]
    own = [Quantity(u, Kind.Z, n, t), Quantity(u, Kind.A, n, t)]
    if q.kind is Kind.ERROR:
        return own if n == L else [Quantity(u, Kind.DELTA, n + 1, t)] + w(n + 1)
    if q.kind is Kind.DERIVATIVE:
        return own
    if q.kind is Kind.DELTA:
        return own if n == L else [Quantity(u, Kind.DELTA, n + 1, t)] + own + w(n + 1)
    return a(n - 1) + [Quantity(u, Kind.DELTA, n, t)]     # GRAD


def value_in(step: Step, q: Quantity) -> np.ndarray | None:
    """Where ``q`` sits in the traced update ``step`` (None: not formed, e.g. the
    output error when the loss and the output activation cancel)."""
    if q.kind is Kind.COST:
        return np.asarray(step.cost)
    if q.kind is Kind.LOSS:
        return np.asarray(step.forward[step.samples.index(q.t)].loss)
    n = q.n
    if q.kind is Kind.MEAN:
        return step.mean_grad[n - 1]
    if q.kind is Kind.NEW:
        return step.weights_after[n - 1]
    index = step.samples.index(q.t)
    forward, backward = step.forward[index], step.backward[index]
    if q.kind is Kind.Z:
        return forward.z[n - 1]
    if q.kind is Kind.A:
        return forward.a[n - 1]
    if q.kind is Kind.ERROR:
        return backward.error[n - 1]
    if q.kind is Kind.DERIVATIVE:
        return backward.derivative[n - 1]
    if q.kind is Kind.DELTA:
        return backward.delta[n - 1]
    return backward.grad[n - 1]


def value_of(step: Step, q: Quantity) -> np.ndarray:
    """Like :func:`value_in`, for a quantity the update always forms."""
    found = value_in(step, q)
    if found is None:
        raise ValueError(f"update {step.index} forms no {q.kind} for layer {q.layer}")
    return found


# --------------------------------------------------------------------------- shapes


def shape_of(kind: Kind, layer: int | None, layers: Sequence[int]) -> tuple[int, ...]:
    extent = SPECS[kind].extent
    if extent is Extent.SCALAR or layer is None:
        return ()
    if extent is Extent.UNITS:
        return (layers[layer],)
    return (layers[layer - 1] + 1, layers[layer])


def describe_shape(kind: Kind, layer: int | None, layers: Sequence[int]) -> str:
    """The expected shape in words, for messages."""
    depth = len(layers) - 1
    extent = SPECS[kind].extent
    if extent is Extent.SCALAR or layer is None:
        return "a number"
    if extent is Extent.UNITS:
        size = layers[layer]
        what = "output" if layer == depth else "node of layer " + str(layer)
        return f"{size} number{'s' if size != 1 else ''} (one per {what})"
    rows, cols = shape_of(kind, layer, layers)
    return f"a {rows} x {cols} matrix (the shape of W[{layer}], row 0 = biases)"


# --------------------------------------------------------------------------- keys


def key_name(kind: Kind, layer: int | None, sample: int | str | None, depth: int) -> str:
    """The canonical key of a quantity (``sample`` "t" for generic-sample formulas)."""
    if kind is Kind.Z:
        return f"z[{layer}]({sample})"
    if kind is Kind.A:
        base, shown_layer = unit_base(layer or 0, depth)
        name = "yhat" if base == "yhat" else "h"
        return f"{name}({sample})" if shown_layer is None else f"{name}[{shown_layer}]({sample})"
    if kind is Kind.LOSS:
        return f"J({sample})"
    if kind is Kind.COST:
        return "J"
    if kind is Kind.ERROR:
        return f"error[{layer}]({sample})"
    if kind is Kind.DERIVATIVE:
        return f"Hd[{layer}]({sample})"
    if kind is Kind.DELTA:
        return f"delta[{layer}]({sample})"
    if kind is Kind.GRAD:
        return f"grad W[{layer}]({sample})"
    if kind is Kind.MEAN:
        return f"grad W[{layer}]"
    return f"W[{layer}] new"


def key_of(q: Quantity, depth: int) -> str:
    return key_name(q.kind, q.layer, q.sample, depth)


class KeySpec(NamedTuple):
    """What an answer-file key names (``sample`` "t": a generic-sample formula)."""

    kind: Kind
    layer: int | None
    sample: int | str | None

    @property
    def n(self) -> int:
        """The weight layer of a layered quantity's key."""
        if self.layer is None:
            raise ValueError(f"{self.kind} has no layer")
        return self.layer


# Spellings an answer file may use, written compact (no spaces, lower case, the
# Unicode symbols replaced): each maps to the quantity it names.
_UNICODE_KEYS = (("ŷ", "yhat"), ("δ", "delta"), ("∇", "grad"), ("j̄", "j"))
_KEY_PATTERNS = (
    (re.compile(r"(z|a|h|delta)(?:\[(\d{1,9})\])?\((\d{1,9}|t)\)"), "unit"),
    (re.compile(r"yhat\((\d{1,9}|t)\)"), "yhat"),
    (re.compile(r"j\((\d{1,9}|t)\)"), "loss"),
    (re.compile(r"(?:j|cost|jbar)"), "cost"),
    (re.compile(r"gradw\[(\d{1,9})\](?:\((\d{1,9}|t)\))?"), "grad"),
    (re.compile(r"w\[(\d{1,9})\]new"), "new"),
)
UPDATE_KEY = re.compile(r"update(\d{1,9})")
_UNIT_KINDS = {"z": Kind.Z, "a": Kind.A, "h": Kind.A, "delta": Kind.DELTA}


def compact(key: str) -> str:
    """A key as compared: without spaces, lower case, Unicode symbols spelled out."""
    text = "".join(key.split()).lower()
    for a, b in _UNICODE_KEYS:
        text = text.replace(a, b)
    return text


def parse_key(key: str, depth: int) -> KeySpec | str:
    """The quantity a key names, or a message saying what is wrong with it."""
    text = compact(key)
    for pattern, form in _KEY_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        if form == "unit":
            base, layer_text, sample_text = m.groups()
            if layer_text is None:
                if base == "h" and depth == 2:
                    layer = 1
                elif base == "h":
                    return f"needs the hidden layer: h[n](t) with n = 1..{depth - 1}"
                else:
                    return f"needs the layer: {base}[n](t) with n = 1..{depth}"
            else:
                layer = int(layer_text)
            top = depth - 1 if base == "h" else depth
            if not 1 <= layer <= top:
                return f"names layer {layer}; the network has layers 1..{top}" + \
                    (" (h is a hidden layer)" if base == "h" else "")
            return KeySpec(_UNIT_KINDS[base], layer, _sample(sample_text))
        if form == "yhat":
            return KeySpec(Kind.A, depth, _sample(m.group(1)))
        if form == "loss":
            return KeySpec(Kind.LOSS, None, _sample(m.group(1)))
        if form == "cost":
            return KeySpec(Kind.COST, None, None)
        layer = int(m.group(1))
        if not 1 <= layer <= depth:
            return f"names W[{layer}]; the network has W[1]..W[{depth}]"
        if form == "new":
            return KeySpec(Kind.NEW, layer, None)
        if m.group(2) is None:
            return KeySpec(Kind.MEAN, layer, None)
        return KeySpec(Kind.GRAD, layer, _sample(m.group(2)))
    return "is not a known key"


def _sample(text: str) -> int | str:
    return "t" if text == "t" else int(text)


# --------------------------------------------------------------------------- symbols

_ENTRY_FORMS = {Kind.GRAD: EntryForm.GRADIENT, Kind.MEAN: EntryForm.MEAN,
                Kind.NEW: EntryForm.NEW}


def symbol(q: Quantity, depth: int) -> Expr:
    """The lecture's symbol of the whole quantity: z⁽¹⁾₍₁₎, h₍₁₎, J₍₁₎, J̄, Ŷ₍₁₎ − Y₍₁₎
    (the output error; W̄⁽ⁿ⁺¹⁾δ⁽ⁿ⁺¹⁾₍ₜ₎ below it), H_d, δ, ∇J₍₁₎(W⁽²⁾), the mean
    ∇J(W⁽²⁾), W⁽²⁾ new."""
    t, n = q.sample, q.layer
    if q.kind is Kind.LOSS:
        return (Sym("J", (), t),)
    if q.kind is Kind.COST:
        return (Sym("Jbar"),)
    if q.kind is Kind.GRAD:
        return (Grad(q.n, t),)
    if q.kind is Kind.MEAN:
        return (Grad(q.n),)
    if q.kind is Kind.NEW:
        return (Sym("W", (), None, n, "new"),)
    if q.kind is Kind.A:
        base, layer = unit_base(q.n, depth)
        return (Sym({"yhat": "Yhat"}.get(base, base), (), t, layer),)
    if q.kind is Kind.ERROR:
        if q.n == depth:
            return (Sym("Yhat", (), t), MINUS, Sym("Y", (), t))
        return (Sym("Wbar", (), None, q.n + 1), Sym("delta", (), t, q.n + 1))
    if q.kind is Kind.DERIVATIVE:       # H_d of the one hidden layer carries no layer
        return (Sym("H", (), t, None if depth == 2 and q.n == 1 else n, "d"),)
    return (Sym({Kind.Z: "z", Kind.DELTA: "delta"}[q.kind], (), t, n),)


def entry_symbol(q: Quantity, index: tuple[int, ...], depth: int) -> Token:
    """The lecture's symbol of one entry of ``q`` (0-based ``index``)."""
    if q.kind in _ENTRY_FORMS:
        i, j = index
        return Entry(_ENTRY_FORMS[q.kind], q.n, i, j + 1, q.sample)
    if q.kind is Kind.LOSS:
        return Sym("J", (), q.sample)
    if q.kind is Kind.COST:
        return Sym("Jbar")
    j = index[0] + 1
    if q.kind is Kind.A:
        base, layer = unit_base(q.n, depth)
        return Sym(base, (j,), q.sample, layer)
    return Sym({Kind.Z: "z", Kind.DELTA: "delta", Kind.DERIVATIVE: "H",
                Kind.ERROR: "e"}[q.kind], (j,), q.sample, q.n,
               "d" if q.kind is Kind.DERIVATIVE else "")


# --------------------------------------------------------------------------- names


def entry_name(q: Quantity, index: tuple[int, ...], depth: int) -> str:
    """The lecture's name of one entry of ``q``, in Unicode (a gradient without a
    sample is the generic sample t of a formula)."""
    t, n = q.sample, q.layer
    if q.kind in (Kind.Z, Kind.A, Kind.DELTA, Kind.ERROR, Kind.DERIVATIVE):
        j = index[0] + 1
        if q.kind is Kind.A:
            base, layer = unit_base(q.n, depth)
            return Sym(base, (j,), t, layer).unicode()
        base = {Kind.Z: "z", Kind.DELTA: "delta"}.get(q.kind, "")
        if q.kind is Kind.ERROR:
            return f"∂J/∂{entry_name(Quantity(q.update, Kind.A, n, q.sample), index, depth)}"
        if q.kind is Kind.DERIVATIVE:
            return f"f′({Sym('z', (j,), t, n).unicode()})"
        return Sym(base, (j,), t, n).unicode()
    if q.kind is Kind.LOSS:
        return Sym("J", (), t).unicode()
    if q.kind is Kind.COST:
        return Sym("Jbar").unicode()
    return entry_text(Entry(_ENTRY_FORMS[q.kind], q.n, index[0], index[1] + 1, t))


def entry_text(entry: Entry) -> str:
    """A weight's entry of a gradient or of the new weights in Unicode: ∂J₍₁₎/∂w₀,₁⁽²⁾
    (a gradient without a sample is the generic sample t of a formula)."""
    w = Sym("w", (entry.i, entry.j), None, entry.layer)
    if entry.form is EntryForm.NEW:
        return f"{w.unicode()} new"
    if entry.form is EntryForm.MEAN:
        return f"mean ∂J/∂{w.unicode()}"
    sample = "t" if entry.sample is None else entry.sample
    return f"∂J{sub(f'({sample})')}/∂{w.unicode()}"
