"""The reading guide, the first section of every walkthrough: what a student needs before the first backward step.

The network, the loss and the cost written out with the targets `Y` as symbols (their values beside),
what `vec` does to a matrix (its entries numbered in the order it reads them), the shape rule of a
local Jacobian and what the upstream row is, all in this walkthrough's own names and shapes, and written in
its conventions (samples as columns, column-major vec, the denominator layout: conventions.py).
"""

import numpy as np

from ..entries import Namer, Term
from ..sentences import Sentence, math, say
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
    conventions = solution.conventions
    lines = []
    for _, _, outputs in story.forward_groups(solution):
        parts: list = []
        for node in (solution.graph.producers[output] for output in outputs):
            parts += ([GAP] if parts else []) + [f"{node.output} = {conventions.expression(node)}"]
        lines.append(Equation((tuple(parts),)))
    return [Prose(say(f"The network, with one sample per {conventions.sample_line} of ",
                      math(solution.graph.data[0]), ":")),
            Group(tuple(lines))]


def loss_equations(solution) -> tuple[Expression, Expression]:
    """Sample 1's loss, `l₁ = …` with its outputs `a₁ⱼ` and targets `y₁ⱼ` as symbols, and the cost `J = …`: written by
    the ops without sympy, which only LaTeX and MathML call on (for the same equations)."""
    graph = solution.graph
    loss, cost = graph.loss_node, graph.cost_node
    outputs = solution.computed.values[loss.roles["input"]].shape[1]
    columns = solution.conventions.columns  # sample 1's outputs are then column 1: a₁₁, a₂₁, …
    a, y = (Namer(letter, 0, sample_column=columns) for letter in "ay")
    place = (lambda j: (j, 0)) if columns else (lambda j: (0, j))
    losses = Namer("l", 0, single_index=True)
    penalty = next((name for name in cost.roles.values() if name != loss.output), None)
    return (Expression(losses(0, 0), loss.op.loss_text([a(*place(j)) for j in range(outputs)],
                                                        [y(*place(j)) for j in range(outputs)]),
                       lambda: _symbolic_loss(solution)),
            Expression(Term(cost.output, cost.output),
                       cost.op.cost_text([losses(i, 0) for i in range(solution.samples)],
                                         Term(penalty, penalty) if penalty else None),
                       lambda: _symbolic_cost(solution)))


def _symbolic_loss(solution) -> tuple:
    """Sample 1's loss in sympy, as `loss_equations` writes it."""
    from .. import symbolic

    loss = solution.graph.loss_node
    outputs = solution.computed.values[loss.roles["input"]].shape[1]
    columns = solution.conventions.columns
    shape = (outputs, 1) if columns else (1, outputs)
    a, y = (symbolic.symbols(letter, 0, shape, sample_column=columns) for letter in "ay")
    losses = symbolic.symbols("l", 0, (solution.samples, 1), single_index=True)
    return losses[0, 0], loss.op.symbolic_loss(list(a), list(y))


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
    line = solution.conventions.sample_line
    return [Prose(story.loss_formula(solution)),
            Prose(say(f"Written out for sample 1: its outputs, {line} 1 of ", math(output),
                      f", and its targets, {line} 1 of ", math(targets), ", kept as symbols (the values of ",
                      math(targets), " are beside):")),
            Group((Equation(((loss, GAP, f"{targets} =", Numbers(solution.values[targets], decimals)),)),
                   Equation(((cost,),))))]


def _vec(solution, decimals: int) -> list:
    """What vec does: a 2 × 3 matrix numbered in reading order, and the walkthrough's first weights."""
    graph, conventions = solution.graph, solution.conventions
    example = (graph.parameters or graph.data)[0]
    value = solution.values[example]
    return [Prose(say(math("vec"), f" lays a matrix out as one {conventions.flat}, reading it {conventions.reading} (",
                      conventions.vec_name, "). The entries of a 2 × 3 matrix ", math("M"), ", numbered in the order ",
                      math("vec"), " reads them:")),
            Group((Equation((("M =", Numbers(READING_ORDER, 0), GAP, "vec(M) =",
                              Numbers(conventions.flatten(READING_ORDER), 0)),)),
                   Equation(((f"{example} =", Numbers(value, decimals), GAP, f"vec({example}) =",
                              Numbers(conventions.flatten(value), decimals)),))))]


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
    if solution.conventions.denominator:
        lines = say(" has one row per entry of ", math("V"), ", the variable the gradient is taken with respect to, "
                    "and one column per entry of the node's output ", math("F"), " (the denominator layout): an ",
                    math("F"), " of shape p × q and a ", math("V"), " of shape r × s give an ", math("rs × pq"))
    else:
        lines = say(" has one row per entry of the node's output ", math("F"), " and one column per entry of ",
                    math("V"), ", the variable the gradient is taken with respect to: an ", math("F"),
                    " of shape p × q and a ", math("V"), " of shape r × s give a ", math("pq × rs"))
    return say("A local Jacobian ", math("∂vec(F)/∂vec(V)"), lines, " matrix. For example, ",
               math(story.jacobian_label(step)), " is ", math("{} × {}".format(*step.structure.shape)), ": ",
               math(step.node), " is ", math(_shape(values[step.node])), " and ",
               math(step.variable), " is ", math(_shape(values[step.variable])), ".")


def _upstream_row(solution) -> Sentence:
    first, conventions = solution.steps[0], solution.conventions
    flat = conventions.flat
    order = say("multiplies the upstream column by a local Jacobian, Jacobian first" if conventions.denominator
                else "multiplies the upstream row by a local Jacobian")
    return say("Every backward step ", order, ": ",
               math(conventions.chain_rule("vec(dJ/dV)", "vec(dJ/dF)", "∂vec(F)/∂vec(V)")), f". The upstream {flat} ",
               math("vec(dJ/dF)"), " is the gradient of ", math("J"), " with respect to the node's output ", math("F"),
               ", computed by an earlier step and laid out by ", math("vec"), f"; the product, folded back "
               f"{conventions.reading} into the shape of ", math("V"), ", is ", math("dJ/dV"),
               ". The first step starts from ", math("dJ/dJ = 1"),
               " and uses the local Jacobian of the mean cost, ", math(story.jacobian_label(first)),
               ", which gives each of the m losses the weight 1/m.")
