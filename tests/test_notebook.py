"""The example notebook runs: its code cells are executed in order, as a kernel would, in one namespace.

No notebook runner is needed: a cell's last expression is evaluated and shown the way Jupyter shows
it (`_repr_html_`, else `_repr_markdown_`, else `repr`), so the reprs the notebook relies on are exercised.
"""

import ast
import contextlib
import io
import json
from pathlib import Path

import pytest

from jacobian_bp.numbers import format_number

NOTEBOOK = Path(__file__).parent.parent / "examples" / "walkthrough.ipynb"


def shown(value) -> str:
    """What Jupyter would display for a cell's value."""
    for method in ("_repr_html_", "_repr_markdown_"):
        if hasattr(value, method):
            return getattr(value, method)()
    return repr(value)


def run_cells(cells: list[str]) -> tuple[dict, list[str], str]:
    """Execute the cells in one namespace: the namespace, what each cell displays, and what was printed."""
    namespace: dict = {"__name__": "__main__"}
    displayed, printed = [], io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, source in enumerate(cells, start=1):
            tree = ast.parse(source, filename=f"cell {number}")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f"cell {number}", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), f"cell {number}", "eval"), namespace)
                displayed.append(shown(value))
    return namespace, displayed, printed.getvalue()


@pytest.fixture(scope="module")
def notebook() -> dict:
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def test_the_notebook_is_a_plain_nbformat_4_notebook(notebook):
    assert notebook["nbformat"] == 4
    assert {cell["cell_type"] for cell in notebook["cells"]} == {"markdown", "code"}
    assert all(isinstance(cell["source"], list) for cell in notebook["cells"])


def test_the_notebook_shows_a_walkthrough_a_step_and_a_check(notebook):
    cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    namespace, displayed, printed = run_cells(cells)
    assert namespace["solution"].J == pytest.approx(0.19522886210143703, rel=1e-12)
    page = displayed[1]  # the cell `solution`: the walkthrough's HTML page
    assert page.startswith("<div class=\"jbp-") and "<h1>Article example: 2-3-2-1" in page and "<math>" in page
    assert namespace["step"].gradient == "dJ/dW3" and repr(namespace["step"]).startswith("<Step 4: dJ/dW3")
    step_page = displayed[2]  # the cell `step`: that step's page alone
    assert step_page.startswith("<div class=\"jbp-") and "<h2>Backward step 4/10 · " in step_page
    assert "<td>−1.0216</td><td>−0.9253</td>" in step_page and "Forward pass" not in step_page
    assert "dJ/dW3 = [[-1.02161234 -0.92529373]]" in printed
    assert namespace["status"] == 1  # the student's slips make check exit with 1
    assert "Note: '0,1952' read as 0.1952: a decimal comma taken for a decimal point." in printed
    verdicts = namespace["report"].quantities
    diagnoses = {graded.name: (graded.verdict, graded.diagnosis) for graded in verdicts}
    assert displayed[-1] == repr(diagnoses)
    assert diagnoses["J"] == ("correct", None) and diagnoses["W3_updated"] == ("correct", None)
    assert diagnoses["dJ/db3"][0] == "wrong" and diagnoses["dJ/db3"][1].startswith("missing 1/m")
    assert diagnoses["dJ/dW3"][0] == "wrong" and "transposed: your answer is the transpose" in diagnoses["dJ/dW3"][1]


def test_the_html_repr_is_a_fragment_whose_style_and_ids_stay_its_own():
    """A notebook puts the HTML in its own page: no rule for :root, html or body may leak out, and showing a
    solution twice must not repeat an id."""
    import re

    from jacobian_bp import load, solve

    solution = solve(load("article"))
    first, second = solution._repr_html_(), solution._repr_html_()
    for shown in (first, second):
        assert shown.startswith('<div class="jbp-') and "<html" not in shown and "<body" not in shown
        style = shown[shown.index("<style>") + len("<style>"):shown.index("</style>")]
        scope = re.match(r'<div class="(jbp-\d+)"', shown).group(1)
        for rule in re.findall(r"(?:^|})\s*([^{}@]+?)\s*{", style):
            assert all(selector.strip().startswith("." + scope) for selector in rule.split(",")), rule
        targets = re.findall(r'href="#([^"]+)"', shown)
        ids = re.findall(r' id="([^"]+)"', shown)
        assert targets and set(targets) <= set(ids)
    assert not set(re.findall(r' id="([^"]+)"', first)) & set(re.findall(r' id="([^"]+)"', second))
    assert len(repr(solution.walkthrough)) < 200 and "article" in repr(solution.walkthrough)


def test_a_step_shows_its_own_page_in_markdown_and_html():
    """A backward step of a solution shows the page the walkthrough gives it, with only that step on it."""
    from jacobian_bp import load, solve

    solution = solve(load("article"))
    step = solution.step("dJ/dW3")
    text = step._repr_markdown_()
    assert text.startswith("## Backward step 4/10 · ") and text.count("### ") == 1
    assert r"\begin{bmatrix} 0 & 8 \\ 8 & 10.1 \end{bmatrix}" in text  # dZ3/dW3: A2's entries
    assert r"\begin{bmatrix} 0.0456 & -0.1277 \end{bmatrix}" in text  # the upstream row
    assert r"\begin{bmatrix} -1.0216 & -0.9253 \end{bmatrix}" in text  # dJ/dW3
    assert "Forward pass" not in text and "W^{[2]}_{\\text{updated}}" not in text
    page = step._repr_html_()
    assert page.startswith('<div class="jbp-') and "<h2>Backward step 4/10 · " in page
    assert "<td>8</td><td>10.1</td>" in page and "<td>−1.0216</td><td>−0.9253</td>" in page


def test_a_training_step_and_an_update_show_their_own_pages():
    from jacobian_bp import load, solve

    solution = solve(load("optimizers"))
    third = solution.training[2]
    text = third._repr_markdown_()
    assert text.startswith("## Training step 3/5 · Forward pass") and "## Training step 3/5 · Adam update" in text
    assert "Training step 2/5" not in text and "Training step 4/5" not in text
    update = third.updates[1]
    shown = update._repr_markdown_()
    assert shown.startswith("## Training step 3/5 · Adam update")
    new = r" \\ ".join(" & ".join(format_number(float(value), 4) for value in row) for row in update.new)
    assert new in shown and shown.count("_{\\text{updated}}@3 = \\begin{bmatrix}") == 1
    assert f"<td>{format_number(float(update.new[0, 0]), 4).replace('-', '−')}</td>" in update._repr_html_()
    later = solution.training[2].steps[3]
    assert later._repr_markdown_().startswith("## Training step 3/5 · Backward step")


def test_a_step_made_outside_a_solution_shows_its_repr():
    from jacobian_bp import load
    from jacobian_bp.chain import backpropagate

    walkthrough = load("article")
    step = backpropagate(walkthrough.graph, walkthrough.graph.forward(walkthrough.given))[0]
    assert step._repr_html_() is None and step._repr_markdown_() is None
