"""Training over several steps: Mazur's published figures, the bundled training walkthroughs, the cost curve in
every form, the optimizers' first steps as torch.optim takes them, and the pages of a long run."""

import dataclasses
import io
import json
import re

import numpy as np
import pytest
from rich.console import Console

from jacobian_bp import load, solve
from jacobian_bp.cli import main
from jacobian_bp.numbers import format_number
from jacobian_bp.optimizers import OPTIMIZERS, Adam, Momentum, RMSprop
from jacobian_bp.render import html, layout, story
from jacobian_bp.render import json as json_render
from jacobian_bp.render.terminal.widgets import CostCurve

MAZUR = solve(load("mazur"))

# Every figure of "A Step by Step Backpropagation Example" that names a quantity of ours, as he prints it.
MAZUR_FIGURES = [
    ("Z1", (0, 0), "0.3775"), ("A1", (0, 0), "0.593269992"), ("A1", (0, 1), "0.596884378"),
    ("Z2", (0, 0), "1.105905967"), ("A2", (0, 0), "0.75136507"), ("A2", (0, 1), "0.772928465"),
    ("J", None, "0.298371109"), ("dJ/dA2", (0, 0), "0.74136507"), ("dA2/dZ2", (0, 0), "0.186815602"),
    ("dJ/dW2", (0, 0), "0.082167041"),
    ("W2_updated", (0, 0), "0.35891648"), ("W2_updated", (0, 1), "0.408666186"),
    ("W2_updated", (1, 0), "0.511301270"), ("W2_updated", (1, 1), "0.561370121"),
    ("dJ/dA1", (0, 0), "0.036350306"), ("dA1/dZ1", (0, 0), "0.241300709"), ("dJ/dW1", (0, 0), "0.000438568"),
    ("W1_updated", (0, 0), "0.149780716"), ("W1_updated", (0, 1), "0.19956143"),
    ("W1_updated", (1, 0), "0.24975114"), ("W1_updated", (1, 1), "0.29950229"),
]


@pytest.mark.parametrize(("name", "position", "published"), MAZUR_FIGURES)
def test_mazur_reproduces_every_published_figure_to_his_decimals(name, position, published):
    value = MAZUR.quantities[name]
    ours = float(value if position is None else value[position])
    decimals = len(published.split(".")[1])
    assert f"{ours:.{decimals}f}" == published, name


def test_mazur_error_after_one_round_differs_from_his_in_the_seventh_decimal_and_the_page_says_so():
    assert f"{MAZUR.J_final:.9f}" == "0.291027774"
    his = 0.291027924
    assert 1e-7 < his - MAZUR.J_final < 2e-7
    assert "0.291027924" in MAZUR.walkthrough.description and "0.291027774" in MAZUR.walkthrough.description
    walkthrough = MAZUR.walkthrough
    assert walkthrough.frozen == ("b1", "b2") and walkthrough.learning_rate == 0.5
    np.testing.assert_array_equal(MAZUR.quantities["b1_updated"], [[0.35, 0.35]])  # his shared biases, frozen
    assert [page.kind for page in story.pages(MAZUR)][-1] == "cost"  # the file states steps: the pages end with J_final


def test_mazur_two_steps_starts_the_second_from_the_first_updates():
    two = solve(load("mazur_two_steps"))
    q = two.quantities
    assert q["J@2"] == pytest.approx(MAZUR.J_final, abs=1e-15)
    np.testing.assert_allclose(q["W1_updated@2"], q["W1_updated"] - 0.5 * q["dJ/dW1@2"], rtol=1e-15)
    assert two.costs == pytest.approx([MAZUR.J, MAZUR.J_final, two.J_final], abs=1e-15)
    assert two.J_final < two.quantities["J@2"] < two.J


def test_the_optimizers_description_quotes_the_costs_of_every_optimizer_it_names():
    walkthrough = load("optimizers")
    text = " ".join(walkthrough.description.split())
    assert walkthrough.optimizer.name == "adam" and walkthrough.steps == 5
    for name in ("sgd", "momentum", "rmsprop"):
        assert name in text
    finals = {name: solve(dataclasses.replace(walkthrough, optimizer=cls())).J_final
              for name, cls in OPTIMIZERS.items()}
    quoted = [float(number) for number in re.findall(r"\b0\.\d{4}\b", text)]
    assert f"{solve(walkthrough).J:.4f}" in text
    for name, final in finals.items():
        assert round(final, 4) in quoted, f"{name}: {final:.4f} is not in the description"
    assert finals["adam"] < finals["sgd"]


def test_logits_takes_class_indices_and_collapses_at_the_loss():
    solution = solve(load("logits"))
    fused = solution.step("dJ/dA2")
    probabilities = np.exp(solution.values["A2"]) / np.exp(solution.values["A2"]).sum(axis=1, keepdims=True)
    one_hot = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(fused.fused, (probabilities - one_hot) / 2, rtol=1e-12)
    np.testing.assert_allclose(fused.result, fused.fused, rtol=1e-12)
    assert fused.fused_formula == "(softmax(A2) − Y) / m"


