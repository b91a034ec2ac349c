"""A real-sized layer (`mnist_shape`): every Jacobian kept by its structure, checked row by row against
PyTorch and through its product against the shortcut; its pages state what the dense matrices would cost."""

import json
import re

import numpy as np
import pytest
import torch

from jacobian_bp import load, solve, worksheet
from jacobian_bp.cli import main
from jacobian_bp.render import json as json_document
from jacobian_bp.render import story
from jacobian_bp.structured import SMALL, KroneckerIdentity, Structured
from tests.test_pytorch import _torch_forward

MNIST = solve(load("mnist_shape"))
STEPS = [step for step in MNIST.steps if not step.is_sum and not step.from_cost]


def test_the_network_has_the_shape_of_mnist():
    values = MNIST.values
    assert values["X"].shape == (32, 784) and values["W1"].shape == (128, 784) and values["W2"].shape == (10, 128)
    assert 0 <= values["X"].min() and values["X"].max() <= 1
    step = MNIST.step("dJ/dW1")
    assert step.structure.shape == (4096, 100352) and isinstance(step.structure, KroneckerIdentity)
    assert story.byte_size(step.structure.dense_bytes) == "3.3 GB"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.jacobian_name)
def test_every_product_through_the_structure_equals_the_shortcut(step):
    assert not step.structure.small or step.structure.size <= SMALL
    np.testing.assert_allclose(step.result, step.shortcut, rtol=1e-9, atol=1e-15, err_msg=step.gradient)
    assert story.agrees(step.result, step.shortcut)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.jacobian_name)
