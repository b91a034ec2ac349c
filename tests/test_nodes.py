"""Every node's Jacobian against central finite differences, and against its framework shortcut.

Driven by the registries in `jacobian_bp.ops`, so a new op is tested for free.
Inputs are kept away from kinks, where a central difference gives neither convention.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacobian_bp.ops import (
    ACTIVATIONS,
    INPUT,
    LOSSES,
    OPS,
    OUTPUT,
    PENALTY,
    TARGETS,
    Concat,
    L2Penalty,
    Loss,
    MeanCost,
    input_roles,
)
from jacobian_bp.vec import devec, vec
from tests.strategies import targets_for

STEP = 1e-6
TOLERANCE = 1e-6

shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))
seeds = st.integers(0, 2**32 - 1)


def numeric_jacobian(function, point: np.ndarray) -> np.ndarray:
    """`d vec(function(point)) / d vec(point)` by central differences, one column per entry."""
    columns = []
    for index in np.ndindex(point.shape):
        up, down = point.copy(), point.copy()
        up[index] += STEP
        down[index] -= STEP
        columns.append((vec(function(up)) - vec(function(down)))[0] / (2 * STEP))
    return np.array(columns).T


def away_from_kinks(Z: np.ndarray) -> np.ndarray:
    return np.where(np.abs(Z) < 0.05, Z + np.sign(Z + 1e-12) * 0.1, Z)


# Every op the engine knows: the registries, the losses, the cost and the L2 penalty, each built
# with the settings that make its Jacobians interesting.
ALL_OPS = {**OPS, **LOSSES, "mean": MeanCost, "l2_penalty": L2Penalty}
EXAMPLE_SETTINGS = {"mean": {"penalty": True}, "l2_penalty": {"l2": 0.1},
                    "conv2d": {"in_shape": (2, 4, 3), "padding": 1, "stride": 2},
                    "conv1d": {"in_shape": (2, 5), "padding": 1}, "max_pool2d": {"in_shape": (2, 4, 4)},
                    "avg_pool2d": {"in_shape": (2, 4, 4), "stride": 1}, "dropout": {"p": 0.25, "seed": 3}}


def example(name: str, rng: np.random.Generator, samples: int, width: int):
    """An op and random values for every role of one of its nodes, away from kinks and saturation."""
    cls = ALL_OPS[name]
    op = cls(**{key: width for key in cls.required}, **EXAMPLE_SETTINGS.get(name, {}))
    count = 1 if cls.inputs == 1 else 2
    inputs = input_roles(count)
    shapes = {role: (samples, width + i * (cls is Concat)) for i, role in enumerate(inputs)}
    if op.in_shape:  # a sample's row is a picture of that shape
        shapes = {INPUT: (samples, int(np.prod(op.in_shape)))}
    if isinstance(op, MeanCost):
        shapes = {INPUT: (samples, 1), PENALTY: (1, 1)}
    values = {role: away_from_kinks(rng.normal(0, 2, size=shape)) for role, shape in shapes.items()}
    if isinstance(op, Loss):
        values[INPUT] = rng.uniform(0.05, 0.95, size=shapes[INPUT])
        values[TARGETS] = targets_for(name, rng, shapes[INPUT])
    values.update({role: rng.normal(size=shape) for role, shape in op.parameter_shapes(shapes).items()
                   if role in op.parameter_roles()})
    values[OUTPUT] = op.forward(values)
    return op, values, count


@pytest.mark.parametrize("name", sorted(ALL_OPS))
@given(samples=st.integers(1, 3), width=st.integers(1, 3), seed=seeds)
@settings(max_examples=30, deadline=None)
def test_every_jacobian_equals_finite_differences_and_the_shortcut(name, samples, width, seed):
    rng = np.random.default_rng(seed)
    op, values, count = example(name, rng, samples, width)
    for role in op.backward_roles(count):
        def forward(changed, role=role):
            return op.forward({**values, role: changed})

        jacobian = op.jacobian(role, values)
        np.testing.assert_allclose(jacobian, numeric_jacobian(forward, values[role]), atol=TOLERANCE,
                                   err_msg=f"{name}: d output / d {role}")
        upstream = rng.normal(size=values[OUTPUT].shape)
        np.testing.assert_allclose(devec(vec(upstream) @ jacobian, values[role].shape),
                                   op.shortcut(role, upstream, values), atol=1e-10, err_msg=f"{name}: shortcut {role}")


@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_every_jacobian_reads_only_what_it_says(name):
    """A Jacobian rebuilt from other values of the roles it does not read stays the same (what `check` relies on)."""
    rng = np.random.default_rng(1)
    op, values, count = example(name, rng, 2, 3)
    for role in op.backward_roles(count):
        reads = set(op.jacobian_reads(role))
        changed = {key: (value if key in reads or key == TARGETS else value + 0.3) for key, value in values.items()}
        if isinstance(op, Loss):
            changed[INPUT] = values[INPUT] if INPUT in reads else values[INPUT] * 0.9
        np.testing.assert_allclose(op.jacobian(role, changed), op.jacobian(role, values), err_msg=f"{name}: {role}")


def test_relu_derivative_at_zero_is_zero_as_in_pytorch():
    relu = ACTIVATIONS["relu"]()
    Z = np.array([[0.0, -0.0, 1.0, -1.0]])
    np.testing.assert_array_equal(np.diag(relu.activation_jacobian(Z, relu.activation_forward(Z))), [0, 0, 1, 0])
    np.testing.assert_array_equal(relu.kink_mask(Z), [[True, True, False, False]])


def test_sigmoid_is_stable_for_huge_inputs():
    sigmoid = ACTIVATIONS["sigmoid"]()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = sigmoid.activation_forward(np.array([[-1e4, 0.0, 1e4]]))
    np.testing.assert_array_equal(A, [[0.0, 0.5, 1.0]])


def test_binary_cross_entropy_clamps_its_logs_like_pytorch():
    loss = LOSSES["binary_cross_entropy"]()
    L = loss.loss_forward(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    np.testing.assert_array_equal(L, [[100.0], [100.0]])
    assert np.isfinite(loss.loss_jacobian(np.array([[0.0]]), np.array([[1.0]]))).all()


def test_softmax_jacobian_has_full_blocks_with_the_right_off_diagonal_entries():
    softmax = ACTIVATIONS["softmax"]()
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    A = softmax.activation_forward(Z)
    jacobian = np.asarray(softmax.activation_jacobian(Z, A))
    s = A[0]
    np.testing.assert_allclose(jacobian[:3, :3], np.diag(s) - np.outer(s, s))
    assert jacobian[0, 1] == pytest.approx(-s[0] * s[1]) and jacobian[0, 1] != 0
    np.testing.assert_array_equal(jacobian[:3, 3:], 0)  # samples stay apart
    np.testing.assert_allclose(jacobian[3:, 3:], np.diag([1 / 3] * 3) - 1 / 9)


def test_softmax_is_stable_for_huge_inputs():
    softmax = ACTIVATIONS["softmax"]()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = softmax.activation_forward(np.array([[1e4, 0.0, -1e4]]))
    np.testing.assert_allclose(A, [[1.0, 0.0, 0.0]])


def test_leaky_relu_derivative_at_zero_is_its_slope_as_in_pytorch():
    leaky = ACTIVATIONS["leaky_relu"](negative_slope=0.2)
    Z = np.array([[0.0, 2.0, -2.0]])
    np.testing.assert_allclose(np.diag(leaky.activation_jacobian(Z, leaky.activation_forward(Z))), [0.2, 1.0, 0.2])
    assert leaky.derivative_at_kink() == (0.2, 1.0)


@pytest.mark.parametrize("name", sorted(name for name, loss in LOSSES.items() if loss.fuses_with))
@given(shape=shapes, seed=seeds)
@settings(max_examples=30, deadline=None)
def test_fused_loss_and_activation_equal_the_product_of_their_jacobians(name, shape, seed):
    rng = np.random.default_rng(seed)
    loss = LOSSES[name]()
    activation = ACTIVATIONS[loss.fuses_with]()
    Z = rng.normal(0, 2, size=shape)
    A = activation.activation_forward(Z)
    Y = np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    chained = vec(np.ones((shape[0], 1))) @ loss.loss_jacobian(A, Y) @ activation.activation_jacobian(Z, A)
    np.testing.assert_allclose(devec(chained, shape), loss.fused_derivative(A, Y), atol=1e-9)


def test_a_leaky_relu_with_slope_1_has_no_kink():
    identity_like = ACTIVATIONS["leaky_relu"](negative_slope=1.0)
    assert not identity_like.kink_mask(np.array([[0.0, 1.0]])).any()
    assert ACTIVATIONS["leaky_relu"](negative_slope=0.0).kink_mask(np.array([[0.0]])).all()


@pytest.mark.parametrize("name", sorted(name for name, loss in LOSSES.items() if loss.collapses))
@given(shape=shapes, seed=seeds, indices=st.booleans())
@settings(max_examples=30, deadline=None)
def test_a_loss_on_logits_is_its_activation_and_loss_on_probabilities_collapsed(name, shape, seed, indices):
    """The collapse to (σ(Z) − Y)/n or softmax(Z) − Y: the loss's Jacobian on the logits equals the product of the
    activation's Jacobian and the Jacobian of the same loss on probabilities, and so does its fused gradient."""
    rng = np.random.default_rng(seed)
    loss = LOSSES[name](indices=indices and LOSSES[name].takes_indices)
    activation_name, probability_loss = loss.collapses
    activation, twin = ACTIVATIONS[activation_name](), LOSSES[probability_loss]()
    Z = rng.normal(0, 2, size=shape)
    Y = targets_for(name, rng, shape, loss.indices)
    values = {INPUT: Z, TARGETS: Y}
    A, dense = activation.activation_forward(Z), loss.targets_of(values)
    np.testing.assert_allclose(loss.forward(values), twin.loss_forward(A, dense), rtol=1e-9, atol=1e-12)
    chained = np.asarray(twin.loss_jacobian(A, dense)) @ np.asarray(activation.activation_jacobian(Z, A))
    np.testing.assert_allclose(loss.jacobian(INPUT, values), chained, atol=1e-9)
    upstream = rng.normal(size=(shape[0], 1))
    np.testing.assert_allclose(loss.fused_gradient(upstream, values), devec(vec(upstream) @ chained, shape), atol=1e-9)


