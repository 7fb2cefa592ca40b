"""One record per activation: every form of f and f' the project needs, in one place.

Each :class:`Activation` holds the numpy value, the exact (sympy) forms used by
``solve --exact`` and ``derive --verify``, the derivative as the chain rule's tree
(written in the unit's value, as a lecture writes it: sigma' = h(1 - h)), the
derivation's words, the compiled kernel's code, the names the answer-file formula
grammar accepts, the symbols in Unicode and LaTeX, the value range and the rules a
problem file must follow.  Every backend reads these records; none of them names an
activation.  Adding an activation is adding one record to :data:`ACTIVATIONS`.

An activation applies unit by unit (:class:`Unitwise`: f'(z) is a vector H_d and
delta = error (.) H_d) or to the whole layer (:class:`Layerwise`, softmax: delta is
the Jacobian's product with the error).

``solve`` imports this module, so importing it must cost little: the records are
:class:`~.record.Record` types (a dataclass costs about 1.2 ms to define), and
sympy, the chain rule's tree nodes (:mod:`.tree`) and fractions are imported inside
the callables that use them only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .record import Record, Registry

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .tree import Node, Var

    Array = NDArray[np.float64]
    Indices = NDArray[np.int64]      # sample numbers (0-based) of a batch or an epoch
    Expr = Any                       # a sympy expression (or None where not exact)
    # exact.py's combinator: op(fn, *args) is None when an argument is None (not
    # exact) or the result too long to show, else fn(*args).
    ExactOp = Callable[..., Expr]
    Index = Callable[[str], str]     # kernel code: the expression of unit i of a layer


# --------------------------------------------------------------------------- parts


class Range(Record):
    """The values f can take, for the follow-through check: an earlier answer outside
    it is impossible (``text`` says why, e.g. 'sigmoid values lie strictly between 0
    and 1')."""

    low: float
    high: float
    low_open: bool
    high_open: bool
    sums_to_one: bool
    text: str

    def excludes(self, values: Array, whole_layer: bool) -> bool:
        """Whether some of the (finite) ``values`` are impossible; the sum is checked
        only when ``whole_layer`` (every unit of the layer was given)."""
        low = values <= self.low if self.low_open else values < self.low
        high = values >= self.high if self.high_open else values > self.high
        if bool(np.any(low | high)):
            return True
        return self.sums_to_one and whole_layer and abs(float(np.sum(values)) - 1) > 0.01


class FormulaFunction(Record):
    """A function of the answer-file formula grammar: ``names`` (the first is the
    canonical one), its value on floats and its sympy form (sympy passed in)."""

    names: tuple[str, ...]
    float_value: Callable[[float], float]
    sympy_value: Callable[[Any, Expr], Expr]    # (sympy module, argument) -> expression


class UnitKernel(Record):
    """Code of the compiled training kernel for a unit-by-unit activation.

    ``value(z, a)``: statements setting a = f(z) (the engine's numerically safe form);
    ``derivative(z, a)``: the expression of f'(z) from z and a = f(z);
    blocked mode (large batches, :mod:`kernels`): ``stage(z, e, a)`` runs in the
    compiled stage that forms z, ``between(Z, E, A)`` is numpy's work on the block
    in place (the engine's own exp or tanh), ``finish(z, e, a)`` runs at the start of
    the next compiled stage; "" where nothing is needed.
    """

    value: Callable[[str, str], str]
    derivative: Callable[[str, str], str]
    stage: Callable[[str, str, str], str]
    between: Callable[[Array, Array, Array], None]
    finish: Callable[[str, str, str], str]


class LayerKernel(Record):
    """Kernel code for an activation of the whole layer (softmax): ``value(z, a, K)``
    statements setting every a(j); ``jacobian_product(a, err, d, K)`` statements
    setting d(j) = dJ/dz_j from err(j) = dJ/da_j."""

    value: Callable[[Index, Index, int], str]
    jacobian_product: Callable[[Index, Index, Index, int], str]


class Unitwise(Record):
    """f applied to each unit: H_d = f'(z) and delta = error (.) H_d.

    ``derivative(z, a)``      numpy f'(z), given z and a = f(z);
    ``of_value(a)``           numpy f' written in the unit's value a alone, as the
                              derivation writes it (σ: h(1 − h), relu: [h > 0]): a
                              formula without f' is off by exactly this factor;
    ``exact(z, z_float, op)`` the exact a from the exact z (the engine's z decides a
                              step when z is not rational); ``op`` as in exact.py;
    ``exact_derivative(a, z, z_float, op)`` the exact f'(z), as the lecture writes it;
    ``sympy(z)``              f of a symbol (``derive --verify``);
    ``tree(a, n, j)``         f' of unit j of layer n in the chain rule, written in
                              the unit's value ``a``; None when f' = 1 (left out);
    ``text``, ``latex``       f' with {h} for the unit's value: '{h}(1 − {h})';
    ``explanation``           the derivation's words for f'.
    """

    derivative: Callable[[Array, Array], Array]
    of_value: Callable[[Array], Array]
    exact: Callable[[Expr, float, ExactOp], Expr]
    exact_derivative: Callable[[Expr, Expr, float, ExactOp], Expr]
    sympy: Callable[[Expr], Expr]
    tree: Callable[[Var, int, int], Node | None]
    text: str
    latex: str
    explanation: str
    kernel: UnitKernel


class Layerwise(Record):
    """f of the whole layer (softmax): delta = (da/dz)^T error, no H_d.

    ``jacobian_product(a, error)`` numpy dJ/dz from dJ/da (rows of a batch);
    ``exact(z, op)`` / ``exact_product(a, error, op)`` the same exactly;
    ``sympy(z)`` the layer's values from symbols; ``tree_product(a, error)`` the
    chain rule's delta nodes; ``explanation`` the derivation's words for it.
    """

    jacobian_product: Callable[[Array, Array], Array]
    exact: Callable[[list[Expr], ExactOp], list[Expr]]
    exact_product: Callable[[list[Expr], list[Expr], ExactOp], list[Expr]]
    sympy: Callable[[list[Expr]], list[Expr]]
    tree_product: Callable[[Sequence[Node], Sequence[Node]], list[Node]]
    explanation: str
    kernel: LayerKernel


class Activation(Record):
    """Everything about one activation function (see the module docstring).

    ``symbol``/``latex`` name f as printed ('σ', r'\\sigma'; '' for linear);
    ``value`` is numpy's f over the last axis (a layer); ``identity``: f(z) = z, so
    the lecture writes no z row and no derivative; ``output_only`` and ``min_units``
    are problem-file rules; ``snaps_zero``: f' jumps at z = 0, so a z that is 0 up to
    rounding is taken as exactly 0 (:func:`zero_snapped`); ``convention`` is added to
    the conventions line that ``solve`` prints ('' when there is nothing to say).
    """

    name: str
    description: str
    symbol: str
    latex: str
    value: Callable[[Array], Array]
    form: Unitwise | Layerwise
    formula_functions: tuple[FormulaFunction, ...]
    range: Range
    identity: bool
    output_only: bool
    min_units: int
    snaps_zero: bool
    convention: str

    @property
    def elementwise(self) -> bool:
        return isinstance(self.form, Unitwise)

    @property
    def unitwise(self) -> Unitwise:
        """The unit-by-unit forms; an error for a layer-wise activation (softmax)."""
        if not isinstance(self.form, Unitwise):
            raise ValueError(f"{self.name} acts on the whole layer; it has no f'(z) per unit")
        return self.form

    @property
    def layerwise(self) -> Layerwise:
        if not isinstance(self.form, Layerwise):
            raise ValueError(f"{self.name} acts unit by unit; it has no Jacobian product")
        return self.form

    def derivative_unicode(self, h: str) -> str:
        """f'(z) written with ``h`` for the unit's value: σ gives 'h(1 − h)'; '' for a
        layer-wise activation (its derivative is a Jacobian)."""
        return self.form.text.replace("{h}", h) if isinstance(self.form, Unitwise) else ""

    def derivative_tex(self, h: str) -> str:
        return self.form.latex.replace("{h}", h) if isinstance(self.form, Unitwise) else ""


# --------------------------------------------------------------------------- numpy forms


def sigmoid(z: Array) -> Array:
    # Split by sign so exp never overflows: exp(-|z|) <= 1.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: Array) -> Array:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return cast("Array", e / np.sum(e, axis=-1, keepdims=True))


def log_softmax(z: Array) -> Array:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return cast("Array", shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)))


