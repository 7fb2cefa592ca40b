"""The symbolic derivation laid out like the lecture's quiz solution.

:func:`derivation_document` turns a network (and, when the problem gives them,
its T, lambda, beta and update method) into blocks, like the worked solution,
so that every renderer writes it.  The symbols are those of one generic sample
t.  No number is computed here; the few numbers shown (T, lambda, beta) are the
problem's own settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES, loss_formula
from ..maths.symbolic import (Derivation, LayerDerivation, Node, One, derive, size,
                              text_width, to_unicode, unit)
from ..model.conventions import LECTURE, Combine, Conventions
from ..model.notation import (BRACE_CLOSE, BRACE_OPEN, BRACKET_CLOSE, BRACKET_OPEN, CLOSE,
                              EQUALS, GENERIC, HADAMARD, LP, MINUS, OPEN, PLUS, RP,
                              SIZED_BRACKET_CLOSE, SIZED_BRACKET_OPEN, SPACE, T_SUP, TIMES,
                              WORD_SPACE, Apply, BatchMean, Component, CostFormula, DownTo,
                              Expr, Formula, FormulaMatrix, Grad, L2Gradient, LossFormula, Num,
                              OneOver, Partial, PartialOutputs, PartialZ, SoftmaxJacobianT,
                              SoftmaxRatio, SumOver, Sym, Token, Transpose, WeightMatrix, sup,
                              layer_label, unit_base, vector_base)
from ..numfmt import fmt
from .blocks import Block, Display, Document, Equations, Heading, Text
from .derivation_entries import derivation_entries

# Rough printed width (characters) of one line of a displayed formula.
LINE_WIDTH = 72
# Entries longer than this many symbols are written with the delta shorthand.
MAX_ENTRY_SYMBOLS = 80
# Symbolic matrices larger than this are written with dots.
MAX_MATRIX_COLUMNS = 6
MAX_MATRIX_ROWS = 9
T = GENERIC


@dataclass(frozen=True)
class Setting:
    """What the problem says about training (None: not given in the file)."""

    samples: int | None = None          # T
    learning_rate: float | None = None  # lambda
    l2: float = 0.0                     # beta
    l2_bias: bool = True
    method: str = "batch"
    batch_size: int | None = None
    conventions: Conventions = LECTURE


def _column(items: Sequence[Node]) -> FormulaMatrix:
    return FormulaMatrix(tuple((c,) for c in items))


def _weight_matrix(n: int, rows: int, cols: int, first_row: int = 0) -> WeightMatrix:
    """W[n] (or W-bar[n] from row 1) written with its entries, or with dots when large."""
    dotted = not (rows - first_row <= MAX_MATRIX_ROWS and cols <= MAX_MATRIX_COLUMNS)
    return WeightMatrix(n, rows, cols, first_row, dotted)


def _vector_name(n: int, depth: int) -> Sym:
    """[1; a[n]]: X (n = 0), H (one hidden layer) or H^[n]."""
    base, layer = vector_base(n, depth)
    return Sym(base, (), T, layer)


def _hd(n: int, depth: int) -> Sym:
    return Sym("H", (), T, None if depth == 2 and n == 1 else n, "d")


def _units(n: int, count: int, depth: int) -> list[Node]:
    return [unit(n, j, depth) for j in range(1, count + 1)]


def _rows(rows: Any) -> tuple[tuple[Expr, ...], ...]:
    """Equations rows from rows of segments (a token or a tuple of tokens each)."""
    # A segment is an expression (a plain tuple of tokens) or one token (a NamedTuple).
    return tuple(tuple(seg if type(seg) is tuple else (seg,) for seg in row)
                 for row in rows)


def _factor(d: Derivation) -> Fraction:
    """The conventions' factor on J_(t) and its output error (2/2 is 1)."""
    return Fraction(*d.factor)


def _error_name(d: Derivation) -> Expr:
    """Ŷ − Y, or with the conventions' factor 2(Ŷ − Y), 1/K (Ŷ − Y)."""
    err: Expr = (Sym("Yhat", (), T), MINUS, Sym("Y", (), T))
    factor = _factor(d)
    if factor == 1:
        return err
    return (OneOver(factor.denominator, factor.numerator), LP, *err, RP)


