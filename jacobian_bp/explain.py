"""One entry of a local Jacobian explained on demand: which entries it relates, its scalar equation,
the derivative and the number, for a student stuck on one entry (`jacobian-bp explain article "dZ2/dW2[3,4]"`).

Row r of `∂vec(Z)/∂vec(V)` is entry r of `Z` read row by row, column c is entry c of `V`; the op of
the node gives the scalar equation of that entry of `Z` (`Op.entry_equation`) and the symbolic
Jacobian gives the derivative as the pages write it. Everything here is sentences (`say`/`math`), so
every form prints it alike.
"""

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .chain import Step
from .errors import InputError, quoted, suggestion
from .numbers import format_number
from .sentences import Sentence, math, say
from .structured import SMALL

ENTRY = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(?:\[\s*(?P<row>\d+)\s*,\s*(?P<column>\d+)\s*\])?\s*$")


class ExplainError(InputError):
    """An entry that does not name a Jacobian of the walkthrough, or lies outside it; the message says which."""


def position(index: int, shape: tuple[int, int]) -> tuple[int, int]:
    """Where entry `index` (from 0) of `vec(M)` sits in `M`: row-major, so rows are read one after another.

    >>> position(3, (2, 3))
    (1, 0)
    """
    return divmod(index, shape[1])


def jacobian_steps(solution) -> dict[str, Step]:
    """The steps that have a local Jacobian, by its name (`dZ2/dW2`); the first of a name wins."""
    found: dict[str, Step] = {}
    for step in solution.steps:
        if not step.is_sum:
            found.setdefault(step.jacobian_name, step)
    return found


def parse(solution, text: str) -> tuple[Step, tuple[int, int] | None]:
    """The step and the entry (row, column from 0, or None for the whole Jacobian) that `dZ2/dW2[3,4]` names."""
    match = ENTRY.match(text)
    steps = jacobian_steps(solution)
    if match is None:
        raise ExplainError(f"cannot read {quoted(text)}: expected a Jacobian's name and an entry, "
                           "e.g. \"dZ2/dW2[3,4]\" (row 3, column 4, counted from 1)")
    name = match["name"]
    if name not in steps:
        raise ExplainError(f"no local Jacobian is called {quoted(name)}{suggestion(name, steps) or ''}; "
                           f"the Jacobians: {', '.join(steps)}")
    step = steps[name]
    rows, columns = step.structure.shape
    if not step.structure.small:
        raise ExplainError(f"{name} is {rows} × {columns} ({rows * columns:,} entries): too large to write out in "
                           f"symbols; explain takes Jacobians of up to {SMALL:,} entries (the page shows this one "
                           "by its structure)")
    if match["row"] is None:
        return step, None
    row, column = int(match["row"]), int(match["column"])
    if not (1 <= row <= rows and 1 <= column <= columns):
        raise ExplainError(f"{name} is {rows} × {columns}: expected a row from 1 to {rows} and a column from "
                           f"1 to {columns}, found [{row},{column}]")
    return step, (row - 1, column - 1)


class JacobianEntries:
    """The scalar equations and symbolic derivatives behind one step's local Jacobian (sympy, built once)."""

    def __init__(self, solution, step: Step):
        from . import symbolic

        self.solution, self.step = solution, step
        self.node = solution.graph.producers[step.node]
        self.values = solution.graph.role_values(self.node, solution.values)
        self.symbols = symbolic.role_symbols(solution, self.node)
        self.output_symbols = list(self.symbols["output"])
        self.input_symbols = list(self.symbols[step.role])

    @cached_property
    def derivatives(self):
        """The symbolic Jacobian, as the pages write it."""
        from . import symbolic

        return symbolic.jacobian(self.solution, self.step)

    @cached_property
    def substitutions(self) -> dict:
        from . import symbolic

        return symbolic.substitutions(self.solution)

    def equation(self, row: int):
        """The scalar equation of output entry `row` (its right-hand side)."""
        return self.node.op.entry_equation(row, self.symbols)

    def output_name(self, row: int) -> str:
        """How the output entry is written: `z[2]₂₁⁽²⁾`, or the variable's own name when it is one number (`J`)."""
        from . import symbolic

        return self.step.node if len(self.output_symbols) == 1 and self.node.op.whole_batch \
            else symbolic.text(self.output_symbols[row])

    def evaluate(self, expression) -> float:
        from . import symbolic

        return float(symbolic.evaluate(_matrix(expression), self.substitutions)[0, 0])

    def equations(self) -> list[Sentence]:
        """Every output entry's scalar equation, one sentence each: the rows of the Jacobian come from these."""
        from . import symbolic

        rows = len(self.output_symbols)
        return [say(f"Row {row + 1}: ", math(f"{self.output_name(row)} = {symbolic.text(self.equation(row))}"))
                for row in range(rows)]

    def explain(self, row: int, column: int) -> "EntryExplanation":
        """Entry (row, column), from 0, explained."""
        from . import symbolic

        step = self.step
        solution = self.solution
        output_shape = np.atleast_2d(solution.values[step.node]).shape
        input_shape = solution.values[step.variable].shape
        equation = self.equation(row)
        derivative = self.derivatives[row, column]
        symbol = self.input_symbols[column]
        uses = bool(equation.has(symbol))
        givens = {name: value for name, value in self.substitutions.items()
                  if name in getattr(derivative, "free_symbols", set())}
        kinks = step.op.kinks(step.role, self.values)
        on_kink = kinks is not None and bool(kinks[position(column, input_shape)]) and uses
        return EntryExplanation(
            jacobian=step.jacobian_name, shape=step.structure.shape, row=row, column=column,
            output=step.node, output_shape=output_shape, output_entry=self.output_name(row),
            variable=step.variable, input_shape=input_shape, input_entry=symbolic.text(symbol),
            equation=symbolic.text(equation), uses=uses, derivative=symbolic.text(derivative),
            givens=tuple((symbolic.text(name), value) for name, value in givens.items()),
            derivative_value=self.evaluate(derivative),
            value=float(step.structure.block(np.array([row]), np.array([column]))[0, 0]),
            kink=(float(step.structure.block(np.array([row]), np.array([column]))[0, 0]),  # in force, and the
                  float(step.op.other_jacobian(step.role, self.values)[row, column])) if on_kink else None)


