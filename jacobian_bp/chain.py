"""The engine: walks the graph backwards, one full Jacobian per step, then one optimizer step.

Every backward step multiplies the upstream gradient, as a row-major row, by the full local
Jacobian of one edge and folds the product back into the shape of the variable. A variable that
feeds several nodes gets one such step per consumer (`dJ/dA1 via S2`) and then a sum step: the
chain rule adds over paths. Each step also records the framework shortcut for the same gradient,
so that anyone can see that the two agree.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .graph import COST, Edge, Graph
from .ops import INPUT, Loss, Op
from .optimizers import SGD, Optimizer, state_name
from .sentences import Sentence, math, say
from .structured import Dense, Structured
from .vec import devec, vec


@dataclass(frozen=True)
class Kink:
    """An entry of a variable exactly at an op's kink, where the derivative is a convention.

    `position` is (row, column) counted from 0. `value` is the entry of the gradient under the
    convention in force; `other_value` is what it would be under the other common convention.
    """

    position: tuple[int, int]
    derivative: float
    other_derivative: float
    value: float
    other_value: float


class Shown:
    """A part of a solution that a notebook shows as its own pages of the walkthrough (Markdown or HTML, by the
    renderers of the whole walkthrough). `solve` sets `owner`, the solution it belongs to; a record made outside
    `solve` has none and shows its `repr`."""

    owner = None

    def own(self, solution) -> None:
        object.__setattr__(self, "owner", solution)  # the record is frozen; its owner is made after it

    def _repr_markdown_(self) -> str | None:
        if self.owner is None:
            return None
        from .render.notebook import as_markdown

        return as_markdown(self, self.owner)

    def _repr_html_(self) -> str | None:
        if self.owner is None:
            return None
        from .render.notebook import as_html

        return as_html(self, self.owner)


# Compared by identity: == of its arrays has no single truth value. Not generating __eq__, __hash__ and __repr__
# (it writes its own) shortens every start-up.
@dataclass(frozen=True, eq=False, repr=False)
class Step(Shown):
    """One application of the chain rule: `gradient = upstream · jacobian`, de-vectorized.

    `number` 0 is the first step, from `dJ/dJ = 1`. `section` is the step's heading: a node's
    parameters share one, and so do the contributions of a fan-out and their sum. `node` is the
    output of the node whose local Jacobian is used, `op` and `role` say which Jacobian it is, and
    `variable` is the quantity the gradient is taken with respect to. A sum step (`contributions`
    not empty) has no Jacobian: it adds the gradients named in `contributions`. In a solution written under
    other conventions (conventions.py) every matrix is as written: `upstream_row` and `product_row` are then
    columns in the denominator layout.

    `structure` is the local Jacobian as the op gives it (`structured.Structured`); `jacobian` is its
    full matrix, built on first use, which for a real-sized layer can take gigabytes.
    """

    number: int
    section: int
    node: str
    variable: str
    gradient: str
    upstream: str
    jacobian_name: str
    op: Op | None
    role: str
    upstream_row: np.ndarray
    structure: Structured
    product_row: np.ndarray
    result: np.ndarray
    shortcut: np.ndarray
    shortcut_formula: Sentence  # a formula, perhaps with words ("column sums of dJ/dZ3")
    kinks: tuple[Kink, ...] = field(default=())
    fused: np.ndarray | None = None
    fused_formula: str = ""
    notes: tuple[Sentence, ...] = ()  # where a clamp of PyTorch's acts or an output saturates, in the op's words
    contributions: tuple[str, ...] = ()
    path: str = ""  # for a contribution, the node it comes through
    paths: tuple[str, ...] = ()  # for a sum step, the nodes of its contributions

    def __repr__(self) -> str:
        how = " + ".join(self.contributions) if self.is_sum else f"{self.upstream} · {self.jacobian_name}"
        return f"<Step {self.number}: {self.gradient} = {how}, shape {self.result.shape[0]} × {self.result.shape[1]}>"

    @property
    def jacobian(self) -> np.ndarray:
        """The local Jacobian as a full matrix (built on first use)."""
        return self.structure.dense()

    @property
    def from_cost(self) -> bool:
        """Whether the step starts the backward pass from `dJ/dJ = 1`."""
        return self.node == COST

    @property
    def is_sum(self) -> bool:
        return bool(self.contributions)


def suffix(training_step: int) -> str:
    """The suffix of the quantities of a training step: none for the first, `@2` for the second, …"""
    return "" if training_step == 1 else f"@{training_step}"


@dataclass(frozen=True, eq=False)  # by identity, as a Step
class Update(Shown):
    """One optimizer step on one parameter at training step `training_step` (from 1).

    `old` is the parameter before it, `new` after it (equal when `frozen`); `state` is what the
    optimizer keeps for the parameter after this step (the momentum buffer, Adam's moments) and
    `previous_state` what it kept before (empty at the first step).
    """

    parameter: str
    old: np.ndarray
    gradient: np.ndarray
    new: np.ndarray
    learning_rate: float
    frozen: bool = False
    optimizer: Optimizer = field(default_factory=SGD)
    training_step: int = 1
    state: Mapping[str, np.ndarray] = field(default_factory=dict)
    previous_state: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def suffix(self) -> str:
        return suffix(self.training_step)

    @property
    def name(self) -> str:
        return f"{self.parameter}_updated{self.suffix}"

    @property
    def old_name(self) -> str:
        """The parameter as it stands before this step: `W1`, or `W1_updated@2` before the third step."""
        if self.training_step == 1:
            return self.parameter
        return f"{self.parameter}_updated{suffix(self.training_step - 1)}"

    @property
    def gradient_name(self) -> str:
        return gradient_name(self.parameter) + self.suffix

    def state_names(self) -> dict[str, str]:
        """Each state of this step by its quantity name: `velocity` → `velocity_W1@2`."""
        return {state: state_name(state, self.parameter, self.suffix) for state in self.state}

    def previous_state_names(self) -> dict[str, str]:
        before = suffix(self.training_step - 1)
        return {state: state_name(state, self.parameter, before) for state in self.previous_state}


def chain_rule(upstream: np.ndarray, jacobian: "np.ndarray | Structured", shape: tuple[int, int]) -> np.ndarray:
    """The chain rule as the article does it: `devec(vec(upstream) · jacobian)` in the variable's shape.

    A small Jacobian is multiplied as the full matrix it is written as; a larger structured one
    through its structure, which gives the same row without building the matrix.
    """
    row = vec(upstream)
    if isinstance(jacobian, Structured):
        return devec(row @ jacobian.dense() if jacobian.small else jacobian.left_multiply(row), shape)
    return devec(row @ jacobian, shape)


def gradient_name(variable: str, path: str | None = None) -> str:
    """`dJ/dA1`, or `dJ/dA1 via S2` for the part that flows through node S2."""
    return f"dJ/d{variable}" + (f" via {path}" if path else "")


def _kinks(op: Op, role: str, values: Mapping[str, np.ndarray], upstream: np.ndarray,
           result: np.ndarray) -> tuple[Kink, ...]:
    """Every entry of the role's variable that sits exactly on a kink of the op."""
    mask = op.kinks(role, values)
    if mask is None or not mask.any():
        return ()
    in_force, other = op.kink_derivatives(role, values)
    other_result = chain_rule(upstream, op.other_jacobian(role, values), result.shape)
    return tuple(Kink(position=(int(i), int(j)), derivative=float(in_force[i, j]),
                      other_derivative=float(other[i, j]), value=float(result[i, j]),
                      other_value=float(other_result[i, j]))
                 for i, j in np.argwhere(mask))


class _Engine:
    """The backward pass over one graph and its values; `steps` fills in as it goes."""

    def __init__(self, graph: Graph, values: Mapping[str, np.ndarray]):
        self.graph, self.values = graph, values
        self.gradients: dict[str, np.ndarray] = {COST: np.ones((1, 1))}
        self.steps: list[Step] = []
        self.section, self.section_key = 0, None

    def run(self) -> list[Step]:
        for variable in self.graph.backward_order:
            edges = self.graph.consumers(variable)
            self.open_section(variable)
            paths = len(edges) > 1
            contributions = [self.edge_step(edge, via=paths) for edge in edges]
            if paths:
                self.sum_step(variable, contributions)
            self.gradients[variable] = self.steps[-1].result
        return self.steps

    def open_section(self, variable: str) -> None:
        """A node's parameters share a heading; every other variable gets its own."""
        owner = self.graph.owners.get(variable)
        key = ("parameters of", owner.output) if owner else variable
        if key != self.section_key:
            self.section, self.section_key = self.section + 1, key

    def edge_step(self, edge: Edge, via: bool) -> Step:
        node, op, role = edge.node, edge.node.op, edge.role
        values = self.graph.role_values(node, self.values)
        upstream = self.gradients[node.output]
        upstream_name = gradient_name(node.output)
        jacobian = op.structured_jacobian(role, values)
        result = chain_rule(upstream, jacobian, values[role].shape)
        shortcut = op.shortcut(role, upstream, values)
        names = node.names(upstream_name)
        shapes = {name: value.shape for name, value in values.items()}
        fused, fused_formula = self.fused(node)
        step = Step(
            number=len(self.steps), section=self.section, node=node.output, variable=edge.variable,
            gradient=gradient_name(edge.variable, node.output if via else None), upstream=upstream_name,
            jacobian_name=edge.jacobian_name, op=op, role=role, upstream_row=vec(upstream), structure=jacobian,
            product_row=vec(result), result=result, shortcut=shortcut,
            shortcut_formula=op.shortcut_formula(role, names, shapes),
            kinks=_kinks(op, role, values, upstream, result), fused=fused, fused_formula=fused_formula,
            notes=op.notes(role, values, names), path=node.output if via else "")
        self.steps.append(step)
        return step

    def fused(self, node) -> tuple[np.ndarray | None, str]:
        """Where this step's Jacobians collapse into one simple formula, that simpler gradient and the formula.

        That is where a node's output goes straight into a loss that fuses with it (softmax and
        cross-entropy), and at a loss on logits itself, which holds its own sigmoid or softmax.
        """
        consumers = self.graph.consumers(node.output)
        if isinstance(node.op, Loss) and node.op.fuses_alone():
            loss_node = node
        elif len(consumers) == 1 and isinstance(consumers[0].node.op, Loss) and consumers[0].node.op.fuses(node.op):
            loss_node = consumers[0].node
        else:
            return None, ""
        loss = loss_node.op
        loss_values = self.graph.role_values(loss_node, self.values)
        fused = loss.fused_gradient(self.gradients[loss_node.output], loss_values)
        outputs = loss_values[INPUT].shape[1] if loss.averages_outputs else 1
        per = self.graph.cost_node.op.per_sample_share(outputs)
        return fused, loss.fused_formula.format(A=loss_node.roles[INPUT], per=per)

    def sum_step(self, variable: str, contributions: list[Step]) -> None:
        total = np.sum([step.result for step in contributions], axis=0)
        names = tuple(step.gradient for step in contributions)
        self.steps.append(Step(
            number=len(self.steps), section=self.section, node=variable, variable=variable,
            gradient=gradient_name(variable), upstream="", jacobian_name="", op=None, role="",
            upstream_row=np.zeros((1, 0)), structure=Dense(np.zeros((0, 0))), product_row=vec(total), result=total,
            shortcut=total, shortcut_formula=say(math(" + ".join(names))), contributions=names,
            paths=tuple(step.path for step in contributions)))


def backpropagate(graph: Graph, values: Mapping[str, np.ndarray]) -> list[Step]:
    """Every backward step, in reverse topological order: for the chain of dense layers, the article's order."""
    return _Engine(graph, values).run()


def update_parameters(graph: Graph, values: Mapping[str, np.ndarray], gradients: Mapping[str, np.ndarray],
                      learning_rate: float, frozen: tuple[str, ...] = (), optimizer: Optimizer | None = None,
                      training_step: int = 1, states: Mapping[str, Mapping[str, np.ndarray]] | None = None
                      ) -> list[Update]:
    """One optimizer step (SGD unless said) on every parameter, in forward order, each node's in the order of its
    steps (b before W). `states` holds each parameter's optimizer state from the step before; a frozen parameter
    is left as it is and keeps no state, as if it were not given to the optimizer."""
    optimizer = optimizer or SGD()
    states = states or {}
    updates = []
    for node in graph.nodes:
        for role in node.differentiable:
            parameter = node.parameters.get(role)
            if parameter is None:
                continue
            old, gradient = values[parameter], gradients[parameter]
            previous = states.get(parameter, {})
            if parameter in frozen:
                new, state = old.copy(), {}
            else:
                new, state = optimizer.step(training_step, old, gradient, previous, learning_rate)
            updates.append(Update(parameter=parameter, old=old, gradient=gradient, new=new,
                                  learning_rate=learning_rate, frozen=parameter in frozen, optimizer=optimizer,
                                  training_step=training_step, state=state, previous_state=previous))
    return updates


def sgd_update(graph: Graph, values: Mapping[str, np.ndarray], gradients: Mapping[str, np.ndarray],
               learning_rate: float, frozen: tuple[str, ...] = ()) -> list[Update]:
    """One plain SGD step on every parameter (see `update_parameters`)."""
    return update_parameters(graph, values, gradients, learning_rate, frozen)


__all__ = ["Kink", "Step", "Update", "backpropagate", "chain_rule", "gradient_name", "sgd_update", "suffix",
           "update_parameters"]