def softplus(z: Array) -> Array:
    # ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|): exp never overflows.
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


# leaky_relu's slope for z <= 0, as written (exact: 1/100).
LEAKY_SLOPE_TEXT = "0.01"
LEAKY_SLOPE = float(LEAKY_SLOPE_TEXT)


# f' of relu and leaky_relu jumps at z = 0 (relu' is 0 there, by the lecture's
# convention), so a z that is zero in exact arithmetic must not come out as +5.6e-17
# from rounding (-0.3 + 0.1 x 3).  Such a layer's z within this relative distance of
# zero, relative to the size of the terms summed into it, is taken as exactly 0.
RELU_ZERO_RTOL = 1e-14


def zero_snapped(z: Array, bias: Array, inputs: Array, weights: Array) -> Array:
    """z with rounding noise around 0 set to 0: |z| <= RTOL (|w_0| + sum |a_i w_i|)."""
    scale = np.abs(bias) + np.abs(inputs) @ np.abs(weights)
    return np.where(np.abs(z) <= RELU_ZERO_RTOL * scale, 0.0, z)


relu_zero_snapped = zero_snapped


def _float_sigmoid(v: float) -> float:
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


# --------------------------------------------------------------------------- exact helpers


def lazy_sympy() -> Any:
    """sympy, imported on first use only (importing the records must not import it)."""
    import sympy

    return sympy


