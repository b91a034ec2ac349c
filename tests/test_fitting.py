"""Symbolic Jacobians that fit: short names, and one sample's block of a Jacobian that keeps samples apart."""

import numpy as np
import pytest

from jacobian_bp import load, solve, symbolic
from jacobian_bp.render import layout
from jacobian_bp.render.fitting import SYMBOLIC_WIDTH, symbolic_form, width
from tests.golden import render


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("name", ["softmax", "xor"])
def test_softmax_and_xor_show_every_symbolic_jacobian_whole_at_80_and_100_columns(name, columns):
    text = render(name, columns)
    assert "not shown" not in text and "…" not in text
    solution = solve(load(name))
    for step in solution.steps:
        if step.is_sum:
            continue
        form = symbolic_form(solution, step, layout.Symbols(solution, step))
        assert width(form.symbols) <= SYMBOLIC_WIDTH, step.jacobian_name


def test_softmax_shows_sample_1s_block_and_says_what_the_rest_is():
    solution = solve(load("softmax"))
    step = solution.step("dJ/dZ2")
    form = symbolic_form(solution, step, layout.Symbols(solution, step))
    assert form.block and form.matrix.shape == (3, 3)
    notes = " ".join(map(str, form.notes))
    assert "the block of sample 1 (rows 1–3, columns 1–3 of the 6 × 6 Jacobian)" in notes
    assert "every entry outside the 2 diagonal blocks is 0" in notes
    assert "Short names: a₁₁ stands for a[2]₁₁⁽¹⁾" in notes
    assert [[symbolic.text(entry) for entry in form.matrix.row(0)]] == [["a₁₁·(1 - a₁₁)", "-a₁₁·a₁₂", "-a₁₁·a₁₃"]]
    # The block, its short names read as sample 1's entries, gives the numeric Jacobian's first block.
    values = {sym: solution.values["A2"][0, int(sym.name.split("|")[3]) - 1] for sym in form.matrix.free_symbols}
    np.testing.assert_allclose(symbolic.evaluate(form.matrix, values), step.jacobian[:3, :3], rtol=1e-12)
    np.testing.assert_array_equal(step.jacobian[:3, 3:], 0)


def test_the_block_stands_on_its_own_line_and_the_numbers_stay_whole():
    solution = solve(load("xor"))
    section = next(s for s in layout.sections(solution, 4, symbolic=True) if "dJ/dZ1" in str(s.title))
    blocks = layout.flat(section.blocks)
    block = next(b for b in blocks if isinstance(b, layout.Equation) and "Sample 1's block" in str(b.label))
    assert block.lines[0][0].shape == (2, 2)
    jacobian = next(b for b in blocks if isinstance(b, layout.Jacobian))
    assert [type(part).__name__ for part in jacobian.equation.lines[0]] == ["str", "Numbers"]


def test_a_jacobian_that_fits_is_shown_whole_in_the_articles_names():
    """Every local Jacobian of the article fits an 80-column page in its full names but the loss's, whose
    entries carry the targets `y` as symbols: that one takes short names, and says so."""
    solution = solve(load("article"))
    for step in solution.steps:
        form = symbolic_form(solution, step, layout.Symbols(solution, step))
        assert not form.block, step.jacobian_name
        if step.jacobian_name == "dL/dA3":
            assert [symbolic.text(entry) for entry in form.matrix if entry != 0] == [
                "(1 - y₁₁)/(1 - a₁₁) - y₁₁/a₁₁", "(1 - y₂₁)/(1 - a₂₁) - y₂₁/a₂₁"]
            assert "Short names: a₁₁ stands for a[3]₁₁⁽¹⁾" in str(form.notes[0])
        else:
            assert not form.notes, step.jacobian_name
