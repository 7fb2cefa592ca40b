"""The compiled training kernel: the step engine's update rule as scalar loops.

Only :mod:`bpnn_steps.train` imports this module, and only for runs large
enough to be worth it; it imports numba (``solve`` never does).

For each network shape (layer sizes, activations, loss, one sample or many per
update) the kernel's source is generated with every size and offset written in
as a constant, and compiled by numba with its on-disk cache, so a shape is
compiled once per machine and later runs only load it.  The generated modules
live in a cache folder (see :func:`cache_dir`).

The generated code mirrors :mod:`bpnn_steps.engine` operation by operation:

* forward:  z_j = w[0, j] + sum_i a_i w[i+1, j];  a = f(z)  (the engine's
  ``w[0] + a @ w[1:]``), with the engine's numerically safe forms: sigmoid from
  exp(-|z|), bce from z, log-softmax with the maximum subtracted;
* backward: delta at the output is dJ/dz (y-hat - y for bce/sigmoid and
  ce/softmax, the Jacobian product for mse/softmax, else error times f'(z));
  for a hidden layer error_i = sum_j delta_j w[i+1, j], always formed from the
  weights *before* the update;
* update:   W <- W - lambda (mean_B grad + beta R); gradients are summed in
  batch order and divided by |B|, as ``numpy.mean`` does;
* cost:     mean J over the training set + 1/2 beta sum R^2.

The conventions (CONTRACT section 5) change the generated code only where they
differ from the lecture's, so the lecture's kernels are the same source (the same
cached module) as before: ``scale`` (mse without its ½, a mean over the K outputs)
multiplies J and the output delta as the engine's ``sample_losses`` and
``output_delta`` do; ``cost: sum`` drops the division by |B| in the update (and
the cost is the sum of J); ``update_biases: false`` leaves the bias rows alone;
``update_order: output_first`` updates each layer before the error goes back
through it (a batch then keeps every sample's z, a and delta in row buffers, see
:func:`_emit_output_first_batch`; such runs never use the blocked mode).

Weights live in one flat float64 array: W[n] (shape (size_in + 1) x size_out,
row 0 = biases) starts at ``woff[n]``, row-major.  z, a and delta of layer n
(n = 1 .. L) live in flat buffers at ``aoff[n]``.  No fast-math: results agree
with the step engine to rounding (summation order and the last bit of
exp/log/tanh may differ from numpy's).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from .activations import ACTIVATIONS, RELU_ZERO_RTOL, Activation, Unitwise
from .losses import LOSSES, Cancels, loss_scale
from ..model.conventions import LECTURE, Combine, Conventions, UpdateOrder

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .activations import Array, Indices

    Flags = NDArray[np.bool_]
    # z, exp-argument and a = f(z) of every layer for a block of samples (blocked mode)
    Buffers = tuple[tuple[Array, ...], tuple[Array, ...], tuple[Array, ...]]
    # stage_n(w, X, order, start, count, Zs, Es, As) of a blocked kernel
    Stage = Callable[[Array, Array, Indices, int, int, tuple[Array, ...], tuple[Array, ...],
                      tuple[Array, ...]], None]

# Bump when the generated code changes meaning (it is part of the file name).
GENERATOR_VERSION = 2
_LOCK = threading.Lock()
_LOADED: dict[str, KernelModule] = {}


class KernelModule(Protocol):
    """A generated kernel module (its functions are compiled by numba, so their
    signatures are declared here).  ``CACHE``: loaded from a file with numba's disk
    cache (False: compiled in memory).  Modes "sample" and "batch"
    (:func:`generate_source`) define ``train_chunk``; mode "blocked"
    (:func:`generate_blocked_source`) defines ``STAGES``, ``ACTIVATIONS``, ``back`` and
    ``update``."""

    CACHE: bool
    STAGES: tuple[Stage, ...]
    ACTIVATIONS: tuple[str, ...]

    def train_chunk(self, w: Array, X: Array, Y: Array, orders: Indices, batch: int,
                    lr: float, beta: float, l2_bias: bool, epochs: int, record_cost: Flags,
                    costs: Array, Xt: Array, Yt: Array, record_test: Flags,
                    test_costs: Array, /) -> int: ...

    def back(self, w: Array, X: Array, Y: Array, order: Indices, start: int, count: int,
             Zs: tuple[Array, ...], Es: tuple[Array, ...], As: tuple[Array, ...],
             gsum: Array, sums: Array, backprop: bool, /) -> None: ...

    def update(self, w: Array, gsum: Array, size: int, lr: float, beta: float,
               l2_bias: bool, /) -> None: ...


# --------------------------------------------------------------------------- layout


def layout(layers: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """(woff, aoff): where W[n] starts in the flat weights (n = 0 .. L-1, plus
    the end), and where layer n's values start in the flat buffers (aoff[0] is
    unused: layer 0 is the input row itself)."""
    woff = [0]
    for a, b in zip(layers[:-1], layers[1:]):
        woff.append(woff[-1] + (a + 1) * b)
    aoff = [0, 0]
    for size in layers[1:]:
        aoff.append(aoff[-1] + size)
    return woff, aoff


def flatten(weights: Sequence[Array]) -> Array:
    return np.concatenate([np.ascontiguousarray(w, dtype=float).ravel() for w in weights])


def unflatten(w: Array, layers: tuple[int, ...]) -> list[Array]:
    woff, _ = layout(layers)
    return [w[woff[n]:woff[n + 1]].reshape(layers[n] + 1, layers[n + 1]).copy()
            for n in range(len(layers) - 1)]


# --------------------------------------------------------------------------- code generation


class _Code:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, text: str = "") -> None:
        for line in text.splitlines() or [""]:
            self.lines.append("    " * self.depth + line if line else "")

    def block(self, header: str) -> "_Indent":
        self(header)
        return _Indent(self)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Indent:
    def __init__(self, code: _Code) -> None:
        self.code = code

    def __enter__(self) -> None:
        self.code.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.code.depth -= 1


class _Net:
    """The network shape, and how the generated code names its values.

    Flat mode (one sample at a time): z, a of layer n (1-based) at aoff[n] in the
    buffers zb, ab.  Blocked mode (a block of samples, row s): in arrays Zn, An.
    Deltas of the current sample are always in the flat buffer db.
    """

    def __init__(self, layers: tuple[int, ...], activations: tuple[str, ...], loss: str,
                 blocked: bool = False, conventions: Conventions = LECTURE) -> None:
        self.layers = layers
        self.acts = activations
        self.loss = loss
        self.depth = len(layers) - 1
        self.woff, self.aoff = layout(layers)
        self.blocked = blocked
        # The conventions, as what the generated code does differently.
        self.scale = loss_scale(LOSSES[loss], conventions, layers[-1])
        self.summed = conventions.cost is Combine.SUM
        self.update_biases = conventions.update_biases
        self.output_first = conventions.update_order is UpdateOrder.OUTPUT_FIRST
        # Row buffers (row s of zb, ab, db: sample s of the batch), output_first batches.
        self.rows = False

    def size(self, n: int) -> int:           # units of layer n (0 = inputs)
        return self.layers[n]

    def _flat(self, buffer: str, n: int, i: str) -> str:
        row = "s, " if self.rows else ""
        return f"{buffer}[{row}{self.aoff[n]} + {i}]"

    def z(self, n: int, i: str) -> str:
        return f"Z{n}[s, {i}]" if self.blocked else self._flat("zb", n, i)

    def a(self, n: int, i: str) -> str:
        return f"A{n}[s, {i}]" if self.blocked else self._flat("ab", n, i)

    def d(self, n: int, i: str) -> str:
        return self._flat("db", n, i)

    def scaled(self, value: str) -> str:
        """``value`` times the conventions' factor on J (the engine's ``scale * x``)."""
        return value if self.scale == 1.0 else f"{self.scale!r} * ({value})"

    def input(self, n: int, i: str) -> str:  # value i feeding weight layer n
        return f"X[t, {i}]" if n == 1 else self.a(n - 1, i)

    def weight(self, n: int, i: str, j: str) -> str:   # W[n][i + 1, j]
        base, n_out = self.woff[n - 1], self.size(n)
        return f"w[{base + n_out} + {i} * {n_out} + {j}]"

    def bias(self, n: int, j: str) -> str:             # W[n][0, j]
        return f"w[{self.woff[n - 1]} + {j}]"


def _emit_activation(c: _Code, act: str, z: str, target: str) -> None:
    """target = f(z) for an elementwise activation (the engine's forms)."""
    c(ACTIVATIONS[act].unitwise.kernel.value(z, target))


def _derivative(act: str, z: str, a: str) -> str:
    """f'(z) as the engine forms it, from z and a = f(z)."""
    return ACTIVATIONS[act].unitwise.kernel.derivative(z, a)


def _emit_layer_value(c: _Code, net: _Net, n: int) -> None:
    """a = f(z) for the whole of layer n (an activation of the layer, softmax)."""
    kernel = ACTIVATIONS[net.acts[n - 1]].layerwise.kernel
    c(kernel.value(lambda j: net.z(n, j), lambda j: net.a(n, j), net.size(n)))


def _emit_layer_z(c: _Code, net: _Net, n: int, then: Callable[[str], None]) -> None:
    """z_j = w[0, j] + sum_i a_i w[i+1, j] for layer n, then ``then(z)`` per unit."""
    n_in, n_out = net.size(n - 1), net.size(n)
    c(f"# layer {n}: {n_in} -> {n_out}, {net.acts[n - 1]}")
    relu = ACTIVATIONS[net.acts[n - 1]].snaps_zero
    with c.block(f"for j in range({n_out}):"):
        c("acc = 0.0")
        if relu:
            c("mag = 0.0")
        with c.block(f"for i in range({n_in}):"):
            c(f"acc += {net.input(n, 'i')} * {net.weight(n, 'i', 'j')}")
            if relu:
                c(f"mag += abs({net.input(n, 'i')} * {net.weight(n, 'i', 'j')})")
        c(f"z = {net.bias(n, 'j')} + acc")
        if relu:   # activations.zero_snapped: rounding noise around 0 is 0
            with c.block(f"if abs(z) <= {RELU_ZERO_RTOL!r} * (abs({net.bias(n, 'j')}) + mag):"):
                c("z = 0.0")
        c(f"{net.z(n, 'j')} = z")
        then("z")


def _emit_forward(c: _Code, net: _Net) -> None:
    """z and a of every layer for sample t (row t of X) into zb, ab."""
    for n in range(1, net.depth + 1):
        act = net.acts[n - 1]

        elementwise = ACTIVATIONS[act].elementwise

        def then(z: str, act: str = act, n: int = n, elementwise: bool = elementwise) -> None:
            if elementwise:
                _emit_activation(c, act, z, net.a(n, "j"))

        _emit_layer_z(c, net, n, then)
        if not elementwise:
            _emit_layer_value(c, net, n)


def _y(j: str) -> str:
    return f"Y[t, {j}]"


def _emit_loss(c: _Code, net: _Net, target: str) -> None:
    """target = J of sample t from the output layer's z, a and row t of Y."""
    L = net.depth
    c(LOSSES[net.loss].kernel_value(lambda j: net.z(L, j), lambda j: net.a(L, j), _y,
                                    net.size(L), target))
    if net.scale != 1.0:
        c(f"{target} = {target} * {net.scale!r}")


def _emit_output_delta(c: _Code, net: _Net) -> None:
    L = net.depth
    k, act = net.size(L), net.acts[-1]
    rule = LOSSES[net.loss].output
    form = ACTIVATIONS[act].form
    if isinstance(rule, Cancels):
        c(rule.kernel(lambda j: net.a(L, j), _y, lambda j: net.d(L, j), k))
        if net.scale != 1.0:
            with c.block(f"for j in range({k}):"):
                c(f"{net.d(L, 'j')} = {net.scaled(net.d(L, 'j'))}")
    elif isinstance(form, Unitwise):
        with c.block(f"for j in range({k}):"):
            c(f"a = {net.a(L, 'j')}")
            c(f"{net.d(L, 'j')} = ({net.scaled(rule.kernel('a', _y('j')))}) * "
              f"({_derivative(act, net.z(L, 'j'), 'a')})")
    else:   # through the Jacobian (softmax under mse)
        c(form.kernel.jacobian_product(lambda j: net.a(L, j),
                                       lambda j: net.scaled(rule.kernel(net.a(L, j), _y(j))),
                                       lambda j: net.d(L, j), k))


def _emit_hidden_delta(c: _Code, net: _Net, n: int) -> None:
    """delta of layer n - 1 from delta of layer n through W[n] (before its update)."""
    n_mid, n_out = net.size(n - 1), net.size(n)
    act = net.acts[n - 2]
    with c.block(f"for i in range({n_mid}):"):
        c("err = 0.0")
        with c.block(f"for j in range({n_out}):"):
            c(f"err += {net.d(n, 'j')} * {net.weight(n, 'i', 'j')}")
        c(f"a = {net.a(n - 1, 'i')}")
        c(f"{net.d(n - 1, 'i')} = err * ({_derivative(act, net.z(n - 1, 'i'), 'a')})")


def _emit_sample_update(c: _Code, net: _Net, n: int) -> None:
    """W[n] <- W[n] - lambda (grad + beta R) for one sample, in place."""
    n_in, n_out = net.size(n - 1), net.size(n)
    base = net.woff[n - 1]
    for decay in (True, False):
        if not net.update_biases:
            break               # the conventions keep row 0 (the biases) as it is
        cond = "if beta != 0.0 and l2_bias:" if decay else "else:"
        with c.block(cond):
            with c.block(f"for j in range({n_out}):"):
                c(f"q = {base} + j")
                c(f"w[q] = w[q] - lr * ({net.d(n, 'j')} + beta * w[q])" if decay else
                  f"w[q] = w[q] - lr * {net.d(n, 'j')}")
    for decay in (True, False):
        with c.block("if beta != 0.0:" if decay else "else:"):
            with c.block(f"for i in range({n_in}):"):
                c(f"ai = {net.input(n, 'i')}")
                with c.block(f"for j in range({n_out}):"):
                    c(f"q = {base + n_out} + i * {n_out} + j")
                    c(f"g = ai * {net.d(n, 'j')}")
                    c("w[q] = w[q] - lr * (g + beta * w[q])" if decay else "w[q] = w[q] - lr * g")


def _emit_accumulate(c: _Code, net: _Net, n: int) -> None:
    n_in, n_out = net.size(n - 1), net.size(n)
    base = net.woff[n - 1]
    with c.block(f"for j in range({n_out}):"):
        c(f"gsum[{base} + j] += {net.d(n, 'j')}")
    with c.block(f"for i in range({n_in}):"):
        c(f"ai = {net.input(n, 'i')}")
        with c.block(f"for j in range({n_out}):"):
            c(f"gsum[{base + n_out} + i * {n_out} + j] += ai * {net.d(n, 'j')}")


def _emit_batch_update(c: _Code, net: _Net, layers: Sequence[int] | None = None) -> None:
    """W[n] <- W[n] - lambda (gsum / |B| + beta R) for the layers n (default all)."""
    # cost: sum (conventions) descends the sum of the gradients, not their mean
    mean = "gsum[q]" if net.summed else "gsum[q] / size"
    for n in range(1, net.depth + 1) if layers is None else layers:
        base, end, n_out = net.woff[n - 1], net.woff[n], net.size(n)
        parts = ((base, base + n_out, "beta != 0.0 and l2_bias"),
                 (base + n_out, end, "beta != 0.0"))
        for lo_q, hi_q, cond in parts if net.update_biases else parts[1:]:
            with c.block(f"if {cond}:"):
                with c.block(f"for q in range({lo_q}, {hi_q}):"):
                    c(f"w[q] = w[q] - lr * ({mean} + beta * w[q])")
            with c.block("else:"):
                with c.block(f"for q in range({lo_q}, {hi_q}):"):
                    c(f"w[q] = w[q] - lr * ({mean})")


def _emit_compensated_add(c: _Code, total: str, comp: str, value: str) -> None:
    # Neumaier's compensated sum: as exact as numpy's pairwise mean, or better.
    c(f"u = {total} + {value}")
    with c.block(f"if abs({total}) >= abs({value}):"):
        c(f"{comp} += ({total} - u) + {value}")
    with c.block("else:"):
        c(f"{comp} += ({value} - u) + {total}")
    c(f"{total} = u")


def _conventions_note(conventions: Conventions) -> str:
    """The conventions' keys that differ from the lecture's, for the generated
    docstring (nothing for the lecture's, whose source stays as it was)."""
    keys = [f"{key} {value}" for key, value in conventions.differences()]
    return f" Conventions: {', '.join(keys)}." if keys else ""


def _emit_output_first_batch(c: _Code, net: _Net) -> None:
    """One update over samples order[start:stop] in the output_first order: every
    sample forward and its output delta (rows of zb, ab, db), then layer by layer
    from the output: the layer's gradients summed and the layer updated, and only
    then the error sent back through its new weights (engine.back_propagate's
    ``through``)."""
    L = net.depth
    net.rows = True
    with c.block("for p in range(start, stop):"):
        c("s = p - start")
        c("t = order[p]")
        _emit_sample_forward(c, net)
    _emit_fused_cost(c, net)
    for n in range(L, 0, -1):
        with c.block("for p in range(start, stop):"):
            c("s = p - start")
            c("t = order[p]")
            if n < L:
                _emit_hidden_delta(c, net, n + 1)
            _emit_accumulate(c, net, n)
        _emit_batch_update(c, net, (n,))
    net.rows = False


def _emit_sample_forward(c: _Code, net: _Net) -> None:
    """Sample t forward, its loss added to the fused cost, and its output delta."""
    _emit_forward(c, net)
    with c.block("if fused and e > 0:"):
        _emit_loss(c, net, "v")
        _emit_compensated_add(c, "total", "comp", "v")
    _emit_output_delta(c, net)


def _emit_simultaneous_batch(c: _Code, net: _Net) -> None:
    """One update over samples order[start:stop]: every sample's gradients summed
    (each layer's error from the weights before the update), then the update."""
    with c.block("for p in range(start, stop):"):
        c("t = order[p]")
        _emit_sample_forward(c, net)
        for n in range(net.depth, 0, -1):
            if n > 1:
                _emit_hidden_delta(c, net, n)
            _emit_accumulate(c, net, n)
    _emit_fused_cost(c, net)
    _emit_batch_update(c, net)


def _emit_fused_cost(c: _Code, net: _Net) -> None:
    with c.block("if fused and e > 0:"):
        c("# all epochs are recorded in this mode")
        c(f"costs[e - 1] = (total + comp){'' if net.summed else ' / T'} + "
          "l2_cost(w, beta, l2_bias)")
        with c.block("if not math.isfinite(costs[e - 1]):"):
            c("return e")


def generate_source(layers: tuple[int, ...], activations: tuple[str, ...], loss: str,
                    per_sample: bool, conventions: Conventions = LECTURE) -> str:
    """The kernel module for one network shape (see the module docstring)."""
    net = _Net(tuple(int(n) for n in layers), tuple(activations), loss,
               conventions=conventions)
    width = net.aoff[-1]
    c = _Code()
    c(f'"""bpnn-steps training kernel (generated, version {GENERATOR_VERSION}): layers '
      f'{list(net.layers)}, {", ".join(net.acts)}, {loss}, '
      f'{"one sample" if per_sample else "batches"} per update.'
      f'{_conventions_note(conventions)}"""')
    c("import math")
    c("import numpy as np")
    c("from numba import njit")
    c("")
    c("")
    c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
    with c.block("def data_cost(w, X, Y):"):
        c('"""Mean J over (X, Y) under the flat weights w (no L2 term)."""')
        c(f"zb = np.zeros({width})")
        c(f"ab = np.zeros({width})")
        c("total = 0.0")
        c("comp = 0.0")
        with c.block("for t in range(X.shape[0]):"):
            _emit_forward(c, net)
            _emit_loss(c, net, "v")
            _emit_compensated_add(c, "total", "comp", "v")
        c("return (total + comp) / X.shape[0]")
    c("")
    c("")
    c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
    with c.block("def l2_cost(w, beta, l2_bias):"):
        with c.block("if beta == 0.0:"):
            c("return 0.0")
        c("total = 0.0")
        for n in range(1, net.depth + 1):
            base, end, n_out = net.woff[n - 1], net.woff[n], net.size(n)
            c("layer = 0.0")
            with c.block(f"for q in range({base} if l2_bias else {base + n_out}, {end}):"):
                c("layer += w[q] * w[q]")
            c("total += layer")
        c("return 0.5 * beta * total")
    c("")
    c("")
    c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
    with c.block("def train_chunk(w, X, Y, orders, batch, lr, beta, l2_bias, epochs, "
                 "record_cost, costs, Xt, Yt, record_test, test_costs):"):
        c('"""Run ``epochs`` epochs in place on the flat weights ``w``.\n\n'
          'orders: the sample order of each epoch, one row each (a single row is reused).\n'
          'After epoch e: costs[e] = the whole-data cost when record_cost[e] is set, and\n'
          'test_costs[e] = the mean J over (Xt, Yt) when record_test[e] is set.  Returns\n'
          'the number of epochs run: fewer than ``epochs`` when a recorded cost is not\n'
          'finite (the weights diverged).\n"""')
        c(f"zb = np.zeros({width})")
        c(f"ab = np.zeros({width})")
        c(f"db = np.zeros({width})")
        c("T = X.shape[0]")
        c("shuffled = orders.shape[0] > 1")
        if not per_sample:
            c(f"gsum = np.zeros({net.woff[-1]})")
            if net.output_first:
                for buffer in ("zb", "ab", "db"):
                    c(f"{buffer} = np.zeros((min(batch, T), {width}))")
            c("# One update over all samples (batch GD): the losses of an epoch's forward")
            c("# pass give the cost after the previous epoch, with no second pass.")
            c("fused = batch >= T and T > 1")
        with c.block("for e in range(epochs):"):
            c("order = orders[e] if shuffled else orders[0]")
            if per_sample:
                with c.block("for p in range(T):"):
                    c("t = order[p]")
                    _emit_forward(c, net)
                    _emit_output_delta(c, net)
                    for n in range(net.depth, 0, -1):
                        if net.output_first:     # the error goes back through new W[n]
                            _emit_sample_update(c, net, n)
                        if n > 1:
                            _emit_hidden_delta(c, net, n)
                        if not net.output_first:
                            _emit_sample_update(c, net, n)
                c("fused = False")
            else:
                c("start = 0")
                with c.block("while start < T:"):
                    c("stop = min(start + batch, T)")
                    c("size = stop - start")
                    with c.block(f"for q in range({net.woff[-1]}):"):
                        c("gsum[q] = 0.0")
                    c("total = 0.0")
                    c("comp = 0.0")
                    if net.output_first:
                        _emit_output_first_batch(c, net)
                    else:
                        _emit_simultaneous_batch(c, net)
                    c("start = stop")
            # data_cost is the mean J; cost: sum (conventions) is T times it
            data = "data_cost(w, X, Y) * T" if net.summed else "data_cost(w, X, Y)"
            with c.block("if record_cost[e] and (not fused or e == epochs - 1):"):
                c(f"costs[e] = {data} + l2_cost(w, beta, l2_bias)")
                with c.block("if not math.isfinite(costs[e]):"):
                    c("return e + 1")
            with c.block("if record_test[e]:"):
                c("test_costs[e] = data_cost(w, Xt, Yt)")
        c("return epochs")
    return c.text()


# --------------------------------------------------------------------------- blocked mode
#
# Large batches (full-batch GD on many samples) spend most of their time in exp.
# There the samples go through in blocks, layer by layer: compiled stages compute
# each layer's z for the whole block, numpy computes the block's exp (or tanh)
# with its vectorised routines (the very functions the step engine calls), and a
# last compiled stage does the losses, the deltas and the gradient sums.


def _blocked_unpack(c: _Code, net: _Net) -> None:
    for n in range(1, net.depth + 1):
        c(f"Z{n} = Zs[{n - 1}]")
        c(f"E{n} = Es[{n - 1}]")
        c(f"A{n} = As[{n - 1}]")


def _emit_finish(c: _Code, net: _Net, n: int) -> None:
    """The end of layer n's activation for row s (after numpy's step), if it has one."""
    act = ACTIVATIONS[net.acts[n - 1]]
    if not act.elementwise:
        _emit_layer_value(c, net, n)
        return
    finish = act.unitwise.kernel.finish(f"Z{n}[s, j]", f"E{n}[s, j]", f"A{n}[s, j]")
    if finish:
        with c.block(f"for j in range({net.size(n)}):"):
            c(finish)


def generate_blocked_source(layers: tuple[int, ...], activations: tuple[str, ...],
                            loss: str, conventions: Conventions = LECTURE) -> str:
    """Stages for blocks of samples: stage_n(w, X, order, start, count, Zs, Es, As)
    for each layer n, then back(...); see :func:`run_blocks`.  Not for
    ``update_order: output_first`` (its batches use the "batch" mode)."""
    if conventions.update_order is UpdateOrder.OUTPUT_FIRST:
        raise ValueError("the blocked kernel updates every layer at once: use mode 'batch' "
                         "for update_order output_first")
    net = _Net(tuple(int(n) for n in layers), tuple(activations), loss, blocked=True,
               conventions=conventions)
    L = net.depth
    width = net.aoff[-1]
    c = _Code()
    c(f'"""bpnn-steps training kernel (generated, version {GENERATOR_VERSION}): layers '
      f'{list(net.layers)}, {", ".join(net.acts)}, {loss}, blocks of samples.'
      f'{_conventions_note(conventions)}"""')
    c("import math")
    c("import numpy as np")
    c("from numba import njit")
    for n in range(1, L + 1):
        c("")
        c("")
        c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
        with c.block(f"def stage_{n}(w, X, order, start, count, Zs, Es, As):"):
            _blocked_unpack(c, net)
            with c.block("for s in range(count):"):
                if n == 1:
                    c("t = order[start + s]")
                else:
                    _emit_finish(c, net, n - 1)
                act = ACTIVATIONS[net.acts[n - 1]]

                def then(z: str, act: Activation = act, n: int = n) -> None:
                    # a layer-wise activation (softmax) is done in the last stage
                    if act.elementwise:
                        stage = act.unitwise.kernel.stage(z, f"E{n}[s, j]", net.a(n, "j"))
                        if stage:
                            c(stage)

                _emit_layer_z(c, net, n, then)
    c("")
    c("")
    c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
    with c.block("def back(w, X, Y, order, start, count, Zs, Es, As, gsum, sums, "
                 "backprop):"):
        c('"""The block\'s losses into sums (compensated); with backprop, its gradients '
          'into gsum."""')
        _blocked_unpack(c, net)
        c(f"db = np.zeros({width})")
        c("total = sums[0]")
        c("comp = sums[1]")
        with c.block("for s in range(count):"):
            c("t = order[start + s]")
            _emit_finish(c, net, L)
            _emit_loss(c, net, "v")
            _emit_compensated_add(c, "total", "comp", "v")
            with c.block("if backprop:"):
                _emit_output_delta(c, net)
                for n in range(L, 0, -1):
                    if n > 1:
                        _emit_hidden_delta(c, net, n)
                    _emit_accumulate(c, net, n)
        c("sums[0] = total")
        c("sums[1] = comp")
    c("")
    c("")
    c("@njit(cache=CACHE, error_model='numpy', nogil=True)")
    with c.block("def update(w, gsum, size, lr, beta, l2_bias):"):
        _emit_batch_update(c, net)
    c("")
    c(f"STAGES = ({', '.join(f'stage_{n}' for n in range(1, L + 1))},)")
    c(f"ACTIVATIONS = {tuple(net.acts)!r}")
    return c.text()


def run_blocks(kmod: KernelModule, w: Array, x: Array, y: Array, order: Indices,
               start: int, stop: int, buffers: Buffers, gsum: Array | None,
               sums: Array) -> None:
    """Samples order[start:stop] through the network in blocks: their losses added
    to ``sums`` (total, compensation) and, unless gsum is None, their gradients
    added to gsum."""
    zs, es, as_ = buffers
    block = zs[0].shape[0]
    backprop = gsum is not None
    g = np.zeros(1) if gsum is None else gsum
    for lo in range(start, stop, block):
        count = min(block, stop - lo)
        for n, (stage, act) in enumerate(zip(kmod.STAGES, kmod.ACTIVATIONS)):
            stage(w, x, order, lo, count, zs, es, as_)
            form = ACTIVATIONS[act].form
            if isinstance(form, Unitwise):
                form.kernel.between(zs[n][:count], es[n][:count], as_[n][:count])
        kmod.back(w, x, y, order, lo, count, zs, es, as_, g, sums, backprop)


def block_buffers(layers: tuple[int, ...], block: int) -> Buffers:
    sizes = layers[1:]
    return (tuple(np.zeros((block, k)) for k in sizes),
            tuple(np.zeros((block, k)) for k in sizes),
            tuple(np.zeros((block, k)) for k in sizes))


# --------------------------------------------------------------------------- loading


def cache_dir() -> Path | None:
    """Where generated kernels (and numba's cache of them) are kept.

    BPNN_STEPS_KERNEL_DIR if set; else NUMBA_CACHE_DIR/bpnn-steps if that is
    set; else $XDG_CACHE_HOME/bpnn-steps/kernels (~/.cache/...); else a folder in
    the temporary directory.  None when no candidate can be written: kernels are
    then compiled in memory on every run.
    """
    candidates = []
    if os.environ.get("BPNN_STEPS_KERNEL_DIR"):
        candidates.append(Path(os.environ["BPNN_STEPS_KERNEL_DIR"]))
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates.append(Path(os.environ["NUMBA_CACHE_DIR"]) / "bpnn-steps")
    xdg = os.environ.get("XDG_CACHE_HOME")
    home = Path(xdg) if xdg else Path.home() / ".cache"
    candidates.append(home / "bpnn-steps" / "kernels")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"bpnn-steps-kernels-{uid}")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
            return folder
        except OSError:
            continue
    return None


