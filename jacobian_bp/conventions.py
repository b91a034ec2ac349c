"""Textbook conventions: how the engine's quantities are WRITTEN, never what is computed.

The engine works in one convention, the article's and PyTorch's: samples as rows (`Z = A·Wᵀ + b`),
row-major `vec`, the numerator layout (a Jacobian has one row per entry of the function). A course
may write the same backpropagation with samples as columns (`Z = W·A + b`), column-major `vec`
(stacking columns, as in `vec(AXB) = (Bᵀ ⊗ A) vec(X)`) or the denominator layout (every Jacobian
transposed, the chain rule read `Jacobian · upstream column`). This module is the one place that
maps the engine's quantities to a convention and back, and says the convention's sentences:

- samples = "columns" transposes every quantity except the parameters an op writes the same way
  in both (`Op.same_in_columns`, the dense layer's `W`, units × inputs);
- vec = "column-major" reads each matrix AS WRITTEN column after column, which permutes the rows
  and columns of every Jacobian;
- layout = "denominator" transposes every Jacobian, so upstream and product are columns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from math import prod

import numpy as np

from .errors import InputError
from .graph import COST
from .ops.base import Places
from .sentences import Sentence, math, say
from .structured import SMALL, Dense

SAMPLES = ("rows", "columns")
VEC = ("row-major", "column-major")
LAYOUT = ("numerator", "denominator")
KEYS = {"samples": SAMPLES, "vec": VEC, "layout": LAYOUT}


@dataclass(frozen=True)
class Conventions:
    """How a walkthrough is written: `samples` as rows or columns, `vec` row- or column-major, the
    numerator or denominator `layout`. The default is the article's (and PyTorch's)."""

    samples: str = "rows"
    vec: str = "row-major"
    layout: str = "numerator"

    @property
    def columns(self) -> bool:
        """Whether samples are columns (`X` is features × samples)."""
        return self.samples == "columns"

    @property
    def column_major(self) -> bool:
        return self.vec == "column-major"

    @property
    def denominator(self) -> bool:
        return self.layout == "denominator"

    @property
    def is_default(self) -> bool:
        """Whether these are the default conventions (mostly the very object `DEFAULT`, found without comparing
        every field: pages ask on every step)."""
        return self is DEFAULT or self == DEFAULT

    def document(self) -> dict[str, str]:
        """As a `[conventions]` table, or the `conventions` of the JSON document."""
        return {"samples": self.samples, "vec": self.vec, "layout": self.layout}

    def phrases(self) -> tuple[str, str, str]:
        """`samples as columns`, `column-major vec`, `the denominator layout`."""
        return f"samples as {self.samples}", f"{self.vec} vec", f"the {self.layout} layout"

    def __str__(self) -> str:
        """`samples as columns, column-major vec and the denominator layout`."""
        return listing(self.phrases())

    def differences(self, other: Conventions) -> tuple[list[str], list[str]]:
        """The phrases of `self` and of `other` where the two differ, in the order samples, vec, layout."""
        pairs = [(mine, theirs) for mine, theirs in zip(self.phrases(), other.phrases(), strict=True) if mine != theirs]
        return [mine for mine, _ in pairs], [theirs for _, theirs in pairs]

    def others(self) -> list[Conventions]:
        """Every other combination, those that differ in one choice first (the likeliest slips)."""
        return sorted((other for other in ALL if other != self), key=lambda other: len(self.differences(other)[0]))

    # The convention's words, for the pages. ------------------------------------------------------------------

    @property
    def flat(self) -> str:
        """What a vectorized matrix is under the layout, and what a local Jacobian gives each entry of its function:
        a `row` (numerator) or a `column` (denominator)."""
        return "column" if self.denominator else "row"

    @property
    def lines(self) -> tuple[str, str]:
        """What a local Jacobian gives an entry of its function, and an entry of its variable: (`row`, `column`),
        or (`column`, `row`) in the denominator layout."""
        return ("column", "row") if self.denominator else ("row", "column")

    @property
    def identities(self) -> str:
        """How the Jacobian of a bias added to every sample holds its identities."""
        return "puts one identity per sample side by side" if self.denominator else "stacks one identity per sample"

    @property
    def reading(self) -> str:
        """How `vec` reads a matrix: `row by row` or `column by column`."""
        return "column by column" if self.column_major else "row by row"

    @property
    def sample_line(self) -> str:
        """What one sample is in `X` as written: a `row` or a `column`."""
        return "column" if self.columns else "row"

    @property
    def vec_name(self) -> str:
        """`row-major, as PyTorch stores it` or `column-major, stacking columns as linear-algebra texts do`."""
        return "column-major, stacking columns as linear-algebra texts do" if self.column_major \
            else "row-major, as PyTorch stores it"

    def flatten(self, matrix: np.ndarray) -> np.ndarray:
        """`vec` of a matrix as written: read row by row or column by column, laid out as a row (numerator
        layout) or a column (denominator layout)."""
        flat = np.asarray(matrix).ravel(order="F" if self.column_major else "C")
        return flat.reshape(-1, 1) if self.denominator else flat.reshape(1, -1)

    def chain_rule(self, gradient: str, upstream: str, jacobian: str) -> str:
        """`dJ/dW3 = dJ/dZ3 · dZ3/dW3`, or `dJ/dW3 = dZ3/dW3 · dJ/dZ3` in the denominator layout."""
        return f"{gradient} = {jacobian} · {upstream}" if self.denominator else f"{gradient} = {upstream} · {jacobian}"

    def product_label(self, jacobian: str) -> Sentence:
        """The caption of the product of the upstream row (or column) and the Jacobian."""
        if self.denominator:
            return say(math(jacobian), " times the upstream column gives the column")
        return say("times ", math(jacobian), " gives the row")

    def jacobian_caption(self, name: Sentence, function: str, variable: str, shape: tuple[int, int]) -> Sentence:
        """What the local Jacobian (`name`, as the page names it) is: which entries its rows and columns stand for."""
        rows, columns = (variable, function) if self.denominator else (function, variable)
        order = "" if self.is_default else say(" (entries taken ", self.reading, ")")
        return say(name, " is ", math(f"{shape[0]} × {shape[1]}"),
                   ": one row per entry of ", math(rows), ", one column per entry of ", math(columns), order, ".")

    def devectorize_caption(self, variable: str, shape: tuple[int, int]) -> Sentence:
        return say(f"De-vectorized, {self.reading}, to the shape of ", math(variable), " (",
                   math(f"{shape[0]} × {shape[1]}"), "):")

    def groups(self, function: tuple[int, int], variable: tuple[int, int]) -> tuple[int, int]:
        """How many neighbouring rows, and columns, of a written Jacobian belong to one line (a row, or a column
        under column-major vec) of the function and of the variable as written, for the sparsity picture."""
        rows, columns = (shape[0] if self.column_major else shape[1] for shape in (function, variable))
        return (columns, rows) if self.denominator else (rows, columns)

    def expression(self, node) -> str:
        """The node's forward computation as written: `W1 · X + b1` with samples as columns."""
        return node.op.columns_expression(node.names()) if self.columns else node.op.expression(node.names())

    def formula(self, node) -> Sentence:
        """The node's equation as written: `Z1 = W1 · X + b1` with samples as columns."""
        if not self.columns:
            return node.op.formula(node.names())
        op = node.op
        remark = op.remark if op.columns_remark is None else op.columns_remark
        return say(math(f"{node.output} = {self.expression(node)}"), remark)

    def blocks_note(self) -> Sentence:
        """Said after an op's explanation of blocks per sample, where vec does not read one sample's entries one
        after another (samples as rows with column-major vec, or samples as columns with row-major vec)."""
        if self.columns == self.column_major:
            return say()
        return say(f" With samples as {self.samples} and {self.vec} vec, one sample's entries are not neighbours in "
                   "vec, so these blocks are spread out: their rows and columns interleave with the other samples'.")


