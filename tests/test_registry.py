"""The node registries: every activation and loss holds every piece, and a new one needs no other edit."""

import json
import re

import numpy as np
import pytest

from jacobian_bp import symbolic
from jacobian_bp.cli import main
from jacobian_bp.ops import ACTIVATIONS, LOSSES, OPS, OUTPUT, Elementwise, L2Penalty, MeanCost, Op
from jacobian_bp.vec import devec, vec
from tests.strategies import targets_for
from tests.test_nodes import ALL_OPS, example

Z = np.array([[0.5, -1.5], [2.0, -0.25]])
EVERY_OP = {**OPS, **LOSSES, MeanCost.name: MeanCost, L2Penalty.name: L2Penalty}


def _missing(pieces: dict) -> list[str]:
    """The names of the pieces whose call raises NotImplementedError (an inherited placeholder)."""
    missing = []
    for piece, call in pieces.items():
        try:
            call()
        except NotImplementedError:
            missing.append(piece)
    return missing


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_holds_every_piece(name):
    activation = ACTIVATIONS[name]()
    A = activation.activation_forward(Z)
    z, a = symbolic.symbols("z", 1, Z.shape), symbolic.symbols("a", 1, Z.shape)
    pieces = {"forward": lambda: activation.activation_forward(Z),
              "jacobian": lambda: activation.activation_jacobian(Z, A),
              "shortcut": lambda: activation.activation_shortcut(np.ones_like(Z), Z, A),
              "kinks": lambda: activation.kink_mask(Z), "explanation": activation.activation_explanation,
              "symbolic_jacobian": lambda: activation.activation_symbolic_jacobian(Z, z, a)}
    assert not _missing(pieces), f"activation {name} lacks {', '.join(_missing(pieces))}"
    assert activation.title and activation.shortcut_template, f"activation {name} lacks a title or a shortcut"
    if activation.kink_mask(np.zeros((1, 1))).any():
        assert not _missing({"derivative_at_kink": activation.derivative_at_kink}), (
            f"activation {name} has kinks but no derivative_at_kink")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_holds_every_piece(name):
    loss = LOSSES[name]()
    activation = ACTIVATIONS[(loss.output_activations or ("sigmoid",))[0]]()
    A = activation.activation_forward(Z)
    Y = targets_for(name, np.random.default_rng(0), Z.shape)
    a = symbolic.symbols("a", 1, Z.shape)
    pieces = {"forward": lambda: loss.loss_forward(A, Y), "derivative": lambda: loss.derivative(A, Y),
              "symbolic_loss": lambda: loss.symbolic_loss(list(a.row(0)), list(Y[0]))}
    if loss.fuses_with:
        pieces["fused_derivative"] = lambda: loss.fused_derivative(A, Y)
    assert not _missing(pieces), f"loss {name} lacks {', '.join(_missing(pieces))}"
    assert loss.title and loss.shortcut_template, f"loss {name} lacks a title or a shortcut"


class Softsign(Elementwise):
    """A throwaway activation, `z / (1 + |z|)`, defined here alone to show that one class is enough."""

    name = "softsign"
    title = "softsign"
    shortcut_template = "{dA} ⊙ softsign'({Z})"

    def activation_forward(self, Z: np.ndarray) -> np.ndarray:
        return Z / (1 + np.abs(Z))

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.abs(Z)) ** 2

    def symbolic_of(self, z):
        import sympy

        return z / (1 + sympy.Abs(z))


SOFTSIGN_NETWORK = """\
title = "A softsign hidden layer"
loss = "mean_squared_error"
[data]
X = [[1.0, -2.0], [0.5, 0.25]]
Y = [[0.5], [-0.5]]
[[layers]]
units = 2
activation = "softsign"
W = [[0.5, -1.0], [1.5, 0.25]]
b = [0.1, -0.2]
[[layers]]
units = 1
activation = "identity"
W = [[1.0, -2.0]]
b = [0.3]
"""


def test_a_new_activation_defined_in_one_class_gets_every_output_a_worksheet_and_a_check(
        monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(ACTIVATIONS, "softsign", Softsign)
    monkeypatch.setitem(OPS, "softsign", Softsign)
    path = tmp_path / "softsign.toml"
    path.write_text(SOFTSIGN_NETWORK, encoding="utf-8")
    for format_name in ("text", "markdown", "latex", "html"):
        assert main(["walkthrough", str(path), "--format", format_name, "--width", "100"]) == 0, format_name
        assert "softsign" in capsys.readouterr().out
    assert main(["walkthrough", str(path), "--format", "json"]) == 0
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    Z1 = np.array(quantities["Z1"])
    dA1 = np.array(quantities["dJ/dA1"])
    np.testing.assert_allclose(quantities["dJ/dZ1"], dA1 / (1 + np.abs(Z1)) ** 2)
    np.testing.assert_allclose(devec(vec(dA1) @ np.array(quantities["dA1/dZ1"]), Z1.shape), quantities["dJ/dZ1"])

    answers = tmp_path / "answers.toml"
    assert main(["worksheet", str(path), "-o", str(answers)]) == 0
    asked = re.findall(r'^"([^"]+)" = ', answers.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert "dA1/dZ1" in asked and "dJ/dZ1" in asked
    filled = [f'walkthrough = "{path}"', "[answers]"] + [f'"{name}" = {json.dumps(quantities[name])}' for name in asked]
    answers.write_text("\n".join(filled) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(answers)]) == 0, capsys.readouterr()


@pytest.mark.parametrize("name", sorted(EVERY_OP))
def test_every_op_has_a_pytorch_expression(name):
    """`walkthrough --format pytorch` writes one line per node from it (tests/test_pytorch_script.py runs them)."""
    op_class = EVERY_OP[name]
    assert op_class.torch_expression is not Op.torch_expression, (
        f"op {name} ({op_class.__name__}) lacks torch_expression: the PyTorch script cannot be written for it")
@pytest.mark.parametrize("name", sorted(ALL_OPS))
def test_every_op_gives_the_scalar_equation_of_every_entry_and_it_differentiates_to_the_jacobian(name):
    """`entry_equation` (what `explain` prints) for every op the engine knows: its derivative by each entry
    of each role, at the example's values, is that entry of the op's numeric Jacobian."""
    import sympy

    op, values, count = example(name, np.random.default_rng(3), 2, 2)
    symbols = {role: symbolic.symbols(role, 0, value.shape) for role, value in values.items()}
    at = {symbol: float(number) for role, value in values.items()
          for symbol, number in zip(symbols[role], value.flat, strict=True)}
    for index in range(values[OUTPUT].size):
        try:
            equation = op.entry_equation(index, symbols)
        except NotImplementedError:
            pytest.fail(f"op {name} lacks entry_equation (the scalar equation of one output entry, for "
                        "`explain`): define it, or symbolic_forward, on the op's class")
        for role in op.backward_roles(count):
            derivatives = [float(sympy.diff(equation, symbol).subs(at)) for symbol in symbols[role]]
            np.testing.assert_allclose(derivatives, op.jacobian(role, values)[index], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name}: entry {index + 1}, d / d {role}")
