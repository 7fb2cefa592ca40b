"""The symbolic derivation laid out like the lecture's quiz solution.

:func:`derivation_report` turns a network (and, when the problem gives them, its
T, lambda, beta and update method) into the same format-neutral blocks as
:mod:`bpnn_steps.report`, so the terminal, Markdown and LaTeX renderers write
it.  Symbols carry the sample index (t) in LaTeX and leave it out in Unicode.
No number is computed here; the few numbers shown (T, lambda, beta) are the
problem's own settings, formatted by :mod:`bpnn_steps.numfmt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..maths.activations import ACTIVATIONS
from ..maths.losses import LOSSES, sample_latex
from ..model.notation import Op, Sym, sup
from ..numfmt import fmt
from .report import Block, Display, Equations, Heading, Text
from ..maths.symbolic import (Derivation, LayerDerivation, Node, One, Var, derive, latex_lines, size,
                       text_width as _text_width, to_latex, to_unicode, unit, weight)

# Rough printed width (characters) of one line of a displayed formula.
LINE_WIDTH = 72
# Entries longer than this many symbols are written with the delta shorthand.
MAX_ENTRY_SYMBOLS = 80
# Symbolic matrices larger than this are written with dots.
MAX_MATRIX_COLUMNS = 6
MAX_MATRIX_ROWS = 9


@dataclass(frozen=True)
class Setting:
    """What the problem says about training (None: not given in the file)."""

    samples: int | None = None          # T
    learning_rate: float | None = None  # lambda
    l2: float = 0.0                     # beta
    l2_bias: bool = True
    method: str = "batch"
    batch_size: int | None = None


def _op(base: str, index: tuple = (), layer: int | None = None, suffix: str = "",
        sample: bool = True) -> Op:
    """A symbol: with the sample index (t) in LaTeX, without it in Unicode."""
    tex = Sym(base, index, "t" if sample else None, layer, suffix).latex()  # type: ignore[arg-type]
    return Op(Sym(base, index, None, layer, suffix).unicode(), tex)


def _node(node: Node) -> Op:
    return Op(to_unicode(node), to_latex(node))


def _wrapped(node: Node, wrap: int | None) -> Op:
    if wrap is None:
        return _node(node)
    return Op(to_unicode(node), r" \\ &\qquad ".join(latex_lines(node, wrap)))


def _matrix(rows: Sequence[Sequence[Node]]) -> Op:
    tex = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(to_latex(c) for c in r) for r in rows) \
        + r" \end{bmatrix}"
    text = "[" + "; ".join(", ".join(to_unicode(c) for c in r) for r in rows) + "]"
    return Op(text, tex)


def _column(items: Sequence[Node]) -> Op:
    return _matrix([[c] for c in items])


def _weight_matrix(n: int, rows: int, cols: int, first_row: int = 0) -> Op:
    """W[n] (or W-bar[n] from row 1) written with its entries, or with dots when large."""
    if rows - first_row <= MAX_MATRIX_ROWS and cols <= MAX_MATRIX_COLUMNS:
        return _matrix([[weight(n, i, j) for j in range(1, cols + 1)]
                        for i in range(first_row, rows)])
    w = lambda i, j: Sym("w", (i, j), None, n)  # noqa: E731
    tex = (r"\begin{bmatrix} " + w(first_row, 1).latex() + r" & \cdots & "
           + w(first_row, cols).latex() + r" \\ \vdots & \ddots & \vdots \\ "
           + w(rows - 1, 1).latex() + r" & \cdots & " + w(rows - 1, cols).latex()
           + r" \end{bmatrix}")
    text = f"[{w(first_row, 1).unicode()} … {w(first_row, cols).unicode()}; ⋮ ⋱ ⋮; " \
           f"{w(rows - 1, 1).unicode()} … {w(rows - 1, cols).unicode()}]"
    return Op(text, tex)


def _grad(n: int) -> Op:
    w = Sym("W", (), None, n)
    return Op(f"∇J({w.unicode()})", r"\nabla J_{" + w.latex() + r"_{(t)}}")


def _partial(n: int, i: int, j: int) -> Op:
    w = Sym("w", (i, j), None, n)
    return Op(f"∂J/∂{w.unicode()}", r"\frac{\partial J_{(t)}}{\partial " + w.latex() + "}")


def _vector_name(n: int, depth: int) -> Op:
    """[1; a[n]]: X (n = 0), H (one hidden layer) or H^[n]."""
    if n == 0:
        return _op("X")
    return _op("H", (), None if depth == 2 else n)


def _hd(n: int, depth: int) -> Op:
    return _op("H", (), None if depth == 2 and n == 1 else n, "d")


def _units(n: int, count: int, depth: int) -> list[Node]:
    return [unit(n, j, depth) for j in range(1, count + 1)]


def _rows(rows) -> tuple:
    """Equations rows from rows of single tokens (each segment is one token)."""
    return tuple(tuple((tok,) for tok in row) for row in rows)


T_ = Op("ᵀ", "^{T}")
EQ = Op(" = ", " = ")


def _transposed(*tokens: Op) -> tuple[Op, ...]:
    return tokens + (T_,)


def _joined(*parts: str | Op) -> Op:
    r"""Concatenate ops (and plain strings used for both spellings); a part with a
    superscript followed by another superscript (δ⁽²⁾ᵀ) is braced: {\delta^{[2]}}^{T}."""
    text = "".join(p.text if isinstance(p, Op) else p for p in parts)
    texs = [p.tex if isinstance(p, Op) else p for p in parts]
    for k in range(len(texs) - 1):
        if texs[k + 1].startswith("^") and "^" in texs[k]:
            texs[k] = "{" + texs[k] + "}"
    return Op(text, "".join(texs))


def _output_error(depth: int, plain: bool) -> Op:
    """(Ŷ − Y) when the output delta is the plain error, δ^[L] otherwise."""
    if plain:
        return _joined("(", _op("Yhat"), Op(" − ", " - "), _op("Y"), ")")
    return _op("delta", (), depth)


def _upstream(n: int, depth: int, plain_output: bool) -> Op:
    """[(δ^[n+1])ᵀ(W̄^[n+1])ᵀ]ᵀ, the error arriving at layer n's units."""
    upper = _output_error(depth, plain_output) if n + 1 == depth else _op("delta", (), n + 1)
    wbar = _op("Wbar", (), n + 1, sample=False)
    return _joined("[", upper, T_, "(", wbar, ")", T_, "]", T_)


