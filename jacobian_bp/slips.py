"""The catalogue of common slips in a hand calculation, each one small function that names a wrong answer.

A slip of the whole matrix (registered with `@slip`) looks at an `Attempt` and returns a sentence
when every wrong entry is what that slip would have produced; a slip of one entry (registered with
`@entry_slip`) looks at a single wrong number and the value it should have been. Adding a slip is
adding one function here. Only wrong answers are ever shown to the catalogue, so a correct answer
is never diagnosed.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .chain import Step, Update
from .nodes import ACTIVATIONS, Dense
from .numbers import format_number
from .vec import devec, vec

Values = Mapping[str, np.ndarray]


def within(answer, reference, decimals: int):
    """Whether `answer` is within one unit of the last decimal of `reference` (entry by entry).

    The bound of every verdict and every slip: a hand calculation rounds its intermediates, so a
    value one unit off in the last place is still right. A hair of slack absorbs binary floating point.

    >>> bool(within(0.5501, 0.550129, 4)), bool(within(0.3173, 0.317457, 4)), bool(within(0.5, 0.5001, 4))
    (True, False, True)
    """
    reference = np.asarray(reference, dtype=float)
    magnitude = np.minimum(np.abs(reference), 1e12)  # an infinite reference must not make any answer right
    slack = 1e-9 * 10.0**-decimals + 8 * np.finfo(float).eps * np.maximum(1.0, magnitude)
    with np.errstate(invalid="ignore"):
        return np.abs(np.asarray(answer, dtype=float) - reference) <= 10.0**-decimals + slack


@dataclass(frozen=True)
class Attempt:
    """A wrong answer to one quantity, with everything a slip may look at or recompute.

    `answer` is as the student gave it (`NaN` where unanswered), in whatever shape. `values` holds
    two hand calculations: the exact one, then the student's own (their answers where given, exact
    elsewhere). `rederive(label, replaced)` gives this quantity recomputed, in each of the two, with
    some quantities replaced by what a slip would have made of them; `label` names the replacement
    so that a recomputed calculation is shared. `sgd(values, learning_rate)` is the engine's update.
    """

    name: str
    answer: np.ndarray
    expected: np.ndarray
    own: np.ndarray | None
    decimals: int
    samples: int
    step: Step | None
    update: Update | None
    steps: tuple[Step, ...]
    updates: tuple[Update, ...]
    activations: Mapping[int, str]
    values: tuple[Values, Values]
    rederive: Callable[[str, dict], list[np.ndarray]]
    sgd: Callable[[Values, float], dict[str, np.ndarray]]

    @property
    def references(self) -> list[np.ndarray]:
        """What the answer should have been: the exact value, then the one from the student's own values."""
        return [self.expected] + ([self.own] if self.own is not None else [])

    @cached_property
    def wrong(self) -> np.ndarray:
        """The entries that are neither correct nor carried forward."""
        answered = ~np.isnan(self.answer)
        if self.answer.shape != self.expected.shape:
            return answered
        right = within(self.answer, self.expected, self.decimals)
        if self.own is not None:
            right |= within(self.answer, self.own, self.decimals)
        return answered & ~right

    def explains(self, candidate: np.ndarray) -> bool:
        """Whether every wrong entry is what `candidate` holds (so the slip that made it explains them)."""
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape != self.answer.shape or not self.wrong.any():
            return False
        return bool(within(self.answer[self.wrong], candidate[self.wrong], self.decimals).all())

    def any_explains(self, candidates) -> bool:
        return any(self.explains(candidate) for candidate in candidates)


SLIPS: list[Callable[[Attempt], str | None]] = []
ENTRY_SLIPS: list[Callable[[float, float, int], str | None]] = []


def slip(function: Callable[[Attempt], str | None]):
    """Register a slip of the whole matrix."""
    SLIPS.append(function)
    return function


def entry_slip(function: Callable[[float, float, int], str | None]):
    """Register a slip of one entry: `(value, reference, decimals)` → a sentence or `None`."""
    ENTRY_SLIPS.append(function)
    return function


def diagnose(attempt: Attempt) -> str | None:
    """The first slip of the whole matrix that explains the attempt, else every wrong entry a slip explains."""
    for whole in SLIPS:
        reason = whole(attempt)
        if reason:
            return reason
    if attempt.answer.shape != attempt.expected.shape:
        return None
    reasons = []
    for position in zip(*np.nonzero(attempt.wrong), strict=True):
        value = float(attempt.answer[position])
        meant = [float(reference[position]) for reference in attempt.references if np.isfinite(reference[position])]
        reason = next((reason for reference in meant for single in ENTRY_SLIPS
                       if (reason := single(value, reference, attempt.decimals))), None)
        if reason:
            reasons.append(f"{_where(position, attempt.answer.shape)}{reason}")
    return "; ".join(reasons) or None


def _where(position, shape) -> str:
    return "" if shape == (1, 1) else f"row {position[0] + 1}, column {position[1] + 1}: "


