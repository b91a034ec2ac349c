"""The reading guide: the first section of every walkthrough, in every form and on the step-through's first page."""

import subprocess
import sys

import pytest

from jacobian_bp import load, solve
from jacobian_bp.cli import main
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

    text = f"{symbolic.text(loss.left)} = {symbolic.text(loss.right)}"
    assert text.startswith("l₁ = ") and "y₁" in text, text
    assert symbolic.text(cost.left) == "J" and "l₁" in symbolic.text(cost.right)
    if "R" in solution.values:
        assert "R" in symbolic.text(cost.right)
    first = layout.sections(solution, 4, symbolic=False)[0]
    assert first.kind == "guide" and str(first.title) == guide.TITLE


def test_step_1_never_reads_as_circular():
    text = render("article", 100)
    assert "dJ/dL = dJ/dJ · dJ/dL" not in text
    assert "Chain rule: dJ/dL = dJ/dJ · ∂vec(J)/∂vec(L), starting from dJ/dJ = 1" in text
    assert "∂vec(J)/∂vec(L), the local Jacobian of the mean cost, is 1 × 2" in " ".join(text.split())
