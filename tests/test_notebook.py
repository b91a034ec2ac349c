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
    assert page.startswith("<!DOCTYPE html>") and "<h1>Article example: 2-3-2-1" in page and "<math>" in page
    assert namespace["step"].gradient == "dJ/dW3" and displayed[2].startswith("<Step 4: dJ/dW3")
    assert "dJ/dW3 = [[-1.02161234 -0.92529373]]" in printed
    assert namespace["status"] == 1  # the student's slips make check exit with 1
    assert "Note: '0,1952' read as 0.1952: a decimal comma taken for a decimal point." in printed
    verdicts = namespace["report"].quantities
    diagnoses = {graded.name: (graded.verdict, graded.diagnosis) for graded in verdicts}
    assert displayed[-1] == repr(diagnoses)
    assert diagnoses["J"] == ("correct", None) and diagnoses["W3_updated"] == ("correct", None)
    assert diagnoses["dJ/db3"][0] == "wrong" and diagnoses["dJ/db3"][1].startswith("missing 1/m")
    assert diagnoses["dJ/dW3"][0] == "wrong" and "transposed: your answer is the transpose" in diagnoses["dJ/dW3"][1]
