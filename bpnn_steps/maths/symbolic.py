"""The gradient of the cost with respect to every weight, built from the chain rule.

The derivation is built *structurally*, the way a lecture does it by hand: the
output error first, then each hidden layer's error through W-bar and the
activation's derivative, then each weight's entry as error times input.  No
expression is expanded or simplified, so a 4-8-4 network takes milliseconds and
every entry keeps the lecture's form::

    dJ_(t)/dw_{1,1}^{[1]} = [(yhat_1 - y_1) w_{1,1}^{[2]} + (yhat_2 - y_2) w_{1,2}^{[2]}] h_1 (1 - h_1) x_1

Expressions are small trees (:class:`Var`, :class:`Sum`, :class:`Diff`,
:class:`Prod`, :class:`Square`, :class:`Step`) that print in Unicode and LaTeX
and convert to sympy.  sympy is imported only by the functions that return
sympy objects (:func:`answer_symbols`, :func:`gradient_entry`,
:func:`gradient_entries`, :func:`to_sympy`).

Activation derivatives are written in the unit's own value, as a lecture does:
sigmoid' = h(1 - h), tanh' = 1 - h^2, linear' = 1 (left out), and relu' is the
step [z > 0].  In sympy the relu step is ``Heaviside(h, 0)`` of the unit's value
h = relu(z): h > 0 exactly when z > 0, and ``Heaviside(0, 0) = 0`` matches the
engine's derivative 0 at z = 0.  A softmax output occurs with ``ce`` (the output
error is yhat - y) or with ``mse`` (the softmax Jacobian, written in yhat:
delta_k = yhat_k [(yhat_k - y_k) - sum_m (yhat_m - y_m) yhat_m]).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from .activations import ACTIVATIONS, Layerwise, Unitwise
from .losses import LOSSES, Loss, exact_loss, loss_factor
from .tree import (Const, Diff, NegExp, Node, One, Prod, Ref, Square, Step, Sum, Var, prod,
                   total)
from ..model.conventions import LECTURE, Conventions, UpdateOrder
from ..model.notation import Sym

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import sympy

__all__ = [
    "Var", "One", "Const", "Sum", "Diff", "Prod", "Square", "NegExp", "Step", "Ref", "Node",
    "LayerDerivation", "Derivation", "derive", "answer_symbols", "gradient_entry",
    "gradient_entries", "to_sympy", "to_latex", "to_unicode", "latex_lines", "size",
    "symbol_name",
]


# --------------------------------------------------------------------------- nodes
# The node classes live in .tree (the activation records build their derivatives
# from them); they are re-exported here.


# --------------------------------------------------------------------------- names


def symbol_name(var: Var, depth: int) -> str:
    """The sympy name of a variable: x1, y2, yhat1, h2 (one hidden layer),
    h1_2 (layer 1, unit 2 of a deeper net), w2_0_1 (w_{0,1}^{[2]})."""
    if var.kind == "w":
        i, j = var.index
        return f"w{var.layer}_{i}_{j}"
    if var.kind == "h" and depth != 2:
        return f"h{var.layer}_{var.index[0]}"
    return f"{var.kind}{var.index[0]}"


def unit(n: int, j: int, depth: int) -> Var:
    """a_j^[n] of one sample: x_j (n = 0), yhat_j (n = L), h_j or h_j^[n]."""
    if n == 0:
        return Var("x", (j,))
    if n == depth:
        return Var("yhat", (j,))
    return Var("h", (j,), None if depth == 2 else n)


def weight(n: int, i: int, j: int) -> Var:
    return Var("w", (i, j), n)


def _sym(var: Var | Ref, sample: str | None) -> Sym:
    if isinstance(var, Ref):
        return Sym(var.name, var.index, sample, var.layer)
    if var.kind == "w":
        return Sym("w", var.index, None, var.layer)
    return Sym(var.kind, var.index, sample, var.layer)


# --------------------------------------------------------------------------- derivation


@dataclass(frozen=True)
class LayerDerivation:
    """Everything a lecture writes for weight layer n (entries 0-based: [i][j - 1]).

    ``error[j-1]``   dJ/da_j^[n]: yhat_j - y_j at the output, the back-propagated
                     sum (W-bar[n+1] delta[n+1])_j for a hidden layer;
    ``error_short``  the same written with delta^[n+1] symbols (hidden layers);
    ``derivative``   f_n'(z_j) in the unit's value (None: linear, or softmax);
    ``delta[j-1]``   dJ/dz_j^[n], written out in full;
    ``delta_short``  error_short times derivative;
    ``entries[i][j-1]`` dJ_(t)/dw_{i,j}^[n], written out in full.
    """

    n: int
    activation: str
    error: tuple[Node, ...]
    error_short: tuple[Node, ...]
    derivative: tuple[Node | None, ...]
    delta: tuple[Node, ...]
    delta_short: tuple[Node, ...]
    entries: tuple[tuple[Node, ...], ...]
    cancels: bool = False          # output layer: f' cancels against the loss (bce, ce)


@dataclass(frozen=True)
class Derivation:
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    layer: tuple[LayerDerivation, ...]     # layer[n - 1] is weight layer n
    conventions: Conventions = LECTURE

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    @property
    def factor(self) -> tuple[int, int]:
        """The conventions' factor on J_(t) and on its output error, (numerator,
        denominator): :func:`~.losses.loss_factor`."""
        return loss_factor(LOSSES[self.loss], self.conventions, self.layers[-1])

    @property
    def through_new_weights(self) -> bool:
        """``update_order: output_first``: the error of every layer below the output
        is passed back through the already updated weights of the layer above, so
        those layers' entries are not derivatives of the cost."""
        return self.conventions.update_order is UpdateOrder.OUTPUT_FIRST