def _numba_cache_ok(folder: Path) -> bool:
    # numba writes its cache to NUMBA_CACHE_DIR when set, else beside the source.
    target = os.environ.get("NUMBA_CACHE_DIR")
    if not target:
        return True
    try:
        Path(target).mkdir(parents=True, exist_ok=True)
        return os.access(target, os.W_OK)
    except OSError:
        return False


def _module_name(source: str) -> str:
    return f"bpnn_kernel_{hashlib.sha256(source.encode()).hexdigest()[:20]}"


def _source(layers: tuple[int, ...], activations: tuple[str, ...], loss: str,
            mode: str, conventions: Conventions) -> str:
    if mode == "blocked":
        return generate_blocked_source(layers, activations, loss, conventions)
    return generate_source(layers, activations, loss, mode == "sample", conventions)


def is_cached(layers: tuple[int, ...], activations: tuple[str, ...], loss: str,
              mode: str, conventions: Conventions = LECTURE) -> bool:
    """Whether this shape's kernel was compiled before (loading it takes well under a
    second; compiling it takes a few).  Cheap: looks for files, imports nothing."""
    name = _module_name(_source(layers, activations, loss, mode, conventions))
    if name in _LOADED:
        return True
    folder = cache_dir()
    if folder is None or not (folder / f"{name}.py").exists():
        return False
    custom = os.environ.get("NUMBA_CACHE_DIR")
    place = Path(custom) if custom else folder / "__pycache__"
    try:
        return all(any(place.rglob(f"{name}.{function}-*.nbi"))
                   for function in compiled_functions(layers, mode))
    except OSError:
        return False