def positive(v: Expr, approx: float) -> bool:
    """z > 0, decided exactly when z is rational (else from the engine's value)."""
    sympy = lazy_sympy()

    if isinstance(v, sympy.Rational):
        return bool(v > 0)
    return approx > 0


# The slope of a piecewise-linear unit for z <= 0 is its decimal text ("0", "0.01"),
# read exactly by sympy (Rational("0.01") is 1/100) and by Fraction.


def _exact_step(low: str) -> Callable[[Expr, Expr, float, ExactOp], Expr]:
    """f'(z) of a piecewise-linear unit: 1 for z > 0, else ``low``."""
    def derivative(a: Expr, z: Expr, zf: float, op: ExactOp) -> Expr:
        sympy = lazy_sympy()

        if z is None:
            return None
        return sympy.Integer(1) if positive(z, zf) else sympy.Rational(low)
    return derivative


def _exact_piecewise(low: str) -> Callable[[Expr, float, ExactOp], Expr]:
    """f(z) = z for z > 0, else ``low`` z."""
    def value(z: Expr, zf: float, op: ExactOp) -> Expr:
        sympy = lazy_sympy()

        if z is None:
            return None
        if positive(z, zf):
            return z
        return sympy.Integer(0) if float(low) == 0 else op(
            lambda v: sympy.Rational(low) * v, z)
    return value


def _sympy_piecewise(low: str) -> Callable[[Expr], Expr]:
    """f as a sympy function whose derivative is the step 1 for z > 0, else ``low``:
    a Piecewise or Max would be differentiated into nested cases that grow with every
    layer (minutes for three layers); this stays as small as a sigmoid."""
    def value(z: Expr) -> Expr:
        return _piecewise_function(low)(z)
    return value


