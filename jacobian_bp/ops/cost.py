"""The cost `J` (the mean of the per-sample losses, plus the penalty `R` under L2 regularization) and `R` itself."""

import numpy as np

from .base import INPUT, OUTPUT, Op, input_roles

PENALTY = "penalty"


REDUCTIONS = ("mean", "sum")


class MeanCost(Op):
    """`J = mean(L)` over the `m` samples (or `Σ L` under reduction "sum"), `+ R` when the walkthrough is
    regularized (role `penalty`)."""

    name = "mean"
    title = "mean cost"

    def __init__(self, penalty: bool = False, reduction: str = "mean"):
        self.penalty, self.reduction = penalty, reduction
        self.summed = reduction == "sum"
        if self.summed:
            self.title = "summed cost"

    def per_sample_share(self, outputs: int) -> str:
        """What a per-entry gradient is divided by: ` / m` (mean over the samples), ` / (m·n)` with n averaged
        outputs, ` / n` or nothing under reduction "sum"."""
        if self.summed:
            return f" / {outputs}" if outputs > 1 else ""
        return " / m" if outputs == 1 else f" / (m·{outputs})"

    def describe(self, samples: int) -> str:
        """What J is, for the loss page."""
        if self.summed:
            return f"the cost J is their sum over the m = {samples} samples (reduction \"sum\")"
        if samples == 1:
            return "the cost J is that one loss"
        return f"the cost J is their mean over the m = {samples} samples"

    def backward_roles(self, count: int) -> tuple[str, ...]:
        return (INPUT, PENALTY) if self.penalty else (INPUT,)

    def output_shape(self, shapes) -> tuple[int, int]:
        return 1, 1

    def forward(self, values) -> np.ndarray:
        J = (values[INPUT].sum() if self.summed else values[INPUT].mean()).reshape(1, 1)
        return J + values[PENALTY] if self.penalty else J

    def jacobian(self, role: str, values) -> np.ndarray:
        if role == PENALTY:
            return np.ones((1, 1))  # d J / d R = 1
        samples = values[INPUT].shape[0]
        # d J / d l[i] = 1/m (1 under reduction "sum")
        return np.full((1, samples), 1.0 if self.summed else 1.0 / samples)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        if role == PENALTY:
            return upstream.copy()
        share = 1.0 if self.summed else 1.0 / values[INPUT].shape[0]
        return np.full(values[INPUT].shape, upstream[0, 0] * share)

    def shortcut_formula(self, role: str, names, shapes) -> str:
        if role == PENALTY:
            return "1"
        return "1 for every sample" if self.summed else "1/m for every sample"

    def expression(self, names) -> str:
        penalty = f" + {names[PENALTY]}" if self.penalty else ""
        return f"{self.reduction}({names[INPUT]}){penalty}"

    def explanation(self, role: str, names, samples: int) -> str:
        if role == PENALTY:
            return f"{names[PENALTY]} is added to the mean of the losses, so its Jacobian is 1."
        if self.summed:
            return (f"J is the sum of the {samples} per-sample losses, so each loss enters J with weight 1. "
                    "Every backward pass starts from dJ/dJ = 1.")
        return ((f"J is the mean of the {samples} per-sample losses, so each loss enters J with weight 1/{samples}. "
                 if samples > 1 else "With one sample, J is that sample's loss, so dJ/dL = 1. ")
                + "Every backward pass starts from dJ/dJ = 1.")

    def symbolic_forward(self, symbols):
        import sympy

        losses = symbols[INPUT]
        J = sympy.Matrix([[sum(losses, sympy.Integer(0)) / (1 if self.summed else losses.rows)]])
        return J + symbols[PENALTY] if self.penalty else J


class L2Penalty(Op):
    """`R = (λ/2) Σ_k ‖W_k‖²` over the weights it is given, as PyTorch's SGD `weight_decay = λ`."""

    name = "l2_penalty"
    title = "L2 penalty"
    inputs = 0
    settings = {"l2": 0.0}

    def output_shape(self, shapes) -> tuple[int, int]:
        return 1, 1

    def forward(self, values) -> np.ndarray:
        squares = sum(float((values[role] ** 2).sum()) for role in values if role.startswith(INPUT))
        return np.array([[self.l2 / 2 * squares]])

    def jacobian(self, role: str, values) -> np.ndarray:
        # d R / d W[j,k] = λ · W[j,k]
        return self.l2 * values[role].reshape(1, -1)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return (role,)

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        return upstream[0, 0] * self.l2 * values[role]

    def shortcut_formula(self, role: str, names, shapes) -> str:
        return f"{names['upstream']} · {self.l2:g} · {names[role]}"

    def expression(self, names) -> str:
        weights = " + ".join(f"‖{names[role]}‖²" for role in input_roles(sum(r.startswith(INPUT) for r in names)))
        return f"{self.l2:g}/2 · ({weights})"

    def explanation(self, role: str, names, samples: int) -> str:
        return (f"{names[OUTPUT]} adds up the square of every weight, so its Jacobian with respect to {names[role]} is "
                f"one row: {self.l2:g} times each weight of {names[role]}. This is the second path from "
                f"{names[role]} to J, besides its own layer.")

    def symbolic_forward(self, symbols):
        import sympy

        weights = [symbols[role] for role in symbols if role.startswith(INPUT)]
        squares = sum((entry**2 for matrix in weights for entry in matrix), sympy.Integer(0))
        return sympy.Matrix([[sympy.Rational(repr(self.l2)) / 2 * squares]])