@slip
def transposed(attempt: Attempt) -> str | None:
    """The matrix written with rows and columns exchanged."""
    if attempt.any_explains(reference.T for reference in attempt.references):
        return f"transposed: your answer is the transpose of {attempt.name}"
    return None


def _column_order(shape: tuple[int, int]) -> np.ndarray:
    """The row-major positions of a matrix's entries, read column by column."""
    return np.arange(shape[0] * shape[1]).reshape(shape).T.ravel()


@slip
def column_major(attempt: Attempt) -> str | None:
    """vec or de-vec taken column by column instead of row by row (row-major, as in PyTorch)."""
    step = attempt.step
    if step is None or step.kind == "cost":
        return None
    if attempt.name == step.gradient:
        shape = step.result.shape
        for values in attempt.values:
            upstream, jacobian = values[step.upstream], values[step.jacobian_name]
            row, column_row = vec(upstream) @ jacobian, vec(upstream.T) @ jacobian
            if attempt.explains(devec(row, shape[::-1]).T):
                return (f"column-major de-vec: the row was folded into {step.variable}'s shape column by column; "
                        "de-vectorize row by row, as vec flattens")
            if attempt.any_explains([devec(column_row, shape), devec(column_row, shape[::-1]).T]):
                return (f"column-major vec: {step.upstream} was flattened column by column; "
                        "vec lays the rows one after another (row-major)")
        return None
    function_order = _column_order(attempt.values[0][step.node].shape)
    variable_order = _column_order(step.result.shape)
    for reference in attempt.references:
        candidates = {f"its rows follow {step.node}": reference[function_order],
                      f"its columns follow {step.variable}": reference[:, variable_order],
                      f"its rows and columns follow {step.node} and {step.variable}":
                          reference[function_order][:, variable_order]}
        for order, candidate in candidates.items():
            if attempt.explains(candidate):
                return (f"column-major vec: {order} column by column; vec is row-major, one row of the "
                        "matrix after another")
    return None


@slip
def bias_not_summed(attempt: Attempt) -> str | None:
    """The bias gradient left as one row per sample (or one sample's row) instead of summed over the batch."""
    step = attempt.step
    if step is None or step.kind != "dense_bias" or attempt.name != step.gradient:
        return None
    advice = f"dJ/db{step.layer} adds up the rows of {step.upstream}, one per sample (column sums)"
    for values in attempt.values:
        per_sample = values[step.upstream]
        if attempt.explains(per_sample):
            return f"bias gradient not summed over the batch: this is {step.upstream} itself; {advice}"
        for i, row in enumerate(per_sample, start=1):
            if attempt.explains(row[np.newaxis]):
                return f"bias gradient not summed over the batch: this is only sample {i}'s row; {advice}"
    return None


@slip
def one_over_m(attempt: Attempt) -> str | None:
    """The mean's 1/m forgotten, or taken twice."""
    m = attempt.samples
    if m == 1:
        return None
    if attempt.name == "J":
        if attempt.any_explains(reference * m for reference in attempt.references):
            return f"missing 1/m: this is the sum of the losses; J is their mean, the sum divided by m = {m}"
        if attempt.any_explains(reference / m for reference in attempt.references):
            return f"1/m taken twice: this is the mean of the losses divided by m = {m} once more"
        return None
    seed = attempt.steps[0].gradient
    exact_seed = attempt.values[0][seed]
    if attempt.any_explains(attempt.rederive("1/m missing", {seed: exact_seed * m})):
        return (f"missing 1/m: as if dJ/dL were 1 for each sample, m = {m} times too large; J is the mean of "
                f"the {m} losses, so dJ/dL = 1/{m}")
    if attempt.any_explains(attempt.rederive("1/m twice", {seed: exact_seed / m})):
        return (f"1/m taken twice: as if dJ/dL were 1/{m * m}, m = {m} times too small; dJ/dL = 1/{m} already "
                "holds the mean's 1/m")
    return None


@slip
def kink_convention(attempt: Attempt) -> str | None:
    """The other convention for the derivative at an activation's kink (e.g. relu'(0) = 1), from the Kink records.

    Kinks belong to activations applied entry by entry, so the convention sits on the Jacobian's diagonal.
    """
    kinked = [step for step in attempt.steps if step.kinks]
    trials = [[step] for step in kinked] + ([kinked] if len(kinked) > 1 else [])
    for steps in trials:
        replaced = {}
        for step in steps:
            jacobian = step.jacobian.copy()
            for kink in step.kinks:
                index = np.ravel_multi_index(kink.position, step.result.shape)
                jacobian[index, index] = kink.other_derivative
            replaced[step.jacobian_name] = jacobian
        if attempt.any_explains(attempt.rederive("kinks " + " ".join(replaced), replaced)):
            return "; ".join(_kink_sentence(step, attempt.activations[step.layer], attempt.decimals)
                             for step in steps)
    return None


