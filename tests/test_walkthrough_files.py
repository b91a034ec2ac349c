"""Walkthrough files: bundled ones run from anywhere; every mistake in a file gets a clear one-line error."""

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from jacobian_bp import WalkthroughError, load, solve
from jacobian_bp.cli import main
from jacobian_bp.walkthrough import bundled_directory, bundled_names

ROOT = Path(__file__).resolve().parent.parent

VALID = """\
title = "test"
loss = "binary_cross_entropy"
learning_rate = 0.01

[data]
X = [[1.0, 2.0], [3.0, 4.0]]
Y = [[0.0], [1.0]]

[[layers]]
units = 3
activation = "relu"
W = [[-1.0, 2.0], [3.0, 0.5], [-0.1, -4.0]]
b = [1.0, -2.0, 0.3]

[[layers]]
units = 1
activation = "sigmoid"
W = [[0.5, -0.3, 0.2]]
b = [0.1]
"""


def error_of(capsys, tmp_path, text: str | bytes, name: str = "net.toml") -> str:
    """Run `walkthrough` on a file with `text`; assert exit 2, one line, no traceback; return the line."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    status = main(["walkthrough", str(path), "--format", "json"])
    captured = capsys.readouterr()
    assert status == 2, captured.out[:200]
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert str(path) in lines[0]
    return lines[0]


def test_the_valid_base_file_runs(capsys, tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(VALID, encoding="utf-8")
    assert main(["walkthrough", str(path), "--format", "json"]) == 0


@pytest.mark.parametrize("old, new, fragments", [
    # TOML syntax, with the line TOML gives
    ('learning_rate = 0.01', 'learning_rate = ', ["net.toml:3:", "not valid TOML"]),
    # missing and unknown keys, with the closest name suggested
    ('loss = "binary_cross_entropy"\n', '', ["loss", "missing"]),
    ('units = 1\n', '', ["layers[2].units", "missing"]),
    ('learning_rate = 0.01', 'learning_rte = 0.01', ["learning_rte", "unknown key", "did you mean 'learning_rate'"]),
    ('activation = "sigmoid"', 'activation = "sigmoid"\nactivaton = "relu"',
     ["layers[2].activaton", "did you mean 'activation'"]),
    ('Y = [[0.0], [1.0]]', 'Y = [[0.0], [1.0]]\nZ = [[1.0]]', ["data.Z", "unknown key"]),
    # wrong shapes
    ('W = [[0.5, -0.3, 0.2]]', 'W = [[0.5, -0.3]]', ["net.toml:18:", "layers[2].W", "expected shape 1 × 3",
                                                      "found 1 × 2"]),
    ('b = [1.0, -2.0, 0.3]', 'b = [1.0, -2.0]', ["layers[1].b", "expected 3 values", "found 2"]),
    ('Y = [[0.0], [1.0]]', 'Y = [[0.0], [1.0], [1.0]]', ["data.Y", "expected 2 rows", "found 3"]),
    ('Y = [[0.0], [1.0]]', 'Y = [[0.0, 1.0], [1.0, 0.0]]', ["data.Y", "expected 1 column", "found 2"]),
    # ragged or empty matrices
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [[1.0, 2.0], [3.0]]', ["data.X", "different lengths (2, 1)"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = []', ["data.X", "expected a matrix", "empty list"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [[], []]', ["data.X", "row 1 is empty"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [1.0, 2.0]', ["data.X", "list of rows"]),
    # non-numeric, NaN, infinite
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [[1.0, "two"], [3.0, 4.0]]', ["data.X[1][2]", "expected a number",
                                                                        "'two'"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [[1.0, nan], [3.0, 4.0]]', ["data.X[1][2]", "finite", "nan"]),
    ('b = [0.1]', 'b = [inf]', ["layers[2].b[1][1]", "finite", "inf"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', 'X = [[1.0, true], [3.0, 4.0]]', ["data.X[1][2]", "boolean true"]),
    # units below 1
    ('units = 3', 'units = 0', ["layers[1].units", "at least 1", "found 0"]),
    ('units = 3', 'units = 2.5', ["layers[1].units", "whole number"]),
    # unknown activation or loss, with a suggestion
    ('activation = "relu"', 'activation = "rellu"', ["layers[1].activation", "unknown activation 'rellu'",
                                                     "did you mean 'relu'"]),
    ('loss = "binary_cross_entropy"', 'loss = "cross_entropie"', ["loss", "did you mean 'cross_entropy'"]),
    # cross-entropy without a softmax output, BCE without a sigmoid output
    ('loss = "binary_cross_entropy"', 'loss = "cross_entropy"', ["layers[2].activation", "cross_entropy needs",
                                                                 "softmax", "found sigmoid"]),
    ('activation = "sigmoid"', 'activation = "relu"', ["binary_cross_entropy needs outputs from sigmoid"]),
    # targets outside [0, 1]
    ('Y = [[0.0], [1.0]]', 'Y = [[0.0], [2.0]]', ["data.Y", "between 0 and 1", "found 2"]),
    # learning rate
    ('learning_rate = 0.01', 'learning_rate = -0.5', ["learning_rate", "positive", "-0.5"]),
    ('learning_rate = 0.01', 'learning_rate = 0', ["learning_rate", "positive"]),
    ('learning_rate = 0.01', 'learning_rate = inf', ["learning_rate", "finite"]),
    ('learning_rate = 0.01', 'learning_rate = "fast"', ["learning_rate", "expected a number", "'fast'"]),
    # decimals
    ('learning_rate = 0.01', 'learning_rate = 0.01\ndecimals = 40', ["decimals", "1 to 12", "found 40"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\ndecimals = 0', ["decimals", "1 to 12"]),
    # other fields
    ('title = "test"', 'title = 3', ["title", "expected text"]),
    ('learning_rate = 0.01', 'learning_rate = 0.01\nseed = -3', ["seed", "≥ 0"]),
    ('activation = "relu"', 'activation = "leaky_relu"\nnegative_slope = "big"', ["layers[1].negative_slope",
                                                                                  "expected a number"]),
    ('activation = "relu"', 'activation = "relu"\nnegative_slope = 0.1', ["layers[1].negative_slope",
                                                                          "relu has no negative_slope",
                                                                          "belongs to leaky_relu"]),
])
def test_each_mistake_gets_a_clear_message(capsys, tmp_path, old, new, fragments):
    assert old in VALID
    line = error_of(capsys, tmp_path, VALID.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


@pytest.mark.parametrize("old, new, fragments", [
    ('activation = "relu"', 'activaton = "relu"', ["layers[1].activaton", "did you mean 'activation'"]),
    ('activation = "relu"', 'activation = ["relu"]', ["layers[1].activation", "expected text in quotes",
                                                      "found a list"]),
    ('learning_rate = 0.01', "learning_rate = 1" + "0" * 400, ["learning_rate", "expected a finite number",
                                                              "too large for floating point"]),
    ('X = [[1.0, 2.0], [3.0, 4.0]]', "X = [[1.0, 2" + "0" * 400 + "], [3.0, 4.0]]", ["data.X[1][2]", "finite"]),
    ('loss = "binary_cross_entropy"\n', '', ["loss", "missing"]),
])
def test_more_mistakes(capsys, tmp_path, old, new, fragments):
    assert old in VALID
    line = error_of(capsys, tmp_path, VALID.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_a_top_level_key_written_inside_data_is_pointed_out(capsys, tmp_path):
    moved = 'Y = [[0.0], [1.0]]\nloss = "binary_cross_entropy"'
    text = VALID.replace('loss = "binary_cross_entropy"\n', "").replace('Y = [[0.0], [1.0]]', moved)
    assert "loss: missing; it is written inside [data]" in error_of(capsys, tmp_path, text)


def test_cross_entropy_needs_rows_that_sum_to_one(capsys, tmp_path):
    text = VALID.replace('loss = "binary_cross_entropy"', 'loss = "cross_entropy"').replace(
        'activation = "sigmoid"', 'activation = "softmax"').replace("units = 1", "units = 2").replace(
        "W = [[0.5, -0.3, 0.2]]", "W = [[0.5, -0.3, 0.2], [0.1, 0.1, 0.1]]").replace("b = [0.1]", "b = [0.1, 0]")
    line = error_of(capsys, tmp_path, text.replace("Y = [[0.0], [1.0]]", "Y = [[0.0, 1.0], [1.0, 1.0]]"))
    assert "data.Y" in line and "row 2 sums to 2" in line


def test_empty_file_and_missing_tables(capsys, tmp_path):
    assert "loss: missing" in error_of(capsys, tmp_path, "")
    line = error_of(capsys, tmp_path, VALID.replace("[[layers]]", "[[layer]]"))
    assert "unknown key" in line and "did you mean 'layers'" in line


def test_a_file_that_is_not_text(capsys, tmp_path):
    assert "is not a text file" in error_of(capsys, tmp_path, b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "image.toml")


def test_a_file_that_does_not_exist(capsys, tmp_path):
    status = main(["walkthrough", str(tmp_path / "missing.toml")])
    err = capsys.readouterr().err
    assert status == 2 and "missing.toml: no such file" in err and len(err.strip().splitlines()) == 1


def test_line_numbers_point_at_the_field(capsys, tmp_path):
    line = error_of(capsys, tmp_path, VALID.replace("units = 3", "units = 0"))
    assert "net.toml:10: layers[1].units" in line
    line = error_of(capsys, tmp_path, VALID.replace('Y = [[0.0], [1.0]]', 'Y = [[0.0], [7.0]]'))
    assert "net.toml:7: data.Y" in line
    line = error_of(capsys, tmp_path, VALID.replace("[[1.0, 2.0], [3.0, 4.0]]", '[[1.0, "x"], [3.0, 4.0]]'))
    assert "net.toml:6: data.X[1][2]" in line
    line = error_of(capsys, tmp_path, VALID.replace("b = [0.1]", "b = [0.1, 0.2]"))
    assert "net.toml:19: layers[2].b" in line
    line = error_of(capsys, tmp_path, VALID.replace('title = "test"', 'title = 5'))
    assert "net.toml:1: title" in line


def test_integers_are_accepted_wherever_floats_are(tmp_path):
    path = tmp_path / "ints.toml"
    path.write_text(VALID.replace("[[1.0, 2.0], [3.0, 4.0]]", "[[1, 2], [3, 4]]").replace("b = [0.1]", "b = 0"),
                    encoding="utf-8")
    walkthrough = load(str(path))
    assert walkthrough.X.dtype == float and walkthrough.given["b2"].tolist() == [[0.0]]


def test_missing_parameters_are_initialized_deterministically_like_torch(tmp_path):
    text = VALID.replace("W = [[-1.0, 2.0], [3.0, 0.5], [-0.1, -4.0]]\n", "").replace("b = [1.0, -2.0, 0.3]\n", "")
    path = tmp_path / "seeded.toml"
    path.write_text(text.replace("learning_rate = 0.01", "learning_rate = 0.01\nseed = 3"), encoding="utf-8")
    first, second = load(str(path)), load(str(path))
    W, b = first.given["W1"], first.given["b1"]
    assert first.initialized == ("W1", "b1")
    np.testing.assert_array_equal(W, second.given["W1"])
    bound = 1 / np.sqrt(2)
    assert np.all(np.abs(W) <= bound) and np.all(np.abs(b) <= bound)
    assert W.std() > 0
    path.write_text(text.replace("learning_rate = 0.01", "learning_rate = 0.01\nseed = 4"), encoding="utf-8")
    assert not np.array_equal(load(str(path)).given["W1"], W)


def test_the_seeded_walkthrough_prints_the_values_it_chose(capsys):
    assert main(["walkthrough", "seeded", "--width", "100", "--no-symbolic"]) == 0
    out = capsys.readouterr().out
    W1 = load("seeded").given["W1"]
    assert "drawn from seed 7" in out
    assert f"{W1[0, 0]:.4f}" in out and f"{W1[1, 2]:.4f}" in out


def test_memory_guard_refuses_a_huge_layer_quickly_without_allocating(capsys, tmp_path):
    """A softmax of 100,000 units stores a full 100,000² block per sample: the guard counts what is stored."""
    text = VALID.replace("units = 3\nactivation = \"relu\"", "units = 100000\nactivation = \"softmax\"").replace(
        "W = [[-1.0, 2.0], [3.0, 0.5], [-0.1, -4.0]]\n", "").replace("b = [1.0, -2.0, 0.3]\n", "").replace(
        "W = [[0.5, -0.3, 0.2]]\n", "")
    line = error_of(capsys, tmp_path, text)
    assert "the Jacobian dA1/dZ1 (200000 × 200000) would store 149.0 GiB of factors" in line
    assert "--max-jacobian-mb" in line
    tracemalloc.start()
    with pytest.raises(ValueError, match="more than the limit of 256 MiB"):
        load(str(tmp_path / "net.toml"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak} bytes allocated before refusing"


def test_memory_guard_limit_can_be_raised_and_lowered(capsys):
    assert main(["walkthrough", "article", "--format", "json", "--max-jacobian-mb", "0.0001"]) == 2
    assert "the Jacobian dA1/dZ1 would be 6 × 6 (288 bytes)" in capsys.readouterr().err
    assert main(["walkthrough", "article", "--format", "json", "--max-jacobian-mb", "1"]) == 0


def test_the_default_limit_bounds_what_is_stored_not_the_dense_size(tmp_path):
    """Dense layers store their factors only, so width is no longer bound by the dense Jacobians (a 204-unit
    layer's dZ2/dW2 is 816 × 41616, 259 MiB as a matrix); a softmax stores its blocks, and those count."""
    def network(width: int, activation: str = "relu") -> str:
        layers = "".join(f'[[layers]]\nunits = {width}\nactivation = "{activation}"\n\n' for _ in range(2))
        return (f'loss = "mean_squared_error"\n[data]\nX = {[[0.5] * width] * 4}\nY = {[[0.0] * width] * 4}\n\n'
                + layers)

    (tmp_path / "wide.toml").write_text(network(204), encoding="utf-8")
    (tmp_path / "softmax.toml").write_text(network(4000, "softmax"), encoding="utf-8")
    assert load(str(tmp_path / "wide.toml")).given["W1"].shape[0] == 204
    with pytest.raises(ValueError, match=r"dA2/dZ2 \(16000 × 16000\) would store 488.3 MiB of factors"):
        load(str(tmp_path / "softmax.toml"))


def test_list_names_every_bundled_walkthrough_with_its_title(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == bundled_names()
    assert lines[0].startswith("article") and "Article example" in lines[0]
    assert len(lines) >= 6


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_walkthrough_runs_in_text_and_json_from_another_directory(name, tmp_path):
    command = [sys.executable, "-m", "jacobian_bp", "walkthrough", name]
    text = subprocess.run([*command, "--width", "80"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "SGD update" in text.stdout and all(len(line) <= 80 for line in text.stdout.splitlines())
    document = json.loads(subprocess.run([*command, "--format", "json"], cwd=tmp_path, capture_output=True,
                                         text=True, check=True).stdout)
    walkthrough = load(name)
    assert document["title"] == walkthrough.title
    assert len(walkthrough.description.split()) >= 20, "each bundled walkthrough says what it teaches"


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_walkthrough_agrees_with_its_shortcuts(name):
    for step in solve(load(name)).steps:
        np.testing.assert_allclose(step.result, step.shortcut, rtol=1e-10, atol=1e-14,
                                   err_msg=f"{name} {step.gradient}")


def test_kinks_are_flagged_in_the_bundled_leaky_network(capsys):
    solution = solve(load("deep_leaky"))
    (kink,) = [kink for step in solution.steps for kink in step.kinks]
    assert kink.position == (0, 0) and kink.derivative == 0.1
    assert main(["walkthrough", "deep_leaky", "--width", "100", "--no-symbolic"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Z1 row 1, column 1 is exactly 0, the kink of leaky ReLU" in out
    assert "leaky ReLU'(0) = 0.1, as PyTorch does" in out


def test_walkthroughs_ship_inside_a_non_editable_install(tmp_path):
    """Built with the hatchling of the test tools and no package index: the tests never need the network."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(ROOT)], check=True, capture_output=True)
    assert (target / "jacobian_bp" / "walkthroughs" / "article.toml").is_file()
    result = subprocess.run([sys.executable, "-c", "import jacobian_bp.walkthrough as w, sys; "
                             "print(w.bundled_directory()); print(' '.join(w.bundled_names()))"],
                            cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""}, capture_output=True,
                            text=True, check=True)
    directory, names = result.stdout.splitlines()
    assert directory == str(target / "jacobian_bp" / "walkthroughs")
    assert names.split() == bundled_names()
    assert bundled_directory() != Path(directory)


def test_a_probability_that_underflows_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "underflow.toml"
    path.write_text('loss = "cross_entropy"\n[data]\nX = [[1]]\nY = [[1, 0]]\n[[layers]]\nunits = 2\n'
                    'activation = "softmax"\nW = [[0], [800]]\nb = [0, 0]\n', encoding="utf-8")
    with pytest.raises(WalkthroughError, match=r"A1 row 1, column 1 is 0: the softmax is so saturated that this "
                                               r"probability underflows floating point"):
        solve(load(str(path)))


def test_pytorchs_log_clamp_is_named_on_the_loss_page_where_it_acts(tmp_path, capsys):
    path = tmp_path / "clamped.toml"
    path.write_text('loss = "binary_cross_entropy"\n[data]\nX = [[1]]\nY = [[0]]\n[[layers]]\nunits = 1\n'
                    'activation = "sigmoid"\nW = [[40]]\nb = [0]\n', encoding="utf-8")
    assert solve(load(str(path))).quantities["J"] == 100.0
    assert main(["walkthrough", str(path), "--width", "100", "--no-symbolic"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "A1 row 1, column 1 is 1, so one of its logs is below −100" in out
    assert "PyTorch's binary cross-entropy takes that log as −100" in out
