"""`jacobian-bp explain`: every entry of every bundled walkthrough's Jacobians, explained and checked."""

import numpy as np
import pytest
import sympy

from jacobian_bp import load, solve, symbolic
from jacobian_bp.cli import main
from jacobian_bp.explain import JacobianEntries, explain, parse
from tests.strategies import written_out_names

ARTICLE = solve(load("article"))


# Every entry of a Jacobian up to this size; of a larger one, a sample (sympy takes seconds per hundred entries).
EVERY_ENTRY_UP_TO, SAMPLED_ENTRIES = 600, 60


@pytest.mark.parametrize("name", written_out_names())
def test_every_entry_of_every_jacobian_is_explained_with_its_number(name):
    solution = solve(load(name)).computed  # explain reads Jacobians as computed, whatever the conventions
    values = symbolic.substitutions(solution)
    for step in solution.steps:
        if step.is_sum:
            continue
        entries = JacobianEntries(solution, step)
        rows, columns = step.jacobian.shape
        positions = [(row, column) for row in range(rows) for column in range(columns)]
        if len(positions) > EVERY_ENTRY_UP_TO:  # cnn's 32 × 64: its corners and a seeded sample of the rest
            picked = np.random.default_rng(len(positions)).choice(len(positions), SAMPLED_ENTRIES, replace=False)
            positions = [positions[0], positions[-1], *(positions[i] for i in sorted(picked))]
        for row, column in positions:
            equation = entries.equation(row)
            explained = entries.explain(row, column)
            where = f"{name} {step.jacobian_name}[{row + 1},{column + 1}]"
            assert explained.value == step.jacobian[row, column], where
            assert explained.derivative_value == pytest.approx(explained.value, rel=1e-9, abs=1e-12), where
            # The scalar equation, differentiated, gives the entry (at a kink the convention decides instead).
            if explained.kink is None:
                derivative = sympy.diff(equation, entries.input_symbols[column])
                assert entries.evaluate(derivative.subs(values)) == pytest.approx(
                    explained.value, rel=1e-9, abs=1e-12), where
            if not explained.uses:
                assert explained.value == 0, where
            text = " ".join(map(str, explained.sentences()))
            assert f"{step.jacobian_name}[{row + 1},{column + 1}] = " in text, where


