"""What a walkthrough says and in which order, whatever form it is shown in.

The pages (forward pass, loss and cost, one page per backward heading of the article, the
update), the breadcrumb through the computational graph, and our explanatory sentences live
here as plain data and strings, so that every renderer tells the same story.
"""

from dataclasses import dataclass

from ..chain import Kink, Step
from ..nodes import ACTIVATIONS, LOSSES
from ..numbers import format_number


@dataclass(frozen=True)
class Page:
    """One screenful of the walkthrough: `kind` is forward, loss, backward or update."""

    kind: str
    title: str
    steps: tuple[Step, ...] = ()


def pages(solution) -> list[Page]:
    """The forward pass, the loss and cost, one page per backward heading, and the update."""
    sections: dict[int, list[Step]] = {}
    for step in solution.steps:
        sections.setdefault(step.section, []).append(step)
    total = len(sections)
    backward = [Page("backward", f"Backward step {number}/{total} · "
                     + " and ".join(step.gradient for step in steps), tuple(steps))
                for number, steps in sections.items()]
    return [Page("forward", "Forward pass"), Page("loss", "Loss and cost"), *backward,
            Page("update", "SGD update")]


@dataclass(frozen=True)
class Crumb:
    """One node of the breadcrumb: `arrow` is the arrow drawn before it ("" for the first)."""

    label: str
    marked: bool
    arrow: str


FORWARD_ARROW, BACKWARD_ARROW = "→", "⇠"


def breadcrumb(solution, page: Page, step: Step | None = None) -> tuple[list[Crumb], list[Crumb]]:
    """The graph's main path with the current node marked, and a side branch for a parameter.

    Arrows into the part of the graph the backward pass has already left point backwards. For a
    parameter step the side branch reads `[b3] ⇠ Z3`: the gradient flows from `Z3` into `b3`.
    """
    nodes = solution.graph
    if page.kind == "forward":
        marked, reached = set(), len(nodes)
    elif page.kind == "loss":
        marked, reached = {"L", "J"}, len(nodes)
    elif page.kind == "update":
        marked, reached = set(), 0
    elif step.variable in nodes:
        marked, reached = {step.variable}, nodes.index(step.variable)
    else:
        marked, reached = set(), nodes.index(step.node)
    main = [Crumb(node, node in marked, "" if i == 0 else (FORWARD_ARROW if i <= reached else BACKWARD_ARROW))
            for i, node in enumerate(nodes)]
    if page.kind == "backward" and step.variable not in nodes:
        return main, [Crumb(step.variable, True, ""), Crumb(step.node, False, BACKWARD_ARROW)]
    if page.kind == "update":
        parameters = [Crumb(update.parameter, True, "" if i == 0 else ",") for i, update in enumerate(solution.updates)]
        return main, parameters
    return main, []


def activation_name(name: str) -> str:
    """How prose names an activation: `ReLU` for `relu`."""
    return ACTIVATIONS[name].title


def loss_name(name: str) -> str:
    """How prose names a loss: `binary cross-entropy` for `binary_cross_entropy`."""
    return LOSSES[name].title


def chain_rule(step: Step) -> str:
    """The chain rule of the step in symbols."""
    if step.kind == "cost":
        return "dJ/dL = dJ/dJ · dJ/dL, starting from dJ/dJ = 1"
    return f"{step.gradient} = {step.upstream} · {step.jacobian_name}"


def vectorized_chain_rule(step: Step) -> str:
    """The same chain rule with every matrix flattened row by row."""
    upstream = "1" if step.kind == "cost" else f"vec({step.upstream})"
    return f"vec({step.gradient}) = {upstream} · ∂vec({step.node})/∂vec({step.variable})"


def jacobian_caption(step: Step) -> str:
    """What the local Jacobian's shape means."""
    rows, columns = step.jacobian.shape
    return (f"{step.jacobian_name} = ∂vec({step.node})/∂vec({step.variable}) is {rows} × {columns}: "
            f"one row per entry of {step.node}, one column per entry of {step.variable}.")


def explanation(step: Step, solution) -> str:
    """Why the local Jacobian of the step looks the way it does, in a sentence or two."""
    m = solution.forward.samples
    network = solution.walkthrough.network
    texts = {
        "cost": (f"J is the mean of the {m} per-sample losses, so each loss enters J with weight 1/{m}. "
                 if m > 1 else "With one sample, J is that sample's loss, so dJ/dL = 1. ")
                + "Every backward pass starts from dJ/dJ = 1.",
        "loss": network.loss.explanation(),
        "activation": network.layer(step.layer).activation.explanation(),
        "dense_bias": f"b{step.layer} is added to the row of every sample, so the Jacobian stacks one "
                      f"identity per sample, and multiplying by it sums dJ/dZ{step.layer} over the batch.",
        "dense_weights": f"Entry (i, j) of Z{step.layer} uses only row j of W{step.layer}, multiplied by the "
                         "inputs of sample i, so each sample's inputs appear once per unit, shifted along.",
        "dense_input": f"Each sample's z depends only on that sample's own a, through W{step.layer}, so the "
                       f"Jacobian holds one copy of W{step.layer} per sample on its block diagonal.",
    }
    return texts[step.kind]


# Symbolic Jacobians with more entries than this take sympy long to build and print, and show no
# pattern that a smaller network would not show as well.
SYMBOLIC_LIMIT = 1600


def symbolic_shown(step: Step) -> bool:
    """Whether the step's Jacobian is small enough to be written out in symbols."""
    return step.jacobian.size <= SYMBOLIC_LIMIT


