"""Node types of a fully connected network, each with its forward computation and full Jacobians.

Every Jacobian here is `d vec(F) / d vec(G)` with row-major `vec`: one row per element of the
output `F`, one column per element of the input `G`, as in the article. The comment over each
builder gives the entry in index notation. Each node also knows the framework shortcut that
deep-learning libraries use instead of the full Jacobian, so the two can be compared.

Each class holds everything about itself: forward, Jacobian, shortcut, its symbolic form (sympy,
imported only when a symbolic form is asked for), kinks and the sentence that explains its
Jacobian. Adding an activation or a loss is one class here plus one entry in `ACTIVATIONS` or
`LOSSES`; `tests/test_registry.py` names the piece a new one lacks.
"""

from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:  # sympy is imported only when a symbolic form is asked for
    import sympy

# PyTorch's binary cross-entropy (and only it) clamps log at -100 and its gradient's denominator at 1e-12.
LOG_CLAMP = -100.0
# PyTorch writes that floor as the single-precision 1e-12, which is 9.99999996e-13 as a double.
BCE_DENOMINATOR_FLOOR = float(np.float32(1e-12))
# A probability below this, for a class whose target is not 0, is called saturated on the page.
SATURATED = 1e-8


def _entry(i: int, j: int) -> str:
    """`row 2, column 1`: a position counted from 1, as the pages count."""
    return f"row {i + 1}, column {j + 1}"


class Dense:
    """The linear part of a layer: `Z = A_prev · Wᵀ + b` with samples as rows."""

    @staticmethod
    def forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return A_prev @ W.T + b

    @staticmethod
    def jacobian_wrt_input(W: np.ndarray, samples: int) -> np.ndarray:
        """`d vec(Z) / d vec(A_prev)`: one copy of `W` per sample on the block diagonal."""
        # d z[i,j] / d a[i',k] = δ(i,i') · W[j,k]
        return np.kron(np.eye(samples), W)

    @staticmethod
    def jacobian_wrt_weights(A_prev: np.ndarray, units: int) -> np.ndarray:
        """`d vec(Z) / d vec(W)`: each row of `A_prev` appears once per unit, shifted along."""
        samples, inputs = A_prev.shape
        # d z[i,j] / d W[j',k] = δ(j,j') · a[i,k]
        blocks = np.einsum("ik,jl->ijlk", A_prev, np.eye(units))
        return blocks.reshape(samples * units, units * inputs)

    @staticmethod
    def jacobian_wrt_bias(samples: int, units: int) -> np.ndarray:
        """`d vec(Z) / d vec(b)`: an identity per sample, stacked, because `b` is broadcast."""
        # d z[i,j] / d b[j'] = δ(j,j')
        return np.tile(np.eye(units), (samples, 1))

    @staticmethod
    def shortcut_wrt_input(dZ: np.ndarray, W: np.ndarray) -> np.ndarray:
        return dZ @ W

    @staticmethod
    def shortcut_wrt_weights(dZ: np.ndarray, A_prev: np.ndarray) -> np.ndarray:
        return dZ.T @ A_prev

    @staticmethod
    def shortcut_wrt_bias(dZ: np.ndarray) -> np.ndarray:
        return dZ.sum(axis=0, keepdims=True)


