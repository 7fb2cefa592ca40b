"""A small, safe grammar for the formulas students write in answer files.

Answer files are untrusted, so a formula is never handed to ``eval``,
``sympify`` or ``parse_expr`` (all three execute Python).  This module reads it
with a grammar of its own that knows only

* numbers (``0.55``, ``.5``, ``1e-3``; kept exact as fractions),
* the names it is given (the problem's symbols, e.g. ``x1``, ``yhat2``, ``h1``,
  ``w2_1_1``),
* ``+ - * /`` and ``^`` (``**`` is accepted too), parentheses, implicit
  multiplication (``2h1``, ``h1(1 - h1)``), the Unicode minus and ``×`` ``·``,
* the functions ``exp``, ``log``/``ln``, ``sqrt``, ``step`` (the relu derivative, 1
  for a positive argument, else 0) and every activation's own names, from its record
  in :mod:`bpnn_steps.maths.activations` (``sigmoid``/``sigma``, ``tanh``, ``relu``,
  ``softplus``, ``leaky_relu``, ...).

Grammar (``^`` binds tighter than a leading minus, and groups to the right)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary | <implicit> power)*
    unary   := ("+" | "-") unary | power
    power   := primary (("^" | "**") unary)?
    primary := NUMBER | NAME | FUNCTION "(" expr ")" | "(" expr ")"

Limits keep a hostile formula from hanging the marker or exhausting memory:
its length, number of tokens, nesting depth, the size of a number, the
exponent of a power (a constant, whole or half, at most :data:`MAX_EXPONENT`),
the polynomial degree of the whole formula and the nesting of functions.  Every
refusal is a :class:`FormulaError` with a message that can be shown to the
student.  sympy is imported only by :func:`to_sympy` and :func:`compare`.
"""

from __future__ import annotations

import difflib
import math
import random
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Union

from ..maths.activations import ACTIVATIONS, FormulaFunction

if TYPE_CHECKING:  # pragma: no cover
    import sympy

MAX_CHARS = 2000
MAX_TOKENS = 600
MAX_DEPTH = 40
MAX_NUMBER_CHARS = 40
MAX_DECIMAL_EXPONENT = 300      # 1e300 is fine, 1e400 is refused
MAX_EXPONENT = 32               # x^32 at most (also -32, and halves: x^(1/2))
MAX_DEGREE = 64                 # total polynomial degree of a formula
MAX_FUNCTION_NESTING = 3        # exp(exp(exp(x))) at most

# The mathematical functions; the activations' come from their records.
_MATH_FUNCTIONS = (
    FormulaFunction(("exp",), math.exp, lambda sp, x: sp.exp(x)),
    FormulaFunction(("log", "ln"), math.log, lambda sp, x: sp.log(x)),
    FormulaFunction(("sqrt",), math.sqrt, lambda sp, x: sp.sqrt(x)),
    FormulaFunction(("step",), lambda v: 1.0 if v > 0 else 0.0,
                    lambda sp, x: sp.Heaviside(x, 0)),
)


