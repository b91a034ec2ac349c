"""What a walkthrough says and in which order, whatever form it is shown in.

The pages (forward pass, loss and cost, one page per backward heading of the article, the
update), the breadcrumb through the computational graph, and our explanatory sentences live
here as plain data and `Sentence`s (words and formulas kept apart), so that every renderer tells the
same story.
"""

from dataclasses import dataclass, replace

import numpy as np

from ..chain import Kink, Step, gradient_name
from ..conventions import DEFAULT, Conventions, writing
from ..numbers import format_number
from ..ops import TARGETS
from ..sentences import Sentence, equals, join, math, say
from ..structured import Dense


@dataclass(frozen=True)
class Page:
    """One screenful of the walkthrough: `kind` is forward, loss, backward or update.

    A page of backward `steps` places each step in the graph itself; any other page says here
    which nodes it marks, how far the backward pass has come (`reached`, an index into the main
    path) and what its side branch lists.
    """

    kind: str
    title: Sentence
    steps: tuple[Step, ...] = ()
    marked: frozenset = frozenset()
    reached: int = 0
    side: tuple = ()
    updates: tuple = ()  # the optimizer's updates the page shows
    training: int = 1  # the training step the page belongs to (from 1)
    summary: bool = False  # a later training step told in short (its cost and update), not one of its own pages
    closing: bool = False  # after the last training step: the cost over the whole run, not one step's values


def pages(solution) -> list[Page]:
    """Under other conventions than the default, first the conventions in force; then the forward pass, the loss
    and cost, one page per backward heading, and the update; over several training steps, then one page per later
    step (its update and cost; every page of it with `all_steps`), and a closing page with the cost after training
    and its curve (also after one step, where the file states `steps`)."""
    walkthrough = solution.walkthrough
    count = len(solution.training)
    found = [] if solution.conventions.is_default else [Page("conventions", say("Conventions"),
                                                             reached=len(main_path(solution.graph)))]
    found += training_pages(solution, 1)
    for number in range(2, count + 1):
        if walkthrough.all_steps:
            found += training_pages(solution, number)
        else:
            found.append(Page("training", say(f"Training step {number}/{count} · {walkthrough.optimizer.title} "
                                              "update and cost"), side=_updated(solution.training[number - 1]),
                              training=number, summary=True))
    if count > 1 or walkthrough.training_shown:
        found.append(Page("cost", say("Cost after training"), marked=frozenset({solution.graph.cost_node.output}),
                          reached=len(main_path(solution.graph)), training=count, closing=True))
    return found


def _updated(training) -> tuple:
    return tuple(Crumb(update.parameter, True, "" if i == 0 else ",") for i, update in enumerate(training.updates))


def training_pages(solution, number: int) -> list[Page]:
    """Every page of one training step: forward pass, loss and cost, backward headings, update (titled with the
    step's number from the second on)."""
    graph, training = solution.graph, solution.training[number - 1]
    prefix = "" if number == 1 else f"Training step {number}/{len(solution.training)} · "
    everything = len(main_path(graph))
    sections: dict[int, list[Step]] = {}
    for step in training.steps:
        sections.setdefault(step.section, []).append(step)
    total = len(sections)
    backward = [Page("backward", say(f"{prefix}Backward step {index}/{total} · ",
                                     join(map(math, dict.fromkeys(gradient_name(step.variable) for step in steps)),
                                          " and ")), tuple(steps), training=number)
                for index, steps in sections.items()]
    updated = _updated(training)
    optimizer = solution.walkthrough.optimizer
    update = [Page("update", say(f"{prefix}{optimizer.title} update"), side=updated, updates=training.updates,
                   training=number)] \
        if updated else []  # a graph without parameters has none
    return [Page("forward", say(f"{prefix}Forward pass"), reached=everything, training=number),
            Page("loss", say(f"{prefix}Loss and cost"), marked=frozenset({graph.loss_node.output,
                                                                           graph.cost_node.output}),
                 reached=everything, training=number),
            *backward, *update]


