"""The one description of a walkthrough's computational graph: nodes, the edges between them, and orders.

Everything that needs to know how variables connect — the forward pass, the engine, the symbolic
forms, the pages, the worksheet, `check` — asks this description instead of rebuilding names.
Variables are matrices with samples as rows; `X` and `Y` are data; parameters belong to the node
that owns them; every other variable is the output of exactly one node.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from math import prod

import numpy as np

from .ops import INPUT, OUTPUT, PENALTY, TARGETS, Activation, Dense, L2Penalty, Loss, MeanCost, Op, input_roles

COST, LOSS, PENALTY_NAME = "J", "L", "R"
INPUT_DATA, TARGET_DATA = "X", "Y"


# A graph's nodes are told apart by identity, as their ops are; not generating __eq__ and __hash__ shortens every
# start-up.
@dataclass(frozen=True, eq=False)
class Node:
    """One op applied to named variables: `roles` maps each of the op's roles to a variable name.

    `layer` is the number k of the `[[layers]]` entry (or the k-th node with parameters) the node
    belongs to, which names its parameters (`Wk`, `bk`); None for a node without one.
    """

    output: str
    op: Op
    roles: Mapping[str, str]
    layer: int | None = None

    @property
    def parameters(self) -> dict[str, str]:
        """The node's own parameters: role → name, in the op's order."""
        return {role: self.roles[role] for role in self.op.parameter_roles()}

    @property
    def input_count(self) -> int:
        return sum(role.startswith(INPUT) for role in self.roles)

    @property
    def differentiable(self) -> tuple[str, ...]:
        """The roles whose gradients flow back through this node, in the order of their steps."""
        return tuple(role for role in self.op.backward_roles(self.input_count) if role in self.roles)

    def names(self, upstream: str | None = None) -> dict[str, str]:
        """The names the op's sentences and formulas are written with."""
        return {**self.roles, OUTPUT: self.output, **({"upstream": upstream} if upstream else {})}


@dataclass(frozen=True, eq=False)  # by identity, as its node
class Edge:
    """A variable used by a node in one role: the chain rule crosses it with the Jacobian `dOut/dV`."""

    node: Node
    role: str

    @property
    def variable(self) -> str:
        return self.node.roles[self.role]

    @property
    def jacobian_name(self) -> str:
        return f"d{self.node.output}/d{self.variable}"


