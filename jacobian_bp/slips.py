"""The catalogue of common slips in a hand calculation, each one small function that names a wrong answer.

A slip of the whole matrix (registered with `@slip`) looks at an `Attempt` and returns a sentence
when the answer is what that slip would have produced, right entries and wrong ones; a slip of one
entry (registered with `@entry_slip`) looks at a single wrong number and the value it should have been. Adding a slip is
adding one function here. Only wrong answers are ever shown to the catalogue, so a correct answer
is never diagnosed.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations

import numpy as np

from .chain import Step, Update, gradient_name
from .graph import COST, Graph
from .numbers import format_number
from .ops import OUTPUT
from .vec import devec, vec

Values = Mapping[str, np.ndarray]


def within(answer, reference, decimals: int, rounding=0.0):
    """Whether `answer` is within one unit of the last decimal of `reference` (entry by entry), plus `rounding`
    (what the rounding of the numbers `reference` was computed from can move it by, entry by entry).

    The bound of every verdict and every slip: a hand calculation rounds its intermediates, so a
    value one unit off in the last place is still right. A hair of slack absorbs binary floating point.

    >>> bool(within(0.5501, 0.550129, 4)), bool(within(0.3173, 0.317457, 4)), bool(within(0.5, 0.5001, 4))
    (True, False, True)
    """
    reference = np.asarray(reference, dtype=float)
    magnitude = np.minimum(np.abs(reference), 1e12)  # an infinite reference must not make any answer right
    slack = 1e-9 * 10.0**-decimals + 8 * np.finfo(float).eps * np.maximum(1.0, magnitude)
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf, or two huge numbers of opposite sign
        return np.abs(np.asarray(answer, dtype=float) - reference) <= 10.0**-decimals + slack + rounding


@dataclass(frozen=True)
class Attempt:
    """A wrong answer to one quantity, with everything a slip may look at or recompute.

    `answer` is as the student gave it (`NaN` where unanswered), in whatever shape. `values` holds
    two hand calculations: the exact one, then the student's own (their answers where given, exact
    elsewhere). `rederive(label, replaced)` gives this quantity recomputed, in each of the two, with
    some quantities replaced by what a slip would have made of them; `label` names the replacement
    so that a recomputed calculation is shared. `sgd(values, learning_rate, frozen=None)` is the
    engine's update by the walkthrough's optimizer (with the walkthrough's frozen parameters unless
    `frozen` names others), by update name. `optimize(values, update, state=None, optimizer=None)` is one
    parameter's optimizer step (new value and state) from another previous state or another optimizer.
    Names are those of the answer's own training step: `Z1` for `Z1@2`.
    `graph` is the walkthrough's graph, which the slips ask instead of knowing ops by name.
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
    graph: Graph
    values: tuple[Values, Values]
    rederive: Callable[[str, dict], list[np.ndarray]]
    sgd: Callable[..., dict[str, np.ndarray]]
    state_of: Update | None = None  # for the optimizer's state of a parameter: the update it belongs to
    optimize: Callable[..., tuple[np.ndarray, dict]] | None = None
    rounding: np.ndarray | float = 0.0  # how far the rounding of the student's parents can move `own`

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
            right |= within(self.answer, self.own, self.decimals, self.rounding)
        return answered & ~right

    def explains(self, candidate: np.ndarray) -> bool:
        """Whether the whole answer is what `candidate` holds, wrong entries and right ones alike (so the slip
        that made the candidate explains the answer, not a coincidence in a few of its entries)."""
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape != self.answer.shape or not self.wrong.any():
            return False
        answered = ~np.isnan(self.answer)
        return bool(within(self.answer[answered], candidate[answered], self.decimals).all())

    def any_explains(self, candidates) -> bool:
        return any(self.explains(candidate) for candidate in candidates)


SLIPS: list[Callable[[Attempt], str | None]] = []
ENTRY_SLIPS: list[Callable[[float, float, int], str | None]] = []


def slip(function: Callable[[Attempt], str | None]):
    """Register a slip of the whole matrix."""
    SLIPS.append(function)
    return function


def entry_slip(function: Callable[[float, float, int], str | None] | None = None, alone: bool = False):
    """Register a slip of one entry: `(value, reference, decimals)` → a sentence or `None`. A slip `alone` is named
    only when it is the one wrong entry of the answer (a slip of the pen is one entry, not four of a permutation)."""
    def register(function):
        function.alone = alone
        ENTRY_SLIPS.append(function)
        return function

    return register(function) if function else register