def functions() -> dict[str, FormulaFunction]:
    """Every function name the grammar accepts (aliases too) -> its function, read
    from the activation records each time (so a record is the one source)."""
    table: dict[str, FormulaFunction] = {}
    for f in _MATH_FUNCTIONS + tuple(f for a in ACTIVATIONS.values()
                                     for f in a.formula_functions):
        for name in f.names:
            table[name] = f
    return table

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^()])
""", re.VERBOSE)
_UNICODE_OPS = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*"})
_LITERAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class FormulaError(ValueError):
    """A formula that cannot be read or is refused; ``str(err)`` is for the student."""


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Num:
    value: Fraction
    text: str


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: "Node"


@dataclass(frozen=True)
class BinOp:
    op: str                    # + - * /
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Pow:
    base: "Node"
    exponent: Fraction         # a checked constant: whole or half, |e| <= MAX_EXPONENT


@dataclass(frozen=True)
class Call:
    function: str              # canonical name: exp, log, sqrt, step, sigmoid, tanh, ...
    argument: "Node"


Node = Union[Num, Name, Neg, BinOp, Pow, Call]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, syntax tree and the names it uses."""

    text: str
    root: Node
    names: frozenset[str]

    @property
    def is_constant(self) -> bool:
        return not self.names

    @property
    def literal(self) -> str | None:
        """The number as written when the formula is a single (signed) number."""
        stripped = self.text.strip()
        return stripped if _LITERAL.fullmatch(stripped) else None


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Tok:
    kind: str                  # number, name, op, end
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            char = text[pos]
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            raise FormulaError(f"unexpected character {shown} at position {pos + 1}")
        kind = m.lastgroup or ""
        if kind != "space":
            out.append(_Tok(kind, m.group(), pos))
            if len(out) > MAX_TOKENS:
                raise FormulaError(f"is too long (more than {MAX_TOKENS} symbols)")
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _number(tok: _Tok) -> Num:
    text = tok.text
    if len(text) > MAX_NUMBER_CHARS:
        raise FormulaError(f"the number at position {tok.pos + 1} has too many digits")
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
        raise FormulaError(f"the number {text} is out of range")
    return Num(Fraction(text), text)


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, names: Collection[str]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.names = frozenset(names)
        self.used: set[str] = set()
        self.depth = 0

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in texts

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"is nested too deeply (more than {MAX_DEPTH} levels)")

    def leave(self) -> None:
        self.depth -= 1

    # grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise FormulaError("is empty")
        node = self.expr()
        if self.tok.kind != "end":
            raise FormulaError(f"unexpected {self.tok.text!r} at position {self.tok.pos + 1}")
        return node

    def expr(self) -> Node:
        self.enter()
        node = self.term()
        while self.at("+", "-"):
            op = self.take().text
            node = BinOp(op, node, self.term())
        self.leave()
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at("*", "/"):
                op = self.take().text
                node = BinOp(op, node, self.unary())
            elif self.tok.kind == "name" or self.at("("):
                node = BinOp("*", node, self.power())      # implicit: 2h1, h1(1 - h1)
            elif self.tok.kind == "number":
                raise FormulaError(f"missing operator before {self.tok.text!r} at position "
                                   f"{self.tok.pos + 1}")
            else:
                return node

    def unary(self) -> Node:
        if self.at("+", "-"):
            op = self.take().text
            self.enter()
            operand = self.unary()
            self.leave()
            return Neg(operand) if op == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.at("^", "**"):
            tok = self.take()
            self.enter()
            exponent_node = self.unary()
            self.leave()
            node = Pow(base, _exponent(exponent_node, tok.pos))
            if not _names_in(base):
                _evaluate(node, {})      # a constant power must stay a float-sized number
            return node
        return base

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return _number(tok)
        if tok.kind == "name":
            self.take()
            name = tok.text
            function = functions().get(name)
            if function is not None:
                canonical = function.names[0]
                if not self.at("("):
                    raise FormulaError(f"the function {name} needs an argument in "
                                       f"parentheses at position {tok.pos + len(name) + 1}")
                self.take()
                argument = self.expr()
                self.expect_close(tok.pos + len(name))
                return Call(canonical, argument)
            if name not in self.names:
                raise FormulaError(_unknown_name(name, self.names))
            self.used.add(name)
            return Name(name)
        if self.at("("):
            self.take()
            node = self.expr()           # expr() counts the level
            self.expect_close(tok.pos)
            return node
        if tok.kind == "end":
            raise FormulaError("ends too early (an operand is missing at the end)")
        raise FormulaError(f"unexpected {tok.text!r} at position {tok.pos + 1}")

    def expect_close(self, opened: int) -> None:
        if not self.at(")"):
            raise FormulaError(f"the parenthesis opened at position {opened + 1} is not closed")
        self.take()