@dataclass(frozen=True)
class Crumb:
    """One node of the breadcrumb: `arrow` is the arrow drawn before it ("" for the first)."""

    label: str
    marked: bool
    arrow: str


FORWARD_ARROW, BACKWARD_ARROW = "→", "⇠"


def main_path(graph) -> list[str]:
    """The variables the data flows through, in forward order: `X`, `Z1`, `A1`, …, `L`, `J`.

    A node whose inputs are all parameters (the L2 penalty) is drawn beside it, not on it.
    """
    return list(graph.main_path)


def breadcrumb(solution, page: Page, step: Step | None = None) -> tuple[tuple[Crumb, ...], tuple[Crumb, ...]]:
    """The graph's main path with the current node marked, and a side branch where the step leaves it.

    Arrows into the part of the graph the backward pass has already left point backwards. For a
    parameter step the side branch reads `[b3] ⇠ Z3`: the gradient flows from `Z3` into `b3`; for a
    variable that feeds several nodes it lists them all, `[A1] ⇠ Z2, S2`, marking the path of the step.
    """
    graph = solution.graph
    forward, backward, positions = _path_crumbs(graph)
    if step is None:
        marked, reached = page.marked, page.reached
    elif step.variable in positions:
        marked, reached = (step.variable,), positions[step.variable]
    else:
        marked, reached = (), max(positions[edge.node.output] for edge in graph.consumers(step.variable)
                                  if edge.node.output in positions)
    main = forward[:reached + 1] + backward[reached + 1:]
    shown = [positions[name] for name in marked if name in positions]
    if shown:
        main = list(main)
        for i in shown:
            main[i] = replace(main[i], marked=True)
        main = tuple(main)
    if step is None:
        return main, tuple(page.side)
    consumers = [edge.node.output for edge in graph.consumers(step.variable)]
    if step.variable in positions and len(consumers) == 1:
        return main, ()
    side = [Crumb(step.variable, True, "")]
    side += [Crumb(consumer, step.is_sum or consumer == step.path,
                   BACKWARD_ARROW if i == 0 else ",") for i, consumer in enumerate(consumers)]
    return main, tuple(side)


def _path_crumbs(graph) -> tuple[tuple[Crumb, ...], tuple[Crumb, ...], dict[str, int]]:
    """The main path's crumbs, none marked, with every arrow forward and with every arrow backward (a comma where
    two neighbours are not connected, none before the first), and each node's place on the path: a page's
    breadcrumb is a slice of each, so that a path of hundreds of nodes is neither built nor searched anew for
    every page. Kept with the graph (`Graph.drawn`), which every training step's pages share."""
    found = graph.drawn.get("breadcrumb")
    if found is None:
        nodes, links = graph.main_path, graph.main_path_links

        def crumbs(arrow: str) -> tuple[Crumb, ...]:
            return tuple(Crumb(node, False, "" if i == 0 else arrow if linked else ",")
                         for i, (node, linked) in enumerate(zip(nodes, links, strict=True)))

        found = graph.drawn["breadcrumb"] = (crumbs(FORWARD_ARROW), crumbs(BACKWARD_ARROW),
                                              {node: i for i, node in enumerate(nodes)})
    return found


def jacobian_label(step: Step) -> str:
    """How the step's local Jacobian is named on the page: `dZ3/dW3`; for the first step `∂vec(J)/∂vec(L)`, since
    `dJ/dL` names the gradient it gives (an m × 1 column), and `dJ/dL = dJ/dJ · dJ/dL` would read as circular."""
    return f"∂vec({step.node})/∂vec({step.variable})" if step.from_cost else step.jacobian_name


