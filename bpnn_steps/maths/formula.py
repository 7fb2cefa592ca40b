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

Marking (:func:`compare`) never hands a student's formula to sympy: it evaluates
the syntax tree at random exact points (:func:`evaluate_at`), exactly with
fractions while the arithmetic is rational, else with WORKING_DIGITS digits, and
within a budget checked as it goes: every value at most 1e100 in size (a power's
size is checked before it is formed), an inexact product, quotient, power or
function value not below 1e-100 unless zero, function arguments within 1e4, a
number of steps and a time limit.  Over budget, too large or undefined
where the gradient is defined: not equivalent, never accepted, never a hang.
Rational formulas are compared exactly; others to 40 significant digits.
"""

from __future__ import annotations

import difflib
import math
import random
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from ..maths.activations import ACTIVATIONS, FormulaFunction

if TYPE_CHECKING:  # pragma: no cover
    import mpmath  # type: ignore[import-untyped]
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


def _nodes(node: Node) -> Iterator[Node]:
    """Every node of a tree (without recursion: a tree may be deep)."""
    stack = [node]
    while stack:
        nd = stack.pop()
        yield nd
        if isinstance(nd, Neg):
            stack.append(nd.operand)
        elif isinstance(nd, BinOp):
            stack += [nd.left, nd.right]
        elif isinstance(nd, Pow):
            stack.append(nd.base)
        elif isinstance(nd, Call):
            stack.append(nd.argument)


def _names_in(node: Node) -> set[str]:
    return {nd.name for nd in _nodes(node) if isinstance(nd, Name)}


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


def arithmetic_only(formula: Formula) -> None:
    """Refuse a function in a formula that stands for a number of a hand
    calculation: the function is the step being asked (``sigmoid(0.2)`` for h,
    written instead of worked out, was marked right)."""
    for node in _nodes(formula.root):
        if isinstance(node, Call):
            raise FormulaError(f"uses {node.function}(); a number (or arithmetic of numbers) "
                               "is expected here: work the value out")


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
    ratios: tuple[float, ...]      # expected / student at each point where both are defined
    # Why the student's formula could not be evaluated (over budget, too large or
    # undefined where the gradient is defined): then it is not equivalent.
    unevaluated: str | None = None
    probed: tuple[dict[str, Fraction], ...] = ()     # the points of ``ratios``


PROBES = 4                      # seeded points (the same in every run): one of each
                                # sign and range of a value (see _seeded_points)
SECRET_PROBES = 2               # and points drawn afresh in every run
MAX_DRAWS = 4 * PROBES          # points drawn at most (of each kind), re-drawing where a
                                # value is undefined
_SECRET_DENOMINATOR = 2 ** 61 - 1       # a prime
WORKING_DIGITS = 150            # the precision of values that are not rational
AGREEMENT = Fraction(1, 10 ** 40)   # inexact values agree within this (relative to max(1, |v|))
MAX_MAGNITUDE = 10 ** 100       # a student's formula may not exceed this anywhere at a point
MIN_MAGNITUDE = Fraction(1, 10 ** 30)   # nor hold a number below this (other than 0): far
                                # above AGREEMENT, so that no term vanishes in a comparison
MAX_FUNCTION_ARGUMENT = 10 ** 4     # nor give a function a larger argument
MAX_EXACT_BITS = 20_000         # a rational value larger than this continues inexactly
MAX_STEPS = 50_000              # evaluation steps of one comparison (all its points)
MAX_SECONDS = 10.0              # a backstop: wall-clock time of one comparison
# All the comparisons of one marking run (one answer file) together: a wrong formula
# is compared with every other entry's to diagnose it, so 31 wrong formulas each
# near the budget took 66 s.  Past it, each further formula is not evaluated.
MAX_RUN_STEPS = 300_000
MAX_RUN_SECONDS = 10.0


_SEED = 20240917


@dataclass(frozen=True)
class Span:
    """The values a symbol is probed at: of either sign (``signed``), of magnitude
    beyond 1 as well (``wide``: an unbounded value), and at 0 once (``zero``: a relu
    unit, where its derivative is 0).  With every value in (0.1, 0.9), relu(w),
    sqrt(x^2), exp(log(y)) or step(1 - yhat) passed for the value itself."""

    signed: bool = False
    wide: bool = False
    zero: bool = False


UNBOUNDED = Span(signed=True, wide=True)
BOUNDED = Span()


def span_of(name: str, spans: Mapping[str, Span]) -> Span:
    """A symbol's span: as ``spans`` gives it (each activation's or loss's range);
    a weight or an input (w2_1_1, x1) takes any value whatever the network; any other
    symbol keeps to (0.1, 0.9)."""
    found = spans.get(name)
    if found is not None:
        return found
    return UNBOUNDED if name[:1] in ("w", "x") and name[1:2].isdigit() else BOUNDED


def _value(rng: random.Random, wide: bool, denominator: int) -> Fraction:
    """A magnitude in (0.1, 0.9), or in (1.1, 2.9) when ``wide``."""
    low, high = (11 * denominator // 10 + 1, 29 * denominator // 10) if wide else \
        (denominator // 10 + 1, 9 * denominator // 10)
    return Fraction(rng.randrange(low, high), denominator)


def _point(rng: random.Random, names: Sequence[str], denominator: int,
           spans: Mapping[str, Span]) -> dict[str, Fraction]:
    """A point no one can know in advance: each symbol's sign and magnitude drawn
    within its span."""
    point = {}
    for n in names:
        span = span_of(n, spans)
        v = _value(rng, span.wide and rng.random() < 0.5, denominator)
        point[n] = -v if span.signed and rng.random() < 0.5 else v
    return point


def _seeded_points(names: Sequence[str], spans: Mapping[str, Span], count: int,
                   seed: int = _SEED) -> list[dict[str, Fraction]]:
    """The seeded points, in blocks of PROBES (4): in each block a symbol takes each
    of its span's kinds of value in a shuffled order -- negative and positive, each
    below 1 and beyond it, for a weight -- so the points that decide meet them all:
    with x2 positive at all four, sqrt(x2^2) for x2 was left to the fresh points,
    and with y2 beyond 1 only when negative, step(1 - y2) y2 passed."""
    rng = random.Random(seed)
    points: list[dict[str, Fraction]] = []
    for _ in range(0, count, PROBES):
        block: list[dict[str, Fraction]] = [{} for _ in range(PROBES)]
        for n in names:
            span = span_of(n, spans)
            kinds = [(span.signed and k % 2 == 1, span.wide and k // 2 == 1)
                     for k in range(PROBES)]
            rng.shuffle(kinds)
            for point, (minus, far) in zip(block, kinds):
                v = _value(rng, far, 10007)
                point[n] = -v if minus else v
        points += block
    return points[:count]


def probe_points(names: Sequence[str], seed: int = _SEED, count: int = PROBES,
                 spans: Mapping[str, Span] | None = None) -> list[dict[str, Fraction]]:
    """The seeded points: each symbol within its span (:func:`span_of`), away from 0
    (safe for log, sqrt and division by (1 - h), and off the relu step).  A longer
    list starts with the points of a shorter one (re-drawn points come after the
    first)."""
    return _seeded_points(sorted(names), spans or {}, count, seed)


def value_at(expr: "sympy.Expr", point: dict["sympy.Symbol", "sympy.Rational"]
             ) -> "sympy.Expr | None":
    """Exact value (a sympy Rational) when the expression is rational there, else a
    WORKING_DIGITS float; None where it is undefined.  For trusted expressions (the
    derivation's): a student's formula is evaluated by :func:`evaluate_at`."""
    v = expr.xreplace(point)
    if v.is_Rational:
        return v
    v = v.evalf(WORKING_DIGITS)
    if v.is_Number and v.is_finite and v.is_real:
        return v
    return None


# --------------------------------------------------------------------------- guarded values


class Undefined(Exception):
    """The formula has no (finite, real, float-sized) value at this point."""


class OverBudget(Exception):
    """Evaluating the formula needs more work than a student's formula may take."""


# A value at a point: exact while the arithmetic allows, else an mpmath number.
Value = Union[Fraction, "mpmath.mpf"]


class _Budget:
    """Evaluation steps and wall-clock time of one comparison, drawn from those of
    the whole marking run (``run``) as well."""

    def __init__(self, steps: int | None = None, seconds: float | None = None,
                 run: "_Budget | None" = None, whose: str = "") -> None:
        import time

        # (the module's limits read now, not when this was defined: a test moves them)
        steps = MAX_STEPS if steps is None else steps
        seconds = MAX_SECONDS if seconds is None else seconds
        self.steps, self.max_steps, self.seconds = 0, steps, seconds
        self.clock = time.monotonic
        self.deadline = time.monotonic() + seconds
        self.run, self.whose = run, whose

    def spend(self) -> None:
        self.steps += 1
        if self.run is not None:
            self.run.spend()
        if self.steps > self.max_steps:
            raise OverBudget(f"needs more than {self.max_steps} evaluation steps{self.whose}")
        if self.steps % 256 == 0 and self.clock() > self.deadline:
            raise OverBudget(f"takes longer than {self.seconds:g} s{self.whose}")


def _inexact(v: Value) -> "mpmath.mpf":
    import mpmath

    if isinstance(v, Fraction):
        with mpmath.workdps(WORKING_DIGITS):    # (not the context's default 15 digits)
            return mpmath.mpf(v.numerator) / v.denominator
    return v


def _checked(v: Value, scaled: bool = False) -> Value:
    """``v`` within the magnitude budget (else Undefined); a rational too long to
    carry on exactly continues as a WORKING_DIGITS number.  A number written, a
    rational result, and an inexact value that a product, quotient, power or
    function made (``scaled``) must also not be below MIN_MAGNITUDE (unless 0): a
    term that small (1e-50 exp(x1), exp(1e-45)) vanishes within AGREEMENT and
    passed for nothing.  (An inexact sum or difference may be: equal values cancel
    to rounding noise.)"""
    import mpmath

    if v != 0 and (scaled or isinstance(v, Fraction)) and \
            abs(v) * MIN_MAGNITUDE.denominator < 1:
        raise Undefined(f"gives a number that is too small to compare (below "
                        f"1e-{_MIN_DIGITS})")

    if isinstance(v, Fraction):
        if abs(v) > MAX_MAGNITUDE:
            raise Undefined(f"gives a number that is too large (above 1e{_CAP_DIGITS})")
        if v.numerator.bit_length() + v.denominator.bit_length() > MAX_EXACT_BITS:
            return _inexact(v)
        return v
    if not mpmath.isfinite(v):
        raise Undefined("gives a number that is too large")
    if abs(v) > MAX_MAGNITUDE:
        raise Undefined(f"gives a number that is too large (above 1e{_CAP_DIGITS})")
    return v


_CAP_DIGITS = len(str(MAX_MAGNITUDE)) - 1
_MIN_DIGITS = len(str(MIN_MAGNITUDE.denominator)) - 1


def _from_sympy(v: "sympy.Expr") -> Value:
    """A function's value (a sympy number) as a Value; Undefined when it is not a
    finite real number."""
    import mpmath

    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    v = v.evalf(WORKING_DIGITS)
    if not (v.is_Number and v.is_finite and v.is_real):
        raise Undefined("is undefined there")
    with mpmath.workdps(WORKING_DIGITS):     # (mpf() rounds to the context's precision)
        return mpmath.mpf(v)


def evaluate_at(formula: Formula, point: dict[str, Fraction],
                budget: "_Budget | None" = None) -> Value:
    """The value of a student's formula at an exact point, within the budget: exact
    (a Fraction) where only rational arithmetic is involved, else a number of
    WORKING_DIGITS digits.  Raises Undefined (no value there: division by zero, log
    of a non-positive number, a value above MAX_MAGNITUDE, ...) or OverBudget.
    Every function argument and intermediate value is bounded *before* the next
    operation, so no operation is ever asked for an astronomically large result."""
    import mpmath
    import sympy

    spend = (budget or _Budget()).spend
    table = functions()

    def ev(node: Node) -> Value:
        spend()
        if isinstance(node, Num):
            return _checked(node.value)
        if isinstance(node, Name):
            return point[node.name]
        if isinstance(node, Neg):
            return -ev(node.operand)
        if isinstance(node, BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(a, Fraction) and isinstance(b, Fraction):
                if node.op == "/" and b == 0:
                    raise Undefined("divides by zero")
                return _checked(a + b if node.op == "+" else a - b if node.op == "-" else
                                a * b if node.op == "*" else a / b)
            x, y = _inexact(a), _inexact(b)
            if node.op == "/" and y == 0:
                raise Undefined("divides by zero")
            return _checked(x + y if node.op == "+" else x - y if node.op == "-" else
                            x * y if node.op == "*" else x / y, scaled=node.op in "*/")
        if isinstance(node, Pow):
            base, e = ev(node.base), node.exponent
            if base == 0 and e < 0:
                raise Undefined("divides by zero")
            if e.denominator != 1 and base < 0:
                raise Undefined("takes a root of a negative number")
            # |base| <= MAX_MAGNITUDE and |e| <= MAX_EXPONENT: a bounded power; its
            # size is checked before it is formed.
            if base != 0 and float(e) * math.log10(abs(float(base)) or 1e-300) > \
                    _CAP_DIGITS + 1:
                raise Undefined(f"gives a number that is too large (above 1e{_CAP_DIGITS})")
            if isinstance(base, Fraction) and e.denominator == 1:
                return _checked(base ** int(e))
            return _checked(mpmath.power(_inexact(base), mpmath.mpf(e.numerator) /
                                         e.denominator), scaled=True)
        arg = ev(node.argument)
        if abs(arg) > MAX_FUNCTION_ARGUMENT:
            raise Undefined(f"gives {node.function} an argument that is too large "
                            f"(above {MAX_FUNCTION_ARGUMENT})")
        if node.function == "log" and arg <= 0:
            raise Undefined("takes the log of a number that is not positive")
        if node.function == "sqrt" and arg < 0:
            raise Undefined("takes the square root of a negative number")
        x = sympy.Rational(arg.numerator, arg.denominator) if isinstance(arg, Fraction) \
            else sympy.Float(arg, WORKING_DIGITS)
        return _checked(_from_sympy(table[node.function].sympy_value(sympy, x)), scaled=True)

    with mpmath.workdps(WORKING_DIGITS):
        return ev(formula.root)


def _agree(a: Value, b: Value) -> bool:
    """Exactly equal when both are rational; else within AGREEMENT (relative to
    max(1, |a|, |b|)) at WORKING_DIGITS digits."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    import mpmath

    with mpmath.workdps(WORKING_DIGITS):
        x, y = _inexact(a), _inexact(b)
        scale = max(mpmath.mpf(1), abs(x), abs(y))
        return bool(abs(x - y) <= _inexact(AGREEMENT) * scale)


class _LeftToSympy(Exception):
    """The expression has a node that :func:`_trusted_value` leaves to sympy."""


def _trusted_value(expr: "sympy.Expr", point: dict["sympy.Symbol", Fraction]) -> Value:
    """The value of a trusted expression (the derivation's: rationals, the point's
    symbols, +, *, whole powers, exp and Heaviside steps) computed node by node,
    without building sympy numbers at every node (most of a marking run's time):
    exact in Fractions where sympy's substitution (:func:`value_at`) is rational
    (exp is only at 0: e^r is irrational for every other rational r), else in
    WORKING_DIGITS digits, far more than the 40 compared.  Raises
    ZeroDivisionError where it is undefined, _LeftToSympy for any other node."""
    import mpmath
    import sympy

    memo: dict[Any, Value] = dict(point)

    def value(e: Any) -> Value:
        if e in memo:
            return memo[e]
        result: Value
        if e.is_Rational:
            result = Fraction(int(e.p), int(e.q))
        elif e.is_Symbol:               # (the point's own symbols are in memo)
            raise _LeftToSympy(e.name)
        elif e.is_Add:
            terms = [value(t) for t in e.args]
            result = sum(terms, Fraction(0)) if all(isinstance(t, Fraction) for t in terms) \
                else mpmath.fsum(_inexact(t) for t in terms)
        elif e.is_Mul:
            factors = [value(f) for f in e.args]
            if all(isinstance(f, Fraction) for f in factors):
                result = Fraction(1)
                for f in factors:
                    result *= f
            else:
                result = mpmath.fprod(_inexact(f) for f in factors)
        elif e.is_Pow and e.exp.is_Integer:
            base = value(e.base)
            if base == 0 and e.exp < 0:
                raise ZeroDivisionError("0 to a negative power")
            result = base ** int(e.exp) if isinstance(base, Fraction) else \
                _inexact(base) ** int(e.exp)
        elif isinstance(e, sympy.exp):
            a = value(e.args[0])
            result = Fraction(1) if a == 0 else mpmath.exp(_inexact(a))
        elif isinstance(e, sympy.Heaviside) and len(e.args) == 2 and e.args[1].is_Rational:
            z = value(e.args[0])        # Heaviside(z, H0): 1 above 0, 0 below, H0 at 0
            result = Fraction(1) if z > 0 else Fraction(0) if z < 0 else value(e.args[1])
        else:
            raise _LeftToSympy(type(e).__name__)
        memo[e] = result
        return result

    with mpmath.workdps(WORKING_DIGITS):
        return value(expr)


def _expected_value(expr: "sympy.Expr", symbols: dict[str, "sympy.Symbol"],
                    point: dict[str, Fraction]) -> Value | None:
    import mpmath
    import sympy

    try:
        fast = _trusted_value(expr, {symbols[n]: f for n, f in point.items() if n in symbols})
    except ZeroDivisionError:
        return None
    except _LeftToSympy:
        pass
    else:
        if not isinstance(fast, Fraction) and not mpmath.isfinite(fast):
            return None
        try:
            return _checked(fast)
        except Undefined:
            return None
    v = value_at(expr, {symbols[n]: sympy.Rational(f.numerator, f.denominator)
                        for n, f in point.items() if n in symbols})
    if v is None:
        return None
    try:
        return _checked(_from_sympy(v))
    except Undefined:
        return None


class ExpectedCache:
    """What comparisons with the same expressions can share in one marking run: the
    fresh points (drawn once for the run, so still unknown before it) and the
    expected values at every point, by (expression, names, place of the point); and
    the span of each of the network's values (:class:`Span`, from the ranges of its
    activations and loss)."""

    def __init__(self, spans: Mapping[str, Span] | None = None) -> None:
        self.spans: Mapping[str, Span] = dict(spans or {})
        self.secret_seed = random.SystemRandom().getrandbits(128)
        self.values: dict[tuple[sympy.Expr, tuple[str, ...], int], Value | None] = {}
        self.run = _Budget(MAX_RUN_STEPS, MAX_RUN_SECONDS, whose=" for the file's formulas "
                           "in all")


def compare(student: "Formula | sympy.Expr", expected: "sympy.Expr",
            symbols: dict[str, "sympy.Symbol"], cache: ExpectedCache | None = None
            ) -> Comparison:
    """Equivalence by evaluation at random exact points (Schwartz-Zippel: two
    different rational functions of bounded degree agree at a random point of a
    large set with negligible probability).  Rational values are compared exactly,
    others to WORKING_DIGITS digits.  No symbolic work is done on a student's
    formula: it is evaluated node by node within a budget (steps, time, magnitude),
    so the time is bounded whatever it is.

    Equivalent means: at PROBES seeded and SECRET_PROBES fresh points (see
    :func:`_draws`) both are defined and agree, and nowhere (among the points
    drawn) do they disagree or is only one defined.  A point where neither is
    defined is re-drawn (at most MAX_DRAWS points of each kind).  A
    formula over budget, too large or undefined where the gradient is defined is
    not equivalent (``unevaluated`` says why).  ``cache`` shares the fresh points
    and the expected values between the comparisons of one marking run."""
    names = sorted(symbols)
    budget = _Budget(run=cache.run if cache is not None else None)
    used = set(names)
    if isinstance(student, Formula):
        formula = student
        used = set(student.names)

        def student_at(point: dict[str, Fraction]) -> Value:
            return evaluate_at(formula, point, budget)
    else:                                   # a trusted sympy expression
        def student_at(point: dict[str, Fraction]) -> Value:
            v = _expected_value(student, symbols, point)
            if v is None:
                raise Undefined("is undefined there")
            return v
    ratios: list[float] = []
    factors: list[Value | None] = []
    probed: list[dict[str, Fraction]] = []
    mismatch: tuple[dict[str, float], float | None, float | None] | None = None
    unevaluated: str | None = None
    agreed = 0
    secret_seed = cache.secret_seed if cache is not None else \
        random.SystemRandom().getrandbits(128)
    spans = cache.spans if cache is not None else {}
    for raw, place in _draws(names, lambda: len(probed), secret_seed, spans):
        shown = {n: float(v) for n, v in raw.items()}
        if cache is None:
            e = _expected_value(expected, symbols, raw)
        else:
            key = (expected, tuple(names), place)
            if key not in cache.values:
                cache.values[key] = _expected_value(expected, symbols, raw)
            e = cache.values[key]
        try:
            s: Value | None = student_at(raw)
        except Undefined as why:
            s = None
            if e is not None:               # the gradient is defined here, the answer not
                unevaluated = unevaluated or f"{why}{_point_text(shown, used)}"
                mismatch = mismatch or (shown, None, _as_float(e))
            continue
        except OverBudget as why:
            return Comparison(False, None, shown, None, _as_float(e), tuple(ratios),
                              unevaluated=str(why), probed=tuple(probed))
        except (RecursionError, MemoryError):
            return Comparison(False, None, shown, None, _as_float(e), tuple(ratios),
                              unevaluated="is too complex to evaluate", probed=tuple(probed))
        if e is None:
            continue                        # the gradient is undefined here: draw again
        same = _agree(s, e)
        if same:
            agreed += 1
        elif mismatch is None:
            mismatch = (shown, _as_float(s), _as_float(e))
        if s != 0 or e != 0:                # (both 0, as at a relu unit's 0: any factor)
            factors.append(_ratio(s, e))
        back = _ratio(e, s)
        ratios.append(math.inf if back is None else _float(back))
        probed.append(raw)
    if mismatch is None and agreed >= PROBES + SECRET_PROBES and unevaluated is None:
        return Comparison(True, Fraction(1), {}, None, None, tuple(ratios),
                          probed=tuple(probed))
    factor = None
    simple = [_simple_fraction(f) for f in factors]
    if len(simple) >= PROBES and all(f is not None and f == simple[0] for f in simple):
        factor = simple[0]
    if mismatch is None:                    # too few points where both are defined
        unevaluated = unevaluated or "is undefined at the points tried"
        return Comparison(False, None, {}, None, None, tuple(ratios),
                          unevaluated=unevaluated, probed=tuple(probed))
    point, sv, ev = mismatch
    if unevaluated is not None and sv is None:
        return Comparison(False, None, point, sv, ev, tuple(ratios), unevaluated=unevaluated,
                          probed=tuple(probed))
    return Comparison(False, factor, point, sv, ev, tuple(ratios), probed=tuple(probed))


def _draws(names: Sequence[str], found: Callable[[], int], secret_seed: int,
           spans: Mapping[str, Span]) -> Iterator[tuple[dict[str, Fraction], int]]:
    """The points to probe, each with its place in the sequence, while ``found()``
    (the points where both values were defined) is short of what is wanted: first
    the seeded points (the same in every run, so messages are: :func:`probe_points`),
    then SECRET_PROBES points no one can know in advance.  The seeded points are in the
    source code: a formula made to agree with the gradient at exactly those points
    (the gradient plus (h1 - p1)(h1 - p2)...) must still meet points it cannot
    have been made for.  Those are drawn from a set of about 1.4e18 values per
    symbol, so a polynomial of the formulas' limited degree that is not zero
    vanishes at one with a probability below 1e-16 (Schwartz-Zippel)."""
    ordered = sorted(names)
    zero = {n for n in ordered if span_of(n, spans).zero}
    if zero:                              # first, the relu units at 0 (see Span)
        edge = _seeded_points(ordered, spans, 1, _SEED + 1)[0]
        yield {n: Fraction(0) if n in zero else v for n, v in edge.items()}, 2 * MAX_DRAWS
    seeded: list[dict[str, Fraction]] = []
    for i in range(MAX_DRAWS):            # probe_points' points, a block at a time
        if found() >= PROBES:
            break
        if i == len(seeded):
            seeded = _seeded_points(ordered, spans, i + PROBES)
        yield seeded[i], i
    rng = random.Random(secret_seed)
    for i in range(MAX_DRAWS, 2 * MAX_DRAWS):
        if found() >= PROBES + SECRET_PROBES:
            break
        yield _point(rng, ordered, _SECRET_DENOMINATOR, spans), i


def _point_text(point: dict[str, float], used: Collection[str]) -> str:
    """" at x1 = 0.462, h1 = 0.127" for the symbols a formula uses (none: "")."""
    items = [(k, v) for k, v in point.items() if k in used]
    if not items:
        return ""
    shown = ", ".join(f"{k} = {v:.3f}" for k, v in items[:6])
    return " at " + shown + (", ..." if len(items) > 6 else "")


def _ratio(a: Value, b: Value) -> Value | None:
    if b == 0:
        return None
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a / b
    import mpmath

    with mpmath.workdps(WORKING_DIGITS):
        return _inexact(a) / _inexact(b)


def _simple_fraction(value: Value | None) -> Fraction | None:
    """A ratio of the student's value to the expected one as a fraction: exact when
    both are rational; else (values with e or ln: softplus, exp) the fraction with a
    small denominator that the ratio equals to WORKING_DIGITS digits."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return value
    guess = Fraction(float(value)).limit_denominator(1000)
    return guess if _agree(value, guess) else None


def _as_float(v: Value | None) -> float | None:
    return None if v is None else _float(v)


def _float(v: Value) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf
