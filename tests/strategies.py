"""Shared hypothesis strategies: random small networks, with values kept away from kinks."""

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st

from jacobian_bp.network import Layer, Network
from jacobian_bp.nodes import ACTIVATIONS, LOSSES
from jacobian_bp.walkthrough import Walkthrough

KINK_MARGIN = 1e-3
SATURATION = 1e-4


def targets_for(loss_name: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Targets that suit the loss: probabilities for cross-entropies, any values for regression."""
    if loss_name == "binary_cross_entropy":
        return rng.uniform(0, 1, size=shape).round(1)
    if loss_name == "cross_entropy":
        return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    if loss_name == "mean_squared_error":
        return rng.normal(0, 1, size=shape)
    raise KeyError(loss_name)


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
    layers = []
    for k in range(depth):
        settings = {name: draw(st.sampled_from([default, 0.2, 0.5]))
                    for name, default in ACTIVATIONS[activations[k]].parameters.items()}
        activation = ACTIVATIONS[activations[k]](**settings)
        layers.append(Layer(W=rng.normal(0, 1, size=(widths[k + 1], widths[k])),
                            b=rng.normal(0, 0.5, size=(1, widths[k + 1])), activation=activation))
    network = Network(layers=tuple(layers), loss=LOSSES[loss_name]())
    X = rng.normal(0, 1, size=(batch, widths[0]))
    Y = targets_for(loss_name, rng, (batch, widths[-1]))
    forward = network.forward(X, Y)
    for k, layer in enumerate(layers, start=1):
        near = np.abs(forward.Z[k]) < KINK_MARGIN
        has_kink = layer.activation.kinks(np.zeros((1, 1))).any()
        if has_kink and near.any():
            reject()
    if LOSSES[loss_name].output_activations and np.any(np.minimum(forward.A[-1], 1 - forward.A[-1]) < SATURATION):
        reject()  # log(1 − a) of a saturated output has too few digits left for finite differences
    return Walkthrough(name="random", title="random network", description="", network=network, X=X, Y=Y,
                       learning_rate=0.1, decimals=4, seed=0)
