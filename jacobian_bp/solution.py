"""Everything one walkthrough computes, and every quantity under its name (docs/quantities.md)."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .chain import Step, Update, backpropagate, sgd_update
from .errors import suggestion
from .graph import COST, Graph
from .structured import Structured
from .walkthrough import Walkthrough, WalkthroughError


@dataclass(frozen=True)
class Solution:
    """A walkthrough worked out: every value of the forward pass, the backward steps and one SGD update."""

    walkthrough: Walkthrough
    values: dict
    steps: tuple[Step, ...]
    updates: tuple[Update, ...]

    @property
    def graph(self) -> Graph:
        return self.walkthrough.graph

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
        """The whole walkthrough as an HTML page, for notebooks."""
        from .render import html

        return html.render(self, self.walkthrough.decimals, symbolic=False)

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
        names.update({name: self.values[name] for name in graph.computed})
        names[COST] = self.J
        names.update({name: self.values[name] for name in graph.parameters})
        for step in self.steps:
            if not step.from_cost and not step.is_sum:
                names[step.jacobian_name] = step.jacobian if step.structure.small else step.structure
        for step in self.steps:
            names[step.gradient] = step.result
        for update in self.updates:
            names[update.name] = update.new
        return names


def natural_shapes(solution: Solution) -> dict[str, tuple[int, ...]]:
    """The quantities kept as unrolled rows but written in their natural shape (a kernel, its gradients and its
    update as out × in × k × k), by name."""
    layouts = solution.graph.layouts
    found = {name: layouts[name] for name in layouts}
    found.update({step.gradient: layouts[step.variable] for step in solution.steps if step.variable in layouts})
    found.update({update.name: layouts[update.parameter] for update in solution.updates
                  if update.parameter in layouts})
    return found


def solve(walkthrough: Walkthrough) -> Solution:
    """Run the forward pass, every backward step and one SGD step of `walkthrough`.

    Numbers too large for floating point are refused with a `WalkthroughError` that names the
    first quantity they reach, instead of walking on with infinities.
    """
    graph = walkthrough.graph
    with np.errstate(over="ignore", invalid="ignore"):
        values = graph.forward(walkthrough.given)
        loss = graph.loss_node
        problem = loss.op.unrepresentable(values[loss.roles["input"]], values[loss.roles["targets"]],
                                          loss.roles["input"])
        if problem:
            raise WalkthroughError(walkthrough.name, problem)
        steps = backpropagate(graph, values)
        gradients = {step.variable: step.result for step in steps}
        updates = sgd_update(graph, values, gradients, walkthrough.learning_rate, walkthrough.frozen)
    solution = Solution(walkthrough=walkthrough, values=values, steps=tuple(steps), updates=tuple(updates))
    for name, value in solution.quantities.items():
        if not (value.finite() if isinstance(value, Structured) else np.all(np.isfinite(value))):
            raise WalkthroughError(walkthrough.name, f"{name} overflows: its values are too large for floating "
                                                     "point; use smaller weights, inputs or learning rate")
    return solution
