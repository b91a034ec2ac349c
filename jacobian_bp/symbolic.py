"""Symbolic local Jacobians in the article's notation, built with sympy.

This is the only module that imports sympy, and nothing imports it at start-up, so outputs
that need no symbols (JSON) start fast. Entries are named as in the article: `w_{11}^{[3]}`
for weights, `{a_{12}^{[2]}}^{(1)}` for activations of sample 1, `x_{11}^{(1)}` for inputs.
Each node class gives its own symbolic form (`symbolic_jacobian`, `symbolic_loss`); this module
names the entries, builds the dense layers' Jacobians and prints them.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.str import StrPrinter

from .chain import Step

SUBSCRIPT = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉‚")
SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


@dataclass(frozen=True)
class EntryName:
    """Which entry of which matrix a symbol stands for: letter, layer (0 if none), row, column (from 1)."""

    letter: str
    layer: int
    row: int
    column: int

    @property
    def per_sample(self) -> bool:
        """Entries of `X`, `Z`, `A` and `L` belong to one sample, shown as the outer superscript."""
        return self.letter in "xzal"

    @property
    def key(self) -> str:
        return f"{self.letter}|{self.layer}|{self.row}|{self.column}"

    @classmethod
    def parse(cls, key: str) -> "EntryName":
        letter, layer, row, column = key.split("|")
        return cls(letter, int(layer), int(row), int(column))

    def indices(self) -> str:
        separator = "," if max(self.row, self.column) > 9 else ""
        if self.letter == "l":
            return str(self.row)
        return f"{self.row}{separator}{self.column}"

    def text(self, ascii_only: bool = False) -> str:
        """`a[2]₁₂⁽¹⁾` (or `a[2]_12^(1)` in ASCII): layer in brackets, indices, then the sample."""
        layer = f"[{self.layer}]" if self.layer else ""
        sample = f"({self.row})" if self.per_sample else ""
        if ascii_only:
            return f"{self.letter}{layer}_{self.indices()}" + (f"^{sample}" if sample else "")
        return f"{self.letter}{layer}{self.indices().translate(SUBSCRIPT)}{sample.translate(SUPERSCRIPT)}"

    def latex(self) -> str:
        """`{a_{12}^{[2]}}^{(1)}` as in the article."""
        layer = f"^{{[{self.layer}]}}" if self.layer else ""
        core = f"{self.letter}_{{{self.indices()}}}{layer}"
        return f"{{{core}}}^{{({self.row})}}" if self.per_sample else core


def entry(letter: str, layer: int, row: int, column: int) -> sp.Symbol:
    """The real symbol for one entry (row and column counted from 1)."""
    return sp.Symbol(EntryName(letter, layer, row, column).key, real=True)


def symbols(letter: str, layer: int, shape: tuple[int, int]) -> sp.Matrix:
    """A matrix of entry symbols of the given shape."""
    rows, columns = shape
    return sp.Matrix(rows, columns, lambda i, j: entry(letter, layer, i + 1, j + 1))


class sigma(sp.Function):
    """The logistic sigmoid, kept as `σ(z)` so that its derivative prints as `σ(z)(1 − σ(z))`."""

    def _eval_evalf(self, precision):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(precision)

    def fdiff(self, argindex=1):
        return sp.Mul(sigma(self.args[0]), 1 - sigma(self.args[0]), evaluate=False)


def _exact(value: float) -> sp.Expr:
    """A number from the walkthrough as an exact one, so that `0` and `1` simplify away as in the article."""
    return sp.Rational(repr(float(value)))


def _vec(matrix: sp.Matrix) -> sp.Matrix:
    """Row-major vec of a sympy matrix, as a column (the form `jacobian` wants)."""
    return sp.Matrix(list(matrix))


def jacobian(solution, step: Step) -> sp.Matrix:
    """The local Jacobian of `step` with symbols for every entry, shaped like `step.jacobian`."""
    network = solution.walkthrough.network
    forward = solution.forward
    m = forward.samples
    k = step.layer
    if step.kind == "cost":
        return sp.Matrix(1, m, lambda i, j: sp.Rational(1, m))
    if step.kind == "loss":
        A = symbols("a", k, forward.A[k].shape)
        losses = sp.Matrix([network.loss.symbolic_loss(list(A.row(i)), [_exact(t) for t in forward.Y[i]])
                            for i in range(A.rows)])
        return losses.jacobian(_vec(A))
    if step.kind == "activation":
        Z = forward.Z[k]
        return network.layer(k).activation.symbolic_jacobian(Z, symbols("z", k, Z.shape), symbols("a", k, Z.shape))
    layer = network.layer(k)
    A_prev = symbols("x", 0, forward.X.shape) if k == 1 else symbols("a", k - 1, forward.A[k - 1].shape)
    W = symbols("w", k, layer.W.shape)
    b = symbols("b", k, layer.b.shape)
    Z = A_prev * W.T + sp.ones(m, 1) * b
    variable = {"dense_input": A_prev, "dense_weights": W, "dense_bias": b}[step.kind]
    return _vec(Z).jacobian(_vec(variable))


def substitutions(solution) -> dict:
    """Every entry symbol mapped to its value in the walkthrough, to evaluate symbolic Jacobians."""
    forward = solution.forward
    matrices = [("x", 0, forward.X)]
    for k, layer in enumerate(solution.walkthrough.network.layers, start=1):
        matrices += [("z", k, forward.Z[k]), ("a", k, forward.A[k]), ("w", k, layer.W), ("b", k, layer.b)]
    return {entry(letter, layer, i + 1, j + 1): float(value)
            for letter, layer, matrix in matrices for (i, j), value in np.ndenumerate(matrix)}


def evaluate(matrix: sp.Matrix, values: dict) -> np.ndarray:
    """The numeric matrix a symbolic Jacobian stands for."""
    return np.array(matrix.subs(values).evalf(), dtype=float)


def _decimal(number: sp.Rational) -> str | None:
    """`0.01` for 1/100: a rational whose denominator is a power of ten reads better as a decimal."""
    denominator = int(number.q)
    if denominator == 1 or 10 ** (len(str(denominator)) - 1) != denominator:
        return None
    digits = len(str(denominator)) - 1
    return f"{float(number):.{digits}f}"


class _TextPrinter(StrPrinter):
    """Plain text in the article's notation; `·` for products and `^` for powers."""

    def __init__(self, ascii_only: bool):
        super().__init__({"order": "none"})
        self.ascii_only = ascii_only

    def _print_Symbol(self, symbol):
        return EntryName.parse(symbol.name).text(self.ascii_only)

    def _print_sigma(self, expression):
        name = "sigmoid" if self.ascii_only else "σ"
        return f"{name}({self._print(expression.args[0])})"

    def _print_Mul(self, expression):
        return super()._print_Mul(expression).replace("**", "^").replace("*", "*" if self.ascii_only else "·")

    def _print_Pow(self, expression, rational=False):
        return super()._print_Pow(expression, rational).replace("**", "^")

    def _print_Rational(self, number):
        return _decimal(number) or super()._print_Rational(number)


