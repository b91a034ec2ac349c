"""The classroom step-through: keys in a real pseudo-terminal, commands from a pipe, the terminal restored."""

import io
import os
import random
import re
import subprocess
import sys
import time

import pexpect
import pytest

from jacobian_bp import load, solve
from jacobian_bp.render import story
from jacobian_bp.render.terminal import keys, step
from jacobian_bp.render.terminal.pages import Options

ROWS, COLUMNS = 40, 100
SMALL = (30, 80)  # the size a resized terminal is given
STEPS = 13  # the article: forward, loss, ten backward pages, update
RIGHT, LEFT, HOME, END = "\x1b[C", "\x1b[D", "\x1b[H", "\x1b[F"
DOWN, PAGE_UP, PAGE_DOWN = "\x1b[B", "\x1b[5~", "\x1b[6~"
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
ESCAPE = "\x1b"
KEY = re.compile(r"\x1b\[[0-9;]*[~A-Z]|\x1bO[A-Z]|.", re.DOTALL)  # one key of what a test types
ROW = re.compile(r"\x1b\[\d+;1H\x1b\[2K")  # each row of a frame is placed, cleared, then written
# dJ/dA3, the second backward page of the article, and the numbers of its result.
DJ_DA3_STEP, DJ_DA3_RESULT = 4, "0.5501"
# How long a test waits for what it expects; all of it comes well within a second.
TIMEOUT = 10
# Starts the step-through under a shell that reports its exit status and the terminal's settings
# afterwards. `noflsh` keeps Ctrl-C from discarding output not yet read, so the test sees all of it.
INTERRUPTIBLE = ('trap : INT; stty noflsh; code=$1; shift; "$0" -c "$code" walkthrough --step "$@"; '
                 'echo "status=$?"; stty -a')
# The command line, saying `started` as it builds its parser: the first thing `cli.main` does where
# it handles Ctrl-C. A Ctrl-C before that lands in Python's own start-up, in numpy's import or on
# the line that calls `main`, out of the program's reach (and may end in a traceback or status 1).
STARTED = ("import sys; from jacobian_bp import cli; build = cli.build_parser; "
           "cli.build_parser = lambda: print('started', flush=True) or build(); sys.exit(cli.main(sys.argv[1:]))")


def moments(seed: int, last: float, count: int = 8) -> list[float]:
    """`count` moments from 0 to `last` seconds after start: 0, then the same random ones on every run."""
    rng = random.Random(seed)
    return [0.0, *sorted(round(rng.uniform(0, last), 3) for _ in range(count - 1))]


def environment(colour: bool = False) -> dict[str, str]:
    """Ours, for an xterm, without COLUMNS and LINES (they would hide the terminal's real size from rich)."""
    env = {name: value for name, value in os.environ.items() if name not in ("NO_COLOR", "COLUMNS", "LINES")}
    return env | ({"TERM": "xterm"} if colour else {"TERM": "xterm", "NO_COLOR": "1"})


def spawn(*arguments: str, rows: int = ROWS, colour: bool = False, columns: int = COLUMNS) -> pexpect.spawn:
    """`walkthrough --step` in a pseudo-terminal of `rows` × `columns` (100 unless told)."""
    child = pexpect.spawn(sys.executable, ["-m", "jacobian_bp", "walkthrough", "--step", *arguments],
                          env=environment(colour), dimensions=(rows, columns), encoding="utf-8", timeout=TIMEOUT)
    child.delaybeforesend = None  # keys are only typed once a frame shows the program is reading them
    return child


def next_frame(child: pexpect.spawn) -> str:
    """The next screen drawn: what comes between the marks that begin and end it."""
    child.expect_exact(step.END_FRAME)
    return child.before.rpartition(step.BEGIN_FRAME)[2]


def size(text: str) -> tuple[int, int]:
    """The rows and columns a frame was drawn for: its number of rows, and the width of its title rule."""
    rows = ROW.split(text)[1:]
    return len(rows), len(COLOUR.sub("", rows[0]))


def frame(child: pexpect.spawn, number: int, rows: int = ROWS) -> str:
    """The next screen drawn, which must show step `number` on `rows` rows."""
    text = next_frame(child)
    assert f"Step {number}/{STEPS} " in text and size(text)[0] == rows
    return text


