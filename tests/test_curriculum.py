"""The ops after the first MLP: convolutions, pooling, normalizations, dropout, in files, pages, JSON,
worksheets, `check` and its slips. (Their numbers against PyTorch are in test_pytorch.py; their Jacobians
against finite differences in test_nodes.py.)"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from jacobian_bp import load, solve, symbolic
from jacobian_bp.check import grade_answers
from jacobian_bp.cli import main
from jacobian_bp.ops import BatchNorm, Conv1d, Conv2d, LayerNorm, MaxPool2d
from jacobian_bp.render import story
from jacobian_bp.render.terminal import pages
from jacobian_bp.render.terminal.pages import Options
from jacobian_bp.vec import devec, vec
from tests.test_walkthrough_files import error_of

CONVOLUTION = """\
title = "A convolution"
loss = "mean_squared_error"
[data]
X = [[1.0, 2.0, 0.0, -1.0, 0.5, 1.5, -2.0, 1.0, 0.25], [0.0, 1.0, 1.0, 2.0, -1.0, 0.5, 1.0, -0.5, 2.0]]
Y = [[1.0], [0.0]]
[[nodes]]
name = "Z1"
op = "conv2d"
input = "X"
in_shape = [1, 3, 3]
K = [[[[1.0, -1.0], [0.5, 2.0]]], [[[0.0, 1.0], [-1.0, 0.5]]]]
c = [0.1, -0.1]
[[nodes]]
name = "P1"
op = "avg_pool2d"
input = "Z1"
kernel_size = 2
[[nodes]]
name = "D1"
op = "dropout"
input = "P1"
p = 0.5
mask = [[1, 0], [1, 1]]
[[nodes]]
name = "Z2"
op = "dense"
input = "D1"
units = 1
W = [[0.5, -1.0]]
b = [0.0]
"""


@pytest.mark.parametrize("old, new, fragments", [
    ('in_shape = [1, 3, 3]\n', "", ["nodes[1].in_shape: missing", "in_shape = [1, 5, 5]"]),
    ("in_shape = [1, 3, 3]", "in_shape = [1, 3, 4]", ["nodes[1].in_shape: 1 × 3 × 4 has 12 entries", "has 9"]),
    ("in_shape = [1, 3, 3]", "in_shape = [1, 0, 3]", ["nodes[1].in_shape[2]: expected at least 1"]),
    ("in_shape = [1, 3, 3]", 'in_shape = "3x3"', ["nodes[1].in_shape: expected a list of whole numbers"]),
    ("[[[[1.0, -1.0], [0.5, 2.0]]], [[[0.0, 1.0], [-1.0, 0.5]]]]", "[[[[1.0, -1.0], [0.5, 2.0]]], [[[0.0, 1.0]]]]",
     ["nodes[1].K: expected nested lists of 2 × 1 × 2 × 2", "has 1 entries where 2 belong"]),
    ("[0.5, 2.0]]], [[[0.0", '[0.5, "x"]]], [[[0.0', ["nodes[1].K[1][1][2][2]: expected a number"]),
    ('op = "conv2d"\n', 'op = "conv2d"\npadding = -1\n', ["nodes[1].padding: expected at least 0, found -1"]),
    ('op = "conv2d"\n', 'op = "conv2d"\nstride = 0\n', ["nodes[1].stride: expected at least 1, found 0"]),
    ("K = [[[[1.0, -1.0], [0.5, 2.0]]], [[[0.0, 1.0], [-1.0, 0.5]]]]\n", "",
     ["nodes[1].out_channels: missing"]),
    ('kernel_size = 2\n', 'kernel_size = 2\nin_shape = [2, 1, 4]\n',
     ["nodes[2].in_shape: expected 2 × 2 × 2 (the picture shape of Z1), found 2 × 1 × 4"]),
    ('kernel_size = 2\n', 'kernel_size = 3\n', ["nodes[2].kernel_size: a window of 3 does not fit"]),
    ("mask = [[1, 0], [1, 1]]", "mask = [[1, 0, 1], [1, 1, 0]]",
     ["nodes[3].mask: expected the shape of its input, 2 × 2"]),
    ("mask = [[1, 0], [1, 1]]", "mask = [[1, 0], [1, 0.5]]", ["nodes[3].mask: expected only 0 (dropped) and 1 (kept)"]),
    ("p = 0.5", "p = 1.0", ["nodes[3].p: expected at least 0 and less than 1", "found 1"]),
])
def test_image_and_dropout_mistakes_get_one_clear_line(capsys, tmp_path, old, new, fragments):
    assert old in CONVOLUTION
    line = error_of(capsys, tmp_path, CONVOLUTION.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in line, line


def test_a_conv1d_needs_a_sequence_shape_and_batch_norm_two_samples(capsys, tmp_path):
    conv1d = CONVOLUTION.replace('op = "conv2d"', 'op = "conv1d"').replace("[[[[1.0, -1.0], [0.5, 2.0]]], "
                                                                          "[[[0.0, 1.0], [-1.0, 0.5]]]]",
                                                                          "[[[1.0, -1.0]], [[0.5, 2.0]]]")
    assert "nodes[1].in_shape: expected 2 numbers (channels × length), found 1 × 3 × 3" in error_of(capsys, tmp_path,
                                                                                                   conv1d)
    one_sample = """\