def derivation_report(layers: Sequence[int], activations: Sequence[str], loss: str = "mse", *,
                      title: str = "", setting: Setting | None = None,
                      wrap: int | None = LINE_WIDTH,
                      derivation: Derivation | None = None) -> list[Block]:
    """The derivation of every weight's gradient, as format-neutral blocks.

    ``wrap`` breaks long entries into lines of about that many characters in the
    LaTeX spelling (None: one line each).
    """
    d = derivation or derive(layers, activations, loss)
    setting = setting or Setting()
    depth = d.depth
    layers = d.layers
    blocks: list[Block] = []
    arch = "-".join(str(n) for n in layers)
    blocks.append(Heading(title or f"Back-propagation of the {arch} network, derived", 1))
    blocks += _network_text(d)
    blocks += _cost_blocks(d, setting)
    blocks += _forward_blocks(d)
    letters = "abcdefghijklmnopqrstuvwxyz"
    plain_output = not LOSSES[loss].cancels and ACTIVATIONS[activations[-1]].identity
    for step, n in enumerate(range(depth, 0, -1)):
        layer = d.layer[n - 1]
        letter = letters[min(step, 25)]
        if n == depth:
            blocks += _output_layer_blocks(d, layer, letter, plain_output, wrap)
        else:
            blocks += _hidden_layer_blocks(d, layer, letter, plain_output, wrap)
    blocks += _recursion_blocks(d, plain_output)
    blocks += _update_blocks(d, setting)
    return blocks


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


