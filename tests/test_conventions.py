"""Textbook conventions: every quantity written with samples as columns, column-major vec or the denominator
layout is the article's one transposed or permuted BY THE DEFINITION, derived here entry by entry without
the module that writes them."""

import dataclasses
import functools
import io
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

from jacobian_bp import symbolic
from jacobian_bp.check import AnswerFileError, grade
from jacobian_bp.cli import main
from jacobian_bp.conventions import ALL, DEFAULT, Conventions, writing
from jacobian_bp.ops import Dense
from jacobian_bp.ops.convolution import Convolution
from jacobian_bp.render import layout, story
from jacobian_bp.render.terminal import pages
from jacobian_bp.solution import solve
from jacobian_bp.walkthrough import WalkthroughError, bundled_directory, load
from tests.strategies import graphs, written_out_names
from tests.test_export import RENDERERS, Page, bmatrices, expected_matrices

NAMES = written_out_names()  # mnist_shape's Jacobians are shown by structure: refused below
NG = Conventions("columns", "column-major", "denominator")


@functools.cache
def solved(name: str, conventions: Conventions = DEFAULT):
    walkthrough = load(name)
    return solve(dataclasses.replace(walkthrough, conventions=conventions))


@functools.cache
def engine(name: str):
    return solved(name).computed


def kept(solution) -> set[str]:
    """The dense layers' weights (units × inputs in `A · Wᵀ + b` and in `W · A + b` alike) and the convolutions'
    kernels (out × in·k·k, the same way)."""
    return {node.roles[role] for node in solution.graph.nodes for role, kind in (("W", Dense), ("K", Convolution))
            if isinstance(node.op, kind) and role in node.roles}


def written_positions(engine_shape, transposed: bool, column_major: bool) -> list[int]:
    """The engine's row-major indices of a matrix's entries, in the order the convention's vec reads them."""
    rows, columns = engine_shape[::-1] if transposed else engine_shape
    cells = ([(i, j) for j in range(columns) for i in range(rows)] if column_major
             else [(i, j) for i in range(rows) for j in range(columns)])
    return [(j * engine_shape[1] + i) if transposed else (i * engine_shape[1] + j) for i, j in cells]


def expected_quantities(default, conventions: Conventions) -> dict:
    """Every quantity of a solution (`default`, as computed) under `conventions`, every training step's, from the
    default ones by the definition."""
    same = kept(default)

    def turned(variable: str) -> bool:
        return conventions.columns and variable not in same

    def matrix(variable: str, value):
        return value.T if turned(variable) else value

    expected, like = {}, {}
    for training in default.training:
        at, values = training.suffix, training.values
        like.update({name + at: name for name in values})
        like.update({name: name for name in default.graph.parameters})
        like.update({step.gradient + at: step.variable for step in training.steps})
        for update in training.updates:
            like[update.name] = update.parameter
            like.update({state: update.parameter for state in update.state_names().values()})
        for step in training.steps:
            if step.from_cost or step.is_sum:
                continue
            rows = written_positions(values[step.node].shape, turned(step.node), conventions.column_major)
            columns = written_positions(values[step.variable].shape, turned(step.variable), conventions.column_major)
            jacobian = np.array([[step.jacobian[r, c] for c in columns] for r in rows])
            expected[step.jacobian_name + at] = jacobian.T if conventions.denominator else jacobian
    for quantity, value in default.quantities.items():
        if np.ndim(value) == 0:
            expected[quantity] = value
        elif quantity in like:
            expected[quantity] = matrix(like[quantity], value)
    return expected