def compiled_functions(layers: tuple[int, ...], mode: str) -> tuple[str, ...]:
    """The functions of a kernel that training calls, so compiles (numba writes one
    index file per function): a blocked kernel has no train_chunk, but one stage per
    weight layer, back and update."""
    if mode == "blocked":
        return (*(f"stage_{n}" for n in range(1, len(layers))), "back", "update")
    return ("train_chunk",)


def kernel(layers: tuple[int, ...], activations: tuple[str, ...], loss: str,
           mode: str, conventions: Conventions = LECTURE) -> KernelModule:
    """The compiled kernel module for one network shape (generated, cached) under
    ``conventions``.

    mode: "sample" (one sample per update), "batch" (batches, scalar loops) or
    "blocked" (large batches in blocks, see :func:`run_blocks`).
    """
    import numba  # noqa: F401  (fails here, not later, when numba is missing)

    source = _source(layers, activations, loss, mode, conventions)
    name = _module_name(source)
    with _LOCK:
        if name in _LOADED:
            return _LOADED[name]
        folder = cache_dir()
        module = None
        if folder is not None and _numba_cache_ok(folder):
            module = _load_from_file(folder, name, source)
        if module is None:
            module = _load_in_memory(name, source)
        _LOADED[name] = module
        return module


def _load_from_file(folder: Path, name: str, source: str) -> KernelModule | None:
    path = folder / f"{name}.py"
    try:
        if not path.exists() or path.read_text(encoding="utf-8") != source:
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_text(source, encoding="utf-8")
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        module.__dict__["CACHE"] = True
        sys.modules[name] = module
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
        return _generated(module)
    except (OSError, RuntimeError):
        sys.modules.pop(name, None)
        return None


def _load_in_memory(name: str, source: str) -> KernelModule:
    module = ModuleType(name)
    module.__dict__["CACHE"] = False
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return _generated(module)


def _generated(module: ModuleType) -> KernelModule:
    # The module was generated from this file's source, whose functions KernelModule
    # declares; mypy cannot see into generated (and numba-compiled) code.
    return cast(KernelModule, module)