@functools.lru_cache(maxsize=None)
def _piecewise_function(low: str) -> Any:
    sympy = lazy_sympy()

    slope = sympy.Rational(low)

    # sympy is untyped and imported on use (a variable, Any): mypy can neither resolve
    # sympy.Function as a class here nor check a subclass of it.
    class PiecewiseLinear(sympy.Function):  # type: ignore[misc,name-defined]
        @classmethod
        def eval(cls, z: Expr) -> Expr:
            if z.is_Number:
                return z if z > 0 else slope * z
            return None

        def fdiff(self, argindex: int = 1) -> Expr:
            above = sympy.Heaviside(self.args[0], 0)
            return above + slope * (1 - above)

        # lambdify's numeric form
        _imp_ = staticmethod(lambda v: v if v > 0 else float(low) * v)

    PiecewiseLinear.__name__ = f"piecewise_linear_{slope.p}_{slope.q}"
    return PiecewiseLinear


def _sympy_sigmoid(z: Expr) -> Expr:
    sympy = lazy_sympy()

    return 1 / (1 + sympy.exp(-z))


def _sympy_tanh(z: Expr) -> Expr:
    sympy = lazy_sympy()

    return sympy.tanh(z)


def _sympy_softplus(z: Expr) -> Expr:
    sympy = lazy_sympy()

    return sympy.log(1 + sympy.exp(z))


def _sympy_exp_neg(h: Expr) -> Expr:
    sympy = lazy_sympy()

    return 1 - sympy.exp(-h)


def _sympy_one() -> Expr:
    sympy = lazy_sympy()

    return sympy.Integer(1)


def _softmax_exact(z: list[Expr], op: ExactOp) -> list[Expr]:
    sympy = lazy_sympy()

    if any(v is None for v in z):
        return [None] * len(z)
    e_sum = sympy.Add(*(sympy.exp(v) for v in z))
    return [op(lambda v, s: sympy.exp(v) / s, v, e_sum) for v in z]


def _softmax_sympy(z: list[Expr]) -> list[Expr]:
    sympy = lazy_sympy()

    e = [sympy.exp(zj) for zj in z]
    return [ej / sympy.Add(*e) for ej in e]


def _softmax_exact_product(a: list[Expr], error: list[Expr], op: ExactOp) -> list[Expr]:
    sympy = lazy_sympy()

    inner = op(lambda *t: sympy.Add(*t), *[op(lambda p, e: p * e, p, e)
                                          for p, e in zip(a, error)])
    return [op(lambda p, e, s: p * (e - s), p, e, inner) for p, e in zip(a, error)]


# --------------------------------------------------------------------------- chain-rule trees
# (the tree nodes are imported on use: solve never builds a tree)


def _sigmoid_tree(a: Var, n: int, j: int) -> Node:
    from .tree import Diff, One, Prod

    return Prod((a, Diff(One(), a)))


def _tanh_tree(a: Var, n: int, j: int) -> Node:
    from .tree import Diff, One, Square

    return Diff(One(), Square(a))


def _softplus_tree(a: Var, n: int, j: int) -> Node:
    from .tree import Diff, NegExp, One

    return Diff(One(), NegExp(a))


def _softmax_tree(a: Sequence[Node], error: Sequence[Node]) -> list[Node]:
    from .tree import Diff, prod, total

    # delta_k = yhat_k [(yhat_k - y_k) - sum_m (yhat_m - y_m) yhat_m]
    weighted = total([prod(error[m], a[m]) for m in range(len(a))])
    return [prod(a[k], Diff(error[k], weighted)) for k in range(len(a))]


# --------------------------------------------------------------------------- kernel helpers


def _nothing(*_: object) -> str:
    return ""


def _numpy_nothing(z: Array, e: Array, a: Array) -> None:
    return None


def _numpy_exp(z: Array, e: Array, a: Array) -> None:
    np.exp(e, out=e)


def _numpy_tanh(z: Array, e: Array, a: Array) -> None:
    np.tanh(z, out=a)