@pytest.mark.parametrize("name", sorted(name for name, loss in LOSSES.items() if loss.takes_indices))
def test_class_indices_are_one_hot_rows(name):
    Z = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    indices = {INPUT: Z, TARGETS: np.array([[2.0], [0.0]])}
    one_hot = {INPUT: Z, TARGETS: np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])}
    by_index, by_row = LOSSES[name](indices=True), LOSSES[name]()
    np.testing.assert_array_equal(by_index.forward(indices), by_row.forward(one_hot))
    np.testing.assert_array_equal(by_index.jacobian(INPUT, indices), by_row.jacobian(INPUT, one_hot))


def test_l1_has_a_kink_where_the_output_equals_its_target_and_takes_derivative_0_there():
    l1 = LOSSES["l1"]()
    values = {INPUT: np.array([[0.5, 1.0]]), TARGETS: np.array([[0.5, 0.0]])}
    np.testing.assert_array_equal(l1.kinks(INPUT, values), [[True, False]])
    np.testing.assert_array_equal(l1.jacobian(INPUT, values), [[0.0, 0.5]])
    assert l1.derivative_at_kink() == (0.0, 1.0)
    np.testing.assert_array_equal(l1.other_jacobian(INPUT, values), [[0.5, 0.5]])  # l'(0) = 1 there, over 2