def press(child: pexpect.spawn, typed: str, number: int, rows: int = ROWS) -> str:
    """Type some keys and return the screen drawn after the last of them (each key draws one)."""
    child.send(typed)
    for _ in KEY.findall(typed)[1:]:
        next_frame(child)
    return frame(child, number, rows)


def quit_with(child: pexpect.spawn, key: str) -> str:
    child.send(key)
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def drawn_at(child: pexpect.spawn, number: int, rows: int, columns: int) -> str:
    """The first screen of step `number` drawn at `rows` × `columns` from now on (other screens are skipped)."""
    while True:
        text = next_frame(child)
        if size(text) == (rows, columns) and f"Step {number}/{STEPS} " in text:
            return text


def start_interruptible(*arguments: str) -> tuple[pexpect.spawn, io.StringIO]:
    """The step-through under `INTERRUPTIBLE`, once started, and the transcript of all it writes."""
    child = pexpect.spawn("sh", ["-c", INTERRUPTIBLE, sys.executable, STARTED, *arguments], env=environment(),
                          dimensions=(ROWS, COLUMNS), encoding="utf-8", timeout=TIMEOUT)
    child.delaybeforesend = None
    child.logfile_read = transcript = io.StringIO()
    child.expect_exact("started")
    return child, transcript


def interrupt(child: pexpect.spawn, transcript: io.StringIO) -> None:
    """Ctrl-C, then check that the program said so, exited 130 and gave the terminal back as it found it."""
    child.sendintr()
    child.expect(r"status=(\d+)\r\n")
    status = child.match.group(1)
    child.expect(pexpect.EOF)
    settings, output = child.before.split(), transcript.getvalue()
    assert status == "130"
    assert "jacobian-bp: interrupted" in output and "Traceback" not in output
    if step.FULL_SCREEN in output:
        assert step.NORMAL_SCREEN in output.rpartition(step.FULL_SCREEN)[2], "the alternate screen was not left"
    assert "icanon" in settings and "echo" in settings, "the terminal was left without line editing or echo"


def test_keys_move_between_steps_and_stay_at_the_ends():
    child = spawn("--no-symbolic")
    first = frame(child, 1)
    assert "Forward pass" in first and size(first) == (ROWS, COLUMNS)
    assert "Loss and cost" in press(child, "n", 2)
    assert "Backward step 1/10 · dJ/dL" in press(child, RIGHT, 3)
    press(child, "b", 2)
    press(child, LEFT, 1)
    assert "Already at the first step" in press(child, "p", 1)
    press(child, " ", 2)
    press(child, "\r", 3)
    assert "Backward step 3/10 · dJ/dZ3" in press(child, "g5\r", 5)
    press(child, HOME, 1)
    assert "SGD update" in press(child, END, STEPS)
    assert "Already at the last step" in press(child, "n", STEPS)
    press(child, "\x1b[1~", 1)  # the other spelling of Home and End
    press(child, "\x1b[4~", STEPS)
    assert "There is no step 99" in press(child, "g99\r", STEPS)
    output = quit_with(child, "q")
    assert child.exitstatus == 0
    assert output.endswith(step.NORMAL_SCREEN), "the alternate screen was not left"


def test_a_lone_escape_quits():
    child = spawn("--no-symbolic")
    frame(child, 1)
    quit_with(child, ESCAPE)
    assert child.exitstatus == 0


@pytest.mark.parametrize("moment", moments(seed=130, last=0.3), ids=lambda moment: f"{moment * 1000:.0f}ms")
def test_ctrl_c_at_any_moment_exits_130_and_gives_the_terminal_back(moment):
    child, transcript = start_interruptible("--no-symbolic")
    time.sleep(moment)  # the moment of the Ctrl-C: during start-up, the first draw, or the wait for a key
    interrupt(child, transcript)


def test_ctrl_c_while_a_slow_step_is_drawn_exits_130_and_gives_the_terminal_back():
    child, transcript = start_interruptible()  # symbolic: step 3 takes a few tenths of a second to lay out
    frame(child, 1)
    child.send("nn")
    frame(child, 2)  # step 3 is drawn next, or is being drawn already
    interrupt(child, transcript)


