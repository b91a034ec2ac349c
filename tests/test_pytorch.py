"""Cross-checks against PyTorch (float64, autograd): every quantity, saturated outputs included.

PyTorch is the oracle of the tests, never a dependency of the tool: `make test` installs its CPU
build, and where it is missing these tests are skipped.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jacobian_bp import load, solve
from jacobian_bp.ops import (
    ACTIVATIONS,
    LOSSES,
    REDUCTIONS,
    AvgPool2d,
    BatchNorm,
    Convolution,
    Dropout,
    LayerNorm,
    MaxPool2d,
    MeanCost,
    Normalization,
)
from jacobian_bp.optimizers import OPTIMIZERS
from jacobian_bp.walkthrough import Walkthrough, WalkthroughError, from_layers
from tests.strategies import graphs, targets_for, written_out_names

torch = pytest.importorskip("torch")
F = torch.nn.functional

NETWORKS = 1000
LEARNING_RATE = 0.1
LARGEST_PRE_ACTIVATION = 50.0
HIDDEN = ("relu", "leaky_relu", "sigmoid", "tanh", "identity", "gelu", "elu", "softplus")
TORCH_ACTIVATIONS = {"relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                     "identity": lambda z: z.clone(), "softmax": lambda z: torch.softmax(z, dim=1), "gelu": F.gelu,
                     "elu": F.elu, "softplus": F.softplus}


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
    Ws, bs, chosen, A = [], [], [], X
    for k in range(depth):
        W = rng.normal(0, 1, size=(widths[k + 1], widths[k]))
        b = rng.normal(0, 0.5, size=(1, widths[k + 1]))
        if k == depth - 1:  # scale the last layer so that its largest |z| is drawn up to 50
            scale = rng.uniform(1, LARGEST_PRE_ACTIVATION) / max(float(np.abs(A @ W.T + b).max()), 1e-3)
            W, b = W * scale, b * scale
        activation = ACTIVATIONS[activations[k]]()
        Ws.append(W)
        bs.append(b)
        chosen.append(activation)
        A = activation.activation_forward(A @ W.T + b)
    if loss_name == "cross_entropy":
        hot = np.eye(widths[-1])[rng.integers(0, widths[-1], size=batch)]
        soft = rng.dirichlet(np.ones(widths[-1]), size=batch)
        Y = hot if rng.random() < 0.7 else soft
    else:
        Y = rng.integers(0, 2, size=(batch, widths[-1])).astype(float) if rng.random() < 0.7 else \
            rng.uniform(0, 1, size=(batch, widths[-1]))
    return from_layers(X, Y, Ws, bs, chosen, LOSSES[loss_name](), learning_rate=LEARNING_RATE, name="random")


def pytorch_quantities(walkthrough: Walkthrough) -> dict[str, np.ndarray]:
    """The same quantities from PyTorch's autograd: cross-entropy on the logits, BCE on the probabilities."""
    graph, given = walkthrough.graph, walkthrough.given
    layers = [node for node in graph.nodes if node.layer]
    N = len(layers) // 2
    loss_name = graph.loss_node.op.name
    X, Y = torch.tensor(walkthrough.X), torch.tensor(walkthrough.Y)
    parameters, kept = {}, {}
    A = X
    for k in range(1, N + 1):
        W = parameters[f"W{k}"] = torch.tensor(given[f"W{k}"], requires_grad=True)
        b = parameters[f"b{k}"] = torch.tensor(given[f"b{k}"], requires_grad=True)
        Z = kept[f"Z{k}"] = A @ W.T + b
        A = kept[f"A{k}"] = TORCH_ACTIVATIONS[graph.producers[f"A{k}"].op.name](Z)
    if loss_name == "cross_entropy":
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
        if name != f"A{N}" or loss_name != "cross_entropy":  # A_N is not on the logits' graph
            values[f"dJ/d{name}"] = tensor.grad.numpy()
    for name, tensor in parameters.items():
        values[f"{name}_updated"] = (tensor - LEARNING_RATE * tensor.grad).detach().numpy()
    if loss_name == "cross_entropy":  # dJ/dA_N = −Y/(m·A) on the graph through the probabilities
        probabilities = torch.softmax(kept[f"Z{N}"].detach(), dim=1).requires_grad_()
        torch.where(Y != 0, -Y * torch.log(probabilities), 0.0).sum(dim=1).mean().backward()
        values[f"dJ/dA{N}"] = probabilities.grad.numpy()
    return values


