"""Everything one walkthrough computes, and every quantity under its name (docs/quantities.md)."""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .chain import Shown, Step, Update, backpropagate, suffix, update_parameters
from .conventions import DEFAULT, Conventions, written
from .errors import suggestion
from .graph import COST, Graph
from .structured import Structured
from .walkthrough import Walkthrough, WalkthroughError

FINAL_COST = "J_final"


@dataclass(frozen=True, eq=False)  # by identity, as a chain.Step
class TrainingStep(Shown):
    """One round of training: the forward pass from the parameters of the step before, the backward steps,
    and the optimizer's update. `number` counts from 1; the quantities of step t ≥ 2 carry `@t`."""

    number: int
    values: dict
    steps: tuple[Step, ...]
    updates: tuple[Update, ...]

    @property
    def suffix(self) -> str:
        return suffix(self.number)

    @property
    def J(self) -> float:  # noqa: N802 (the article's name)
        return float(self.values[COST][0, 0])


@dataclass(frozen=True, eq=False, repr=False)  # by identity, with its own repr, as a chain.Step
class Solution:
    """A walkthrough worked out: every training step (forward pass, backward steps, update), and the values of
    the forward pass after the last update (`final_values`, whose cost is `J_final`).

    `values`, `steps` and `updates` are those of the first training step.

    Every quantity of every training step, and the final values, are written under `conventions`
    (conventions.py); `engine`, when they are not the default, is the same solution as computed (samples as
    rows, row-major vec, numerator layout), which the ops and the checker compute with.
    """

    walkthrough: Walkthrough
    training: tuple[TrainingStep, ...]
    final_values: dict
    conventions: Conventions = DEFAULT
    engine: "Solution | None" = None

    @property
    def computed(self) -> "Solution":
        """The solution as the engine computed it: samples as rows, row-major vec, numerator layout."""
        return self.engine or self

    @property
    def values(self) -> dict:
        return self.training[0].values

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.training[0].steps

    @property
    def updates(self) -> tuple[Update, ...]:
        return self.training[0].updates

    def at(self, number: int) -> "Solution":
        """The solution seen from training step `number`: its `values`, `steps` and `updates` are that step's."""
        return replace(self, training=self.training[number - 1:],
                       engine=None if self.engine is None else self.engine.at(number))

    @property
    def J_final(self) -> float:  # noqa: N802 (the name of the quantity)
        return float(self.final_values[COST][0, 0])

    @property
    def costs(self) -> list[float]:
        """The cost before each training step's update, then after the last: the points of the cost curve."""
        return [step.J for step in self.training] + [self.J_final]

    @property
    def graph(self) -> Graph:
        return self.walkthrough.graph

    @cached_property
    def writings(self) -> dict:
        """The writings of this solution's graph made so far, by their conventions (`conventions.writing` fills
        it): a page asks for one again and again, and each reads the shape of every value."""
        return {}

    @cached_property
    def namers(self) -> dict:
        """The namers of each node's roles made so far, by the node's output (`entries.role_namers` fills it): every
        backward step of a node names its entries, and a deep network's page asks for hundreds of them."""
        return {}

    @property
    def samples(self) -> int:
        return self.walkthrough.X.shape[0]

    @property
    def J(self) -> float:  # noqa: N802 (the article's name)
        return float(self.values[COST][0, 0])

    def step(self, gradient: str) -> Step:
        """The step that computes `gradient` (e.g. `"dJ/dW2"`); a `KeyError` names the closest one."""
        for step in self.steps:
            if step.gradient == gradient:
                return step
        names = [step.gradient for step in self.steps]
        raise KeyError(f"no step computes {gradient!r}{suggestion(gradient, names) or ''}; "
                       f"the steps: {', '.join(names)}")

    def __repr__(self) -> str:
        return (f"<Solution of {self.walkthrough.title!r}: J = {self.J:.6g}, {len(self.steps)} backward steps, "
                f"{len(self.quantities)} quantities>")

    def _repr_markdown_(self) -> str:
        """The whole walkthrough as Markdown, for notebooks."""
        from .render import markdown

        return markdown.render(self, self.walkthrough.decimals, symbolic=False)

    def _repr_html_(self) -> str:
        """The whole walkthrough as an HTML fragment for notebooks: its style scoped to it, its ids its own."""
        from .render import html

        return html.fragment(self, self.walkthrough.decimals, symbolic=False)

    @cached_property
    def quantities(self) -> dict:
        """Every named quantity: the data, the forward pass, the parameters, the local Jacobians, the
        gradients and the updated parameters. `J` is a float, the rest 2-D arrays.

        `dJ/dL` is given as the gradient (`m × 1`); its `1 × m` Jacobian form is the first step's `jacobian`.
        A local Jacobian of more than `structured.SMALL` entries is given as its `structured.Structured`
        (which `numpy.asarray` builds in full), so that listing the quantities builds no large matrix.
        """
        graph = self.graph
        names: dict = {name: self.values[name] for name in graph.data}
        for training in self.training:
            names.update(_training_quantities(graph, training))
        names[FINAL_COST] = self.J_final
        return names