loss = "mean_squared_error"
[data]
X = [[1.0, 2.0]]
Y = [[1.0, 0.0]]
[[nodes]]
name = "N1"
op = "batch_norm"
input = "X"
"""
    assert "needs at least 2 samples" in error_of(capsys, tmp_path, one_sample)


def test_the_line_of_a_kernel_mistake_is_named(capsys, tmp_path):
    text = CONVOLUTION.replace("[0.5, 2.0]]], [[[0.0", '[0.5, "x"]]], [[[0.0')
    line = [number for number, row in enumerate(text.splitlines(), start=1) if row.startswith("K =")][0]
    assert f"net.toml:{line}: nodes[1].K" in error_of(capsys, tmp_path, text)


def test_a_kernel_unrolled_into_rows_is_the_same_kernel(tmp_path):
    nested = tmp_path / "nested.toml"
    nested.write_text(CONVOLUTION, encoding="utf-8")
    unrolled = tmp_path / "unrolled.toml"
    unrolled.write_text(CONVOLUTION.replace("[[[[1.0, -1.0], [0.5, 2.0]]], [[[0.0, 1.0], [-1.0, 0.5]]]]",
                                            "[[1.0, -1.0, 0.5, 2.0], [0.0, 1.0, -1.0, 0.5]]\nout_channels = 2\n"
                                            "kernel_size = 2"), encoding="utf-8")
    first, second = solve(load(nested)).quantities, solve(load(unrolled)).quantities
    assert first.keys() == second.keys()
    for name, value in first.items():
        np.testing.assert_array_equal(value, second[name], err_msg=name)


def test_json_keeps_kernels_nested_and_images_as_rows(capsys):
    assert main(["walkthrough", "cnn", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    quantities = document["quantities"]
    for name in ("K1", "dJ/dK1", "K1_updated"):
        assert np.shape(quantities[name]) == (2, 1, 2, 2), name
    assert np.shape(quantities["K2"]) == (1, 2, 3, 3)
    assert quantities["K1"][1][0] == [[-0.2, 0.6], [0.7, -0.1]]
    assert np.shape(quantities["X"]) == (2, 25) and np.shape(quantities["Z1"]) == (2, 32)
    step = next(step for step in document["steps"] if step["gradient"] == "dJ/dK2")
    assert np.shape(step["result"]) == np.shape(step["shortcut_result"]) == (1, 2, 3, 3)


def page(name: str, width: int = 100) -> str:
    console = Console(record=True, width=width, color_system=None)
    pages.render_walkthrough(solve(load(name)), console, Options(decimals=4, symbolic=False))
    return console.export_text()


def test_the_cnn_pages_show_pictures_the_toeplitz_structure_and_the_turned_kernel():
    text = page("cnn")
    flat = " ".join(text.split())
    assert "Each sample's row of X as its 1 × 5 × 5 picture (channels × height × width)" in flat
    assert "K2 as a kernel of 1 × 2 × 3 × 3 (out × in × k × k)" in flat
    assert re.search(r"^K1\[2\] = ⎡ -0\.2 +0\.6 ⎤$", text, flags=re.MULTILINE)
    assert "each sample's block is doubly block Toeplitz" in flat
    assert "Shortcut dJ/dA1 = dJ/dZ2 ⋆ rot180(K2) (the full cross-correlation, padded by k − 1, with K2 turned " \
           "by 180°: the full convolution with K2) gives the same numbers" in flat
    assert "a selection matrix" in flat and "unfolded input patches (im2col)" in flat
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_max_pool_tie_is_flagged_with_both_choices():
    solution = solve(load("pool_tie"))
    step = solution.step("dJ/dZ1 via P1")
    assert [kink.position for kink in step.kinks] == [(0, 1), (0, 5)]
    chosen, other = step.kinks
    assert (chosen.derivative, chosen.other_derivative, other.derivative, other.other_derivative) == (1, 0, 0, 1)
    assert chosen.value == other.other_value != 0 and chosen.other_value == other.value == 0
    flat = " ".join(page("pool_tie").split())
    assert "Z1 row 1, column 2 ties for the maximum of a window of P1" in flat
    assert "to the first maximum in row-major order, as PyTorch's CPU code does" in flat
    assert "Had the last maximum been chosen, it would be 0." in flat


def test_normalizations_and_dropout_say_what_their_jacobians_are():
    flat = " ".join(page("batchnorm").split())
    assert "the Jacobian couples the samples and is not block diagonal" in flat
    assert " ".join(page("layernorm").split()).count("block diagonal, one full block per sample") == 1
    dropout = " ".join(page("dropout").split())
    assert "The mask of D1 (as given; 1 keeps, 0 drops), row by row: 1 0 1 1; 0 1 1 0." in dropout
    assert "the Jacobian is diagonal and holds the mask, scaled" in dropout


def test_structure_facts_hold_in_the_numbers():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 4))
    values = {"input": X, "gamma": rng.normal(size=(1, 4)), "beta": rng.normal(size=(1, 4))}
    batch = BatchNorm().jacobian("input", values).reshape(3, 4, 3, 4)
    layer = LayerNorm().jacobian("input", values).reshape(3, 4, 3, 4)
    assert np.abs(batch[0, :, 1, :]).max() > 0.01  # samples coupled: not block diagonal
    np.testing.assert_array_equal(batch[:, 0, :, 1], 0)  # features apart
    np.testing.assert_array_equal(layer[0, :, 1, :], 0)  # samples apart
    assert (np.abs(layer[0, :, 0, :]) > 0).all()  # each block full
    conv = Conv1d(out_channels=1, kernel_size=3, in_shape=(1, 7))
    toeplitz = conv.jacobian("input", {"input": rng.normal(size=(1, 7)), "K": np.array([[1.0, 2.0, 3.0]])})
    np.testing.assert_array_equal(toeplitz[1:, 1:], toeplitz[:-1, :-1])  # constant along every diagonal
    image = Conv2d(out_channels=1, kernel_size=2, in_shape=(1, 3, 3))
    blocks = image.jacobian("input", {"input": rng.normal(size=(1, 9)), "K": np.array([[1.0, 2.0, 3.0, 4.0]])})
    blocks = blocks.reshape(2, 2, 3, 3).transpose(0, 2, 1, 3)  # (output row, input row) blocks of 2 × 3
    np.testing.assert_array_equal(blocks[0, 0], blocks[1, 1])  # doubly block Toeplitz: blocks repeat
    np.testing.assert_array_equal(blocks[0, 1], blocks[1, 2])
    np.testing.assert_array_equal(blocks[0, 0][1:, 1:], blocks[0, 0][:-1, :-1])


def filled_worksheet(tmp_path, capsys, name: str) -> tuple:
    """The worksheet of `name` filled with every value rounded to 4 places, and the exact quantities."""
    assert main(["walkthrough", name, "--format", "json"]) == 0
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    path = tmp_path / "answers.toml"
    assert main(["worksheet", name, "-o", str(path)]) == 0
    asked = re.findall(r'^"([^"]+)" = ', path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    answers = {name: np.round(np.array(quantities[name], dtype=float), 4) for name in asked}
    return path, asked, answers


def write(path, walkthrough: str, answers: dict) -> None:
    lines = [f'walkthrough = "{walkthrough}"', "[answers]"]
    lines += [f'"{name}" = {json.dumps(np.asarray(value).tolist())}' for name, value in answers.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def carried(name: str, answers: dict) -> np.ndarray:
    """`name` of the cnn walkthrough computed by the chain rule from the answers' own upstream gradient."""
    step = solve(load("cnn")).step(name)
    upstream = np.asarray(answers[step.upstream], dtype=float)
    return devec(vec(upstream) @ step.jacobian, step.result.shape).reshape(np.shape(answers[name]))


