"""What a review of the convolution, pooling, normalization and dropout ops found wrong, each kept from coming back:
the kink a max-pool tie is, dropout's own slip, the seed note, the stride, `eps`, errors that name their field,
`explain` at a constant entry and in index order, the batch norm slips, and dropout's seed and mask."""

import re

import numpy as np
import pytest
from rich.console import Console

from jacobian_bp import load, solve
from jacobian_bp.check import grade_answers
from jacobian_bp.explain import explain
from jacobian_bp.render import story
from jacobian_bp.render.terminal import pages
from jacobian_bp.render.terminal.pages import Options
from jacobian_bp.vec import devec
from jacobian_bp.walkthrough import bundled_directory
from tests.test_walkthrough_files import error_of


def flat_page(solution, width: int = 100) -> str:
    console = Console(record=True, width=width, color_system=None)
    pages.render_walkthrough(solution, console, Options(decimals=4, symbolic=False))
    return " ".join(console.export_text().split())


def loaded(tmp_path, text: str, name: str = "net.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return solve(load(path))


POOL_TIE_AT_MINUS_ONE = """\
loss = "mean_squared_error"
[data]
X = [[-1.0, -1.0, -3.0, -4.0]]
Y = [[1.0]]
[[nodes]]
name = "A0"
op = "tanh"
input = "X"
[[nodes]]
name = "P1"
op = "max_pool2d"
input = "A0"
in_shape = [1, 2, 2]
kernel_size = 2
"""


def test_a_max_pool_tie_is_stated_as_a_tie_not_as_a_kink_at_0(tmp_path):
    for solution in (solve(load("pool_tie")), loaded(tmp_path, POOL_TIE_AT_MINUS_ONE)):
        step = next(step for step in solution.steps if step.kinks)
        notes = [str(story.kink_note(step, kink, 4)) for kink in step.kinks]
        assert notes and all("ties for the maximum of a window of P1" in note and "exactly 0" not in note
                             for note in notes), notes
        flat = flat_page(solution)
        assert "the kink of max pool" not in flat and "max pool'(0)" not in flat
        assert flat.index("ties for the maximum") < flat.index("At the tie (")


def test_dropouts_forgotten_scale_is_named_at_any_p_and_before_1_over_m(tmp_path):
    bundled = (bundled_directory() / "dropout.toml").read_text(encoding="utf-8")
    for source in (bundled, bundled.replace("p = 0.5", "p = 0.2")):
        solution = loaded(tmp_path, source)
        step = solution.step("dJ/dA1")
        mask = solution.graph.producers["D1"].op.mask_for(solution.values["A1"].shape)
        answer = devec(step.upstream_row @ np.diagflat(mask), step.result.shape)
        (result,) = grade_answers(solution, {"dJ/dA1": np.round(answer, 4)}, 4)
        assert result.verdict == "wrong" and "dropout's scale 1/(1 − p) forgotten in dD1/dA1" in result.diagnosis, \
            result.diagnosis
        unscaled = solution.values["A1"] * mask
        (result,) = grade_answers(solution, {"D1": np.round(unscaled, 4)}, 4)
        assert "dropout's scale 1/(1 − p) forgotten in D1" in result.diagnosis, result.diagnosis


SEEDED = """\
loss = "mean_squared_error"
seed = 3
[data]
X = [[1.0, 2.0, 0.0, -1.0, 0.5, 1.5, -2.0, 1.0, 0.25], [0.0, 1.0, 1.0, 2.0, -1.0, 0.5, 1.0, -0.5, 2.0]]
Y = [[1.0, 0.0, 0.5, 1.0], [0.0, 1.0, 0.5, 0.0]]
[[nodes]]
name = "Z1"
op = "conv2d"
input = "X"
in_shape = [1, 3, 3]
out_channels = 1
kernel_size = 2
[[nodes]]
name = "N1"
op = "layer_norm"
input = "Z1"
"""


def test_the_seed_note_says_how_each_op_made_its_parameters(tmp_path):
    solution = loaded(tmp_path, SEEDED)
    note = str(story.initialization_note(solution.walkthrough))
    assert "K1, c1 drawn from seed 3: uniform in ±1/√(in_channels · k²) = ±0.5, the default of torch.nn.Conv2d" \
        in note
    assert "gamma2 set to 1" in note and "beta2 set to 0" in note
    assert "±1/√inputs" not in note and "torch.nn.Linear" not in note and "gamma2, beta2 drawn" not in note
    np.testing.assert_array_equal(solution.values["gamma2"], [[1.0, 1.0, 1.0, 1.0]])
    bound = np.abs(solution.values["K1"]).max()
    assert 0 < bound <= 0.5


STRIDED = """\
loss = "mean_squared_error"
[data]
X = [[0.5, 1.0, -0.5, 0.0, 1.5, -1.0, 0.5, 1.0, 0.0, 0.5, 1.0, -0.5, 1.0, 0.0, -1.0, 0.5]]
Y = [[1.0]]
[[nodes]]
name = "A0"
op = "tanh"
input = "X"
[[nodes]]
name = "Z1"
op = "conv1d"
input = "A0"
in_shape = [2, 8]
K = [[[1.0, -0.5, 0.25], [0.5, 0.0, -0.25]]]
c = [0.1]
stride = 2
[[nodes]]
name = "Z2"
op = "dense"
input = "Z1"
units = 1
W = [[0.5, -0.25, 0.75]]
b = [0.0]
"""


def test_a_strided_convolution_says_its_block_is_strided_and_its_gradient_dilated(tmp_path):
    solution = loaded(tmp_path, STRIDED)
    step = solution.step("dJ/dA0")
    said = str(story.explanation(step, solution))
    assert "constant along its diagonals" not in said
    assert "strided (decimated) Toeplitz matrix, every 2nd row of the Toeplitz one of stride 1" in said
    assert "dilated by the stride (stride − 1 = 1 zero between neighbouring entries)" in said
    shortcut = str(story.shortcut_caption(step))
    assert "dilate(dJ/dZ1, 2) ⋆ rot180(K1)" in shortcut and "gives the same numbers" in shortcut
    # the rows of the block are shifted by the stride: row 2 is row 1 moved 2 columns along
    block = step.jacobian[:3, :8]
    np.testing.assert_array_equal(block[1, 2:], block[0, :-2])
    unit = loaded(tmp_path, STRIDED.replace("stride = 2\n", "").replace("[[0.5, -0.25, 0.75]]",
                                                                         "[[0.5, -0.25, 0.75, 0.5, -0.25, 0.75]]"))
    assert "dJ/dZ1 ⋆ rot180(K1) (the full cross-correlation, padded by k − 1, with K1 turned by 180°" in \
        str(story.shortcut_caption(unit.step("dJ/dA0")))


NORM = """\
loss = "mean_squared_error"
[data]
X = [[1.0, 2.0], [3.0, 2.0]]
Y = [[1.0, 0.0], [0.0, 1.0]]
[[nodes]]
name = "N1"
op = "batch_norm"
input = "X"
eps = 1e-5
"""


@pytest.mark.parametrize("old, new, field, fragment", [
    ("eps = 1e-5", "eps = -1", "nodes[1].eps", "expected a positive number"),
    ("eps = 1e-5", "eps = 0", "nodes[1].eps", "found 0"),
])
def test_eps_must_be_positive(capsys, tmp_path, old, new, field, fragment):
    line = error_of(capsys, tmp_path, NORM.replace(old, new))
    assert f"net.toml:9: {field}: " in line and fragment in line, line


CONVOLUTION = """\
loss = "mean_squared_error"
[data]
X = [[1.0, 2.0, 0.0, -1.0, 0.5, 1.5, -2.0, 1.0, 0.25], [0.0, 1.0, 1.0, 2.0, -1.0, 0.5, 1.0, -0.5, 2.0]]
Y = [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]
[[nodes]]
name = "Z1"
op = "conv2d"
input = "X"
in_shape = [1, 3, 3]
K = [[[[1.0, -1.0], [0.5, 2.0]]]]
[[nodes]]
name = "D1"
op = "dropout"
input = "Z1"
p = 0.5
mask = [[1, 0, 1, 1], [0, 1, 1, 0]]
"""


def line_of(text: str, start: str) -> int:
    return next(number for number, row in enumerate(text.splitlines(), start=1) if row.startswith(start))


@pytest.mark.parametrize("old, new, field, fragment", [
    ("p = 0.5", "p = 1.0", "nodes[2].p", "expected at least 0 and less than 1"),
    ("mask = [[1, 0, 1, 1], [0, 1, 1, 0]]", "mask = [[1, 0, 1], [0, 1, 1]]", "nodes[2].mask",
     "expected the shape of its input, 2 × 4; found 2 × 3"),
    ("mask = [[1, 0, 1, 1], [0, 1, 1, 0]]", "mask = [[1, 0, 1, 1], [0, 1, 1, 2]]", "nodes[2].mask",
     "expected only 0 (dropped) and 1 (kept)"),
    ("mask = [[1, 0, 1, 1], [0, 1, 1, 0]]", "mask = [[1, 0, 1, 1], [0, 1, 1, 0]]\nseed = 4", "nodes[2].seed",
     "given with a mask"),
    ("p = 0.5", "p = 0.0", "nodes[2].mask", "drops entries, but p = 0"),
    ("in_shape = [1, 3, 3]", "in_shape = [1, 3, 4]", "nodes[1].in_shape", "1 × 3 × 4 has 12 entries"),
    ("in_shape = [1, 3, 3]", "in_shape = [9]", "nodes[1].in_shape", "expected 3 numbers (channels × height × width)"),
    ("K = [[[[1.0, -1.0], [0.5, 2.0]]]]", "K = [[[[1.0, -1.0], [0.5, 2.0]]]]\npadding = 0\nkernel_size = 4",
     "nodes[1].kernel_size", "a window of 4 does not fit"),
    ("K = [[[[1.0, -1.0], [0.5, 2.0]]]]", "K = []", "nodes[1].K", "expected nested lists of out_channels × "
                                                                  "in_channels × k × k, found an empty list"),
])
def test_mistakes_name_their_field_on_its_line(capsys, tmp_path, old, new, field, fragment):
    text = CONVOLUTION.replace(old, new)
    if "kernel_size = 4" in new:  # a stated kernel size that disagrees with nothing but the picture
        text = text.replace("K = [[[[1.0, -1.0], [0.5, 2.0]]]]\n", "out_channels = 1\n")
    line = error_of(capsys, tmp_path, text)
    key = field.rpartition(".")[2]
    assert f"net.toml:{line_of(text, key + ' =')}: {field}: " in line and fragment in line, line


def test_an_unrolled_kernel_without_its_size_says_what_is_missing(capsys, tmp_path):
    text = CONVOLUTION.replace("K = [[[[1.0, -1.0], [0.5, 2.0]]]]", "K = [[1.0, -1.0, 0.5, 2.0]]")
    line = error_of(capsys, tmp_path, text)
    assert "nodes[1].kernel_size: missing: K is written unrolled (one filter per row)" in line, line
    assert "out_channels" not in line.partition(":")[2].partition(":")[2].partition(":")[0]
    fixed = loaded(tmp_path, text.replace("K = [[1.0, -1.0, 0.5, 2.0]]", "K = [[1.0, -1.0, 0.5, 2.0]]\n"
                                                                          "kernel_size = 2"))
    np.testing.assert_array_equal(fixed.values["K1"], [[1.0, -1.0, 0.5, 2.0]])


LAYER_NORM_OF_ONE = """\
loss = "mean_squared_error"
[data]
X = [[1.0], [3.0]]
Y = [[1.0], [0.0]]
[[nodes]]
name = "Z1"
op = "dense"
input = "X"
units = 1
W = [[0.5]]
b = [0.1]
[[nodes]]
name = "N1"
op = "layer_norm"
input = "Z1"
gamma = [2.0]
beta = [0.5]
"""


def test_explain_says_0_for_an_entry_missing_from_its_equation_and_orders_terms_by_index(tmp_path):
    lines = [str(sentence) for sentence in explain(loaded(tmp_path, LAYER_NORM_OF_ONE), "dN1/dZ1[1,1]")]
    (missing,) = [line for line in lines if "does not appear in it" in line]
    assert missing.endswith("= 0."), missing
    assert "which is 0 at these values" in " ".join(lines)
    (equation,) = [str(sentence) for sentence in explain(solve(load("cnn")), "dZ2/dA1[5,3]")
                   if str(sentence).startswith("Scalar equation")]
    digits = equation.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
    columns = [int(found.replace("‚", "")) for found in re.findall(r"a\[1\]1‚?([0-9]+)⁽", digits)]
    assert columns == sorted(columns) and len(columns) == 12, equation


def test_gamma_not_summed_over_the_batch_and_an_unbiased_variance_are_named():
    solution = solve(load("batchnorm"))
    step = solution.step("dJ/dgamma2")
    upstream = solution.quantities[step.upstream]
    blocks = step.jacobian.reshape(upstream.shape[0], upstream.shape[1], -1)
    per_sample = np.einsum("ik,ikn->in", upstream, blocks)
    (result,) = grade_answers(solution, {"dJ/dgamma2": np.round(per_sample, 4)}, 4)
    assert "dJ/dgamma2 not summed over the batch: these are the 3 samples' own contributions" in result.diagnosis
    (result,) = grade_answers(solution, {"dJ/dgamma2": np.round(per_sample[1:2], 4)}, 4)
    assert "this is only sample 2's part" in result.diagnosis, result.diagnosis
    node = solution.graph.producers["N1"]
    X = solution.values[node.roles["input"]]
    centred = X - X.mean(axis=0)
    unbiased = centred / np.sqrt((centred**2).sum(axis=0) / (len(X) - 1) + 1e-5)
    wrong = solution.values["gamma2"] * unbiased + solution.values["beta2"]
    (result,) = grade_answers(solution, {"N1": np.round(wrong, 4)}, 4)
    assert "unbiased variance in N1 (divided by m − 1 = 2)" in result.diagnosis, result.diagnosis


def test_the_bundled_cnn_description_keeps_correlation_and_convolution_apart():
    description = " ".join(load("cnn").description.split())
    assert "the full convolution of dJ/dZ2 with the kernel, that is the full cross-correlation with the kernel " \
           "turned by 180° (the forward pass correlates with it as it is)" in description
