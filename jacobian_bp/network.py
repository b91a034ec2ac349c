"""A fully connected network and its forward pass, which records every `Z` and `A`."""

from dataclasses import dataclass

import numpy as np

from .nodes import Activation, Dense, Loss, MeanCost


@dataclass(frozen=True)
class Layer:
    """One dense layer followed by its activation; `W` is `units × inputs`, `b` is `1 × units`."""

    W: np.ndarray
    b: np.ndarray
    activation: Activation

    @property
    def units(self) -> int:
        return self.W.shape[0]

    @property
    def inputs(self) -> int:
        return self.W.shape[1]


@dataclass(frozen=True)
class ForwardPass:
    """Everything the forward pass computed; `A[0]` is `X`, so `Z[k]` and `A[k]` belong to layer k.

    `Z[0]` is `None`: the input has no pre-activation.
    """

    X: np.ndarray
    Y: np.ndarray
    Z: list
    A: list
    L: np.ndarray
    J: float

    @property
    def samples(self) -> int:
        return self.X.shape[0]


@dataclass(frozen=True)
class Network:
    """Layers numbered from 1 (`layers[0]` is layer 1) and the loss after the last one."""

    layers: tuple[Layer, ...]
    loss: Loss

    def forward(self, X: np.ndarray, Y: np.ndarray) -> ForwardPass:
        """Run the batch `X` through every layer, then the loss against `Y` and the mean cost."""
        Z: list = [None]
        A: list = [X]
        for layer in self.layers:
            Z.append(Dense.forward(A[-1], layer.W, layer.b))
            A.append(layer.activation.forward(Z[-1]))
        L = self.loss.forward(A[-1], Y)
        return ForwardPass(X=X, Y=Y, Z=Z, A=A, L=L, J=MeanCost.forward(L))

    def layer(self, k: int) -> Layer:
        """Layer k, counted from 1 as in the article."""
        return self.layers[k - 1]


def jacobian_shapes(widths: list[int], samples: int) -> dict[str, tuple[int, int]]:
    """Every local Jacobian the backward pass builds, by name, with its shape.

    `widths` are the units of every layer, the input features first. Only the architecture and
    the batch size are needed, so the sizes can be checked before anything is allocated.
    """
    N = len(widths) - 1
    m = samples
    shapes = {"dJ/dL": (1, m), f"dL/dA{N}": (m, m * widths[N])}
    for k in range(N, 0, -1):
        units, inputs = widths[k], widths[k - 1]
        shapes[f"dA{k}/dZ{k}"] = (m * units, m * units)
        shapes[f"dZ{k}/db{k}"] = (m * units, units)
        shapes[f"dZ{k}/dW{k}"] = (m * units, units * inputs)
        if k > 1:
            shapes[f"dZ{k}/dA{k - 1}"] = (m * units, m * inputs)
    return shapes
