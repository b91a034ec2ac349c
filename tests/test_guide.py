"""The reading guide: the first section of every walkthrough, in every form and on the step-through's first page."""

import subprocess
import sys

import numpy as np
import pytest

from jacobian_bp import load, solve
from jacobian_bp.cli import main
from jacobian_bp.ops import LOSSES
from jacobian_bp.render import guide, layout
from jacobian_bp.walkthrough import bundled_names
from tests.golden import render

ARTICLE = solve(load("article"))


def first_page(text: str) -> str:
    """The guide: from its heading (the last mention, after any table of contents) to the forward pass."""
    guide_on = text.split("How to read this walkthrough")[-1]
    return guide_on[:guide_on.index("Forward pass")]


def test_the_first_page_at_80_columns_has_every_part_of_the_guide():
    text = render("article", 80)
    page = " ".join(first_page(text).split())
    assert text.index("How to read this walkthrough") < text.index("Forward pass")
    assert "Z1 = X · W1ᵀ + b1 A1 = ReLU(Z1)" in page  # the network, one layer per line
    assert "l₁ = -y₁₁·log(a₁₁) - (1 - y₁₁)·log(1 - a₁₁) Y = ⎡ 0 ⎤" in page  # the loss with Y symbolic, values beside
    assert "J = l₁/2 + l₂/2" in page
    assert "M = ⎡ 1 2 3 ⎤ vec(M) = [ 1 2 3 4 5 6 ]" in page  # vec's reading order
    assert "vec(W1) = [ -1 2 3 0.5 -0.1 -4 ]" in page
    assert "dZ1/dW1 is 6 × 6: Z1 is 2 × 3 and W1 is 3 × 2." in page  # the shape rule, with this network's shapes
    assert "The upstream row vec(dJ/dF) is the gradient of J with respect to the node's output F" in page
    assert "the local Jacobian of the mean cost, ∂vec(J)/∂vec(L)" in page


@pytest.mark.parametrize("form", ["markdown", "latex", "html"])
def test_the_guide_comes_first_in_every_document(capsys, form):
    assert main(["walkthrough", "--format", form]) == 0
    text = capsys.readouterr().out
    assert text.index("How to read this walkthrough") < text.index("Forward pass")
    assert "log" in first_page(text) and "vec" in first_page(text) and "upstream row" in first_page(text)


def test_the_step_throughs_first_page_shows_the_guide():
    result = subprocess.run([sys.executable, "-m", "jacobian_bp", "walkthrough", "--step", "--width", "80"],
                            input="q\n", capture_output=True, text=True, timeout=120)
    page = " ".join(result.stdout.split())
    assert "How to read this walkthrough" in page and "l₁ = -y₁₁·log(a₁₁)" in page
    title = page.index("Step 1/13 · Forward pass")
    assert title < page.index("How to read this walkthrough") < page.index("Forward pass ─", title + 30)


@pytest.mark.parametrize("name", bundled_names())
def test_every_walkthroughs_guide_writes_its_own_loss_and_cost(name):
    solution = solve(load(name))
    loss, cost = guide.loss_equations(solution)
    from jacobian_bp import symbolic

    text = loss.text()
    assert text.startswith("l₁ = ") and "y₁" in text, text
    assert cost.text().startswith("J = ") and "l₁" in cost.text()
    assert symbolic.text(cost.left) == "J" and "l₁" in symbolic.text(cost.right)
    if "R" in solution.values:
        assert cost.text().endswith(" + R") and "R" in symbolic.text(cost.right)
    losses = {f"l_{i}": 1.0 for i in range(1, solution.samples + 1)}
    assert _value(cost.text_right, {**losses, "R": 0.5}) == pytest.approx(
        (solution.samples if solution.graph.cost_node.op.summed else 1.0) + 0.5 * ("R" in solution.values))
    first = layout.sections(solution, 4, symbolic=False)[0]
    assert first.kind == "guide" and str(first.title) == guide.TITLE


def _value(term, values: dict) -> float:
    """The number the ASCII text of a term gives for `values` of its names, read by sympy's parser."""
    import re

    import sympy
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    from jacobian_bp.symbolic import sigma

    text, _, helper = term.ascii.partition(", where ")
    names = {"e": sympy.E, "sigmoid": sigma, **{name: sympy.Symbol(name) for name in values}}
    if helper:  # h(r) = r^2/2 if |r| < delta, else delta*(|r| - delta/2)
        delta = float(re.search(r"< ([0-9.]+)", helper).group(1))
        names["h"] = sympy.Lambda(sympy.Symbol("r"), sympy.Piecewise(
            (sympy.Symbol("r")**2 / 2, abs(sympy.Symbol("r")) < delta),
            (delta * (abs(sympy.Symbol("r")) - delta / 2), True)))
    text = re.sub(r"\|([^|]*)\|", r"Abs(\1)", text)
    expression = parse_expr(text, local_dict=names, transformations=(*standard_transformations, convert_xor))
    return float(expression.subs({names[name]: value for name, value in values.items()}).evalf())


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_losss_text_is_its_sympy_loss(name, outputs):
    """The loss the guide writes without sympy has the value of the op's sympy loss, at made-up outputs and targets."""
    from jacobian_bp import symbolic
    from jacobian_bp.entries import Namer

    rng = np.random.default_rng(outputs)
    op = LOSSES[name]()
    a, y = rng.uniform(0.1, 0.9, outputs), rng.uniform(0.0, 1.0, outputs)
    a[0] = 2.5 if name == "huber" else a[0]  # both branches of Huber's h
    term = op.loss_text([Namer("a", 0)(0, j) for j in range(outputs)], [Namer("y", 0)(0, j) for j in range(outputs)])
    values = {**{f"a_1{j + 1}": a[j] for j in range(outputs)}, **{f"y_1{j + 1}": y[j] for j in range(outputs)}}
    A, Y = symbolic.symbols("a", 0, (1, outputs)), symbolic.symbols("y", 0, (1, outputs))
    exact = op.symbolic_loss(list(A.row(0)), list(Y.row(0))).subs(
        {**dict(zip(A, a, strict=True)), **dict(zip(Y, y, strict=True))})
    assert _value(term, values) == pytest.approx(float(exact.evalf()), rel=1e-12)


def test_step_1_never_reads_as_circular():
    text = render("article", 100)
    assert "dJ/dL = dJ/dJ · dJ/dL" not in text
    assert "Chain rule: dJ/dL = dJ/dJ · ∂vec(J)/∂vec(L), starting from dJ/dJ = 1" in text
    assert "∂vec(J)/∂vec(L), the local Jacobian of the mean cost, is 1 × 2" in " ".join(text.split())


@pytest.mark.parametrize("name", ["article", "neuron"])
def test_the_text_walkthrough_of_a_net_with_index_patterns_never_imports_sympy(name):
    """The guide's loss and cost, and every Jacobian of these nets, are written from the ops' own text."""
    code = ("import io, sys\nfrom jacobian_bp import load, solve\nfrom jacobian_bp.render.terminal import pages\n"
            "from jacobian_bp.render.terminal.widgets import make_console\n"
            f"pages.render_walkthrough(solve(load({name!r})), make_console(100, file=io.StringIO()), pages.Options())\n"
            "print('sympy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