def test_a_cnn_worksheet_filled_by_hand_checks_as_correct_then_carried_forward(tmp_path, capsys):
    path, asked, answers = filled_worksheet(tmp_path, capsys, "cnn")
    assert {"K1", "Z1", "dZ2/dA1", "dJ/dK1", "dJ/dA1", "K2_updated"} <= set(asked) | {"K1"}
    assert np.shape(answers["dJ/dK2"]) == (1, 2, 3, 3)  # the worksheet asks for kernels as kernels
    write(path, "cnn", answers)
    assert main(["check", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["correct"] == len(asked) and report["summary"]["wrong"] == 0
    wrong = dict(answers)
    wrong["dJ/dP2"] = answers["dJ/dP2"] + 0.05  # a slip early in the backward pass
    for later in ("dJ/dA2", "dJ/dZ2", "dJ/dA1", "dJ/dZ1", "dJ/dK1"):  # then everything worked on from it
        wrong[later] = np.round(carried(later, wrong), 4)
    write(path, "cnn", wrong)
    main(["check", str(path), "--format", "json"])
    verdicts = {name: item["verdict"] for name, item in json.loads(capsys.readouterr().out)["quantities"].items()}
    assert verdicts["dJ/dP2"] == "wrong"
    assert verdicts["dJ/dA2"] == verdicts["dJ/dK1"] == "carried forward"


SLIPS = {
    "kernel": ("cnn", "dJ/dA1", "kernel not turned by 180° (or turned twice) in dJ/dA1"),
    "forward": ("cnn", "Z1", "K1 turned by 180° in the forward pass"),
    "spread": ("cnn", "dJ/dA2", "max-pool gradient spread over the window, 1/4 to each entry"),
    "copied": ("cnn", "dJ/dA2", "max-pool gradient copied to every entry of the window"),
    "paths": ("batchnorm", "dJ/dZ1", "batch norm gradient without the mean and variance paths"),
    "variance": ("batchnorm", "dJ/dZ1", "batch norm gradient without the variance path"),
}


@pytest.mark.parametrize("slip", sorted(SLIPS))
def test_the_slips_of_these_ops_are_named(slip):
    name, quantity, diagnosis = SLIPS[slip]
    solution = solve(load(name))
    step = solution.step(quantity) if quantity.startswith("dJ") else None
    graph, values = solution.graph, solution.values
    if step is None:
        node = graph.producers[quantity]
        sentence, answer = next((s, v) for s, v in node.op.forward_slips(graph.role_values(node, values),
                                                                         node.names()) if diagnosis in s)
    else:
        node = graph.producers[step.node]
        wrong = [v for s, v in node.op.slips(step.role, graph.role_values(node, values), node.names(step.upstream))
                 if diagnosis in s]
        answer = devec(step.upstream_row @ wrong[0], step.result.shape)
    (result,) = grade_answers(solution, {quantity: np.round(answer, 4)}, 4)
    assert result.verdict == "wrong" and diagnosis in result.diagnosis, result.diagnosis


def test_max_pool_slips_are_tried_only_where_they_differ():
    pool = MaxPool2d(kernel_size=2, in_shape=(1, 2, 2))
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    values = {"input": X, "output": pool.forward({"input": X})}
    (spread, _), (copied, _) = pool.slips("input", values, {"input": "A", "output": "P", "upstream": "dJ/dP"})
    assert "1/4" in spread and "copied" in copied


def test_a_kernel_in_an_answer_file_may_be_nested_but_not_ragged(tmp_path, capsys):
    path = tmp_path / "answers.toml"
    head = 'walkthrough = "cnn"\n[answers]\n"K1" = [[[[0.5, -0.3], [0.2, 0.4]]], [[[-0.2, 0.6], [0.7, -0.1]]]]\n'
    path.write_text(head + '"dJ/dK2" = [[[[1, 2, 3], [1, 2, 3], [1, 2, 3]], [[1, 2, 3], [1, 2]]]]\n', encoding="utf-8")
    assert main(["check", str(path), "--format", "json"]) == 1
    graded = json.loads(capsys.readouterr().out)["quantities"]
    assert graded["K1"]["verdict"] == "correct" and graded["dJ/dK2"]["verdict"] == "unreadable"
    unrolled = [0.3, -0.2, 0.1, 0.4, 0.5, -0.3, -0.1, 0.2, 0.3, 0.2, 0.1, -0.4, -0.3, 0.6, 0.2, 0.1, -0.2, 0.4]
    path.write_text(head + f'"K2" = [{unrolled}]\n', encoding="utf-8")
    assert main(["check", str(path)]) == 0  # nested or unrolled, the same kernel


def test_the_step_through_reaches_the_convolution_input_step_of_cnn():
    result = subprocess.run([sys.executable, "-m", "jacobian_bp", "walkthrough", "cnn", "--step", "--no-symbolic",
                             "--width", "100"], input="g 11\nq\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    screens = re.split(r"(?m)^(?=Step \d+/\d+ )", result.stdout)[1:]
    assert [screen.split(" ·")[0] for screen in screens] == ["Step 1/14", "Step 11/14"]
    assert "dJ/dA1" in screens[1].splitlines()[0] and "doubly block Toeplitz" in " ".join(screens[1].split())


def test_the_other_choice_at_a_max_pool_tie_is_named_as_a_slip():
    solution = solve(load("pool_tie"))
    step = solution.step("dJ/dZ1 via P1")
    node = solution.graph.producers[step.node]
    other = node.op.other_jacobian(step.role, solution.graph.role_values(node, solution.values))
    answer = np.round(devec(step.upstream_row @ other, step.result.shape), 4)
    (result,) = grade_answers(solution, {"dJ/dZ1 via P1": answer}, 4)
    assert result.verdict == "wrong"
    assert "the last of tied maxima chosen: Z1 ties for a window's maximum at row 1, column 2, row 1, column 6" \
        in result.diagnosis
    relu = solve(load("deep_leaky"))  # an activation's kink keeps its own words
    kinked = next(step for step in relu.steps if step.kinks)
    node = relu.graph.producers[kinked.node]
    other = node.op.other_jacobian(kinked.role, relu.graph.role_values(node, relu.values))
    (result,) = grade_answers(relu, {kinked.gradient: np.round(devec(kinked.upstream_row @ other,
                                                                     kinked.result.shape), 4)}, 4)
    assert "'(0) =" in (result.diagnosis or ""), result.diagnosis


@pytest.mark.parametrize("name", ["batchnorm", "layernorm", "dropout", "conv1d", "pool_tie"])
def test_symbolic_jacobians_of_the_new_ops_evaluate_to_the_numeric_ones(name):
    solution = solve(load(name))
    values = symbolic.substitutions(solution)
    shown = [step for step in solution.steps if not step.is_sum and story.symbolic_shown(step)]
    assert shown
    for step in shown:
        evaluated = symbolic.evaluate(symbolic.jacobian(solution, step), values)
        np.testing.assert_allclose(evaluated, step.jacobian, rtol=1e-9, atol=1e-12, err_msg=step.jacobian_name)


def test_the_cnn_html_page_draws_the_band_of_the_convolution_input_jacobian(capsys):
    """The sparsity picture of dZ2/dA1 fills exactly the squares where the Toeplitz matrix is not zero."""
    assert main(["walkthrough", "cnn", "--format", "html", "--no-symbolic"]) == 0
    page = capsys.readouterr().out
    step = solve(load("cnn")).step("dJ/dA1")
    figure = next(figure for figure in re.findall(r'<figure class="sparsity">.*?</figure>', page, flags=re.DOTALL)
                  if "dZ2/dA1 at a glance" in figure)
    width, height = (int(value) for value in re.search(r'<rect class="background" x="0" y="0" width="(\d+)" '
                                                       r'height="(\d+)"/>', figure).groups())
    expected = step.jacobian != 0
    cell = width // expected.shape[1]
    assert (width, height) == (cell * expected.shape[1], cell * expected.shape[0])
    drawn = np.zeros_like(expected)
    filled = re.search(r'<g class="filled">(.*?)</g>', figure).group(1)
    for x, y, run in re.findall(r'<rect x="(\d+)" y="(\d+)" width="(\d+)"', filled):
        drawn[int(y) // cell, int(x) // cell:(int(x) + int(run)) // cell] = True
    np.testing.assert_array_equal(drawn, expected)
    assert 0 < expected.sum() < expected.size / 4  # a band, not a full matrix


def test_kernels_stay_kernels_at_every_training_step_in_json_worksheets_and_check(tmp_path, capsys):
    """With two Adam steps, every kernel quantity (gradients, moments, updates, `@2` ones included) is written
    out × in × k × k, and the worksheet filled with the exact values checks as all correct."""
    source = (Path(__file__).parents[1] / "walkthroughs" / "cnn.toml").read_text(encoding="utf-8")
    source = source.replace('learning_rate = 0.1\n', 'learning_rate = 0.1\nsteps = 2\n[optimizer]\nname = "adam"\n')
    walkthrough = tmp_path / "cnn_adam.toml"
    walkthrough.write_text(source, encoding="utf-8")
    assert main(["walkthrough", str(walkthrough), "--format", "json"]) == 0
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    kernels = {name for name, value in quantities.items() if np.ndim(value) == 4}
    assert kernels == {f"{name}{at}" for at in ("", "@2") for name in (
        "dJ/dK1", "K1_updated", "exp_avg_K1", "exp_avg_sq_K1", "dJ/dK2", "K2_updated", "exp_avg_K2",
        "exp_avg_sq_K2")} | {"K1", "K2"}
    worksheet = tmp_path / "answers.toml"
    assert main(["worksheet", str(walkthrough), "-o", str(worksheet)]) == 0
    asked = re.findall(r'^"([^"]+)" = ', worksheet.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert "exp_avg_sq_K2@2" in asked and "dJ/dK1@2" in asked
    lines = [f'walkthrough = "{walkthrough.name}"', "[answers]"]
    lines += [f'"{name}" = {json.dumps(quantities[name])}' for name in asked]
    worksheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check", str(worksheet), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["correct"] == len(asked), report["summary"]