def diagnose(attempt: Attempt) -> str | None:
    """The first slip of the whole matrix that explains the attempt, else every wrong entry a slip explains."""
    for whole in SLIPS:
        reason = whole(attempt)
        if reason:
            return reason
    if attempt.answer.shape != attempt.expected.shape:
        return None
    reasons = []
    positions = list(zip(*np.nonzero(attempt.wrong), strict=True))
    singles = [single for single in ENTRY_SLIPS if len(positions) == 1 or not single.alone]
    for position in positions:
        value = float(attempt.answer[position])
        meant = [float(reference[position]) for reference in attempt.references if np.isfinite(reference[position])]
        reason = next((reason for reference in meant for single in singles
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
def not_folded_back(attempt: Attempt) -> str | None:
    """The gradient left as the flat row `vec(upstream) · J`, not folded back into the variable's shape."""
    rows, columns = attempt.expected.shape
    if rows == 1 or attempt.answer.shape != (1, rows * columns):
        return None
    if attempt.any_explains(vec(reference) for reference in attempt.references):
        return (f"not folded back: this is the flat 1 × {rows * columns} row vec({attempt.name}); de-vectorize it "
                f"into {attempt.name}'s shape {rows} × {columns}, row by row")
    return None


@slip
def column_major(attempt: Attempt) -> str | None:
    """vec or de-vec taken column by column instead of row by row (row-major, as in PyTorch)."""
    step = attempt.step
    if step is None or step.from_cost or step.is_sum:
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


def _broadcast_over_samples(step: Step) -> bool:
    """Whether the step's variable is one row added to every sample's row (a bias): its Jacobian is then an
    identity per sample, stacked, and its gradient the column sums of the upstream gradient."""
    if step.op is None or step.from_cost:
        return False
    rows, width = step.result.shape
    samples = step.upstream_row.size // width if rows == 1 and width else 0
    return samples > 1 and np.array_equal(step.jacobian, np.tile(np.eye(width), (samples, 1)))


def _per_sample(step: Step, values: Values) -> np.ndarray | None:
    """The samples' own contributions to the gradient of a one-row parameter (row i: sample i's rows of the upstream
    gradient times the Jacobian), whose sum is the gradient; None where the step's gradient is not such a sum."""
    if step.op is None or step.from_cost or step.is_sum or step.result.shape[0] != 1:
        return None
    upstream = values[step.upstream]
    samples = upstream.shape[0]
    if samples < 2 or step.upstream_row.size != upstream.size:
        return None
    blocks = values[step.jacobian_name].reshape(samples, upstream.shape[1], step.result.shape[1])
    return np.einsum("ik,ikn->in", upstream, blocks)


@slip
def not_summed_over_the_batch(attempt: Attempt) -> str | None:
    """The gradient of a one-row parameter (a bias, batch norm's γ and β) left as one row per sample (or one
    sample's row) instead of summed over the batch."""
    step = attempt.step
    if step is None or attempt.name != step.gradient:
        return None
    bias = _broadcast_over_samples(step)
    for values in attempt.values:
        per_sample = _per_sample(step, values)
        if per_sample is None:
            return None
        what = (f"this is {step.upstream} itself" if bias else
                f"these are the {per_sample.shape[0]} samples' own contributions, one row each")
        advice = (f"{step.gradient} adds up the rows of {step.upstream}, one per sample (column sums)" if bias else
                  f"{step.gradient} adds them up: each sample's row of {step.upstream} times its block of "
                  f"{step.jacobian_name}, summed over the samples")
        kind = "bias gradient" if bias else f"{step.gradient}"
        if attempt.explains(per_sample):
            return f"{kind} not summed over the batch: {what}; {advice}"
        for i, row in enumerate(per_sample, start=1):
            if attempt.explains(row[np.newaxis]):
                part = "row" if bias else "part"
                return f"{kind} not summed over the batch: this is only sample {i}'s {part}; {advice}"
    return None


MAX_PATHS = 6  # beyond this many paths into one variable, only single paths and all-but-one are tried


def _partial_sums(contributions: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The ways to add some but not all of the contributions: one alone first, then larger ones."""
    sizes = range(1, len(contributions)) if len(contributions) <= MAX_PATHS else (1, len(contributions) - 1)
    for size in sizes:
        yield from combinations(contributions, size)


@slip
def missed_path(attempt: Attempt) -> str | None:
    """A gradient through a fan-out that adds only some of its paths (or follows from one that does)."""
    paths = {step.gradient: step.path for step in attempt.steps if step.path}
    for step in attempt.steps:
        if not step.is_sum:
            continue
        for kept in _partial_sums(step.contributions):
            if attempt.name == step.gradient:
                candidates = [np.sum([values[name] for name in kept], axis=0) for values in attempt.values]
            else:
                partial = np.sum([attempt.values[0][name] for name in kept], axis=0)
                candidates = attempt.rederive(f"paths {' + '.join(kept)}", {step.gradient: partial})
            if attempt.any_explains(candidates):
                missing = [paths[name] for name in step.contributions if name not in kept]
                which = "the path" if len(missing) == 1 else "the paths"
                where = "this is" if attempt.name == step.gradient else f"this follows from {step.gradient} as"
                return (f"missed {which} via {' and '.join(missing)}: {where} {' + '.join(kept)} alone; "
                        f"{step.variable} reaches J along {len(step.contributions)} paths, and {step.gradient} "
                        f"adds them all: {' + '.join(step.contributions)}")
    return None


@slip
def op_slip_of_this_step(attempt: Attempt) -> str | None:
    """A slip the op of the answer's own step names in its Jacobian, before the slips that act on every gradient:
    where both explain the answer (dropout's forgotten 1/(1 − p) is a factor 2 at p = 0.5, as 1/m taken twice is
    with 2 samples), the step the answer is about is the likelier place of the slip."""
    return _op_slip_of_step(attempt, attempt.step) if attempt.step is not None else None


@slip
def one_over_m(attempt: Attempt) -> str | None:
    """The mean's 1/m forgotten, or taken twice."""
    m = attempt.samples
    if m == 1:
        return None
    losses = attempt.graph.loss_node.output
    if attempt.name == COST:
        # J = mean(L), plus a penalty R under L2 regularization: only the mean's part is scaled.
        means = [values[losses].mean() for values in attempt.values]
        references = list(zip(attempt.references, means, strict=False))
        if attempt.any_explains(reference + (m - 1) * mean for reference, mean in references):
            return f"missing 1/m: this is the sum of the losses; J is their mean, the sum divided by m = {m}"
        if attempt.any_explains(reference - mean + mean / m for reference, mean in references):
            return f"1/m taken twice: this is the mean of the losses divided by m = {m} once more"
        return None
    seed = next(step.gradient for step in attempt.steps if step.from_cost and step.variable == losses)
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
    """The other convention for the derivative at a kink (e.g. relu'(0) = 1, or the last of tied maxima of a max
    pool), from the Kink records and the op's own Jacobian under that convention."""
    kinked = [step for step in attempt.steps if step.kinks]
    trials = [[step] for step in kinked] + ([kinked] if len(kinked) > 1 else [])
    graph = attempt.graph
    for steps in trials:
        replaced = {step.jacobian_name: step.op.other_jacobian(
            step.role, graph.role_values(graph.producers[step.node], attempt.values[0])) for step in steps}
        if attempt.any_explains(attempt.rederive("kinks " + " ".join(replaced), replaced)):
            return "; ".join(_kink_sentence(graph, step, attempt.decimals) for step in steps)
    return None


def _kink_sentence(graph: Graph, step: Step, decimals: int) -> str:
    name = step.op.title
    kink = step.kinks[0]
    places = ", ".join(f"row {i + 1}, column {j + 1}" for i, j in (k.position for k in step.kinks))
    own = step.op.kink_slip(places, graph.producers[step.node].names(step.upstream))
    if own:
        return own
    return (f"{name}'(0) = {format_number(kink.other_derivative, decimals)}: {step.variable} is exactly 0 at "
            f"{places}, the kink of {name}; this walkthrough takes {name}'(0) = "
            f"{format_number(kink.derivative, decimals)}, as PyTorch does")


def _parameters_read(graph: Graph, step: Step) -> dict[str, str]:
    """The parameters (role → name) the step's local Jacobian is built from, e.g. W3 in dZ3/dA2."""
    if step.op is None or step.from_cost:
        return {}
    node = graph.producers[step.node]
    return {role: node.roles[role] for role in step.op.jacobian_reads(step.role)
            if role != OUTPUT and node.roles[role] in graph.owners}


def _jacobian_with(graph: Graph, step: Step, values: Values, replaced: Mapping[str, np.ndarray]) -> np.ndarray:
    """The step's local Jacobian built by its op from `values`, with some roles' values replaced."""
    node = graph.producers[step.node]
    roles = {role: values[name] for role, name in node.roles.items()}
    return step.op.jacobian(step.role, {**roles, OUTPUT: values[node.output], **replaced})


@slip
def updated_weights_in_backward_pass(attempt: Attempt) -> str | None:
    """Updated parameters in a local Jacobian that reads them (W3_updated in dZ3/dA2), as if each node were
    updated as soon as its gradients were known."""
    graph, exact = attempt.graph, attempt.values[0]
    updated = {update.parameter: update for update in attempt.updates if not update.frozen}
    crossings = [(step, {role: updated[name] for role, name in _parameters_read(graph, step).items()
                         if name in updated}) for step in attempt.steps]
    crossings = [(step, used) for step, used in crossings if used]
    trials = [[crossing] for crossing in crossings] + ([crossings] if len(crossings) > 1 else [])
    for trial in trials:
        replaced = {step.jacobian_name: _jacobian_with(graph, step, exact, {role: update.new
                                                                             for role, update in used.items()})
                    for step, used in trial}
        if attempt.any_explains(attempt.rederive("updated " + " ".join(replaced), replaced)):
            named = ", ".join(f"{update.name} in {step.jacobian_name}" for step, used in trial
                              for update in used.values())
            return (f"updated weights used in the backward pass: this follows from {named}; every gradient "
                    "uses the weights of the forward pass, and the update comes after the backward pass")
    return None


def _op_slip_of_step(attempt: Attempt, step: Step) -> str | None:
    """The slip the step's op names in its local Jacobian that explains the attempt, if one does."""
    if step.op is None or step.is_sum or step.from_cost:
        return None
    graph = attempt.graph
    node = graph.producers[step.node]
    for sentence, wrong in step.op.slips(step.role, graph.role_values(node, attempt.values[0]),
                                         node.names(step.upstream)):
        if attempt.any_explains(attempt.rederive(f"{step.jacobian_name}: {sentence}", {step.jacobian_name: wrong})):
            return sentence
    return None


@slip
def op_slip(attempt: Attempt) -> str | None:
    """A slip an op names itself: its output or a Jacobian built the way students commonly get it wrong (a
    kernel not turned by 180° in dJ/dIn, a max pool's gradient spread over its window, batch norm without its
    mean and variance paths), in this quantity or in one it follows from."""
    graph, exact = attempt.graph, attempt.values[0]
    for node in graph.nodes:
        for sentence, wrong in node.op.forward_slips(graph.role_values(node, exact), node.names()):
            if attempt.any_explains(attempt.rederive(f"{node.output}: {sentence}", {node.output: wrong})):
                return sentence
    return next((sentence for step in attempt.steps if (sentence := _op_slip_of_step(attempt, step))), None)


@slip
def update_with_wrong_sign(attempt: Attempt) -> str | None:
    """The gradient added instead of subtracted."""
    update = attempt.update
    if update is None:
        return None
    if attempt.any_explains(attempt.sgd(values, -update.learning_rate)[attempt.name] for values in attempt.values):
        gradient = gradient_name(update.parameter)
        return (f"update with the wrong sign: this adds {update.learning_rate:g} · {gradient}; "
                "gradient descent subtracts it, to go downhill")
    return None


@slip
def update_without_learning_rate(attempt: Attempt) -> str | None:
    """The whole gradient subtracted, not scaled by the learning rate."""
    update = attempt.update
    if update is None or update.learning_rate == 1:
        return None
    if attempt.any_explains(attempt.sgd(values, 1.0)[attempt.name] for values in attempt.values):
        gradient = gradient_name(update.parameter)
        return (f"update without the learning rate: this subtracts {gradient} itself; "
                f"SGD subtracts {update.learning_rate:g} · {gradient}")
    return None


def _optimizer_trials(update: Update) -> list[tuple[str, dict | None, object]]:
    """The optimizer slips to try on one parameter's update or state: its state started afresh (when there was one
    to carry over), then each slip the optimizer itself names."""
    trials: list[tuple[str, dict | None, object]] = []
    if update.previous_state:
        trials.append(("optimizer state not carried over: this starts afresh, as at the first step; "
                       f"{update.optimizer.title} keeps each parameter's state from one training step to the next",
                       {}, None))
    return trials + [(sentence, None, variant) for sentence, variant in update.optimizer.slips()]


@slip
def optimizer_state_slips(attempt: Attempt) -> str | None:
    """The optimizer's state not carried over from the step before, and the optimizer's own common slips (Adam
    without bias correction, momentum applied to the gradient), on a state or on the updated parameter."""
    update = attempt.update or attempt.state_of
    if update is None or update.frozen or attempt.optimize is None:
        return None
    state = next((state for state, name in update.state_names().items()
                  if name.removesuffix(update.suffix) == attempt.name), None)

    def pick(result: tuple) -> np.ndarray:
        return result[0] if state is None else result[1][state]

    for sentence, previous, optimizer in _optimizer_trials(update):
        if attempt.any_explains(pick(attempt.optimize(values, update, previous, optimizer))
                                for values in attempt.values):
            return sentence
    return None


@slip
def frozen_parameter_updated(attempt: Attempt) -> str | None:
    """A frozen parameter updated all the same."""
    update = attempt.update
    if update is None or not update.frozen:
        return None
    if attempt.any_explains(attempt.sgd(values, update.learning_rate, ())[attempt.name] for values in attempt.values):
        return (f"{update.parameter} is frozen: the update leaves it as it is, so {update.name} = "
                f"{update.parameter}, however large {gradient_name(update.parameter)}")
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


@entry_slip(alone=True)
def digit_slip(value: float, reference: float, decimals: int) -> str | None:
    """Two adjacent digits swapped, a digit dropped or moved, or the decimal point moved."""
    written, meant = _fixed_digits(value, decimals), _fixed_digits(reference, decimals)
    if written is None or meant is None:
        return None  # a zero is a missing answer's stand-in; past a double's digits a slip is float noise
    for kind, variant in _digit_variants(meant):
        if variant != meant and f"{float(variant):.{decimals}f}" == written:
            return (f"digit slip: {format_number(value, decimals)} looks like {format_number(reference, decimals)} "
                    f"with {kind}")
    # The written number may come from a value that rounds the other way (a carried-forward one): undo each slip
    # on what was written, and accept a repaired number that is the reference rounded (within half a unit).
    as_written = written.rstrip("0").rstrip(".")  # digits as written, never an exponent
    for kind, repaired in _digit_repairs(as_written):
        if repaired != as_written and len(repaired.partition(".")[2]) <= decimals \
                and abs(float(repaired) - reference) <= 0.5 * 10.0**-decimals * (1 + 1e-9):
            return f"digit slip: {as_written} looks like {repaired} with {kind}"
    return None


SLIP_DIGITS = 17  # the digits a double holds: past them a number's written digits are float noise


def _fixed_digits(value: float, decimals: int) -> str | None:
    """`value` written with `decimals` places and no exponent, as a slip of the pen is looked for in it; None
    for a number that rounds to zero (a stand-in more often than a slip) or has more digits than a double holds.

    >>> _fixed_digits(-4.2381e9, 4), _fixed_digits(0.00001, 4), _fixed_digits(1e300, 4)
    ('-4238100000.0000', None, None)
    """
    written = f"{value:.{decimals}f}"
    digits = written.lstrip("-").replace(".", "")
    if len(digits) > SLIP_DIGITS or not digits.strip("0"):
        return None
    return written


def _digit_repairs(text: str) -> Iterator[tuple[str, str]]:
    """Every number `text` may have been before a slip of the pen, each with the slip: a swap, a move or the
    decimal point undone, or a dropped digit put back."""
    for kind, variant in _digit_variants(text):
        if kind != "a digit dropped":
            yield kind, variant
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-")
    point = body.find(".") if "." in body else len(body)
    digits = body.replace(".", "")
    for i in range(len(digits) + 1):
        for digit in "0123456789":
            longer = digits[:i] + digit + digits[i:]
            for new_point in {point + (i < point), point + (i <= point)}:
                if 0 < new_point <= len(longer):
                    yield "a digit dropped", sign + longer[:new_point] + (
                        "." + longer[new_point:] if new_point < len(longer) else "")


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
