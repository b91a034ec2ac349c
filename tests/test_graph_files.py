"""`[[nodes]]` walkthrough files: the same network as `[[layers]]` gives the same numbers, any graph is read,
and every mistake in the graph (cycles, unknown inputs, names twice, shapes that do not fit) is one clear line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from jacobian_bp import load, solve
from jacobian_bp.cli import main

ARTICLE_AS_NODES = """\
title = "the article as nodes"
loss = "binary_cross_entropy"
learning_rate = 0.01

[data]
X = [[1.0, 2.0], [3.0, 4.0]]
Y = [[0.0], [1.0]]

[[nodes]]
name = "Z1"
op = "dense"
input = "X"
units = 3
W = [[-1.0, 2.0], [3.0, 0.5], [-0.1, -4.0]]
b = [1.0, -2.0, 0.3]

[[nodes]]
name = "A1"
op = "relu"
input = "Z1"

[[nodes]]
name = "Z2"
op = "dense"
input = "A1"
units = 2
W = [[0.5, 1.0, -2.0], [0.7, 0.1, 0.3]]
b = [-4.0, 5.0]

[[nodes]]
name = "A2"
op = "relu"
input = "Z2"

[[nodes]]
name = "Z3"
op = "dense"
input = "A2"
units = 1
W = [[0.5, -0.3]]
b = [0.1]