def _output_error(d: Derivation, plain: bool) -> Expr:
    """(Ŷ − Y) when the output delta is the plain error, δ^[L] otherwise."""
    if plain:
        return (OPEN, *_error_name(d), CLOSE)
    return (Sym("delta", (), T, d.depth),)


def _upstream(d: Derivation, n: int, plain_output: bool) -> Expr:
    """[(δ^[n+1])ᵀ(W̄^[n+1])ᵀ]ᵀ, the error arriving at layer n's units."""
    depth = d.depth
    upper = _output_error(d, plain_output) if n + 1 == depth else \
        (Sym("delta", (), T, n + 1),)
    wbar = Sym("Wbar", (), None, n + 1)
    return (BRACKET_OPEN, *upper, T_SUP, OPEN, wbar, CLOSE, T_SUP, BRACKET_CLOSE, T_SUP)


def derivation_report(layers: Sequence[int], activations: Sequence[str], loss: str = "mse", *,
                      title: str = "", setting: Setting | None = None,
                      derivation: Derivation | None = None) -> list[Block]:
    """The derivation of every weight's gradient, as blocks."""
    setting = setting or Setting()
    d = derivation or derive(layers, activations, loss, setting.conventions)
    depth = d.depth
    layers = d.layers
    blocks: list[Block] = []
    arch = "-".join(str(n) for n in layers)
    blocks.append(Heading(title, 1, literal=True) if title
                  else Heading(f"Back-propagation of the {arch} network, derived", 1))
    blocks += _network_text(d)
    blocks += _conventions_text(d)
    blocks += _cost_blocks(d, setting)
    blocks += _forward_blocks(d)
    letters = "abcdefghijklmnopqrstuvwxyz"
    plain_output = not LOSSES[loss].cancels and ACTIVATIONS[activations[-1]].identity
    for step, n in enumerate(range(depth, 0, -1)):
        layer = d.layer[n - 1]
        letter = letters[min(step, 25)]
        if n == depth:
            blocks += _output_layer_blocks(d, layer, letter, plain_output)
        else:
            blocks += _hidden_layer_blocks(d, layer, letter, plain_output)
    blocks += _recursion_blocks(d, plain_output)
    blocks += _update_blocks(d, setting)
    return blocks


def derivation_document(layers: Sequence[int], activations: Sequence[str], loss: str = "mse",
                        *, title: str = "", setting: Setting | None = None) -> Document:
    """``derive``: the derivation as a document; its JSON form lists every entry."""
    blocks = derivation_report(layers, activations, loss, title=title, setting=setting)
    conventions = (setting or Setting()).conventions
    return Document(title, tuple(blocks),
                    data=lambda: derivation_entries(layers, activations, loss, conventions))


def _network_text(d: Derivation) -> list[Block]:
    layers, acts = d.layers, d.activations
    parts = [f"N = {layers[0]} input{'s' if layers[0] != 1 else ''}"]
    for n in range(1, d.depth):
        parts.append(f"{layers[n]} hidden unit{'s' if layers[n] != 1 else ''} in layer {n} "
                     f"({acts[n - 1]})")
    parts.append(f"K = {layers[-1]} output{'s' if layers[-1] != 1 else ''} ({acts[-1]})")
    hidden = "h" if d.depth == 2 else "h⁽ⁿ⁾"
    return [Text(f"Network {list(layers)}: " + ", ".join(parts) + ". Every layer also "
                 "receives a bias node with the constant value 1."),
            Text(f"All quantities belong to one training sample t (x, y, {hidden}, ŷ all carry "
                 "the index (t)). Weight layer n is the matrix W⁽ⁿ⁾ of shape "
                 "(inputs + 1) x outputs; its row 0 holds the bias weights w₀,ⱼ.")]


def _conventions_text(d: Derivation) -> list[Block]:
    """What the conventions change, when they are not the lecture's."""
    c = d.conventions
    if not c.stated:
        return []
    parts = [f"J₍ₜ₎ = {loss_formula(LOSSES[d.loss], c)}"]
    if _factor(d) != 1:
        parts.append(f"so its output error carries the factor {_factor(d)}")
    if c.cost is Combine.SUM:
        parts.append("the cost is the sum of J₍ₜ₎ over the samples of an update (no 1/T)")
    if not c.update_biases:
        parts.append("the biases (row 0) are not updated")
    if d.through_new_weights:
        parts.append("the output layer is updated first and every lower layer's error goes "
                     "back through the new weights of the layer above")
    return [Text(f"Conventions ({c.summary()}): "
                 + "; ".join(parts) + ".")]


