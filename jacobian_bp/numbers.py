"""The one place where numbers become text: rounding, `-0` and exact zeros."""

import math


def format_number(value: float, decimals: int) -> str:
    """Round `value` to `decimals` places for display.

    Exact zeros (and negative zero) print as `0`; trailing zeros are dropped so that
    `8.0` reads `8` and `10.1` reads `10.1`, as in the article. A value that is not
    zero but rounds to zero keeps its decimals (`0.0000`), so it is never mistaken for
    an exact zero.

    >>> [format_number(v, 4) for v in (0.0, -0.0, 8.0, 10.1, -0.12771, 1e-7, -1e-7)]
    ['0', '0', '8', '10.1', '-0.1277', '0.0000', '0.0000']
    """
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        return f"{0:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
