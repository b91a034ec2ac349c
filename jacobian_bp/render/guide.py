"""The reading guide, the first section of every walkthrough: what a student needs before the first backward step.

The network, the loss and the cost written out with the targets `Y` as symbols (their values beside),
what `vec` does to a matrix (its entries numbered in the order it reads them), the shape rule of a
local Jacobian and what the upstream row is, all in this walkthrough's own names and shapes.
"""

import numpy as np

from ..entries import Namer, Term
from ..sentences import Sentence, math, say
from ..vec import vec
from . import story
from .layout import GAP, Equation, Expression, Group, Numbers, Prose, Section, anchor

TITLE = "How to read this walkthrough"
# The small matrix whose entries are numbered in the order vec reads them.
READING_ORDER = np.arange(1.0, 7.0).reshape(2, 3)


def guide(solution, decimals: int, symbolic: bool = True) -> Section:
    """The reading guide as a section of blocks, printed first in every form; without `symbolic` (which skips
    sympy) the loss and the cost are said in words only."""
    title = say(TITLE)
    loss = _loss_and_cost(solution, decimals) if symbolic else [Prose(story.loss_formula(solution))]
    blocks = [*_network(solution), *loss, *_vec(solution, decimals),
              Prose(_shape_rule(solution)), Prose(_upstream_row(solution))]
    return Section("guide", title, anchor(TITLE), tuple(blocks))


def _network(solution) -> list:
    """One line per layer (or node): its formulas side by side."""
    lines = []
    for _, _, outputs in story.forward_groups(solution):
        parts: list = []
        for node in (solution.graph.producers[output] for output in outputs):
            parts += ([GAP] if parts else []) + [f"{node.output} = {node.op.expression(node.names())}"]
        lines.append(Equation((tuple(parts),)))
    return [Prose(say("The network, with one sample per row of ", math(solution.graph.data[0]), ":")),
            Group(tuple(lines))]


def loss_equations(solution) -> tuple[Expression, Expression]:
    """Sample 1's loss, `l₁ = …` with its outputs `a₁ⱼ` and targets `y₁ⱼ` as symbols, and the cost `J = …`: written by
    the ops without sympy, which only LaTeX and MathML call on (for the same equations)."""
    graph = solution.graph
    loss, cost = graph.loss_node, graph.cost_node
    outputs = solution.values[loss.roles["input"]].shape[1]
    a, y = (Namer(letter, 0) for letter in "ay")
    losses = Namer("l", 0, single_index=True)
    penalty = next((name for name in cost.roles.values() if name != loss.output), None)
    return (Expression(losses(0, 0), loss.op.loss_text([a(0, j) for j in range(outputs)],
                                                        [y(0, j) for j in range(outputs)]),
                       lambda: _symbolic_loss(solution)),
            Expression(Term(cost.output, cost.output),
                       cost.op.cost_text([losses(i, 0) for i in range(solution.samples)],
                                         Term(penalty, penalty) if penalty else None),
                       lambda: _symbolic_cost(solution)))


def _symbolic_loss(solution) -> tuple:
    """Sample 1's loss in sympy, as `loss_equations` writes it."""
    from .. import symbolic

    loss = solution.graph.loss_node
    outputs = solution.values[loss.roles["input"]].shape[1]
    a, y = symbolic.symbols("a", 0, (1, outputs)), symbolic.symbols("y", 0, (1, outputs))
    losses = symbolic.symbols("l", 0, (solution.samples, 1), single_index=True)
    return losses[0, 0], loss.op.symbolic_loss(list(a.row(0)), list(y.row(0)))


def _symbolic_cost(solution) -> tuple:
    """The cost in sympy, as `loss_equations` writes it."""
    from .. import symbolic

    cost = solution.graph.cost_node
    losses = symbolic.symbols("l", 0, (solution.samples, 1), single_index=True)
    symbols = {role: losses if name == solution.graph.loss_node.output else _matrix(symbolic.whole(name))
               for role, name in cost.roles.items()}
    return symbolic.whole(cost.output), cost.op.entry_equation(0, symbols)


def _matrix(symbol):
    import sympy

    return sympy.Matrix([[symbol]])


def _loss_and_cost(solution, decimals: int) -> list:
    graph = solution.graph
    output, targets = graph.loss_node.roles["input"], graph.loss_node.roles["targets"]
    loss, cost = loss_equations(solution)
    return [Prose(story.loss_formula(solution)),
            Prose(say("Written out for sample 1: its outputs, row 1 of ", math(output), ", and its targets, row 1 of ",
                      math(targets), ", kept as symbols (the values of ", math(targets), " are beside):")),
            Group((Equation(((loss, GAP, f"{targets} =", Numbers(solution.values[targets], decimals)),)),
                   Equation(((cost,),))))]


def _vec(solution, decimals: int) -> list:
    """What vec does: a 2 × 3 matrix numbered in reading order, and the walkthrough's first weights."""
    graph = solution.graph
    example = (graph.parameters or graph.data)[0]
    value = solution.values[example]
    return [Prose(say(math("vec"), " lays a matrix out as one row, reading it row by row (row-major, as PyTorch "
                      "stores it). The entries of a 2 × 3 matrix ", math("M"), ", numbered in the order ", math("vec"),
                      " reads them:")),
            Group((Equation((("M =", Numbers(READING_ORDER, 0), GAP, "vec(M) =", Numbers(vec(READING_ORDER), 0)),)),
                   Equation(((f"{example} =", Numbers(value, decimals), GAP, f"vec({example}) =",
                              Numbers(vec(value), decimals)),))))]


def _example_step(solution):
    """The step whose Jacobian best shows the shape rule: the largest one of a parameter (whose shape differs
    from its node's output), else the largest one."""
    steps = [step for step in solution.steps if not step.is_sum and not step.from_cost]
    owners = solution.graph.owners
    return max(steps, key=lambda step: (step.variable in owners, step.structure.size)) if steps else solution.steps[0]


def _shape(value) -> str:
    rows, columns = np.atleast_2d(value).shape
    return f"{rows} × {columns}"


def _shape_rule(solution) -> Sentence:
    step = _example_step(solution)
    values = solution.values
    return say("A local Jacobian ", math("∂vec(F)/∂vec(V)"), " has one row per entry of the node's output ",
               math("F"), " and one column per entry of ", math("V"), ", the variable the gradient is taken with "
               "respect to: an ", math("F"), " of shape p × q and a ", math("V"), " of shape r × s give a ",
               math("pq × rs"), " matrix. For example, ", math(story.jacobian_label(step)), " is ",
               math("{} × {}".format(*step.structure.shape)), ": ", math(step.node), " is ",
               math(_shape(values[step.node])), " and ",
               math(step.variable), " is ", math(_shape(values[step.variable])), ".")


def _upstream_row(solution) -> Sentence:
    first = solution.steps[0]
    return say("Every backward step multiplies the upstream row by a local Jacobian: ",
               math("vec(dJ/dV) = vec(dJ/dF) · ∂vec(F)/∂vec(V)"), ". The upstream row ", math("vec(dJ/dF)"),
               " is the gradient of ", math("J"), " with respect to the node's output ", math("F"), ", computed "
               "by an earlier step and laid out by ", math("vec"), "; the product, folded back row by row into the "
               "shape of ", math("V"), ", is ", math("dJ/dV"), ". The first step starts from ", math("dJ/dJ = 1"),
               " and uses the local Jacobian of the mean cost, ", math(story.jacobian_label(first)),
               ", which gives each of the m losses the weight 1/m.")