def kernel_max(z: Index, size: int) -> str:
    """m = max_j z_j of a layer (subtracted before exp, as the engine does)."""
    return (f"m = {z('0')}\n"
            f"for j in range(1, {size}):\n"
            f"    if {z('j')} > m:\n"
            f"        m = {z('j')}")


def _kernel_softmax(z: Index, a: Index, size: int) -> str:
    return (kernel_max(z, size) + "\n"
            "se = 0.0\n"
            f"for j in range({size}):\n"
            f"    ez = math.exp({z('j')} - m)\n"
            f"    {a('j')} = ez\n"
            "    se += ez\n"
            f"for j in range({size}):\n"
            f"    {a('j')} = {a('j')} / se")


def _kernel_softmax_product(a: Index, err: Index, d: Index, size: int) -> str:
    return ("sm = 0.0\n"
            f"for j in range({size}):\n"
            f"    sm += {a('j')} * ({err('j')})\n"
            f"for j in range({size}):\n"
            f"    {d('j')} = {a('j')} * (({err('j')}) - sm)")


def _sigmoid_from_e(z: str, e: str, a: str) -> str:
    # 1 / (1 + e) for z >= 0, e / (1 + e) below, e = exp(-|z|): the numerator is
    # selected (no unpredictable branch) and one division does both cases.
    return f"ez = {e}\n{a} = (1.0 if {z} >= 0.0 else ez) / (1.0 + ez)"


def _softplus_from_e(z: str, e: str, a: str) -> str:
    return f"{a} = max({z}, 0.0) + math.log1p({e})"


def _piecewise_kernel(low: str) -> Callable[[str, str], str]:
    return lambda z, a: f"{a} = {z} if {z} > 0.0 else {low}"


def _into_a(value: Callable[[str, str], str]) -> Callable[[str, str, str], str]:
    """Blocked mode: the value computed in the z stage itself (no numpy step)."""
    return lambda z, e, a: value(z, a)


# --------------------------------------------------------------------------- the records


def _piecewise_linear(name: str, low: str, *, symbol: str, latex: str,
                      description: str, text: str, tex: str, explanation: str,
                      range_: Range, convention: str,
                      float_value: Callable[[float], float],
                      sympy_value: Callable[[Any, Expr], Expr]) -> Activation:
    """relu (slope 0 for z <= 0) and leaky_relu (a small slope): f' is 1 for z > 0,
    else the slope ``low`` (decimal text), 0 at z = 0 included (relu'(0) = 0)."""
    slope = float(low)
    low_expr = "0.0" if slope == 0 else f"{slope!r} * {{z}}"

    def tree(a: Var, n: int, j: int) -> Node:
        from fractions import Fraction

        from .tree import Const, Prod, Step, Sum

        above = Step(a, n, j, True)
        if slope == 0:
            return above
        return Sum((above, Prod((Const(low, Fraction(low)), Step(a, n, j, False)))))

    value_code = (lambda z, a: f"{a} = {z} if {z} > 0.0 else 0.0") if slope == 0 else \
        (lambda z, a: f"{a} = {z} if {z} > 0.0 else {low_expr.format(z=z)}")
    return Activation(
        name, description, symbol, latex,
        (lambda z: np.maximum(z, 0.0)) if slope == 0 else
        (lambda z: np.where(z > 0, z, slope * z)),
        Unitwise(
            # The lecture's H_d = [z > 0]; in the value: a is positive exactly where z is.
            (lambda z, a: (z > 0).astype(float)) if slope == 0 else
            (lambda z, a: np.where(z > 0, 1.0, slope)),
            (lambda a: (a > 0).astype(float)) if slope == 0 else
            (lambda a: np.where(a > 0, 1.0, slope)),
            _exact_piecewise(low), _exact_step(low), _sympy_piecewise(low), tree,
            text, tex, explanation,
            UnitKernel(value_code,
                       lambda z, a: f"(1.0 if {z} > 0.0 else {slope!r})",
                       _into_a(value_code), _numpy_nothing, _nothing)),
        (FormulaFunction((name,), float_value, sympy_value),),
        range_, identity=False, output_only=False, min_units=1, snaps_zero=True,
        convention=convention)