def test_reveal_hides_the_result_until_r_and_keeps_it_revealed():
    child = spawn("--reveal", "--no-symbolic")
    frame(child, 1)
    hidden = press(child, f"g{DJ_DA3_STEP}\r", DJ_DA3_STEP)
    assert "result hidden" in hidden and "r reveal" in hidden
    assert DJ_DA3_RESULT not in hidden and "gives the row" not in hidden
    shown = press(child, "r", DJ_DA3_STEP)
    assert DJ_DA3_RESULT in shown and "gives the row" in shown and "result hidden" not in shown
    assert "result hidden" in press(child, "n", DJ_DA3_STEP + 1)
    again = press(child, "b", DJ_DA3_STEP)
    assert DJ_DA3_RESULT in again and "result hidden" not in again
    quit_with(child, "q")


def footer(text: str) -> str:
    """The bottom row of a frame, without colour."""
    return COLOUR.sub("", ROW.split(text)[-1])


def test_at_80_by_24_the_legend_keeps_quit_and_help_on_every_step():
    child = spawn("--reveal", rows=24, columns=80)
    for number in range(1, STEPS + 1):
        text = frame(child, number, 24) if number == 1 else press(child, "n", number, 24)
        bottom = footer(text)
        assert "q quit" in bottom and "? help" in bottom, bottom
        assert len(bottom) <= 79 and "…" not in bottom, bottom
        if "result hidden" in text:
            assert "r reveal" in bottom, bottom
    quit_with(child, "q")


def test_r_scrolls_to_the_revealed_result_at_80_by_24():
    child = spawn("--reveal", rows=24, columns=80)
    frame(child, 1, 24)
    press(child, f"g{DJ_DA3_STEP}\r", DJ_DA3_STEP, 24)
    shown = press(child, "r", DJ_DA3_STEP, 24)
    # The whole result is on the screen: the row, the de-vectorized gradient and the check below it.
    assert "gives the row" in shown and DJ_DA3_RESULT in shown and "Shortcut dJ/dA3" in shown
    assert not re.search(r"lines 1-", footer(shown))
    quit_with(child, "q")


def test_e_explains_one_entry_of_the_steps_jacobian_and_any_key_goes_back():
    child = spawn("--no-symbolic")
    frame(child, 1)
    press(child, "g5\r", 5)  # dJ/dZ3: one Jacobian, dA3/dZ3
    prompt = press(child, "e", 5)
    assert "Explain entry" in footer(prompt)
    explained = press(child, "2,2\r", 5)
    assert "Explained: dA3/dZ3[2,2]" in explained and "So dA3/dZ3[2,2] = 0.1902." in explained
    assert "Press any key" in footer(explained)
    back = press(child, " ", 5)
    assert "Explained" not in back and "Chain rule" in back
    several = press(child, "n", 6)  # dJ/db3 and dJ/dW3: the entry must name its Jacobian
    assert "name one" in footer(press(child, "e1,1\r", 6))
    assert "So dZ3/dW3[1,2] = 8." in press(child, "edZ3/dW3[1,2]\r", 6)
    assert "Chain rule" in several and "Chain rule" in press(child, "x", 6)
    quit_with(child, "q")


