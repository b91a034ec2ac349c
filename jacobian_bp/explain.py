"""One entry of a local Jacobian explained on demand: which entries it relates, its scalar equation,
the derivative and the number, for a student stuck on one entry (`jacobian-bp explain article "dZ2/dW2[3,4]"`).

Row r of `∂vec(Z)/∂vec(V)` is entry r of `Z` read row by row, column c is entry c of `V`; the op of
the node gives the scalar equation of that entry of `Z` (`Op.entry_equation`) and the symbolic
Jacobian gives the derivative as the pages write it. Under other conventions (conventions.py) the entry is
named as the walkthrough writes the Jacobian: `vec` reads column by column, and in the denominator layout
row r is entry r of `V`. Everything here is sentences (`say`/`math`), so every form prints it alike.
"""

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .chain import Step
from .conventions import Writing, writing
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

    def __init__(self, solution, step: Step, written: Writing | None = None):
        """`step` as computed; entries are named, and the Jacobian's rows and columns ordered, as `solution` writes
        them (`written`, by default in the solution's conventions)."""
        from . import symbolic

        self.solution, self.step = solution, step
        self.written = written or writing(solution)
        self.node = solution.graph.producers[step.node]
        self.values = solution.graph.role_values(self.node, solution.computed.values)
        self.symbols = symbolic.role_symbols(solution, self.node)
        self.output_symbols = list(self.symbols["output"])
        self.input_symbols = list(self.symbols[step.role])

    @cached_property
    def substitutions(self) -> dict:
        from . import symbolic

        return symbolic.node_substitutions(self.solution, self.node, self.symbols)

    def equation(self, row: int):
        """The scalar equation of output entry `row` (its right-hand side)."""
        return self.node.op.entry_equation(row, self.symbols)

    def output_name(self, row: int) -> str:
        """How the output entry is written: `z[2]₂₁⁽²⁾`, or the variable's own name when it is one number (`J`)."""
        from . import symbolic

        return self.step.node if len(self.output_symbols) == 1 and self.node.op.whole_batch \
            else symbolic.text(self.output_symbols[row])

    def givens(self, expression) -> dict:
        """The values of the symbols `expression` holds, in the order of `substitutions`."""
        free = getattr(expression, "free_symbols", set())
        return {name: value for name, value in self.substitutions.items() if name in free}

    def evaluate(self, expression) -> float:
        """`expression` at the walkthrough's values (substituting only the symbols it holds)."""
        from . import symbolic

        return float(symbolic.evaluate(_matrix(expression), self.givens(expression))[0, 0])

    def equations(self) -> list[Sentence]:
        """Every output entry's scalar equation, one sentence each in the written vec's order: the rows of the
        Jacobian (its columns in the denominator layout) come from these."""
        from . import symbolic

        line = "Column" if self.written.conventions.denominator else "Row"
        return [say(f"{line} {number + 1}: ", math(f"{self.output_name(row)} = {symbolic.text(self.equation(row))}"))
                for number, row in enumerate(self.written.order(self.step.node))]

    def place(self, variable: str, index: int) -> "Place":
        """Entry `index` (from 0) of the written vec of `variable`: where it sits as written."""
        written = self.written
        return Place(variable, index + 1, written.written_shape(variable), written.position(variable, index),
                     written.conventions.reading)

    def explain(self, row: int, column: int) -> "EntryExplanation":
        """Entry (row, column), from 0, of the Jacobian as written, explained."""
        from . import symbolic

        step, written, denominator = self.step, self.written, self.written.conventions.denominator
        function_index, variable_index = (column, row) if denominator else (row, column)
        output, variable = self.place(step.node, function_index), self.place(step.variable, variable_index)
        shape = step.structure.shape[::-1] if denominator else step.structure.shape
        written_row, written_column = row, column
        row, column = written.engine_entry(step.node, step.variable, row, column)  # as computed from here on
        input_shape = self.solution.computed.values[step.variable].shape
        equation = self.equation(row)
        derivative = self.node.op.symbolic_entry(step.role, row, column, self.symbols, self.values)
        symbol = self.input_symbols[column]
        uses = bool(equation.has(symbol))
        givens = self.givens(derivative)
        kinks = step.op.kinks(step.role, self.values)
        on_kink = kinks is not None and bool(kinks[position(column, input_shape)]) and uses
        return EntryExplanation(
            jacobian=step.jacobian_name, shape=shape, row=written_row, column=written_column,
            output=output, output_entry=self.output_name(row), variable=variable, input_entry=symbolic.text(symbol),
            equation=symbolic.text(equation), uses=uses, derivative=symbolic.text(derivative),
            givens=tuple((symbolic.text(name), value) for name, value in givens.items()),
            derivative_value=self.evaluate(derivative), denominator=denominator,
            value=float(step.structure.block(np.array([row]), np.array([column]))[0, 0]),
            kink=(float(step.structure.block(np.array([row]), np.array([column]))[0, 0]),  # in force, and the
                  float(step.op.other_jacobian(step.role, self.values)[row, column])) if on_kink else None)


