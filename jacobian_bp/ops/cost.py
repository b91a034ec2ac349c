"""The cost `J` (the mean of the per-sample losses, plus the penalty `R` under L2 regularization) and `R` itself."""

from fractions import Fraction

import numpy as np

from ..entries import ONE, number
from ..sentences import Sentence, math, say
from .base import INPUT, OUTPUT, Op, input_roles

PENALTY = "penalty"


class MeanCost(Op):
    """`J = mean(L)` over the `m` samples, `+ R` when the walkthrough is regularized (role `penalty`)."""

    name = "mean"
    title = "mean cost"
    whole_batch = True

    def __init__(self, penalty: bool = False):
        self.penalty = penalty

    def backward_roles(self, count: int) -> tuple[str, ...]:
        return (INPUT, PENALTY) if self.penalty else (INPUT,)

    def output_shape(self, shapes) -> tuple[int, int]:
        return 1, 1

    def torch_expression(self, names) -> str:
        penalty = f" + {names[PENALTY]}" if self.penalty else ""
        return f"{names[INPUT]}.mean().reshape(1, 1){penalty}"

    def forward(self, values) -> np.ndarray:
        J = values[INPUT].mean(keepdims=True).reshape(1, 1)
        return J + values[PENALTY] if self.penalty else J

    def jacobian(self, role: str, values) -> np.ndarray:
        if role == PENALTY:
            return np.ones((1, 1))  # d J / d R = 1
        samples = values[INPUT].shape[0]
        # d J / d l[i] = 1/m
        return np.full((1, samples), 1.0 / samples)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def symbolic_pattern(self, role: str, namers, values):
        weight = ONE if role == PENALTY else number(Fraction(1, values[INPUT].shape[0]))
        return lambda row, column: weight

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        if role == PENALTY:
            return upstream.copy()
        return np.full(values[INPUT].shape, upstream[0, 0] / values[INPUT].shape[0])

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        return say(math("1")) if role == PENALTY else say(math("1/m"), " for every sample")

    def expression(self, names) -> str:
        penalty = f" + {names[PENALTY]}" if self.penalty else ""
        return f"mean({names[INPUT]}){penalty}"

    def explanation(self, role: str, names, samples: int) -> Sentence:
        if role == PENALTY:
            return say(math(names[PENALTY]), " is added to the mean of the losses, so its Jacobian is 1.")
        J = math(names[OUTPUT])
        weight = (say(J, f" is the mean of the {samples} per-sample losses, so each loss enters ", J, " with weight ",
                      math(f"1/{samples}"), ". ") if samples > 1
                  else say("With one sample, ", J, " is that sample's loss, so ", math("dJ/dL = 1"), ". "))
        return say(weight, "Every backward pass starts from ", math("dJ/dJ = 1"), ".")

    def symbolic_forward(self, symbols):
        import sympy

        losses = symbols[INPUT]
        J = sympy.Matrix([[sum(losses, sympy.Integer(0)) / losses.rows]])
        return J + symbols[PENALTY] if self.penalty else J


class L2Penalty(Op):
    """`R = (λ/2) Σ_k ‖W_k‖²` over the weights it is given, as PyTorch's SGD `weight_decay = λ`."""

    name = "l2_penalty"
    title = "L2 penalty"
    inputs = 0
    settings = {"l2": 0.0}
    whole_batch = True

    def output_shape(self, shapes) -> tuple[int, int]:
        return 1, 1

    def torch_expression(self, names) -> str:
        weights = " + ".join(f"{names[role]}.pow(2).sum()" for role in input_roles(sum(r.startswith(INPUT)
                                                                                       for r in names)))
        return f"({self.l2!r} / 2 * ({weights})).reshape(1, 1)"

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

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        return say(math(f"{names['upstream']} · {self.l2:g} · {names[role]}"))

    def expression(self, names) -> str:
        weights = " + ".join(f"‖{names[role]}‖²" for role in input_roles(sum(r.startswith(INPUT) for r in names)))
        return f"{self.l2:g}/2 · ({weights})"

    def explanation(self, role: str, names, samples: int) -> Sentence:
        weight = math(names[role])
        return say(math(names[OUTPUT]), " adds up the square of every weight, so its Jacobian with respect to ",
                   weight, f" is one row: {self.l2:g} times each weight of ", weight, ". This is the second path "
                   "from ", weight, " to ", math("J"), ", besides its own layer.")

    def symbolic_forward(self, symbols):
        import sympy

        weights = [symbols[role] for role in symbols if role.startswith(INPUT)]
        squares = sum((entry**2 for matrix in weights for entry in matrix), sympy.Integer(0))
        return sympy.Matrix([[sympy.Rational(repr(self.l2)) / 2 * squares]])