class _LatexPrinter(LatexPrinter):
    """LaTeX in the article's notation."""

    def _print_Rational(self, number):
        return _decimal(number) or super()._print_Rational(number)

    def _print_Symbol(self, symbol, style="plain"):
        return EntryName.parse(symbol.name).latex()

    def _print_sigma(self, expression, exp=None):
        inner = f"\\sigma\\left({self._print(expression.args[0])}\\right)"
        return f"{inner}^{{{exp}}}" if exp else inner


class _MathMLPrinter(MathMLPresentationPrinter):
    """Presentation MathML in the article's notation (without the enclosing `<math>`)."""

    def _element(self, tag: str, *children, text: str | None = None):
        element = self.dom.createElement(tag)
        if text is not None:
            element.appendChild(self.dom.createTextNode(text))
        for child in children:
            element.appendChild(child)
        return element

    def _print_Symbol(self, symbol, style="plain"):
        name = EntryName.parse(symbol.name)
        base = self._element("mi", text=name.letter)
        indices = self._element("mn", text=name.indices())
        core = (self._element("msubsup", base, indices, self._bracketed("[", name.layer, "]"))
                if name.layer else self._element("msub", base, indices))
        if not name.per_sample:
            return core
        return self._element("msup", core, self._bracketed("(", name.row, ")"))

    def _bracketed(self, opening: str, number: int, closing: str):
        """`[2]` or `(1)` at the size of the text: brackets around one digit must not stretch."""
        fence_open, fence_close = self._element("mo", text=opening), self._element("mo", text=closing)
        for fence in (fence_open, fence_close):
            fence.setAttribute("stretchy", "false")
        return self._element("mrow", fence_open, self._element("mn", text=str(number)), fence_close)

    def _print_Rational(self, number):
        decimal = _decimal(number)
        return self._element("mn", text=decimal) if decimal else super()._print_Rational(number)

    def _print_sigma(self, expression):
        return self._element("mrow", self._element("mi", text="σ"), self._element("mo", text="("),
                             self._print(expression.args[0]), self._element("mo", text=")"))


def text(expression: sp.Expr, ascii_only: bool = False) -> str:
    """One entry of a symbolic matrix as plain text, e.g. `σ(z[3]₁₁⁽¹⁾)·(1 - σ(z[3]₁₁⁽¹⁾))`."""
    return _TextPrinter(ascii_only).doprint(expression)


def latex(expression: sp.Expr) -> str:
    """One entry (or a whole matrix) as LaTeX in the article's notation."""
    return _LatexPrinter({"order": "none"}).doprint(expression)


def mathml(expression: sp.Expr) -> str:
    """One entry as presentation MathML in the article's notation, to place inside `<math>`."""
    return _MathMLPrinter({"order": "old"}).doprint(expression).replace("<mo>-</mo>", "<mo>−</mo>")