def _cost_blocks(d: Derivation, s: Setting) -> list[Block]:
    k = d.layers[-1]
    t = "T" if s.samples is None else str(s.samples)
    loss = LOSSES[d.loss]
    per_sample = (loss.formula, sample_latex(loss, k))
    reg_text, reg_tex = "", ""
    if s.l2 > 0:
        beta = fmt(s.l2)
        scope = "" if s.l2_bias else " (bias rows excluded)"
        reg_text = f" + ½ × {beta} × Σw²{scope}"
        reg_tex = rf" + \tfrac{{1}}{{2}} \times {beta} \sum w^{{2}}" + \
            (r"\ \text{(bias rows excluded)}" if not s.l2_bias else "")
    rows = [
        (Op("J₍ₜ₎", r"J_{(t)}"), Op(per_sample[0], per_sample[1])),
        (Op("J̄", r"\bar{J}"),
         Op(f"1/{t} Σₜ J₍ₜ₎{reg_text}", rf"\frac{{1}}{{{t}}} \sum_{{t=1}}^{{{t}}} J_{{(t)}}"
            + reg_tex)),
    ]
    return [Text(f"Cost ({loss.description}), the mean over the samples"
                 + (" plus the L2 term:" if s.l2 > 0 else ":")),
            Equations(_rows(rows))]


def _forward_blocks(d: Derivation) -> list[Block]:
    rows = []
    depth = d.depth
    for n in range(1, depth + 1):
        size_in = d.layers[n - 1]
        inp = unit(n - 1, 1, depth)
        a_i = Sym(inp.kind, ("i",), "t", inp.layer)  # type: ignore[arg-type]
        a_i_u = _generic(inp, "ᵢ")
        z = Sym("z", ("j",), "t", n)  # type: ignore[arg-type]
        z_u = f"zⱼ{sup(f'({n})')}"
        w0 = Sym("w", (0, "j"), None, n)  # type: ignore[arg-type]
        wij = Sym("w", ("i", "j"), None, n)  # type: ignore[arg-type]
        rows.append((Op(z_u, z.latex()),
                     Op(f"w₀,ⱼ{sup(f'({n})')} + Σᵢ wᵢ,ⱼ{sup(f'({n})')} {a_i_u}",
                        w0.latex() + rf" + \sum_{{i=1}}^{{{size_in}}} " + wij.latex() + r"\,"
                        + a_i.latex())))
        out = unit(n, 1, depth)
        a_j = Sym(out.kind, ("j",), "t", out.layer)  # type: ignore[arg-type]
        a_j_u = _generic(out, "ⱼ")
        act = ACTIVATIONS[d.activations[n - 1]]
        if act.identity:
            rows.append((Op(a_j_u, a_j.latex()), Op(z_u, z.latex())))
        elif not act.elementwise:
            rows.append((Op(a_j_u, a_j.latex()),
                         Op(f"exp({z_u}) / Σₖ exp(zₖ{sup(f'({n})')})",
                            rf"\frac{{\exp({z.latex()})}}{{\sum_{{k}} \exp("
                            + Sym("z", ("k",), "t", n).latex() + ")}")))  # type: ignore[arg-type]
        else:
            rows.append((Op(a_j_u, a_j.latex()),
                         Op(f"{act.symbol}({z_u})", rf"{act.latex}({z.latex()})")))
    return [Heading("1) Feed-forward", 3),
            Text("Each unit j of layer n adds its bias weight to the weighted inputs, then "
                 "applies the layer's activation:"),
            Equations(_rows(rows))]


