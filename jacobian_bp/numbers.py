"""The one place where numbers become text: rounding, `-0`, exact zeros and very large values."""

import functools
import math

SCIENTIFIC_FROM = 1e9


def format_number(value: float, decimals: int) -> str:
    """Round `value` to `decimals` places (at least 1) for display, halves up as a person rounds.

    Exact zeros (and negative zero) print as `0`; trailing zeros are dropped so that `8.0` reads
    `8` and `10.1` reads `10.1`, as in the article. A value that is not zero but rounds to zero
    keeps its decimals (`0.0000`), so it is never mistaken for an exact zero. Rounding starts from
    the shortest decimal that reads back as the float, so 0.0625 rounds to 0.063 and 2.675 to 2.68,
    as they do by hand. Values from a billion up are written with an exponent.

    >>> [format_number(v, 4) for v in (0.0, -0.0, 8.0, 10.1, -0.12771, 1e-7, -1e-7, 0.00005)]
    ['0', '0', '8', '10.1', '-0.1277', '0.0000', '0.0000', '0.0001']
    >>> format_number(0.0625, 3), format_number(2.675, 2), format_number(-1.5e12, 4)
    ('0.063', '2.68', '-1.5000e+12')
    """
    return _formatted(float(value), decimals)


@functools.lru_cache(maxsize=1 << 16)  # pages repeat numbers (a step's result is the next step's upstream row)
def _formatted(value: float, decimals: int) -> str:
    """`format_number` of a float, remembered."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= SCIENTIFIC_FROM:
        return f"{value:.{decimals}e}"
    rounded = _rounded(value, decimals)
    if float(rounded) == 0:
        return f"{0:.{decimals}f}"
    return rounded.rstrip("0").rstrip(".")


def _rounded(value: float, decimals: int) -> str:
    """`value` at `decimals` places (or fewer, trailing zeros aside), rounded half up from its shortest decimal
    (`repr`).

    A shortest decimal with no more places needs no rounding. Only a tie (its digits after the place are exactly
    `5`) needs the decimal module: the float lies on the same side of any other halfway point as its shortest
    decimal, so Python's own formatting, which rounds the float, rounds it the same way at once. decimal is
    imported on first use: `--format json` rounds nothing (but a note of a few ops), and starts sooner without it."""
    shortest = repr(value)
    if "e" not in shortest:
        places = len(shortest) - shortest.index(".") - 1
        if places <= decimals:
            return shortest
        if shortest[decimals - places:] != "5":
            return f"{value:.{decimals}f}"
    from decimal import ROUND_HALF_UP, Decimal

    return format(Decimal(shortest).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f")
