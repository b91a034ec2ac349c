"""A small, safe parser for the arithmetic a student writes in an answer file, such as `"1/0.9089"`.

It knows numbers, `+ - * /`, `^` and `**` for powers, parentheses, and the typographic minus,
times and division signs, and nothing else: a name, a call or an attribute is refused at its
first character, before anything is computed. Arithmetic is done in floats, so an absurd power
(`9**9**9`) is refused at once instead of growing an integer without end. Nothing here ever
hands text to Python's own evaluator.
"""

import math
import re
from contextlib import contextmanager

from .errors import InputError

MAX_LENGTH = 500
MAX_DEPTH = 50
MAX_EXPONENT = 1000.0

# The typographic signs a student may paste from a document, as the ASCII operators they mean.
SYNONYMS = {"−": "-", "×": "*", "·": "*", "÷": "/"}
TOKEN = re.compile(r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<operator>\*\*|[-+*/^()]))")
ALLOWED = "numbers, + - * /, ^ or ** and parentheses"


class ExpressionError(InputError):
    """Text that is not plain arithmetic, or whose value is not a finite real number."""


def evaluate(text: str) -> float:
    """The value of the arithmetic in `text`, as a float.

    Powers bind tighter than a leading minus and group to the right, as in Python.

    >>> evaluate("1/0.9089") == 1 / 0.9089
    True
    >>> evaluate("-(0.5 * 0.0828)"), evaluate("2^3^2"), evaluate("−2**2"), evaluate("3 × 2 ÷ 4")
    (-0.0414, 512.0, -4.0, 1.5)
    >>> evaluate("2 ** x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    jacobian_bp.arithmetic.ExpressionError: unexpected 'x' at character 6 of '2 ** x' (allowed: ...)
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"an expression of {len(text)} characters is too long (at most {MAX_LENGTH})")
    return _Parser(text).parse()


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """Split `text` into (kind, token, position) triples, refusing the first character that is not arithmetic."""
    plain = "".join(SYNONYMS.get(character, character) for character in text).rstrip()
    tokens, position = [], 0
    while position < len(plain):
        found = TOKEN.match(plain, position)
        if not found:
            start = position + len(plain[position:]) - len(plain[position:].lstrip())
            raise ExpressionError(f"unexpected {text[start]!r} at character {start + 1} of {_quoted(text)} "
                                  f"(allowed: {ALLOWED})")
        kind = "number" if found.group("number") else "operator"
        tokens.append((kind, found.group(kind), found.start(kind)))
        position = found.end()
    return tokens


class _Parser:
    """Recursive descent over the grammar

        sum     = product (("+" | "-") product)*
        product = signed (("*" | "/") signed)*
        signed  = ("+" | "-") signed | power
        power   = atom (("^" | "**") signed)?
        atom    = number | "(" sum ")"
    """

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    def parse(self) -> float:
        if not self.tokens:
            raise ExpressionError(f"{_quoted(self.text)} holds no number")
        value = self.sum()
        if self.index < len(self.tokens):
            self.fail(f"unexpected {self.tokens[self.index][1]!r}")
        return value

    def fail(self, problem: str):
        position = self.tokens[self.index][2] + 1 if self.index < len(self.tokens) else len(self.text)
        raise ExpressionError(f"{problem} at character {position} of {_quoted(self.text)}")

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.index][1]
        self.index += 1
        return token

    def sum(self) -> float:
        value = self.product()
        while self.peek() in ("+", "-"):
            sign = 1.0 if self.take() == "+" else -1.0
            value = _finite(value + sign * self.product(), self.text)
        return value

    def product(self) -> float:
        value = self.signed()
        while self.peek() in ("*", "/"):
            operator = self.take()
            right = self.signed()
            if operator == "*":
                value = _finite(value * right, self.text)
            elif right == 0:
                raise ExpressionError(f"division by zero in {_quoted(self.text)}")
            else:
                value = _finite(value / right, self.text)
        return value

    def signed(self) -> float:
        if self.peek() in ("+", "-"):
            operator = self.take()
            with self.nested():
                value = self.signed()
            return -value if operator == "-" else value
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() not in ("^", "**"):
            return base
        self.take()
        with self.nested():
            exponent = self.signed()
        if abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(f"the power {exponent:g} in {_quoted(self.text)} is absurd "
                                  f"(at most {MAX_EXPONENT:g})")
        if base == 0 and exponent < 0:
            raise ExpressionError(f"division by zero in {_quoted(self.text)} (0 to a negative power)")
        if base < 0 and exponent != int(exponent):
            raise ExpressionError(f"a negative number to a fractional power has no real value, in {_quoted(self.text)}")
        try:
            return _finite(base**exponent, self.text)
        except OverflowError:
            raise ExpressionError(f"the power in {_quoted(self.text)} is too large to compute") from None

    def atom(self) -> float:
        token = self.peek()
        if token is None:
            self.fail("expected a number or '('")
        if token == "(":
            self.take()
            with self.nested():
                value = self.sum()
            if self.peek() != ")":
                self.fail("expected ')'")
            self.take()
            return value
        if self.tokens[self.index][0] != "number":
            self.fail(f"expected a number or '(' but found {token!r}")
        return _finite(float(self.take()), self.text)

    @contextmanager
    def nested(self):
        """Count how deep parentheses and signs nest, so that no input can exhaust the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"more than {MAX_DEPTH} levels of parentheses or signs")
        yield
        self.depth -= 1


def _finite(value: float, text: str) -> float:
    if not math.isfinite(value):
        raise ExpressionError(f"{_quoted(text)} is too large to be a number here")
    return value


def _quoted(text: str, limit: int = 40) -> str:
    """`text` in quotes for a message, cut short if it is long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"
