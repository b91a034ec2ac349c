"""Cross-checks against PyTorch (float64, autograd): every quantity, saturated outputs included.

PyTorch is the oracle of the tests, never a dependency of the tool: `make test` installs its CPU
build, and where it is missing these tests are skipped.
"""

import numpy as np
import pytest

from jacobian_bp import solve
from jacobian_bp.network import Layer, Network
from jacobian_bp.nodes import ACTIVATIONS, LOSSES
from jacobian_bp.walkthrough import Walkthrough

torch = pytest.importorskip("torch")
F = torch.nn.functional

NETWORKS = 1000
LEARNING_RATE = 0.1
LARGEST_PRE_ACTIVATION = 50.0
HIDDEN = ("relu", "leaky_relu", "sigmoid", "tanh", "identity")
TORCH_ACTIVATIONS = {"relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                     "identity": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=1)}


def saturated_network(rng: np.random.Generator) -> Walkthrough:
    """A random network whose output pre-activations reach up to ±50: softmax with cross-entropy or sigmoid with BCE."""
    loss_name = str(rng.choice(["cross_entropy", "binary_cross_entropy"]))
    output = LOSSES[loss_name].output_activations[0]
    depth, batch = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    widths = rng.integers(1, 5, size=depth + 1)
    if output == "softmax":
        widths[-1] = max(widths[-1], 2)
    activations = [str(rng.choice(HIDDEN)) for _ in range(depth - 1)] + [output]
    X = rng.normal(0, 1, size=(batch, widths[0]))
    layers, A = [], X
    for k in range(depth):
        W = rng.normal(0, 1, size=(widths[k + 1], widths[k]))
        b = rng.normal(0, 0.5, size=(1, widths[k + 1]))
        if k == depth - 1:  # scale the last layer so that its largest |z| is drawn up to 50
            scale = rng.uniform(1, LARGEST_PRE_ACTIVATION) / max(float(np.abs(A @ W.T + b).max()), 1e-3)
            W, b = W * scale, b * scale
        layer = Layer(W=W, b=b, activation=ACTIVATIONS[activations[k]]())
        layers.append(layer)
        A = layer.activation.forward(A @ W.T + b)
    if loss_name == "cross_entropy":
        hot = np.eye(widths[-1])[rng.integers(0, widths[-1], size=batch)]
        soft = rng.dirichlet(np.ones(widths[-1]), size=batch)
        Y = hot if rng.random() < 0.7 else soft
    else:
        Y = rng.integers(0, 2, size=(batch, widths[-1])).astype(float) if rng.random() < 0.7 else \
            rng.uniform(0, 1, size=(batch, widths[-1]))
    network = Network(tuple(layers), LOSSES[loss_name]())
    return Walkthrough(name="random", title="random", description="", network=network, X=X, Y=Y,
                       learning_rate=LEARNING_RATE, decimals=4, seed=0)


def pytorch_quantities(walkthrough: Walkthrough) -> dict[str, np.ndarray]:
    """The same quantities from PyTorch's autograd: cross-entropy on the logits, BCE on the probabilities."""
    network = walkthrough.network
    N = len(network.layers)
    X, Y = torch.tensor(walkthrough.X), torch.tensor(walkthrough.Y)
    parameters, kept = {}, {}
    A = X
    for k, layer in enumerate(network.layers, start=1):
        W = parameters[f"W{k}"] = torch.tensor(layer.W, requires_grad=True)
        b = parameters[f"b{k}"] = torch.tensor(layer.b, requires_grad=True)
        Z = kept[f"Z{k}"] = A @ W.T + b
        A = kept[f"A{k}"] = TORCH_ACTIVATIONS[layer.activation.name](Z)
    if network.loss.name == "cross_entropy":
        L = F.cross_entropy(kept[f"Z{N}"], Y, reduction="none").unsqueeze(1)
    else:
        L = F.binary_cross_entropy(A, Y, reduction="none").mean(dim=1, keepdim=True)
    kept["L"] = L
    J = L.mean()
    for tensor in kept.values():
        tensor.retain_grad()
    J.backward()
    values = {"J": J.item()}
    for name, tensor in {**kept, **parameters}.items():
        values[name] = tensor.detach().numpy()
        if name != f"A{N}" or network.loss.name != "cross_entropy":  # A_N is not on the logits' graph
            values[f"dJ/d{name}"] = tensor.grad.numpy()
    for name, tensor in parameters.items():
        values[f"{name}_updated"] = (tensor - LEARNING_RATE * tensor.grad).detach().numpy()
    if network.loss.name == "cross_entropy":  # dJ/dA_N = −Y/(m·A) on the graph through the probabilities
        probabilities = torch.softmax(kept[f"Z{N}"].detach(), dim=1).requires_grad_()
        torch.where(Y != 0, -Y * torch.log(probabilities), 0.0).sum(dim=1).mean().backward()
        values[f"dJ/dA{N}"] = probabilities.grad.numpy()
    return values


def test_every_quantity_equals_pytorch_with_saturated_outputs():
    rng = np.random.default_rng(20261129)
    saturated = 0
    for number in range(NETWORKS):
        walkthrough = saturated_network(rng)
        ours = solve(walkthrough).quantities
        theirs = pytorch_quantities(walkthrough)
        for name, expected in theirs.items():
            np.testing.assert_allclose(ours[name], expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"network {number}: {name}")
        probabilities = ours[f"A{len(walkthrough.network.layers)}"]
        saturated += bool(np.any(np.minimum(probabilities, 1 - probabilities) < 1e-12))
    assert saturated > NETWORKS // 4  # the check reaches the regime it is about


def test_the_saturated_softmax_of_the_issue_equals_pytorch():
    """One sample, Y = [1, 0], z = [0, 30]: a clamp would give dJ/db1 = [−0.0936, 0.0936]; the truth is [−1, 1]."""
    walkthrough = Walkthrough(
        name="saturated softmax", title="", description="", X=np.array([[1.0]]), Y=np.array([[1.0, 0.0]]),
        network=Network((Layer(W=np.array([[0.0], [30.0]]), b=np.zeros((1, 2)), activation=ACTIVATIONS["softmax"]()),),
                        LOSSES["cross_entropy"]()),
        learning_rate=LEARNING_RATE, decimals=4, seed=0)
    solution = solve(walkthrough)
    np.testing.assert_allclose(solution.quantities["dJ/db1"], [[-1.0, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(solution.quantities["J"], 30.0, rtol=1e-12)
    (note,) = solution.step("dJ/dA1").notes
    assert "A1 row 1, column 1 is 9.36e-14: the softmax is saturated" in note
