"""Textbook conventions: every quantity written with samples as columns, column-major vec or the denominator
layout is the article's one transposed or permuted BY THE DEFINITION, derived here entry by entry without
the module that writes them."""

import dataclasses
import functools
import json

import numpy as np
import pytest

from jacobian_bp.cli import main
from jacobian_bp.conventions import ALL, DEFAULT, Conventions
from jacobian_bp.ops import Dense
from jacobian_bp.solution import solve
from jacobian_bp.walkthrough import WalkthroughError, bundled_directory, bundled_names, load

NAMES = bundled_names()
NG = Conventions("columns", "column-major", "denominator")


@functools.cache
def solved(name: str, conventions: Conventions = DEFAULT):
    walkthrough = load(name)
    return solve(dataclasses.replace(walkthrough, conventions=conventions))


@functools.cache
def engine(name: str):
    return solved(name).computed


def kept(solution) -> set[str]:
    """The dense layers' weights: units × inputs in `A · Wᵀ + b` and in `W · A + b` alike."""
    return {node.roles["W"] for node in solution.graph.nodes if isinstance(node.op, Dense)}


def written_positions(engine_shape, transposed: bool, column_major: bool) -> list[int]:
    """The engine's row-major indices of a matrix's entries, in the order the convention's vec reads them."""
    rows, columns = engine_shape[::-1] if transposed else engine_shape
    cells = ([(i, j) for j in range(columns) for i in range(rows)] if column_major
             else [(i, j) for i in range(rows) for j in range(columns)])
    return [(j * engine_shape[1] + i) if transposed else (i * engine_shape[1] + j) for i, j in cells]


def expected_quantities(name: str, conventions: Conventions) -> dict:
    """Every quantity of the walkthrough under `conventions`, from the default ones by the definition."""
    default = engine(name)
    same = kept(default)
    values = default.values

    def turned(variable: str) -> bool:
        return conventions.columns and variable not in same

    def matrix(variable: str, value):
        return value.T if turned(variable) else value

    expected = {}
    like = {name: name for name in values}
    like.update({step.gradient: step.variable for step in default.steps})
    like.update({update.name: update.parameter for update in default.updates})
    for quantity, value in default.quantities.items():
        if np.ndim(value) == 0:
            expected[quantity] = value
        elif quantity in like:
            expected[quantity] = matrix(like[quantity], value)
    for step in default.steps:
        if step.from_cost or step.is_sum:
            continue
        rows = written_positions(values[step.node].shape, turned(step.node), conventions.column_major)
        columns = written_positions(values[step.variable].shape, turned(step.variable), conventions.column_major)
        jacobian = np.array([[step.jacobian[r, c] for c in columns] for r in rows])
        expected[step.jacobian_name] = jacobian.T if conventions.denominator else jacobian
    return expected


