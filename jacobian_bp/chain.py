"""The chain engine: walks the graph backwards, one full Jacobian per step, then one SGD step.

Every backward step multiplies the upstream gradient, as a row-major row, by the full local
Jacobian and folds the product back into the shape of the variable. The step also records the
framework shortcut for the same gradient, so that anyone can see that the two agree.
"""

from dataclasses import dataclass, field

import numpy as np

from .network import ForwardPass, Network
from .nodes import Dense, MeanCost
from .vec import devec, vec


@dataclass(frozen=True)
class Kink:
    """An entry of `Z` exactly at an activation's kink, where the derivative is a convention.

    `position` is (row, column) counted from 0. `value` is the entry of `dJ/dZ` under the
    convention in force; `other_value` is what it would be under the other common convention.
    """

    position: tuple[int, int]
    derivative: float
    other_derivative: float
    value: float
    other_value: float


@dataclass(frozen=True)
class Step:
    """One application of the chain rule: `gradient = upstream · jacobian`, de-vectorized.

    `number` 0 is the seed `dJ/dL = dJ/dJ · dJ/dL` with `dJ/dJ = 1`; the steps after it count
    from 1. `section` is the step's heading in the article's numbering, where the bias and
    weight gradients of one layer share a heading. `node` names the function whose local
    Jacobian is used and `variable` the quantity the gradient is taken with respect to.
    """

    number: int
    section: int
    kind: str
    layer: int
    node: str
    variable: str
    gradient: str
    upstream: str
    jacobian_name: str
    upstream_row: np.ndarray
    jacobian: np.ndarray
    product_row: np.ndarray
    result: np.ndarray
    shortcut: np.ndarray
    shortcut_formula: str
    kinks: tuple[Kink, ...] = field(default=())
    fused: np.ndarray | None = None
    fused_formula: str = ""
    notes: tuple[str, ...] = ()  # where a clamp of PyTorch's acts or an output saturates, in the node's words


@dataclass(frozen=True)
class Update:
    """One SGD step on one parameter: `new = old − learning_rate · gradient`."""

    parameter: str
    layer: int
    old: np.ndarray
    gradient: np.ndarray
    new: np.ndarray
    learning_rate: float

    @property
    def name(self) -> str:
        return f"{self.parameter}_updated"


