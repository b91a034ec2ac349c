"""Symbolic Jacobians: with every symbol replaced by its value they equal the numeric ones."""

import numpy as np
import pytest
from hypothesis import given, settings

from jacobian_bp import load, solve, symbolic
from tests.strategies import walkthroughs, written_out_names

ARTICLE = solve(load("article"))


@pytest.mark.parametrize("step", ARTICLE.steps, ids=lambda step: step.jacobian_name)
def test_article_symbolic_jacobian_evaluates_to_the_numeric_one(step):
    matrix = symbolic.jacobian(ARTICLE, step)
    evaluated = symbolic.evaluate(matrix, symbolic.substitutions(ARTICLE))
    np.testing.assert_allclose(evaluated, step.jacobian, rtol=1e-12, atol=1e-15, err_msg=step.jacobian_name)


@given(walkthrough=walkthroughs(max_depth=3, max_width=3, max_batch=3))
@settings(max_examples=15, deadline=None)
def test_random_symbolic_jacobians_evaluate_to_the_numeric_ones(walkthrough):
    solution = solve(walkthrough)
    values = symbolic.substitutions(solution)
    for step in solution.steps:
        evaluated = symbolic.evaluate(symbolic.jacobian(solution, step), values)
        np.testing.assert_allclose(evaluated, step.jacobian, rtol=1e-9, atol=1e-12, err_msg=step.jacobian_name)


def _texts(gradient: str, ascii_only: bool = False) -> list[list[str]]:
    matrix = symbolic.jacobian(ARTICLE, ARTICLE.step(gradient))
    return [[symbolic.text(entry, ascii_only) for entry in matrix.row(i)] for i in range(matrix.rows)]


def test_article_notation_in_text():
    assert _texts("dJ/dA2") == [["w[3]₁₁", "w[3]₁₂", "0", "0"], ["0", "0", "w[3]₁₁", "w[3]₁₂"]]
    assert _texts("dJ/dW1")[3][:2] == ["x₂₁⁽²⁾", "x₂₂⁽²⁾"]
    assert _texts("dJ/dW3") == [["a[2]₁₁⁽¹⁾", "a[2]₁₂⁽¹⁾"], ["a[2]₂₁⁽²⁾", "a[2]₂₂⁽²⁾"]]
    assert _texts("dJ/dA3") == [["(1 - y₁₁)/(1 - a[3]₁₁⁽¹⁾) - y₁₁/a[3]₁₁⁽¹⁾", "0"],  # the targets kept as symbols
                                ["0", "(1 - y₂₁)/(1 - a[3]₂₁⁽²⁾) - y₂₁/a[3]₂₁⁽²⁾"]]
    assert _texts("dJ/dZ3")[0][0] == "σ(z[3]₁₁⁽¹⁾)·(1 - σ(z[3]₁₁⁽¹⁾))"
    assert _texts("dJ/dL") == [["1/2", "1/2"]]


def test_relu_derivatives_are_zero_or_one_by_the_sign_of_z():
    assert _texts("dJ/dZ2") == [["0", "0", "0", "0"], ["0", "1", "0", "0"], ["0", "0", "1", "0"],
                                ["0", "0", "0", "1"]]


def test_ascii_notation():
    assert _texts("dJ/dW3", ascii_only=True)[0] == ["a[2]_11^(1)", "a[2]_12^(1)"]
    assert _texts("dJ/dZ3", ascii_only=True)[0][0] == "sigmoid(z[3]_11^(1))*(1 - sigmoid(z[3]_11^(1)))"


def test_article_notation_in_latex():
    matrix = symbolic.jacobian(ARTICLE, ARTICLE.step("dJ/dW3"))
    assert symbolic.latex(matrix[0, 1]) == "{a_{12}^{[2]}}^{(1)}"
    weights = symbolic.jacobian(ARTICLE, ARTICLE.step("dJ/dA2"))
    assert symbolic.latex(weights[0, 0]) == "w_{11}^{[3]}"
    sigmoid = symbolic.jacobian(ARTICLE, ARTICLE.step("dJ/dZ3"))
    assert symbolic.latex(sigmoid[0, 0]) == (
        r"\sigma\left({z_{11}^{[3]}}^{(1)}\right) \left(1 - \sigma\left({z_{11}^{[3]}}^{(1)}\right)\right)")


def mark(text: str, ascii_only: bool) -> str:
    """An elision mark as a terminal of that kind prints it."""
    from jacobian_bp.render.layout import ASCII_MARKS

    return ASCII_MARKS[text] if ascii_only else text


def _pattern_and_sympy_texts(solution):
    """For every step whose op writes its symbols from its index pattern: both texts, in Unicode and ASCII."""
    from jacobian_bp.render.layout import Symbols

    for step in solution.steps:
        if step.is_sum:
            continue
        symbols = Symbols(solution, step)
        if symbols.pattern is None:
            continue
        for ascii_only in (False, True):
            written = symbols.texts(ascii_only)
            derived = [[(mark(entry, ascii_only) if isinstance(entry, str) else symbolic.text(entry, ascii_only), zero)
                        for entry, zero in row] for row in symbols.rows()]
            yield step.jacobian_name, written, derived


@pytest.mark.parametrize("name", written_out_names())
def test_index_patterns_print_as_sympy_does_in_every_bundled_walkthrough(name):
    solution = solve(load(name))
    compared = list(_pattern_and_sympy_texts(solution))
    for jacobian_name, written, derived in compared:
        assert written == derived, jacobian_name
    if name == "article":  # every op of the article writes its own symbols: no sympy for its text
        assert len(compared) == 2 * len(solution.steps)


@given(walkthrough=walkthroughs(max_depth=3, max_width=3, max_batch=3))
@settings(max_examples=15, deadline=None)
def test_index_patterns_print_as_sympy_does_in_random_networks(walkthrough):
    for jacobian_name, written, derived in _pattern_and_sympy_texts(solve(walkthrough)):
        assert written == derived, jacobian_name