def _check_network(layers: Sequence[int], activations: Sequence[str], loss: str) -> None:
    if len(layers) < 2 or any(int(n) != n or n < 1 for n in layers):
        raise ValueError(f"layers must be at least two positive sizes, got {list(layers)}")
    if len(activations) != len(layers) - 1:
        raise ValueError(f"need {len(layers) - 1} activations (one per weight layer), "
                         f"got {len(activations)}")
    for k, name in enumerate(activations):
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; expected one of "
                             f"{', '.join(ACTIVATIONS)}")
        if ACTIVATIONS[name].output_only and k != len(activations) - 1:
            raise ValueError(f"{name} is allowed on the output layer only")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    needs = LOSSES[loss].output_activation
    if needs is not None and activations[-1] != needs:
        raise ValueError(f"{loss} needs a {needs} output layer, got {activations[-1]}")


def activation_derivative(name: str, value: Var, n: int, j: int) -> Node | None:
    """f'(z) written in the unit's value ``value`` (None when it is 1, and for a
    layer-wise activation, whose Jacobian is applied to the whole error)."""
    form = ACTIVATIONS[name].form
    return form.tree(value, n, j) if isinstance(form, Unitwise) else None


def factor_node(numerator: int, denominator: int) -> Const | None:
    """The conventions' factor on the output error as a node: 2, (1/K) or (2/K);
    None when it is 1."""
    value = Fraction(numerator, denominator)        # 2/2 is 1, 2/4 is 1/2
    if value == 1:
        return None
    if value.denominator == 1:
        return Const(str(value.numerator), value)
    return Const(f"({value.numerator}/{value.denominator})", value,
                 rf"\tfrac{{{value.numerator}}}{{{value.denominator}}}")


