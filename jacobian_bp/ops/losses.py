"""Losses: one loss per sample, of the network's output against the targets `Y`.

PyTorch's binary cross-entropy (and only it) clamps log at -100 and its gradient's denominator at
1e-12; cross-entropy clamps nothing. Where a clamp acts or an output saturates, the loss says so.
"""

from math import prod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..entries import ZERO, Term, formula, number, total, written
from ..sentences import Sentence, math, say
from ..structured import BlockDiagonal
from .base import AS_COMPUTED, INPUT, TARGETS, Names, Op, Places, Values, entry

if TYPE_CHECKING:
    import sympy

LOG_CLAMP = -100.0
# PyTorch writes that floor as the single-precision 1e-12, which is 9.99999996e-13 as a double.
BCE_DENOMINATOR_FLOOR = float(np.float32(1e-12))
# A probability below this, for a class whose target is not 0, is called saturated on the page.
SATURATED = 1e-8


class Loss(Op):
    """A per-sample loss `L` (an `m × 1` column) of the output `A` (role `input`) against the targets `Y`.

    A subclass writes its pieces in the loss's own terms (`loss_forward(A, Y)`, `derivative(A, Y)`, …);
    this class turns them into the op's.
    """

    data_roles = (TARGETS,)
    one_per_sample = True
    # What targets suit the loss: "probabilities" (each between 0 and 1), "classes" (rows of class
    # probabilities, one-hot most often) or "real" (any numbers).
    targets_kind: ClassVar[str] = "real"
    # Whether `targets = "indices"` may give the classes as one index per sample (`Y = [[2], [0]]`).
    takes_indices: ClassVar[bool] = False
    # Whether the loss averages over each sample's outputs, so that `reduction = "sum"` adds means.
    averages_outputs: ClassVar[bool] = True
    # Whether the loss takes probabilities (an output squashed into 0…1) rather than any number.
    takes_probabilities: ClassVar[bool] = False
    # For a loss on logits: the activation and the loss on probabilities it equals, with their Jacobians collapsed.
    collapses: ClassVar[tuple[str, str]] = ()
    # Written with the names of the step; "{mean}" stands for "÷ n" when there are n > 1 outputs.
    shortcut_template: ClassVar[str]
    remark = ", one loss per sample"
    # The output activations this loss is defined for; empty when any will do.
    output_activations: ClassVar[tuple[str, ...]] = ()
    # The output activation whose Jacobian, multiplied by this loss's, collapses to (A − Y) scaled;
    # "{count}" stands for what is averaged over: m samples, or m·n with n outputs each.
    fuses_with: ClassVar[str | None] = None
    # The collapse written with the names of the step; "{per}" stands for the division by what is
    # averaged over (" / m", " / (m·2)", or nothing under reduction "sum" with one output).
    fused_formula: ClassVar[str] = ""

    def __init__(self, indices: bool = False, **settings: float):
        super().__init__(**settings)
        self.indices = indices

    def dense_targets(self, Y: np.ndarray, outputs: int) -> np.ndarray:
        """The targets as rows of class probabilities: one-hot rows from class indices, else `Y` itself."""
        if not self.indices:
            return Y
        return np.eye(outputs)[Y[:, 0].astype(int)]

    def torch_targets(self, names: Names) -> str:
        """The targets as rows in PyTorch: one-hot rows made from class indices, else `Y` itself."""
        if not self.indices:
            return names[TARGETS]
        return f"F.one_hot({names[TARGETS]}[:, 0].long(), {names[INPUT]}.shape[1])"

    def fused_gradient(self, upstream: np.ndarray, values: Values) -> np.ndarray:
        """`dJ/d` (the fused activation's input) from `dJ/dL`, through the collapse of `fused_derivative`."""
        A = values[INPUT]
        return upstream * self.fused_derivative(A, self.dense_targets(values[TARGETS], A.shape[1]))

    def fuses_alone(self) -> bool:
        """Whether the loss holds its own output activation (on logits), so its own step shows the collapse."""
        return bool(self.fused_formula) and self.fuses_with is None

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def check_targets(self, Y: np.ndarray) -> str | None:
        """Why `Y` cannot be targets for this loss, or `None` when it can."""
        return None

    def check_indices(self, Y: np.ndarray, outputs: int) -> str | None:
        """Why `Y` cannot be class indices for `outputs` classes, or `None` when it can."""
        bad = Y[(Y != np.round(Y)) | (Y < 0) | (Y >= outputs)]
        if bad.size:
            return (f"targets = \"indices\" needs whole class numbers from 0 to {outputs - 1} "
                    f"(one per sample), found {bad[0]:g}")
        return None

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`d l[i] / d a[i,j]` for every entry of `A` (each sample's loss sees only its own row)."""
        raise NotImplementedError

    def loss_jacobian(self, A: np.ndarray, Y: np.ndarray) -> BlockDiagonal:
        """`d vec(L) / d vec(A)`: row i holds sample i's derivatives in its own block of columns."""
        # d l[i] / d a[i',j] = δ(i,i') · d l[i] / d a[i,j]: a 1 × n block per sample
        return BlockDiagonal(self.derivative(A, Y)[:, None, :])

    def loss_shortcut(self, dL: np.ndarray, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`dJ/dA` from the `m × 1` column `dJ/dL`, broadcast over each sample's outputs."""
        return dL * self.derivative(A, Y)

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """`d l[i] / d z[i,j]` through the activation this loss fuses with, without any Jacobian."""
        raise NotImplementedError(f"{self.name} fuses with no activation")

    def accepts(self, op: Op) -> bool:
        """Whether this loss can take the output of `op` (cross-entropy needs a softmax, say)."""
        return not self.output_activations or op.name in self.output_activations

    def fuses(self, op: Op) -> bool:
        """Whether this loss after `op` collapses into one simple formula (softmax with cross-entropy)."""
        return op.name == self.fuses_with

    def explanation(self, role: str, names: Names, samples: int) -> Sentence:
        text = say(f"Each sample's {self.title} depends only on that sample's own outputs, so the Jacobian has one "
                   "block per sample and zeros everywhere else.")
        if not self.collapses:
            return text
        activation, loss = self.collapses
        return say(text, " It is ", math(f"{loss}({activation}({names[INPUT]}))"), " in one node: the ",
                   f"{activation}'s Jacobian and the {loss.replace('_', ' ')}'s have already been multiplied "
                   "out, which leaves the simple formula below and never divides by a probability.")

    def written_explanation(self, role: str, names: Names, samples: int, conventions) -> Sentence:
        return say(self.explanation(role, names, samples), conventions.blocks_note())

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        """One sample's loss in sympy, from its row of output symbols `a` and its exact targets `y`."""
        raise NotImplementedError

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        """One sample's loss written out without sympy, from the terms of its outputs `a` and targets `y`: the same
        loss as `symbolic_loss` (a test holds the two together), in the order the outputs come."""
        raise NotImplementedError

    def unrepresentable(self, A: np.ndarray, Y: np.ndarray, output: str) -> str | None:
        """Why the explicit chain cannot be written in floating point for these outputs, or None."""
        return None

    def loss_notes(self, A: np.ndarray, Y: np.ndarray, output: str, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        """Sentences for the loss page where a clamp of PyTorch's acts on `L` (`output` names `A`; `at` says where
        an entry is written)."""
        return ()

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str,
                         at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        """Sentences for the step `dJ/dA` where a clamp acts or the output is saturated."""
        return ()

    def output_shape(self, shapes) -> tuple[int, int]:
        return shapes[INPUT][0], 1

    def check_shapes(self, shapes) -> str | None:
        if self.indices:
            (rows, columns), (outputs_rows, _) = shapes[TARGETS], shapes[INPUT]
            if rows != outputs_rows:
                return f"expected {outputs_rows} rows (one per sample of X), found {rows}"
            if columns != 1:
                return f"expected 1 column (one class index per sample, targets = \"indices\"), found {columns}"
            return None
        if shapes[TARGETS] != shapes[INPUT]:
            (rows, columns), (outputs_rows, outputs) = shapes[TARGETS], shapes[INPUT]
            if rows != outputs_rows:
                return f"expected {outputs_rows} rows (one per sample of X), found {rows}"
            return f"expected {outputs} column{'s' * (outputs != 1)} (the outputs the loss takes), found {columns}"
        return None

    def targets_of(self, values: Values) -> np.ndarray:
        """The targets of a node's values as rows of class probabilities (see `dense_targets`)."""
        return self.dense_targets(values[TARGETS], values[INPUT].shape[1])

    def forward(self, values: Values) -> np.ndarray:
        return self.loss_forward(values[INPUT], self.targets_of(values))

    def structured_jacobian(self, role: str, values: Values) -> BlockDiagonal:
        return self.loss_jacobian(values[INPUT], self.targets_of(values))

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes[INPUT])

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return (INPUT, TARGETS)

    def shortcut(self, role: str, upstream: np.ndarray, values: Values) -> np.ndarray:
        return self.loss_shortcut(upstream, values[INPUT], self.targets_of(values))

    def shortcut_formula(self, role: str, names: Names, shapes) -> Sentence:
        outputs = shapes[INPUT][1]
        return say(math(self.shortcut_template.format(
            dL=names["upstream"], A=names[INPUT], mean="" if outputs == 1 else f" ÷ {outputs}",
            **{key: f"{getattr(self, key):g}" for key in self.settings})))

    def expression(self, names: Names) -> str:
        return f"{self.title}({names[INPUT]}, {names[TARGETS]})"

    def symbolic_data(self, role: str) -> bool:
        """The targets stay symbols `y₁₁`; class indices are written in, as the one-hot rows they stand for."""
        return not self.indices

    def symbolic_forward(self, symbols):
        import sympy

        A, Y = symbols[INPUT], symbols[TARGETS]
        if self.indices:  # one-hot rows, exactly
            Y = sympy.Matrix(A.rows, A.cols, lambda i, j: sympy.Integer(int(Y[i, 0] == j)))
        return sympy.Matrix([self.symbolic_loss(list(A.row(i)), list(Y.row(i))) for i in range(A.rows)])

    def notes(self, role: str, values: Values, names: Names, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        return self.derivative_notes(values[INPUT], self.targets_of(values), names[INPUT], at)

    def output_notes(self, values: Values, names: Names, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        return self.loss_notes(values[INPUT], self.targets_of(values), names[INPUT], at)

    def kinks(self, role: str, values: Values) -> np.ndarray | None:
        return self.kink_mask(values[INPUT], self.targets_of(values))

    def kink_mask(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
        """Where an output sits on the loss's kink (the derivative there is a convention), or None."""
        return None

    def other_jacobian(self, role: str, values: Values) -> np.ndarray:
        # d l[i] / d a[i,j] at a kink under the other convention: l'(0) / n, for a loss that averages n outputs
        jacobian = np.array(self.jacobian(role, values), dtype=float)
        outputs = values[INPUT].shape[1]
        rows, columns = np.nonzero(self.kinks(role, values))
        jacobian[rows, rows * outputs + columns] = self.derivative_at_kink()[1] / (
            outputs if self.averages_outputs else 1)
        return jacobian


class BinaryCrossEntropy(Loss):
    """`l[i] = mean_j −[y log a + (1 − y) log(1 − a)]`, logs clamped at −100 as in PyTorch."""

    name = "binary_cross_entropy"
    title = "binary cross-entropy"
    output_activations = ("sigmoid",)
    fuses_with = "sigmoid"
    fused_formula = "({A} − Y){per}"
    targets_kind = "probabilities"
    takes_probabilities = True
    shortcut_template = "{dL} ⊙ ({A} − Y) / ({A} ⊙ (1 − {A})){mean}"

    def torch_expression(self, names: Names) -> str:
        return f"F.binary_cross_entropy({names[INPUT]}, {names[TARGETS]}, reduction=\"none\").mean(dim=1, keepdim=True)"

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_a = np.maximum(np.log(A), LOG_CLAMP)
            log_not_a = np.maximum(np.log1p(-A), LOG_CLAMP)
        return -(Y * log_a + (1.0 - Y) * log_not_a).mean(axis=1, keepdims=True)

    def check_targets(self, Y: np.ndarray) -> str | None:
        outside = Y[(Y < 0) | (Y > 1)]
        if outside.size:
            return f"binary cross-entropy needs targets between 0 and 1, found {outside[0]:g}"
        return None

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return total([written("{y}·log({a}) + (1 - {y})·log(1 - {a})", a=p, y=t) for p, t in zip(a, y, strict=True)]
                     if len(a) > 1 else [written("{y}·log({a})", a=a[0], y=y[0]),
                                         written("(1 - {y})·log(1 - {a})", a=a[0], y=y[0])],
                     negated=True, divisor=len(a))

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy  # the exact loss, without PyTorch's clamp of the logarithm

        return -sum((t * sympy.log(p) + (1 - t) * sympy.log(1 - p) for p, t in zip(a, y, strict=True)),
                    sympy.Integer(0)) / len(a)

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return (A - Y) / A.shape[1]

    def symbolic_pattern(self, role: str, namers, values):
        """One output per sample: `(1 - y)/(1 - a) - y/a` on the diagonal, the target `y` a symbol."""
        if values[TARGETS].shape[1] != 1:
            return None
        a, y = namers[INPUT], namers[TARGETS]

        def term(row: int, column: int):
            if row != column:
                return ZERO
            out, target = a(row, 0), y(row, 0)
            return formula(f"(1 - {target.unicode})/(1 - {out.unicode}) - {target.unicode}/{out.unicode}",
                           f"(1 - {target.ascii})/(1 - {out.ascii}) - {target.ascii}/{out.ascii}")

        return term

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        outputs = A.shape[1]
        return (A - Y) / (outputs * np.maximum(A * (1.0 - A), BCE_DENOMINATOR_FLOOR))

    def loss_notes(self, A: np.ndarray, Y: np.ndarray, output: str, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        with np.errstate(divide="ignore"):
            clamped = ((np.log(A) < LOG_CLAMP) & (Y != 0)) | ((np.log1p(-A) < LOG_CLAMP) & (Y != 1))
        return tuple(
            say(math(output), f" {at(i, j)} is {A[i, j]:.3g}, so one of its logs is below −100 (−∞ at exactly 0 "
                "or 1). PyTorch's binary cross-entropy takes that log as −100, and so does this walkthrough: ",
                math("L"), f" {at(i, 0)} is finite, but smaller than the exact loss.")
            for i, j in np.argwhere(clamped))

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str,
                         at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        floored = A * (1.0 - A) < BCE_DENOMINATOR_FLOOR
        return tuple(
            say(math(output), f" {at(i, j)} is {A[i, j]:.3g}, so ",
                math(f"a(1 − a) = {A[i, j] * (1 - A[i, j]):.3g}"), " is below 1e-12. PyTorch's binary cross-entropy "
                "divides by no less than 1e-12 there, and so does this walkthrough: the entry stays finite instead of "
                "dividing by (almost) zero.")
            for i, j in np.argwhere(floored))


class MeanSquaredError(Loss):
    """`l[i] = mean_j (a − y)²`, so that `J` equals PyTorch's `mse_loss` with reduction mean."""

    name = "mean_squared_error"
    title = "mean squared error"
    shortcut_template = "{dL} ⊙ 2({A} − Y){mean}"

    def torch_expression(self, names: Names) -> str:
        return f"(({names[INPUT]} - {names[TARGETS]}) ** 2).mean(dim=1, keepdim=True)"

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return ((A - Y) ** 2).mean(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return 2.0 * (A - Y) / A.shape[1]

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return total([written("({a} - {y})^2", a=p, y=t) for p, t in zip(a, y, strict=True)], divisor=len(a))

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
    shortcut_template = "{dL} ⊙ (−Y / {A})"
    output_activations = ("softmax",)
    fuses_with = "softmax"
    fused_formula = "({A} − Y){per}"
    targets_kind = "classes"
    takes_indices = True
    takes_probabilities = True
    averages_outputs = False

    def torch_expression(self, names: Names) -> str:
        # 0 · log 0 is 0, its gradient too: log reads 1 where the target is 0 (xlogy's gradient there is 0/0)
        targets = self.torch_targets(names)
        return (f"-({targets} * torch.log(torch.where({targets} == 0, 1.0, {names[INPUT]})))"
                ".sum(dim=1, keepdim=True)")

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(Y != 0, Y * np.log(A), 0.0)
        return -terms.sum(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(Y != 0, -Y / A, 0.0)

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return total([written("{y}·log({a})", a=p, y=t) for p, t in zip(a, y, strict=True)], negated=True)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        return -sum((t * sympy.log(p) for p, t in zip(a, y, strict=True)), sympy.Integer(0))

    def unrepresentable(self, A: np.ndarray, Y: np.ndarray, output: str) -> str | None:
        lost = np.argwhere((A == 0) & (Y != 0))
        if not len(lost):
            return None
        i, j = lost[0]
        return (f"{output} {entry(i, j)} is 0: the softmax is so saturated that this probability underflows "
                "floating point, so −y/a of the cross-entropy cannot be written and the explicit chain stops here "
                "(frameworks go round it from the log-softmax of the logits); use smaller weights or inputs")

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str,
                         at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        saturated = (A < SATURATED) & (Y != 0)
        return tuple(
            say(math(output), f" {at(i, j)} is {A[i, j]:.3g}: the softmax is saturated, and the target wants this "
                "class. ", math("−y/a"), " makes that entry of ", math(f"dJ/d{output}"),
                f" huge ({-Y[i, j] / A[i, j]:.3g} before ", math("1/m"), "), but the softmax Jacobian's entries in "
                "that column are as tiny (they carry the factor ", math("a"), "), so the product stays moderate: it "
                "is the same ", math("(A − Y)/m"), " that frameworks compute from the log-softmax of the logits "
                "without ever forming ", math("1/a"), ".")
            for i, j in np.argwhere(saturated))

    def symbolic_pattern(self, role: str, namers, values):
        """`-y/a` on each sample's block, the targets `y` symbols; with class indices (one-hot rows written in),
        `-1/a` at each sample's target class and 0 elsewhere."""
        Y = self.targets_of(values)
        outputs, a, y = Y.shape[1], namers[INPUT], namers[TARGETS]
        written = self.indices

        def term(row: int, column: int):
            sample, j = divmod(column, outputs)
            if sample != row or (written and Y[row, j] == 0):
                return ZERO
            out = a(row, j)
            if written:
                return formula(f"-1/{out.unicode}", f"-1/{out.ascii}")
            target = y(row, j)
            return formula(f"-{target.unicode}/{out.unicode}", f"-{target.ascii}/{out.ascii}")

        return term

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


# The outputs a loss on logits refuses: they squash into probabilities, which such a loss does itself.
SQUASHING = ("sigmoid", "softmax")


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow for large |z|."""
    decay = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    """log softmax(z) of each row, without overflow: z − max − log Σ exp(z − max)."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class OnLogits:
    """What the losses taken on logits share: they take an output no activation squashed, collapse the
    activation's Jacobian into their own (no fused pair), and leave their symbolic form to sympy (the index
    pattern of the loss on probabilities does not apply)."""

    output_activations = ("identity",)
    fuses_with = None
    takes_probabilities = False

    def symbolic_pattern(self, role: str, namers, values):
        return None

    def accepts(self, op: Op) -> bool:
        return op.name not in SQUASHING


class BinaryCrossEntropyWithLogits(OnLogits, BinaryCrossEntropy):
    """Binary cross-entropy of σ(z), taken on the logits z: `l[i] = mean_j max(z, 0) − z·y + log(1 + e^(−|z|))`.

    That form never forms σ(z) or a logarithm of 0, so it needs no clamp, and its derivative is
    (σ(z) − y)/n: the sigmoid's Jacobian and the loss's have collapsed into one step.
    """

    name = "binary_cross_entropy_with_logits"
    title = "binary cross-entropy with logits"
    fused_formula = "(σ({A}) − Y){per}"
    shortcut_template = "{dL} ⊙ (σ({A}) − Y){mean}"
    collapses = ("sigmoid", "binary_cross_entropy")

    def torch_expression(self, names: Names) -> str:
        return (f"F.binary_cross_entropy_with_logits({names[INPUT]}, {names[TARGETS]}, reduction=\"none\")"
                ".mean(dim=1, keepdim=True)")

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return (np.maximum(A, 0.0) - A * Y + np.log1p(np.exp(-np.abs(A)))).mean(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return (_sigmoid(A) - Y) / A.shape[1]

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return self.derivative(A, Y)

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return BinaryCrossEntropy.loss_text(self, [written("σ({z})", z=z) for z in a], y)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        from ..symbolic import sigma

        return -sum((t * sympy.log(sigma(z)) + (1 - t) * sympy.log(1 - sigma(z)) for z, t in zip(a, y, strict=True)),
                    sympy.Integer(0)) / len(a)

    def loss_notes(self, A: np.ndarray, Y: np.ndarray, output: str, at: Places = AS_COMPUTED) -> tuple[str, ...]:
        return ()

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str, at: Places = AS_COMPUTED) -> tuple[str, ...]:
        return ()


class CrossEntropyWithLogits(OnLogits, CrossEntropy):
    """Cross-entropy of softmax(z), taken on the logits z: `l[i] = −Σ_j y log softmax(z)_j`, as `F.cross_entropy`.

    The log-softmax is computed as z − max − log Σ e^(z − max), so nothing overflows or underflows
    to log 0, and the derivative is softmax(z) − y for rows of y that sum to 1.
    """

    name = "cross_entropy_with_logits"
    title = "cross-entropy with logits"
    fused_formula = "(softmax({A}) − Y){per}"
    shortcut_template = "{dL} ⊙ (softmax({A}) − Y)"
    collapses = ("softmax", "cross_entropy")

    def torch_expression(self, names: Names) -> str:
        targets = f"{names[TARGETS]}[:, 0].long()" if self.indices else names[TARGETS]
        return f"F.cross_entropy({names[INPUT]}, {targets}, reduction=\"none\").unsqueeze(1)"

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return -(Y * _log_softmax(A)).sum(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        # d l / d z[k] = softmax(z)[k] Σ_j y[j] − y[k]: the row sums of Y need not be 1 for this to hold
        return np.exp(_log_softmax(A)) * Y.sum(axis=1, keepdims=True) - Y

    def fused_derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return np.exp(_log_softmax(A)) - Y

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        denominator = total([written("e^{z}", z=z) for z in a])
        return CrossEntropy.loss_text(self, [written("e^{z}/({total})", z=z, total=denominator) for z in a], y)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        total = sum((sympy.exp(z) for z in a), sympy.Integer(0))
        return -sum((t * sympy.log(sympy.exp(z) / total) for z, t in zip(a, y, strict=True)), sympy.Integer(0))

    def unrepresentable(self, A: np.ndarray, Y: np.ndarray, output: str) -> str | None:
        return None

    def derivative_notes(self, A: np.ndarray, Y: np.ndarray, output: str, at: Places = AS_COMPUTED) -> tuple[str, ...]:
        return ()


class HalfSquaredError(Loss):
    """`l[i] = ½ Σ_j (a − y)²`, the error E of many textbooks and of Mazur's example: its derivative is a − y."""

    name = "half_squared_error"
    title = "half squared error"
    shortcut_template = "{dL} ⊙ ({A} − Y)"
    averages_outputs = False

    def torch_expression(self, names: Names) -> str:
        return f"0.5 * (({names[INPUT]} - {names[TARGETS]}) ** 2).sum(dim=1, keepdim=True)"

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return 0.5 * ((A - Y) ** 2).sum(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return A - Y

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return total([written("({a} - {y})^2", a=p, y=t) for p, t in zip(a, y, strict=True)], divisor=2)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        return sum(((p - t) ** 2 for p, t in zip(a, y, strict=True)), sympy.Integer(0)) / 2


class L1(Loss):
    """`l[i] = mean_j |a − y|`, as `F.l1_loss`; where a = y its derivative is taken as 0, as PyTorch does."""

    name = "l1"
    title = "L1 loss"
    shortcut_template = "{dL} ⊙ sign({A} − Y){mean}"
    kink_where = "equals its target in Y (a − y = 0)"
    kink_function = "|a − y|"

    def torch_expression(self, names: Names) -> str:
        return f"F.l1_loss({names[INPUT]}, {names[TARGETS]}, reduction=\"none\").mean(dim=1, keepdim=True)"

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return np.abs(A - Y).mean(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return np.sign(A - Y) / A.shape[1]

    def kink_mask(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return A == Y

    def derivative_at_kink(self) -> tuple[float, float]:
        return 0.0, 1.0

    def kink_slip(self, places: str, names: Names) -> str:
        return (f"sign(0) = 1 taken for the derivative of |a − y|: {names[INPUT]} {self.kink_where} at {places}, "
                "where |a − y| has a kink; this walkthrough takes its derivative there as 0 (sign(0) = 0), as "
                "PyTorch does")

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        return total([written("|{a} - {y}|", a=p, y=t) for p, t in zip(a, y, strict=True)], divisor=len(a))

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        return sum((sympy.Abs(p - t) for p, t in zip(a, y, strict=True)), sympy.Integer(0)) / len(a)


class Huber(Loss):
    """`l[i] = mean_j h(a − y)` with `h(r) = ½r²` where |r| < δ and `δ(|r| − ½δ)` elsewhere, as `F.huber_loss`.

    Its derivative, r clipped to ±δ, is continuous: at |r| = δ both pieces give δ, so there is no kink.
    """

    name = "huber"
    title = "Huber loss"
    settings = {"delta": 1.0}
    shortcut_template = "{dL} ⊙ clip({A} − Y, −{delta}, {delta}){mean}"

    def torch_expression(self, names: Names) -> str:
        return (f"F.huber_loss({names[INPUT]}, {names[TARGETS]}, reduction=\"none\", delta={self.delta!r})"
                ".mean(dim=1, keepdim=True)")

    def loss_forward(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        r = np.abs(A - Y)
        return np.where(r < self.delta, 0.5 * r**2, self.delta * (r - 0.5 * self.delta)).mean(axis=1, keepdims=True)

    def derivative(self, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return np.clip(A - Y, -self.delta, self.delta) / A.shape[1]

    def loss_text(self, a: list[Term], y: list[Term]) -> Term:
        delta = number(float(self.delta))
        loss = total([written("h({a} - {y})", a=p, y=t) for p, t in zip(a, y, strict=True)], divisor=len(a))
        return written("{loss}, where h(r) = r^2/2 if |r| < {delta}, else {delta}·(|r| - {delta}/2)", loss=loss,
                       delta=delta)

    def symbolic_loss(self, a: list, y: list) -> "sympy.Expr":
        import sympy

        delta = sympy.Rational(repr(float(self.delta)))

        def h(r):
            return sympy.Piecewise((r**2 / 2, sympy.Abs(r) < delta), (delta * (sympy.Abs(r) - delta / 2), True))

        return sum((h(p - t) for p, t in zip(a, y, strict=True)), sympy.Integer(0)) / len(a)
