"""The one number-formatting policy of bpnn-steps.

Every renderer (terminal, Markdown, LaTeX, check reports) formats numbers here,
so a value looks the same wherever it appears.

The policy follows the way a lecture writes a hand calculation:

* a value that is exact at the chosen number of decimals is written short, as
  given (``0.1``, ``3``, ``0.2``);
* any other value is rounded to ``decimals`` places *keeping* trailing zeros
  (``0.270``, ``0.550``), so a reader can tell a rounded value from an exact one;
* a non-zero value that would round to zero, or a very large one, is written in
  scientific notation with ``decimals + 1`` significant figures, so no
  information silently disappears.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal

DEFAULT_DECIMALS = 3
# Given values (data, initial weights) are shown with up to this many decimals;
# values exact at fewer decimals, as given values usually are, are written short.
GIVEN_DECIMALS = 6
# Values this close (relative) to their rounding count as exact; 0.1 + 0.1 * 2
# is 0.30000000000000004 in binary and should still print as 0.3.
_EXACT_RTOL = 1e-12
_LARGE = 1e9
# Below _LARGE a number has at most 9 digits before the point: with this many
# decimals it has at most 15 significant figures, which a float keeps exactly.
_ROUND_TRIP_DECIMALS = 6
_FIXED = tuple(f".{d}f" for d in range(_ROUND_TRIP_DECIMALS + 2))
_PERCENT = tuple(f"%.{d}f\0" for d in range(_ROUND_TRIP_DECIMALS + 2))
MINUS = "\u2212"


def round_half_up(value: float, decimals: int) -> float:
    """Round as a hand calculation does: a tie goes away from zero (0.0625 -> 0.063).

    The tie is judged on the exact binary value (Decimal(0.0625) is exactly a tie;
    2.675 is stored as 2.67499999... and rounds down, as it must).  Python's own
    round() and numpy's round half to even instead (0.0625 -> 0.062).
    """
    x = float(value)
    if not math.isfinite(x) or abs(x) >= 2.0 ** 53:   # no fraction left to round
        return x
    # Formatting rounds the exact binary value correctly, half to even: it differs
    # from half up only on an exact tie, whose exact value has decimals + 1 decimals,
    # the last a 5.  Only such candidates take the (30x slower) Decimal route.
    if decimals >= 0 and not f"{x:.{decimals + 1}f}".endswith("5"):
        return float(f"{x:.{decimals}f}")
    quantum = Decimal(1).scaleb(-decimals)
    # Enough digits for any double below 2^53 to the decimals asked for.
    context = Context(prec=20 + max(decimals, 0), rounding=ROUND_HALF_UP)
    return float(Decimal(x).quantize(quantum, context=context))


def fmt(value: float, decimals: int = DEFAULT_DECIMALS, *, minus: str = "-") -> str:
    """Format one number by the policy above; ``minus`` is the sign glyph to use."""
    x = float(value)
    if -_LARGE < x < _LARGE and 0 <= decimals <= _ROUND_TRIP_DECIMALS:
        text = _common(x, format(x, _FIXED[decimals]), format(x, _FIXED[decimals + 1]), minus)
        if text is not None:
            return text
    return _general(x, decimals, minus)


def fmt_many(values: Sequence[float], decimals: int = DEFAULT_DECIMALS, *, minus: str = "-"
             ) -> list[str]:
    """:func:`fmt` of each value (the same texts), many values at a time: a
    worked solution formats 100,000s of numbers, most of them plain roundings."""
    xs = tuple(map(float, values))
    if not xs or not 0 <= decimals <= _ROUND_TRIP_DECIMALS:
        return [fmt(x, decimals, minus=minus) for x in xs]
    import numpy as np

    # "%.3f" % x is format(x, ".3f"), correctly rounded; the only "-" is the sign.
    texts = (_PERCENT[decimals] * len(xs) % xs).replace("-", minus).split("\0")
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(np.array(xs)) * 10.0 ** decimals
        off = scaled - np.floor(scaled)         # exact: the digits past the last kept
        slack = 3 * _EXACT_RTOL * np.maximum(10.0 ** decimals, scaled)
        # Plain: that rounding is all fmt does (besides the minus sign).  The rest
        # (a possible tie, a value exact at these decimals or rounding to zero, a
        # huge one, nan) take fmt's own route.  The slack covers _EXACT_RTOL and
        # the rounding of the product, so nothing that is not plain is counted in.
        plain = ((scaled >= 1) & (scaled < _LARGE * 10.0 ** decimals)
                 & (off > slack) & (1 - off > slack) & (np.abs(off - 0.5) > slack))
    texts.pop()         # the empty text after the last separator
    for i in np.flatnonzero(~plain).tolist():      # the few that are not plain
        texts[i] = fmt(xs[i], decimals, minus=minus)
    return texts


def _common(x: float, text: str, longer: str, minus: str) -> str | None:
    """The common case in fewer steps, with the result of the general route
    (None: take that route).  ``text`` and ``longer`` are x formatted with decimals
    and decimals + 1 places, for x within (-_LARGE, _LARGE) and decimals at most
    _ROUND_TRIP_DECIMALS."""
    # Unless the exact value is a tie (see round_half_up), formatting rounds it by
    # hand, and a decimal of at most 15 significant figures survives the trip
    # through a float.  A tie's exact value is ``longer`` itself, which then reads
    # back as x: a 5 that does not is no tie (most of them: 0.12345678).
    if longer.endswith("5") and float(longer) == x:
        return None
    rounded = float(text)
    if rounded == 0 and x != 0:
        return None
    if abs(x - rounded) <= _EXACT_RTOL * max(1.0, abs(x)) and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text[0] == "-":      # all zeros only for -0.0 (rounded is not 0)
        return text[1:] if rounded == 0 else minus + text[1:]
    return text


def _general(x: float, decimals: int, minus: str) -> str:
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("-" if x < 0 else "") + "inf"
    rounded = round_half_up(x, decimals)
    if x != 0 and (abs(x) >= _LARGE or rounded == 0):
        text = f"{x:.{decimals}e}"
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    elif abs(x - rounded) <= _EXACT_RTOL * max(1.0, abs(x)):
        text = _short(rounded, decimals)
    else:
        text = f"{rounded:.{decimals}f}"
    if text[0] == "-":
        if _is_zero_text(text):
            text = text[1:]
        else:
            text = minus + text[1:]
    return text


def fmt_fixed(value: float, decimals: int = DEFAULT_DECIMALS) -> str:
    """Fixed decimals, trailing zeros kept: for columns that must line up."""
    text = f"{round_half_up(value, decimals):.{decimals}f}"
    return text[1:] if _is_zero_text(text) and text.startswith("-") else text


def _short(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _is_zero_text(text: str) -> bool:
    return not text.strip("-0.")         # every character one of "-0."


def decimals_written(text: str) -> int:
    """How many decimals a number was written with (``"0.270"`` -> 3): the decimal
    place of its last written digit, so ``"2.0e-1"`` has 2 (it is 0.20) and
    ``"1.5e2"`` none."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    try:
        shift = int(exponent) if exponent else 0
    except ValueError:
        shift = 0
    return max(0, places - shift)