def _matrix(expression):
    import sympy

    return sympy.Matrix([[expression]])


@dataclass(frozen=True)
class EntryExplanation:
    """What one Jacobian entry relates and where its number comes from; `sentences` says it.

    Rows, columns and positions count from 0; `value` is the entry of the numeric Jacobian and
    `derivative_value` the derivative evaluated at the walkthrough's values (they agree).
    """

    jacobian: str
    shape: tuple[int, int]
    row: int
    column: int
    output: str
    output_shape: tuple[int, int]
    output_entry: str
    variable: str
    input_shape: tuple[int, int]
    input_entry: str
    equation: str
    uses: bool
    derivative: str
    givens: tuple[tuple[str, float], ...]
    derivative_value: float
    value: float
    kink: tuple[float, float] | None = None

    def sentences(self, decimals: int = 4) -> list[Sentence]:
        """The explanation, sentence by sentence, in reading order."""
        rows, columns = self.shape
        r, c = self.row + 1, self.column + 1
        number = format_number(self.value, decimals)
        lines = [say(math(f"{self.jacobian}[{r},{c}]"), f" is row {r}, column {c} of the {rows} × {columns} Jacobian ",
                     math(f"∂vec({self.output})/∂vec({self.variable})"), "."),
                 say(f"Row {r} is ", _where(r, self.output, self.output_shape, self.output_entry)),
                 say(f"Column {c} is ", _where(c, self.variable, self.input_shape, self.input_entry)),
                 say("Scalar equation: ", math(f"{self.output_entry} = {self.equation}"))]
        derivative = f"∂{self.output_entry}/∂{self.input_entry} = {self.derivative}"
        if not self.uses:
            lines.append(say(math(self.input_entry), " does not appear in it, so ",
                             math(f"∂{self.output_entry}/∂{self.input_entry} = 0"), "."))
            if self.derivative != "0" and abs(self.derivative_value) < 1e-12:
                lines.append(say("The pages write this entry as ", math(self.derivative), " (the general form, in "
                                 "symbols that stand for numbers here), which is 0 at these values."))
        else:
            lines.append(say("Its derivative: ", math(derivative)))
            if self.givens:
                given = ", ".join(f"{name} = {format_number(value, decimals)}" for name, value in self.givens)
                worked = "" if self.derivative == self.givens[0][0] else \
                    f": {self.derivative} = {format_number(self.derivative_value, decimals)}"
                lines.append(say("With ", math(given + worked), "."))
        if self.kink is not None:
            in_force, other = self.kink
            lines.append(say(math(self.input_entry), " sits exactly on the kink, where the derivative is a "
                             "convention: this walkthrough takes ", math(format_number(in_force, decimals)),
                             " as PyTorch does (the other convention takes ", math(format_number(other, decimals)),
                             ")."))
        lines.append(say("So ", math(f"{self.jacobian}[{r},{c}] = {number}"), "."))
        return lines


def _where(number: int, name: str, shape: tuple[int, int], written: str) -> Sentence:
    """`entry 3 of vec(Z2), which reads Z2 row by row: Z2 row 2, column 1, written z[2]₂₁⁽²⁾.`"""
    if shape == (1, 1):
        return say(math(name), " itself, one number, written ", math(written), ".")
    i, j = position(number - 1, shape)
    return say(f"entry {number} of ", math(f"vec({name})"), ", which reads ", math(name), " row by row: ",
               math(name), f" row {i + 1}, column {j + 1}, written ", math(written), ".")


def explain(solution, text: str, decimals: int | None = None) -> list[Sentence]:
    """What `jacobian-bp explain` prints: one entry explained, or the scalar equations behind a whole Jacobian."""
    step, entry = parse(solution, text)
    entries = JacobianEntries(solution, step)
    if entry is not None:
        return entries.explain(*entry).sentences(solution.walkthrough.decimals if decimals is None else decimals)
    rows, columns = step.structure.shape
    return [say(math(f"{step.jacobian_name} = ∂vec({step.node})/∂vec({step.variable})"), f" is {rows} × {columns}. "
                f"Row r holds the derivatives of entry r of ", math(f"vec({step.node})"),
                " by every entry of ", math(f"vec({step.variable})"), "; the entries of ", math(step.node),
                ", row by row, are:"),
            *entries.equations(),
            say("Explain one entry with ", math(f"{step.jacobian_name}[r,c]"), f", e.g. {step.jacobian_name}[1,1].")]