def derive(layers: Sequence[int], activations: Sequence[str], loss: str = "mse",
           conventions: Conventions = LECTURE) -> Derivation:
    """The chain rule for every weight of the network, layer by layer from the output.
    Under ``conventions`` the output error carries their factor on J_(t) (2 without
    mse's ½, 1/K over the outputs), and so does every entry; with ``update_order:
    output_first`` the weights w^[n+1] in a lower layer's error stand for the new
    ones (:attr:`Derivation.through_new_weights`)."""
    layers = tuple(int(n) for n in layers)
    activations = tuple(activations)
    _check_network(layers, activations, loss)
    depth = len(layers) - 1
    out: list[LayerDerivation] = []
    # Output layer.
    k_out = layers[-1]
    act = activations[-1]
    yhat = [unit(depth, k, depth) for k in range(1, k_out + 1)]
    rule = LOSSES[loss].output
    err = rule.tree(yhat, [Var("y", (k + 1,)) for k in range(k_out)])
    factor = factor_node(*loss_factor(LOSSES[loss], conventions, k_out))
    if factor is not None:
        err = [prod(factor, e) for e in err]
    derivs = [activation_derivative(act, yhat[k], depth, k + 1) for k in range(k_out)]
    spec = LOSSES[loss]
    cancels = spec.cancels
    form = ACTIVATIONS[act].form
    if cancels:
        delta: list[Node] = list(err)
    elif isinstance(form, Unitwise):
        delta = [prod(err[k], derivs[k]) for k in range(k_out)]
    else:   # mse through the Jacobian (softmax)
        delta = form.tree_product(yhat, err)
    out.append(_layer(depth, act, err, err, derivs, delta, delta, layers, depth, cancels))
    # Hidden layers, from the last back to the first.
    for n in range(depth - 1, 0, -1):
        upper = out[-1]
        size, above = layers[n], layers[n + 1]
        act = activations[n - 1]
        error, error_short, derivs, delta, delta_short = [], [], [], [], []
        for j in range(1, size + 1):
            e = total([prod(upper.delta[k - 1], weight(n + 1, j, k))
                       for k in range(1, above + 1)])
            es = total([prod(Ref("delta", (k,), n + 1), weight(n + 1, j, k))
                        for k in range(1, above + 1)])
            d = activation_derivative(act, unit(n, j, depth), n, j)
            error.append(e)
            error_short.append(es)
            derivs.append(d)
            delta.append(prod(e, d))
            delta_short.append(prod(es, d))
        out.append(_layer(n, act, error, error_short, derivs, delta, delta_short, layers,
                          depth, False))
    return Derivation(layers=layers, activations=activations, loss=loss,
                      layer=tuple(reversed(out)), conventions=conventions)


def _layer(n: int, act: str, error: Sequence[Node], error_short: Sequence[Node],
           derivs: Sequence[Node | None], delta: Sequence[Node], delta_short: Sequence[Node],
           layers: tuple[int, ...], depth: int, cancels: bool) -> LayerDerivation:
    size_in = layers[n - 1]
    entries = tuple(
        tuple(delta[j] if i == 0 else prod(delta[j], unit(n - 1, i, depth))
              for j in range(len(delta)))
        for i in range(size_in + 1))
    return LayerDerivation(n=n, activation=act, error=tuple(error),
                           error_short=tuple(error_short), derivative=tuple(derivs),
                           delta=tuple(delta), delta_short=tuple(delta_short),
                           entries=entries, cancels=cancels)


# --------------------------------------------------------------------------- sympy


def answer_symbols(layers: Sequence[int]) -> dict[str, "sympy.Symbol"]:
    """The per-sample symbols of a network, by name (no sample index).

    ``x1..xN`` inputs, ``y1..yK`` targets, ``yhat1..yhatK`` outputs; hidden units
    ``h1..hM`` for one hidden layer, ``h{n}_{j}`` (layer n, unit j) for deeper
    nets; weights ``w{n}_{i}_{j}`` = w_{i,j}^[n] (``w2_0_1`` is the bias weight of
    output 1 of layer 2).  All are real symbols.
    """
    import sympy

    layers = tuple(int(n) for n in layers)
    if len(layers) < 2 or any(n < 1 for n in layers):
        raise ValueError(f"layers must be at least two positive sizes, got {list(layers)}")
    depth = len(layers) - 1
    names: list[str] = [f"x{i}" for i in range(1, layers[0] + 1)]
    names += [f"y{k}" for k in range(1, layers[-1] + 1)]
    names += [f"yhat{k}" for k in range(1, layers[-1] + 1)]
    for n in range(1, depth):
        names += [symbol_name(Var("h", (j,), n), depth) for j in range(1, layers[n] + 1)]
    for n in range(1, depth + 1):
        names += [f"w{n}_{i}_{j}" for i in range(layers[n - 1] + 1)
                  for j in range(1, layers[n] + 1)]
    return {name: sympy.Symbol(name, real=True) for name in names}


# to_sympy's memo of converted subtrees: id(node) -> (node, its sympy form); the node
# is kept so that its id cannot be reused.
SympyCache = dict[int, tuple[Node, "sympy.Expr"]]