def test_first_steps_keep_torchs_conventions():
    """The momentum buffer starts as the gradient itself; RMSprop and Adam add eps after the root; Adam's first
    step moves every entry by about the learning rate."""
    p, g = np.array([[1.0, -2.0]]), np.array([[0.5, -0.001]])
    new, state = Momentum().step(1, p, g, {}, 0.1)
    np.testing.assert_array_equal(state["velocity"], g)
    np.testing.assert_allclose(new, p - 0.1 * g)
    new, state = RMSprop().step(1, p, g, {}, 0.1)
    np.testing.assert_allclose(new, p - 0.1 * g / (np.sqrt(0.01 * g**2) + 1e-8))
    new, state = Adam().step(1, p, g, {}, 0.1)
    np.testing.assert_allclose(new, p - 0.1 * np.sign(g), rtol=1e-5)
    np.testing.assert_allclose(state["exp_avg_sq"], 0.001 * g**2)


class AsciiBuffer(io.StringIO):
    """A text buffer that, like a terminal without Unicode, reports an ASCII encoding."""

    encoding = "ascii"


def _curve_lines(costs, width: int, ascii_only: bool = False) -> list[str]:
    """The cost curve as printed by a rich console of `width` columns (in ASCII when its file wants it)."""
    console = Console(record=True, width=width, file=AsciiBuffer() if ascii_only else io.StringIO(),
                      color_system=None)
    console.print(CostCurve(costs, 4))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [40, 80, 100])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_terminal_cost_curve_fits_every_width_and_degrades_to_ascii(width, ascii_only):
    lines = _curve_lines(solve(load("optimizers")).costs, width, ascii_only)
    assert all(len(line) <= width for line in lines), lines
    assert lines[0].startswith("0.6326") and lines[5].startswith("0.4583")
    bars = [line[len("0.6326 ") + 1:] for line in lines[:6]]
    heights = [sum(column < len(bar) and bar[column] != " " for bar in bars) for column in range(len(bars[-1]))]
    assert heights == sorted(heights, reverse=True) and heights[0] == 6  # the cost falls, step by step
    assert len(bars[-1]) == 6 * 4  # six costs, each a bar four columns wide
    if ascii_only:
        assert all(line.isascii() for line in lines) and "#" in lines[0]
    else:
        assert "█" in lines[0] and "┤" in lines[0]


def test_a_long_run_is_sampled_to_the_width():
    costs = list(np.linspace(1.0, 0.1, 201))
    lines = _curve_lines(costs, 40)
    assert all(len(line) <= 40 for line in lines)
    assert "one column per" in lines[-1]


def test_the_cost_page_in_every_form():
    solution = solve(load("optimizers"))
    document = json.loads(json_render.render(solution))
    assert document["training"]["costs"] == pytest.approx(solution.costs, abs=0)
    assert document["training"]["optimizer"] == "adam" and document["training"]["settings"]["betas"] == [0.9, 0.999]
    assert document["quantities"]["J_final"] == solution.J_final
    page = html.render(solution, 4, symbolic=False)
    figure = page[page.index('<figure class="cost-curve">'):]
    svg = figure[:figure.index("</svg>")]
    assert svg.count("<circle") == 6 and "polyline" in svg and 'role="img"' in svg
    sections = layout.sections(solution, 4, symbolic=False)
    assert [section.kind for section in sections].count("training") == 4 and sections[-1].kind == "cost"


def test_a_long_run_shows_the_first_step_in_full_and_later_ones_as_update_and_cost():
    walkthrough = dataclasses.replace(load("optimizers"), steps=200)
    pages = story.pages(solve(walkthrough))
    kinds = [page.kind for page in pages]
    assert kinds.count("forward") == 1 and kinds.count("training") == 199 and kinds[-1] == "cost"
    everything = story.pages(solve(dataclasses.replace(walkthrough, steps=3, all_steps=True)))
    assert [page.kind for page in everything].count("forward") == 3
    assert str(everything[-2].title) == "Training step 3/3 · Adam update"


def test_every_page_of_every_step_renders_with_its_symbolic_jacobians():
    """`--all-steps` lays a later step's backward pages out from that step's values (its Jacobians' shapes too)."""
    from jacobian_bp.render import markdown

    solution = solve(dataclasses.replace(load("optimizers"), steps=2, all_steps=True))
    text = markdown.render(solution, 4, symbolic=True)
    assert text.count("## Training step 2/2 · Backward step") == len(story.training_pages(solution, 2)) - 3
    assert format_number(float(solution.training[1].steps[-1].result[0, 0]), 4) in text


def test_one_step_of_sgd_keeps_the_article_pages():
    kinds = [page.kind for page in story.pages(solve(load("article")))]
    assert kinds[-1] == "update" and "cost" not in kinds and "training" not in kinds