def _generic(var: Var, index: str) -> str:
    """Unicode of a unit with a letter index: xᵢ, hⱼ, hⱼ⁽²⁾, ŷⱼ."""
    base = "ŷ" if var.kind == "yhat" else var.kind
    return base + index + (sup(f"({var.layer})") if var.layer is not None else "")


def _derivative_text(layer: LayerDerivation, depth: int) -> str:
    return ACTIVATIONS[layer.activation].unitwise.explanation


def _entry_rows(d: Derivation, layer: LayerDerivation, wrap: int | None
                ) -> tuple[tuple[tuple[Op, ...], ...], bool]:
    """Rows ∂J/∂w_{i,j} = entry; the entries use δ symbols when written out in full
    they would be too long (the second value says so)."""
    n = layer.n
    memo: dict = {}
    full = all(size(e, memo) <= MAX_ENTRY_SYMBOLS for row in layer.entries for e in row)
    rows = []
    for j in range(1, len(layer.delta) + 1):
        for i in range(len(layer.entries)):
            if full:
                rhs = _wrapped(layer.entries[i][j - 1], wrap)
            else:
                delta = _op("delta", (j,), n)
                rhs = delta if i == 0 else _joined(delta, Op(" ", r"\,"),
                                                    _node(unit(n - 1, i, d.depth)))
            rows.append((_partial(n, i, j), rhs))
    return tuple(rows), full


def _output_layer_blocks(d: Derivation, layer: LayerDerivation, letter: str,
                         plain: bool, wrap: int | None) -> list[Block]:
    depth, n = d.depth, layer.n
    rows_w, cols_w = d.layers[n - 1] + 1, d.layers[n]
    blocks: list[Block] = [
        Heading("2) Backward propagation", 3),
        Text(f"{letter}) Output layer gradient ∇J(W{sup(f'({n})')}), a {rows_w} x {cols_w} "
             "matrix:"),
        Display((_op("W", (), n, sample=False), EQ, _weight_matrix(n, rows_w, cols_w))),
    ]
    errors = list(layer.error)
    err_name = _joined(_op("Yhat"), Op(" − ", " - "), _op("Y"))
    dj = Op("∂J/∂ŷ", r"\frac{\partial J_{(t)}}{\partial \hat{\mathbf{y}}_{(t)}}")
    out_act = d.activations[-1]
    if not LOSSES[d.loss].cancels:
        blocks.append(Display((dj, EQ, err_name, EQ, _column(errors))))
    delta_sym = _op("delta", (), depth)
    if plain:
        delta_name: Op = _joined("(", err_name, ")")
    elif layer.cancels:
        what = LOSSES[d.loss].cancellation.what
        blocks.append(Text(f"With {d.loss}, {what} cancels against the loss's derivative, "
                           "so the error at the output's z is simply ŷ − y:"))
        blocks.append(Display((delta_sym, EQ, Op("∂J/∂z", r"\frac{\partial J_{(t)}}{\partial "
                                                          r"\mathbf{z}^{[" + str(depth) + "]}}"),
                               EQ, err_name, EQ, _column(layer.delta))))
        delta_name = delta_sym
    elif not ACTIVATIONS[out_act].elementwise:
        blocks.append(Text(ACTIVATIONS[out_act].layerwise.explanation))
        blocks.append(Display((delta_sym, EQ, _column(layer.delta))))
        delta_name = delta_sym
    else:
        blocks.append(Text(f"The output activation's derivative, {_derivative_text(layer, depth)} "
                           "(here with ŷ):"))
        blocks.append(Display((_hd(depth, depth), EQ, _column(
            [x for x in layer.derivative if x is not None]))))
        blocks.append(Display((delta_sym, EQ, err_name, Op(" ⊙ ", r" \odot "), _hd(depth, depth),
                               EQ, _column(layer.delta))))
        delta_name = delta_sym
    prev = _units(n - 1, d.layers[n - 1], depth)
    hname = _vector_name(n - 1, depth)
    blocks.append(Display((hname, EQ, Op("[1; " + "; ".join(to_unicode(p) for p in prev) + "]",
                                          _column([One()] + prev).tex))))
    form = _joined("[", delta_name, hname, T_, "]", T_)
    entries_rows, full = _entry_rows(d, layer, wrap)
    if full and all(size(e) <= 12 for row in layer.entries for e in row) \
            and cols_w <= MAX_MATRIX_COLUMNS and rows_w <= MAX_MATRIX_ROWS:
        blocks.append(Display((_grad(n), EQ, form, EQ, _matrix(layer.entries))))
    else:
        blocks.append(Display((_grad(n), EQ, form)))
    blocks.append(Text("Every entry:"))
    blocks.append(Equations(_rows(entries_rows)))
    return blocks