def chain_rule(step: Step, conventions: Conventions = DEFAULT) -> str:
    """The chain rule of the step in symbols (`Jacobian · upstream` in the denominator layout)."""
    if step.is_sum:
        return f"{step.gradient} = " + " + ".join(step.contributions)
    rule = conventions.chain_rule(step.gradient, step.upstream, jacobian_label(step))
    return f"{rule}, starting from {step.upstream} = 1" if step.from_cost else rule


def vectorized_chain_rule(step: Step, conventions: Conventions = DEFAULT) -> str:
    """The same chain rule with every matrix flattened by `vec`."""
    if step.is_sum:
        return f"vec({step.gradient}) = " + " + ".join(f"vec({name})" for name in step.contributions)
    upstream = "1" if step.from_cost else f"vec({step.upstream})"
    return conventions.chain_rule(f"vec({step.gradient})", upstream, f"∂vec({step.node})/∂vec({step.variable})")


def upstream_label(step: Step) -> str:
    """How the upstream row is named on the page: `dJ/dJ` for the first step, else `vec(dJ/dZ3)`."""
    return step.upstream if step.from_cost else f"vec({step.upstream})"


def jacobian_caption(step: Step, conventions: Conventions = DEFAULT) -> Sentence:
    """What the local Jacobian's shape means."""
    name = (say(math(jacobian_label(step)), f", the local Jacobian of the {step.op.title},") if step.from_cost
            else say(math(f"{step.jacobian_name} = ∂vec({step.node})/∂vec({step.variable})")))
    return conventions.jacobian_caption(name, step.node, step.variable, step.structure.shape)


def names(variables) -> Sentence:
    """`Z2, S2 and H2`, each name a formula."""
    *first, last = [math(name) for name in variables]
    return join([join(first, ", "), last], " and ") if first else say(last)


def byte_size(count: int) -> str:
    """A number of bytes as people say it, in powers of 1000: `3.3 GB`, `200.7 kB`, `48 bytes`.

    >>> byte_size(4096 * 100352 * 8), byte_size(200_704), byte_size(48)
    ('3.3 GB', '200.7 kB', '48 bytes')
    """
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def structure_caption(step: Step) -> Sentence:
    """What a Jacobian too large to write out costs as a matrix, how it is kept instead (or that it is built in
    full, for an op that knows no structure of it), and what is shown."""
    structure = step.structure
    rows, columns = structure.shape
    size = f"{byte_size(structure.dense_bytes)} as a dense matrix ({rows:,} × {columns:,} numbers of 8 bytes)"
    shown = (f"Shown below: the entries at its corners; {structure.nonzeros():,} of its {structure.size:,} entries "
             "are not zero.")
    if isinstance(structure, Dense):
        return say(math(step.jacobian_name), f" takes {size}: too large to write out whole, it is built in full "
                   f"and the upstream row is multiplied by it as a matrix. {shown}")
    return say(
        math(step.jacobian_name), f" would take {size}, which is why frameworks never build it. Here it is kept "
        "by its structure, ", structure_named(step), f", in {byte_size(structure.nbytes)}, and the upstream row is "
        f"multiplied through that structure. {shown}")


def structure_named(step: Step) -> Sentence:
    """The structure a large Jacobian is kept by: its formula (with the order of its columns where they are
    reordered) and its kind, e.g. `I ⊗ W (identity kronecker)`."""
    structure = step.structure
    reordered = [" with its columns in the order of ", math(f"vec({step.variable})")] if structure.reordered else []
    return say(math(structure.formula), *reordered, f" ({structure.kind.replace('_', ' ')})")


def explanation(step: Step, solution) -> Sentence:
    """Why the step's local Jacobian looks the way it does (for a sum step: why it adds), in a sentence or two."""
    if step.is_sum:
        paths = step.paths
        return say(math(step.variable), f" feeds {len(paths)} nodes, ", names(paths), ", so ", math("J"),
                   " depends on ", math(step.variable), f" along {len(paths)} paths. The chain rule of several "
                   "variables adds what arrives along each path: ", math(chain_rule(step)), ".")
    node = solution.graph.producers[step.node]
    return step.op.written_explanation(step.role, node.names(step.upstream), solution.samples, solution.conventions)