@dataclass(frozen=True, eq=False)  # by identity, as its nodes
class Graph:
    """The nodes in forward (topological) order, ending with the loss `L`, the penalty `R` if any, and the cost `J`."""

    nodes: tuple[Node, ...]
    data: tuple[str, ...] = (INPUT_DATA, TARGET_DATA)
    output: str = field(default="")

    @cached_property
    def producers(self) -> dict[str, Node]:
        return {node.output: node for node in self.nodes}

    @cached_property
    def owners(self) -> dict[str, Node]:
        """Each parameter's owning node, parameters in forward order."""
        return {name: node for node in self.nodes for name in node.parameters.values()}

    @cached_property
    def edges(self) -> tuple[Edge, ...]:
        """Every edge a gradient flows back through (none into the data), in forward order of the nodes."""
        return tuple(Edge(node, role) for node in self.nodes for role in node.differentiable
                     if node.roles[role] not in self.data)

    def consumers(self, variable: str) -> tuple[Edge, ...]:
        """The edges that use `variable`, in forward order: several for a fan-out."""
        return self._consumers.get(variable, ())

    @cached_property
    def _consumers(self) -> dict[str, tuple[Edge, ...]]:
        found: dict[str, list[Edge]] = {}
        for edge in self.edges:
            found.setdefault(edge.variable, []).append(edge)
        return {variable: tuple(edges) for variable, edges in found.items()}

    @cached_property
    def forward_order(self) -> tuple[str, ...]:
        """Every parameter and computed variable in the order the forward pass meets them (parameters first)."""
        order: list[str] = []
        for node in self.nodes:
            order += list(node.parameters.values()) + [node.output]
        return tuple(order)

    @cached_property
    def backward_order(self) -> tuple[str, ...]:
        """The variables whose gradients the backward pass computes, in the order it computes them."""
        return tuple(name for name in reversed(self.forward_order) if name != COST)

    @cached_property
    def main_path(self) -> tuple[str, ...]:
        """The variables the data flows through, in forward order: `X`, `Z1`, `A1`, …, `L`, `J`.

        A node whose inputs are all parameters (the L2 penalty) lies beside it, not on it.
        """
        return (self.data[0], *(node.output for node in self.nodes
                                if any(name not in self.owners for name in node.roles.values())))

    @cached_property
    def main_path_links(self) -> tuple[bool, ...]:
        """For each variable on the main path, whether its node takes the one before it as an input (false for
        `X`, and where the path passes from one branch of the graph to another)."""
        path = self.main_path
        return (False, *(path[i - 1] in self.producers[path[i]].roles.values() for i in range(1, len(path))))

    @cached_property
    def on_main_path(self) -> frozenset[str]:
        return frozenset(self.main_path)

    @cached_property
    def drawn(self) -> dict:
        """What pages work out from the graph alone, kept for the next page that asks (`story.breadcrumb` keeps the
        crumbs of the main path here: a deep network's path holds hundreds of nodes, and every page draws it)."""
        return {}

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.owners)

    @cached_property
    def images(self) -> dict[str, tuple[int, ...]]:
        """The picture shape (channels, height, width) or (channels, length) of every variable whose rows are
        images or sequences, as the image ops declare them and the ops after them keep them."""
        found: dict[str, tuple[int, ...]] = {}
        for node in self.nodes:
            image = found.get(node.roles.get(INPUT, ""))
            if node.op.needs_image:
                image = found[node.roles[INPUT]] = node.op.in_shape
            produced = node.op.output_image(image)
            if produced:
                found[node.output] = produced
        return found

    @cached_property
    def layouts(self) -> dict[str, tuple[int, ...]]:
        """The natural shape of every parameter kept as unrolled rows (a kernel out × in × k × k)."""
        return {name: layout for name, node in self.owners.items()
                for role, owned in node.parameters.items() if owned == name
                for layout in [node.op.parameter_layout(role)] if layout is not None}

    @property
    def computed(self) -> tuple[str, ...]:
        """The outputs of the nodes, in forward order."""
        return tuple(node.output for node in self.nodes)

    @property
    def loss_node(self) -> Node:
        return self.producers[LOSS]

    @property
    def cost_node(self) -> Node:
        return self.producers[COST]

    def shapes(self, given: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """Every variable's shape from the shapes of the data and parameters, before anything is computed."""
        shapes = dict(given)
        for node in self.nodes:
            shapes[node.output] = node.op.output_shape({role: shapes[name] for role, name in node.roles.items()})
        return shapes

    def jacobian_shapes(self, shapes: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """The shape of every local Jacobian, by name."""
        return {edge.jacobian_name: (prod(shapes[edge.node.output]), prod(shapes[edge.variable]))
                for edge in self.edges}

    def forward(self, given: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The forward pass: every node's output from the data and parameters in `given`."""
        values = dict(given)
        for node in self.nodes:
            values[node.output] = node.op.forward(self.role_values(node, values))
        return values

    @staticmethod
    def role_values(node: Node, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The values of a node's roles (and its output, once computed)."""
        found = {role: values[name] for role, name in node.roles.items()}
        if node.output in values:
            found[OUTPUT] = values[node.output]
        return found


def closing_nodes(output: str, loss: Loss, l2: float, weights: tuple[str, ...], reduction: str = "mean") -> list[Node]:
    """The loss of `output` against `Y`, the L2 penalty over `weights` when `l2` > 0, and the cost (the
    `reduction` of the losses, mean or sum)."""
    nodes = []
    if l2 > 0:
        nodes.append(Node(PENALTY_NAME, L2Penalty(l2=l2), dict(zip(input_roles(len(weights)), weights, strict=True))))
    nodes.append(Node(LOSS, loss, {INPUT: output, TARGETS: TARGET_DATA}))
    cost_roles = {INPUT: LOSS, **({PENALTY: PENALTY_NAME} if l2 > 0 else {})}
    nodes.append(Node(COST, MeanCost(penalty=l2 > 0, reduction=reduction), cost_roles))
    return nodes


def chain(units: list[int], activations: list[Activation], loss: Loss, l2: float = 0.0,
          bias: tuple[bool, ...] | None = None, reduction: str = "mean") -> Graph:
    """The graph of `[[layers]]`: for each layer k, `Zk = A(k−1) · Wkᵀ + bk` then `Ak = f(Zk)`, with `A0 = X`."""
    nodes, previous = [], INPUT_DATA
    for k, activation in enumerate(activations, start=1):
        with_bias = True if bias is None else bias[k - 1]
        roles = {INPUT: previous, "W": f"W{k}", **({"b": f"b{k}"} if with_bias else {})}
        nodes.append(Node(f"Z{k}", Dense(units[k - 1], bias=with_bias), roles, layer=k))
        nodes.append(Node(f"A{k}", activation, {INPUT: f"Z{k}"}, layer=k))
        previous = f"A{k}"
    weights = tuple(f"W{k}" for k in range(1, len(activations) + 1))
    return Graph(tuple(nodes + closing_nodes(previous, loss, l2, weights, reduction)), output=previous)
