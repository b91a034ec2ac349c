"""Activations: `A = f(Z)` row by row; elementwise ones have diagonal Jacobians, softmax one block per sample."""

from math import erf, pi, prod, sqrt
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..entries import ZERO, Term, formula, number
from ..sentences import Sentence, math, say
from ..structured import BlockDiagonal, Diagonal, Structured, structure_of
from .base import INPUT, OUTPUT, Names, Op, Values

if TYPE_CHECKING:
    import sympy


class Activation(Op):
    """An activation `A = f(Z)` applied to every sample (row) of `Z`.

    A subclass writes its pieces in the activation's own terms (`activation_forward(Z)`,
    `activation_jacobian(Z, A)`, …); this class turns them into the op's, with the single role `input`.
    """

    # The shortcut written with the names of the step, e.g. "{dA} ⊙ relu'({Z})", and words said after it.
    shortcut_template: ClassVar[str]
    keeps_image = True
    shortcut_remark: ClassVar[str] = ""

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def activation_jacobian(self, Z: np.ndarray, A: np.ndarray) -> "np.ndarray | Structured":
        """`d vec(A) / d vec(Z)`, as a full matrix or a `structured.Structured`."""
        raise NotImplementedError

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes[INPUT])

    def activation_shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """`dJ/dZ` from `dJ/dA` the way frameworks compute it, without the full Jacobian."""
        raise NotImplementedError

    def kink_mask(self, Z: np.ndarray) -> np.ndarray:
        """Where the derivative is a convention rather than a limit (a boolean mask)."""
        return np.zeros(Z.shape, dtype=bool)

    def activation_explanation(self) -> Sentence:
        """Why `dA/dZ` looks the way it does, in a sentence or two."""
        raise NotImplementedError

    def activation_symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
        """`d vec(A) / d vec(Z)` in symbols, from the symbols `z` and `a` of `Z` and `A` and the values of `Z`."""
        raise NotImplementedError

    def forward(self, values: Values) -> np.ndarray:
        return self.activation_forward(values[INPUT])

    def structured_jacobian(self, role: str, values: Values):
        return structure_of(self.activation_jacobian(values[INPUT], values[OUTPUT]))

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return (INPUT, OUTPUT)

    def shortcut(self, role: str, upstream: np.ndarray, values: Values) -> np.ndarray:
        return self.activation_shortcut(upstream, values[INPUT], values[OUTPUT])

    def shortcut_formula(self, role: str, names: Names, shapes) -> Sentence:
        return say(math(self.shortcut_template.format(dA=names["upstream"], Z=names[INPUT], A=names[OUTPUT])),
                   self.shortcut_remark)

    def expression(self, names: Names) -> str:
        return f"{self.title}({names[INPUT]})"

    def explanation(self, role: str, names: Names, samples: int) -> Sentence:
        return self.activation_explanation()

    def symbolic_jacobian(self, role: str, symbols, values: Values):
        return self.activation_symbolic_jacobian(values[INPUT], symbols[INPUT], symbols[OUTPUT])

    def kinks(self, role: str, values: Values) -> np.ndarray:
        return self.kink_mask(values[INPUT])