def _hidden_layer_blocks(d: Derivation, layer: LayerDerivation, letter: str, plain: bool,
                         wrap: int | None) -> list[Block]:
    depth, n = d.depth, layer.n
    rows_w, cols_w = d.layers[n - 1] + 1, d.layers[n]
    name = "Hidden layer" if depth == 2 else f"Hidden layer {n}"
    blocks: list[Block] = [
        Text(f"{letter}) {name} gradient ∇J(W{sup(f'({n})')}), a {rows_w} x {cols_w} matrix "
             f"(W̄{sup(f'({n + 1})')} is W{sup(f'({n + 1})')} without its bias row):"),
        Display((_op("W", (), n, sample=False), EQ, _weight_matrix(n, rows_w, cols_w))),
        Display((_op("Wbar", (), n + 1, sample=False), EQ,
                 _weight_matrix(n + 1, d.layers[n] + 1, d.layers[n + 1], first_row=1))),
    ]
    upstream = _upstream(n, depth, plain)
    wbar = _op("Wbar", (), n + 1, sample=False)
    upper = _output_error(depth, plain) if n + 1 == depth else _op("delta", (), n + 1)
    expand = all(size(e) <= MAX_ENTRY_SYMBOLS for e in layer.error)
    if n + 1 == depth or not expand:
        shown = layer.error if n + 1 == depth else layer.error_short
        blocks.append(Display((upstream, EQ, wbar, upper, EQ, _column(shown))))
    else:
        blocks.append(Display((upstream, EQ, wbar, upper, EQ, _column(layer.error_short))))
        blocks.append(Text("written out:"))
        blocks.append(Equations(_rows(
            (Op(f"({to_unicode(layer.error_short[j])})", f"[{wbar.tex}{upper.tex}]_{{{j + 1}}}"),
             _wrapped(e, wrap)) for j, e in enumerate(layer.error))))
    hd = _hd(n, depth)
    derivs = [x for x in layer.derivative if x is not None]
    if derivs:
        blocks.append(Text(f"The activation's derivative, {_derivative_text(layer, depth)}:"))
        blocks.append(Display((hd, EQ, _column(derivs))))
        delta_form = _joined("{", upstream, Op(" ⊙ ", r" \odot "), hd, "}")
        delta_form = Op(delta_form.text, r"\{" + upstream.tex + r" \odot " + hd.tex + r"\}")
    else:
        blocks.append(Text("The layer is linear: its derivative is 1 and H_d drops out."))
        delta_form = upstream
    delta_sym = _op("delta", (), n)
    column_nodes = layer.delta if expand and all(size(e) <= MAX_ENTRY_SYMBOLS
                                                 for e in layer.delta) else layer.delta_short
    column = _column(column_nodes)
    if max(_text_width(to_unicode(c)) for c in column_nodes) <= LINE_WIDTH // 2:
        blocks.append(Display((delta_sym, EQ, delta_form, EQ, column)))
    else:   # too wide for one matrix: one row per unit
        blocks.append(Display((delta_sym, EQ, delta_form)))
        blocks.append(Equations(_rows(
            (_op("delta", (j,), n), _wrapped(node, wrap))
            for j, node in enumerate(column_nodes, start=1))))
    prev = _units(n - 1, d.layers[n - 1], depth)
    xname = _vector_name(n - 1, depth)
    blocks.append(Display((xname, EQ, Op("[1; " + "; ".join(to_unicode(p) for p in prev) + "]",
                                          _column([One()] + prev).tex))))
    blocks.append(Display((_grad(n), EQ, Op("(", r"\left("), delta_form, xname, T_,
                           Op(")", r"\right)"), T_, EQ, Op("(", r"\left("), delta_sym, xname, T_,
                           Op(")", r"\right)"), T_)))
    entries_rows, full = _entry_rows(d, layer, wrap)
    blocks.append(Text("Every entry" + (":" if full else
                                        f" (δ{sup(f'({n})')}ⱼ as above; written out in full "
                                        "they would be too long to read):")))
    blocks.append(Equations(_rows(entries_rows)))
    return blocks


