"""The engine on random graphs (chains, residual and concat wiring, every op, every loss, L2 penalty):
explicit Jacobian chain = central differences of the cost = framework shortcuts."""

import numpy as np
from hypothesis import assume, given, settings

from jacobian_bp import solve
from tests.strategies import graphs, walkthroughs

STEP = 1e-6


def central_differences(walkthrough, name: str) -> np.ndarray:
    """dJ/d`name` for a parameter, by central differences of the cost."""
    graph, parameter = walkthrough.graph, walkthrough.given[name]
    found = np.zeros_like(parameter)
    for index in np.ndindex(parameter.shape):
        costs = []
        for sign in (1, -1):
            changed = parameter.copy()
            changed[index] += sign * STEP
            costs.append(float(graph.forward({**walkthrough.given, name: changed})["J"][0, 0]))
        found[index] = (costs[0] - costs[1]) / (2 * STEP)
    return found


def check_against_differences_and_shortcuts(walkthrough):
    solution = solve(walkthrough)
    for name in walkthrough.graph.parameters:
        np.testing.assert_allclose(solution.quantities[f"dJ/d{name}"], central_differences(walkthrough, name),
                                   rtol=1e-4, atol=1e-7, err_msg=f"dJ/d{name}")
    for step in solution.steps:
        np.testing.assert_allclose(step.result, step.shortcut, rtol=1e-10, atol=1e-14, err_msg=step.gradient)
        assert step.result.shape == solution.values[step.variable].shape, step.gradient
        if not step.is_sum:
            assert step.jacobian.shape == (step.upstream_row.shape[1], step.product_row.shape[1]), step.gradient
    return solution


@given(walkthrough=walkthroughs())
@settings(max_examples=40, deadline=None)
def test_chains_equal_central_differences_and_shortcuts(walkthrough):
    check_against_differences_and_shortcuts(walkthrough)


@given(walkthrough=graphs())
@settings(max_examples=60, deadline=None)
def test_random_graphs_equal_central_differences_and_shortcuts(walkthrough):
    solution = check_against_differences_and_shortcuts(walkthrough)
    steps = {step.gradient: step for step in solution.steps}
    for step in solution.steps:
        if step.is_sum:  # the contributions of every path add up to the total
            np.testing.assert_allclose(sum(steps[name].result for name in step.contributions), step.result)
            assert len(step.contributions) == len(walkthrough.graph.consumers(step.variable)) > 1


@given(walkthrough=graphs())
@settings(max_examples=30, deadline=None)
def test_update_is_one_sgd_step(walkthrough):
    q = solve(walkthrough).quantities
    for name in walkthrough.graph.parameters:
        np.testing.assert_allclose(q[f"{name}_updated"], q[name] - walkthrough.learning_rate * q[f"dJ/d{name}"])


@given(walkthrough=walkthroughs())
@settings(max_examples=40, deadline=None)
def test_fused_output_gradient_equals_the_chain(walkthrough):
    solution = solve(walkthrough)
    fused = [step for step in solution.steps if step.fused is not None]
    loss = walkthrough.graph.loss_node.op
    assume(loss.fuses_with or loss.fuses_alone())
    # after a softmax or sigmoid, at the output's activation; for a loss on logits, at the loss itself
    assert len(fused) == 1 and fused[0].node == ("L" if loss.fuses_alone() else walkthrough.graph.output)
    np.testing.assert_allclose(fused[0].fused, fused[0].result, rtol=1e-9, atol=1e-12)


@given(walkthrough=graphs())
@settings(max_examples=40, deadline=None)
def test_predicted_jacobian_shapes_are_the_built_ones(walkthrough):
    solution = solve(walkthrough)
    graph = walkthrough.graph
    predicted = graph.jacobian_shapes(graph.shapes({name: value.shape for name, value in walkthrough.given.items()}))
    built = {step.jacobian_name: step.jacobian.shape for step in solution.steps if not step.is_sum}
    assert predicted == built
