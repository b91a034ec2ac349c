"""The article's example: every value equals the article's PyTorch output and an independent computation.

The independent reference below is deliberately naive: plain Python floats, loops over entries and
each Jacobian entry written from its definition, so that it shares no code with the engine.
"""

import math

import numpy as np
import pytest

from jacobian_bp import load, solve

# The article's PyTorch outputs (tensors printed to 4 decimals).
PYTORCH = {
    "Z1": [[4.0, 2.0, -7.8], [6.0, 9.0, -16.0]],
    "A1": [[4.0, 2.0, 0.0], [6.0, 9.0, 0.0]],
    "Z2": [[0.0, 8.0], [8.0, 10.1]],
    "A2": [[0.0, 8.0], [8.0, 10.1]],
    "Z3": [[-2.3], [1.07]],
    "A3": [[0.0911], [0.7446]],
    "dJ/dW1": [[-0.0249, -0.0396], [-0.1814, -0.2428], [0.0, 0.0]],
    "dJ/db1": [[-0.0147, -0.0614, 0.0]],
    "dJ/dW2": [[-0.3831, -0.5747, 0.0], [0.1752, 0.3175, 0.0]],
    "dJ/db2": [[-0.0639, 0.0246]],
    "dJ/dW3": [[-1.0216, -0.9253]],
    "dJ/db3": [[-0.0821]],
    "W1_updated": [[-0.9998, 2.0004], [3.0018, 0.5024], [-0.1, -4.0]],
    "b1_updated": [[1.0001, -1.9994, 0.3]],
    "W2_updated": [[0.5038, 1.0057, -2.0], [0.6982, 0.0968, 0.3]],
    "b2_updated": [[-3.9994, 4.9998]],
    "W3_updated": [[0.5102, -0.2907]],
    "b3_updated": [[0.1008]],
}
PYTORCH_COST = 0.19522885978221893

X = [[1.0, 2.0], [3.0, 4.0]]
Y = [[0.0], [1.0]]
W = {1: [[-1.0, 2.0], [3.0, 0.5], [-0.1, -4.0]], 2: [[0.5, 1.0, -2.0], [0.7, 0.1, 0.3]], 3: [[0.5, -0.3]]}
B = {1: [1.0, -2.0, 0.3], 2: [-4.0, 5.0], 3: [0.1]}
LEARNING_RATE = 0.01


