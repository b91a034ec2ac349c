"""Node types of a fully connected network, each with its forward computation and full Jacobians.

Every Jacobian here is `d vec(F) / d vec(G)` with row-major `vec`: one row per element of the
output `F`, one column per element of the input `G`, as in the article. The comment over each
builder gives the entry in index notation. Each node also knows the framework shortcut that
deep-learning libraries use instead of the full Jacobian, so the two can be compared.

Adding a node type is one class here plus one entry in `ACTIVATIONS` or `LOSSES`.
"""

from typing import ClassVar

import numpy as np

# PyTorch clamps log at -100 in binary cross-entropy and its gradient's denominator at 1e-12.
LOG_CLAMP = -100.0
BCE_DENOMINATOR_FLOOR = 1e-12


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


class ReLU(Elementwise):
    """`max(0, z)`; its derivative at 0 is taken as 0, as PyTorch does."""

    name = "relu"
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
    shortcut_formula = "{dA} ⊙ {A} ⊙ (1 − {A})"

    def forward(self, Z: np.ndarray) -> np.ndarray:
        decay = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return A * (1.0 - A)


class Loss:
    """A per-sample loss `L` (an `m × 1` column) of the output `A` against the targets `Y`."""

    name: ClassVar[str]
    # Written with the names of the step; "{mean}" stands for "÷ n" when there are n > 1 outputs.
    shortcut_formula: ClassVar[str]
    # The output activations this loss is defined for; empty when any will do.
    output_activations: ClassVar[tuple[str, ...]] = ()

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


class BinaryCrossEntropy(Loss):
    """`l[i] = mean_j −[y log a + (1 − y) log(1 − a)]`, logs clamped at −100 as in PyTorch."""

    name = "binary_cross_entropy"
    output_activations = ("sigmoid",)
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

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        outputs = A.shape[1]
        return (A - Y) / (outputs * np.maximum(A * (1.0 - A), BCE_DENOMINATOR_FLOOR))


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


ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in (ReLU, Sigmoid)}
LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (BinaryCrossEntropy,)}