def to_sympy(node: Node, symbols: dict[str, "sympy.Symbol"], depth: int,
             cache: SympyCache | None = None) -> "sympy.Expr":
    """The sympy form of an expression tree (shared subtrees converted once)."""
    import sympy

    # id -> (node, expr): the node is kept so that its id cannot be reused.
    memo: SympyCache = {} if cache is None else cache

    def conv(nd: Node) -> sympy.Expr:
        key = id(nd)
        if key in memo:
            return memo[key][1]
        if isinstance(nd, Var):
            result = symbols[symbol_name(nd, depth)]
        elif isinstance(nd, One):
            result = sympy.Integer(1)
        elif isinstance(nd, Sum):
            result = sympy.Add(*(conv(t) for t in nd.terms))
        elif isinstance(nd, Diff):
            result = conv(nd.left) - conv(nd.right)
        elif isinstance(nd, Prod):
            result = sympy.Mul(*(conv(f) for f in nd.factors))
        elif isinstance(nd, Square):
            result = conv(nd.base) ** 2
        elif isinstance(nd, Const):
            result = sympy.Rational(nd.value.numerator, nd.value.denominator)
        elif isinstance(nd, NegExp):
            result = sympy.exp(-conv(nd.base))
        elif isinstance(nd, Step):
            # Heaviside(0, 0) = 0: the step [z > 0] is 0 at z = 0, as the engine has it
            above = sympy.Heaviside(conv(nd.unit), 0)
            result = above if nd.above else 1 - above
        else:
            raise ValueError(f"{nd!r} has no sympy form (expand the recursion first)")
        memo[key] = (nd, result)
        return result

    return conv(node)


def gradient_entry(layers: Sequence[int], activations: Sequence[str], loss: str,
                   n: int, i: int, j: int, conventions: Conventions = LECTURE
                   ) -> "sympy.Expr":
    """dJ_(t)/dw_{i,j}^[n] of one generic sample (data term only), in the symbols of
    :func:`answer_symbols`: substituting a sample's x, y, h, yhat and the weights
    gives the engine's per-sample gradient entry ``grad[n-1][i, j-1]``.

    ``n`` is the weight layer (1..L), ``i`` the input node (0 = bias), ``j`` the
    output node (1-based).
    """
    derivation = derive(layers, activations, loss, conventions)
    _check_entry(derivation, n, i, j)
    return to_sympy(derivation.layer[n - 1].entries[i][j - 1], answer_symbols(layers),
                    derivation.depth)


def gradient_entries(layers: Sequence[int], activations: Sequence[str], loss: str,
                     conventions: Conventions = LECTURE
                     ) -> dict[tuple[int, int, int], "sympy.Expr"]:
    """Every entry at once, keyed (n, i, j) as in :func:`gradient_entry`."""
    derivation = derive(layers, activations, loss, conventions)
    symbols = answer_symbols(layers)
    cache: SympyCache = {}
    out = {}
    for layer in derivation.layer:
        for i, row in enumerate(layer.entries):
            for j, node in enumerate(row, start=1):
                out[(layer.n, i, j)] = to_sympy(node, symbols, derivation.depth, cache)
    return out


def _check_entry(derivation: Derivation, n: int, i: int, j: int) -> None:
    depth = derivation.depth
    if not 1 <= n <= depth:
        raise ValueError(f"layer n must be 1..{depth}, got {n}")
    size_in, size_out = derivation.layers[n - 1], derivation.layers[n]
    if not 0 <= i <= size_in:
        raise ValueError(f"i must be 0..{size_in} for W[{n}], got {i}")
    if not 1 <= j <= size_out:
        raise ValueError(f"j must be 1..{size_out} for W[{n}], got {j}")


# --------------------------------------------------------------------------- printing


def size(node: Node, memo: dict[int, int] | None = None) -> int:
    """How many symbols the expression prints (shared subtrees counted each time)."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, Sum):
        result = sum(size(t, memo) for t in node.terms)
    elif isinstance(node, Prod):
        result = sum(size(f, memo) for f in node.factors)
    elif isinstance(node, Diff):
        result = size(node.left, memo) + size(node.right, memo)
    elif isinstance(node, (Square, NegExp)):
        result = size(node.base, memo)
    else:
        result = 1
    memo[key] = result
    return result


def _needs_bracket(node: Node) -> bool:
    return isinstance(node, (Sum, Diff))


def _level(node: Node, memo: dict[int, int]) -> int:
    """Bracket nesting inside ``node``: 0 none, 1 (), 2 [], 3 {}."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, Prod):
        result = max(_level(f, memo) + (1 if _needs_bracket(f) else 0) for f in node.factors)
    elif isinstance(node, Sum):
        result = max(_level(t, memo) for t in node.terms)
    elif isinstance(node, Diff):
        result = max(_level(node.left, memo) + (1 if isinstance(node.left, Diff) else 0),
                     _level(node.right, memo) + (1 if _needs_bracket(node.right) else 0))
    elif isinstance(node, Square):
        result = _level(node.base, memo) + (1 if _needs_bracket(node.base) else 0)
    else:
        result = 0
    memo[key] = result
    return result


