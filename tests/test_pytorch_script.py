"""`walkthrough --format pytorch`: the generated script, run with the venv's python, agrees on every quantity.

Every op knows its PyTorch expression (`Op.torch_expression`); a new op without one fails a test of
tests/test_registry.py by name, and the command refuses it with one line instead of writing a script
that crashes.
"""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from jacobian_bp import load, solve
from jacobian_bp.chain import gradient_name
from jacobian_bp.cli import main
from jacobian_bp.render import pytorch
from jacobian_bp.walkthrough import resolve
from tests.strategies import graphs, written_out_names

torch = pytest.importorskip("torch")

def script(source: str, capsys, *options) -> str:
    assert main(["walkthrough", source, "--format", "pytorch", *options]) == 0
    return capsys.readouterr().out


def quantity_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line[:2] in ("✓ ", "✗ ")]


# Runs each script as `python FILE` would (as __main__, from its file), all in one interpreter: torch loads once.
DRIVER = """
import runpy, sys
for path in sys.argv[1:]:
    print("@@@ script " + path)
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_:
        print("@@@ exit", exit_.code)
"""


@pytest.fixture(scope="module")
def bundled_runs(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """Each bundled walkthrough's script, written to a file and run with the venv's python: its exit and output."""
    folder = tmp_path_factory.mktemp("scripts")
    paths = []
    for name in written_out_names():
        paths.append(folder / f"{name}.py")
        paths[-1].write_text(pytorch.render(solve(load(name)), 4), encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", DRIVER, *map(str, paths)], capture_output=True, text=True,
                         encoding="utf-8", check=False)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    runs = {}
    for block in run.stdout.split("@@@ script ")[1:]:
        path, _, rest = block.partition("\n")
        output, _, status = rest.rpartition("@@@ exit ")
        runs[Path(path).stem] = (status.strip(), output)
    return runs


@pytest.mark.parametrize("name", written_out_names())
def test_the_script_of_every_bundled_walkthrough_agrees_on_every_quantity(name, bundled_runs):
    status, output = bundled_runs[name]
    assert status == "0", output
    solution = solve(load(name))
    lines = quantity_lines(output)
    names = [line.split()[1] for line in lines]
    gradients = [gradient_name(v) for v in solution.graph.backward_order if gradient_name(v) in solution.quantities]
    expected = [*(name + training.suffix for training in solution.training
                  for name in [*solution.graph.computed, *gradients]),
                *(update.name for training in solution.training for update in training.updates), "J_final"]
    assert sorted(names) == sorted(expected)  # every training step's quantities, then J_final
    assert all(line.startswith("✓ ") for line in lines), output
    assert output.splitlines()[-1] == f"{len(lines)} of {len(lines)} quantities agree with jacobian-bp."


def test_the_article_script_prints_the_articles_numbers(capsys):
    text = script("article", capsys)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(text, "article.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 0
    printed = output.getvalue()
    assert "✓ J           PyTorch [[0.1952]]   jacobian-bp [[0.1952]]" in printed
    assert "✓ dJ/dW3      PyTorch [[-1.0216, -0.9253]]" in printed
    assert "✓ dJ/dZ2      PyTorch [[0.0000, -0.0137], [-0.0639, 0.0383]]" in printed
    assert "✓ b1_updated  PyTorch [[1.0001, -1.9994, 0.3000]]" in printed
    assert "Z1 = X @ W1.T + b1" in text and "A1 = torch.relu(Z1)" in text and "J.backward()" in text


def test_a_script_that_disagrees_says_so_and_fails(capsys):
    text = script("article", capsys).replace("W1 -= 0.01 * W1.grad", "W1 -= 0.02 * W1.grad")
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(text, "article.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 1
    assert "✗ W1_updated" in output.getvalue() and "✗ J_final" in output.getvalue()
    assert "26 of 28 quantities agree" in output.getvalue()


def test_a_frozen_parameter_keeps_its_value_in_the_script(tmp_path, capsys):
    source = tmp_path / "frozen.toml"
    text = resolve("neuron").read_text(encoding="utf-8")
    source.write_text(text.replace("learning_rate = 0.1", 'learning_rate = 0.1\nfrozen = ["W1"]', 1), encoding="utf-8")
    generated = script(str(source), capsys)
    assert "# W1 is frozen: it keeps its value" in generated and "W1 -=" not in generated
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(generated, "frozen.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 0, output.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(walkthrough=graphs())
def test_the_script_of_a_random_graph_agrees_on_every_quantity(walkthrough):
    text = pytorch.render(solve(walkthrough), 4)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(text, "random.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 0, output.getvalue()


def test_an_op_without_a_pytorch_expression_is_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.delattr(type(load("article").graph.producers["A1"].op), "torch_expression")
    status = main(["walkthrough", "article", "--format", "pytorch"])
    err = capsys.readouterr().err
    assert status == 2 and "the op 'relu' (node A1) has no PyTorch form yet" in err


def test_a_title_of_any_text_stays_a_comment(tmp_path, capsys):
    source = tmp_path / "odd.toml"
    text = resolve("neuron").read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title"))
    source.write_text(text.replace(title, 'title = """quotes \\"\\"\\" and\na second line"""'), encoding="utf-8")
    generated = script(str(source), capsys)
    assert '# quotes """ and a second line' in generated
    compile(generated, "odd.py", "exec")


def test_variable_names_that_are_python_keywords_or_the_scripts_own_are_renamed():
    names = ("A1", "torch", "F", "EXPECTED", "lambda", "lambda_", "F_", "max", "print", "len", "str", "a-b")
    python = pytorch.identifiers(names)
    assert [python[name] for name in names[:5]] == ["A1", "torch_", "F__", "EXPECTED_", "lambda__"]
    assert python["lambda_"] == "lambda_" and python["F_"] == "F_" and python["max"] == "max_"
    assert len(set(python.values())) == len(names) and all(name.isidentifier() for name in python.values())


COLLIDING = """loss = "mean_squared_error"
[data]
X = [[1.0, 2.0], [0.5, -1.0]]
Y = [[1.0], [0.0]]
[[nodes]]
name = "lambda"
op = "dense"
input = "X"
units = 2
W = [[0.5, -1.0], [1.0, 0.25]]
b = [0.1, -0.2]
[[nodes]]
name = "lambda_"
op = "tanh"
input = "lambda"
[[nodes]]
name = "print"
op = "sigmoid"
input = "lambda_"
[[nodes]]
name = "len"
op = "relu"
input = "print"
[[nodes]]
name = "F"
op = "dense"
input = "len"
units = 1
parameters = ["max", "str"]
"""


def test_names_that_collide_or_shadow_builtins_get_their_own_python_names(tmp_path, capsys):
    """lambda and lambda_ both became lambda_ (19 of 21 agreed); print, len, max, str shadowed the builtins the
    script calls (TypeError)."""
    source = tmp_path / "names.toml"
    source.write_text(COLLIDING, encoding="utf-8")
    path = tmp_path / "names.py"
    path.write_text(script(str(source), capsys), encoding="utf-8")
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, encoding="utf-8", check=False)
    assert run.returncode == 0 and run.stderr == "", run.stdout + run.stderr
    assert "✗" not in run.stdout and f"of {len(quantity_lines(run.stdout))} quantities agree" in run.stdout


def test_a_saturated_softmax_under_cross_entropy_has_no_nan(tmp_path, capsys):
    """A class with target 0 whose probability underflows to 0: 0 · log 0 is 0 (torch.xlogy), not NaN."""
    source = tmp_path / "saturated.toml"
    source.write_text('loss = "cross_entropy"\n[data]\nX = [[1.0]]\nY = [[1.0, 0.0]]\n[[layers]]\nunits = 2\n'
                      'activation = "softmax"\nW = [[400.0], [-400.0]]\nb = [0.0, 0.0]\n', encoding="utf-8")
    path = tmp_path / "saturated.py"
    path.write_text(script(str(source), capsys), encoding="utf-8")
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, encoding="utf-8", check=False)
    assert run.returncode == 0 and "nan" not in run.stdout.lower(), run.stdout


def test_the_script_of_several_training_steps_checks_every_step(tmp_path):
    """mazur_two_steps: both steps' gradients and updates, and the cost after the second, each compared."""
    text = pytorch.render(solve(load("mazur_two_steps")), 9)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(text, "mazur_two_steps.py", "exec"), {"__name__": "__main__"})
    printed = output.getvalue()
    assert exit_.value.code == 0, printed
    assert "✓ W2_updated@2" in printed and "✓ dJ/dW1@2" in printed and "✓ J@2" in printed
    assert "✓ J_final" in printed and "STEPS = 2" in text


@pytest.mark.parametrize("first", [
    'name = "A"\nop = "relu"\ninput = "X"',
    'name = "A"\nop = "max_pool2d"\ninput = "X"\nin_shape = [1, 2, 2]\nkernel_size = 2',
])
def test_a_node_without_parameters_on_the_data_gets_its_gradient_in_the_script(first, tmp_path, capsys):
    """A node that reads X directly and has no parameters: autograd must still follow it (X records its gradient)."""
    source = tmp_path / "on_the_data.toml"
    source.write_text(f'''title = "On the data"
loss = "mean_squared_error"
[data]
X = [[1.0, -2.0, 0.5, 3.0], [0.5, -1.0, 2.0, -0.5]]
Y = [[1.0], [0.0]]
[[nodes]]
{first}
[[nodes]]
name = "Z"
op = "dense"
input = "A"
units = 1
''', encoding="utf-8")
    generated = script(str(source), capsys)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(generated, "on_the_data.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 0, output.getvalue()
    assert "✓ dJ/dA " in output.getvalue()