def _sigmoid_prime(a: Array) -> Array:
    return a * (1.0 - a)


def _tanh_prime(a: Array) -> Array:
    return 1.0 - a * a


def _softplus_prime(a: Array) -> Array:
    # f' = σ(z) = 1 - e^-h for h = ln(1 + e^z); -expm1(-h) keeps its digits for small h
    # (very negative z) as well as for large.
    return -np.expm1(-a)


SIGMOID = Activation(
    "sigmoid", "logistic sigmoid 1/(1 + e^-z)", "σ", r"\sigma", sigmoid,
    Unitwise(
        lambda z, a: _sigmoid_prime(a), _sigmoid_prime,
        lambda z, zf, op: op(_sympy_sigmoid, z),
        lambda a, z, zf, op: op(lambda h: h * (1 - h), a),
        _sympy_sigmoid,
        _sigmoid_tree,
        "{h}(1 − {h})", r"{h}(1 - {h})",
        "σ′(z) = σ(z)(1 − σ(z)), written with the unit's value as h(1 − h)",
        UnitKernel(lambda z, a: f"ez = math.exp(-abs({z}))\n"
                                f"{a} = (1.0 if {z} >= 0.0 else ez) / (1.0 + ez)",
                   lambda z, a: f"{a} * (1.0 - {a})",
                   lambda z, e, a: f"{e} = -abs({z})", _numpy_exp, _sigmoid_from_e)),
    (FormulaFunction(("sigmoid", "sigma"), _float_sigmoid,
                     lambda sp, x: sp.Pow(sp.Add(sp.Integer(1), sp.exp(sp.Mul(-1, x))), -1)),),
    Range(0.0, 1.0, True, True, False, "sigmoid values lie strictly between 0 and 1"),
    identity=False, output_only=False, min_units=1, snaps_zero=False, convention="")

TANH = Activation(
    "tanh", "hyperbolic tangent", "tanh", r"\tanh", np.tanh,
    Unitwise(
        lambda z, a: _tanh_prime(a), _tanh_prime,
        lambda z, zf, op: op(_sympy_tanh, z),
        lambda a, z, zf, op: op(lambda h: 1 - h ** 2, a),
        _sympy_tanh,
        _tanh_tree,
        "1 − {h}²", r"1 - {h}^{2}",
        "tanh′(z) = 1 − tanh²(z), written with the unit's value as 1 − h²",
        UnitKernel(lambda z, a: f"{a} = math.tanh({z})", lambda z, a: f"1.0 - {a} * {a}",
                   _nothing, _numpy_tanh, _nothing)),
    (FormulaFunction(("tanh",), math.tanh, lambda sp, x: sp.tanh(x)),),
    Range(-1.0, 1.0, True, True, False, "tanh values lie strictly between -1 and 1"),
    identity=False, output_only=False, min_units=1, snaps_zero=False, convention="")

RELU = _piecewise_linear(
    "relu", "0", symbol="relu", latex=r"\operatorname{relu}",
    description="max(0, z); derivative 0 at z = 0", text="[z > 0]", tex="[z > 0]",
    explanation="relu′(z) is the step [z > 0]: 1 where z > 0, else 0",
    range_=Range(0.0, math.inf, False, False, False, "relu values are never negative"),
    convention="", float_value=lambda v: v if v > 0 else 0.0,
    sympy_value=lambda sp, x: sp.Piecewise((x, x > 0), (0, True)))