def _cost_blocks(d: Derivation, s: Setting) -> list[Block]:
    loss = LOSSES[d.loss]
    samples: int | str = "T" if s.samples is None else s.samples
    mean = d.conventions.cost is Combine.MEAN
    rows = [
        (Sym("J", (), T), LossFormula(d.loss, d.layers[-1], d.conventions)),
        (Sym("Jbar") if mean else Sym("J"),
         CostFormula(samples, s.l2 if s.l2 > 0 else None, s.l2_bias, mean)),
    ]
    # the record's description is the lecture's J (a half squared error, say)
    what = loss.description if _factor(d) == 1 else f"{loss.name}, as the conventions define it"
    return [Text(f"Cost ({what}), the {'mean' if mean else 'sum'} over the samples"
                 + (" plus the L2 term:" if s.l2 > 0 else ":")),
            Equations(_rows(rows))]


def _forward_blocks(d: Derivation) -> list[Block]:
    rows: list[tuple[Token | Expr, ...]] = []
    depth = d.depth
    for n in range(1, depth + 1):
        size_in = d.layers[n - 1]
        in_base, in_layer = unit_base(n - 1, depth)
        a_i = Sym(in_base, ("i",), T, in_layer)
        z = Sym("z", ("j",), T, n)
        w0 = Sym("w", (0, "j"), None, n)
        wij = Sym("w", ("i", "j"), None, n)
        rows.append((z, (w0, PLUS, SumOver("i", size_in, (wij, SPACE, a_i)))))
        out_base, out_layer = unit_base(n, depth)
        a_j = Sym(out_base, ("j",), T, out_layer)
        act = d.activations[n - 1]
        if ACTIVATIONS[act].identity:
            rows.append((a_j, z))
        elif not ACTIVATIONS[act].elementwise:
            rows.append((a_j, SoftmaxRatio(z, displayed=True)))
        else:
            rows.append((a_j, Apply(act, (z,))))
    return [Heading("1) Feed-forward", 3),
            Text("Each unit j of layer n adds its bias weight to the weighted inputs, then "
                 "applies the layer's activation:"),
            Equations(_rows(rows))]


def _derivative_text(layer: LayerDerivation, depth: int) -> str:
    return ACTIVATIONS[layer.activation].unitwise.explanation


def _entry_rows(d: Derivation, layer: LayerDerivation
                ) -> tuple[tuple[tuple[Expr, ...], ...], bool]:
    """Rows ∂J/∂w_{i,j} = entry; the entries use δ symbols when written out in full
    they would be too long (the second value says so)."""
    n = layer.n
    memo: dict[int, int] = {}
    full = all(size(e, memo) <= MAX_ENTRY_SYMBOLS for row in layer.entries for e in row)
    rows: list[tuple[Token, Token | Expr]] = []
    for j in range(1, len(layer.delta) + 1):
        for i in range(len(layer.entries)):
            rhs: Token | Expr
            if full:
                rhs = Formula(layer.entries[i][j - 1], wrap=True)
            else:
                delta = Sym("delta", (j,), T, n)
                rhs = delta if i == 0 else (delta, SPACE, Formula(unit(n - 1, i, d.depth)))
            rows.append((Partial(n, i, j), rhs))
    return _rows(rows), full


def _bias_column(n: int, depth: int, count: int) -> FormulaMatrix:
    """[1; a[n]] of the generic sample, written out: [1; x₁; x₂]."""
    return _column([One(), *_units(n, count, depth)])