@pytest.mark.parametrize("conventions", ALL, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_quantity_is_the_default_one_transposed_or_permuted(name, conventions):
    found = solved(name, conventions).quantities
    expected = expected_quantities(engine(name), conventions)
    assert set(found) == set(expected) == set(engine(name).quantities)
    for quantity, value in expected.items():
        assert np.shape(found[quantity]) == np.shape(value), quantity
        np.testing.assert_array_equal(found[quantity], value, err_msg=quantity)


@given(walkthrough=graphs(), conventions=st.sampled_from(ALL))
@settings(max_examples=40, deadline=None)
def test_random_graphs_in_every_convention_are_the_default_transposed_or_permuted(walkthrough, conventions):
    """Every op of the registries (random DAGs draw them all) written by the definition."""
    default = solve(walkthrough)
    assume(all(step.is_sum or step.structure.small for step in default.steps))  # else refused, as tested below
    found = solve(dataclasses.replace(walkthrough, conventions=conventions)).quantities
    expected = expected_quantities(default, conventions)
    assert set(found) == set(expected)
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


# Worksheets and check ---------------------------------------------------------------------------------------

def filled_worksheet(capsys, tmp_path, name: str, conventions: Conventions, keep_conventions: bool = True) -> Path:
    """The worksheet made under `conventions`, every "?" replaced by the exact value as written there; without
    its [conventions] table unless `keep_conventions`."""
    flags = ["--samples", conventions.samples, "--vec", conventions.vec, "--layout", conventions.layout]
    assert main(["worksheet", name, *flags]) == 0
    document = tomllib.loads(capsys.readouterr().out)
    assert document.get("conventions", DEFAULT.document()) == conventions.document()
    quantities = solved(name, conventions).quantities
    lines = [f"walkthrough = {json.dumps(document['walkthrough'])}", f"decimals = {document['decimals']}"]
    if keep_conventions and "conventions" in document:
        lines += ["[conventions]", *(f"{key} = {json.dumps(value)}" for key, value in document["conventions"].items())]
    lines.append("[answers]")
    for quantity, placeholders in document["answers"].items():
        value = np.atleast_2d(quantities[quantity])
        shape = np.shape(np.atleast_2d(np.array(placeholders, dtype=object)))
        if len(shape) == 4:  # a kernel, nested out × in × k × k
            value = value.reshape(shape)
        assert shape == value.shape, quantity
        answer = value.tolist() if value.size > 1 else float(value.flat[0])
        lines.append(f"{json.dumps(quantity)} = {json.dumps(answer)}")
    path = tmp_path / "answers.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("conventions", [NG, Conventions(vec="column-major"), Conventions(layout="denominator"),
                                         Conventions(samples="columns")], ids=str)
def test_a_worksheet_made_under_conventions_checks_all_correct(capsys, tmp_path, conventions):
    report = grade(filled_worksheet(capsys, tmp_path, "article", conventions))
    assert report.conventions == conventions
    assert {result.verdict for result in report.quantities} == {"correct"}
    assert len(report.quantities) == len(engine("article").quantities) - 8  # every quantity but the givens


@pytest.mark.parametrize("name", ["cnn", "batchnorm", "dropout", "mazur_two_steps", "optimizers"])
def test_worksheets_of_the_new_ops_and_of_several_training_steps_check_all_correct_in_other_conventions(
        capsys, tmp_path, name):
    report = grade(filled_worksheet(capsys, tmp_path, name, NG))
    assert report.conventions == NG and report.quantities
    assert {result.name: result.verdict for result in report.quantities if result.verdict != "correct"} == {}


def test_the_same_answers_under_the_default_conventions_are_named_as_that_slip(capsys, tmp_path):
    report = grade(filled_worksheet(capsys, tmp_path, "article", NG, keep_conventions=False))
    assert report.conventions == DEFAULT
    results = {result.name: result for result in report.quantities}
    assert results["Z1"].diagnosis == ("expected shape 2 × 3, found 3 × 2 (the transposed shape); this is Z1 written "
                                       "with samples as columns: your course's convention is samples as rows")
    # dZ3/dA2 with samples as columns and column-major vec is the default one: only the layout differs
    assert results["dZ3/dA2"].diagnosis == ("expected shape 2 × 4, found 4 × 2 (the transposed shape); this is "
                                            "dZ3/dA2 written with the denominator layout: your course's convention "
                                            "is the numerator layout")
    assert results["dZ2/dW2"].diagnosis.endswith("this is dZ2/dW2 written with samples as columns, column-major vec "
                                                 "and the denominator layout: your course's convention is samples as "
                                                 "rows, row-major vec and the numerator layout")
    for result in report.quantities:
        if result.verdict == "wrong":
            assert "this is " + result.name + " written with" in result.diagnosis, result.name
        else:  # the same under both (a one-entry quantity, a weight), or right from the student's own values
            assert result.verdict in ("correct", "carried forward"), result.name
    assert results["dJ/dW1"].verdict == "correct" and results["dJ/db1"].verdict == "wrong"