def test_huber_is_quadratic_inside_delta_and_linear_outside():
    huber = LOSSES["huber"](delta=0.5)
    values = {INPUT: np.array([[0.2, 2.0, -1.0]]), TARGETS: np.zeros((1, 3))}
    np.testing.assert_allclose(huber.forward(values), [[(0.02 + 0.5 * 1.75 + 0.5 * 0.75) / 3]])
    np.testing.assert_allclose(huber.jacobian(INPUT, values), [[0.2 / 3, 0.5 / 3, -0.5 / 3]])


@pytest.mark.parametrize("name", sorted(ALL_OPS))
@given(samples=st.integers(1, 3), width=st.integers(1, 3), seed=seeds)
@settings(max_examples=20, deadline=None)
def test_every_structured_jacobian_agrees_with_its_full_matrix(name, samples, width, seed):
    """Product, blocks, nonzero positions and stored size of each op's structure, against the matrix it stands for."""
    rng = np.random.default_rng(seed)
    op, values, count = example(name, rng, samples, width)
    shapes = {role: value.shape for role, value in values.items()}
    for role in op.backward_roles(count):
        structured = op.structured_jacobian(role, values)
        dense = structured.build()
        np.testing.assert_array_equal(dense, op.jacobian(role, values), err_msg=f"{name}: {role}")
        assert structured.shape == dense.shape and structured.dense_bytes == dense.nbytes
        row = rng.normal(size=(1, dense.shape[0]))
        np.testing.assert_allclose(structured.left_multiply(row), row @ dense, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: {role}")
        rows, columns = rng.integers(0, dense.shape[0], 5), rng.integers(0, dense.shape[1], 4)
        np.testing.assert_array_equal(structured.block(rows, columns), dense[np.ix_(rows, columns)])
        assert structured.nonzeros() == np.count_nonzero(dense)
        for down, across in {(1, 1), (min(2, dense.shape[0]), min(3, dense.shape[1])), dense.shape}:
            grid = np.zeros((down, across), dtype=bool)
            found_rows, found_columns = np.nonzero(dense)
            grid[found_rows * down // dense.shape[0], found_columns * across // dense.shape[1]] = True
            np.testing.assert_array_equal(structured.occupancy(down, across), grid, err_msg=f"{name}: {role}")
        assert structured.nbytes // 8 - op.structure_size(role, shapes) in (0, 1), f"{name}: {role}"