def test_a_tall_step_scrolls_instead_of_being_cut():
    rows = 20
    child = spawn("--no-symbolic", rows=rows)
    first = frame(child, 1, rows)
    length = int(re.search(r"lines 1-18 of (\d+)", first).group(1))
    assert "A3 = sigmoid(Z3) =" not in first
    assert "lines 2-19 of" in press(child, DOWN, 1, rows)
    assert "lines 3-20 of" in press(child, "j", 1, rows)
    assert "lines 2-19 of" in press(child, "k", 1, rows)
    for _ in range(length // (rows - 3) + 1):
        bottom = press(child, PAGE_DOWN, 1, rows)
    assert f"lines {length - 17}-{length} of {length}" in bottom and "A3 = sigmoid(Z3) =" in bottom
    above = max(1, length - 17 - (rows - 3))  # a page (the view's 18 rows less one) up, or the top
    assert f"lines {above}-{above + 17} of" in press(child, PAGE_UP, 1, rows)
    quit_with(child, "q")


def test_help_and_unknown_keys():
    child = spawn("--no-symbolic")
    frame(child, 1)
    assert "Keys of the step-through" in press(child, "?", 1)
    assert "Keys of the step-through" not in press(child, "x", 1)  # any key leaves the help
    assert "does nothing here" in press(child, "x", 1)
    quit_with(child, "q")


# Up to 500 ms: past the first frame (some 250 ms after start), when a resize used to be missed.
@pytest.mark.parametrize("moment", moments(seed=2026, last=0.5), ids=lambda moment: f"{moment * 1000:.0f}ms")
def test_a_resize_at_any_moment_after_start_is_drawn_at_the_new_size(moment):
    child = spawn("--no-symbolic")
    time.sleep(moment)  # the moment of the resize: before the program has drawn anything, or after
    child.setwinsize(*SMALL)
    drawn_at(child, 1, *SMALL)
    quit_with(child, "q")
    assert child.exitstatus == 0


def test_a_resize_during_a_slow_draw_ends_with_the_step_drawn_at_the_new_size():
    child = spawn()  # symbolic: step 3 takes a few tenths of a second to lay out
    frame(child, 1)
    child.send("nn")
    frame(child, 2)  # step 3 is drawn next at the old size, or is being drawn already
    child.setwinsize(*SMALL)
    drawn_at(child, 3, *SMALL)
    quit_with(child, "q")


def test_colour_unless_no_color():
    coloured = spawn("--no-symbolic", colour=True)
    assert COLOUR.search(frame(coloured, 1))
    quit_with(coloured, "q")
    plain = spawn("--no-symbolic")
    assert not COLOUR.search(frame(plain, 1))
    quit_with(plain, "q")


def run_piped(commands: str, *arguments: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    return subprocess.run([sys.executable, "-m", "jacobian_bp", "walkthrough", "--step", *arguments],
                           input=commands, capture_output=True, text=True, env=env, timeout=120)


def screens(output: str) -> list[str]:
    """The printed screens, each from its `Step k/N` line on."""
    return re.split(r"(?m)^(?=Step \d+/\d+ )", output)[1:]


def titles(output: str) -> list[str]:
    return re.findall(r"(?m)^Step (\d+/\d+ · .*?) ─", output)


def test_piped_commands_reach_the_expected_step():
    result = run_piped("n\nn\ng 7\nb\n", "--no-symbolic")
    assert result.returncode == 0, result.stderr
    assert [title.split(" ")[0] for title in titles(result.stdout)] == ["1/13", "2/13", "3/13", "7/13", "6/13"]
    assert ESCAPE not in result.stdout


def test_empty_stdin_shows_the_first_step_and_exits_0():
    result = run_piped("", "--no-symbolic")
    assert result.returncode == 0 and result.stderr == ""
    assert titles(result.stdout) == ["1/13 · Forward pass"]


def test_quit_stops_reading_and_unknown_commands_are_reported():
    result = run_piped("hello\nn\nq\nn\n", "--no-symbolic")
    assert result.returncode == 0
    assert "Unknown command 'hello'" in result.stdout
    assert len(titles(result.stdout)) == 2


def test_the_article_steps_are_forward_loss_ten_backward_and_update_in_order():
    result = run_piped("n\n" * STEPS, "--no-symbolic")
    expected = ["1/13 · Forward pass", "2/13 · Loss and cost"] + [
        f"{k + 2}/13 · Backward step {k}/10 · {gradients}" for k, gradients in enumerate(
            ["dJ/dL", "dJ/dA3", "dJ/dZ3", "dJ/db3 and dJ/dW3", "dJ/dA2", "dJ/dZ2", "dJ/db2 and dJ/dW2",
             "dJ/dA1", "dJ/dZ1", "dJ/db1 and dJ/dW1"], start=1)] + ["13/13 · SGD update"]
    assert titles(result.stdout) == expected
    assert result.stdout.rstrip().endswith("Already at the last step.")


def test_piped_reveal_shows_each_result_once_asked_and_keeps_it():
    result = run_piped(f"g {DJ_DA3_STEP}\nr\nr\nn\nb\n", "--reveal", "--no-symbolic")
    hidden, shown, following, back = screens(result.stdout)[1:]
    assert "result hidden" in hidden and DJ_DA3_RESULT not in hidden
    assert DJ_DA3_RESULT in shown and "result hidden" not in shown
    assert "already shown" in shown
    assert "result hidden" in following
    assert DJ_DA3_RESULT in back and "result hidden" not in back


def test_piped_explain_names_the_entry_or_says_what_is_missing():
    result = run_piped(f"g {DJ_DA3_STEP}\ne 1,1\ne 5,5\nn\nn\ne 1,1\ne dZ3/db3[2,1]\n", "--no-symbolic")
    assert "So dL/dA3[1,1] = 1.1003." in result.stdout
    assert "dL/dA3 is 2 × 2: expected a row from 1 to 2" in result.stdout
    assert "this page has 2 Jacobians: name one, e.g. dZ3/db3[1,1], dZ3/dW3[1,1]" in result.stdout
    assert "So dZ3/db3[2,1] = 1." in result.stdout
    equations = run_piped(f"g {DJ_DA3_STEP}\ne\n", "--no-symbolic").stdout  # the scalar equations of every row
    assert "Row 2: l₂⁽²⁾ = -y₂₁·log(a[3]₂₁⁽²⁾) - (1 - y₂₁)·log(1 - a[3]₂₁⁽²⁾)" in equations  # the targets as symbols


def test_piped_explain_names_the_entry_as_the_conventions_write_the_jacobian():
    # article_ng: the conventions page first, so dJ/dW2's page (backward step 7) is step 10
    result = run_piped("g 10\ne dZ2/dW2[3,1]\n", "article_ng", "--no-symbolic")
    text = " ".join(result.stdout.split())
    assert "Row 3 is entry 3 of vec(W2), which reads W2 column by column: W2 row 1, column 2" in text
    assert "So dZ2/dW2[3,1] = 2." in text


def test_piped_explain_on_a_later_training_step_reads_that_steps_values():
    # mazur_two_steps with every page of both steps: page 14 is dJ/dA2 of training step 2, whose dL/dA2 differs
    # from the first step's (0.74136507)
    result = run_piped("g 14\ne 1,1\n", "mazur_two_steps", "--all-steps", "--no-symbolic")
    page, explained = screens(result.stdout)[-1].split("Explained:")  # the explanation follows the page it explains
    shown = re.search(r"(?m)^dL/dA2 = \[ (\S+) ", page).group(1)
    assert "Training step 2/2" in page and shown != "0.74136507"
    assert f"So dL/dA2[1,1] = {shown}." in explained


def test_with_reveal_nothing_above_the_hidden_result_gives_it_away():
    hidden, shown = screens(run_piped("g 8\nr\n", "--reveal", "--no-symbolic").stdout)[1:]  # dJ/dZ2, on the kink
    assert "the kink of ReLU" in hidden and "result hidden" in hidden
    assert "dJ/dZ2 row 1, column 1 is" not in hidden and "would change with it" not in hidden
    assert "At the kink (Z2 row 1, column 1), dJ/dZ2 row 1, column 1 is 0." in " ".join(shown.split())


def test_nothing_to_reveal():
    assert "Nothing is hidden on this step" in run_piped("r\n", "--reveal").stdout
    assert "start with --reveal" in run_piped("r\n", "--no-symbolic").stdout


def test_decimals_and_symbolic_options_are_respected():
    symbolic = screens(run_piped(f"g {DJ_DA3_STEP}\n", "--decimals", "6").stdout)[1]
    assert "0.550129" in symbolic and "a[3]₁₁⁽¹⁾" in symbolic
    numeric = screens(run_piped(f"g {DJ_DA3_STEP}\n", "--no-symbolic").stdout)[1]
    assert "0.5501 " in numeric and "a[3]" not in numeric


def test_any_walkthrough_file_works(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text('title = "tiny"\nloss = "binary_cross_entropy"\n[data]\nX = [[1.0]]\nY = [[1.0]]\n'
                    '[[layers]]\nunits = 1\nactivation = "sigmoid"\n', encoding="utf-8")
    result = run_piped("last\n", str(path), "--no-symbolic")
    pages = story.pages(solve(load(str(path))))
    assert result.returncode == 0, result.stderr
    assert titles(result.stdout)[-1] == f"{len(pages)}/{len(pages)} · SGD update"


class FakeTerminal(io.StringIO):
    """Typed lines on a console without termios (as on Windows)."""

    def isatty(self) -> bool:
        return True


def test_without_termios_it_reads_lines_with_a_prompt(monkeypatch, capsys):
    monkeypatch.setattr(keys, "termios", None)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("n\nq\n"))
    solution = solve(load("article"))
    assert step.run(solution, Options(symbolic=False), reveal=False, width=80) == 0
    output = capsys.readouterr().out
    assert "> " in output
    assert titles(output.replace("> ", "\n")) == ["1/13 · Forward pass", "2/13 · Loss and cost"]


@pytest.mark.parametrize("line, expected", [
    ("n", step.Command(step.NEXT)), ("", step.Command(step.NEXT)), ("next", step.Command(step.NEXT)),
    ("b", step.Command(step.BACK)), ("p", step.Command(step.BACK)), ("g 5", step.Command(step.JUMP, 5)),
    ("g12", step.Command(step.JUMP, 12)), ("first", step.Command(step.FIRST)), ("LAST", step.Command(step.LAST)),
    ("r", step.Command(step.REVEAL)), ("?", step.Command(step.HELP)), ("q", step.Command(step.QUIT)),
    ("g", None), ("g x", None), ("go 5", None), ("next please", None)])
def test_parse_line(line, expected):
    assert step.parse_line(line) == expected


def test_presentation_stays_at_the_ends_and_remembers_reveals():
    presentation = step.Presentation(total=3, hiding=True)
    assert presentation.apply(step.Command(step.BACK)) == "Already at the first step."
    assert presentation.apply(step.Command(step.JUMP, 7)).startswith("There is no step 7")
    assert presentation.index == 2
    assert not presentation.shows_results()
    assert presentation.apply(step.Command(step.REVEAL)) is None and presentation.shows_results()
    presentation.apply(step.Command(step.FIRST))
    assert not presentation.shows_results() and presentation.shows_results(2)


@pytest.mark.parametrize("typed, expected", [
    ("\x1b[A", keys.UP), ("\x1b[B", keys.DOWN), ("\x1b[C", keys.RIGHT), ("\x1b[D", keys.LEFT),
    ("\x1bOC", keys.RIGHT), ("\x1b[1;5C", keys.RIGHT), ("\x1b[H", keys.HOME), ("\x1b[1~", keys.HOME),
    ("\x1b[7~", keys.HOME), ("\x1bOH", keys.HOME), ("\x1b[F", keys.END), ("\x1b[4~", keys.END),
    ("\x1b[8~", keys.END), ("\x1b[5~", keys.PAGE_UP), ("\x1b[6~", keys.PAGE_DOWN), ("\x1b", keys.ESCAPE),
    ("\x1bq", keys.ESCAPE), ("\r", keys.ENTER), ("\n", keys.ENTER), ("\x7f", keys.BACKSPACE),
    ("n", "n"), (" ", " "), ("é", "é"),
    ("\x1b[15~n", "n")])  # a function key we have no use for is skipped
def test_read_key(typed, expected):
    reader, writer = os.pipe()
    try:
        os.write(writer, typed.encode("utf-8"))
        assert keys.read_key(reader, timeout=5) == expected
    finally:
        os.close(reader)
        os.close(writer)


def test_read_key_times_out_ends_and_interrupts():
    reader, writer = os.pipe()
    try:
        assert keys.read_key(reader, timeout=0) is None
        os.write(writer, b"\x03")
        with pytest.raises(KeyboardInterrupt):
            keys.read_key(reader, timeout=5)
        os.close(writer)
        assert keys.read_key(reader, timeout=5) == ""
    finally:
        os.close(reader)


def test_a_walkthrough_in_other_conventions_opens_on_its_conventions_page():
    child = spawn("article_ng", "--no-symbolic", rows=120)  # the reading guide comes first on the page
    text = ROW.sub("\n", COLOUR.sub("", next_frame(child)))
    assert f"Step 1/{STEPS + 1} · Conventions" in text and "column by column into a column" in " ".join(text.split())
    child.send(RIGHT)
    assert f"Step 2/{STEPS + 1} · Forward pass" in next_frame(child)
    quit_with(child, "q")
    assert child.exitstatus == 0


def test_training_steps_get_one_page_each_and_a_closing_page_with_the_curve():
    result = run_piped("last\nb\n", "optimizers", "--no-symbolic", "--width", "80")
    assert result.returncode == 0, result.stderr
    assert titles(result.stdout)[1:] == ["15/15 · Cost after training",
                                         "14/15 · Training step 5/5 · Adam update and cost"]
    last, before = screens(result.stdout)[1:]
    assert "0.6326 ┤█" in last and "J_final = 0.4583" in last
    assert "exp_avg_W1@5 =" in before and "J@5 = 0.4861" in before
    everything = run_piped("last\n", "optimizers", "--no-symbolic", "--all-steps")
    # five steps of ten pages each (forward, loss, seven backward headings, update), then the cost
    assert titles(everything.stdout)[-1] == "51/51 · Cost after training"
