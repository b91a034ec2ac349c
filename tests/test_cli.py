"""The command line in-process: exit codes, one-line errors, JSON names and values, help."""

import json
import os
import signal
import subprocess
import sys

import pytest

from jacobian_bp import __version__, load, solve
from jacobian_bp.cli import main

ARTICLE = solve(load("article"))


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, *fragments: str):
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_json_has_every_named_quantity_at_full_precision(capsys):
    status, out, _ = run(capsys, "walkthrough", "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert document["title"] == ARTICLE.walkthrough.title
    quantities = document["quantities"]
    assert list(quantities) == list(ARTICLE.quantities)
    assert quantities["J"] == ARTICLE.quantities["J"]
    assert quantities["dJ/dL"] == [[0.5], [0.5]]
    assert quantities["b1"] == [[1.0, -2.0, 0.3]]
    assert quantities["dJ/db3"] == ARTICLE.quantities["dJ/db3"].tolist()
    assert quantities["dL/dA3"] == ARTICLE.quantities["dL/dA3"].tolist()
    assert quantities["dZ3/dA2"][0][3] == 0.0 and str(quantities["dZ3/dA2"][0][3]) == "0.0"  # no -0.0


def test_json_steps(capsys):
    steps = json.loads(run(capsys, "walkthrough", "--format", "json")[1])["steps"]
    assert [step["gradient"] for step in steps] == [step.gradient for step in ARTICLE.steps]
    first = next(step for step in steps if step["number"] == 1)
    assert {key: first[key] for key in ("gradient", "upstream", "jacobian")} == {
        "gradient": "dJ/dA3", "upstream": "dJ/dL", "jacobian": "dL/dA3"}
    assert first["upstream_row"] == [0.5, 0.5]
    assert [round(v, 4) for v in first["product_row"]] == [0.5501, -0.6715]
    assert [[round(v, 4) for v in row] for row in first["result"]] == [[0.5501], [-0.6715]]
    kinked = next(step for step in steps if step["kinks"])
    assert kinked["gradient"] == "dJ/dZ2" and kinked["kinks"][0]["position"] == [0, 0]


def test_text_is_the_default(capsys):
    status, out, _ = run(capsys, "walkthrough", "--width", "80", "--no-symbolic")
    assert status == 0
    assert out.startswith("Article example") and "Backward step 10/10 · dJ/db1 and dJ/dW1" in out
    assert "SGD update" in out


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "jacobian-bp walkthrough --format json" in out
    with pytest.raises(SystemExit):
        main(["walkthrough", "--help"])
    out = capsys.readouterr().out
    assert "--no-symbolic" in out and "--decimals N" in out and "examples:" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"jacobian-bp {__version__}"


@pytest.mark.parametrize("arguments, fragments", [
    ([], ["required"]),
    (["walkthrugh"], ["invalid choice", "walkthrugh"]),
    (["walkthrough", "--format", "xml"], ["--format", "xml"]),
    (["walkthrough", "--decimals", "many"], ["--decimals", "whole number"]),
    (["walkthrough", "--decimals", "40"], ["--decimals", "1 to 12"]),
    (["walkthrough", "--width", "10"], ["--width", "at least 40"]),
    (["walkthrough", "artcle"], ["artcle", "no such file", "did you mean 'article'"]),
])
def test_usage_errors_are_one_line_with_exit_2(capsys, arguments, fragments):
    status, _, err = run(capsys, *arguments)
    assert_one_line_error(status, err, *fragments)


def test_bad_toml_names_file_and_line(capsys, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('title = "x"\nloss = \n', encoding="utf-8")
    status, _, err = run(capsys, "walkthrough", str(path))
    assert_one_line_error(status, err, f"{path}:2", "not valid TOML")


def test_a_directory_is_not_a_walkthrough(capsys, tmp_path):
    status, _, err = run(capsys, "walkthrough", str(tmp_path))
    assert_one_line_error(status, err, "is not a file")


# What a start of `walkthrough --format json` never needs: sympy and rich, and the modules that only some
# commands or messages use (numpy's random generator, the worksheet, fractions, difflib, shutil, which argparse
# imports to find the terminal's width, pathlib, which a bundled walkthrough is found without, and decimal,
# which only rounds numbers for people).
NOT_AT_START = ("sympy", "rich", "numpy.random", "jacobian_bp.worksheet", "jacobian_bp.render.story", "fractions",
                "difflib", "shutil", "pathlib", "decimal")


def test_json_imports_nothing_it_does_not_need():
    program = (
        "import io, sys, contextlib\n"
        "from jacobian_bp.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['walkthrough', '--format', 'json'])\n"
        f"print(status, sorted(m for m in {NOT_AT_START!r} if m in sys.modules or any(\n"
        "    n.startswith(m + '.') for n in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "0 []"


@pytest.mark.parametrize("columns", [50, 200])
def test_help_wraps_at_the_width_of_the_terminal(columns):
    result = subprocess.run([sys.executable, "-m", "jacobian_bp", "walkthrough", "--help"], capture_output=True,
                            text=True, check=True, env={**os.environ, "COLUMNS": str(columns)})
    options = result.stdout.split("\noptions:\n")[1].split("\n\n")[0].splitlines()  # wrapped; the examples are not
    widest = max(len(line) for line in options if "{" not in line)  # a list of choices is never broken
    assert columns - 15 <= widest <= columns - 2


def test_the_garbage_collector_waits_for_the_modules_to_load_and_then_works():
    """No collection goes through the objects of the imports while they are made; once they are set aside, the
    collector is on again for the run (the step-through runs for as long as a lesson)."""
    program = (
        "import contextlib, gc, io, sys\n"
        "from jacobian_bp import entry\n"
        "loading = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and loading.append(\n"
        "    not hasattr(sys.modules.get('jacobian_bp.cli'), 'main')))\n"
        "sys.argv = ['jacobian-bp', 'walkthrough', '--format', 'json']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = entry.run()\n"
        "print(status, gc.isenabled(), any(loading), gc.get_freeze_count() > 1000)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "True", "False", "True"]


def test_the_collector_rests_while_a_walkthrough_is_drawn_and_works_again_after(monkeypatch, capsys):
    """Drawing a walkthrough makes no garbage in cycles for the collector to find (so that it may rest meanwhile),
    and the collector works again once the walkthrough is out."""
    import gc
    import io

    from jacobian_bp import load, solve
    from jacobian_bp.render.terminal import pages
    from jacobian_bp.render.terminal.widgets import make_console

    drawing = pages.render_walkthrough
    resting = []
    monkeypatch.setattr(pages, "render_walkthrough", lambda *arguments: (resting.append(not gc.isenabled()),
                                                                         drawing(*arguments)))
    assert main(["walkthrough", "article", "--width", "80"]) == 0 and resting == [True] and gc.isenabled()
    solution = solve(load("xor"))
    drawing(solution, make_console(80, file=io.StringIO()), pages.Options())  # what is drawn once is kept
    gc.collect()
    gc.disable()
    try:
        drawing(solution, make_console(80, file=io.StringIO()), pages.Options())
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "jacobian_bp", "walkthrough", "--format", "json"],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["quantities"]["J"] == pytest.approx(0.19522886, abs=1e-8)


def test_numbers_too_large_for_floating_point_are_refused(capsys, tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text('loss = "mean_squared_error"\n[data]\nX = [[1.0, 1.0]]\nY = [[0.5]]\n[[layers]]\nunits = 1\n'
                    'activation = "identity"\nW = [[1e308, 1e308]]\nb = [0]\n', encoding="utf-8")
    status, out, err = run(capsys, "walkthrough", str(path), "--format", "json")
    assert_one_line_error(status, err, "Z1 overflows")
    assert out == "" and "RuntimeWarning" not in err


def test_json_is_strict_and_keeps_each_matrix_on_one_line(capsys):
    out = run(capsys, "walkthrough", "--format", "json")[1]
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert '  "Z1": [[4.0, 2.0, -7.8], [6.0, 9.0, -16.0]],' in out.splitlines()


def test_a_reader_that_stops_early_is_not_an_error():
    for arguments in (["walkthrough", "--no-symbolic"], ["walkthrough", "--format", "json"]):
        command = f"{sys.executable} -m jacobian_bp {' '.join(arguments)} | head -1; exit ${{PIPESTATUS[0]}}"
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
        assert result.returncode == 0 and result.stderr == "", (arguments, result.stderr)


def test_escape_backslashes_belongs_to_markdown(capsys):
    status, _, err = run(capsys, "walkthrough", "--format", "json", "--escape-backslashes")
    assert_one_line_error(status, err, "--escape-backslashes is for --format markdown, not json")


def test_a_pipe_that_cannot_take_unicode_gets_valid_output():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    command = [sys.executable, "-m", "jacobian_bp"]
    document = subprocess.run([*command, "walkthrough", "softmax", "--format", "json"], env=env, capture_output=True,
                              check=True).stdout
    assert json.loads(document)["steps"][2]["shortcut"] == "A2 ⊙ (dJ/dA2 − rowsum(dJ/dA2 ⊙ A2))"
    for arguments in (["worksheet"], ["walkthrough", "neuron", "--width", "40"]):
        result = subprocess.run([*command, *arguments], env=env, capture_output=True)
        assert result.returncode == 0 and b"Traceback" not in result.stderr, arguments
        result.stdout.decode("ascii")


def test_dash_as_output_is_standard_output(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["walkthrough", "--format", "markdown", "-o", "-", "--no-symbolic"]) == 0
    assert capsys.readouterr().out.startswith("---\ntitle:") and not (tmp_path / "-").exists()


class _InterruptedImport:
    """A module finder that behaves as if Ctrl-C came while `jacobian_bp.cli` (numpy and all) was imported: the
    KeyboardInterrupt itself, numpy's ImportError raised from it, or (`lost`) a real SIGINT that a C extension
    turned into an ImportError that no longer carries it (numpy failing to import `datetime`)."""

    def __init__(self, style: str):
        self.style = style

    def find_spec(self, name, path=None, target=None):
        if name != "jacobian_bp.cli":
            return None
        if self.style == "interrupt":
            raise KeyboardInterrupt
        if self.style == "numpy":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise ImportError("numpy: the C extensions failed to import") from None
        lost = False
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            lost = True
        if lost:  # raised outside the handler: nothing chains it to the interrupt
            raise ImportError('PyCapsule_Import could not import module "datetime"')


@pytest.mark.parametrize("style", ["interrupt", "numpy", "lost"])
def test_ctrl_c_while_the_program_loads_is_one_line_and_130(monkeypatch, capsys, style):
    from jacobian_bp import entry

    monkeypatch.delitem(sys.modules, "jacobian_bp.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(style), *sys.meta_path])
    handler = signal.getsignal(signal.SIGINT)
    assert entry.run() == 130
    assert capsys.readouterr().err == "jacobian-bp: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is handler  # the program's own handler is gone again