_TEX_BRACKETS = {1: ("(", ")"), 2: ("[", "]"), 3: (r"\{", r"\}"), 4: (r"\big(", r"\big)")}
_UNI_BRACKETS = {1: ("(", ")"), 2: ("[", "]"), 3: ("{", "}"), 4: ("(", ")")}


@dataclass(frozen=True)
class Piece:
    """A run of printed text: ``tex`` (LaTeX), ``text`` (Unicode), and whether a
    line may break before it (``prefix`` is put at the start of the new line)."""

    tex: str
    text: str
    breakable: bool = False
    prefix_tex: str = ""
    prefix_text: str = ""


@dataclass(frozen=True)
class _PrintMemo:
    """What one printing of an expression computes once per shared subtree (an
    entry of a deep network repeats each upper layer's delta many times), by id;
    the node is kept with its pieces so that its id cannot be reused."""

    levels: dict[int, int] = field(default_factory=dict)
    pieces: dict[int, tuple[Node, tuple[Piece, ...]]] = field(default_factory=dict)


def _pieces(node: Node, sample: str | None, memo: _PrintMemo) -> list[Piece]:
    """The pieces of ``node`` (a new list: callers change its ends)."""
    key = id(node)
    if key not in memo.pieces:
        memo.pieces[key] = (node, tuple(_pieces_of(node, sample, memo)))
    return list(memo.pieces[key][1])


def _pieces_of(node: Node, sample: str | None, memo: _PrintMemo) -> list[Piece]:
    if isinstance(node, (Var, Ref)):
        s = _sym(node, sample)
        text = s.unicode() if isinstance(node, Ref) or node.kind == "w" else \
            _sym(node, None).unicode()
        return [Piece(s.latex(), text)]
    if isinstance(node, One):
        return [Piece("1", "1")]
    if isinstance(node, Const):
        return [Piece(node.tex or node.text, node.text)]
    if isinstance(node, Step):
        z = Sym("z", (node.j,), sample, node.layer)
        rel, rel_tex = (">", ">") if node.above else ("≤", r"\le")
        return [Piece(rf"[{z.latex()} {rel_tex} 0]",
                      f"[{Sym('z', (node.j,), None, node.layer).unicode()} {rel} 0]")]
    if isinstance(node, NegExp):
        inner = _pieces(node.base, sample, memo)
        return [Piece("e^{-" + _join_tex(inner) + "}", "exp(−" + _join_text(inner) + ")")]
    if isinstance(node, Square):
        inner = _pieces(node.base, sample, memo)
        plain = isinstance(node.base, Var) and (node.base.layer is None or node.base.kind == "x")
        if plain:
            return [Piece(_join_tex(inner) + "^{2}", _join_text(inner) + "²")]
        return [Piece("(" + _join_tex(inner) + ")^{2}", "(" + _join_text(inner) + ")²")]
    if isinstance(node, Sum):
        out: list[Piece] = []
        for k, term in enumerate(node.terms):
            ps = _pieces(term, sample, memo)
            if k:
                first = ps[0]
                ps[0] = Piece(" + " + first.tex, " + " + first.text, True)
            out += ps
        return out
    if isinstance(node, Diff):
        # (a - b) - c keeps its brackets: it reads as the lecture's grouping.
        left = _bracketed(node.left, sample, memo) if isinstance(node.left, Diff) else \
            _pieces(node.left, sample, memo)
        right = _bracketed(node.right, sample, memo)
        first = right[0]
        right[0] = Piece(" - " + first.tex, " − " + first.text, True)
        return left + right
    if isinstance(node, Prod):
        out = []
        for k, factor in enumerate(node.factors):
            ps = _bracketed(factor, sample, memo)
            if k:
                opens = _needs_bracket(factor)
                after_bracket = _needs_bracket(node.factors[k - 1])
                sep_tex = "" if opens else (" " if after_bracket else r"\,")
                sep_text = "" if opens else " "
                first = ps[0]
                # no break inside h(1 - h): only before a factor set off by a space
                ps[0] = Piece(sep_tex + first.tex, sep_text + first.text, not opens,
                              r"\times ", "× ")
            out += ps
        return out
    raise TypeError(f"cannot print {node!r}")