def _kink_sentence(step: Step, activation: str, decimals: int) -> str:
    name = ACTIVATIONS[activation].title
    kink = step.kinks[0]
    places = ", ".join(f"row {i + 1}, column {j + 1}" for i, j in (k.position for k in step.kinks))
    return (f"{name}'(0) = {format_number(kink.other_derivative, decimals)}: Z{step.layer} is exactly 0 at {places}, "
            f"the kink of {name}; this walkthrough takes {name}'(0) = {format_number(kink.derivative, decimals)}, "
            "as PyTorch does")


@slip
def updated_weights_in_backward_pass(attempt: Attempt) -> str | None:
    """Updated weights in dZk/dA(k−1), as if each layer were updated as soon as its gradients were known."""
    crossings = [step for step in attempt.steps if step.kind == "dense_input"]
    updated = {update.parameter: update.new for update in attempt.updates}
    trials = [[step] for step in crossings] + ([crossings] if len(crossings) > 1 else [])
    for steps in trials:
        replaced = {step.jacobian_name: Dense.jacobian_wrt_input(updated[f"W{step.layer}"], attempt.samples)
                    for step in steps}
        if attempt.any_explains(attempt.rederive("updated " + " ".join(replaced), replaced)):
            used = ", ".join(f"W{step.layer}_updated in {step.jacobian_name}" for step in steps)
            return (f"updated weights used in the backward pass: this follows from {used}; every gradient "
                    "uses the weights of the forward pass, and the update comes after the backward pass")
    return None


@slip
def update_with_wrong_sign(attempt: Attempt) -> str | None:
    """The gradient added instead of subtracted."""
    update = attempt.update
    if update is None:
        return None
    if attempt.any_explains(attempt.sgd(values, -update.learning_rate)[attempt.name] for values in attempt.values):
        return (f"update with the wrong sign: this adds {update.learning_rate:g} · dJ/d{update.parameter}; "
                "gradient descent subtracts it, to go downhill")
    return None


@slip
def update_without_learning_rate(attempt: Attempt) -> str | None:
    """The whole gradient subtracted, not scaled by the learning rate."""
    update = attempt.update
    if update is None or update.learning_rate == 1:
        return None
    if attempt.any_explains(attempt.sgd(values, 1.0)[attempt.name] for values in attempt.values):
        return (f"update without the learning rate: this subtracts dJ/d{update.parameter} itself; "
                f"SGD subtracts {update.learning_rate:g} · dJ/d{update.parameter}")
    return None


@entry_slip
def flipped_sign(value: float, reference: float, decimals: int) -> str | None:
    """The right number with the wrong sign."""
    if not within(reference, 0.0, decimals) and within(value, -reference, decimals):
        return f"flipped sign: {format_number(value, decimals)} for {format_number(reference, decimals)}"
    return None


@entry_slip
def rounded_too_early(value: float, reference: float, decimals: int) -> str | None:
    """The right number rounded to fewer decimals than the answer file asks for: as many as were written."""
    if value == 0:
        return None  # as for digit slips: a zero is more often a stand-in than a rounding
    written = format_number(value, decimals)
    places = len(written.partition(".")[2])
    if places < decimals and float(format_number(reference, places)) == float(written):
        return (f"rounded too early: {written} is {format_number(reference, decimals)} rounded to {places} "
                f"decimal{'s' * (places != 1)}; this answer file asks for {decimals}")
    return None


@entry_slip
def digit_slip(value: float, reference: float, decimals: int) -> str | None:
    """Two adjacent digits swapped, a digit dropped or moved, or the decimal point moved."""
    if value == 0:
        return None  # a zero is a missing answer's stand-in more often than a slip of the pen
    written = f"{value:.{decimals}f}"
    meant = f"{reference:.{decimals}f}"
    for kind, variant in _digit_variants(meant):
        if variant != meant and f"{float(variant):.{decimals}f}" == written:
            return (f"digit slip: {format_number(value, decimals)} looks like {format_number(reference, decimals)} "
                    f"with {kind}")
    return None


def _digit_variants(text: str) -> Iterator[tuple[str, str]]:
    """Every number a slip of the pen makes of `text` (e.g. "-1.0001"), each with what happened to it."""
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-")
    point = body.find(".") if "." in body else len(body)
    digits = body.replace(".", "")

    def compose(new_digits: str, new_point: int) -> str | None:
        if not new_digits or not 0 <= new_point <= len(new_digits):
            return None
        return sign + new_digits[:new_point] + ("." + new_digits[new_point:] if new_point < len(new_digits) else "")

    candidates = []
    for i in range(len(digits) - 1):
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
        candidates.append(("two adjacent digits swapped", compose(swapped, point)))
    for i in range(len(digits)):
        candidates.append(("a digit dropped", compose(digits[:i] + digits[i + 1:], point - (i < point))))
    for i in range(len(digits)):
        rest = digits[:i] + digits[i + 1:]
        for j in range(len(digits)):
            candidates.append(("a digit moved", compose(rest[:j] + digits[i] + rest[j:], point)))
    for new_point in range(len(digits) + 1):
        if new_point != point:
            candidates.append(("the decimal point moved", compose(digits, new_point)))
    return ((kind, variant) for kind, variant in candidates if variant and variant.strip("-."))