def _unknown_name(name: str, names: frozenset[str]) -> str:
    if not names:
        return (f"uses the symbol {name!r}; a number is expected here (symbols are for the "
                "generic-sample formulas grad W[n](t))")
    close = difflib.get_close_matches(name, sorted(names) + list(functions()), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(sorted(names)[:12]) + (", ..." if len(names) > 12 else "")
    return f"uses the unknown symbol {name!r}{hint} (known: {shown})"


def _exponent(node: Node, pos: int) -> Fraction:
    if _names_in(node):
        raise FormulaError(f"the exponent at position {pos + 1} must be a number, not a formula "
                           "in symbols")
    try:
        value = _evaluate(node, {})
    except FormulaError as err:
        raise FormulaError(f"the exponent at position {pos + 1} cannot be used: {err}") from None
    doubled = round(2 * value)
    if abs(2 * value - doubled) > 1e-9 or abs(value) > MAX_EXPONENT:
        raise FormulaError(f"the exponent at position {pos + 1} must be a whole number (or a "
                           f"half) between -{MAX_EXPONENT} and {MAX_EXPONENT}")
    return Fraction(doubled, 2)


def _names_in(node: Node) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        nd = stack.pop()
        if isinstance(nd, Name):
            out.add(nd.name)
        elif isinstance(nd, Neg):
            stack.append(nd.operand)
        elif isinstance(nd, BinOp):
            stack += [nd.left, nd.right]
        elif isinstance(nd, Pow):
            stack.append(nd.base)
        elif isinstance(nd, Call):
            stack.append(nd.argument)
    return out


def _degree(node: Node) -> Fraction:
    """An upper bound of the formula's polynomial degree (functions count as one)."""
    if isinstance(node, Num):
        return Fraction(0)
    if isinstance(node, Name):
        return Fraction(1)
    if isinstance(node, Neg):
        return _degree(node.operand)
    if isinstance(node, BinOp):
        left, right = _degree(node.left), _degree(node.right)
        return max(left, right) if node.op in "+-" else left + right
    if isinstance(node, Pow):
        return _degree(node.base) * abs(node.exponent)
    return Fraction(0) if _degree(node.argument) == 0 else Fraction(1)


def _function_nesting(node: Node) -> int:
    if isinstance(node, Call):
        return 1 + _function_nesting(node.argument)
    if isinstance(node, Neg):
        return _function_nesting(node.operand)
    if isinstance(node, BinOp):
        return max(_function_nesting(node.left), _function_nesting(node.right))
    if isinstance(node, Pow):
        return _function_nesting(node.base)
    return 0


def parse(text: str, names: Collection[str] = ()) -> Formula:
    """Read a formula; ``names`` are the symbols it may use (none: a number is expected)."""
    if not isinstance(text, str):
        raise FormulaError("is not text")
    if len(text) > MAX_CHARS:
        raise FormulaError(f"is too long ({len(text)} characters, at most {MAX_CHARS})")
    clean = text.translate(_UNICODE_OPS)
    parser = _Parser(clean, names)
    root = parser.parse()
    if _degree(root) > MAX_DEGREE:
        raise FormulaError(f"has too high a power (degree above {MAX_DEGREE})")
    if _function_nesting(root) > MAX_FUNCTION_NESTING:
        raise FormulaError(f"nests functions more than {MAX_FUNCTION_NESTING} deep")
    return Formula(text=text, root=root, names=frozenset(parser.used))


# --------------------------------------------------------------------------- numbers




def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise FormulaError("gives a number that is too large")
    return value


def _evaluate(node: Node, values: dict[str, float]) -> float:
    """Evaluate with floats, refusing overflow, division by zero and bad arguments."""
    try:
        if isinstance(node, Num):
            return _finite(float(node.value))
        if isinstance(node, Name):
            return values[node.name]
        if isinstance(node, Neg):
            return -_evaluate(node.operand, values)
        if isinstance(node, BinOp):
            a, b = _evaluate(node.left, values), _evaluate(node.right, values)
            if node.op == "+":
                return _finite(a + b)
            if node.op == "-":
                return _finite(a - b)
            if node.op == "*":
                return _finite(a * b)
            if b == 0:
                raise FormulaError("divides by zero")
            return _finite(a / b)
        if isinstance(node, Pow):
            base = _evaluate(node.base, values)
            if node.exponent.denominator != 1 and base < 0:
                raise FormulaError("takes a root of a negative number")
            if base == 0 and node.exponent < 0:
                raise FormulaError("divides by zero")
            return _finite(base ** float(node.exponent))
        arg = _evaluate(node.argument, values)
        if node.function == "log" and arg <= 0:
            raise FormulaError("takes the log of a number that is not positive")
        if node.function == "sqrt" and arg < 0:
            raise FormulaError("takes the square root of a negative number")
        return _finite(functions()[node.function].float_value(arg))
    except OverflowError:
        raise FormulaError("gives a number that is too large") from None


def constant_value(formula: Formula) -> float:
    """The value of a formula without symbols (``1/3``, ``0.21 - 3``)."""
    if formula.names:
        raise FormulaError("uses symbols; a number is expected here")
    return _evaluate(formula.root, {})


# --------------------------------------------------------------------------- sympy


def to_sympy(formula: Formula, symbols: dict[str, "sympy.Symbol"]) -> "sympy.Expr":
    """The formula as a sympy expression, built with sympy's constructors only."""
    import sympy

    def conv(node: Node) -> sympy.Expr:
        if isinstance(node, Num):
            return sympy.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, Name):
            return symbols[node.name]
        if isinstance(node, Neg):
            return sympy.Mul(sympy.Integer(-1), conv(node.operand))
        if isinstance(node, BinOp):
            a, b = conv(node.left), conv(node.right)
            if node.op == "+":
                return sympy.Add(a, b)
            if node.op == "-":
                return sympy.Add(a, sympy.Mul(sympy.Integer(-1), b))
            if node.op == "*":
                return sympy.Mul(a, b)
            return sympy.Mul(a, sympy.Pow(b, sympy.Integer(-1)))
        if isinstance(node, Pow):
            e = node.exponent
            return sympy.Pow(conv(node.base), sympy.Rational(e.numerator, e.denominator))
        return functions()[node.function].sympy_value(sympy, conv(node.argument))

    return conv(formula.root)