def _bracketed(node: Node, sample: str | None, memo: _PrintMemo) -> list[Piece]:
    ps = _pieces(node, sample, memo)
    if not _needs_bracket(node):
        return ps
    level = min(_level(node, memo.levels) + 1, 4)
    ot, ct = _TEX_BRACKETS[level]
    ou, cu = _UNI_BRACKETS[level]
    ps[0] = Piece(ot + ps[0].tex, ou + ps[0].text, ps[0].breakable, ps[0].prefix_tex,
                  ps[0].prefix_text)
    ps[-1] = Piece(ps[-1].tex + ct, ps[-1].text + cu, ps[-1].breakable, ps[-1].prefix_tex,
                   ps[-1].prefix_text)
    return ps


def _join_tex(ps: Sequence[Piece]) -> str:
    return "".join(p.tex for p in ps)


def _join_text(ps: Sequence[Piece]) -> str:
    return "".join(p.text for p in ps)


def to_latex(node: Node, sample: str | None = "t") -> str:
    """LaTeX of an expression, with the sample index ``(t)`` on x, y, yhat and h."""
    return _join_tex(_pieces(node, sample, _PrintMemo()))


def to_unicode(node: Node) -> str:
    """Unicode of an expression, without sample indices: '(ŷ₁ − y₁) h₁'."""
    return _join_text(_pieces(node, None, _PrintMemo()))


def text_width(text: str) -> int:
    """Rough printed width of a Unicode rendering (sub/superscripts count half)."""
    small = sum(1 for c in text if c in "₀₁₂₃₄₅₆₇₈₉₍₎,⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾ₜ")
    return len(text) - small // 2


def latex_lines(node: Node, width: int, sample: str | None = "t",
                first_width: int | None = None) -> list[str]:
    """LaTeX of an expression broken into lines of at most about ``width``
    characters (the first line ``first_width``), breaking before a '+', '−' or
    between factors (a continued product starts with ×)."""
    pieces = _pieces(node, sample, _PrintMemo())
    lines: list[list[str]] = [[]]
    used = 0
    limit = width if first_width is None else first_width
    for p in pieces:
        w = text_width(p.text)
        if p.breakable and used and used + w > limit:
            lines.append([p.prefix_tex + p.tex.lstrip().removeprefix(r"\,")])
            used = text_width(p.prefix_text + p.text)
            limit = width
        else:
            lines[-1].append(p.tex)
            used += w
    return ["".join(parts) for parts in lines]


# --------------------------------------------------------------------------- checking


# derive --verify compares at random rational points in this many digits (mpmath):
# the central difference's own error, about h^2 J''' + 10^-DIGITS |J| / h, is
# near 1e-30, far below the tolerance; a wrong formula is off by far more.
VERIFY_DIGITS = 50
VERIFY_STEP_EXPONENT = -20          # h = 10^-20
# The tolerance: relu's and leaky relu's numeric form (``_imp_``) holds the slope as
# a double (0.01 is off by 2e-17), so the comparison cannot be tighter than that.
VERIFY_RTOL = 1e-12
# A point with a pre-activation this close to 0 is drawn again: a step's kink must not
# lie between w - h and w + h (a rational point can put z exactly at 0).
VERIFY_MIN_Z = 1e-9
VERIFY_DENOMINATOR = 1000           # the points' coordinates are k / 1000