def test_an_answer_in_the_course_conventions_is_named_against_the_course(capsys, tmp_path):
    """A course with samples as columns: the rows answer of dZ2/dW2 is the slip, said the other way round."""
    path = filled_worksheet(capsys, tmp_path, "article", Conventions(samples="columns"))
    text = path.read_text()
    rows = engine("article").quantities["dZ2/dW2"]
    start = text.index('"dZ2/dW2" = ')
    end = text.index("\n", start)
    path.write_text(text[:start] + f'"dZ2/dW2" = {json.dumps(rows.tolist())}' + text[end:])
    results = {result.name: result for result in grade(path).quantities}
    assert results["dZ2/dW2"].verdict == "wrong"
    assert results["dZ2/dW2"].diagnosis == ("this is dZ2/dW2 written with samples as rows: your course's convention "
                                            "is samples as columns")
    assert results["dJ/dW2"].verdict == "correct"


def test_check_reports_the_conventions(capsys, tmp_path):
    path = filled_worksheet(capsys, tmp_path, "article", NG)
    assert main(["check", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["conventions"] == NG.document()
    assert main(["check", str(path), "--width", "100"]) == 0
    assert "Answers are read with samples as columns, column-major vec and the denominator layout" in \
        " ".join(capsys.readouterr().out.split())


def test_a_bad_conventions_table_in_an_answer_file_names_its_line(tmp_path):
    path = tmp_path / "answers.toml"
    path.write_text('walkthrough = "article"\n[conventions]\nlayout = "numerator-ish"\n[answers]\nZ1 = "?"\n')
    with pytest.raises(AnswerFileError) as caught:
        grade(path)
    assert str(caught.value).startswith(f"{path}:3: conventions.layout: expected one of: numerator, denominator")


# What every renderer writes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("conventions", [NG, Conventions(vec="column-major")], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_value_as_written_is_in_every_document(name, conventions):
    solution = solved(name, conventions)
    decimals = solution.walkthrough.decimals
    expected = expected_matrices(solution, decimals)
    for form, render in RENDERERS.items():
        text = render(solution, decimals=decimals, symbolic=False)
        found = set(Page(text).matrices) if form == "html" else bmatrices(text)
        missing = [what for what, matrix in expected.items() if matrix not in found]
        assert not missing, f"{form} of {name} lacks {missing[:5]}"


def terminal(solution, width: int = 100, symbolic: bool = True) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    pages.render_walkthrough(solution, console, pages.Options(decimals=4, symbolic=symbolic))
    return console.export_text()


def test_the_terminal_writes_the_article_as_the_conventions_say():
    text = terminal(solved("article", NG))
    plain = " ".join(text.split())
    assert plain.index("Conventions ─") < plain.index("Forward pass ─")
    for sentence in ("This walkthrough is written with samples as columns, column-major vec and the denominator "
                     "layout.", "Z1 = W1 · X + b1, then A1 = ReLU(Z1)",
                     "Chain rule: dJ/dW3 = dZ3/dW3 · dJ/dZ3", "vec(dJ/dW3) = ∂vec(Z3)/∂vec(W3) · vec(dJ/dZ3)",
                     "dZ3/dW3 times the upstream column gives the column", "De-vectorized, column by column, to the "
                     "shape of W3 (1 × 2):", "Shortcut dJ/dW3 = dJ/dZ3 · A2ᵀ gives the same numbers.",
                     "Shortcut dJ/db3 = row sums of dJ/dZ3", "Shortcut dJ/dA2 = W3ᵀ · dJ/dZ3",
                     "one row per entry of W3, one column per entry of Z3 (entries taken column by column)",
                     "reads a matrix column by column into a column"):
        assert sentence in plain, sentence
    assert "Upstream column" in text and "Upstream row" not in text
    assert "vec(M) =" in text and "x₂₁⁽¹⁾" in text  # X's second feature of sample 1, as written


def test_the_default_conventions_have_no_conventions_page():
    assert "Conventions ─" not in terminal(solved("article"), symbolic=False)
    assert story.pages(solved("article"))[0].kind == "forward"


@pytest.mark.parametrize("conventions", ALL, ids=str)
def test_symbolic_jacobians_as_written_evaluate_to_the_numbers(conventions):
    solution = solved("article", conventions)
    values = symbolic.substitutions(solution)
    for step in solution.steps:
        if step.is_sum:
            continue
        matrix = writing(solution).jacobian(step.node, step.variable, symbolic.jacobian(solution, step))
        np.testing.assert_allclose(symbolic.evaluate(matrix, values), step.jacobian, atol=1e-12)


def test_a_step_through_page_of_the_conventions(capsys):
    solution = solved("article", NG)
    blocks = layout.section(solution, story.pages(solution)[0], 4, False).blocks
    assert [type(block).__name__ for block in blocks] == ["Breadcrumb", "Prose", "Prose", "Prose", "Equation", "Prose"]


def test_article_ng_is_the_article_written_in_its_conventions():
    ng = solve(load("article_ng"))
    assert ng.conventions == NG
    for name, value in ng.computed.quantities.items():
        np.testing.assert_array_equal(value, engine("article").quantities[name], err_msg=name)
    for name, value in ng.quantities.items():
        np.testing.assert_array_equal(value, solved("article", NG).quantities[name], err_msg=name)


@pytest.mark.parametrize("replace, message", [
    (("Y = [[0.0, 1.0]]", "Y = [[0.0, 1.0, 1.0]]"), "data.Y: expected 2 columns (one per sample of X), found 3"),
    (("b = [[1.0], [-2.0], [0.3]]", "b = [[1.0, -2.0, 0.3]]"), "layers[1].b: expected a single column, found 3"),
    (("W = [[0.5, -0.3]]", "W = [[0.5], [-0.3]]"), "layers[3].W: expected shape 1 × 2 (units × inputs), found 2 × 1"),
])
def test_a_file_with_samples_as_columns_is_checked_as_written(tmp_path, replace, message):
    path = tmp_path / "ng.toml"
    path.write_text((bundled_directory() / "article_ng.toml").read_text().replace(*replace))
    with pytest.raises(WalkthroughError) as caught:
        load(path)
    assert message in str(caught.value)


def test_a_walkthrough_shown_by_its_structure_is_refused_under_other_conventions(capsys):
    from jacobian_bp.cli import main

    assert main(["walkthrough", "mnist_shape", "--format", "json", "--samples", "columns"]) == 2
    error = capsys.readouterr().err
    assert "other conventions write every Jacobian out in full" in error and error.count("\n") == 1


# Sentences in the chosen conventions ------------------------------------------------------------------------

def explanation(solution, gradient: str) -> str:
    return " ".join(str(story.explanation(solution.step(gradient), solution)).split())


def test_the_dense_layers_explanations_are_written_in_the_conventions():
    default, ng = solved("article"), solved("article", NG)
    assert "b3 is added to the row of every sample, so the Jacobian stacks one identity per sample" in \
        explanation(default, "dJ/db3")
    assert "b3 is added to the column of every sample, so the Jacobian puts one identity per sample side by side" \
        in explanation(ng, "dJ/db3")
    assert "Entry (i, j) of Z3 uses only row j of W3, multiplied by the inputs of sample i," in \
        explanation(default, "dJ/dW3")
    assert "Entry (j, i) of Z3 uses only row j of W3, multiplied by the inputs of sample i (column i of A2)," in \
        explanation(ng, "dJ/dW3")
    assert "one copy of W3 per sample on its block diagonal" in explanation(default, "dJ/dA2")
    assert "one copy of W3ᵀ per sample on its block diagonal" in explanation(ng, "dJ/dA2")
    # What the sentences claim holds of the matrices as written: blocks of W3, or of W3ᵀ, one per sample.
    W3, samples = default.values["W3"], default.samples
    np.testing.assert_array_equal(default.step("dJ/dA2").jacobian, np.kron(np.eye(samples), W3))
    np.testing.assert_array_equal(ng.step("dJ/dA2").jacobian, np.kron(np.eye(samples), W3.T))
    np.testing.assert_array_equal(ng.step("dJ/db2").jacobian, np.kron(np.ones((1, samples)), np.eye(2)))
    assert "spread out" not in " ".join(explanation(ng, step.gradient) for step in ng.steps)


@pytest.mark.parametrize("conventions", [Conventions(vec="column-major"), Conventions(samples="columns")], ids=str)
def test_blocks_per_sample_are_said_to_spread_out_where_vec_does_not_keep_a_sample_together(conventions):
    solution = solved("softmax", conventions)
    for step in solution.steps:
        said = explanation(solution, step.gradient)
        blocks = any(claim in said for claim in ("per sample on its block diagonal", "one block per sample",
                                                 "each sample has a full", "identity per sample", "once per unit"))
        assert blocks == ("these blocks are spread out" in said), step.gradient
    assert any("these blocks are spread out" in explanation(solution, step.gradient) for step in solution.steps)
    assert "every a of a column depends on every z of the same column" in " ".join(
        explanation(solved("softmax", NG), step.gradient) for step in solution.steps)


def test_the_reading_guide_is_written_in_the_conventions():
    text = " ".join(terminal(solved("article", NG)).split())
    guide = text[text.index("How to read this walkthrough"):text.index("Conventions ─")]
    for sentence in ("The network, with one sample per column of X:", "Z1 = W1 · X + b1",
                     "its outputs, column 1 of A3, and its targets, column 1 of Y",
                     "vec lays a matrix out as one column, reading it column by column (column-major",
                     "one row per entry of V, the variable the gradient is taken with respect to, and one column per "
                     "entry of the node's output F (the denominator layout)", "give an rs × pq matrix",
                     "vec(dJ/dV) = ∂vec(F)/∂vec(V) · vec(dJ/dF). The upstream column vec(dJ/dF)",
                     "folded back column by column into the shape of V"):
        assert sentence in guide, sentence
    assert "X · W1ᵀ" not in guide and "row by row" not in guide
    assert "l₁ = -y₁₁·log(a₁₁) - (1 - y₁₁)·log(1 - a₁₁)" in guide  # one output per sample, as in the article
    softmax = " ".join(terminal(solved("softmax", Conventions(samples="columns"))).split())
    assert "l₁ = -y₁₁·log(a₁₁) - y₂₁·log(a₂₁) - y₃₁·log(a₃₁)" in softmax  # sample 1's column


CLAMPED = """\
loss = "binary_cross_entropy"
[conventions]
samples = "columns"
[data]
X = [[0.0, 1.0]]
Y = [[0.0, 0.0]]
[[layers]]
units = 1
activation = "sigmoid"
W = [[40.0]]
b = [[0.0]]
"""


def test_notes_of_the_loss_name_positions_as_written(tmp_path, capsys):
    """The second sample's output is clamped: A1 row 2, column 1 with samples as rows, row 1, column 2 as columns."""
    path = tmp_path / "clamped.toml"
    path.write_text(CLAMPED)
    columns = " ".join(terminal(solve(load(path)), symbolic=False).split())
    rows = " ".join(terminal(solve(dataclasses.replace(load(path), conventions=DEFAULT)), symbolic=False).split())
    assert "A1 row 1, column 2 is 1, so one of its logs is below −100" in columns
    assert "L row 1, column 2 is finite" in columns and "row 2, column 1" not in columns
    assert "A1 row 1, column 2 is 1, so a(1 − a) = 0 is below 1e-12" in columns  # the note on the step dJ/dA1
    assert "A1 row 2, column 1 is 1, so one of its logs is below −100" in rows and "L row 2, column 1" in rows


@pytest.mark.parametrize("conventions", ALL, ids=str)
def test_explain_names_each_entry_as_the_conventions_write_the_jacobian(conventions):
    from jacobian_bp.explain import JacobianEntries, jacobian_steps

    solution = solved("article", conventions)
    computed = jacobian_steps(solution.computed)
    for step in solution.steps:
        if step.is_sum:
            continue
        entries = JacobianEntries(solution, computed[step.jacobian_name])
        rows, columns = step.jacobian.shape
        for row in range(rows):
            for column in range(columns):
                explained = entries.explain(row, column)
                assert explained.value == step.jacobian[row, column], (step.jacobian_name, row, column)
                assert explained.derivative_value == pytest.approx(explained.value, rel=1e-9, abs=1e-12)
                assert (explained.row, explained.column, explained.shape) == (row, column, (rows, columns))


def test_explain_on_the_command_line_reads_the_conventions(capsys):
    assert main(["explain", "article_ng", "dZ2/dW2[3,1]", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "dZ2/dW2[3,1] is row 3, column 1 of the 6 × 4 Jacobian ∂vec(Z2)/∂vec(W2)." in out
    assert "Row 3 is entry 3 of vec(W2), which reads W2 column by column: W2 row 1, column 2, written w[2]₁₂." in out
    assert ("Column 1 is entry 1 of vec(Z2), which reads Z2 column by column: Z2 row 1, column 1, written "
            "z[2]₁₁⁽¹⁾.") in out
    assert "So dZ2/dW2[3,1] = 2." in out
    assert solved("article", NG).quantities["dZ2/dW2"][2, 0] == 2
    assert main(["explain", "article_ng", "dZ2/dW2[1,1]", "--samples", "rows", "--vec", "row-major", "--layout",
                 "numerator", "--width", "200"]) == 0
    assert "which reads W2 row by row" in capsys.readouterr().out


def test_the_pytorch_script_says_in_one_line_that_it_prints_in_pytorchs_convention(capsys):
    assert main(["walkthrough", "article_ng", "--format", "pytorch"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "PyTorch's convention" in line]
    assert said == ["# The walkthrough is written with samples as columns, column-major vec and the denominator "
                    "layout; this script prints every value in PyTorch's convention (samples as rows, row-major vec "
                    "and the numerator layout)."]
    assert main(["walkthrough", "article", "--format", "pytorch"]) == 0
    assert "PyTorch's convention" not in capsys.readouterr().out


def test_the_article_json_with_samples_as_columns(capsys):
    assert main(["walkthrough", "article", "--format", "json", "--samples", "columns"]) == 0
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    assert quantities["X"] == [[1.0, 3.0], [2.0, 4.0]]  # the article's samples (1, 2) and (3, 4) as columns
    assert np.shape(quantities["Z1"]) == (3, 2) and quantities["b1"] == [[1.0], [-2.0], [0.3]]
    assert np.shape(quantities["dJ/dZ1"]) == (3, 2) and np.shape(quantities["W1"]) == (3, 2)


def test_every_training_step_is_written_in_the_conventions():
    """Two steps with momentum under samples as columns: the second step's quantities, the optimizer's state and
    its pages are transposed like the first's."""
    from jacobian_bp.optimizers import OPTIMIZERS

    walkthrough = dataclasses.replace(load("article"), steps=2, optimizer=OPTIMIZERS["momentum"](momentum=0.9),
                                      all_steps=True)
    computed = solve(walkthrough)
    written = solve(dataclasses.replace(walkthrough, conventions=Conventions(samples="columns")))
    for name in ("Z1@2", "A3@2", "dJ/dZ1@2", "dJ/db1@2", "b1_updated@2", "velocity_b1@2", "L@2"):
        np.testing.assert_array_equal(written.quantities[name], computed.quantities[name].T, err_msg=name)
    for name in ("W1_updated@2", "dJ/dW2@2", "velocity_W2@2"):  # written alike with samples as rows or columns
        np.testing.assert_array_equal(written.quantities[name], computed.quantities[name], err_msg=name)
    second = written.training[1]
    b1 = next(update for update in second.updates if update.parameter == "b1")
    assert second.values["Z1"].shape == (3, 2) and b1.previous_state["velocity"].shape == (3, 1)
    text = terminal(written, symbolic=False)
    page = text[text.index("Training step 2/2 · Forward pass"):text.index("Training step 2/2 · Loss and cost")]
    assert "Z1 = W1 · X + b1" in page and "Z1 = X · W1ᵀ" not in page


def test_the_new_ops_sentences_are_written_in_the_conventions():
    columns = solved("batchnorm", Conventions(samples="columns", layout="denominator"))
    said = {step.gradient: explanation(columns, step.gradient) for step in columns.steps}
    assert "beta2 is added to every sample's column, so the Jacobian puts one identity per sample side by side" \
        in said["dJ/dbeta2"]
    assert "Entry (j, i) of N1 is γ_j · ẑ_ji + β_j" in said["dJ/dgamma2"]
    shortcuts = {step.gradient: str(step.shortcut_formula) for step in columns.steps}
    assert shortcuts["dJ/dbeta2"] == "row sums of dJ/dN1" and "the means taken along each row" in shortcuts["dJ/dZ1"]
    assert "the means taken down each column" in str(solved("batchnorm").step("dJ/dZ1").shortcut_formula)
    ng = solved("cnn", NG)
    said = " ".join(explanation(ng, step.gradient) for step in ng.steps)
    assert "its column of the Jacobian holds a single 1 at that entry's row" in said
    assert "one patch per column" in said and "Multiplying a column by it is the transposed convolution" in said
    assert "spread out" not in said  # samples as columns with column-major vec keep each sample together
    interleaved = solved("cnn", Conventions(vec="column-major"))
    assert "these blocks are spread out" in explanation(interleaved, "dJ/dA2")


def test_pictures_are_each_samples_column_and_the_dropout_mask_is_written_as_its_variable():
    default, columns = terminal(solved("cnn"), symbolic=False), terminal(solved("cnn", NG), symbolic=False)

    def pictures(text: str, caption: str) -> str:
        start = text.index(caption)
        return text[text.index("\n", start):text.index("\n\n", start)]

    assert "Each sample's column of X as its 1 × 5 × 5 picture" in columns
    assert pictures(columns, "Each sample's column of X") == pictures(default, "Each sample's row of X")
    mask = solved("dropout").walkthrough.graph.producers["D1"].op.mask_for(solved("dropout").values["A1"].shape)
    written = "; ".join(" ".join(f"{value:g}" for value in row) for row in mask.T)  # units × samples
    assert mask.shape == (2, 4) and f"1 keeps, 0 drops), row by row: {written}." in " ".join(
        terminal(solved("dropout", NG), symbolic=False).split())


@pytest.mark.parametrize("conventions, block", [(NG, True), (Conventions(samples="columns"), False),
                                                (Conventions(vec="column-major"), False)], ids=str)
def test_sample_1s_block_of_a_wide_symbolic_jacobian_only_where_vec_keeps_a_sample_together(conventions, block):
    from jacobian_bp.render.fitting import symbolic_form

    solution = solved("softmax", conventions)
    step = solution.step("dJ/dZ2")
    form = symbolic_form(solution, step, layout.Symbols(solution, step))
    notes = " ".join(map(str, form.notes))
    assert form.block == block
    assert "a sample's number is its " + solution.conventions.sample_line in notes
    if block:  # the written Jacobian: sample 1's block transposed, zeros outside the diagonal blocks
        assert "(column i instead of column 1)" in notes and form.matrix.shape == (3, 3)
        np.testing.assert_array_equal(step.jacobian[:3, 3:], 0)


def test_a_worksheet_gives_the_nodes_constants_as_written(capsys):
    assert main(["worksheet", "dropout", "--samples", "columns"]) == 0
    text = capsys.readouterr().out
    mask = solved("dropout").walkthrough.graph.producers["D1"].op.mask_for(solved("dropout").values["A1"].shape)
    assert "row by row: " + "; ".join(" ".join(f"{value:g}" for value in row) for row in mask.T) + "." in text
    assert main(["worksheet", "cnn", "--samples", "columns"]) == 0
    assert "Z1 reads each sample's column of X as a 1 × 5 × 5 picture" in capsys.readouterr().out


def test_a_worksheet_made_in_the_default_conventions_of_a_walkthrough_written_in_others_says_so(capsys, tmp_path):
    """article_ng's file writes samples as columns; a worksheet asked for in the default conventions carries a
    [conventions] table, so that check does not fall back to the file's."""
    report = grade(filled_worksheet(capsys, tmp_path, "article_ng", DEFAULT))
    assert report.conventions == DEFAULT
    assert {result.verdict for result in report.quantities} == {"correct"}