class Elementwise(Activation):
    """An activation applied entry by entry, so its Jacobian is diagonal."""

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """`f'(Z)`, entry by entry."""
        raise NotImplementedError

    def activation_jacobian(self, Z: np.ndarray, A: np.ndarray) -> Structured:
        # d a[i,j] / d z[i',j'] = δ(i,i') · δ(j,j') · f'(z[i,j])
        return Diagonal(self.derivative(Z, A))

    def activation_shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return dA * self.derivative(Z, A)

    def activation_explanation(self) -> Sentence:
        return say(f"{self.title} acts entry by entry: each ", math("a"), " depends only on the ", math("z"),
                   " at the same position, so the Jacobian is diagonal and holds the derivatives.")

    def derivative_term(self, z: Term, value: float) -> Term | None:
        """`f'(z)` written without sympy as the symbolic form prints it (`value` is z's number), or None."""
        return None

    def symbolic_pattern(self, role: str, namers, values: Values):
        Z, z = values[INPUT], namers[INPUT]
        if self.derivative_term(z(0, 0), float(Z.flat[0])) is None:
            return None
        columns = Z.shape[1]

        def entry(row: int, column: int) -> Term:
            i, j = divmod(row, columns)
            return self.derivative_term(z(i, j), float(Z[i, j])) if row == column else ZERO

        return entry

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        """`f(z)` in sympy, whose derivative is the symbolic form unless `symbolic_derivative` says otherwise."""
        raise NotImplementedError

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        """`f'(z)` as the article writes it; `value` is the number `z` stands for."""
        import sympy

        return sympy.diff(self.symbolic_of(z), z)

    def symbolic_forward(self, symbols) -> "sympy.Matrix":
        return symbols[INPUT].applyfunc(self.symbolic_of)

    def activation_symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
        import sympy

        return sympy.diag(*[self.symbolic_derivative(z[i, j], Z[i, j]) for i, j in np.ndindex(Z.shape)])


class PiecewiseLinear(Elementwise):
    """An activation made of straight pieces: its derivative is written as the number the sign of z picks."""

    def slope(self, value: float) -> float:
        """The derivative at `value`: the slope of the piece it lies on."""
        z_value = np.array([[value]])
        return float(self.derivative(z_value, self.activation_forward(z_value))[0, 0])

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        import sympy

        return sympy.Rational(repr(self.slope(value)))

    def derivative_term(self, z: Term, value: float) -> Term:
        return number(self.slope(value))


class ReLU(PiecewiseLinear):
    """`max(0, z)`; its derivative at 0 is taken as 0, as PyTorch does."""

    name = "relu"
    title = "ReLU"
    shortcut_template = "{dA} ⊙ relu'({Z})"

    def torch_expression(self, names: Names) -> str:
        return f"torch.relu({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return np.maximum(Z, 0.0)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return (Z > 0).astype(float)

    def kink_mask(self, Z: np.ndarray) -> np.ndarray:
        return Z == 0

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.Max(0, z)

    def derivative_at_kink(self) -> tuple[float, float]:
        return 0.0, 1.0


class Sigmoid(Elementwise):
    """`1 / (1 + e^(−z))`, computed without overflow for large |z|."""

    name = "sigmoid"
    title = "sigmoid"
    shortcut_template = "{dA} ⊙ {A} ⊙ (1 − {A})"

    def torch_expression(self, names: Names) -> str:
        return f"torch.sigmoid({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        decay = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return A * (1.0 - A)

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        from ..symbolic import sigma  # kept as σ(z), so that its derivative reads σ(z)(1 − σ(z))

        return sigma(z)

    def derivative_term(self, z: Term, value: float) -> Term:
        return formula(f"σ({z.unicode})·(1 - σ({z.unicode}))", f"sigmoid({z.ascii})*(1 - sigmoid({z.ascii}))")


class Tanh(Elementwise):
    """The hyperbolic tangent, whose derivative `1 − tanh²(z)` is read off its output."""

    name = "tanh"
    title = "tanh"
    shortcut_template = "{dA} ⊙ (1 − {A}²)"

    def torch_expression(self, names: Names) -> str:
        return f"torch.tanh({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return np.tanh(Z)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return 1.0 - A**2

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.tanh(z)

    def derivative_term(self, z: Term, value: float) -> Term:
        return formula(f"1 - tanh({z.unicode})^2", f"1 - tanh({z.ascii})^2")


