"""The explicit Jacobian chain, for random networks: equal to finite differences of the cost and to the shortcuts."""

import dataclasses

import numpy as np
from hypothesis import assume, given, settings

from jacobian_bp import solve
from jacobian_bp.network import Network, jacobian_shapes
from tests.strategies import walkthroughs

STEP = 1e-6


def cost_with(walkthrough, k: int, name: str, value: np.ndarray) -> float:
    """The cost after replacing parameter `name` (W or b) of layer k."""
    layers = list(walkthrough.network.layers)
    layers[k - 1] = dataclasses.replace(layers[k - 1], **{name: value})
    network = Network(layers=tuple(layers), loss=walkthrough.network.loss)
    return network.forward(walkthrough.X, walkthrough.Y).J


@given(walkthrough=walkthroughs())
@settings(max_examples=60, deadline=None)
def test_gradients_equal_central_differences_of_the_cost(walkthrough):
    solution = solve(walkthrough)
    for k, layer in enumerate(walkthrough.network.layers, start=1):
        for name in ("W", "b"):
            parameter = getattr(layer, name)
            expected = np.zeros_like(parameter)
            for index in np.ndindex(parameter.shape):
                up, down = parameter.copy(), parameter.copy()
                up[index] += STEP
                down[index] -= STEP
                expected[index] = (cost_with(walkthrough, k, name, up) - cost_with(walkthrough, k, name, down)) / (
                    2 * STEP)
            np.testing.assert_allclose(solution.quantities[f"dJ/d{name}{k}"], expected, rtol=1e-4, atol=1e-7,
                                       err_msg=f"dJ/d{name}{k}")


@given(walkthrough=walkthroughs())
@settings(max_examples=60, deadline=None)
def test_every_step_equals_its_shortcut_and_is_shaped_like_its_variable(walkthrough):
    solution = solve(walkthrough)
    quantities = solution.quantities
    for step in solution.steps:
        np.testing.assert_allclose(step.result, step.shortcut, rtol=1e-10, atol=1e-14, err_msg=step.gradient)
        variable_shape = quantities[step.variable].shape if step.variable != "L" else solution.forward.L.shape
        assert step.result.shape == variable_shape, step.gradient
        assert step.jacobian.shape == (step.upstream_row.shape[1], step.product_row.shape[1]), step.gradient


@given(walkthrough=walkthroughs())
@settings(max_examples=30, deadline=None)
def test_update_is_one_sgd_step(walkthrough):
    solution = solve(walkthrough)
    q = solution.quantities
    for k in range(1, len(walkthrough.network.layers) + 1):
        for name in ("W", "b"):
            np.testing.assert_allclose(q[f"{name}{k}_updated"],
                                       q[f"{name}{k}"] - walkthrough.learning_rate * q[f"dJ/d{name}{k}"])


@given(walkthrough=walkthroughs())
@settings(max_examples=40, deadline=None)
def test_fused_output_gradient_equals_the_chain(walkthrough):
    solution = solve(walkthrough)
    fused = [step for step in solution.steps if step.fused is not None]
    assume(walkthrough.network.loss.fuses_with)
    assert len(fused) == 1 and fused[0].variable == f"Z{len(walkthrough.network.layers)}"
    np.testing.assert_allclose(fused[0].fused, fused[0].result, rtol=1e-9, atol=1e-12)


@given(walkthrough=walkthroughs())
@settings(max_examples=40, deadline=None)
def test_predicted_jacobian_shapes_are_the_built_ones(walkthrough):
    solution = solve(walkthrough)
    widths = [walkthrough.X.shape[1]] + [layer.units for layer in walkthrough.network.layers]
    predicted = jacobian_shapes(widths, walkthrough.X.shape[0])
    built = {step.jacobian_name: step.jacobian.shape for step in solution.steps}
    assert predicted == built