def symbolic_omitted(step: Step) -> str:
    """Why a Jacobian is shown in numbers only."""
    rows, columns = step.jacobian.shape
    return (f"{step.jacobian_name} is shown in numbers only: with {rows * columns} entries it is more than "
            f"{SYMBOLIC_LIMIT} to write out in symbols. Its symbols follow the same pattern as in a smaller network.")


def devectorize_caption(step: Step) -> str:
    rows, columns = step.result.shape
    return f"De-vectorized, row by row, to the shape of {step.variable} ({rows} × {columns}):"


def agrees(result, other) -> bool:
    """Whether two ways of computing a gradient give the same numbers, up to rounding in the last bits."""
    return float(abs(result - other).max()) <= 1e-12 * max(1.0, float(abs(result).max()))


def shortcut_caption(step: Step) -> str:
    """The line that confirms the framework shortcut gives the same numbers."""
    if agrees(step.result, step.shortcut):
        return f"Shortcut {step.gradient} = {step.shortcut_formula} gives the same numbers."
    difference = float(abs(step.result - step.shortcut).max())
    return (f"Shortcut {step.gradient} = {step.shortcut_formula} differs by {difference:.3g}: this is a bug, "
            "please report it.")


def fused_caption(step: Step, solution) -> str:
    """The line that shows the activation's and the loss's Jacobians collapsing into one simple formula."""
    network = solution.walkthrough.network
    pair = f"{activation_name(network.layer(step.layer).activation.name)} and {loss_name(network.loss.name)}"
    if agrees(step.result, step.fused):
        return (f"Together, {pair} collapse: {step.gradient} = {step.fused_formula} gives the same numbers "
                "without either Jacobian (which is why frameworks fuse them).")
    difference = float(abs(step.result - step.fused).max())
    return (f"Together, {pair} would collapse to {step.gradient} = {step.fused_formula}, but here it differs by "
            f"{difference:.3g}: an output is saturated, and a clamp of PyTorch's in the loss's derivative (named "
            "on the step of that derivative) acts where the fused formula needs none. This walkthrough follows "
            "PyTorch; fused losses (such as binary_cross_entropy_with_logits) give the collapsed value.")


def kink_note(step: Step, kink: Kink, activation: str, decimals: int) -> str:
    """The note at an entry of Z that sits exactly on the activation's kink."""
    i, j = kink.position
    name = activation_name(activation)
    value = format_number(kink.value, decimals)
    other = format_number(kink.other_value, decimals)
    derivative = format_number(kink.derivative, decimals)
    other_derivative = format_number(kink.other_derivative, decimals)
    k = step.layer
    note = (f"Z{k} row {i + 1}, column {j + 1} is exactly 0, the kink of {name}, where the derivative "
            f"is not defined. This walkthrough uses {name}'(0) = {derivative}, as PyTorch does, so that "
            f"entry of {step.gradient} is {value}. Under the other convention, {name}'(0) = {other_derivative}, ")
    if kink.value == kink.other_value:
        return note + (f"it would be {other} too: the gradient arriving at that entry is 0, so here the "
                       "convention changes nothing.")
    below = f" and every gradient below layer {k}" if k > 1 else ""
    return note + f"it would be {other}, and dJ/db{k}, dJ/dW{k}{below} would change with it."


def layer_formula(k: int, activation: str) -> str:
    """`Z2 = A1 · W2ᵀ + b2, then A2 = ReLU(Z2)`."""
    previous = "X" if k == 1 else f"A{k - 1}"
    return f"Layer {k}: Z{k} = {previous} · W{k}ᵀ + b{k}, then A{k} = {activation_name(activation)}(Z{k})"


def loss_notes(solution) -> tuple[str, ...]:
    """Where a clamp of PyTorch's acts on the losses, in the loss's own words."""
    network, forward = solution.walkthrough.network, solution.forward
    return network.loss.loss_notes(forward.A[-1], forward.Y, f"A{len(network.layers)}")


def loss_formula(solution) -> str:
    """What L and J are."""
    network = solution.walkthrough.network
    N, m = len(network.layers), solution.forward.samples
    return (f"L holds one {loss_name(network.loss.name)} per sample, of A{N} against Y; "
            + (f"the cost J is their mean over the m = {m} samples." if m > 1 else "the cost J is that one loss."))


def update_formula(update, decimals: int) -> str:
    rate = format_number(update.learning_rate, max(decimals, 6))
    return f"{update.name} = {update.parameter} − {rate} · dJ/d{update.parameter}"


def initialization_note(walkthrough) -> str:
    """Which parameters were drawn from the seed, and how, so that a class can reproduce them."""
    return (f"{', '.join(walkthrough.initialized)} drawn from seed {walkthrough.seed}: uniform in ±1/√inputs, "
            "the default of torch.nn.Linear, from numpy's generator (so not PyTorch's numbers). The same seed "
            "always gives the same values; they are shown below, and at full precision with --format json.")


def summary(solution) -> str:
    """The network in one line: samples, layers with their activations, loss and learning rate."""
    walkthrough = solution.walkthrough
    network = walkthrough.network
    shape = " → ".join([str(walkthrough.X.shape[1])] + [
        f"{layer.units} ({activation_name(layer.activation.name)})" for layer in network.layers])
    m = solution.forward.samples
    return (f"{m} sample{'s' * (m != 1)} · layers {shape} · {loss_name(network.loss.name)} · "
            f"learning rate {format_number(walkthrough.learning_rate, 12)}")
