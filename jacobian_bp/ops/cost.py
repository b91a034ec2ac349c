"""The cost `J` (the mean of the per-sample losses, plus the penalty `R` under L2 regularization) and `R` itself."""

import numpy as np

from ..entries import ONE, Term, number, total, written
from ..sentences import Sentence, math, say
from .base import INPUT, OUTPUT, Op, input_roles

PENALTY = "penalty"


REDUCTIONS = ("mean", "sum")


class MeanCost(Op):
    """`J = mean(L)` over the `m` samples (or `Σ L` under reduction "sum"), `+ R` when the walkthrough is
    regularized (role `penalty`)."""

    name = "mean"
    title = "mean cost"
    whole_batch = True

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

    def describe(self, samples: int) -> Sentence:
        """What J is, said after "the cost J" on the loss page."""
        if self.summed:
            return say(" is their sum over the ", math(f"m = {samples}"), " samples (reduction \"sum\")")
        if samples == 1:
            return say(" is that one loss")
        return say(" is their mean over the ", math(f"m = {samples}"), " samples")

    def backward_roles(self, count: int) -> tuple[str, ...]:
        return (INPUT, PENALTY) if self.penalty else (INPUT,)

    def output_shape(self, shapes) -> tuple[int, int]:
        return 1, 1

    def torch_expression(self, names) -> str:
        penalty = f" + {names[PENALTY]}" if self.penalty else ""
        return f"{names[INPUT]}.{self.reduction}().reshape(1, 1){penalty}"

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

    def symbolic_pattern(self, role: str, namers, values):
        weight = ONE if role == PENALTY or self.summed else number(1, values[INPUT].shape[0])
        return lambda row, column: weight

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        if role == PENALTY:
            return upstream.copy()
        share = 1.0 if self.summed else 1.0 / values[INPUT].shape[0]
        return np.full(values[INPUT].shape, upstream[0, 0] * share)

    def shortcut_formula(self, role: str, names, shapes) -> Sentence:
        if role == PENALTY:
            return say(math("1"))
        return say(math("1" if self.summed else "1/m"), " for every sample")

    def expression(self, names) -> str:
        penalty = f" + {names[PENALTY]}" if self.penalty else ""
        return f"{self.reduction}({names[INPUT]}){penalty}"

    def explanation(self, role: str, names, samples: int) -> Sentence:
        if role == PENALTY:
            return say(math(names[PENALTY]), f" is added to the {self.reduction} of the losses, so its Jacobian is 1.")
        J = math(names[OUTPUT])
        if self.summed:
            weight = say(J, f" is the sum of the {samples} per-sample losses, so each loss enters ", J,
                         " with weight 1. ")
        elif samples > 1:
            weight = say(J, f" is the mean of the {samples} per-sample losses, so each loss enters ", J,
                         " with weight ", math(f"1/{samples}"), ". ")
        else:
            weight = say("With one sample, ", J, " is that sample's loss, so its local Jacobian is ", math("1"),
                         ". ")
        return say(weight, "Every backward pass starts from ", math("dJ/dJ = 1"), ".")

    def cost_text(self, losses: list[Term], penalty: Term | None) -> Term:
        """`J` written out without sympy from the terms of the losses (and of the penalty): `l₁/2 + l₂/2 + R`, as
        `symbolic_forward` gives it in sympy."""
        shares = losses if self.summed or len(losses) == 1 else [written(f"{{l}}/{len(losses)}", l=loss)
                                                                 for loss in losses]
        return total([*shares, *([penalty] if self.penalty else [])])

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
        from ..conventions import DEFAULT

        return self.written_explanation(role, names, samples, DEFAULT)

    def written_explanation(self, role: str, names, samples: int, conventions) -> Sentence:
        """The Jacobian of one number is a row, or a column in the denominator layout."""
        weight = math(names[role])
        return say(math(names[OUTPUT]), " adds up the square of every weight, so its Jacobian with respect to ",
                   weight, f" is one {conventions.flat}: {self.l2:g} times each weight of ", weight, ". This is the "
                   "second path from ", weight, " to ", math("J"), ", besides its own layer.")

    def symbolic_forward(self, symbols):
        import sympy

        weights = [symbols[role] for role in symbols if role.startswith(INPUT)]
        squares = sum((entry**2 for matrix in weights for entry in matrix), sympy.Integer(0))
        return sympy.Matrix([[sympy.Rational(repr(self.l2)) / 2 * squares]])