class LeakyReLU(PiecewiseLinear):
    """`z` for positive `z`, else `negative_slope · z`; at 0 the derivative is `negative_slope`, as PyTorch."""

    name = "leaky_relu"
    title = "leaky ReLU"
    shortcut_template = "{dA} ⊙ leaky_relu'({Z})"
    settings = {"negative_slope": 0.01}

    def torch_expression(self, names: Names) -> str:
        return f"F.leaky_relu({names[INPUT]}, negative_slope={self.negative_slope!r})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return np.where(Z > 0, Z, self.negative_slope * Z)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return np.where(Z > 0, 1.0, self.negative_slope)

    def kink_mask(self, Z: np.ndarray) -> np.ndarray:
        # With a slope of 1 there is no kink: the activation is the identity.
        return (Z == 0) & (self.negative_slope != 1)

    def derivative_at_kink(self) -> tuple[float, float]:
        return self.negative_slope, 1.0

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.Piecewise((z, z > 0), (sympy.Rational(repr(float(self.negative_slope))) * z, True))


class Identity(PiecewiseLinear):
    """No activation at all (`A = Z`), for regression outputs."""

    name = "identity"
    title = "identity"
    shortcut_template = "{dA}"
    shortcut_remark = " (the identity's derivative is 1)"

    def torch_expression(self, names: Names) -> str:
        return f"{names[INPUT]}.clone()"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return Z.copy()

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return np.ones_like(Z)

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        return z


class Softmax(Activation):
    """Each row turned into probabilities; every output of a sample depends on all its inputs."""

    name = "softmax"
    title = "softmax"
    shortcut_template = "{A} ⊙ ({dA} − rowsum({dA} ⊙ {A}))"

    def torch_expression(self, names: Names) -> str:
        return f"torch.softmax({names[INPUT]}, dim=1)"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        powers = np.exp(Z - Z.max(axis=1, keepdims=True))
        return powers / powers.sum(axis=1, keepdims=True)

    def activation_jacobian(self, Z: np.ndarray, A: np.ndarray) -> Structured:
        """Block-diagonal: one full `n × n` block `diag(s) − s sᵀ` per sample."""
        outputs = A.shape[1]
        # d a[i,j] / d z[i',k] = δ(i,i') · a[i,j] · (δ(j,k) − a[i,k])
        return BlockDiagonal(np.einsum("ij,jk->ijk", A, np.eye(outputs)) - np.einsum("ij,ik->ijk", A, A))

    def structure_size(self, role: str, shapes) -> int:
        samples, outputs = shapes[INPUT]
        return samples * outputs * outputs

    def symbolic_forward(self, symbols) -> "sympy.Matrix":
        """`a[i,j] = e^z[i,j] / Σ_k e^z[i,k]`."""
        import sympy

        z = symbols[INPUT]
        return sympy.Matrix(z.rows, z.cols, lambda i, j: sympy.exp(z[i, j]) / sum(
            (sympy.exp(z[i, k]) for k in range(z.cols)), sympy.Integer(0)))

    def activation_shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return A * (dA - (dA * A).sum(axis=1, keepdims=True))

    def columns_shortcut_formula(self, role: str, names: Names, shapes) -> Sentence:
        """With samples as columns, each sample's sum runs down its column."""
        return say(math(self.shortcut_template.replace("rowsum", "colsum").format(
            dA=names["upstream"], Z=names[INPUT], A=names[OUTPUT])), self.shortcut_remark)

    def activation_explanation(self, line: str = "row") -> Sentence:
        return say("Softmax mixes the outputs of one sample: every ", math("a"), f" of a {line} depends on every ",
                   math("z"), f" of the same {line} (through the sum in the denominator), so each sample has a full ",
                   math("n × n"), " block ", math("diag(s) − s sᵀ"), ", and samples stay apart.")

    def written_explanation(self, role: str, names: Names, samples: int, conventions) -> Sentence:
        """A sample is a column of `Z` with samples as columns; its blocks spread out where its entries are not
        neighbours in vec."""
        return say(self.activation_explanation(conventions.sample_line), conventions.blocks_note())

    def symbolic_pattern(self, role: str, namers, values: Values):
        """`a·(1 - a)` on the diagonal of each sample's block, `-a·a'` off it (the factors in sympy's order)."""
        units = values[INPUT].shape[1]
        a = namers[OUTPUT]

        def entry(row: int, column: int) -> Term:
            (i, j), (i2, c) = divmod(row, units), divmod(column, units)
            if i != i2:
                return ZERO
            if j == c:
                name = a(i, j)
                return formula(f"{name.unicode}·(1 - {name.unicode})", f"{name.ascii}*(1 - {name.ascii})")
            first, second = (a(i, k) for k in sorted((j, c), key=lambda k: a.key(i, k)))
            return formula(f"-{first.unicode}·{second.unicode}", f"-{first.ascii}*{second.ascii}")

        return entry

    def activation_symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
        """In terms of the outputs `a`, as the article writes it: a full block per sample."""
        import sympy

        samples, units = Z.shape

        def entry_of(row: int, column: int) -> "sympy.Expr":
            (i, j), (i2, c) = divmod(row, units), divmod(column, units)
            if i != i2:
                return sympy.Integer(0)
            # d a[i,j] / d z[i,c] = a[i,j] · (δ(j,c) − a[i,c])
            return sympy.Mul(a[i, j], 1 - a[i, j], evaluate=False) if j == c else -a[i, j] * a[i, c]

        return sympy.Matrix(samples * units, samples * units, entry_of)