def evaluate(exprs: Sequence["sympy.Expr"], point: dict["sympy.Symbol", Any]) -> list[Any]:
    """The values of sympy expressions in mpmath at ``point`` (a value for every
    symbol), each distinct subexpression evaluated once: lambdify would print the
    expressions as code (seconds for a 4-8-8-4 network's entries, with or without
    its common-subexpression pass). Heaviside(v, 0) is 0 at 0, as the engine's step."""
    import mpmath  # type: ignore[import-untyped]
    import sympy

    memo: dict[Any, Any] = dict(point)

    def value(e: Any) -> Any:
        if e in memo:
            return memo[e]
        if e.is_Rational:
            result = mpmath.mpf(int(e.p)) / int(e.q)
        elif e.is_Add:
            result = mpmath.fsum(value(t) for t in e.args)
        elif e.is_Mul:
            result = mpmath.fprod(value(f) for f in e.args)
        elif e.is_Pow:
            power = e.exp
            result = value(e.base) ** (int(power) if power.is_Integer else value(power))
        elif isinstance(e, sympy.Heaviside):
            result = mpmath.mpf(1) if value(e.args[0]) > 0 else mpmath.mpf(0)
        elif e.is_Function and hasattr(mpmath, e.func.__name__):
            result = getattr(mpmath, e.func.__name__)(*(value(a) for a in e.args))
        else:
            raise ValueError(f"cannot evaluate {e.func.__name__} in mpmath")
        memo[e] = result
        return result

    return [value(e) for e in exprs]


@dataclass(frozen=True)
class _DirectCost:
    """J_(t) evaluated directly in mpmath, layer by layer, from the records' sympy
    forms of each activation and of the loss (no chain rule): z = w_0 + sum w_i a_i,
    a = f(z), J = loss(yhat, y)."""

    layers: tuple[int, ...]
    activations: tuple[Callable[..., Any], ...]     # z_1..z_m -> [a_1..a_m]
    loss: Callable[..., Any]                        # yhat_1..yhat_K, y_1..y_K -> J

    def forward(self, w: list[list[list[Any]]], below: list[Any], start: int
                ) -> tuple[list[list[Any]], list[list[Any]]]:
        """The pre-activations and values of layers ``start``..L, from the values of
        layer start - 1; ``w[n - 1][i][j - 1]`` = w_{i,j}^[n]."""
        import mpmath

        zs, values = [], []
        a = below
        for n in range(start, len(self.layers)):
            wn = w[n - 1]
            z = [wn[0][j] + mpmath.fdot(a, [row[j] for row in wn[1:]])
                 for j in range(self.layers[n])]
            a = list(self.activations[n - 1](*z))
            zs.append(z)
            values.append(a)
        return zs, values

    def cost(self, w: list[list[list[Any]]], below: list[Any], start: int,
             y: list[Any]) -> Any:
        return self.loss(*self.forward(w, below, start)[1][-1], *y)


def _direct_cost(layers: tuple[int, ...], activations: Sequence[str], loss: str,
                 conventions: Conventions = LECTURE) -> _DirectCost:
    return _DirectCost(layers, tuple(_layer_function(ACTIVATIONS[name].form, layers[n])
                                     for n, name in enumerate(activations, start=1)),
                       _loss_function(LOSSES[loss], conventions, layers[-1]))


# lambdify prints and compiles code (tens of ms each); the functions depend on the
# record (the key itself, not its name: a changed record is a new key), the layer's
# width and the conventions only, so each is made once.
@functools.lru_cache(maxsize=256)
def _layer_function(form: Unitwise | Layerwise, width: int) -> Callable[..., Any]:
    """A layer of ``width`` units with the activation ``form`` in mpmath:
    z_1..z_m -> [a_1..a_m], from the record's sympy form."""
    import sympy

    z = [sympy.Symbol(f"z{j}", real=True) for j in range(1, width + 1)]
    a = [form.sympy(v) for v in z] if isinstance(form, Unitwise) else form.sympy(z)
    return cast(Callable[..., Any], sympy.lambdify(z, a, modules="mpmath"))


@functools.lru_cache(maxsize=256)
def _loss_function(loss: Loss, conventions: Conventions, width: int) -> Callable[..., Any]:
    """J_(t) in mpmath: yhat_1..yhat_K, y_1..y_K -> J (:func:`~.losses.exact_loss`)."""
    import sympy

    yhat = [sympy.Symbol(f"yhat{k}", real=True) for k in range(1, width + 1)]
    y = [sympy.Symbol(f"y{k}", real=True) for k in range(1, width + 1)]
    return cast(Callable[..., Any],
                sympy.lambdify(yhat + y, exact_loss(loss, conventions, yhat, y),
                               modules="mpmath"))


