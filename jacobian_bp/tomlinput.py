"""Reading the TOML files people write (walkthroughs and answer files) and describing what is wrong.

Both readers share these pieces so that a file that cannot be read, a TOML syntax error, a
number too large for a float or a ragged matrix gets the same words wherever it happens.
"""

import math
import re
import tomllib
from pathlib import Path


class UnreadableError(Exception):
    """Why a file cannot be read as TOML, the line when TOML gives one, and the text when it was read."""

    def __init__(self, message: str, line: int | None = None, text: str = ""):
        super().__init__(message)
        self.message, self.line, self.text = message, line, text


def read(path: Path) -> tuple[str, dict]:
    """The text of `path` and its parsed TOML document, or a `UnreadableError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnreadableError("no such file") from None
    except UnicodeDecodeError:
        raise UnreadableError("is not a text file (expected UTF-8 TOML)") from None
    except OSError as error:
        raise UnreadableError(f"cannot be read: {error.strerror}") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise UnreadableError(f"not valid TOML: {message}", int(found.group(1)) if found else None, text) from None


def describe(value) -> str:
    """What a TOML value is, for "found …" in error messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, int) and finite_number(value) is None:
        return "a number too large for floating point"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def finite_number(value) -> float | None:
    """`value` as a float if it is a finite number (integers too, booleans not), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def ragged(rows: list[list]) -> str | None:
    """Why a list of rows is not a matrix (an empty row, rows of different lengths), or None."""
    lengths = [len(row) for row in rows]
    if 0 in lengths:
        return f"row {lengths.index(0) + 1} is empty"
    if len(set(lengths)) > 1:
        return (f"rows have different lengths ({', '.join(map(str, lengths))}); "
                "every row needs the same number of entries")
    return None