def _output_layer_blocks(d: Derivation, layer: LayerDerivation, letter: str,
                         plain: bool) -> list[Block]:
    depth, n = d.depth, layer.n
    rows_w, cols_w = d.layers[n - 1] + 1, d.layers[n]
    blocks: list[Block] = [
        Heading("2) Backward propagation", 3),
        Text(f"{letter}) Output layer gradient ∇J(W{sup(f'({n})')}), a {rows_w} x {cols_w} "
             "matrix:"),
        Display((Sym("W", (), None, n), EQUALS, _weight_matrix(n, rows_w, cols_w))),
    ]
    err_name = _error_name(d)
    out_act = d.activations[-1]
    if not LOSSES[d.loss].cancels:
        blocks.append(Display((PartialOutputs(), EQUALS, *err_name, EQUALS,
                               _column(layer.error))))
    delta_sym = Sym("delta", (), T, depth)
    delta_name: Expr
    if plain:
        delta_name = _output_error(d, plain)
    elif layer.cancels:
        what = LOSSES[d.loss].cancellation.what
        factor = _factor(d)
        simply = "ŷ − y" if factor == 1 else f"{factor} × (ŷ − y)"
        blocks.append(Text(f"With {d.loss}, {what} cancels against the loss's derivative, "
                           f"so the error at the output's z is simply {simply}:"))
        blocks.append(Display((delta_sym, EQUALS, PartialZ(depth), EQUALS, *err_name, EQUALS,
                               _column(layer.delta))))
        delta_name = (delta_sym,)
    elif not ACTIVATIONS[out_act].elementwise:
        blocks.append(Text(ACTIVATIONS[out_act].layerwise.explanation))
        blocks.append(Display((delta_sym, EQUALS, _column(layer.delta))))
        delta_name = (delta_sym,)
    else:
        blocks.append(Text(f"The output activation's derivative, {_derivative_text(layer, depth)} "
                           "(here with ŷ):"))
        blocks.append(Display((_hd(depth, depth), EQUALS, _column(
            [x for x in layer.derivative if x is not None]))))
        # (Ŷ − Y) ⊙ H_d: the difference bracketed, as ⊙ binds before −.
        blocks.append(Display((delta_sym, EQUALS, OPEN, *err_name, CLOSE, HADAMARD,
                               _hd(depth, depth), EQUALS, _column(layer.delta))))
        delta_name = (delta_sym,)
    hname = _vector_name(n - 1, depth)
    blocks.append(Display((hname, EQUALS, _bias_column(n - 1, depth, d.layers[n - 1]))))
    form: Expr = (BRACKET_OPEN, *delta_name, hname, T_SUP, BRACKET_CLOSE, T_SUP)
    entries_rows, full = _entry_rows(d, layer)
    if full and all(size(e) <= 12 for row in layer.entries for e in row) \
            and cols_w <= MAX_MATRIX_COLUMNS and rows_w <= MAX_MATRIX_ROWS:
        blocks.append(Display((Grad(n, T), EQUALS, *form, EQUALS,
                               FormulaMatrix(tuple(map(tuple, layer.entries))))))
    else:
        blocks.append(Display((Grad(n, T), EQUALS, *form)))
    blocks.append(Text("Every entry:"))
    blocks.append(Equations(entries_rows))
    return blocks


