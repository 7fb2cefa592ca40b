"""The number-format policy (bpnn_steps/numfmt.py): exact values short as given,
rounded values with their trailing zeros kept, scientific notation where a
fixed-decimal form would lose the value (too small) or get unwieldy (too large).
"""

from __future__ import annotations

import functools
import re

import pytest

from bpnn_steps.numfmt import MINUS, decimals_written, fmt, fmt_fixed


@pytest.mark.parametrize("value,text", [
    (0.1, "0.1"),                     # exact: written as given
    (0.2, "0.2"),
    (3.0, "3"),
    (3, "3"),
    (-2.5, "-2.5"),
    (0.549834, "0.550"),              # rounded: trailing zero kept
    (0.26992, "0.270"),
    (0.574443, "0.574"),
    (19.628361, "19.628"),
    (-0.163, "-0.163"),               # exact at 3 decimals
    (-0.16286754838105488, "-0.163"),
    (0.30000000000000004, "0.3"),     # 0.1 + 0.2: exact up to binary noise
    (0.1 + 0.1 * 2, "0.3"),
    (1 - 0.9, "0.1"),
    (0.0, "0"),
    (-0.0, "0"),                      # never "-0"
    (12345.678, "12345.678"),
    (2.0005, "2.001"),                # 2.0005 is 2.000500000000000078 in binary
])
def test_default_three_decimals(value, text):
    assert fmt(value) == text


@pytest.mark.parametrize("value,decimals,text", [
    (0.549834, 5, "0.54983"),
    (0.549834, 1, "0.5"),
    (0.549834, 0, "1"),
    (0.26992, 2, "0.27"),
    (0.5, 5, "0.5"),
    (19.628360996, 6, "19.628361"),
    (2.0, 6, "2"),
])
def test_other_decimals(value, decimals, text):
    assert fmt(value, decimals) == text


def test_rounded_values_keep_all_their_decimals():
    assert fmt(0.26992, 2) == "0.27"
    assert fmt(0.2699, 3) == "0.270"
    assert fmt(1.0001, 3) == "1.000"   # rounds to 1 but is not 1: keep the zeros
    assert decimals_written(fmt(1.0001, 3)) == 3
    assert decimals_written(fmt(0.549834)) == 3
    assert decimals_written("0.1") == 1
    assert decimals_written("3") == 0


def sci_parts(text: str) -> tuple[str, int]:
    m = re.fullmatch(r"([-−]?\d\.\d+)e([+-]?\d+)", text)
    assert m, f"{text!r} is not scientific notation"
    return m.group(1), int(m.group(2))


def test_small_nonzero_values_go_scientific():
    text = fmt(-0.0001, 3)
    mantissa, exponent = sci_parts(text)
    assert mantissa == "-1.000" and exponent == -4       # decimals + 1 significant figures
    assert float(text) == -0.0001
    mantissa, exponent = sci_parts(fmt(0.00012346, 3))
    assert (mantissa, exponent) == ("1.235", -4)
    mantissa, exponent = sci_parts(fmt(4.9e-7, 2))
    assert (mantissa, exponent) == ("4.90", -7)
    # 0.0004 rounds to 0.000 at 3 decimals, but at 4 decimals it is exact.
    assert "e" in fmt(0.0004, 3)
    assert fmt(0.0004, 4) == "0.0004"


def test_large_values_go_scientific():
    mantissa, exponent = sci_parts(fmt(2.5e9))
    assert (mantissa, exponent) == ("2.500", 9)
    mantissa, exponent = sci_parts(fmt(-1.2345e12, 2))
    assert (mantissa, exponent) == ("-1.23", 12)
    assert float(fmt(3.0e15)) == 3.0e15
    # Below the threshold, fixed notation.
    assert fmt(123456.5) == "123456.5"


def test_minus_glyph_option():
    assert MINUS == "\u2212"
    assert fmt(-0.549834, minus=MINUS) == "\u22120.550"
    assert fmt(-3.0, minus=MINUS) == "\u22123"
    assert fmt(0.549834, minus=MINUS) == "0.550"
    assert fmt(-0.0, minus=MINUS) == "0"
    assert fmt(-0.0001, 3, minus=MINUS).startswith("\u22121.000e")
    assert fmt(-0.549834) == "-0.550"      # default: ASCII hyphen-minus


def test_negative_values_that_round_to_zero_are_never_minus_zero():
    # Exactly zero prints 0, a tiny negative prints in scientific notation: neither "-0".
    for v in (-0.0, -1e-20, -0.0004):
        text = fmt(v, 3)
        assert text not in ("-0", "-0.000", "\u22120")


def test_non_finite():
    assert fmt(float("nan")) == "nan"
    assert fmt(float("inf")) == "inf"
    assert fmt(float("-inf")) == "-inf"


def test_fixed_columns():
    assert fmt_fixed(0.1) == "0.100"
    assert fmt_fixed(0.549834) == "0.550"
    assert fmt_fixed(-0.0001) == "0.000"
    assert fmt_fixed(-0.5, 2) == "-0.50"