def test_a_handful_of_rows_of_every_jacobian_equal_pytorch_and_carry_the_product(step):
    """Rows built densely from the structure are the derivatives PyTorch finds for those entries of the
    output, and multiplying them by the upstream entries gives what the structure's product gives."""
    node = MNIST.graph.producers[step.node]
    values = MNIST.graph.role_values(node, MNIST.values)
    structure = step.structure
    rows = np.unique(np.random.default_rng(len(step.jacobian_name)).integers(0, structure.shape[0], 5))
    dense_rows = structure.block(rows, np.arange(structure.shape[1]))
    variable = torch.tensor(values[step.role], requires_grad=True)
    tensors = {role: torch.tensor(value) for role, value in values.items() if role in node.roles}
    output = _torch_forward(node.op, {**tensors, step.role: variable}).reshape(-1)
    for row, dense_row in zip(rows, dense_rows, strict=True):
        (derivative,) = torch.autograd.grad(output[row], variable, retain_graph=True)
        np.testing.assert_allclose(dense_row, derivative.numpy().reshape(-1), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{step.jacobian_name} row {row}")
    upstream = np.zeros((1, structure.shape[0]))
    upstream[0, rows] = step.upstream_row[0, rows]
    np.testing.assert_allclose(structure.left_multiply(upstream), upstream[:, rows] @ dense_rows,
                               rtol=1e-12, atol=1e-15)


def test_no_large_jacobian_is_built(monkeypatch):
    """Rendering every form reads the corners of the large Jacobians, never their full matrices."""
    from jacobian_bp.structured import Structured

    def refuse(self):
        raise AssertionError(f"built {self!r} in full")

    solution = solve(load("mnist_shape"))
    monkeypatch.setattr(Structured, "build", refuse)
    from jacobian_bp.render import html, latex, markdown

    for render in (markdown.render, latex.render, html.render):
        assert "100352" in render(solution, decimals=4, symbolic=True)
    json_document.render(solution)


def test_the_page_of_dz1_dw1_states_its_dense_size_and_its_structure(capsys):
    assert main(["walkthrough", "mnist_shape", "--width", "100"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "dZ1/dW1 would take 3.3 GB as a dense matrix (4,096 × 100,352 numbers of 8 bytes)" in text
    assert "A ⊗ I with its columns in the order of vec(W1) (kronecker identity)" in text
    assert "(100336 of 100352 columns and 4076 of 4096 rows not shown)" in text


def test_the_kronecker_identity_is_a_kronecker_product_with_its_columns_in_the_order_of_vec_w():
    inputs, units = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), 4
    built = KroneckerIdentity(inputs, units).dense()
    # vec(W) reads W (units × inputs) row by row; (A ⊗ I) has its columns in the order of vec(Wᵀ)
    order = np.arange(units * inputs.shape[1]).reshape(units, -1).T.ravel()
    np.testing.assert_array_equal(built[:, order], np.kron(inputs, np.eye(units)))
    assert not np.array_equal(built, np.kron(inputs, np.eye(units))) and KroneckerIdentity.reordered


LARGE_DROPOUT_AND_BATCH_NORM = """loss = "mean_squared_error"
[data]
X = {X}
Y = {Y}
[[nodes]]
name = "Z1"
op = "dense"
input = "X"
units = 30
[[nodes]]
name = "D1"
op = "dropout"
input = "Z1"
p = 0.5
seed = 3
[[nodes]]
name = "N1"
op = "batch_norm"
input = "D1"
[[nodes]]
name = "Z2"
op = "dense"
input = "N1"
units = 1
"""


def test_a_large_jacobian_says_how_it_is_kept_by_its_structure_or_built_in_full(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "large.toml"
    path.write_text(LARGE_DROPOUT_AND_BATCH_NORM.format(X=rng.uniform(-1, 1, (20, 5)).round(2).tolist(),
                                                        Y=rng.uniform(-1, 1, (20, 1)).round(2).tolist()))
    solution = solve(load(str(path)))
    dropout, batch_norm = solution.step("dJ/dZ1"), solution.step("dJ/dD1")
    assert dropout.structure.shape == batch_norm.structure.shape == (600, 600)  # both larger than SMALL
    said = str(story.structure_caption(dropout))
    assert "kept by its structure, diag(d) (diagonal), in 4.8 kB" in said and "columns in the order" not in said
    said = str(story.structure_caption(batch_norm))
    assert "dN1/dD1 takes 2.9 MB as a dense matrix (600 × 600 numbers of 8 bytes): too large to write out" in said
    assert "built in full" in said and "frameworks never build it" not in said and "structure" not in said
    sheet = worksheet.render(solution, ["jacobians"], str(path))
    assert ("# dN1/dD1 is not asked: 600 × 600 entries, 2.9 MB as a dense matrix, too many to write out\n" in sheet
            and "# dD1/dZ1 is not asked: 600 × 600 entries, 2.9 MB as a dense matrix, too many to write out, kept only "
            "by its structure, diag(d) (diagonal); work through that structure instead" in sheet)


def test_json_writes_large_jacobians_by_their_structure(capsys):
    assert main(["walkthrough", "mnist_shape", "--format", "json"]) == 0
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    weights = quantities["dZ1/dW1"]
    assert weights["structure"] == "kronecker_identity" and weights["shape"] == [4096, 100352]
    assert weights["factors"]["units"] == 128
    np.testing.assert_array_equal(weights["factors"]["A"], MNIST.values["X"])
    assert quantities["dA1/dZ1"]["structure"] == "diagonal"
    assert quantities["dA2/dZ2"]["structure"] == "block_diagonal"
    assert quantities["dZ2/dA1"]["structure"] == "identity_kronecker"
    assert isinstance(quantities["dJ/dW1"], list)


def test_structured_form_rebuilds_the_matrix_and_dense_jacobians_writes_it_whole(capsys, tmp_path):
    """On a net just above the threshold: the factors of docs/json.md give back the full matrix."""
    path = tmp_path / "net.toml"
    path.write_text('loss = "mean_squared_error"\nseed = 1\n[data]\nX = ' + str([[0.5] * 30] * 4)
                    + "\nY = " + str([[0.0] * 100] * 4) + '\n[[layers]]\nunits = 100\nactivation = "tanh"\n',
                    encoding="utf-8")
    assert main(["walkthrough", str(path), "--format", "json"]) == 0
    form = json.loads(capsys.readouterr().out)["quantities"]["dZ1/dW1"]
    assert main(["walkthrough", str(path), "--format", "json", "--dense-jacobians"]) == 0
    dense = np.array(json.loads(capsys.readouterr().out)["quantities"]["dZ1/dW1"])
    A, units = np.array(form["factors"]["A"]), form["factors"]["units"]
    rebuilt = np.einsum("ik,jl->ijlk", A, np.eye(units)).reshape(form["shape"])
    np.testing.assert_array_equal(rebuilt, dense)


def test_dense_jacobians_is_for_json_only(capsys):
    assert main(["walkthrough", "article", "--dense-jacobians"]) == 2
    assert re.search(r"--dense-jacobians is for --format json, not text", capsys.readouterr().err)


def test_dense_jacobians_is_refused_before_anything_is_built_when_one_exceeds_the_limit(capsys, monkeypatch):
    from jacobian_bp import cli

    monkeypatch.setattr(cli, "solve", lambda walkthrough: pytest.fail("solved before refusing"))
    assert main(["walkthrough", "mnist_shape", "--format", "json", "--dense-jacobians"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "dZ1/dW1 would be 4096 × 100352 (3.1 GiB)" in error
    assert "more than the limit of 256 MiB; raise the limit with --max-jacobian-mb" in error


def test_a_training_counts_the_jacobians_as_built_not_their_full_matrices(tmp_path):
    """Two steps of mnist_shape store a few MiB of factors, though their full matrices would take 6.4 GiB."""
    from jacobian_bp.walkthrough import bundled_directory

    path = tmp_path / "two_steps.toml"
    path.write_text("steps = 2\n" + (bundled_directory() / "mnist_shape.toml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert load(str(path)).steps == 2


def _small_only(build):
    def built(self):
        if not self.small:
            pytest.fail(f"built {self!r} in full")
        return build(self)

    return built


@pytest.fixture
def no_large_build(monkeypatch):
    """Building any large Jacobian in full fails the test; small ones are built as usual."""
    for cls in (Structured, *Structured.__subclasses__()):
        if "build" in vars(cls):
            monkeypatch.setattr(cls, "build", _small_only(vars(cls)["build"]))


def test_check_grades_gradients_through_large_jacobians_by_their_structure(no_large_build):
    """A gradient after a wrong upstream one is carried forward through dZ1/dW1's structure, never built."""
    from jacobian_bp.chain import chain_rule
    from jacobian_bp.check import grade_answers

    solution = solve(load("mnist_shape"))
    quantities = solution.quantities
    upstream = quantities["dJ/dZ1"] * 2
    own = chain_rule(upstream, quantities["dZ1/dW1"], quantities["W1"].shape)
    graded = {result.name: result for result in grade_answers(solution, {
        "dJ/dZ1": upstream, "dJ/dW1": own, "dJ/dW2": np.round(quantities["dJ/dW2"], 4) + 1.0}, 4)}
    assert graded["dJ/dZ1"].verdict == "wrong" and graded["dJ/dW1"].verdict == "carried forward"
    assert graded["dJ/dW2"].verdict == "wrong"


def test_a_worksheet_leaves_out_what_is_kept_by_its_structure_and_check_accepts_it(capsys, tmp_path, no_large_build):
    path = tmp_path / "sheet.toml"
    assert main(["worksheet", "mnist_shape", "-o", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert '"dZ1/dW1" =' not in text and '"dJ/dW1" =' in text and '"dA1/dZ1" =' not in text
    assert ("# dZ1/dW1 is not asked: 4,096 × 100,352 entries, 3.3 GB as a dense matrix, too many to write out, "
            "kept only by its structure, A ⊗ I with its columns in the order of vec(W1) (kronecker identity)") in text
    assert main(["check", str(path)]) == 0
    assert "○ 21 unanswered" in " ".join(capsys.readouterr().out.split())


def test_check_refuses_an_answer_to_a_large_jacobian_in_one_line_before_solving(capsys, tmp_path, monkeypatch):
    from jacobian_bp import check

    monkeypatch.setattr(check, "solve", lambda walkthrough: pytest.fail("solved before refusing"))
    path = tmp_path / "answers.toml"
    path.write_text('walkthrough = "mnist_shape"\n[answers]\n"J" = 2.3\n"dZ1/dW1" = [[1, 2]]\n', encoding="utf-8")
    assert main(["check", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "answers.toml:4: dZ1/dW1: a Jacobian of 4096 × 100352 entries" in error
    assert "(this answer is 1 × 2)" in error and "its gradient is graded" in error


def test_html_draws_large_sparsity_pictures_at_a_bounded_resolution_from_the_structure():
    """Each square of a large Jacobian's picture covers a block of entries and is counted from the factors:
    the page and the memory it takes do not grow with the nonzero entries (dZ1/dW1 has 3.2 million, whose
    positions alone would take 51 MB), and the caption says how many entries a square covers."""
    import tracemalloc

    from jacobian_bp.render import html

    tracemalloc.start()
    page = html.render(MNIST, decimals=4, symbolic=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2 ** 20 and len(page) < 2 ** 20
    pictures = re.findall(r'<figure class="sparsity">.*?</figure>', page, flags=re.DOTALL)
    assert all(picture.count("<rect") <= 2 + html.SPARSITY_GRID ** 2 for picture in pictures)
    weights = next(picture for picture in pictures if "4096 × 100352" in picture)
    assert "84 × 84" in weights and "48.8 × 1.19e+03" in weights