def listing(phrases) -> str:
    """`a`, `a and b`, `a, b and c`."""
    *first, last = phrases
    return f"{', '.join(first)} and {last}" if first else last


DEFAULT = Conventions()
ALL = tuple(Conventions(samples, vec, layout) for samples in SAMPLES for vec in VEC for layout in LAYOUT)


def from_table(table, fail, prefix: str = "conventions") -> Conventions:
    """A `[conventions]` table of a walkthrough or answer file; `fail(field, message)` refuses a bad one."""
    from .errors import suggestion
    from .tomlinput import describe

    if not isinstance(table, dict):
        fail(prefix, "expected a table [conventions] with samples, vec and layout")
    chosen = {}
    for key, value in table.items():
        if key not in KEYS:
            fail(f"{prefix}.{key}", f"unknown key{suggestion(key, list(KEYS)) or ''} (allowed: samples, vec, layout)")
        if value not in KEYS[key]:
            hint = suggestion(value, list(KEYS[key])) if isinstance(value, str) else None
            fail(f"{prefix}.{key}", f"expected one of: {', '.join(KEYS[key])}{hint or ''}; found {describe(value)}")
        chosen[key] = value
    return Conventions(**chosen)


def overridden(conventions: Conventions, samples: str | None, vec: str | None, layout: str | None) -> Conventions:
    """The conventions with the choices given on the command line put in."""
    given = {key: value for key, value in (("samples", samples), ("vec", vec), ("layout", layout)) if value}
    return dataclasses.replace(conventions, **given)


