"""Shared hypothesis strategies: random small networks, with values kept away from kinks."""

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st

from jacobian_bp.graph import Graph, Node, closing_nodes
from jacobian_bp.ops import ACTIVATIONS, INPUT, LOSSES, REDUCTIONS, Add, Concat, Dense, input_roles
from jacobian_bp.walkthrough import Walkthrough, from_layers

KINK_MARGIN = 1e-3
SATURATION = 1e-4


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
    then an output layer that suits a random loss, and L2 regularization half of the time.

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

    def join(op, inputs: list[str]) -> str:
        name = f"V{len(nodes) + 1}"
        nodes.append(Node(name, op, dict(zip(input_roles(len(inputs)), inputs, strict=True))))
        shapes[name] = op.output_shape({role: shapes[v] for role, v in nodes[-1].roles.items()})
        return name

    last = "X"
    for _ in range(draw(st.integers(1, max_nodes))):
        variables = [name for name in shapes]
        kind = draw(st.sampled_from(["dense", "activation", "add", "concat"]))
        if kind == "activation" and last != "X":
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
    weights = tuple(name for node in nodes for name in node.parameters.values() if name.startswith("W"))
    graph = Graph(tuple(nodes + closing_nodes(last, loss, l2, weights, draw(st.sampled_from(REDUCTIONS)))),
                  output=last)
    walkthrough = Walkthrough(name="random graph", title="random graph", description="", graph=graph, given=given,
                              learning_rate=0.1, decimals=4, seed=0)
    values = graph.forward(given)
    at_zero = {INPUT: np.zeros((1, 1)), "output": np.zeros((1, 1))}
    for node in nodes:
        kinks = node.op.kinks(INPUT, at_zero) if INPUT in node.roles else None
        if kinks is not None and kinks.any() and (np.abs(values[node.roles[INPUT]]) < KINK_MARGIN).any():
            reject()  # finite differences are meaningless next to a kink
    if loss.takes_probabilities and np.any(np.minimum(values[last], 1 - values[last]) < SATURATION):
        reject()
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