def _reference() -> dict:
    """Forward pass, gradients and Jacobians of the article's network, entry by entry."""
    q: dict = {}
    A = {0: X}
    for k in (1, 2, 3):
        Z = [[sum(A[k - 1][i][c] * W[k][j][c] for c in range(len(W[k][j]))) + B[k][j]
              for j in range(len(W[k]))] for i in range(2)]
        if k < 3:
            A[k] = [[max(z, 0.0) for z in row] for row in Z]
        else:
            A[k] = [[1 / (1 + math.exp(-z)) for z in row] for row in Z]
        q[f"Z{k}"], q[f"A{k}"] = Z, A[k]
    L = [[-(Y[i][0] * math.log(A[3][i][0]) + (1 - Y[i][0]) * math.log(1 - A[3][i][0]))] for i in range(2)]
    q["L"], q["J"] = L, (L[0][0] + L[1][0]) / 2
    q["dJ/dL"] = [[0.5], [0.5]]
    q["dL/dA3"] = [[(A[3][i][0] - Y[i][0]) / (A[3][i][0] * (1 - A[3][i][0])) if i == c else 0.0
                    for c in range(2)] for i in range(2)]
    dA = [[0.5 * q["dL/dA3"][i][i]] for i in range(2)]
    q["dJ/dA3"] = dA
    for k in (3, 2, 1):
        Zk, Ak, prev = q[f"Z{k}"], q[f"A{k}"], A[k - 1]
        units, inputs = len(W[k]), len(W[k][0])
        derivative = [[a * (1 - a) if k == 3 else (1.0 if z > 0 else 0.0) for a, z in zip(ra, rz, strict=True)]
                      for ra, rz in zip(Ak, Zk, strict=True)]
        n = 2 * units
        q[f"dA{k}/dZ{k}"] = [[derivative[r // units][r % units] if r == c else 0.0 for c in range(n)]
                             for r in range(n)]
        dZ = [[dA[i][j] * derivative[i][j] for j in range(units)] for i in range(2)]
        q[f"dJ/dZ{k}"] = dZ
        q[f"dZ{k}/db{k}"] = [[1.0 if r % units == c else 0.0 for c in range(units)] for r in range(n)]
        q[f"dZ{k}/dW{k}"] = [[prev[r // units][c % inputs] if c // inputs == r % units else 0.0
                              for c in range(units * inputs)] for r in range(n)]
        q[f"dJ/db{k}"] = [[sum(dZ[i][j] for i in range(2)) for j in range(units)]]
        q[f"dJ/dW{k}"] = [[sum(dZ[i][j] * prev[i][c] for i in range(2)) for c in range(inputs)]
                          for j in range(units)]
        q[f"W{k}_updated"] = [[W[k][j][c] - LEARNING_RATE * q[f"dJ/dW{k}"][j][c] for c in range(inputs)]
                              for j in range(units)]
        q[f"b{k}_updated"] = [[B[k][j] - LEARNING_RATE * q[f"dJ/db{k}"][0][j] for j in range(units)]]
        if k > 1:
            q[f"dZ{k}/dA{k - 1}"] = [[W[k][r % units][c % inputs] if c // inputs == r // units else 0.0
                                      for c in range(2 * inputs)] for r in range(n)]
            dA = [[sum(dZ[i][j] * W[k][j][c] for j in range(units)) for c in range(inputs)] for i in range(2)]
            q[f"dJ/dA{k - 1}"] = dA
    return q


REFERENCE = _reference()


@pytest.fixture(scope="module")
def quantities():
    return solve(load("article")).quantities


@pytest.mark.parametrize("name", sorted(PYTORCH))
def test_equals_the_articles_pytorch_output_to_4_decimals(quantities, name):
    np.testing.assert_array_equal(np.round(quantities[name], 4), np.array(PYTORCH[name]),
                                  err_msg=f"{name} differs from the article's PyTorch output")


def test_cost_equals_pytorch(quantities):
    assert quantities["J"] == pytest.approx(PYTORCH_COST, abs=1e-7)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_equals_an_independent_full_precision_computation(quantities, name):
    np.testing.assert_allclose(quantities[name], np.array(REFERENCE[name]), rtol=1e-12, atol=1e-15,
                               err_msg=f"{name} differs from the independent computation")


def test_every_quantity_of_the_design_table_is_named(quantities):
    expected = {"X", "Y", "L", "J", "dJ/dL", "dL/dA3"}
    for k in (1, 2, 3):
        expected |= {f"Z{k}", f"A{k}", f"W{k}", f"b{k}", f"dA{k}/dZ{k}", f"dZ{k}/dW{k}", f"dZ{k}/db{k}",
                     f"dJ/dA{k}", f"dJ/dZ{k}", f"dJ/dW{k}", f"dJ/db{k}", f"W{k}_updated", f"b{k}_updated"}
    expected |= {"dZ3/dA2", "dZ2/dA1"}
    assert set(quantities) == expected


def test_local_jacobians_have_the_articles_shapes(quantities):
    shapes = {"dL/dA3": (2, 2), "dA3/dZ3": (2, 2), "dZ3/db3": (2, 1), "dZ3/dW3": (2, 2), "dZ3/dA2": (2, 4),
              "dA2/dZ2": (4, 4), "dZ2/db2": (4, 2), "dZ2/dW2": (4, 6), "dZ2/dA1": (4, 6),
              "dA1/dZ1": (6, 6), "dZ1/db1": (6, 3), "dZ1/dW1": (6, 6)}
    assert {name: quantities[name].shape for name in shapes} == shapes


def test_the_articles_numeric_jacobians():
    """The article's printed numeric Jacobians (those it got right) reappear exactly."""
    q = solve(load("article")).quantities
    np.testing.assert_array_equal(q["dZ1/dW1"], [[1, 2, 0, 0, 0, 0], [0, 0, 1, 2, 0, 0], [0, 0, 0, 0, 1, 2],
                                                 [3, 4, 0, 0, 0, 0], [0, 0, 3, 4, 0, 0], [0, 0, 0, 0, 3, 4]])
    np.testing.assert_array_equal(q["dZ3/dA2"], [[0.5, -0.3, 0, 0], [0, 0, 0.5, -0.3]])
    np.testing.assert_array_equal(q["dA2/dZ2"], np.diag([0.0, 1, 1, 1]))
    np.testing.assert_array_equal(q["dZ2/db2"], [[1, 0], [0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(np.round(q["dL/dA3"], 4), [[1.1003, 0], [0, -1.343]])


def test_steps_come_in_the_articles_order():
    steps = solve(load("article")).steps
    assert [step.gradient for step in steps] == [
        "dJ/dL", "dJ/dA3", "dJ/dZ3", "dJ/db3", "dJ/dW3", "dJ/dA2", "dJ/dZ2", "dJ/db2", "dJ/dW2",
        "dJ/dA1", "dJ/dZ1", "dJ/db1", "dJ/dW1"]
    assert [step.section for step in steps] == [1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10]
    assert [step.upstream for step in steps[:3]] == ["dJ/dJ", "dJ/dL", "dJ/dA3"]


def test_every_step_agrees_with_its_shortcut():
    for step in solve(load("article")).steps:
        np.testing.assert_allclose(step.result, step.shortcut, atol=1e-15, err_msg=step.gradient)


def test_the_relu_kink_at_z2_is_found_with_pytorchs_convention():
    solution = solve(load("article"))
    kinks = {step.gradient: step.kinks for step in solution.steps if step.kinks}
    assert list(kinks) == ["dJ/dZ2"]
    (kink,) = kinks["dJ/dZ2"]
    assert kink.position == (0, 0)
    assert (kink.derivative, kink.other_derivative) == (0.0, 1.0)
    assert kink.value == 0.0
    assert kink.other_value == pytest.approx(REFERENCE["dJ/dA2"][0][0])


def test_the_forward_pass_shows_the_articles_intermediate_products_in_every_form(capsys):
    from jacobian_bp.cli import main
    from jacobian_bp.render import layout

    solution = solve(load("article"))
    forward = layout.sections(solution, 4, symbolic=False)[0]
    lines = [block.lines[0] for block in layout.flat(forward.blocks) if isinstance(block, layout.Equation)]
    first, broadcast = (line for line in lines if line[0] in ("Z1 = X · W1ᵀ + b1 =", "=") and
                        np.array_equal(line[1].values, [[3, 4, -8.1], [5, 11, -16.3]]))
    np.testing.assert_array_equal(first[1].values, [[3, 4, -8.1], [5, 11, -16.3]])  # X · W1ᵀ, before the bias
    np.testing.assert_array_equal(first[3].values, [B[1]])
    np.testing.assert_array_equal(broadcast[3].values, [B[1], B[1]])  # the bias on every sample's row
    np.testing.assert_allclose(broadcast[5].values, PYTORCH["Z1"])
    assert [line[0] for line in lines if line[0].startswith("A")] == [
        "A1 = ReLU(Z1) =", "A2 = ReLU(Z2) =", "A3 = sigmoid(Z3) ="]
    for form in ("text", "markdown", "latex", "html"):
        assert main(["walkthrough", "--format", form, "--no-symbolic", "--width", "100"]) == 0
        assert capsys.readouterr().out.count("16.3") == 2, form  # X · W1ᵀ, shown before and after the bias


def test_a_dense_layer_without_bias_shows_its_product_alone():
    from jacobian_bp.ops import Dense

    values = {"input": np.array([[1.0, 2.0]]), "W": np.array([[3.0, -1.0]])}
    values["output"] = Dense(1, bias=False).forward(values)
    names = {"input": "X", "W": "W1", "output": "Z1"}
    ((formula, product),) = Dense(1, bias=False).forward_products(values, names)
    assert formula == "Z1 = X · W1ᵀ =" and product.tolist() == [[1.0]]