def _recursion_blocks(d: Derivation, plain: bool) -> list[Block]:
    """The general recursion, for any depth."""
    L = d.depth
    out_act = d.activations[-1]
    err = _joined(_op("Yhat"), Op(" − ", " - "), _op("Y"))
    dl = _op("delta", (), L)
    if plain or (d.layer[-1].cancels):
        first = (dl, err)
    elif not ACTIVATIONS[out_act].elementwise:
        first = (dl, Op("(∂ŷ/∂z)ᵀ(Ŷ − Y)",
                            r"\left(\frac{\partial \hat{\mathbf{y}}}{\partial \mathbf{z}}\right)^{T}"
                            r"(" + err.tex + ")"))
    else:
        first = (dl, _joined("(", err, ")", Op(" ⊙ ", r" \odot "), _hd(L, L)))
    dn = Op("δ⁽ⁿ⁾", r"\delta_{(t)}^{[n]}")
    dn1 = Op("δ⁽ⁿ⁺¹⁾", r"\delta_{(t)}^{[n+1]}")
    wb = Op("W̄⁽ⁿ⁺¹⁾", r"\bar{\mathbf{W}}^{[n+1]}")
    hdn = Op("H_d⁽ⁿ⁾", r"\mathbf{H}_{d,(t)}^{[n]}")
    an = Op("A⁽ⁿ⁻¹⁾", r"\mathbf{A}_{(t)}^{[n-1]}")
    rows = [
        first,
        (dn, Op("[(δ⁽ⁿ⁺¹⁾)ᵀ(W̄⁽ⁿ⁺¹⁾)ᵀ]ᵀ ⊙ H_d⁽ⁿ⁾",
                rf"[({dn1.tex})^{{T}}({wb.tex})^{{T}}]^{{T}} \odot {hdn.tex}"),
         Op("(W̄⁽ⁿ⁺¹⁾ δ⁽ⁿ⁺¹⁾) ⊙ H_d⁽ⁿ⁾, n = L − 1, …, 1",
            rf"({wb.tex}\,{dn1.tex}) \odot {hdn.tex}, \quad n = L-1, \dots, 1")),
        (_joined(Op("∇J(W⁽ⁿ⁾)", r"\nabla J_{\mathbf{W}^{[n]}_{(t)}}")),
         Op("(δ⁽ⁿ⁾ A⁽ⁿ⁻¹⁾ᵀ)ᵀ", rf"\left({dn.tex}\,({an.tex})^{{T}}\right)^{{T}}")),
    ]
    if L == 1:      # no hidden layer: nothing is passed back
        rows = [rows[0], rows[2]]
    return [Text(f"In general, for L = {L} weight layer{'s' if L != 1 else ''}, the error "
                 "δ⁽ⁿ⁾ = ∂J/∂z⁽ⁿ⁾ is "
                 "passed back one layer at a time (A⁽ⁿ⁾ is [1; a⁽ⁿ⁾], the layer's output with "
                 "the bias node in front, A⁽⁰⁾ = X; H_d⁽ⁿ⁾ holds the derivatives f′ of the "
                 "layer's units; a linear layer has H_d = 1):"),
            Equations(_rows(rows))]