[[nodes]]
name = "A3"
op = "sigmoid"
input = "Z3"
"""

def json_of(capsys, source: str) -> dict:
    assert main(["walkthrough", source, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_layers_and_nodes_forms_of_one_network_give_identical_json(capsys, tmp_path):
    path = tmp_path / "article_nodes.toml"
    path.write_text(ARTICLE_AS_NODES, encoding="utf-8")
    as_nodes, as_layers = json_of(capsys, str(path)), json_of(capsys, "article")
    assert as_nodes["quantities"] == as_layers["quantities"]
    assert as_nodes["steps"] == as_layers["steps"]


def test_a_residual_connection_gives_contributions_and_a_sum_step():
    solution = solve(load("residual"))
    names = [step.gradient for step in solution.steps]
    assert names.index("dJ/dA1 via Z2") < names.index("dJ/dA1 via S2") < names.index("dJ/dA1")
    total = solution.step("dJ/dA1")
    assert total.contributions == ("dJ/dA1 via Z2", "dJ/dA1 via S2") and total.paths == ("Z2", "S2")
    parts = solution.quantities["dJ/dA1 via Z2"], solution.quantities["dJ/dA1 via S2"]
    np.testing.assert_allclose(total.result, parts[0] + parts[1])
    np.testing.assert_array_equal(solution.quantities["dS2/dA1"], np.eye(4))


def test_regularization_makes_every_weight_a_sum_step_and_equals_weight_decay():
    plain, regularized = solve(load("article")), solve(load("regularized"))
    for k in (1, 2, 3):
        W = plain.quantities[f"W{k}"]
        assert regularized.step(f"dJ/dW{k}").contributions == (f"dJ/dW{k} via Z{k}", f"dJ/dW{k} via R")
        np.testing.assert_allclose(regularized.quantities[f"dJ/dW{k}"], plain.quantities[f"dJ/dW{k}"] + 0.1 * W)
        np.testing.assert_allclose(regularized.quantities[f"dJ/db{k}"], plain.quantities[f"dJ/db{k}"])
    squares = sum((plain.quantities[f"W{k}"] ** 2).sum() for k in (1, 2, 3))
    assert regularized.quantities["J"] == pytest.approx(plain.quantities["J"] + 0.05 * squares, rel=1e-12)
    assert regularized.quantities["dJ/dR"].tolist() == [[1.0]]


def test_frozen_parameters_keep_their_values_and_show_their_gradients(tmp_path):
    path = tmp_path / "frozen.toml"
    path.write_text(ARTICLE_AS_NODES.replace('learning_rate = 0.01', 'learning_rate = 0.01\nfrozen = ["b1", "b3"]'),
                    encoding="utf-8")
    solution = solve(load(str(path)))
    np.testing.assert_array_equal(solution.quantities["b1_updated"], solution.quantities["b1"])
    assert np.any(solution.quantities["dJ/db1"] != 0)
    assert not np.array_equal(solution.quantities["W1_updated"], solution.quantities["W1"])


def test_a_layer_without_bias_has_no_b(tmp_path):
    path = tmp_path / "nobias.toml"
    path.write_text(ARTICLE_AS_NODES.replace('b = [0.1]\n', 'bias = false\n'), encoding="utf-8")
    solution = solve(load(str(path)))
    assert "b3" not in solution.quantities and "dJ/db3" not in solution.quantities
    assert "b3_updated" not in solution.quantities and "W3_updated" in solution.quantities


def test_parameters_can_be_named_and_the_numbering_counts_nodes_with_parameters(tmp_path):
    path = tmp_path / "named.toml"
    text = ARTICLE_AS_NODES.replace('units = 2\n', 'units = 2\nparameters = ["Wmid", "bmid"]\n')
    path.write_text(text, encoding="utf-8")
    solution = solve(load(str(path)))
    assert {"Wmid", "bmid", "W1", "W3", "dJ/dWmid"} <= set(solution.quantities)
    assert "W2" not in solution.quantities


def error_of(capsys, tmp_path, text: str) -> str:
    path = tmp_path / "graph.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["walkthrough", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    return captured.err


@pytest.mark.parametrize("old, new, fragments", [
    ('name = "A1"\nop = "relu"\ninput = "Z1"', 'name = "A1"\nop = "relu"\ninput = "Z11"',
     ["nodes[2].input", "unknown variable 'Z11'", "did you mean 'Z1'"]),
    ('name = "A1"\nop = "relu"\ninput = "Z1"', 'name = "A1"\nop = "relu"\ninput = "A2"',
     ["nodes[3].input", "the nodes Z2 → A2 → A1 → Z2 depend on each other in a cycle"]),
    ('name = "A2"', 'name = "A1"', ["nodes[4].name", "A1 is defined twice (also by nodes[2])"]),
    ('name = "A2"', 'name = "L"', ["nodes[4].name", "L is the name of the losses"]),
    ('name = "A2"', 'name = "A2 via Z3"', ["nodes[4].name", "letters, digits and _"]),
    ('name = "A2"', f'name = "{"A" * 25}"', ["nodes[4].name", "at most 24"]),
    ('name = "A2"', 'name = "Ä2"', ["nodes[4].name", "ASCII letters"]),
    ('op = "relu"\ninput = "Z1"', 'op = "relu"\ninput = "Z1"\nparameters = ["P"]', ["nodes[2].parameters",
                                                                                  "unknown key"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\nfrozen = ["W1", "W1"]', ["frozen", "'W1' is listed twice"]),
    ('name = "A2"', 'name = "A2_updated"', ["nodes[4].name", "_updated"]),
    ('op = "relu"\ninput = "Z1"', 'op = "rellu"\ninput = "Z1"', ["nodes[2].op", "unknown op 'rellu'",
                                                                 "did you mean 'relu'"]),
    ('op = "relu"\ninput = "Z1"', 'op = "add"\ninputs = ["Z1", "Z1"]', ["nodes[2].inputs", "given twice"]),
    ('op = "relu"\ninput = "Z1"', 'op = "add"\ninputs = ["Z1", "X"]', ["nodes[2].inputs",
                                                                       "add needs inputs of one shape",
                                                                       "2 × 3, 2 × 2"]),
    ('op = "relu"\ninput = "Z1"', 'op = "add"\ninput = "Z1"', ["nodes[2].input", "two or more inputs"]),
    ('op = "relu"\ninput = "Z1"', 'op = "relu"\ninputs = ["Z1", "X"]', ["nodes[2].inputs", "one input"]),
    ('units = 1\n', '', ["nodes[5].units", "missing"]),
    ('W = [[0.5, -0.3]]', 'W = [[0.5, -0.3, 1.0]]', ["nodes[5].W", "expected shape 1 × 2", "found 1 × 3"]),
    ('b = [0.1]\n', 'b = [0.1]\nbias = false\n', ["nodes[5].b", "bias = false"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\noutput = "A9"', ["output", "one of Z1, A1"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\nfrozen = ["b4"]', ["frozen", "unknown parameter 'b4'"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\n[regularization]\nl2 = -1', ["regularization.l2", "≥ 0"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\nlayers = []', ["nodes", "either [[layers]]", "not both"]),
    ('name = "A3"\nop = "sigmoid"', 'name = "A3"\nop = "tanh"', ["nodes[6].op", "binary_cross_entropy needs "
                                                                "outputs from sigmoid", "found tanh"]),
])
def test_each_graph_mistake_gets_a_clear_message(capsys, tmp_path, old, new, fragments):
    assert old in ARTICLE_AS_NODES
    line = error_of(capsys, tmp_path, ARTICLE_AS_NODES.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


@pytest.mark.parametrize("form", ["text", "markdown", "latex", "html", "json"])
def test_every_output_form_shows_the_contributions_and_the_sum_step(capsys, form):
    assert main(["walkthrough", "residual", "--format", form, "--width", "100"]) == 0
    out = capsys.readouterr().out
    if form in ("text", "json"):
        for name in ("dJ/dA1 via Z2", "dJ/dA1 via S2", "dS2/dA1", "dZ2/dA1"):
            assert name in out, (form, name)
    else:  # typeset: ∂J/∂A^{[1]} via Z^{[2]}, in a heading and in the sum's chain rule
        assert out.count("via") >= 8
    if form != "json":
        assert "along 2 paths" in " ".join(out.split())


def test_the_step_through_has_a_page_for_the_sum_step():
    command = [sys.executable, "-m", "jacobian_bp", "walkthrough", "residual", "--step", "--width", "100"]
    result = subprocess.run(command, input="g 10\nq\n", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    page = " ".join(result.stdout.split())
    assert "Backward step 8/10 · dJ/dA1" in page and "dJ/dA1 = dJ/dA1 via Z2 + dJ/dA1 via S2" in page


@pytest.mark.parametrize("old, new, fragments", [
    ('name = "A1"\nop = "relu"\ninput = "Z1"',
     'name = "A1"\nop = "relu"\ninput = "Z1"\n\n[[nodes]]\nname = "D"\nop = "relu"\ninput = "Z1"',
     ["nodes[3].name", "D does not lead to the output A3"]),
    ('op = "relu"\ninput = "Z1"', 'op = "add"\ninputs = ["Z1", "W3"]',
     ["nodes[2].inputs", "W3 is a parameter of nodes[5]"]),
])
def test_unused_nodes_and_borrowed_parameters_are_refused(capsys, tmp_path, old, new, fragments):
    assert old in ARTICLE_AS_NODES
    line = error_of(capsys, tmp_path, ARTICLE_AS_NODES.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_an_error_in_regularization_names_its_line(capsys, tmp_path):
    line = error_of(capsys, tmp_path, ARTICLE_AS_NODES.replace('learning_rate = 0.01',
                                                               'learning_rate = 0.01\n[regularization]\nl2 = -1', 1))
    assert "graph.toml:5: regularization.l2" in line


def test_from_python_a_path_loads_a_solution_has_a_short_repr_and_a_wrong_step_name_gets_the_closest(tmp_path):
    from pathlib import Path

    solution = solve(load(Path(__file__).resolve().parent.parent / "walkthroughs" / "residual.toml"))
    assert repr(solution).startswith("<Solution of 'A residual block") and len(repr(solution)) < 200
    assert repr(solution.step("dJ/dA1")) == "<Step 11: dJ/dA1 = dJ/dA1 via Z2 + dJ/dA1 via S2, shape 2 × 2>"
    with pytest.raises(KeyError, match="did you mean 'dJ/dZ2'"):
        solution.step("dJ/dz2")
    assert "<svg" in solution._repr_html_() and r"\partial J/\partial A^{[1]}" in solution._repr_markdown_()