# ----------------------------------------------------------------- hand rounding
# A hand calculation rounds a tie away from zero: 0.0625 to 3 decimals is 0.063
# (Python's round() and numpy's give 0.062, rounding half to even).  The tie is
# judged on the stored binary value: 2.675 is stored as 2.67499999999999982236431605997495353221893310546875,
# below the tie, so it rounds to 2.67 by hand too.

def test_round_half_up_breaks_ties_away_from_zero() -> None:
    from bpnn_steps.numfmt import round_half_up

    assert round_half_up(0.0625, 3) == 0.063
    assert round_half_up(-0.0625, 3) == -0.063
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(2.5, 0) == 3.0
    assert round_half_up(2.675, 2) == 2.67
    assert round_half_up(0.549834, 3) == 0.55
    assert round_half_up(1e30, 3) == 1e30


def test_display_and_round_as_you_go_round_ties_the_same_way() -> None:
    import bpnn_steps

    # z = w0 + w1 x = 0.0625 + 0.5 * 0 = 0.0625 exactly: shown and carried as 0.063.
    problem = bpnn_steps.parse_problem("""
network: {layers: [1, 1], activations: [linear]}
data: {x: [0], y: [1]}
weights: {W1: [[0.0625], [0.5]]}
training: {learning_rate: 0.5}
""")
    assert fmt(0.0625) == "0.063"
    trace = bpnn_steps.solve(problem, round_as_you_go=3)
    assert trace.steps[0].forward[0].z[0][0] == 0.063


def _reference_fmt(x: float, decimals: int, minus: str) -> str:
    """The policy of numfmt, written with exact decimal arithmetic only."""
    return _reference_fmts(x, range(decimals, decimals + 1), minus)[0]


def _reference_fmts(x: float, places: range, minus: str) -> list[str]:
    """_reference_fmt of ``x`` at each number of decimals in ``places`` (the exact
    value of ``x`` worked out once for all of them)."""
    from decimal import ROUND_HALF_UP, Context, Decimal

    exact = Decimal(x)
    context = Context(prec=400)
    texts = []
    for decimals in places:
        rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP,
                                 context=context)
        if x != 0 and (abs(x) >= 1e9 or rounded == 0):
            mantissa, exponent = f"{x:.{decimals}e}".split("e")
            text = f"{mantissa}e{int(exponent)}"
        elif abs(x - float(rounded)) <= 1e-12 * max(1.0, abs(x)):    # exact: written short
            text = format(rounded, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
        else:
            text = format(rounded, "f")
        if text.startswith("-"):
            text = text[1:] if set(text) <= set("-0.") else minus + text[1:]
        texts.append(text)
    return texts


@functools.cache
def _awkward_values() -> tuple[float, ...]:
    """Random doubles of every magnitude, short decimals, and exact binary ties
    such as 0.0625 and 2.5 (which must round up)."""
    import random
    import struct

    rng = random.Random(9)
    values = [0.0625, -0.0625, 2.5, -2.5, 0.125, 1.0005, 2.675, 0.30000000000000004,
              123456.0625, -0.0005, 0.0005, 999999999.9996, 1e-20, -1e-20]
    # 4,000 values at 10 decimals each: 40,000 comparisons per test, a few hundred of
    # them exact ties; more draws took seconds and found nothing new.
    for _ in range(1000):
        values.append(rng.uniform(-10, 10))
        values.append(rng.randint(-10**6, 10**6) / 2 ** rng.randint(0, 24))     # ties
        values.append(round(rng.uniform(-100, 100), rng.randint(0, 8)))
        bits = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if bits == bits and abs(bits) < 1e300:
            values.append(bits)
    return tuple(values)


@functools.cache
def _reference_table(minus: str) -> dict[int, list[str]]:
    """Exact decimal rounding of every awkward value at 0..9 decimals (worked out once
    for the two tests that compare with it)."""
    rows = [_reference_fmts(x, range(10), minus) for x in _awkward_values()]
    return {d: [row[d] for row in rows] for d in range(10)}


def test_fmt_agrees_with_exact_decimal_rounding_on_random_and_tied_values():
    """The fast route of fmt (formatting, except on exact ties) gives what exact
    decimal arithmetic gives."""
    from bpnn_steps.numfmt import MINUS, fmt

    reference = _reference_table(MINUS)
    for i, x in enumerate(_awkward_values()):
        for decimals in range(0, 10):
            assert fmt(x, decimals, minus=MINUS) == reference[decimals][i], (x, decimals)


def test_many_numbers_at_once_agree_with_exact_decimal_rounding():
    """fmt_many (a matrix at a time, numpy finding the plain roundings) gives what
    exact decimal arithmetic gives, zeros, infinities and nan as fmt writes them."""
    from bpnn_steps.numfmt import MINUS, fmt, fmt_many

    values = list(_awkward_values())
    reference = _reference_table(MINUS)
    for decimals in range(0, 10):
        assert fmt_many(values, decimals, minus=MINUS) == reference[decimals], decimals
    assert fmt_many(values[:200], 3) == [_reference_fmt(x, 3, "-") for x in values[:200]]
    specials = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e300, -1e-300]
    assert fmt_many(specials, 3) == [fmt(x, 3) for x in specials]