def _take(matrix, rows, columns):
    """The matrix's rows and columns in the given orders (numpy arrays and sympy matrices alike)."""
    if isinstance(matrix, np.ndarray):
        return matrix[np.ix_(rows, columns)]
    return matrix.extract(list(map(int, rows)), list(map(int, columns)))


class Writing:
    """How the quantities of one graph are written under `conventions`: every matrix, Jacobian, step and update.

    `shapes` holds the engine's shape (samples as rows) of every variable of the graph.
    """

    def __init__(self, graph, conventions: Conventions, shapes: dict[str, tuple[int, int]]):
        self.graph, self.conventions, self.shapes = graph, conventions, shapes

    @cached_property
    def kept(self) -> frozenset[str]:
        """The parameters written the same way whether samples are rows or columns (the dense layer's `W`)."""
        return frozenset(node.roles[role] for node in self.graph.nodes for role in node.op.same_in_columns
                         if role in node.roles)

    def transposed(self, variable: str) -> bool:
        """Whether `variable` (and its gradient) is written as the transpose of the engine's matrix."""
        return self.conventions.columns and variable not in self.kept

    def matrix(self, variable: str, value):
        """A value of `variable` (or its gradient or update) as written; and back, as a transposition undoes
        itself."""
        return value.T if self.transposed(variable) else value

    def order(self, variable: str) -> np.ndarray:
        """Entry `k` of the written `vec` of `variable` is entry `order[k]` of the engine's row-major `vec`."""
        index = np.arange(prod(self.shapes[variable])).reshape(self.shapes[variable])
        return self.matrix(variable, index).ravel(order="F" if self.conventions.column_major else "C")

    def jacobian(self, function: str, variable: str, value):
        """`∂vec(function)/∂vec(variable)` as written: rows and columns in the written `vec` order, transposed
        in the denominator layout. Works on numpy arrays and sympy matrices."""
        written = _take(value, self.order(function), self.order(variable))
        return written.T if self.conventions.denominator else written

    def written_shape(self, variable: str) -> tuple[int, int]:
        rows, columns = self.shapes[variable]
        return (columns, rows) if self.transposed(variable) else (rows, columns)

    def position(self, variable: str, index: int) -> tuple[int, int]:
        """Where entry `index` (from 0) of the written `vec` of `variable` sits in the matrix as written."""
        rows, columns = self.written_shape(variable)
        return (index % rows, index // rows) if self.conventions.column_major else divmod(index, columns)

    def engine_entry(self, function: str, variable: str, row: int, column: int) -> tuple[int, int]:
        """The engine's (row, column) of entry (row, column) of `∂vec(function)/∂vec(variable)` as written."""
        if self.conventions.denominator:
            row, column = column, row
        return int(self.order(function)[row]), int(self.order(variable)[column])

    def unwritten_jacobian(self, function: str, variable: str, value: np.ndarray) -> np.ndarray:
        """The engine's Jacobian from one written under the conventions."""
        value = value.T if self.conventions.denominator else value
        engine = np.empty_like(value)
        engine[np.ix_(self.order(function), self.order(variable))] = value
        return engine

    def flat(self, variable: str, row: np.ndarray) -> np.ndarray:
        """An engine `vec` (a row) of `variable` or its gradient, as the written `vec`: a row, or a column in the
        denominator layout."""
        written = row[:, self.order(variable)]
        return written.T if self.conventions.denominator else written

    @property
    def places(self) -> Places:
        """How an op's notes write its values as computed (`ops.base.Places`)."""
        return Places(transposed=self.conventions.columns)

    def step(self, step, values: dict):
        """A backward step with every matrix as written, the shortcut in the convention's formula and the op's
        notes naming written positions; `values` are the training step's, as computed."""
        result = self.matrix(step.variable, step.result)
        if step.is_sum:
            return dataclasses.replace(step, result=result, shortcut=result, product_row=self.flat(
                step.variable, step.product_row))
        node = self.graph.producers[step.node]
        shortcut_formula = step.shortcut_formula
        if self.conventions.columns:
            shapes = {role: self.shapes[name] for role, name in {**node.roles, "output": node.output}.items()}
            shortcut_formula = node.op.columns_shortcut_formula(step.role, node.names(step.upstream), shapes)
        kinks = tuple(dataclasses.replace(kink, position=kink.position[::-1]) if self.transposed(step.variable)
                      else kink for kink in step.kinks)
        notes = node.op.notes(step.role, self.graph.role_values(node, values), node.names(step.upstream),
                              self.places) if self.conventions.columns else step.notes
        return dataclasses.replace(
            step, structure=Dense(self.jacobian(step.node, step.variable, step.jacobian)),
            upstream_row=self.flat(step.node, step.upstream_row),
            product_row=self.flat(step.variable, step.product_row),
            result=result, shortcut=self.matrix(step.variable, step.shortcut), shortcut_formula=shortcut_formula,
            kinks=kinks, fused=None if step.fused is None else self.matrix(step.node, step.fused), notes=notes)

    def update(self, update):
        """An optimizer step with the parameter, its gradient, the new value and the optimizer's states as written."""
        def states(state):
            return {key: self.matrix(update.parameter, value) for key, value in state.items()}

        return dataclasses.replace(update, old=self.matrix(update.parameter, update.old),
                                   gradient=self.matrix(update.parameter, update.gradient),
                                   new=self.matrix(update.parameter, update.new), state=states(update.state),
                                   previous_state=states(update.previous_state))

    def values(self, values: dict) -> dict:
        return {name: self.matrix(name, value) for name, value in values.items()}

    def training_step(self, training):
        """One training step with its forward pass, backward steps, updates and optimizer states as written."""
        return dataclasses.replace(training, values=self.values(training.values),
                                   steps=tuple(self.step(step, training.values) for step in training.steps),
                                   updates=tuple(map(self.update, training.updates)))

    def solution(self, solution):
        """The solution with every quantity of every training step as written; `engine` keeps the computed one."""
        if self.conventions.is_default:
            return solution
        large = next((step for training in solution.training for step in training.steps
                      if not step.is_sum and not step.structure.small), None)
        if large is not None:
            rows, columns = large.structure.shape
            raise InputError(f"{large.jacobian_name} is {rows} × {columns}: other conventions write every Jacobian "
                             f"out in full, which takes Jacobians of up to {SMALL:,} entries; use the default "
                             "conventions for this walkthrough")
        return dataclasses.replace(
            solution, training=tuple(map(self.training_step, solution.training)),
            final_values=self.values(solution.final_values), conventions=self.conventions, engine=solution)

    def quantity(self, solution, name: str, value, inverse: bool = False):
        """A quantity of `solution` (docs/quantities.md) by name, as written (or back from written, `inverse`)."""
        described = self.described(solution).get(name)
        if described is None or np.ndim(value) == 0:
            return value
        if len(described) == 2:
            return (self.unwritten_jacobian if inverse else self.jacobian)(*described, value)
        return self.matrix(described[0], value)

    def described(self, solution) -> dict[str, tuple[str, ...]]:
        """Each quantity's name (with its training step's `@t`) → the variable it is written like, or (function,
        variable) for a Jacobian."""
        found = {name: (name,) for name in solution.values if name != COST}
        for training in solution.training:
            at = training.suffix
            found.update({name + at: (name,) for name in training.values if name != COST})
            for step in training.steps:
                if not step.from_cost and not step.is_sum:
                    found[step.jacobian_name + at] = (step.node, step.variable)
                found[step.gradient + at] = (step.variable,)
            for update in training.updates:
                found[update.name] = (update.parameter,)
                found.update({name: (update.parameter,) for name in update.state_names().values()})
        return found


def writing(solution, conventions: Conventions | None = None) -> Writing:
    """The writing of a solution's graph under `conventions` (default: those the solution is written in)."""
    engine, conventions = solution.computed, conventions or solution.conventions
    found = engine.writings.get(conventions)
    if found is None:
        shapes = {name: np.shape(value) for name, value in engine.values.items()}
        found = engine.writings[conventions] = Writing(engine.graph, conventions, shapes)
    return found


def written(solution):
    """The solution as computed, written under its walkthrough's conventions."""
    return writing(solution, solution.walkthrough.conventions).solution(solution.computed)