class Activation:
    """An activation `A = f(Z)` applied to every sample (row) of `Z`."""

    name: ClassVar[str]
    title: ClassVar[str]  # the name in prose
    # The shortcut written with the names of the step, e.g. "{dA} ⊙ relu'({Z})".
    shortcut_formula: ClassVar[str]
    # Settings a walkthrough file may give for this activation, with their defaults.
    parameters: ClassVar[dict[str, float]] = {}

    def forward(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def jacobian(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """`d vec(A) / d vec(Z)`."""
        raise NotImplementedError

    def shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """`dJ/dZ` from `dJ/dA` the way frameworks compute it, without the full Jacobian."""
        raise NotImplementedError

    def kinks(self, Z: np.ndarray) -> np.ndarray:
        """Where the derivative is a convention rather than a limit (a boolean mask)."""
        return np.zeros(Z.shape, dtype=bool)

    def derivative_at_kink(self) -> tuple[float, float]:
        """The derivative used at a kink, and the one the other common convention would use."""
        raise NotImplementedError(f"{self.name} has no kinks")

    def explanation(self) -> str:
        """Why `dA/dZ` looks the way it does, in a sentence or two."""
        raise NotImplementedError

    def symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
        """`d vec(A) / d vec(Z)` in symbols, from the symbols `z` and `a` of `Z` and `A` and the values of `Z`."""
        raise NotImplementedError


class Elementwise(Activation):
    """An activation applied entry by entry, so its Jacobian is diagonal."""

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """`f'(Z)`, entry by entry."""
        raise NotImplementedError

    def jacobian(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        # d a[i,j] / d z[i',j'] = δ(i,i') · δ(j,j') · f'(z[i,j])
        return np.diagflat(self.derivative(Z, A))

    def shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return dA * self.derivative(Z, A)

    def explanation(self) -> str:
        return (f"{self.title} acts entry by entry: each a depends only on the z at the same position, so the "
                "Jacobian is diagonal and holds the derivatives.")

    def symbolic_forward(self, z: "sympy.Symbol") -> "sympy.Expr":
        """`f(z)` in sympy, whose derivative is the symbolic form unless `symbolic_derivative` says otherwise."""
        raise NotImplementedError

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        """`f'(z)` as the article writes it; `value` is the number `z` stands for."""
        import sympy

        return sympy.diff(self.symbolic_forward(z), z)

    def symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
        import sympy

        return sympy.diag(*[self.symbolic_derivative(z[i, j], Z[i, j]) for i, j in np.ndindex(Z.shape)])


class PiecewiseLinear(Elementwise):
    """An activation made of straight pieces: its derivative is written as the number the sign of z picks."""

    def symbolic_derivative(self, z: "sympy.Symbol", value: float) -> "sympy.Expr":
        import sympy

        z_value = np.array([[value]])
        return sympy.Rational(repr(float(self.derivative(z_value, self.forward(z_value))[0, 0])))


class ReLU(PiecewiseLinear):
    """`max(0, z)`; its derivative at 0 is taken as 0, as PyTorch does."""

    name = "relu"
    title = "ReLU"
    shortcut_formula = "{dA} ⊙ relu'({Z})"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        return np.maximum(Z, 0.0)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return (Z > 0).astype(float)

    def kinks(self, Z: np.ndarray) -> np.ndarray:
        return Z == 0

    def derivative_at_kink(self) -> tuple[float, float]:
        return 0.0, 1.0


class Sigmoid(Elementwise):
    """`1 / (1 + e^(−z))`, computed without overflow for large |z|."""

    name = "sigmoid"
    title = "sigmoid"
    shortcut_formula = "{dA} ⊙ {A} ⊙ (1 − {A})"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        decay = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return A * (1.0 - A)

    def symbolic_forward(self, z: "sympy.Symbol") -> "sympy.Expr":
        from .symbolic import sigma  # kept as σ(z), so that its derivative reads σ(z)(1 − σ(z))

        return sigma(z)


class Tanh(Elementwise):
    """The hyperbolic tangent, whose derivative `1 − tanh²(z)` is read off its output."""

    name = "tanh"
    title = "tanh"
    shortcut_formula = "{dA} ⊙ (1 − {A}²)"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        return np.tanh(Z)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return 1.0 - A**2

    def symbolic_forward(self, z: "sympy.Symbol") -> "sympy.Expr":
        import sympy

        return sympy.tanh(z)


class LeakyReLU(PiecewiseLinear):
    """`z` for positive `z`, else `negative_slope · z`; at 0 the derivative is `negative_slope`, as PyTorch."""

    name = "leaky_relu"
    title = "leaky ReLU"
    shortcut_formula = "{dA} ⊙ leaky_relu'({Z})"
    parameters = {"negative_slope": 0.01}

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, Z: np.ndarray) -> np.ndarray:
        return np.where(Z > 0, Z, self.negative_slope * Z)

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return np.where(Z > 0, 1.0, self.negative_slope)

    def kinks(self, Z: np.ndarray) -> np.ndarray:
        # With a slope of 1 there is no kink: the activation is the identity.
        return (Z == 0) & (self.negative_slope != 1)

    def derivative_at_kink(self) -> tuple[float, float]:
        return self.negative_slope, 1.0


class Identity(PiecewiseLinear):
    """No activation at all (`A = Z`), for regression outputs."""

    name = "identity"
    title = "identity"
    shortcut_formula = "{dA} (the identity's derivative is 1)"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        return Z.copy()

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return np.ones_like(Z)


class Softmax(Activation):
    """Each row turned into probabilities; every output of a sample depends on all its inputs."""

    name = "softmax"
    title = "softmax"
    shortcut_formula = "{A} ⊙ ({dA} − rowsum({dA} ⊙ {A}))"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        powers = np.exp(Z - Z.max(axis=1, keepdims=True))
        return powers / powers.sum(axis=1, keepdims=True)

    def jacobian(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """Block-diagonal: one full `n × n` block `diag(s) − s sᵀ` per sample."""
        samples, outputs = A.shape
        blocks = np.einsum("ij,jk->ijk", A, np.eye(outputs)) - np.einsum("ij,ik->ijk", A, A)
        # d a[i,j] / d z[i',k] = δ(i,i') · a[i,j] · (δ(j,k) − a[i,k])
        return np.einsum("ab,ajk->ajbk", np.eye(samples), blocks).reshape(samples * outputs, samples * outputs)

    def shortcut(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return A * (dA - (dA * A).sum(axis=1, keepdims=True))

    def explanation(self) -> str:
        return ("Softmax mixes the outputs of one sample: every a of a row depends on every z of the same row "
                "(through the sum in the denominator), so each sample has a full n × n block diag(s) − s sᵀ, and "
                "samples stay apart.")

    def symbolic_jacobian(self, Z: np.ndarray, z: "sympy.Matrix", a: "sympy.Matrix") -> "sympy.Matrix":
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


class Loss:
    """A per-sample loss `L` (an `m × 1` column) of the output `A` against the targets `Y`."""

    name: ClassVar[str]
    title: ClassVar[str]  # the name in prose
    # Written with the names of the step; "{mean}" stands for "÷ n" when there are n > 1 outputs.
    shortcut_formula: ClassVar[str]
    # The output activations this loss is defined for; empty when any will do.
    output_activations: ClassVar[tuple[str, ...]] = ()
    # The output activation whose Jacobian, multiplied by this loss's, collapses to (A − Y) scaled;
    # "{count}" stands for what is averaged over: m samples, or m·n with n outputs each.
    fuses_with: ClassVar[str | None] = None
    fused_formula: ClassVar[str] = ""

    def forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def check_targets(self, Y: np.ndarray) -> str | None:
        """Why `Y` cannot be targets for this loss, or `None` when it can."""
        return None

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`d l[i] / d a[i,j]` for every entry of `A` (each sample's loss sees only its own row)."""
        raise NotImplementedError

    def jacobian(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`d vec(L) / d vec(A)`: row i holds sample i's derivatives in its own block of columns."""
        samples, outputs = A.shape
        # d l[i] / d a[i',j] = δ(i,i') · d l[i] / d a[i,j]
        blocks = np.einsum("ik,kj->ikj", np.eye(samples), self.derivative(A, Y))
        return blocks.reshape(samples, samples * outputs)

    def shortcut(self, dL: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`dJ/dA` from the `m × 1` column `dJ/dL`, broadcast over each sample's outputs."""
        return dL * self.derivative(A, Y)

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`d l[i] / d z[i,j]` through the activation this loss fuses with, without any Jacobian."""
        raise NotImplementedError(f"{self.name} fuses with no activation")

    def explanation(self) -> str:
        """Why `dL/dA` looks the way it does."""
        return (f"Each sample's {self.title} depends only on that sample's own outputs, so the Jacobian has one "
                "block per sample and zeros everywhere else.")

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        """One sample's loss in sympy, from its row of output symbols `a` and its exact targets `y`."""
        raise NotImplementedError

    def unrepresentable(self, A: np.ndarray, Y: np.ndarray, output: str) -> str | None:
        """Why the explicit chain cannot be written in floating point for these outputs, or None."""
        return None

    def loss_notes(self, A: np.ndarray, Y: np.ndarray, output: str) -> tuple[str, ...]:
        """Sentences for the loss page where a clamp of PyTorch's acts on `L` (`output` names `A`)."""
        return ()

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str) -> tuple[str, ...]:
        """Sentences for the step `dJ/dA` where a clamp acts or the output is saturated."""
        return ()


class BinaryCrossEntropy(Loss):
    """`l[i] = mean_j −[y log a + (1 − y) log(1 − a)]`, logs clamped at −100 as in PyTorch."""

    name = "binary_cross_entropy"
    title = "binary cross-entropy"
    output_activations = ("sigmoid",)
    fuses_with = "sigmoid"
    fused_formula = "({A} − Y) / {count}"
    shortcut_formula = "{dL} ⊙ ({A} − Y) / ({A} ⊙ (1 − {A})){mean}"

    def forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_a = np.maximum(np.log(A), LOG_CLAMP)
            log_not_a = np.maximum(np.log1p(-A), LOG_CLAMP)
        return -(Y * log_a + (1.0 - Y) * log_not_a).mean(axis=1, keepdims=True)

    def check_targets(self, Y: np.ndarray) -> str | None:
        outside = Y[(Y < 0) | (Y > 1)]
        if outside.size:
            return f"binary cross-entropy needs targets between 0 and 1, found {outside[0]:g}"
        return None

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy  # the exact loss, without PyTorch's clamp of the logarithm

        return -sum((t * sympy.log(p) + (1 - t) * sympy.log(1 - p) for p, t in zip(a, y, strict=True)),
                    sympy.Integer(0)) / len(a)

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return (A - Y) / A.shape[1]

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        outputs = A.shape[1]
        return (A - Y) / (outputs * np.maximum(A * (1.0 - A), BCE_DENOMINATOR_FLOOR))

    def loss_notes(self, A: np.ndarray, Y: np.ndarray, output: str) -> tuple[str, ...]:
        with np.errstate(divide="ignore"):
            clamped = ((np.log(A) < LOG_CLAMP) & (Y != 0)) | ((np.log1p(-A) < LOG_CLAMP) & (Y != 1))
        return tuple(
            f"{output} {_entry(i, j)} is {A[i, j]:.3g}, so one of its logs is below −100 (−∞ at exactly 0 or 1). "
            f"PyTorch's binary cross-entropy takes that log as −100, and so does this walkthrough: L row {i + 1} "
            "is finite, but smaller than the exact loss."
            for i, j in np.argwhere(clamped))

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str) -> tuple[str, ...]:
        floored = A * (1.0 - A) < BCE_DENOMINATOR_FLOOR
        return tuple(
            f"{output} {_entry(i, j)} is {A[i, j]:.3g}, so a(1 − a) = {A[i, j] * (1 - A[i, j]):.3g} is below 1e-12. "
            "PyTorch's binary cross-entropy divides by no less than 1e-12 there, and so does this walkthrough: "
            "the entry stays finite instead of dividing by (almost) zero."
            for i, j in np.argwhere(floored))


class MeanSquaredError(Loss):
    """`l[i] = mean_j (a − y)²`, so that `J` equals PyTorch's `mse_loss` with reduction mean."""

    name = "mean_squared_error"
    title = "mean squared error"
    shortcut_formula = "{dL} ⊙ 2({A} − Y){mean}"

    def forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return ((A - Y) ** 2).mean(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return 2.0 * (A - Y) / A.shape[1]

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        return sum(((p - t) ** 2 for p, t in zip(a, y, strict=True)), sympy.Integer(0)) / len(a)


class CrossEntropy(Loss):
    """`l[i] = −Σ_j y log a` after a softmax output, with one-hot or probability rows `Y`.

    No clamp: PyTorch's cross-entropy works from the log-softmax of the logits and clamps nothing,
    and the softmax here is computed stably, so `log a` is exact wherever `a` is not 0. A class
    with target 0 adds nothing, even where its probability underflows to 0.
    """

    name = "cross_entropy"
    title = "cross-entropy"
    shortcut_formula = "{dL} ⊙ (−Y / {A})"
    output_activations = ("softmax",)
    fuses_with = "softmax"
    fused_formula = "({A} − Y) / m"

    def forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(Y != 0, Y * np.log(A), 0.0)
        return -terms.sum(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(Y != 0, -Y / A, 0.0)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        return -sum((t * sympy.log(p) for p, t in zip(a, y, strict=True)), sympy.Integer(0))

    def unrepresentable(self, A: np.ndarray, Y: np.ndarray, output: str) -> str | None:
        lost = np.argwhere((A == 0) & (Y != 0))
        if not len(lost):
            return None
        i, j = lost[0]
        return (f"{output} {_entry(i, j)} is 0: the softmax is so saturated that this probability underflows "
                "floating point, so −y/a of the cross-entropy cannot be written and the explicit chain stops here "
                "(frameworks go round it from the log-softmax of the logits); use smaller weights or inputs")

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str) -> tuple[str, ...]:
        saturated = (A < SATURATED) & (Y != 0)
        return tuple(
            f"{output} {_entry(i, j)} is {A[i, j]:.3g}: the softmax is saturated, and the target wants this class. "
            f"−y/a makes that entry of dJ/d{output} huge ({-Y[i, j] / A[i, j]:.3g} before 1/m), but the softmax "
            f"Jacobian's entries in that column are as tiny (they carry the factor a), so the product stays "
            "moderate: it is the same (A − Y)/m that frameworks compute from the log-softmax of the logits "
            "without ever forming 1/a."
            for i, j in np.argwhere(saturated))

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        # Σ_j y[i,j] = 1 turns a[i,k] Σ_j y[i,j] − y[i,k] into a[i,k] − y[i,k].
        return A - Y

    def check_targets(self, Y: np.ndarray) -> str | None:
        outside = Y[(Y < 0) | (Y > 1)]
        if outside.size:
            return f"cross-entropy needs targets between 0 and 1, found {outside[0]:g}"
        sums = Y.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1) > 1e-9)
        if off.size:
            return (f"cross-entropy needs each row to sum to 1 (one-hot or probabilities), "
                    f"row {off[0] + 1} sums to {sums[off[0]]:g}")
        return None


class MeanCost:
    """The cost `J = mean(L)` over the `m` samples of the batch."""

    shortcut_formula = "1/m for every sample"

    @staticmethod
    def forward(L: np.ndarray) -> float:
        return float(L.mean())

    @staticmethod
    def jacobian(samples: int) -> np.ndarray:
        """`d J / d vec(L)`, a `1 × m` row."""
        # d J / d l[i] = 1/m
        return np.full((1, samples), 1.0 / samples)

    @staticmethod
    def shortcut(samples: int) -> np.ndarray:
        return np.full((samples, 1), 1.0 / samples)


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Identity)}
LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (BinaryCrossEntropy, MeanSquaredError, CrossEntropy)}