_erf = np.frompyfunc(erf, 1, 1)  # numpy has no erf; the standard library's is exact to the last digit


class GELU(Elementwise):
    """`z · Φ(z)` with Φ the standard normal distribution function (the erf form, PyTorch's default)."""

    name = "gelu"
    title = "GELU"
    shortcut_template = "{dA} ⊙ (Φ({Z}) + {Z} ⊙ φ({Z}))"

    @staticmethod
    def _cdf(Z: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + _erf(Z / sqrt(2.0)).astype(float))

    def torch_expression(self, names: Names) -> str:
        return f"F.gelu({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return Z * self._cdf(Z)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        # d/dz z·Φ(z) = Φ(z) + z·φ(z), with φ(z) = e^(−z²/2) / √(2π)
        return self._cdf(Z) + Z * np.exp(-0.5 * Z**2) / sqrt(2.0 * pi)

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2


class ELU(Elementwise):
    """`z` for positive `z`, else `e^z − 1` (alpha 1, as `F.elu`); its derivative is continuous at 0, so no kink."""

    name = "elu"
    title = "ELU"
    shortcut_template = "{dA} ⊙ elu'({Z})"

    def torch_expression(self, names: Names) -> str:
        return f"F.elu({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0.0)))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        # 1 for z > 0, e^z = a + 1 otherwise
        return np.where(Z > 0, 1.0, A + 1.0)

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.Piecewise((z, z > 0), (sympy.exp(z) - 1, True))

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        """The branch the value of `z` falls on: 1, or `e^z`."""
        import sympy

        return sympy.Integer(1) if value > 0 else sympy.exp(z)


class Softplus(Elementwise):
    """`log(1 + e^z)` (beta 1), computed without overflow; above z = 20 it is `z` itself, as `F.softplus`."""

    name = "softplus"
    title = "softplus"
    shortcut_template = "{dA} ⊙ σ({Z})"
    threshold = 20.0  # PyTorch's: beyond it, softplus returns its input

    def torch_expression(self, names: Names) -> str:
        return f"F.softplus({names[INPUT]})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return np.where(Z > self.threshold, Z, np.logaddexp(0.0, Z))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        # d/dz log(1 + e^z) = σ(z)
        return np.where(Z > self.threshold, 1.0, Sigmoid().activation_forward(Z))

    def symbolic_of(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.log(1 + sympy.exp(z))

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        """σ(z), as it is usually written."""
        from ..symbolic import sigma

        return sigma(z)
