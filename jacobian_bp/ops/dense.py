"""The dense (fully connected) op: `Z = A_prev · Wᵀ + b`, samples as rows, as `torch.nn.Linear`."""

from math import prod

import numpy as np

from ..entries import ONE, ZERO
from ..sentences import Sentence, math, say
from ..structured import IdentityKronecker, KroneckerIdentity
from .base import INPUT, OUTPUT, Op


class Dense(Op):
    """A linear layer; `W` is units × inputs, `b` a row of units (absent with `bias = false`)."""

    name = "dense"
    title = "dense layer"
    parameter_letters = ("W", "b")
    options = {"units": int, "bias": bool}
    required = ("units",)
    penalized = ("W",)
    row_parameters = ("b",)
    same_in_columns = ("W",)

    def __init__(self, units: int, bias: bool = True):
        self.units, self.bias = units, bias

    def parameter_roles(self) -> tuple[str, ...]:
        return self.parameter_letters if self.bias else ("W",)

    def parameter_shapes(self, shapes) -> dict[str, tuple[int, int]]:
        return {"W": (self.units, shapes[INPUT][1]), "b": (1, self.units)}

    def parameter_hint(self, role: str) -> str:
        return "units × inputs" if role == "W" else "one per unit"

    def initialize(self, role: str, shapes, rng: "np.random.Generator") -> np.ndarray:
        """Uniform in ±1/√inputs, the default of torch.nn.Linear (from numpy's generator, so not PyTorch's numbers)."""
        bound = 1.0 / np.sqrt(shapes[INPUT][1])
        return rng.uniform(-bound, bound, size=self.parameter_shapes(shapes)[role])

    def initialization(self, role: str) -> tuple[Sentence, bool]:
        return say("uniform in ", math("±1/√inputs"), ", the default of torch.nn.Linear"), True

    def check_shapes(self, shapes) -> str | None:
        units, inputs = shapes["W"]
        if shapes[INPUT][1] != inputs:
            return f"W has {inputs} columns but its input has {shapes[INPUT][1]} features"
        return None

    def output_shape(self, shapes) -> tuple[int, int]:
        return shapes[INPUT][0], shapes["W"][0]

    def torch_expression(self, names) -> str:
        product = f"{names[INPUT]} @ {names['W']}.T"
        return f"{product} + {names['b']}" if self.bias else product

    def forward(self, values) -> np.ndarray:
        Z = values[INPUT] @ values["W"].T
        return Z + values["b"] if self.bias else Z

    def structured_jacobian(self, role: str, values):
        A_prev, W = values[INPUT], values["W"]
        samples, units = A_prev.shape[0], W.shape[0]
        if role == INPUT:
            # d z[i,j] / d a[i',k] = δ(i,i') · W[j,k]: one copy of W per sample on the block diagonal
            return IdentityKronecker(samples, W)
        if role == "W":
            # d z[i,j] / d W[j',k] = δ(j,j') · a[i,k]: each row of A_prev once per unit, shifted along
            return KroneckerIdentity(A_prev, units)
        # d z[i,j] / d b[j'] = δ(j,j'): an identity per sample, stacked, because b is broadcast
        return KroneckerIdentity(np.ones((samples, 1)), units)

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes["W" if role == INPUT else INPUT]) if role != "b" else shapes[INPUT][0]

    def _pattern(self, role: str, units: int, inputs: int, weight, given, zero, one):
        """Entry (row, column) of the Jacobian for `role`: `weight(j, k)` names W's entries, `given(i, k)` the
        input's, in symbols or in text (and `zero`, `one` are written the same way)."""

        def entry(row: int, column: int):
            (i, j), (i2, k) = divmod(row, units), divmod(column, inputs)
            if role == INPUT:  # w[j,k] where the samples match
                return weight(j, k) if i == i2 else zero
            if role == "W":  # a[i,k] of the sample, where the units match
                return given(i, k) if j == i2 else zero
            return one if j == column else zero  # an identity per sample

        return entry

    def symbolic_pattern(self, role: str, namers, values):
        return self._pattern(role, *values["W"].shape, namers["W"], namers[INPUT], ZERO, ONE)

    def symbolic_jacobian(self, role: str, symbols, values):
        """From the index pattern: sympy's own derivative of the forward takes seconds for a few hundred entries."""
        import sympy

        return sympy.Matrix(values[OUTPUT].size, values[role].size, self._symbolic_entries(role, symbols, values))

    def symbolic_entry(self, role: str, row: int, column: int, symbols, values):
        return self._symbolic_entries(role, symbols, values)(row, column)

    def _symbolic_entries(self, role: str, symbols, values):
        """The index pattern in sympy's symbols and numbers."""
        import sympy

        W, given = symbols["W"], symbols[INPUT]
        return self._pattern(role, *values["W"].shape, lambda j, k: W[j, k], lambda i, k: given[i, k],
                             sympy.Integer(0), sympy.Integer(1))

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return {INPUT: ("W",), "W": (INPUT,), "b": ()}[role]

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        if role == INPUT:
            return upstream @ values["W"]
        if role == "W":
            return upstream.T @ values[INPUT]
        return upstream.sum(axis=0, keepdims=True)

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        upstream = names["upstream"]
        if role == "b":
            return say("column sums of ", math(upstream))
        return say(math({INPUT: f"{upstream} · {names['W']}", "W": f"({upstream})ᵀ · {names[INPUT]}"}[role]))

    def columns_shortcut_formula(self, role: str, names, shapes) -> Sentence:
        upstream = names["upstream"]
        if role == "b":
            return say("row sums of ", math(upstream))
        return say(math({INPUT: f"{names['W']}ᵀ · {upstream}", "W": f"{upstream} · {names[INPUT]}ᵀ"}[role]))

    def expression(self, names) -> str:
        bias = f" + {names['b']}" if self.bias else ""
        return f"{names[INPUT]} · {names['W']}ᵀ{bias}"

    def columns_expression(self, names) -> str:
        bias = f" + {names['b']}" if self.bias else ""
        return f"{names['W']} · {names[INPUT]}{bias}"

    def forward_products(self, values, names) -> tuple[tuple, ...]:
        """`Z1 = X · W1ᵀ + b1 = [X · W1ᵀ] + [b1]`, then `= [X · W1ᵀ] + [b1 on every row] = [Z1]`."""
        Z, product = values[OUTPUT], values[INPUT] @ values["W"].T
        formula = f"{names[OUTPUT]} = {names[INPUT]} · {names['W']}ᵀ"
        if not self.bias:
            return ((f"{formula} =", Z),)
        b = values["b"]
        if product.shape[0] == 1:
            return ((f"{formula} + {names['b']} =", product, "+", b, "=", Z),)
        return ((f"{formula} + {names['b']} =", product, "+", b),
                ("=", product, "+", np.repeat(b, product.shape[0], axis=0), "=", Z))

    def explanation(self, role: str, names, samples: int) -> Sentence:
        from ..conventions import DEFAULT

        return self.written_explanation(role, names, samples, DEFAULT)

    def written_explanation(self, role: str, names, samples: int, conventions) -> Sentence:
        """With samples as columns, entry `(j, i)` of `Z` is unit j of sample i and `b` is added to every column; in
        the denominator layout every block is transposed (a copy of `Wᵀ`) and the identities sit side by side."""
        Z, W = math(names[OUTPUT]), math(names["W"])
        if role == INPUT:
            copy = math(f"{names['W']}ᵀ") if conventions.denominator else W
            text = say("Each sample's ", math("z"), " depends only on that sample's own ", math("a"), ", through ", W,
                       ", so the Jacobian holds one copy of ", copy, " per sample on its block diagonal.")
        elif role == "W":
            where = say(" (column ", math("i"), " of ", math(names[INPUT]), ")") if conventions.columns else say()
            text = say("Entry ", math("(j, i)" if conventions.columns else "(i, j)"), " of ", Z, " uses only row ",
                       math("j"), " of ", W, ", multiplied by the inputs of sample ", math("i"), where,
                       ", so each sample's inputs appear once per unit, shifted along.")
        else:
            text = say(math(names["b"]), f" is added to the {conventions.sample_line} of every sample, so the Jacobian "
                       f"{conventions.identities}, and multiplying by it sums ", math(names["upstream"]),
                       " over the batch.")
        return say(text, conventions.blocks_note())

    def entry_equation(self, index: int, symbols):
        """`z[i,j] = a[i,1]·w[j,1] + … + a[i,n]·w[j,n] + b[j]`, in the article's order (sympy would put b first)."""
        import sympy

        A, W = symbols[INPUT], symbols["W"]
        i, j = divmod(index, W.rows)
        terms = [sympy.Mul(A[i, k], W[j, k], evaluate=False) for k in range(W.cols)]
        return sympy.Add(*terms, *([symbols["b"][0, j]] if self.bias else []), evaluate=False)

    def symbolic_forward(self, symbols):
        import sympy

        Z = symbols[INPUT] * symbols["W"].T
        return Z + sympy.ones(Z.rows, 1) * symbols["b"] if self.bias else Z
