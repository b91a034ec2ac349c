"""Symbols of Jacobians too large to write out: every form shows the corner a page shows, written entry by
entry from the op's index pattern, and nothing the size of the whole Jacobian is ever built in symbols."""

import io
import re

import pytest
from rich.console import Console

from jacobian_bp import load, solve
from jacobian_bp.render import formulas, html, layout, story, terms
from jacobian_bp.render.terminal import pages

# The largest net the memory guard admits written out densely: 2 → 203 → 203 → 1, a batch of 4.
DENSE = "\n".join([
    'title = "2 → 203 → 203 → 1, batch 4"', 'loss = "binary_cross_entropy"', "seed = 1", "[data]",
    "X = [[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75], [0.0, 1.5]]", "Y = [[1.0], [0.0], [1.0], [0.0]]",
    *(f'[[layers]]\nunits = {units}\nactivation = "{activation}"'
      for units, activation in ((203, "tanh"), (203, "tanh"), (1, "sigmoid")))]) + "\n"
WIDTH = 100


@pytest.fixture(scope="module", params=["mnist_shape", "dense"])
def solution(request, tmp_path_factory):
    if request.param == "dense":
        path = tmp_path_factory.mktemp("corners") / "dense.toml"
        path.write_text(DENSE, encoding="utf-8")
        return solve(load(str(path)))
    return solve(load(request.param))


class Counted:
    """A pattern that counts the entries it is asked for."""

    def __init__(self, pattern):
        self.pattern, self.calls = pattern, 0

    def __call__(self, row: int, column: int):
        self.calls += 1
        return self.pattern(row, column)


def corners(solution) -> list:
    """Each large Jacobian's symbols, their pattern counted (and the pattern itself, to compare with)."""
    found = []
    for step in solution.steps:
        symbols = layout.symbolic_corner(solution, step)
        if symbols is not None:
            pattern = symbols.pattern
            symbols.__dict__["pattern"] = Counted(pattern)  # the cached pattern, replaced by its counted self
            found.append((step, symbols, pattern))
    return found


def _entries(line: str) -> tuple[list[str], list[str]]:
    """The entries of one drawn matrix row left and right of the `…` where columns are elided."""
    inside = line.strip()[1:-1].strip()
    cells = re.split(r"\s{2,}", inside)
    if "…" not in cells:
        return cells, []
    cut = cells.index("…")
    return cells[:cut], cells[cut + 1:]


def test_both_nets_have_large_jacobians_whose_ops_write_their_corners(solution):
    found = corners(solution)
    assert len(found) >= 4
    assert all(step.structure.size > story.SYMBOLIC_LIMIT for step, _, _ in found)


def test_the_terminal_shows_the_patterns_entries_at_the_shown_positions_and_writes_no_others(solution):
    for step, symbols, pattern in corners(solution):
        rows, columns = symbols.shape
        console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system=None)
        console.print(*pages.renderables(layout.Equation(((symbols,),))))
        lines = console.export_text().splitlines()
        first, last = lines[0], next(line for line in lines if line.lstrip().startswith(("⎣", "[")))
        for line, row in ((first, 0), (last, rows - 1)):
            left, right = _entries(line)
            assert left == [pattern(row, j).text() for j in range(len(left))], step.jacobian_name
            assert right == [pattern(row, columns - len(right) + j).text() for j in range(len(right))]
        assert "not shown)" in lines[-1]
        # At most 21 rows of at most two ends' worth of columns are written (twice at most, as the terminal widens
        # its reach until the columns fill the width), of up to hundreds of millions of entries.
        shown = min(rows, 21) * min(columns, 2 * (WIDTH // 3 + 1))
        assert 0 < symbols.pattern.calls <= 2 * shown < step.structure.size
        assert "matrix" not in symbols.__dict__  # no sympy matrix was built


def test_latex_and_html_set_the_shown_corner_as_math_and_write_no_other_entry(solution):
    for step, symbols, pattern in corners(solution):
        rows, columns = symbols.shape
        latex = formulas.latex_matrix(symbols)
        mathml = html._part(symbols)
        for row, column in ((0, 0), (rows - 1, columns - 1), (min(rows, 10) - 1, min(columns, 6) - 1)):
            assert terms.latex(pattern(row, column)) in latex and terms.mathml(pattern(row, column)) in mathml
        assert r"\vdots" in latex or r"\cdots" in latex
        window = layout.window(symbols.shape)
        shown = sum(i is not None for i in window.rows) * sum(j is not None for j in window.columns)
        assert symbols.pattern.calls == 2 * shown < step.structure.size
        assert "matrix" not in symbols.__dict__


def test_every_page_says_its_symbols_are_a_corner(solution):
    step = corners(solution)[0][0]
    page = next(page for page in story.pages(solution) if step in page.steps)
    section = layout.section(solution, page, 4, symbolic=True)
    captions = [str(block.text) for block in section.blocks if isinstance(block, layout.Prose)]
    assert str(story.symbolic_corner_caption(step)) in captions
    assert not any("shown in numbers only" in caption for caption in captions)
