"""Shared hypothesis strategies: random small networks, with values kept away from kinks."""

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st

from jacobian_bp.graph import Graph, Node, closing_nodes
from jacobian_bp.ops import (
    ACTIVATIONS,
    INPUT,
    LOSSES,
    OPS,
    REDUCTIONS,
    Add,
    Concat,
    Conv1d,
    Conv2d,
    Dense,
    MaxPool2d,
    Normalization,
    input_roles,
)
from jacobian_bp.walkthrough import Walkthrough, from_layers

KINK_MARGIN = 1e-3
SATURATION = 1e-4
SPREAD = 1e-2
PICTURE = (1, 2, 2)
PICTURE_SIZE = 4


def targets_for(loss_name: str, rng: np.random.Generator, shape: tuple[int, int], indices: bool = False) -> np.ndarray:
    """Targets that suit the loss, by the kind it declares: probabilities, class rows (or class indices), any values."""
    kind = LOSSES[loss_name].targets_kind
    if kind == "probabilities":
        return rng.uniform(0, 1, size=shape).round(1)
    if kind == "classes":
        classes = rng.integers(0, shape[1], size=shape[0])
        return classes[:, None].astype(float) if indices else np.eye(shape[1])[classes]
    return rng.normal(0, 1, size=shape)


def loss_for(draw, loss_name: str):
    """The loss, with class-index targets half of the time where it takes them, and its targets' form."""
    indices = LOSSES[loss_name].takes_indices and draw(st.booleans())
    return LOSSES[loss_name](indices=indices), indices


