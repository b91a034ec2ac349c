"""Ops that join variables: `add` (a residual connection) and `concat` (branches side by side)."""

from math import prod

import numpy as np

from ..sentences import Sentence, math, say
from ..structured import Diagonal, Selection
from .base import INPUT, OUTPUT, Op, input_roles


def _inputs(values) -> list[np.ndarray]:
    """The values of the inputs, in order."""
    return [values[role] for role in input_roles(sum(role.startswith(INPUT) for role in values))]


class Add(Op):
    """`S = A + B (+ …)` entry by entry, as `a + b` in PyTorch."""

    name = "add"
    title = "add"
    inputs = 0

    def check_shapes(self, shapes) -> str | None:
        found = {shape for role, shape in shapes.items() if role.startswith(INPUT)}
        if len(found) > 1:
            return "add needs inputs of one shape, found " + ", ".join(
                f"{shapes[role][0]} × {shapes[role][1]}" for role in sorted(shapes) if role.startswith(INPUT))
        return None

    def output_shape(self, shapes) -> tuple[int, int]:
        return shapes[f"{INPUT}1"]

    def torch_expression(self, names) -> str:
        return " + ".join(names[role] for role in input_roles(sum(r.startswith(INPUT) for r in names)))

    def forward(self, values) -> np.ndarray:
        return np.sum(_inputs(values), axis=0)

    def structured_jacobian(self, role: str, values) -> Diagonal:
        # d s[i,j] / d a[i',j'] = δ(i,i') · δ(j,j')
        return Diagonal(np.ones(values[role].size))

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes[role])

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        return upstream.copy()

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        return say(math(names["upstream"]), " (passed on unchanged)")

    def expression(self, names) -> str:
        roles = input_roles(sum(role.startswith(INPUT) for role in names))
        return " + ".join(names[role] for role in roles)

    def explanation(self, role: str, names, samples: int) -> Sentence:
        return say(math(names[OUTPUT]), " adds its inputs entry by entry, so its Jacobian with respect to ",
                   math(names[role]), " is the identity: the gradient ", math(names["upstream"]),
                   " reaches every input unchanged.")

    def symbolic_forward(self, symbols):
        roles = input_roles(sum(role.startswith(INPUT) for role in symbols))
        total = symbols[roles[0]]
        for role in roles[1:]:
            total = total + symbols[role]
        return total


class Concat(Op):
    """`H = [A, B, …]`: the inputs' columns side by side, as `torch.cat(dim=1)`."""

    name = "concat"
    title = "concat"
    remark = " (columns side by side)"
    columns_remark = " (rows stacked)"
    inputs = 0

    def output_shape(self, shapes) -> tuple[int, int]:
        widths = [shape[1] for role, shape in shapes.items() if role.startswith(INPUT)]
        return shapes[f"{INPUT}1"][0], sum(widths)

    def torch_expression(self, names) -> str:
        inputs = ", ".join(names[role] for role in input_roles(sum(r.startswith(INPUT) for r in names)))
        return f"torch.cat([{inputs}], dim=1)"

    def forward(self, values) -> np.ndarray:
        return np.concatenate(_inputs(values), axis=1)

    def _columns(self, role: str, values) -> slice:
        """Where the role's columns sit in the output."""
        roles = input_roles(sum(r.startswith(INPUT) for r in values))
        start = sum(values[r].shape[1] for r in roles[:roles.index(role)])
        return slice(start, start + values[role].shape[1])

    def structured_jacobian(self, role: str, values) -> Selection:
        samples = values[role].shape[0]
        total = sum(array.shape[1] for array in _inputs(values))
        # d h[i,j] / d a[i',k] = δ(i,i') · δ(j, offset + k): a selection matrix, one 1 per row of this input
        return Selection(samples, np.eye(total)[:, self._columns(role, values)])

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes[OUTPUT]) // shapes[OUTPUT][0] * shapes[role][1]

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        return upstream[:, self._columns(role, values)].copy()

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        return say(f"{self._span(role, shapes, 'column')} of ", math(names["upstream"]))

    def columns_shortcut_formula(self, role: str, names, shapes) -> Sentence:
        """With samples as columns the inputs are stacked, so the role's part is a block of rows."""
        return say(f"{self._span(role, shapes, 'row')} of ", math(names["upstream"]))

    @staticmethod
    def _span(role: str, shapes, noun: str) -> str:
        """`columns 3–5` (or `rows 3–5`): where the role's features sit in the output, counted from 1."""
        roles = input_roles(sum(r.startswith(INPUT) for r in shapes))
        start = sum(shapes[r][1] for r in roles[:roles.index(role)])
        end = start + shapes[role][1]
        return f"{noun} {end}" if end == start + 1 else f"{noun}s {start + 1}–{end}"

    def expression(self, names) -> str:
        roles = input_roles(sum(role.startswith(INPUT) for role in names))
        return "[" + ", ".join(names[role] for role in roles) + "]"

    def columns_expression(self, names) -> str:
        roles = input_roles(sum(role.startswith(INPUT) for role in names))
        return "[" + "; ".join(names[role] for role in roles) + "]"

    def explanation(self, role: str, names, samples: int) -> Sentence:
        from ..conventions import DEFAULT

        return self.written_explanation(role, names, samples, DEFAULT)

    def written_explanation(self, role: str, names, samples: int, conventions) -> Sentence:
        """With samples as columns the inputs' rows are stacked; in the denominator layout an entry of the output
        is a column of the Jacobian."""
        output, variable = math(names[OUTPUT]), math(names[role])
        placed = "stacks its inputs' rows" if conventions.columns else "places its inputs' columns side by side"
        line = conventions.flat
        return say(output, f" {placed}, so each entry of ", output, " is one entry of one input: the Jacobian with "
                   "respect to ", variable, f" selects, with a single 1 per {line}, the entries that came from ",
                   variable, f", and is 0 on the {line}s of the other inputs.")

    def symbolic_forward(self, symbols):
        import sympy

        roles = input_roles(sum(role.startswith(INPUT) for role in symbols))
        return sympy.Matrix.hstack(*[symbols[role] for role in roles])