# Symbolic Jacobians with more entries than this take sympy long to build and print, and show no
# pattern that a smaller network would not show as well.
SYMBOLIC_LIMIT = 1600


def symbolic_shown(step: Step) -> bool:
    """Whether the step's Jacobian is small enough to be written out in symbols."""
    return step.structure.size <= SYMBOLIC_LIMIT


def symbolic_omitted(step: Step) -> Sentence:
    """Why a Jacobian is shown in numbers only."""
    rows, columns = step.structure.shape
    return say(math(jacobian_label(step)), f" is shown in numbers only: with {rows * columns} entries it is more "
               f"than {SYMBOLIC_LIMIT} to write out in symbols. Its symbols follow the same pattern as in a smaller "
               "network.")


def symbolic_corner_caption(step: Step) -> Sentence:
    """What the symbols of a Jacobian too large to write out show: its corner, written from the op's index pattern."""
    rows, columns = step.structure.shape
    return say(math(jacobian_label(step)), f" has {rows * columns:,} entries, too many to write out in symbols: the "
               "symbols below are written from the op's index pattern for the entries shown only, the same pattern "
               "as in a smaller network.")


def devectorize_caption(step: Step, conventions: Conventions = DEFAULT) -> Sentence:
    return conventions.devectorize_caption(step.variable, step.result.shape)


def agrees(result, other) -> bool:
    """Whether two ways of computing a gradient give the same numbers, up to rounding in the last bits."""
    return float(abs(result - other).max()) <= 1e-12 * max(1.0, float(abs(result).max()))


def shortcut_caption(step: Step, agreed: bool | None = None) -> Sentence:
    """The line that confirms the framework shortcut gives the same numbers; `agreed` is `agrees` of the two, where
    the caller has compared them already (a page also picks the line's tone by it)."""
    shortcut = say("Shortcut ", equals(step.gradient, step.shortcut_formula))
    if agrees(step.result, step.shortcut) if agreed is None else agreed:
        return say(shortcut, " gives the same numbers.")
    difference = float(abs(step.result - step.shortcut).max())
    return say(shortcut, f" differs by {difference:.3g}: this is a bug, please report it.")


def fused_caption(step: Step, solution, agreed: bool | None = None) -> Sentence:
    """The line that shows the activation's and the loss's Jacobians collapsing into one simple formula; `agreed`
    as for `shortcut_caption`."""
    (edge,) = solution.graph.consumers(step.node)
    pair = f"{step.op.title} and {edge.node.op.title}"
    fused = math(f"{step.gradient} = {step.fused_formula}")
    if agrees(step.result, step.fused) if agreed is None else agreed:
        return say(f"Together, {pair} collapse: ", fused, " gives the same numbers without either Jacobian "
                   "(which is why frameworks fuse them).")
    difference = float(abs(step.result - step.fused).max())
    return say(f"Together, {pair} would collapse to ", fused, f", but here it differs by {difference:.3g}: an "
               "output is saturated, and a clamp of PyTorch's in the loss's derivative (named on the step of that "
               "derivative) acts where the fused formula needs none. This walkthrough follows PyTorch; fused losses "
               "(such as binary_cross_entropy_with_logits) give the collapsed value.")


def kink_note(step: Step, kink: Kink, decimals: int) -> Sentence:
    """The note at an entry that sits exactly on the op's kink: which convention the Jacobian uses there, in the
    op's own words. It says nothing of the gradient, so that it can stand above a result that `--reveal` hides."""
    return step.op.kink_statement(kink.position, step.variable, step.node, format_number(kink.derivative, decimals))