@st.composite
def walkthroughs(draw, max_depth: int = 4, max_width: int = 5, max_batch: int = 4):
    """A random network and batch: depth 1–4, widths 1–5, batch 1–4, any activation and loss.

    Weights and inputs come from a seeded generator; a draw whose pre-activations come within
    KINK_MARGIN of an activation's kink is rejected, since finite differences are meaningless there.
    """
    depth = draw(st.integers(1, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    batch = draw(st.integers(1, max_batch))
    loss_name = draw(st.sampled_from(sorted(LOSSES)))
    hidden = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=depth - 1, max_size=depth - 1))
    activations = hidden + [draw(st.sampled_from(LOSSES[loss_name].output_activations or sorted(ACTIVATIONS)))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W, b, chosen = [], [], []
    for k in range(depth):
        settings = {name: draw(st.sampled_from([default, 0.2, 0.5]))
                    for name, default in ACTIVATIONS[activations[k]].settings.items()}
        chosen.append(ACTIVATIONS[activations[k]](**settings))
        W.append(rng.normal(0, 1, size=(widths[k + 1], widths[k])))
        b.append(rng.normal(0, 0.5, size=(1, widths[k + 1])))
    X = rng.normal(0, 1, size=(batch, widths[0]))
    loss, indices = loss_for(draw, loss_name)
    Y = targets_for(loss_name, rng, (batch, widths[-1]), indices)
    walkthrough = from_layers(X, Y, W, b, chosen, loss, learning_rate=0.1, name="random",
                              reduction=draw(st.sampled_from(REDUCTIONS)))
    values = walkthrough.graph.forward(walkthrough.given)
    for k, activation in enumerate(chosen, start=1):
        if activation.kink_mask(np.zeros((1, 1))).any() and (np.abs(values[f"Z{k}"]) < KINK_MARGIN).any():
            reject()
    A = values[f"A{depth}"]
    if LOSSES[loss_name].takes_probabilities and np.any(np.minimum(A, 1 - A) < SATURATION):
        reject()  # log(1 − a) of a saturated output has too few digits left for finite differences
    return walkthrough


@st.composite
def graphs(draw, max_nodes: int = 6, max_width: int = 4, max_batch: int = 3):
    """A random DAG: dense layers, every activation, residual `add`s and `concat`s of earlier variables,
    normalizations, dropout, 1-D convolutions of a row read as a sequence, 2-D convolutions and pooling of a
    row of 4 read as a 2 × 2 image, then an output layer that
    suits a random loss, and L2 regularization half of the time.

    Values are drawn from a seeded generator; draws near a kink or a saturated output are rejected.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.integers(1, max_batch))
    shapes = {"X": (batch, draw(st.integers(1, max_width)))}
    given = {"X": rng.normal(0, 1, size=shapes["X"])}
    nodes, numbered = [], 0

    def dense(source: str, units: int) -> str:
        nonlocal numbered
        numbered += 1
        name = f"V{len(nodes) + 1}"
        W, b = f"W{numbered}", f"b{numbered}"
        given[W] = rng.normal(0, 1, size=(units, shapes[source][1]))
        given[b] = rng.normal(0, 0.5, size=(1, units))
        nodes.append(Node(name, Dense(units), {INPUT: source, "W": W, "b": b}, layer=numbered))
        shapes[name] = (batch, units)
        return name

    def join(op, inputs: list[str], parameters: dict | None = None) -> str:
        """A node of `op` on `inputs`, with its `parameters` (by role) named after the node."""
        nonlocal numbered
        name = f"V{len(nodes) + 1}"
        roles = dict(zip(input_roles(len(inputs)), inputs, strict=True))
        if parameters:
            numbered += 1
            for role, value in parameters.items():
                given[f"{role}{numbered}"] = value
                roles[role] = f"{role}{numbered}"
        nodes.append(Node(name, op, roles, layer=numbered if parameters else None))
        shapes[name] = op.output_shape({role: given[v].shape if v in given else shapes[v] for role, v in roles.items()})
        return name

    last = "X"
    for _ in range(draw(st.integers(1, max_nodes))):
        variables = [name for name in shapes]
        kind = draw(st.sampled_from(["dense", "activation", "add", "concat", "normalize", "convolve", "picture"]))
        if kind == "picture" and shapes[last][1] != PICTURE_SIZE:
            kind = "convolve"
        if kind == "normalize" and last != "X":
            chosen = draw(st.sampled_from(["layer_norm", "dropout"] + (["batch_norm"] if batch > 1 else [])))
            op = OPS[chosen](**({"seed": draw(st.integers(0, 9)), "p": 0.25} if chosen == "dropout" else {}))
            last = join(op, [last], {role: rng.normal(1, 0.5, size=shape) for role, shape in
                                     op.parameter_shapes({INPUT: shapes[last]}).items()})
        elif kind == "picture" and last != "X":  # the row as a 1 × 2 × 2 image
            chosen = draw(st.sampled_from(["conv2d", "max_pool2d", "avg_pool2d"]))
            kernel = draw(st.integers(1, 2))
            op = (Conv2d(out_channels=draw(st.integers(1, 2)), kernel_size=kernel, padding=draw(st.integers(0, 1)),
                         in_shape=PICTURE) if chosen == "conv2d" else OPS[chosen](kernel_size=kernel, in_shape=PICTURE))
            last = join(op, [last], {role: rng.normal(0, 1, size=shape) for role, shape in
                                     op.parameter_shapes({INPUT: shapes[last]}).items()})
        elif kind == "convolve" and last != "X":
            length = shapes[last][1]  # the row as a sequence of one channel
            kernel = draw(st.integers(1, min(length, 3)))
            op = Conv1d(out_channels=draw(st.integers(1, 2)), kernel_size=kernel, stride=draw(st.integers(1, 2)),
                        padding=draw(st.integers(0, 1)), in_shape=(1, length))
            last = join(op, [last], {role: rng.normal(0, 1, size=shape) for role, shape in
                                     op.parameter_shapes({INPUT: shapes[last]}).items()})
        elif kind == "activation" and last != "X":
            name = draw(st.sampled_from(sorted(set(ACTIVATIONS) - {"softmax"})))
            settings = {key: draw(st.sampled_from([default, 0.2]))
                        for key, default in ACTIVATIONS[name].settings.items()}
            last = join(ACTIVATIONS[name](**settings), [last])
        elif kind == "add" and last != "X":
            partners = [v for v in variables if v != last and shapes[v] == shapes[last]]
            last = join(Add(), [last, draw(st.sampled_from(partners))]) if partners else dense(last, shapes[last][1])
        elif kind == "concat":
            others = [v for v in variables if v != last]
            last = join(Concat(), [last, draw(st.sampled_from(others))]) if others else dense(last, 2)
        else:
            last = dense(last, draw(st.integers(1, max_width)))
    loss_name = draw(st.sampled_from(sorted(LOSSES)))
    loss, indices = loss_for(draw, loss_name)
    outputs = draw(st.integers(2 if LOSSES[loss_name].targets_kind == "classes" else 1, max_width))
    last = dense(last, outputs)
    if loss.output_activations:
        last = join(ACTIVATIONS[loss.output_activations[0]](), [last])
    given["Y"] = targets_for(loss_name, rng, shapes[last], indices)
    l2 = draw(st.sampled_from([0.0, 0.1]))
    weights = tuple(node.roles[role] for node in nodes for role in node.op.penalized if role in node.roles)
    graph = Graph(tuple(nodes + closing_nodes(last, loss, l2, weights, draw(st.sampled_from(REDUCTIONS)))),
                  output=last)
    walkthrough = Walkthrough(name="random graph", title="random graph", description="", graph=graph, given=given,
                              learning_rate=0.1, decimals=4, seed=0)
    values = graph.forward(given)
    at_zero = {INPUT: np.zeros((1, 1)), "output": np.zeros((1, 1))}
    for node in nodes:
        kinks = node.op.kinks(INPUT, at_zero) if INPUT in node.roles and not node.op.needs_image else None
        if kinks is not None and kinks.any() and (np.abs(values[node.roles[INPUT]]) < KINK_MARGIN).any():
            reject()  # finite differences are meaningless next to a kink
    if loss.takes_probabilities and np.any(np.minimum(values[last], 1 - values[last]) < SATURATION):
        reject()
    for node in nodes:
        if isinstance(node.op, MaxPool2d):  # a tie in a window: the two conventions differ, differences see neither
            window = node.op.window_values(values[node.roles[INPUT]])
            gaps = np.diff(np.sort(window, axis=2)[:, :, -2:], axis=2) if window.shape[2] > 1 else np.ones(1)
            if (gaps < KINK_MARGIN).any():
                reject()
        if isinstance(node.op, Normalization) and values[node.roles[INPUT]].var(axis=node.op.axis).min() < SPREAD:
            reject()  # normalizing numbers that hardly differ magnifies rounding beyond what differences resolve
    return walkthrough


def written_out_names() -> list[str]:
    """The bundled walkthroughs whose every local Jacobian is small enough to be built and written out whole
    (not `mnist_shape`, whose Jacobians are shown by their structure: tests/test_structured.py covers it)."""
    from jacobian_bp.structured import SMALL
    from jacobian_bp.walkthrough import bundled_names, load

    def small(name: str) -> bool:
        walkthrough = load(name)
        graph = walkthrough.graph
        shapes = graph.shapes({name: value.shape for name, value in walkthrough.given.items()})
        return all(rows * columns <= SMALL for rows, columns in graph.jacobian_shapes(shapes).values())

    return [name for name in bundled_names() if small(name)]
