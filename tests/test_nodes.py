"""Every node's Jacobian against central finite differences, and against its framework shortcut.

Driven by the registries in `jacobian_bp.nodes`, so a new activation or loss is tested for free.
Inputs are kept away from kinks, where a central difference gives neither convention.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacobian_bp.nodes import ACTIVATIONS, LOSSES, Dense, MeanCost
from jacobian_bp.vec import devec, vec

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


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(shape=shapes, seed=seeds)
@settings(max_examples=40, deadline=None)
def test_activation_jacobian_equals_finite_differences(name, shape, seed):
    activation = ACTIVATIONS[name]()
    Z = away_from_kinks(np.random.default_rng(seed).normal(0, 2, size=shape))
    expected = numeric_jacobian(activation.forward, Z)
    np.testing.assert_allclose(activation.jacobian(Z, activation.forward(Z)), expected, atol=TOLERANCE,
                               err_msg=f"d{name}/dZ")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(shape=shapes, seed=seeds)
@settings(max_examples=40, deadline=None)
def test_activation_shortcut_equals_the_jacobian_product(name, shape, seed):
    rng = np.random.default_rng(seed)
    activation = ACTIVATIONS[name]()
    Z = away_from_kinks(rng.normal(0, 2, size=shape))
    A = activation.forward(Z)
    upstream = rng.normal(size=shape)
    product = devec(vec(upstream) @ activation.jacobian(Z, A), shape)
    np.testing.assert_allclose(product, activation.shortcut(upstream, Z, A), atol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
@given(shape=shapes, seed=seeds)
@settings(max_examples=40, deadline=None)
def test_loss_jacobian_equals_finite_differences_and_its_shortcut(name, shape, seed):
    rng = np.random.default_rng(seed)
    loss = LOSSES[name]()
    A = rng.uniform(0.05, 0.95, size=shape)
    Y = rng.uniform(0, 1, size=shape)
    jacobian = loss.jacobian(A, Y)
    assert jacobian.shape == (shape[0], shape[0] * shape[1])
    np.testing.assert_allclose(jacobian, numeric_jacobian(lambda a: loss.forward(a, Y), A), atol=TOLERANCE,
                               err_msg=f"dL/dA for {name}")
    upstream = rng.normal(size=(shape[0], 1))
    np.testing.assert_allclose(devec(vec(upstream) @ jacobian, shape), loss.shortcut(upstream, A, Y), atol=1e-12)


@given(samples=st.integers(1, 4), units=st.integers(1, 4), inputs=st.integers(1, 4), seed=seeds)
@settings(max_examples=60, deadline=None)
def test_dense_jacobians_equal_finite_differences_and_the_shortcuts(samples, units, inputs, seed):
    rng = np.random.default_rng(seed)
    A_prev = rng.normal(size=(samples, inputs))
    W = rng.normal(size=(units, inputs))
    b = rng.normal(size=(1, units))
    to_input = Dense.jacobian_wrt_input(W, samples)
    to_weights = Dense.jacobian_wrt_weights(A_prev, units)
    to_bias = Dense.jacobian_wrt_bias(samples, units)
    np.testing.assert_allclose(to_input, numeric_jacobian(lambda a: Dense.forward(a, W, b), A_prev), atol=TOLERANCE)
    np.testing.assert_allclose(to_weights, numeric_jacobian(lambda w: Dense.forward(A_prev, w, b), W),
                               atol=TOLERANCE)
    np.testing.assert_allclose(to_bias, numeric_jacobian(lambda c: Dense.forward(A_prev, W, c), b), atol=TOLERANCE)
    dZ = rng.normal(size=(samples, units))
    np.testing.assert_allclose(devec(vec(dZ) @ to_input, A_prev.shape), Dense.shortcut_wrt_input(dZ, W))
    np.testing.assert_allclose(devec(vec(dZ) @ to_weights, W.shape), Dense.shortcut_wrt_weights(dZ, A_prev))
    np.testing.assert_allclose(devec(vec(dZ) @ to_bias, b.shape), Dense.shortcut_wrt_bias(dZ))


@given(samples=st.integers(1, 6), seed=seeds)
def test_mean_cost_jacobian_equals_finite_differences(samples, seed):
    L = np.random.default_rng(seed).uniform(0, 3, size=(samples, 1))
    expected = numeric_jacobian(lambda loss: np.array([[MeanCost.forward(loss)]]), L)
    np.testing.assert_allclose(MeanCost.jacobian(samples), expected, atol=TOLERANCE)
    np.testing.assert_allclose(devec(MeanCost.jacobian(samples), (samples, 1)), MeanCost.shortcut(samples))


def test_relu_derivative_at_zero_is_zero_as_in_pytorch():
    relu = ACTIVATIONS["relu"]()
    Z = np.array([[0.0, -0.0, 1.0, -1.0]])
    np.testing.assert_array_equal(np.diag(relu.jacobian(Z, relu.forward(Z))), [0, 0, 1, 0])
    np.testing.assert_array_equal(relu.kinks(Z), [[True, True, False, False]])


def test_sigmoid_is_stable_for_huge_inputs():
    sigmoid = ACTIVATIONS["sigmoid"]()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = sigmoid.forward(np.array([[-1e4, 0.0, 1e4]]))
    np.testing.assert_array_equal(A, [[0.0, 0.5, 1.0]])


def test_binary_cross_entropy_clamps_its_logs_like_pytorch():
    loss = LOSSES["binary_cross_entropy"]()
    L = loss.forward(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    np.testing.assert_array_equal(L, [[100.0], [100.0]])
    assert np.isfinite(loss.jacobian(np.array([[0.0]]), np.array([[1.0]]))).all()


def test_softmax_jacobian_has_full_blocks_with_the_right_off_diagonal_entries():
    softmax = ACTIVATIONS["softmax"]()
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    A = softmax.forward(Z)
    jacobian = softmax.jacobian(Z, A)
    s = A[0]
    np.testing.assert_allclose(jacobian[:3, :3], np.diag(s) - np.outer(s, s))
    assert jacobian[0, 1] == pytest.approx(-s[0] * s[1]) and jacobian[0, 1] != 0
    np.testing.assert_array_equal(jacobian[:3, 3:], 0)  # samples stay apart
    np.testing.assert_allclose(jacobian[3:, 3:], np.diag([1 / 3] * 3) - 1 / 9)


def test_softmax_is_stable_for_huge_inputs():
    softmax = ACTIVATIONS["softmax"]()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = softmax.forward(np.array([[1e4, 0.0, -1e4]]))
    np.testing.assert_allclose(A, [[1.0, 0.0, 0.0]])


def test_leaky_relu_derivative_at_zero_is_its_slope_as_in_pytorch():
    leaky = ACTIVATIONS["leaky_relu"](negative_slope=0.2)
    Z = np.array([[0.0, 2.0, -2.0]])
    np.testing.assert_allclose(np.diag(leaky.jacobian(Z, leaky.forward(Z))), [0.2, 1.0, 0.2])
    assert leaky.derivative_at_kink() == (0.2, 1.0)


@pytest.mark.parametrize("name", sorted(name for name, loss in LOSSES.items() if loss.fuses_with))
@given(shape=shapes, seed=seeds)
@settings(max_examples=30, deadline=None)
def test_fused_loss_and_activation_equal_the_product_of_their_jacobians(name, shape, seed):
    rng = np.random.default_rng(seed)
    loss = LOSSES[name]()
    activation = ACTIVATIONS[loss.fuses_with]()
    Z = rng.normal(0, 2, size=shape)
    A = activation.forward(Z)
    Y = np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    chained = vec(np.ones((shape[0], 1))) @ loss.jacobian(A, Y) @ activation.jacobian(Z, A)
    np.testing.assert_allclose(devec(chained, shape), loss.fused_derivative(A, Y), atol=1e-9)


def test_a_leaky_relu_with_slope_1_has_no_kink():
    identity_like = ACTIVATIONS["leaky_relu"](negative_slope=1.0)
    assert not identity_like.kinks(np.array([[0.0, 1.0]])).any()
    assert ACTIVATIONS["leaky_relu"](negative_slope=0.0).kinks(np.array([[0.0]])).all()