def kink_consequence(solution, step: Step, kink: Kink, decimals: int) -> Sentence:
    """What the kink's convention makes of the gradient, and what the other convention would: part of the result."""
    name = step.op.kink_function or step.op.title
    value = format_number(kink.value, decimals)
    other = format_number(kink.other_value, decimals)
    names = solution.graph.producers[step.node].names(step.upstream)
    own = step.op.kink_note(kink.position, names, step.gradient, (value, other))
    if own:
        return own
    other_derivative = format_number(kink.other_derivative, decimals)
    i, j = kink.position
    note = say("At the kink (", math(step.variable), f" row {i + 1}, column {j + 1}), ", math(step.gradient),
               f" row {i + 1}, column {j + 1} is {value}. Under the other convention, ",
               math(f"{name}'(0) = {other_derivative}"), ", ")
    if kink.value == kink.other_value:
        return say(note, f"it would be {other} too: the gradient arriving at that entry is 0, so here the "
                   "convention changes nothing.")
    graph = solution.graph
    producer = graph.producers[step.variable]
    following = join((math(gradient_name(name)) for name in reversed(producer.parameters.values())), ", ")
    if any(edge.node is producer and edge.role not in producer.parameters for edge in graph.edges):
        below = f"every gradient below layer {producer.layer}" if producer.layer else "every gradient before it"
        following = join([following, below], " and ") if following else say(below)
    return say(note, f"it would be {other}, and ", following, " would change with it.")


def conventions_in_force(conventions: Conventions) -> Sentence:
    """The first sentence of the conventions page."""
    return say(f"This walkthrough is written with {conventions}. What is computed is the same as under the default "
               f"conventions ({DEFAULT}, as PyTorch computes); only how each quantity is written differs.")


def samples_sentence(solution) -> Sentence:
    """What samples as rows or as columns make of `X`, a dense layer's formula and its bias."""
    rows, columns = solution.quantities[solution.graph.data[0]].shape
    X = math(solution.graph.data[0])
    if solution.conventions.columns:
        return say("Samples as columns: ", X, f" is features × samples ({rows} × {columns} here), and so is every "
                   "variable computed from it. A dense layer computes ", math("Z = W · A + b"), " from its input ",
                   math("A"), ", with ", math("W"), " units × inputs and ", math("b"),
                   " a column added to the column of every sample. "
                   "Every gradient has the shape of its variable as written here.")
    return say("Samples as rows: ", X, f" is samples × features ({rows} × {columns} here), and so is every variable "
               "computed from it. A dense layer computes ", math("Z = A · Wᵀ + b"), " from its input ", math("A"),
               ", with ", math("b"),
               " a row added to the row of every sample.")


def vec_sentence(conventions: Conventions) -> Sentence:
    """What `vec` does, before the picture of its reading order."""
    flat = "a column (the denominator layout writes vectors as columns)" if conventions.denominator else "a row"
    return say(math("vec"), f" reads a matrix {conventions.reading} into {flat}, so a ", math("2 × 3"), " matrix ",
               math("M"), " is read in this order:")


def vec_example(conventions: Conventions):
    """A 2 × 3 matrix whose entries are 1 to 6 row by row, and its `vec` under the conventions (a row, or a column
    in the denominator layout): the order in which `vec` reads the entries, drawn."""
    matrix = np.arange(1.0, 7.0).reshape(2, 3)
    return matrix, conventions.flatten(matrix)


def jacobian_sentence(solution) -> Sentence:
    """What a Jacobian's rows and columns stand for under the conventions, with one of the walkthrough's."""
    conventions = solution.conventions
    rows, columns = ("V", "F") if conventions.denominator else ("F", "V")
    rule = conventions.chain_rule("vec(dJ/dV)", "vec(dJ/dF)", "∂vec(F)/∂vec(V)")
    sentence = say("A local Jacobian ", math("∂vec(F)/∂vec(V)"), " has one row per entry of ", math(rows),
                   " and one column per entry of ", math(columns), ", each in the order ", math("vec"),
                   " reads it, and the chain rule reads ", math(rule),
                   f": the upstream gradient is a {conventions.flat}.")
    steps = [step for step in solution.steps if not step.from_cost and not step.is_sum]
    example = next((step for step in steps if step.variable in solution.graph.owners), steps[0] if steps else None)
    return say(sentence, " For example, ", jacobian_caption(example, conventions)) if example else sentence