def chain_rule(upstream: np.ndarray, jacobian: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The chain rule as the article does it: `devec(vec(upstream) · jacobian)` in the variable's shape."""
    return devec(vec(upstream) @ jacobian, shape)


def _step(number, section, kind, layer, node, variable, upstream_name, upstream, jacobian_name,
          jacobian, shortcut, shortcut_formula, kinks=(), fused=None, fused_formula="", notes=()) -> Step:
    """Multiply the upstream gradient's row by the Jacobian and fold it into the variable's shape."""
    result = chain_rule(upstream, jacobian, shortcut.shape)
    return Step(
        number=number, section=section, kind=kind, layer=layer, node=node, variable=variable,
        gradient=f"dJ/d{variable}", upstream=upstream_name, jacobian_name=jacobian_name,
        upstream_row=vec(upstream), jacobian=jacobian, product_row=vec(result), result=result, shortcut=shortcut,
        shortcut_formula=shortcut_formula, kinks=tuple(kinks), fused=fused, fused_formula=fused_formula,
        notes=tuple(notes),
    )


def _kinks(activation, Z, dA, dZ) -> list[Kink]:
    """Describe every entry of `Z` that sits exactly on a kink of the activation."""
    positions = np.argwhere(activation.kinks(Z))
    if not len(positions):
        return []
    in_force, other = activation.derivative_at_kink()
    return [
        Kink(position=(int(i), int(j)), derivative=in_force, other_derivative=other,
             value=float(dZ[i, j]), other_value=float(dA[i, j] * other))
        for i, j in positions
    ]


def _mean(outputs: int) -> str:
    """The "÷ n" of a loss averaged over n > 1 outputs per sample."""
    return "" if outputs == 1 else f" ÷ {outputs}"


def backpropagate(network: Network, forward: ForwardPass) -> list[Step]:
    """All backward steps in the article's order: `dJ/dL`, `dJ/dAN`, `dJ/dZN`, `dJ/dbN`, `dJ/dWN`, …"""
    m = forward.samples
    N = len(network.layers)
    seed = np.ones((1, 1))
    steps = [_step(0, 1, "cost", N, "J", "L", "dJ/dJ", seed, "dJ/dL", MeanCost.jacobian(m),
                   MeanCost.shortcut(m), MeanCost.shortcut_formula)]
    gradient = steps[0].result
    number, section = 1, 1

    def add(**kwargs) -> np.ndarray:
        nonlocal number
        steps.append(_step(number, section, **kwargs))
        number += 1
        return steps[-1].result

    for k in range(N, 0, -1):
        layer = network.layer(k)
        A_prev, Z, A = forward.A[k - 1], forward.Z[k], forward.A[k]
        section += 1
        if k == N:
            loss = network.loss
            formula = loss.shortcut_formula.format(dL="dJ/dL", A=f"A{k}", mean=_mean(A.shape[1]))
            dA = add(kind="loss", layer=k, node="L", variable=f"A{k}", upstream_name="dJ/dL",
                     upstream=gradient, jacobian_name=f"dL/dA{k}",
                     jacobian=loss.jacobian(A, forward.Y),
                     shortcut=loss.shortcut(gradient, A, forward.Y), shortcut_formula=formula,
                     notes=loss.derivative_notes(A, forward.Y, f"A{k}"))
        else:
            upper = network.layer(k + 1)
            dA = add(kind="dense_input", layer=k + 1, node=f"Z{k + 1}", variable=f"A{k}",
                     upstream_name=f"dJ/dZ{k + 1}", upstream=gradient,
                     jacobian_name=f"dZ{k + 1}/dA{k}",
                     jacobian=Dense.jacobian_wrt_input(upper.W, m),
                     shortcut=Dense.shortcut_wrt_input(gradient, upper.W),
                     shortcut_formula=f"dJ/dZ{k + 1} · W{k + 1}")

        section += 1
        activation = layer.activation
        shortcut = activation.shortcut(dA, Z, A)
        fused, fused_formula = None, ""
        if k == N and network.loss.fuses_with == activation.name:
            fused = steps[0].result * network.loss.fused_derivative(A, forward.Y)
            count = "m" if A.shape[1] == 1 else f"(m·{A.shape[1]})"
            fused_formula = network.loss.fused_formula.format(A=f"A{k}", count=count)
        dZ = add(kind="activation", layer=k, node=f"A{k}", variable=f"Z{k}",
                 upstream_name=f"dJ/dA{k}", upstream=dA, jacobian_name=f"dA{k}/dZ{k}",
                 jacobian=activation.jacobian(Z, A), shortcut=shortcut,
                 shortcut_formula=activation.shortcut_formula.format(dA=f"dJ/dA{k}", Z=f"Z{k}", A=f"A{k}"),
                 kinks=_kinks(activation, Z, dA, shortcut), fused=fused, fused_formula=fused_formula)

        section += 1
        add(kind="dense_bias", layer=k, node=f"Z{k}", variable=f"b{k}", upstream_name=f"dJ/dZ{k}",
            upstream=dZ, jacobian_name=f"dZ{k}/db{k}",
            jacobian=Dense.jacobian_wrt_bias(m, layer.units),
            shortcut=Dense.shortcut_wrt_bias(dZ), shortcut_formula=f"column sums of dJ/dZ{k}")
        add(kind="dense_weights", layer=k, node=f"Z{k}", variable=f"W{k}",
            upstream_name=f"dJ/dZ{k}", upstream=dZ, jacobian_name=f"dZ{k}/dW{k}",
            jacobian=Dense.jacobian_wrt_weights(A_prev, layer.units),
            shortcut=Dense.shortcut_wrt_weights(dZ, A_prev),
            shortcut_formula=f"(dJ/dZ{k})ᵀ · A{k - 1}" if k > 1 else "(dJ/dZ1)ᵀ · X")
        gradient = dZ
    return steps


def sgd_update(network: Network, steps: list[Step], learning_rate: float) -> list[Update]:
    """One plain SGD step on every parameter, layer 1 first and the bias before the weights."""
    gradients = {step.variable: step.result for step in steps}
    updates = []
    for k, layer in enumerate(network.layers, start=1):
        for parameter, old in ((f"b{k}", layer.b), (f"W{k}", layer.W)):
            gradient = gradients[parameter]
            updates.append(Update(parameter=parameter, layer=k, old=old, gradient=gradient,
                                  new=old - learning_rate * gradient, learning_rate=learning_rate))
    return updates


def graph_nodes(network: Network) -> list[str]:
    """The computational graph's main path, left to right: `X`, `Z1`, `A1`, …, `L`, `J`."""
    nodes = ["X"]
    for k in range(1, len(network.layers) + 1):
        nodes += [f"Z{k}", f"A{k}"]
    return nodes + ["L", "J"]