def check_with_sympy(layers: Sequence[int], activations: Sequence[str], loss: str, *,
                     rng: "np.random.Generator | None" = None, points: int = 2,
                     rtol: float = VERIFY_RTOL, conventions: Conventions = LECTURE
                     ) -> tuple[int, list[tuple[int, int, int]]]:
    """Compare every derived entry (its sympy form, :func:`gradient_entries`) with the
    central finite difference of the cost written directly (:class:`_DirectCost`, no
    chain rule) at ``points`` random rational points, in ``VERIFY_DIGITS`` digits;
    returns (entries checked, entries that disagree by more than ``rtol`` relative).

    The cost is J_(t) as ``conventions`` define it (:func:`~.losses.exact_loss`);
    the cost of an update, its mean or sum over the samples, has the mean or sum of
    these entries as its gradient.  With ``update_order: output_first`` only the
    output layer's entries are derivatives of the cost (the lower layers' go back
    through the new weights), so only they are checked.

    Neither side is simplified or expanded: the entries are evaluated by
    :func:`evaluate` (each distinct subexpression once), the cost by a forward pass
    per perturbed weight from the perturbed layer up, so the work grows with
    weights x weights.
    """
    import mpmath
    import numpy as np

    layers = tuple(int(n) for n in layers)
    rng = np.random.default_rng(0) if rng is None else rng
    depth = len(layers) - 1
    symbols = answer_symbols(layers)
    entries = gradient_entries(layers, activations, loss, conventions)
    output_only = conventions.update_order is UpdateOrder.OUTPUT_FIRST
    keys = sorted(key for key in entries if not output_only or key[0] == depth)
    xs = [symbols[f"x{i}"] for i in range(1, layers[0] + 1)]
    ys = [symbols[f"y{k}"] for k in range(1, layers[-1] + 1)]
    units = [symbols[symbol_name(unit(n, j, depth), depth)]
             for n in range(1, depth + 1) for j in range(1, layers[n] + 1)]
    weights = sorted(entries)       # every weight has a value at the point
    ws = [symbols[f"w{n}_{i}_{j}"] for n, i, j in weights]
    direct = _direct_cost(layers, activations, loss, conventions)
    bad: set[tuple[int, int, int]] = set()
    with mpmath.workdps(VERIFY_DIGITS):
        step = mpmath.mpf(10) ** VERIFY_STEP_EXPONENT
        for _ in range(points):
            x, y, w, zs, values = _verify_point(direct, loss, rng)
            flat = [w[n - 1][i][j - 1] for n, i, j in weights]
            got = evaluate([entries[k] for k in keys],
                           dict(zip(xs + ys + ws + units,
                                    [*x, *y, *flat, *(v for layer in values for v in layer)])))
            for key, b in zip(keys, got):
                n, i, j = key
                below = x if n == 1 else values[n - 2]
                saved = w[n - 1][i][j - 1]
                w[n - 1][i][j - 1] = saved + step
                up = direct.cost(w, below, n, y)
                w[n - 1][i][j - 1] = saved - step
                down = direct.cost(w, below, n, y)
                w[n - 1][i][j - 1] = saved
                a = (up - down) / (2 * step)
                if not abs(a - b) <= rtol * max(1, abs(a)):
                    bad.add(key)
    return len(keys), sorted(bad)


def _verify_point(direct: _DirectCost, loss: str, rng: "np.random.Generator"
                  ) -> tuple[list[Any], list[Any], list[list[list[Any]]], list[list[Any]],
                             list[list[Any]]]:
    """A random rational point (x, y, W) away from every step's kink, with its forward
    pass (pre-activations and values of every layer)."""
    import mpmath

    layers = direct.layers
    q = VERIFY_DENOMINATOR

    def rational(v: float) -> Any:
        return mpmath.mpf(int(round(v * q))) / q

    for _ in range(100):
        x = [rational(v) for v in rng.normal(size=layers[0])]
        y = [mpmath.mpf(float(v)) for v in LOSSES[loss].draw_targets(rng, layers[-1])]
        w = [[[rational(v) for v in row] for row in rng.normal(scale=0.8,
                                                               size=(layers[n - 1] + 1,
                                                                     layers[n]))]
             for n in range(1, len(layers))]
        zs, values = direct.forward(w, x, 1)
        if all(abs(v) >= VERIFY_MIN_Z for layer in zs for v in layer):
            return x, y, w, zs, values
    raise ValueError("no random point away from the steps' kinks")  # pragma: no cover