@pytest.mark.parametrize("conventions", ALL, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_quantity_is_the_default_one_transposed_or_permuted(name, conventions):
    found = solved(name, conventions).quantities
    expected = expected_quantities(name, conventions)
    assert set(found) == set(expected) == set(engine(name).quantities)
    for quantity, value in expected.items():
        assert np.shape(found[quantity]) == np.shape(value), quantity
        np.testing.assert_array_equal(found[quantity], value, err_msg=quantity)


@pytest.mark.parametrize("conventions", ALL, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_step_still_obeys_its_chain_rule_as_written(name, conventions):
    """`vec(gradient) = vec(upstream) · Jacobian` (or `Jacobian · vec(upstream)`), each vec read as written."""
    solution = solved(name, conventions)
    order = "F" if conventions.column_major else "C"
    gradients = {"J": np.ones((1, 1))}
    for step in solution.steps:
        assert np.allclose(step.shortcut, step.result, rtol=1e-12, atol=1e-12), step.gradient
        if not step.is_sum:
            upstream = gradients[step.node].ravel(order=order)
            product = step.jacobian @ upstream if conventions.denominator else upstream @ step.jacobian
            np.testing.assert_allclose(product, step.result.ravel(order=order), rtol=1e-12, atol=1e-15)
            assert step.upstream_row.shape == ((upstream.size, 1) if conventions.denominator else (1, upstream.size))
            np.testing.assert_array_equal(step.upstream_row.ravel(), upstream)
        if not step.path:
            gradients[step.variable] = step.result


def test_the_article_with_samples_as_columns():
    quantities = solved("article", Conventions(samples="columns")).quantities
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(quantities["X"], X.T)  # features × samples
    assert quantities["Z1"].shape == (3, 2)
    np.testing.assert_array_equal(quantities["b1"], [[1.0], [-2.0], [0.3]])
    np.testing.assert_array_equal(quantities["W1"], engine("article").values["W1"])
    assert quantities["dJ/dW3"].shape == (1, 2) and quantities["dJ/db1"].shape == (3, 1)


def test_the_article_with_column_major_vec():
    """dZ2/dW2's columns follow W2 (2 × 3) column by column: w11, w21, w12, w22, w13, w23."""
    default = engine("article").quantities
    found = solved("article", Conventions(vec="column-major")).quantities
    np.testing.assert_array_equal(found["dZ3/dW3"], default["dZ3/dW3"])  # W3 is one row: both orders agree
    rows = [0, 2, 1, 3]  # Z2 is 2 × 2: z11, z21, z12, z22
    np.testing.assert_array_equal(found["dZ2/dW2"], default["dZ2/dW2"][np.ix_(rows, [0, 3, 1, 4, 2, 5])])


@pytest.mark.parametrize("name", NAMES)
def test_the_denominator_layout_transposes_every_jacobian(name):
    numerator, denominator = solved(name).quantities, solved(name, Conventions(layout="denominator")).quantities
    jacobians = [step.jacobian_name for step in engine(name).steps if not step.from_cost and not step.is_sum]
    assert jacobians
    for jacobian in jacobians:
        np.testing.assert_array_equal(denominator[jacobian], numerator[jacobian].T)


def test_json_states_the_conventions_and_the_command_line_overrides_the_file(capsys):
    assert main(["walkthrough", "--format", "json", "--samples", "columns", "--vec", "column-major"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["conventions"] == {"samples": "columns", "vec": "column-major", "layout": "numerator"}
    assert np.shape(document["quantities"]["X"]) == (2, 2) and np.shape(document["quantities"]["b1"]) == (3, 1)
    assert main(["walkthrough", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["conventions"] == DEFAULT.document()


def test_a_file_writes_its_data_in_its_conventions(tmp_path):
    text = """
loss = "mean_squared_error"
[conventions]
samples = "columns"
[data]
X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
Y = [[1.0, 0.0, 1.0]]
[[layers]]
units = 1
activation = "identity"
W = [[0.5, -0.25]]
b = [[0.1]]
"""
    path = tmp_path / "columns.toml"
    path.write_text(text)
    walkthrough = load(path)
    assert walkthrough.conventions == Conventions(samples="columns")
    assert walkthrough.X.shape == (3, 2)  # the engine's samples as rows
    solution = solve(walkthrough)
    np.testing.assert_array_equal(solution.quantities["X"], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(solution.quantities["Z1"], [[-0.4, -0.15, 0.1]])


@pytest.mark.parametrize("table, fragments", [
    ('samples = "cols"', ["conventions.samples", "one of: rows, columns", "did you mean 'columns'",
                          "found the text 'cols'"]),
    ('order = "row-major"', ["conventions.order", "unknown key"]),
    ('layout = 1', ["conventions.layout", "found the number 1"]),
])
def test_bad_conventions_are_refused_with_the_field(tmp_path, table, fragments):
    path = tmp_path / "bad.toml"
    path.write_text((bundled_directory() / "article.toml").read_text() + f"\n[conventions]\n{table}\n")
    with pytest.raises(WalkthroughError) as caught:
        load(path)
    for fragment in fragments:
        assert fragment in str(caught.value)
