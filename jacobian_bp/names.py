"""The name of every quantity of a walkthrough, read off its graph without solving it (docs/quantities.md)."""

import numpy as np

from .chain import gradient_name, sgd_update, suffix
from .graph import COST
from .optimizers import state_name
from .solution import FINAL_COST
from .walkthrough import Walkthrough

GROUPS = ("forward", "jacobians", "gradients", "update")  # what a worksheet asks for, group by group


def quantity_names(walkthrough: Walkthrough) -> list[str]:
    """The name of every quantity of `walkthrough`, without solving it, in the order of `Solution.quantities`.

    The names depend only on the graph, not on its sizes: they are read off the graph description,
    with the engine's own order of steps and updates, and nothing is allocated.

    >>> from jacobian_bp import load, solve
    >>> quantity_names(load("article")) == list(solve(load("article")).quantities)
    True
    """
    graph = walkthrough.graph
    jacobians, gradients = [], []
    for variable in graph.backward_order:  # as the engine walks it: one step per edge, a sum after a fan-out
        edges = graph.consumers(variable)
        fan_out = len(edges) > 1
        for edge in edges:
            if edge.node.output != COST:  # a step from dJ/dJ = 1: its Jacobian is its gradient
                jacobians.append(edge.jacobian_name)
            gradients.append(gradient_name(variable, edge.node.output if fan_out else None))
        if fan_out:
            gradients.append(gradient_name(variable))
    names = list(graph.data)
    for number in range(1, walkthrough.steps + 1):
        at = suffix(number)
        names += [name + at for name in [*graph.computed, *(graph.parameters if number == 1 else ()),
                                         *jacobians, *gradients]]
        for update in sgd_update(graph, _Placeholders(), _Placeholders(), 0.0):
            if update.parameter not in walkthrough.frozen:
                names += [state_name(state, update.parameter, at) for state in walkthrough.optimizer.state_names]
            names.append(update.name + at)
    return list(dict.fromkeys(names + [FINAL_COST]))


def kernel_shapes(walkthrough: Walkthrough) -> dict[str, tuple[int, ...]]:
    """The quantities kept as unrolled rows but written in their natural shape, by name: every kernel
    (out × in × k (× k)) and, at every training step, its gradients (along each path too), its optimizer
    state and its update. Answer files, worksheets and JSON write them as nested lists."""
    graph = walkthrough.graph
    found = dict(graph.layouts)
    updates = {update.parameter: update.name for update in sgd_update(graph, _Placeholders(), _Placeholders(), 0.0)}
    for parameter, shape in graph.layouts.items():
        names = [gradient_name(parameter), updates[parameter],
                 *(gradient_name(parameter, edge.node.output) for edge in graph.consumers(parameter))]
        if parameter not in walkthrough.frozen:
            names += [state_name(state, parameter) for state in walkthrough.optimizer.state_names]
        for number in range(1, walkthrough.steps + 1):
            found.update({name + suffix(number): shape for name in names})
    return found


class _Placeholders(dict):
    """A 1 × 1 zero for any name: enough for the engine to name its updates without any real value."""

    def __missing__(self, name: str) -> np.ndarray:
        return np.zeros((1, 1))