def forward_groups(solution) -> list[tuple[Sentence, list[str], list[str]]]:
    """The forward page, one group per layer (a `[[layers]]` entry) or node: its formula, parameters and outputs.

    `Layer 2: Z2 = A1 · W2ᵀ + b2, then A2 = ReLU(Z2)` for a layer; `S2 = Z2 + A1` for a node.
    """
    groups: list[list] = []
    for node in network_nodes(solution.graph):
        if groups and node.layer is not None and groups[-1][-1].layer == node.layer:
            groups[-1].append(node)
        else:
            groups.append([node])
    found = []
    for group in groups:
        formula = join((solution.conventions.formula(node) for node in group), ", then ")
        if len(group) > 1:
            formula = say(f"Layer {group[0].layer}: ", formula)
        found.append((formula, [name for node in group for name in node.parameters.values()],
                      [node.output for node in group]))
    return found


def main_path_node(graph, node) -> bool:
    """Whether the node lies on the data's path (the L2 penalty, computed from parameters only, does not)."""
    return node.output in graph.on_main_path


def network_nodes(graph) -> list:
    """The nodes of the forward page: those on the data's path, without the loss and the cost."""
    closing = (graph.loss_node, graph.cost_node)
    return [node for node in graph.nodes if main_path_node(graph, node) and node not in closing]


def output_notes(solution, name: str) -> tuple:
    """What a node says about its output on the forward page (a dropout mask)."""
    node = solution.graph.producers[name]
    return node.op.output_notes(solution.graph.role_values(node, solution.computed.values), node.names(),
                                writing(solution).places)


def picture_caption(name: str, image: tuple[int, ...], line: str = "row") -> Sentence:
    """Before the pictures of a variable whose rows (with samples as columns, `line` columns) are images or
    sequences."""
    axes = "channels × height × width" if len(image) == 3 else "channels × length"
    side = ", channels side by side" if len(image) == 3 and image[0] > 1 else ""
    return say(f"Each sample's {line} of ", math(name), f" as its {' × '.join(map(str, image))} picture ({axes}), "
               f"one line per sample{side}:")


def kernel_caption(name: str, layout: tuple[int, ...]) -> Sentence:
    """Before the filters of a kernel kept as unrolled rows."""
    axes = "out × in × k × k" if len(layout) == 4 else "out × in × k"
    each = "its input channels side by side" if len(layout) == 4 else "one row per input channel"
    return say(math(name), f" as a kernel of {' × '.join(map(str, layout))} ({axes}): one filter per line, {each}:")


def picture_name(name: str, index: int, kernel: bool) -> str:
    """`X(1)` for sample 1, `K1[1]` for filter 1."""
    return f"{name}[{index}]" if kernel else f"{name}({index})"


def loss_notes(solution) -> tuple[Sentence, ...]:
    """Where a clamp of PyTorch's acts on the losses, in the loss's own words."""
    graph = solution.graph
    node = graph.loss_node
    values = solution.computed.values  # the op's notes read the values as computed, and say where they are written
    notes = node.op.output_notes(graph.role_values(node, values), node.names(), writing(solution).places)
    outputs = values[graph.output].shape[1]
    if graph.cost_node.op.summed and node.op.averages_outputs and outputs > 1:
        notes += (say("Each ", math("L_i"), f" averages over the {outputs} outputs of its sample, so ",
                      math("J = Σ_i L_i"), f" is 1/{outputs} of PyTorch's reduction='sum', which adds every entry "
                      "without averaging."),)
    return notes