LINEAR = Activation(
    "linear", "identity f(z) = z", "", "", lambda z: np.array(z, dtype=float, copy=True),
    Unitwise(
        lambda z, a: np.ones_like(z), np.ones_like,
        lambda z, zf, op: op(lambda v: v, z),
        lambda a, z, zf, op: _sympy_one(),
        lambda z: z,
        lambda a, n, j: None,
        "1", "1", "linear′(z) = 1",
        UnitKernel(lambda z, a: f"{a} = {z}", lambda z, a: "1.0",
                   lambda z, e, a: f"{a} = {z}", _numpy_nothing, _nothing)),
    (),
    Range(-math.inf, math.inf, False, False, False, "linear values can be any number"),
    identity=True, output_only=False, min_units=1, snaps_zero=False, convention="")


SOFTMAX = Activation(
    "softmax", "softmax over the output layer (output layer only)", "softmax",
    r"\operatorname{softmax}", softmax,
    Layerwise(
        lambda a, error: a * (error - np.sum(a * error, axis=1, keepdims=True)),
        _softmax_exact, _softmax_exact_product, _softmax_sympy, _softmax_tree,
        "The softmax Jacobian ∂ŷₘ/∂zₖ = ŷₘ([m = k] − ŷₖ) gives the error at the output's z:",
        LayerKernel(_kernel_softmax, _kernel_softmax_product)),
    (),
    Range(0.0, 1.0, True, True, True, "softmax values are probabilities that sum to 1"),
    identity=False, output_only=True, min_units=2, snaps_zero=False, convention="")

SOFTPLUS = Activation(
    "softplus", "softplus ln(1 + e^z); derivative σ(z)", "softplus", r"\operatorname{softplus}",
    softplus,
    Unitwise(
        lambda z, a: _softplus_prime(a), _softplus_prime,
        lambda z, zf, op: op(_sympy_softplus, z),
        lambda a, z, zf, op: op(_sympy_exp_neg, a),
        _sympy_softplus,
        _softplus_tree,
        "1 − exp(−{h})", r"1 - e^{-{h}}",
        "softplus′(z) = σ(z) = 1/(1 + e⁻ᶻ), written with the unit's value as 1 − exp(−h)",
        UnitKernel(lambda z, a: f"{a} = max({z}, 0.0) + math.log1p(math.exp(-abs({z})))",
                   lambda z, a: f"-math.expm1(-{a})",
                   lambda z, e, a: f"{e} = -abs({z})", _numpy_exp, _softplus_from_e)),
    (FormulaFunction(("softplus",),
                     lambda v: max(v, 0.0) + math.log1p(math.exp(-abs(v))),
                     lambda sp, x: sp.log(1 + sp.exp(x))),),
    Range(0.0, math.inf, True, False, False, "softplus values are always positive"),
    identity=False, output_only=False, min_units=1, snaps_zero=False, convention="")

LEAKY_RELU = _piecewise_linear(
    "leaky_relu", LEAKY_SLOPE_TEXT, symbol="leaky_relu",
    latex=r"\operatorname{leaky\_relu}",
    description=f"z for z > 0, else {LEAKY_SLOPE:g} z; derivative {LEAKY_SLOPE:g} at z = 0",
    text="[z > 0] + 0.01 [z ≤ 0]", tex=r"[z > 0] + 0.01\,[z \le 0]",
    explanation="leaky_relu′(z) is 1 where z > 0, else 0.01 (at z = 0 too, as relu′(0) = 0)",
    range_=Range(-math.inf, math.inf, False, False, False,
                 "leaky_relu values can be any number"),
    convention=f"leaky_relu slope {LEAKY_SLOPE:g} for z ≤ 0",
    float_value=lambda v: v if v > 0 else LEAKY_SLOPE * v,
    sympy_value=lambda sp, x: sp.Piecewise((x, x > 0), (sp.Rational(LEAKY_SLOPE_TEXT) * x, True)))


ACTIVATIONS: Registry[Activation] = Registry(
    "activation", (SIGMOID, TANH, RELU, LINEAR, SOFTMAX, SOFTPLUS, LEAKY_RELU),
    lambda a: a.name)


def hidden_names() -> tuple[str, ...]:
    """The activations a hidden layer may use."""
    return tuple(name for name, a in ACTIVATIONS.items() if not a.output_only)