def test_every_quantity_equals_pytorch_with_saturated_outputs():
    rng = np.random.default_rng(20261129)
    saturated = 0
    refused = 0
    for number in range(NETWORKS):
        walkthrough = saturated_network(rng)
        try:
            ours = solve(walkthrough).quantities
        except WalkthroughError as error:
            # After the update a softmax probability can underflow to 0, where −log a (J_final) cannot be written.
            assert "(after the last update, for J_final)" in str(error), error
            refused += 1
            continue
        theirs = pytorch_quantities(walkthrough)
        for name, expected in theirs.items():
            np.testing.assert_allclose(ours[name], expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"network {number}: {name}")
        probabilities = ours[walkthrough.graph.output]
        saturated += bool(np.any(np.minimum(probabilities, 1 - probabilities) < 1e-12))
    assert saturated > NETWORKS // 4  # the check reaches the regime it is about
    assert refused < NETWORKS // 100


def test_the_saturated_softmax_of_the_issue_equals_pytorch():
    """One sample, Y = [1, 0], z = [0, 30]: a clamp would give dJ/db1 = [−0.0936, 0.0936]; the truth is [−1, 1]."""
    walkthrough = from_layers(np.array([[1.0]]), np.array([[1.0, 0.0]]), [np.array([[0.0], [30.0]])],
                              [np.zeros((1, 2))], [ACTIVATIONS["softmax"]()], LOSSES["cross_entropy"](),
                              learning_rate=LEARNING_RATE)
    solution = solve(walkthrough)
    np.testing.assert_allclose(solution.quantities["dJ/db1"], [[-1.0, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(solution.quantities["J"], 30.0, rtol=1e-12)
    (note,) = solution.step("dJ/dA1").notes
    assert "A1 row 1, column 1 is 9.36e-14: the softmax is saturated" in str(note)


def _torch_picture_op(op, values: dict):
    """An op that reads rows as pictures (`in_shape`) or couples samples, in PyTorch; None for any other op."""
    x = values.get("input")
    if isinstance(op, Convolution):
        convolve = F.conv2d if op.spatial == 2 else F.conv1d
        bias = values["c"].reshape(-1) if "c" in values else None
        out = convolve(x.reshape(-1, *op.in_shape), values["K"].reshape(op.parameter_layout("K")), bias,
                       stride=op.stride, padding=op.padding)
    elif isinstance(op, MaxPool2d):
        out = F.max_pool2d(x.reshape(-1, *op.in_shape), op.kernel_size, op.stride)
    elif isinstance(op, AvgPool2d):
        out = F.avg_pool2d(x.reshape(-1, *op.in_shape), op.kernel_size, op.stride)
    elif isinstance(op, BatchNorm):
        out = F.batch_norm(x, None, None, values["gamma"].reshape(-1), values["beta"].reshape(-1), training=True,
                           eps=op.eps)
    elif isinstance(op, LayerNorm):
        out = F.layer_norm(x, (x.shape[1],), values["gamma"].reshape(-1), values["beta"].reshape(-1), eps=op.eps)
    elif isinstance(op, Dropout):
        out = x * torch.tensor(op.mask_for(tuple(x.shape))) / (1 - op.p)
    else:
        return None
    return out.reshape(x.shape[0], -1)


def _torch_forward(op, values: dict):
    """The op's forward in PyTorch, from tensors by role (float64)."""
    pictured = _torch_picture_op(op, values)
    if pictured is not None:
        return pictured
    inputs = [values[role] for role in sorted(values) if role.startswith("input")]
    forward = {
        "dense": lambda: values["input"] @ values["W"].T + (values["b"] if "b" in values else 0),
        "add": lambda: sum(inputs[1:], inputs[0]),
        "concat": lambda: torch.cat(inputs, dim=1),
        "binary_cross_entropy": lambda: F.binary_cross_entropy(values["input"], values["targets"],
                                                               reduction="none").mean(dim=1, keepdim=True),
        "mean_squared_error": lambda: ((values["input"] - values["targets"]) ** 2).mean(dim=1, keepdim=True),
        "cross_entropy": lambda: -(_dense(op, values) * torch.log(values["input"])).sum(dim=1, keepdim=True),
        "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(
            values["input"], values["targets"], reduction="none").mean(dim=1, keepdim=True),
        "cross_entropy_with_logits": lambda: F.cross_entropy(
            values["input"], values["targets"][:, 0].long() if op.indices else values["targets"],
            reduction="none").unsqueeze(1),
        "half_squared_error": lambda: 0.5 * F.mse_loss(values["input"], values["targets"],
                                                       reduction="none").sum(dim=1, keepdim=True),
        "l1": lambda: F.l1_loss(values["input"], values["targets"], reduction="none").mean(dim=1, keepdim=True),
        "huber": lambda: F.huber_loss(values["input"], values["targets"], reduction="none",
                                      delta=op.delta).mean(dim=1, keepdim=True),
        "mean": lambda: (values["input"].sum() if op.summed else values["input"].mean()).reshape(1, 1)
        + (values["penalty"] if "penalty" in values else 0),
        "l2_penalty": lambda: (op.l2 / 2 * sum((tensor ** 2).sum() for tensor in inputs)).reshape(1, 1),
    }
    if op.name == "leaky_relu":
        return F.leaky_relu(values["input"], op.negative_slope)
    if op.name in TORCH_ACTIVATIONS:
        return TORCH_ACTIVATIONS[op.name](values["input"])
    return forward[op.name]()


def _dense(op, values: dict):
    """The targets as rows: one-hot rows where the loss takes class indices."""
    if not getattr(op, "indices", False):
        return values["targets"]
    return F.one_hot(values["targets"][:, 0].long(), values["input"].shape[1]).double()


def pytorch_graph_quantities(walkthrough) -> dict[str, np.ndarray]:
    """Every quantity of any graph from PyTorch's autograd: values, gradients, each path's contribution,
    every local Jacobian (`torch.autograd.functional.jacobian`, flattened row-major) and the SGD update."""
    graph = walkthrough.graph
    tensors = {name: torch.tensor(value, requires_grad=name in graph.owners)
               for name, value in walkthrough.given.items()}
    for node in graph.nodes:
        tensors[node.output] = _torch_forward(node.op, {role: tensors[name] for role, name in node.roles.items()})
        tensors[node.output].retain_grad()
    tensors["J"].backward(retain_graph=True)
    found = {name: tensor.detach().numpy() for name, tensor in tensors.items()}
    grads = {name: tensors[name].grad.clone() for name in graph.backward_order}  # before anything else flows back
    found.update({f"dJ/d{name}": grads[name].numpy() for name in graph.backward_order})
    for name in graph.backward_order:
        edges = graph.consumers(name)
        for edge in edges:
            node = edge.node

            def local(value, node=node, role=edge.role):  # the node alone, its other roles held fixed
                return _torch_forward(node.op, {**{r: tensors[n].detach() for r, n in node.roles.items()}, role: value})

            variable = tensors[name].detach()
            if len(edges) > 1:
                upstream = grads.get(node.output, torch.ones((1, 1), dtype=torch.float64))
                part = torch.autograd.functional.vjp(local, variable, upstream)[1]
                found[f"dJ/d{name} via {node.output}"] = part.numpy()
            if node.output != "J":
                jacobian = torch.autograd.functional.jacobian(local, variable)
                found[edge.jacobian_name] = jacobian.reshape(-1, variable.numel()).numpy()
    for name in graph.parameters:
        step = 0 if name in walkthrough.frozen else walkthrough.learning_rate
        found[f"{name}_updated"] = (tensors[name] - step * grads[name]).detach().numpy()
    return found


@pytest.mark.parametrize("name", written_out_names())
def test_every_quantity_of_every_bundled_walkthrough_equals_pytorch(name):
    walkthrough = load(name)
    ours = solve(walkthrough).computed.quantities  # as computed (samples as rows), whatever the file's conventions
    theirs = pytorch_training(walkthrough)
    assert set(ours) - set(theirs) <= {"X", "Y"}, set(ours) - set(theirs)
    for quantity, value in ours.items():
        np.testing.assert_allclose(np.atleast_2d(value), np.atleast_2d(theirs[quantity]), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}: {quantity}")


@given(walkthrough=graphs())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_loss_and_reduction_on_random_graphs_equals_pytorch(walkthrough):
    """Every quantity of random graphs with every registered loss (class indices, mean, sum) and every op the
    strategy draws (normalizations, dropout, 1-D convolutions among them) against torch."""
    ours = solve(walkthrough).quantities
    theirs = pytorch_graph_quantities(walkthrough)
    for quantity, value in ours.items():
        if quantity in theirs:
            np.testing.assert_allclose(np.atleast_2d(value), np.atleast_2d(theirs[quantity]), rtol=1e-9, atol=1e-12,
                                       err_msg=quantity)


# PyTorch's losses with their own reductions, and how many outputs each of ours averages over.
TORCH_LOSSES = {
    "binary_cross_entropy": lambda a, y, op, r: F.binary_cross_entropy(a, y, reduction=r),
    "mean_squared_error": lambda a, y, op, r: F.mse_loss(a, y, reduction=r),
    "cross_entropy": lambda a, y, op, r: F.nll_loss(torch.log(a), y[:, 0].long(), reduction=r) if op.indices
    else -(y * torch.log(a)).sum() / (a.shape[0] if r == "mean" else 1),
    "binary_cross_entropy_with_logits": lambda a, y, op, r: F.binary_cross_entropy_with_logits(a, y, reduction=r),
    "cross_entropy_with_logits": lambda a, y, op, r: F.cross_entropy(a, y[:, 0].long() if op.indices else y,
                                                                     reduction=r),
    "half_squared_error": lambda a, y, op, r: 0.5 * F.mse_loss(a, y, reduction="sum") / (a.shape[0] if r == "mean"
                                                                                          else 1),
    "l1": lambda a, y, op, r: F.l1_loss(a, y, reduction=r),
    "huber": lambda a, y, op, r: F.huber_loss(a, y, reduction=r, delta=op.delta),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_the_cost_is_pytorchs_reduction_and_sum_is_1_over_k_of_it_for_averaging_losses(name, reduction):
    """J with reduction "mean" is PyTorch's reduction='mean'; with "sum" it is PyTorch's 'sum' divided by the k outputs
    that each of our per-sample losses averages over (k = 1 for the losses that add over outputs)."""
    assert set(TORCH_LOSSES) == set(LOSSES), "a new loss needs its PyTorch form here"
    rng = np.random.default_rng(7)
    for indices in (False, True) if LOSSES[name].takes_indices else (False,):
        loss = LOSSES[name](indices=indices, **({"delta": 0.7} if "delta" in LOSSES[name].settings else {}))
        samples, outputs = 3, 4
        Z = rng.normal(0, 2, size=(samples, outputs))
        A = 1 / (1 + np.exp(-Z)) if name == "binary_cross_entropy" else (
            np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True) if name == "cross_entropy" else Z)
        Y = targets_for(name, rng, (samples, outputs), indices)
        cost = MeanCost(reduction=reduction)
        ours = cost.forward({"input": loss.forward({"input": A, "targets": Y})})[0, 0]
        theirs = TORCH_LOSSES[name](torch.tensor(A), torch.tensor(Y), loss, reduction).item()
        k = outputs if loss.averages_outputs and reduction == "sum" else 1
        assert ours == pytest.approx(theirs / k, rel=1e-12), (name, indices)


def torch_optimizer(walkthrough, parameters: list):
    """torch.optim's optimizer of the same name with the walkthrough's settings, over `parameters`."""
    optimizer = walkthrough.optimizer
    settings = {key: getattr(optimizer, key) for key in optimizer.settings}
    make = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "rmsprop": torch.optim.RMSprop,
            "adam": torch.optim.Adam}[optimizer.name]
    return make(parameters, lr=walkthrough.learning_rate, **settings)


# torch.optim's name of each state we show.
TORCH_STATES = {"velocity": "momentum_buffer", "square_avg": "square_avg", "exp_avg": "exp_avg",
                "exp_avg_sq": "exp_avg_sq"}


def pytorch_training(walkthrough) -> dict[str, np.ndarray]:
    """Every quantity of every training step, from autograd and torch.optim: each step's quantities with `@t`,
    the optimizer's state after each step, the updated parameters and J_final."""
    graph, given = walkthrough.graph, dict(walkthrough.given)
    trained = {name: torch.tensor(given[name], requires_grad=True) for name in graph.parameters
               if name not in walkthrough.frozen}
    optimizer = torch_optimizer(walkthrough, list(trained.values())) if trained else None
    found = {}
    for t in range(1, walkthrough.steps + 1):
        at = "" if t == 1 else f"@{t}"
        quantities = pytorch_graph_quantities(dataclasses.replace(walkthrough, given=given))
        for name, value in quantities.items():
            if not name.endswith("_updated") and (t == 1 or name not in graph.parameters):
                found[name + at] = value
        for name, tensor in trained.items():
            tensor.grad = torch.tensor(quantities[f"dJ/d{name}"])
        if optimizer:
            optimizer.step()
        for name in graph.parameters:
            if name in trained:
                given[name] = trained[name].detach().numpy().copy()
                for ours, theirs in TORCH_STATES.items():
                    if theirs in optimizer.state[trained[name]]:
                        found[f"{ours}_{name}{at}"] = optimizer.state[trained[name]][theirs].numpy().copy()
            found[f"{name}_updated{at}"] = given[name]
    found["J_final"] = pytorch_graph_quantities(dataclasses.replace(walkthrough, given=given))["J"]
    return found


@st.composite
def trained_graphs(draw):
    """A random graph trained for 1–4 steps by a random optimizer, some settings overridden, some parameters frozen."""
    walkthrough = draw(graphs(max_nodes=4))
    # A normalization's gradients cancel to rounding of ~1e-12, which RMSprop and Adam divide by their root mean
    # square: ~1e-9 relative in the update, conditioning rather than the optimizers' semantics tested here (the
    # random-graph test above covers normalizations).
    assume(not any(isinstance(node.op, Normalization) for node in walkthrough.graph.nodes))
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    overrides = {"momentum": st.sampled_from([0.5, 0.9]), "dampening": st.sampled_from([0.0, 0.3]),
                 "alpha": st.sampled_from([0.9, 0.99]), "eps": st.sampled_from([1e-8, 1e-3]),
                 "betas": st.sampled_from([(0.9, 0.999), (0.8, 0.9)])}
    settings = {key: draw(overrides[key]) for key in OPTIMIZERS[name].settings if draw(st.booleans())}
    parameters = walkthrough.graph.parameters
    frozen = tuple(draw(st.lists(st.sampled_from(parameters), unique=True, max_size=len(parameters) - 1)))
    return dataclasses.replace(walkthrough, steps=draw(st.integers(1, 4)), optimizer=OPTIMIZERS[name](**settings),
                               frozen=frozen, learning_rate=draw(st.sampled_from([0.1, 0.01])))


@given(walkthrough=trained_graphs())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_quantity_of_several_steps_and_every_optimizer_state_equals_torch_optim(walkthrough):
    try:
        ours = solve(walkthrough).quantities
    except WalkthroughError as error:  # training that diverges (a deep linear chain) is refused: nothing to compare
        assume("overflows" not in str(error))
        raise
    theirs = pytorch_training(walkthrough)
    assert set(ours) - set(theirs) <= {"X", "Y"}, set(ours) - set(theirs)
    for quantity, value in ours.items():
        if quantity in theirs:
            np.testing.assert_allclose(np.atleast_2d(value), np.atleast_2d(theirs[quantity]), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{walkthrough.optimizer.name}: {quantity}")


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order_as_in_pytorch():
    """Every way two or more entries of a 2 × 2 window can tie: the gradient goes where PyTorch's CPU code sends it."""
    pool = MaxPool2d(kernel_size=2, in_shape=(1, 2, 2))
    for pattern in range(1, 16):
        tied = np.array([(pattern >> bit) & 1 for bit in range(4)], dtype=float)
        if tied.sum() < 2:
            continue
        X = np.where(tied == 1, 0.5, -1.0)[np.newaxis]
        x = torch.tensor(X.reshape(1, 1, 2, 2), requires_grad=True)
        F.max_pool2d(x, 2).sum().backward()
        values = {"input": X, "output": pool.forward({"input": X})}
        np.testing.assert_array_equal(pool.jacobian("input", values), x.grad.numpy().reshape(1, 4))
        np.testing.assert_array_equal(pool.kinks("input", values), tied[np.newaxis] == 1)