def loss_formula(solution) -> Sentence:
    """What L and J are."""
    graph, m = solution.graph, solution.samples
    loss = graph.loss_node
    J = math(graph.cost_node.output)
    text = say(math(loss.output), f" holds one {loss.op.title} per sample, of ", math(graph.output), " against ",
               math(loss.roles[TARGETS]), "; the cost ", J, graph.cost_node.op.describe(m))
    penalties = [node for node in graph.nodes if not main_path_node(graph, node)]
    if penalties:
        return say(text, ", plus ", join((say(f"the {node.op.title} ", node.op.formula(node.names()))
                                          for node in penalties), " and "), ".")
    return say(text, ".")


def cost_expression(solution) -> str:
    """`mean(L)`, or `mean(L) + R` under regularization."""
    node = solution.graph.cost_node
    return node.op.expression(node.names())


def update_formulas(update, decimals: int) -> tuple[Sentence, ...]:
    """The update of one parameter written out: the optimizer's state first (if it keeps any), then the parameter."""
    if update.frozen:
        return (say(math(f"{update.name} = {update.old_name}"),
                    " (frozen: not updated, although its gradient is shown)"),)
    rate = format_number(update.learning_rate, max(decimals, 6))
    names = {"parameter": update.old_name, "gradient": update.gradient_name, "updated": update.name,
             **update.state_names(),
             **{f"previous_{state}": name for state, name in update.previous_state_names().items()}}
    return update.optimizer.formulas(update.training_step, names, rate)


def update_formula(update, decimals: int) -> Sentence:
    """The update in one line (the worksheet's question)."""
    return join(update_formulas(update, decimals), "; ")


def final_cost_sentence(solution, decimals: int) -> Sentence:
    """What the closing page's numbers are."""
    count = len(solution.training)
    first, final = solution.J, solution.J_final
    change = "down" if final < first else "up"
    return say(f"After {count} training step{'s' * (count != 1)} of {solution.walkthrough.optimizer.title}, the cost "
               "of the updated parameters is ", math(f"J_final = {format_number(final, decimals)}"), f", {change} "
               "from ", math(f"J = {format_number(first, decimals)}"), " before the first update. ",
               math("J_final"), " is one more forward pass, with no backward pass after it.")


def initialization_note(walkthrough) -> Sentence:
    """Which parameters were drawn from the seed (or set to a constant) and how, each as its op says, so that a
    class can reproduce them."""
    owners, groups = walkthrough.graph.owners, {}
    for name in walkthrough.initialized:
        node = owners[name]
        how, drawn = node.op.initialization(next(role for role, own in node.parameters.items() if own == name))
        groups.setdefault((str(how), drawn), (how, []))[1].append(name)
    parts = [say(join((math(name) for name in names), ", "),
                 f" drawn from seed {walkthrough.seed}: " if drawn else (" set to " if len(names) == 1 else " all "
                                                                         "set to "), how)
             for (_, drawn), (how, names) in groups.items()]
    seeded = any(drawn for _, drawn in groups)
    return say(join(parts, "; "), ". ", "Drawn values come from numpy's generator (so not PyTorch's numbers); the "
               "same seed always gives the same values. " if seeded else "", "They are shown below, and at full "
               "precision with --format json.")


def summary(solution) -> str:
    """The network in one line: samples, layers (or nodes) with their ops, loss and learning rate."""
    walkthrough, graph = solution.walkthrough, solution.graph
    groups = forward_groups(solution)
    values = solution.computed.values
    if all(len(outputs) == 2 for _, _, outputs in groups):
        shape = "layers " + " → ".join([str(walkthrough.X.shape[1])] + [
            f"{values[outputs[-1]].shape[1]} ({graph.producers[outputs[-1]].op.title})" for _, _, outputs in groups])
    else:
        shape = "nodes " + ", ".join(f"{node.output} ({node.op.title})" for node in network_nodes(graph))
    m = solution.samples
    return (f"{m} sample{'s' * (m != 1)} · {shape} · {graph.loss_node.op.title} · "
            f"learning rate {format_number(walkthrough.learning_rate, 12)}")
