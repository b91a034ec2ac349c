"""Everything one walkthrough computes, and every quantity under its name from docs/quantities.md."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .chain import Step, Update, backpropagate, graph_nodes, sgd_update
from .network import ForwardPass
from .walkthrough import Walkthrough, WalkthroughError


@dataclass(frozen=True)
class Solution:
    """A walkthrough worked out: the forward pass, the backward steps and one SGD update."""

    walkthrough: Walkthrough
    forward: ForwardPass
    steps: tuple[Step, ...]
    updates: tuple[Update, ...]

    @property
    def layer_count(self) -> int:
        return len(self.walkthrough.network.layers)

    @cached_property
    def graph(self) -> list[str]:
        """The main path of the computational graph: `X`, `Z1`, `A1`, …, `L`, `J`."""
        return graph_nodes(self.walkthrough.network)

    def step(self, gradient: str) -> Step:
        """The step that computes `gradient` (e.g. `"dJ/dW2"`)."""
        for step in self.steps:
            if step.gradient == gradient:
                return step
        raise KeyError(gradient)

    @cached_property
    def quantities(self) -> dict:
        """Every named quantity, in the order of docs/quantities.md; `J` is a float, the rest 2-D arrays.

        `dJ/dL` is given as the gradient (`m × 1`); its `1 × m` Jacobian form is the seed step's
        `jacobian`.
        """
        forward = self.forward
        names: dict = {"X": forward.X, "Y": forward.Y}
        for k in range(1, self.layer_count + 1):
            names[f"Z{k}"] = forward.Z[k]
            names[f"A{k}"] = forward.A[k]
        names["L"] = forward.L
        names["J"] = forward.J
        for k, layer in enumerate(self.walkthrough.network.layers, start=1):
            names[f"W{k}"] = layer.W
            names[f"b{k}"] = layer.b
        for step in self.steps[1:]:
            names[step.jacobian_name] = step.jacobian
        for step in self.steps:
            names[step.gradient] = step.result
        for update in self.updates:
            names[update.name] = update.new
        return names


def solve(walkthrough: Walkthrough) -> Solution:
    """Run the forward pass, every backward step and one SGD step of `walkthrough`.

    Numbers too large for floating point are refused with a `WalkthroughError` that names the
    first quantity they reach, instead of walking on with infinities.
    """
    network = walkthrough.network
    with np.errstate(over="ignore", invalid="ignore"):
        forward = network.forward(walkthrough.X, walkthrough.Y)
        problem = network.loss.unrepresentable(forward.A[-1], forward.Y, f"A{len(network.layers)}")
        if problem:
            raise WalkthroughError(walkthrough.name, problem)
        steps = backpropagate(network, forward)
        updates = sgd_update(network, steps, walkthrough.learning_rate)
    solution = Solution(walkthrough=walkthrough, forward=forward, steps=tuple(steps), updates=tuple(updates))
    for name, value in solution.quantities.items():
        if not np.all(np.isfinite(value)):
            raise WalkthroughError(walkthrough.name, f"{name} overflows: its values are too large for floating "
                                                     "point; use smaller weights, inputs or learning rate")
    return solution