def _graded(solution, answers: dict, decimals: int = 4) -> dict:
    from jacobian_bp.check import grade_answers

    rounded = {name: np.round(np.atleast_2d(value), decimals) for name, value in answers.items()}
    return {graded.name: graded for graded in grade_answers(solution, rounded, decimals)}


def test_check_carries_forward_across_training_steps():
    solution = solve(load("mazur_two_steps"))
    q = solution.quantities
    wrong = q["W1_updated"] + np.array([[0.01, 0.0], [0.0, 0.0]])  # a slip in the first step's update
    solved = solve(dataclasses.replace(solution.walkthrough, steps=1,
                                       given={**solution.walkthrough.given, "W1": wrong}))
    graded = _graded(solution, {"W1_updated": wrong, "Z1@2": solved.quantities["Z1"], "J@2": q["J@2"],
                                "W1_updated@2": q["W1_updated@2"]})
    assert graded["W1_updated"].verdict == "wrong"
    assert graded["Z1@2"].verdict == "carried forward" and graded["Z1@2"].parents == ("X", "W1_updated", "b1_updated")
    assert graded["J@2"].verdict == graded["W1_updated@2"].verdict == "correct"


@pytest.mark.parametrize(("optimizer", "name", "slip"), [
    ("adam", "exp_avg_W1@2", "optimizer state not carried over"),
    ("adam", "W1_updated@3", "optimizer state not carried over"),
    ("adam", "W1_updated", "Adam without bias correction"),
    ("adam", "W2_updated@2", "Adam without bias correction"),
    ("momentum", "velocity_W1@2", "momentum applied to the gradient instead of the velocity"),
    ("momentum", "W2_updated@3", "momentum applied to the gradient instead of the velocity"),
    ("rmsprop", "square_avg_b1@2", "optimizer state not carried over"),
])
def test_optimizer_slips_are_named(optimizer, name, slip):
    from jacobian_bp.check import StepNames, derivations, optimizer_step
    from jacobian_bp.optimizers import AdamWithoutBiasCorrection, MomentumOnTheGradient

    walkthrough = dataclasses.replace(load("optimizers"), optimizer=OPTIMIZERS[optimizer](), learning_rate=0.1)
    solution = solve(walkthrough)
    exact = {key: np.atleast_2d(value) for key, value in solution.quantities.items()}
    derivation = derivations(solution)[name]
    update = derivation.update
    variant = {"adam": AdamWithoutBiasCorrection(), "momentum": MomentumOnTheGradient()}.get(optimizer)
    previous = {} if slip.startswith("optimizer state") else None
    made = optimizer_step(solution, exact, update if variant is None or previous == {} else
                          dataclasses.replace(update, optimizer=variant), state=previous)
    state = next((state for state, quantity in update.state_names().items() if quantity == name), None)
    answer = made[0] if state is None else made[1][state]
    assert StepNames(solution.graph, update.training_step)(update.parameter) == update.old_name
    graded = _graded(solution, {name: answer}, decimals=6)[name]
    assert graded.verdict == "wrong" and slip in graded.diagnosis, graded.diagnosis


def test_a_wrong_answer_next_to_a_kink_of_l1_is_graded_without_error(tmp_path):
    walkthrough = tmp_path / "l1.toml"
    walkthrough.write_text('loss = "l1"\n[data]\nX = [[1.0, 2.0]]\nY = [[0.5, 1.0]]\n[[layers]]\nunits = 2\n'
                           'activation = "identity"\nW = [[0.5, -0.25], [1.0, 0.5]]\nb = [0.5, -1.0]\n',
                           encoding="utf-8")
    solution = solve(load(str(walkthrough)))
    assert [kink.position for kink in solution.step("dJ/dA1").kinks] == [(0, 0), (0, 1)]
    # derivative 1 taken at the kink: wrong, and carried forward through the identity and the dense layer
    graded = _graded(solution, {"dJ/dA1": np.array([[0.5, 0.5]]), "dJ/dZ1": np.array([[0.5, 0.5]]),
                                "dJ/dW1": np.array([[0.5, 1.0], [0.5, 1.0]])})
    assert graded["dJ/dA1"].verdict == "wrong"
    assert graded["dJ/dZ1"].verdict == graded["dJ/dW1"].verdict == "carried forward"


@pytest.mark.parametrize("form", ["text", "markdown", "latex", "html"])
def test_all_steps_shows_every_page_of_every_training_step_in_every_form(form, capsys):
    assert main(["walkthrough", "mazur_two_steps", "--all-steps", "--no-symbolic", "--format", form]) == 0
    page = capsys.readouterr().out
    second = solve(load("mazur_two_steps")).training[1]
    dw1 = second.steps[-1]  # dJ/dW1 of the second step, from the updated parameters
    assert re.search(r"Training step 2/2 (·|\$\\cdot\$) Backward step 7/7", page)
    assert f"{dw1.result[0, 0]:.4f}" in page and f"{second.J:.4f}" in page