def test_the_articles_entry_names_both_entries_the_equation_the_derivative_and_the_number(capsys):
    assert main(["explain", "article", "dZ2/dW2[3,1]", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "Row 3 is entry 3 of vec(Z2), which reads Z2 row by row: Z2 row 2, column 1, written z[2]₂₁⁽²⁾." in out
    assert "Column 1 is entry 1 of vec(W2), which reads W2 row by row: W2 row 1, column 1, written w[2]₁₁." in out
    assert ("Scalar equation: z[2]₂₁⁽²⁾ = a[1]₂₁⁽²⁾·w[2]₁₁ + a[1]₂₂⁽²⁾·w[2]₁₂ + a[1]₂₃⁽²⁾·w[2]₁₃ + b[2]₁₁"
            in out)
    assert "Its derivative: ∂z[2]₂₁⁽²⁾/∂w[2]₁₁ = a[1]₂₁⁽²⁾" in out
    assert "So dZ2/dW2[3,1] = 6." in out


def test_an_entry_the_equation_does_not_use_is_zero_and_says_why():
    step, entry = parse(ARTICLE, "dZ2/dW2[3,4]")
    text = " ".join(map(str, JacobianEntries(ARTICLE, step).explain(*entry).sentences()))
    assert "w[2]₂₁ does not appear in it, so ∂z[2]₂₁⁽²⁾/∂w[2]₂₁ = 0." in text


def test_the_kink_is_named_where_the_derivative_is_a_convention():
    text = " ".join(map(str, explain(ARTICLE, "dA2/dZ2[1,1]")))
    assert "a[2]₁₁⁽¹⁾ = max(0, z[2]₁₁⁽¹⁾)" in text
    assert "sits exactly on the kink" in text and "So dA2/dZ2[1,1] = 0." in text


def test_the_cost_is_written_by_its_name_and_sigmoid_and_the_loss_are_worked_out():
    assert "Scalar equation: J = l₁⁽¹⁾/2 + l₂⁽²⁾/2" in " ".join(map(str, explain(ARTICLE, "dJ/dL[1,2]")))
    sigmoid = " ".join(map(str, explain(ARTICLE, "dA3/dZ3[2,2]")))
    assert "With z[3]₂₁⁽²⁾ = 1.07: σ(z[3]₂₁⁽²⁾)·(1 - σ(z[3]₂₁⁽²⁾)) = 0.1902." in sigmoid


def test_a_whole_jacobian_shows_the_scalar_equations_of_its_rows():
    lines = [str(line) for line in explain(ARTICLE, "dZ1/dW1")]
    assert lines[1] == "Row 1: z[1]₁₁⁽¹⁾ = w[1]₁₁·x₁₁⁽¹⁾ + w[1]₁₂·x₁₂⁽¹⁾ + b[1]₁₁" or \
        lines[1] == "Row 1: z[1]₁₁⁽¹⁾ = x₁₁⁽¹⁾·w[1]₁₁ + x₁₂⁽¹⁾·w[1]₁₂ + b[1]₁₁"
    assert len(lines) == 2 + ARTICLE.step("dJ/dW1").jacobian.shape[0]


@pytest.mark.parametrize(("entry", "message"), [
    ("dZ2/dW3[1,1]", "no local Jacobian is called 'dZ2/dW3' (did you mean 'dZ3/dW3'?)"),
    ("dZ2/dW2[9,1]", "dZ2/dW2 is 4 × 6: expected a row from 1 to 4 and a column from 1 to 6, found [9,1]"),
    ("dZ2/dW2[0,1]", "found [0,1]"),
    ("[1,1]", "cannot read '[1,1]'"),
])
def test_entries_that_are_not_there_are_one_line_errors(capsys, entry, message):
    assert main(["explain", "article", entry]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_the_row_major_positions_match_vec():
    step, _ = parse(ARTICLE, "dZ2/dW2")
    entries = JacobianEntries(ARTICLE, step)
    W2 = ARTICLE.values["W2"]
    for column in range(W2.size):
        explained = entries.explain(0, column)
        i, j = divmod(column, W2.shape[1])
        assert explained.input_entry == symbolic.text(symbolic.variable_symbols(ARTICLE.graph, "W2", W2.shape)[i, j])
    assert np.array_equal(W2.reshape(-1), [W2[divmod(c, W2.shape[1])] for c in range(W2.size)])


def test_a_jacobian_shown_by_its_structure_is_refused_in_one_line(capsys):
    assert main(["explain", "mnist_shape", "dZ1/dW1[1,1]"]) == 2
    error = capsys.readouterr().err
    assert "dZ1/dW1 is 4096 × 100352" in error and "too large to write out in symbols" in error
    assert error.count("\n") == 1


def test_an_entry_of_a_real_sized_network_names_only_the_symbols_of_its_node(monkeypatch):
    """mnist_shape has 281,016 entries; dZ2/db2[5,3] reads A1, W2 and b2 and writes Z2 (5,706 entries), whose
    symbols are named once, and the entry is built alone rather than the whole 320 × 10 symbolic Jacobian."""
    named = []
    make_symbols = symbolic.symbols

    def counting(letter, layer, shape, *arguments, **keywords):
        named.append(shape[0] * shape[1])
        return make_symbols(letter, layer, shape, *arguments, **keywords)

    def refuse(self, role, symbols, values):
        raise AssertionError("built the whole symbolic Jacobian to explain one entry")

    solution = solve(load("mnist_shape"))
    monkeypatch.setattr(symbolic, "symbols", counting)
    monkeypatch.setattr(type(solution.graph.producers["Z2"].op), "symbolic_jacobian", refuse)
    text = " ".join(str(sentence) for sentence in explain(solution, "dZ2/db2[5,3]"))
    assert "So dZ2/db2[5,3] = 0." in text
    assert sum(named) == 32 * 128 + 10 * 128 + 10 + 32 * 10