@dataclass(frozen=True)
class Comparison:
    """How a student's formula relates to the expected one, probed at random points."""

    equivalent: bool
    factor: Fraction | None        # student = factor x expected at every point
    point: dict[str, float]        # a point where they differ (for the message)
    student_value: float | None
    expected_value: float | None
    ratios: tuple[float, ...]      # expected / student at each probe point


PROBES = 4


def probe_points(names: Sequence[str], seed: int = 20240917, count: int = PROBES
                 ) -> list[dict[str, Fraction]]:
    """Random exact points with every value in (0.1, 0.9): safe for log, sqrt and
    division by (1 - h), and far from the relu step at 0."""
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        points.append({n: Fraction(rng.randrange(1000, 9000), 10007) for n in sorted(names)})
    return points


def value_at(expr: "sympy.Expr", point: dict["sympy.Symbol", "sympy.Rational"]
             ) -> "sympy.Expr | None":
    """Exact value (a sympy Rational) when the expression is rational there, else a
    30-digit float; None where it is undefined."""
    v = expr.xreplace(point)
    if v.is_Rational:
        return v
    v = v.evalf(30)
    if v.is_Number and v.is_finite and v.is_real:
        return v
    return None


def compare(student: "sympy.Expr", expected: "sympy.Expr",
            symbols: dict[str, "sympy.Symbol"]) -> Comparison:
    """Equivalence by evaluation at random exact points (Schwartz-Zippel: two
    different rational functions of bounded degree agree at a random point of a
    large set with negligible probability); no expansion, so the time is bounded
    by the formula's (limited) size."""
    import sympy

    names = sorted(symbols)
    ratios: list[float] = []
    factors: list["sympy.Expr | None"] = []
    mismatch: tuple[dict[str, float], float | None, float | None] | None = None
    for raw in probe_points(names):
        point = {symbols[n]: sympy.Rational(v.numerator, v.denominator) for n, v in raw.items()}
        s, e = value_at(student, point), value_at(expected, point)
        if s is None or e is None:
            mismatch = mismatch or ({n: float(v) for n, v in raw.items()},
                                    _as_float(s), _as_float(e))
            factors.append(None)
            continue
        if not _same(s, e):
            mismatch = mismatch or ({n: float(v) for n, v in raw.items()}, float(s), float(e))
        factors.append(s / e if e != 0 else None)
        ratios.append(float(e / s) if s != 0 else math.inf)
    if mismatch is None:
        return Comparison(True, Fraction(1), {}, None, None, tuple(ratios))
    factor = None
    simple = [_simple_fraction(f) for f in factors]
    if simple and all(f is not None and f == simple[0] for f in simple):
        factor = simple[0]
    point, sv, ev = mismatch
    return Comparison(False, factor, point, sv, ev, tuple(ratios))


def _simple_fraction(value: "sympy.Expr | None") -> Fraction | None:
    """A ratio of the student's value to the expected one as a fraction: exact when
    both are rational; else (values with e or ln: softplus, exp) the fraction with a
    small denominator that the 30-digit ratio equals."""
    if value is None:
        return None
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    guess = Fraction(float(value)).limit_denominator(1000)
    if _same(value, value.func(guess.numerator) / guess.denominator):
        return guess
    return None


def _same(a: "sympy.Expr", b: "sympy.Expr") -> bool:
    if a.is_Rational and b.is_Rational:
        return bool(a == b)
    return abs(float(a - b)) <= 1e-20 * max(1.0, abs(float(a)), abs(float(b)))


def _as_float(v: "sympy.Expr | None") -> float | None:
    return None if v is None else float(v)
