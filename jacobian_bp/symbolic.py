"""Symbolic local Jacobians in the article's notation, built with sympy.

This is the only module that imports sympy, and nothing imports it at start-up, so outputs
that need no symbols (JSON) start fast. Entries are named as in the article: `w_{11}^{[3]}`
for weights, `{a_{12}^{[2]}}^{(1)}` for activations of sample 1, `x_{11}^{(1)}` for inputs.
Each node class gives its own symbolic form (`symbolic_jacobian`, `symbolic_loss`); this module
names the entries, builds the dense layers' Jacobians and prints them.
"""

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.str import StrPrinter

from .chain import Step
from .conventions import writing
from .entries import EntryName, namer
from .ops import OUTPUT


def whole(name: str) -> sp.Symbol:
    """A symbol for a whole variable, printed as its name: `J`, `R`."""
    return sp.Symbol(EntryName(name, 0, 0, 0).key, real=True)


def symbols(letter: str, layer: int, shape: tuple[int, int], per_sample: bool = False,
            single_index: bool = False, sample_column: bool = False) -> sp.Matrix:
    """A matrix of entry symbols of the given shape."""
    rows, columns = shape
    return sp.Matrix(rows, columns, lambda i, j: sp.Symbol(
        EntryName(letter, layer, i + 1, j + 1, per_sample, single_index, sample_column).key, real=True))


def variable_symbols(graph, name: str, shape: tuple[int, int], transposed: bool = False,
                     data: bool = False) -> sp.Matrix:
    """The symbols of a variable, named as the article writes them: `W3` gives `w[3]₁₂`, `X` gives `x₁₂⁽¹⁾`, and
    the data of an op's data role (`data`, the targets `Y`) `y₁₂`.

    `shape` is the engine's; a variable `transposed` by the conventions (samples as columns) has its
    entries named by their place as written, `x₂₁⁽¹⁾` for the second feature of sample 1.
    """
    found = namer(graph, name, data=data)
    named = symbols(found.letter, found.layer, shape[::-1] if transposed else shape, found.per_sample,
                    found.single_index, sample_column=transposed)
    return named.T if transposed else named


class sigma(sp.Function):
    """The logistic sigmoid, kept as `σ(z)` so that its derivative prints as `σ(z)(1 − σ(z))`."""

    def _eval_evalf(self, precision):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(precision)

    def fdiff(self, argindex=1):
        return sp.Mul(sigma(self.args[0]), 1 - sigma(self.args[0]), evaluate=False)


def _exact(value: float) -> sp.Expr:
    """A number from the walkthrough as an exact one, so that `0` and `1` simplify away as in the article."""
    return sp.Rational(repr(float(value)))


def role_symbols(solution, node) -> dict:
    """The symbols of every role of a node (data roles as symbols `y₁₁` or as their exact values, as the op keeps
    them) and of its output."""
    graph, values, written = solution.graph, solution.computed.values, writing(solution)
    found = {}
    for role, name in {**node.roles, OUTPUT: node.output}.items():
        data = role in node.op.data_roles
        if data and not node.op.symbolic_data(role):
            found[role] = sp.Matrix(values[name].shape[0], values[name].shape[1],
                                    lambda i, j, name=name: _exact(values[name][i, j]))
        else:
            found[role] = variable_symbols(graph, name, values[name].shape, written.transposed(name), data)
    return found


def jacobian(solution, step: Step) -> sp.Matrix:
    """The local Jacobian of `step` with symbols for every entry, as the engine computes it (samples as rows,
    row-major, numerator layout; `conventions.Writing.jacobian` writes it under the solution's conventions)."""
    node = solution.graph.producers[step.node]
    return node.op.symbolic_jacobian(step.role, role_symbols(solution, node),
                                     solution.graph.role_values(node, solution.computed.values))


def substitutions(solution) -> dict:
    """Every entry symbol mapped to its value in the walkthrough, to evaluate symbolic Jacobians."""
    found = {}
    for node in solution.graph.nodes:
        found.update(node_substitutions(solution, node, role_symbols(solution, node)))
    return found


def node_substitutions(solution, node, symbols: dict) -> dict:
    """The symbols of one node's forms (`symbols`, its `role_symbols`) mapped to their values: those of the
    variables it reads and writes, in the graph's order (data, computed, parameters, targets), then those its
    op names itself (a normalized input). A real-sized network has hundreds of thousands of entries elsewhere,
    which naming would take seconds."""
    graph, values = solution.graph, solution.computed.values
    order = [graph.data[0], *graph.computed, *graph.parameters, *graph.data[1:]]
    roles = sorted({**node.roles, OUTPUT: node.output}.items(), key=lambda role: order.index(role[1]))
    found = {symbol: float(value) for role, name in roles
             for symbol, value in zip(symbols[role], values[name].flat, strict=True) if isinstance(symbol, sp.Symbol)}
    found.update(node.op.symbolic_values(graph.role_values(node, values), symbols))
    return found


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

    def _print_Max(self, expression):
        return f"max({', '.join(self._print(argument) for argument in expression.args)})"

    def _print_Piecewise(self, expression):
        pieces = [self._print(value) + ("" if condition == sp.true else f" if {self._print(condition)}")
                  for value, condition in expression.args]
        return "(" + ", else ".join(pieces) + ")"

    def _print_exp(self, expression):
        power = self._print(expression.args[0])
        return f"e^{power}" if expression.args[0].is_Atom else f"e^({power})"


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
        if name.whole:
            return base
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