def _update_blocks(d: Derivation, s: Setting) -> list[Block]:
    if s.method == "batch":
        size_b = "T" if s.samples is None else str(s.samples)
        how = "batch gradient descent: one update per epoch, over all samples"
        mean = ("1/T Σₜ", r"\frac{1}{T} \sum_{t=1}^{T}")
        mean_n = (f"1/{size_b} Σₜ", rf"\frac{{1}}{{{size_b}}} \sum_{{t=1}}^{{{size_b}}}")
    elif s.method == "sgd":
        how = "stochastic gradient descent: one update per sample t"
        mean = mean_n = ("", "")
    else:
        b = s.batch_size or 1
        how = f"mini-batch gradient descent: one update per batch B of {b} samples"
        mean = ("1/|B| Σₜ∈B", r"\frac{1}{|B|} \sum_{t \in B}")
        mean_n = (f"1/{b} Σₜ∈B", rf"\frac{{1}}{{{b}}} \sum_{{t \in B}}")
    lam = None if s.learning_rate is None else fmt(s.learning_rate)
    beta = fmt(s.l2) if s.l2 > 0 else None
    rows = []
    for n in range(d.depth, 0, -1):
        w = Sym("W", (), None, n)
        new = Op(f"{w.unicode()} new", w.latex() + r"_{\text{new}}")
        old = (f"{w.unicode()} old", w.latex() + r"_{\text{old}}")
        grad = (f"∇J₍ₜ₎({w.unicode()})", r"\nabla J_{" + w.latex() + r"_{(t)}}")
        reg = (w.unicode() + ("" if s.l2_bias else " (row 0 zeroed)"),
               w.latex() + ("" if s.l2_bias else r"_{\text{row 0 zeroed}}"))

        def rule(lam_: tuple[str, str], mean_: tuple[str, str], beta_: tuple[str, str] | None
                 ) -> Op:
            g_u = f"{mean_[0]} {grad[0]}".strip()
            g_t = f"{mean_[1]} {grad[1]}".strip()
            if beta_ is None:
                return Op(f"{old[0]} − {lam_[0]} {g_u}", rf"{old[1]} - {lam_[1]} {g_t}")
            return Op(f"{old[0]} − {lam_[0]} [{g_u} + {beta_[0]} {reg[0]}]",
                      rf"{old[1]} - {lam_[1]} \left[ {g_t} + {beta_[1]}\, {reg[1]} \right]")

        symbolic = rule(("λ", r"\lambda"), mean, None if beta is None else ("β", r"\beta"))
        row = [new, symbolic]
        if lam is not None or s.samples is not None or beta is not None:
            numbers = rule(("λ", r"\lambda") if lam is None else (f"{lam} ×", rf"{lam} \times"),
                           mean_n, None if beta is None else (beta, beta))
            if numbers.tex != symbolic.tex:
                row.append(numbers)
        rows.append(tuple(row))
    text = f"The update, {how}"
    values = []
    if lam is not None:
        values.append(f"λ = {lam}")
    if s.samples is not None and s.method == "batch":
        values.append(f"T = {s.samples}")
    if beta is not None:
        values.append(f"β = {beta}" + ("" if s.l2_bias else ", biases not regularised"))
    if values:
        text += " (" + ", ".join(values) + ")"
    return [Heading("3) Gradient-descent update", 3), Text(text + ":"), Equations(_rows(rows))]


def setting_of(problem) -> Setting:
    """The training settings a derivation shows, from a Problem."""
    t = problem.training
    return Setting(samples=problem.samples or None, learning_rate=t.learning_rate, l2=t.l2,
                   l2_bias=t.l2_bias, method=t.method, batch_size=t.batch_size)