def _hidden_layer_blocks(d: Derivation, layer: LayerDerivation, letter: str, plain: bool
                         ) -> list[Block]:
    depth, n = d.depth, layer.n
    rows_w, cols_w = d.layers[n - 1] + 1, d.layers[n]
    name = layer_label(n, depth).capitalize()
    blocks: list[Block] = [
        Text(f"{letter}) {name} gradient ∇J(W{sup(f'({n})')}), a {rows_w} x {cols_w} matrix "
             f"(W̄{sup(f'({n + 1})')} is W{sup(f'({n + 1})')} without its bias row):"),
        Display((Sym("W", (), None, n), EQUALS, _weight_matrix(n, rows_w, cols_w))),
        Display((Sym("Wbar", (), None, n + 1), EQUALS,
                 _weight_matrix(n + 1, d.layers[n] + 1, d.layers[n + 1], first_row=1))),
    ]
    if d.through_new_weights:
        blocks.append(Text(f"Update order output_first: W{sup(f'({n + 1})')} has already been "
                           f"updated, so the error goes back through its new weights (every "
                           f"w{sup(f'({n + 1})')} below is the new one, W̄{sup(f'({n + 1})')} "
                           "new). These entries are what the update uses, not derivatives of "
                           "the cost at the old weights."))
    upstream = _upstream(d, n, plain)
    wbar = Sym("Wbar", (), None, n + 1)
    upper = _output_error(d, plain) if n + 1 == depth else (Sym("delta", (), T, n + 1),)
    expand = all(size(e) <= MAX_ENTRY_SYMBOLS for e in layer.error)
    if n + 1 == depth or not expand:
        shown = layer.error if n + 1 == depth else layer.error_short
        blocks.append(Display((*upstream, EQUALS, wbar, *upper, EQUALS, _column(shown))))
    else:
        blocks.append(Display((*upstream, EQUALS, wbar, *upper, EQUALS,
                               _column(layer.error_short))))
        blocks.append(Text("written out:"))
        blocks.append(Equations(_rows(
            (Component((wbar, *upper), j + 1, layer.error_short[j]), Formula(e, wrap=True))
            for j, e in enumerate(layer.error))))
    hd = _hd(n, depth)
    derivs = [x for x in layer.derivative if x is not None]
    delta_form: Expr
    if derivs:
        blocks.append(Text(f"The activation's derivative, {_derivative_text(layer, depth)}:"))
        blocks.append(Display((hd, EQUALS, _column(derivs))))
        delta_form = (BRACE_OPEN, *upstream, HADAMARD, hd, BRACE_CLOSE)
    else:
        blocks.append(Text("The layer is linear: its derivative is 1 and H_d drops out."))
        delta_form = upstream
    delta_sym = Sym("delta", (), T, n)
    column_nodes = layer.delta if expand and all(size(e) <= MAX_ENTRY_SYMBOLS
                                                 for e in layer.delta) else layer.delta_short
    if max(text_width(to_unicode(c)) for c in column_nodes) <= LINE_WIDTH // 2:
        blocks.append(Display((delta_sym, EQUALS, *delta_form, EQUALS, _column(column_nodes))))
    else:   # too wide for one matrix: one row per unit
        blocks.append(Display((delta_sym, EQUALS, *delta_form)))
        blocks.append(Equations(_rows(
            (Sym("delta", (j,), T, n), Formula(node, wrap=True))
            for j, node in enumerate(column_nodes, start=1))))
    xname = _vector_name(n - 1, depth)
    blocks.append(Display((xname, EQUALS, _bias_column(n - 1, depth, d.layers[n - 1]))))
    blocks.append(Display((Grad(n, T), EQUALS, LP, *delta_form, xname, T_SUP, RP, T_SUP,
                           EQUALS, LP, delta_sym, xname, T_SUP, RP, T_SUP)))
    entries_rows, full = _entry_rows(d, layer)
    blocks.append(Text("Every entry" + (":" if full else
                                        f" (δ{sup(f'({n})')}ⱼ as above; written out in full "
                                        "they would be too long to read):")))
    blocks.append(Equations(entries_rows))
    return blocks


def _recursion_blocks(d: Derivation, plain: bool) -> list[Block]:
    """The general recursion, for any depth."""
    L = d.depth
    out_act = d.activations[-1]
    err = _error_name(d)
    dl = Sym("delta", (), T, L)
    first: tuple[Token | Expr, ...]
    if plain or (d.layer[-1].cancels):
        first = (dl, err)
    elif not ACTIVATIONS[out_act].elementwise:
        first = (dl, (SoftmaxJacobianT(displayed=True), OPEN, *err, CLOSE))
    else:
        first = (dl, (OPEN, *err, CLOSE, HADAMARD, _hd(L, L)))
    dn = Sym("delta", (), T, "n")
    dn1 = Sym("delta", (), T, "n+1")
    wb = Sym("Wbar", (), None, "n+1")
    hdn = Sym("H", (), T, "n", "d")
    an = Sym("A", (), T, "n-1")
    rows: list[tuple[Token | Expr, ...]] = [
        first,
        (dn, (BRACKET_OPEN, OPEN, dn1, CLOSE, T_SUP, OPEN, wb, CLOSE, T_SUP, BRACKET_CLOSE,
              T_SUP, HADAMARD, hdn),
         (OPEN, wb, SPACE, dn1, CLOSE, HADAMARD, hdn, DownTo("n", "L-1", 1))),
        (Grad("n", T), (LP, dn, SPACE, Transpose(an), RP, T_SUP)),
    ]
    if L == 1:      # no hidden layer: nothing is passed back
        rows = [rows[0], rows[2]]
    return [Text(f"In general, for L = {L} weight layer{'s' if L != 1 else ''}, the error "
                 "δ⁽ⁿ⁾ = ∂J/∂z⁽ⁿ⁾ is "
                 "passed back one layer at a time (A⁽ⁿ⁾ is [1; a⁽ⁿ⁾], the layer's output with "
                 "the bias node in front, A⁽⁰⁾ = X; H_d⁽ⁿ⁾ holds the derivatives f′ of the "
                 "layer's units; a linear layer has H_d = 1):"),
            Equations(_rows(rows))]


