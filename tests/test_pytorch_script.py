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
    expected = [*solution.graph.computed,
                *(gradient_name(v) for v in solution.graph.backward_order if gradient_name(v) in solution.quantities),
                *(update.name for update in solution.updates)]
    assert sorted(names) == sorted(expected)
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
    text = script("article", capsys).replace("W1 - 0.01 * W1.grad", "W1 - 0.02 * W1.grad")
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        exec(compile(text, "article.py", "exec"), {"__name__": "__main__"})
    assert exit_.value.code == 1
    assert "✗ W1_updated" in output.getvalue() and "26 of 27 quantities agree" in output.getvalue()


def test_a_frozen_parameter_keeps_its_value_in_the_script(tmp_path, capsys):
    source = tmp_path / "frozen.toml"
    text = resolve("neuron").read_text(encoding="utf-8")
    source.write_text(text.replace("learning_rate = 0.1", 'learning_rate = 0.1\nfrozen = ["W1"]', 1), encoding="utf-8")
    generated = script(str(source), capsys)
    assert "W1_updated = W1.clone()" in generated and "frozen parameters keep their value" in generated
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
    assert [pytorch.identifier(name) for name in ("A1", "torch", "F", "EXPECTED", "lambda")] == [
        "A1", "torch_", "F_", "EXPECTED_", "lambda_"]
