"""Reading the TOML files people write (walkthroughs and answer files) and describing what is wrong.

Both readers share these pieces so that a file that cannot be read, a TOML syntax error, a
number too large for a float or a ragged matrix gets the same words wherever it happens. A
hostile file (a FIFO or a device, a huge file, lists nested thousands deep, an integer of
thousands of digits) is refused before any real work, in bounded time and memory.
"""

import errno
import math
import os
import re
import stat
import sys
import tomllib
from typing import TYPE_CHECKING

from .errors import quoted, shorten

if TYPE_CHECKING:
    from pathlib import Path  # a path is only handed to `os`: importing pathlib would slow every start-up

MAX_BYTES = 10_000_000
MAX_DEPTH = 20
SHOWN_ROWS = 10

# Why `read` cannot open a file, by errno, where the system's words are not plain enough.
NO_FILE = {errno.ENOENT: "no such file", errno.ENOTDIR: "no such file",
           errno.ENAMETOOLONG: "no such file (the name is too long for a file name)"}
CANNOT_OPEN = NO_FILE | {errno.ELOOP: "is a loop of symbolic links"}
KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
         (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))

# The nesting scan's tokens: strings and comments, skipped whole (brackets in them do not count);
# the brackets and braces of lists and tables; and MAX_DEPTH dots between the parts of one key.
# Possessive quantifiers never backtrack, and the lookahead lets the regex engine skip every
# character that starts no token, so that even a 10 MB file is scanned in about a second.
_BASIC = r'"(?:[^"\\\n]++|\\.)*+"'
_LITERAL = r"'[^'\n]*+'"
_KEY_PART = rf"(?>[\w-]++|{_BASIC}|{_LITERAL})"
_SCAN = re.compile(r"(?=[\"'#\[\]{}.])(?:" + "|".join((
    r'"""(?:[^"\\]++|\\.|"(?!""))*+"{3,5}', r"'''(?:[^']++|'(?!''))*+'{3,5}", _BASIC, _LITERAL, r"#[^\n]*+",
    r"(?P<open>[\[{])", r"(?P<close>[\]}])", rf"(?P<dotted>\.(?:[ \t]*+{_KEY_PART}[ \t]*+\.){{{MAX_DEPTH - 1}}})",
)) + ")", re.DOTALL)


class UnreadableError(Exception):
    """Why a file cannot be read as TOML, the line when it is known, and the text when it was read."""

    def __init__(self, message: str, line: int | None = None, text: str = ""):
        super().__init__(message)
        self.message, self.line, self.text = message, line, text


def missing(path: "str | Path") -> bool:
    """Whether no file can be at `path` (nothing there, or a name no file can have), so that a reader
    may suggest what was meant; `read` names every other problem, such as a loop of links."""
    try:
        os.stat(path)
    except OSError as error:
        return error.errno in NO_FILE
    except ValueError:  # a NUL character in the name
        return True
    return False


def read(path: "str | Path") -> tuple[str, dict]:
    """The text of `path` and its parsed TOML document, or a `UnreadableError`.

    A file that is not a regular file, is larger than `MAX_BYTES`, nests deeper than `MAX_DEPTH`
    or holds an integer too long to convert is refused before it is parsed; a byte-order mark
    (as Notepad writes) is dropped.
    """
    text = _text(path)
    _check_nesting(text)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise UnreadableError(f"not valid TOML: {message}", int(found.group(1)) if found else None, text) from None
    except ValueError:  # the only other error tomllib lets through: int() refusing a very long integer
        digits = sys.get_int_max_str_digits()
        long_integer = re.search(rf"\d(?:_?\d){{{digits}}}", text)
        raise UnreadableError(f"a whole number of more than {digits} digits, too long to read",
                              _line(text, long_integer.start()) if long_integer else None, text) from None


def _text(path: "str | Path") -> str:
    """The text of the regular file at `path`: never blocks on a FIFO or a device, never reads more than
    `MAX_BYTES`, and reads line endings as Python's text files do."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise UnreadableError(CANNOT_OPEN.get(error.errno, f"cannot be read: {error.strerror}")) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in KINDS if test(mode)), "something else")
            raise UnreadableError(f"is not a file but {kind}")
        with open(descriptor, "rb", closefd=False) as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise UnreadableError(f"cannot be read: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_BYTES:
        raise UnreadableError(f"is larger than the limit of {MAX_BYTES // 10**6} MB for a walkthrough or answer file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableError("is not a text file (expected UTF-8 TOML)") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_nesting(text: str):
    """Refuse lists, inline tables or dotted keys nested more than `MAX_DEPTH` deep, before tomllib
    recurses into them (thousands deep exhaust its stack; long dotted keys take it minutes)."""
    depth = 0
    for token in _SCAN.finditer(text):
        if token.lastgroup == "dotted":
            raise UnreadableError(f"a dotted key of more than {MAX_DEPTH} parts; nothing here nests that deep",
                                  _line(text, token.start()), text)
        if token.lastgroup == "open":
            depth += 1
            if depth > MAX_DEPTH:
                raise UnreadableError(f"lists or tables nested more than {MAX_DEPTH} deep; nothing here nests "
                                      "that deep", _line(text, token.start()), text)
        elif token.lastgroup == "close":
            depth = max(depth - 1, 0)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def describe(value) -> str:
    """What a TOML value is, for "found …" in error messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {quoted(value)}"
    if isinstance(value, int) and finite_number(value) is None:
        return "a number too large for floating point"
    if isinstance(value, int | float):
        return f"the number {shorten(str(value))}"
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


def depth(value) -> int:
    """How deeply lists nest, following first entries: 0 for a number, 2 for a matrix, 4 for a 2-D kernel."""
    levels = 0
    while isinstance(value, list) and value:
        value, levels = value[0], levels + 1
    return levels


def ragged(rows: list[list]) -> str | None:
    """Why a list of rows is not a matrix (an empty row, rows of different lengths), or None."""
    lengths = [len(row) for row in rows]
    if 0 in lengths:
        return f"row {lengths.index(0) + 1} is empty"
    if len(set(lengths)) > 1:
        shown = ", ".join(map(str, lengths[:SHOWN_ROWS])) + (", …" if len(lengths) > SHOWN_ROWS else "")
        return (f"rows have different lengths ({shown}); "
                "every row needs the same number of entries")
    return None