def _update_rule(n: int, rate: Token | None, mean: BatchMean | None, beta: float | None,
                 l2: bool, l2_bias: bool) -> Expr:
    """W[n] old − λ [mean gradient + β R[n]], with λ (None: the symbol), the mean
    and β (None: the symbol) as given."""
    lam: Expr = (Sym("lambda"), WORD_SPACE) if rate is None else (rate, TIMES)
    gradient: Expr = ((mean,) if mean is not None else ()) + (Grad(n, T, bound=True),)
    old = Sym("W", (), None, n, "old")
    if not l2:
        return (old, MINUS, *lam, *gradient)
    return (old, MINUS, *lam, SIZED_BRACKET_OPEN, *gradient, PLUS,
            L2Gradient(n, beta, l2_bias), SIZED_BRACKET_CLOSE)


def _update_blocks(d: Derivation, s: Setting) -> list[Block]:
    mean: BatchMean | None
    mean_n: BatchMean | None
    by_mean = d.conventions.cost is Combine.MEAN     # cost sum: Σₜ without 1/T
    if s.method == "batch":
        how = "batch gradient descent: one update per epoch, over all samples"
        mean = BatchMean("T", mean=by_mean)
        mean_n = BatchMean("T" if s.samples is None else s.samples, mean=by_mean)
    elif s.method == "sgd":
        how = "stochastic gradient descent: one update per sample t"
        mean = mean_n = None
    else:
        b = s.batch_size or 1
        how = f"mini-batch gradient descent: one update per batch B of {b} samples"
        mean = BatchMean("|B|", over_batch=True, mean=by_mean)
        mean_n = BatchMean(b, over_batch=True, mean=by_mean)
    rate = None if s.learning_rate is None else Num(s.learning_rate, paren=False)
    l2 = s.l2 > 0
    rows = []
    for n in range(d.depth, 0, -1):
        symbolic = _update_rule(n, None, mean, None, l2, s.l2_bias)
        row: list[Token | Expr] = [Sym("W", (), None, n, "new"), symbolic]
        if s.learning_rate is not None or s.samples is not None or l2:
            numbers = _update_rule(n, rate, mean_n, s.l2 if l2 else None, l2, s.l2_bias)
            if numbers != symbolic:
                row.append(numbers)
        rows.append(tuple(row))
    text = f"The update, {how}"
    values = []
    if s.learning_rate is not None:
        values.append(f"λ = {fmt(s.learning_rate)}")
    if s.samples is not None and s.method == "batch":
        values.append(f"T = {s.samples}")
    if l2:
        values.append(f"β = {fmt(s.l2)}" + ("" if s.l2_bias else ", biases not regularised"))
    if values:
        text += " (" + ", ".join(values) + ")"
    if d.conventions.cost is Combine.SUM:
        text += ", with the sum of the per-sample gradients (cost sum: no 1/T)"
    if d.through_new_weights:
        text += f", W{sup(f'({d.depth})')} first, then each lower layer from the error passed " \
                "back through the new weights above"
    blocks: list[Block] = [Heading("3) Gradient-descent update", 3), Text(text + ":"),
                           Equations(_rows(rows))]
    if not d.conventions.update_biases:
        stays = Sym("w", (0, "j"), None, "n").unicode()
        blocks.append(Text(f"Row 0 (the biases) is not updated: {stays} stays at its value in "
                           "every layer (its gradient above is computed all the same)."))
    return blocks


def setting_of(problem: Any) -> Setting:
    """The training settings a derivation shows, from a Problem."""
    t = problem.training
    return Setting(samples=problem.samples or None, learning_rate=t.learning_rate, l2=t.l2,
                   l2_bias=t.l2_bias, method=t.method, batch_size=t.batch_size,
                   conventions=problem.conventions)