def _matrix(expression):
    import sympy

    return sympy.Matrix([[expression]])


@dataclass(frozen=True)
class Place:
    """One entry of `vec(name)` as written: its `number` in vec (from 1), the matrix's `shape` and the entry's
    `position` (row, column from 0) as written, and how vec reads the matrix (`row by row`)."""

    name: str
    number: int
    shape: tuple[int, int]
    position: tuple[int, int]
    reading: str = "row by row"

    def sentence(self, written: str) -> Sentence:
        """`entry 3 of vec(Z2), which reads Z2 row by row: Z2 row 2, column 1, written z[2]₂₁⁽²⁾.`"""
        if self.shape == (1, 1):
            return say(math(self.name), " itself, one number, written ", math(written), ".")
        i, j = self.position
        return say(f"entry {self.number} of ", math(f"vec({self.name})"), ", which reads ", math(self.name),
                   f" {self.reading}: ", math(self.name), f" row {i + 1}, column {j + 1}, written ", math(written), ".")


@dataclass(frozen=True)
class EntryExplanation:
    """What one Jacobian entry relates and where its number comes from; `sentences` says it.

    Rows, columns and positions count from 0, as the Jacobian is written (its `shape`); `output` and `variable`
    place the two entries it relates; `value` is the entry of the numeric Jacobian and `derivative_value` the
    derivative evaluated at the walkthrough's values (they agree).
    """

    jacobian: str
    shape: tuple[int, int]
    row: int
    column: int
    output: Place
    output_entry: str
    variable: Place
    input_entry: str
    equation: str
    uses: bool
    derivative: str
    givens: tuple[tuple[str, float], ...]
    derivative_value: float
    value: float
    kink: tuple[float, float] | None = None
    denominator: bool = False  # written in the denominator layout: a row per entry of the variable

    def sentences(self, decimals: int = 4) -> list[Sentence]:
        """The explanation, sentence by sentence, in reading order."""
        rows, columns = self.shape
        r, c = self.row + 1, self.column + 1
        number = format_number(self.value, decimals)
        output, variable = self.output.sentence(self.output_entry), self.variable.sentence(self.input_entry)
        by_row, by_column = (variable, output) if self.denominator else (output, variable)
        lines = [say(math(f"{self.jacobian}[{r},{c}]"), f" is row {r}, column {c} of the {rows} × {columns} Jacobian ",
                     math(f"∂vec({self.output.name})/∂vec({self.variable.name})"), "."),
                 say(f"Row {r} is ", by_row),
                 say(f"Column {c} is ", by_column),
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
    """What `jacobian-bp explain` prints: one entry explained, or the scalar equations behind a whole Jacobian.
    Entries are named as the walkthrough writes the Jacobian, in its conventions."""
    step, entry = parse(solution, text)
    entries = JacobianEntries(solution, jacobian_steps(solution.computed)[step.jacobian_name])
    if entry is not None:
        return entries.explain(*entry).sentences(solution.walkthrough.decimals if decimals is None else decimals)
    rows, columns = step.structure.shape
    conventions = solution.conventions
    line = "Column c" if conventions.denominator else "Row r"
    return [say(math(f"{step.jacobian_name} = ∂vec({step.node})/∂vec({step.variable})"), f" is {rows} × {columns}. "
                f"{line} holds the derivatives of entry {line[-1]} of ", math(f"vec({step.node})"),
                " by every entry of ", math(f"vec({step.variable})"), "; the entries of ", math(step.node),
                f", {conventions.reading}, are:"),
            *entries.equations(),
            say("Explain one entry with ", math(f"{step.jacobian_name}[r,c]"), f", e.g. {step.jacobian_name}[1,1].")]