def _training_quantities(graph: Graph, training: TrainingStep) -> dict:
    """The quantities of one training step, each name with the step's suffix: its forward pass (parameters only at
    the first step: later they are the updates before), local Jacobians, gradients, optimizer state and updates."""
    at = training.suffix
    names: dict = {name + at: training.values[name] for name in graph.computed}
    names[COST + at] = training.J
    if training.number == 1:
        names.update({name: training.values[name] for name in graph.parameters})
    for step in training.steps:
        if not step.from_cost and not step.is_sum:
            names[step.jacobian_name + at] = step.structure.kept()
    for step in training.steps:
        names[step.gradient + at] = step.result
    for update in training.updates:
        names.update({update.state_names()[state]: value for state, value in update.state.items()})
        names[update.name] = update.new
    return names


def _refuse_unrepresentable(walkthrough: Walkthrough, values: dict, where: str) -> None:
    """Refuse outputs whose loss cannot be written in floating point (a probability underflowed to 0), saying where."""
    graph = walkthrough.graph
    loss = graph.loss_node
    output = loss.roles["input"]
    problem = loss.op.unrepresentable(values[output], loss.op.targets_of(graph.role_values(loss, values)), output)
    if problem:
        raise WalkthroughError(walkthrough.name, problem + where)


def solve(walkthrough: Walkthrough) -> Solution:
    """Train `walkthrough` for its number of steps: each a forward pass, every backward step and one optimizer step;
    the solution is written under the walkthrough's conventions.

    Numbers too large for floating point are refused with a `WalkthroughError` that names the
    first quantity they reach, instead of walking on with infinities.
    """
    graph = walkthrough.graph
    given, states, training = dict(walkthrough.given), {}, []
    with np.errstate(over="ignore", invalid="ignore"):
        for number in range(1, walkthrough.steps + 1):
            values = graph.forward(given)
            _refuse_unrepresentable(walkthrough, values, "" if number == 1 else f" (training step {number})")
            steps = backpropagate(graph, values)
            gradients = {step.variable: step.result for step in steps}
            updates = update_parameters(graph, values, gradients, walkthrough.learning_rate, walkthrough.frozen,
                                        walkthrough.optimizer, number, states)
            training.append(TrainingStep(number, values, tuple(steps), tuple(updates)))
            states = {update.parameter: update.state for update in updates}
            given.update({update.parameter: update.new for update in updates})
        final_values = graph.forward(given)
        _refuse_unrepresentable(walkthrough, final_values, " (after the last update, for J_final)")
    computed = Solution(walkthrough=walkthrough, training=tuple(training), final_values=final_values)
    for name, value in computed.quantities.items():  # (`.all()`, not `np.all`: thousands of small arrays)
        if not (value.finite() if isinstance(value, Structured) else np.isfinite(value).all()):
            raise WalkthroughError(walkthrough.name, f"{name} overflows: its values are too large for floating "
                                                     "point; use smaller weights, inputs or learning rate")
    solution = written(computed)
    for record in solution.training:  # each record shows itself as written, in its own solution's pages
        for part in (record, *record.steps, *record.updates):
            part.own(solution)
    return solution
