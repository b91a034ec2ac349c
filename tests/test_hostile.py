"""Hostile input: every file a reader is given ends in exit 0, 1 or 2, never a traceback or a hang.

The explicit cases run the command line in a child process, with a generous timeout as a hang
detector and its peak memory measured from a small parent. The fuzz test mutates the bundled
walkthroughs and the article's worksheet, blank and filled, and runs `main` in-process; the
environment variable JACOBIAN_BP_FUZZ_EXAMPLES sets how many examples (`make fuzz`: 5000).
"""

import contextlib
import functools
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from jacobian_bp import load, solve
from jacobian_bp.check import quantity_names
from jacobian_bp.cli import main
from jacobian_bp.walkthrough import DEFAULT_MAX_JACOBIAN_MB, bundled_directory, bundled_names

HAND = Path(__file__).resolve().parent / "answers" / "article_hand.toml"
HANG = 20  # seconds: a hang detector on a busy machine, not a speed requirement
PEAK_MB = 100
DEEP = 5000
FUZZ_EXAMPLES = int(os.environ.get("JACOBIAN_BP_FUZZ_EXAMPLES", "100"))


# Runs the command line given as arguments and prints its status (or "hang") and its peak memory in
# KiB. A child's peak counts its parent's size when it was forked: this small parent keeps it honest.
MEASURE = """
import resource, subprocess, sys
try:
    status = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            timeout=float(sys.argv[1])).returncode
except subprocess.TimeoutExpired:
    status = "hang"
print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass(frozen=True)
class Run:
    status: int
    err: str
    peak_mb: float


def cli(*arguments) -> Run:
    """The command line in a child process, with its peak memory; fails if it runs longer than `HANG` seconds."""
    result = subprocess.run([sys.executable, "-c", MEASURE, str(HANG), sys.executable, "-m", "jacobian_bp",
                             *map(str, arguments)], capture_output=True, text=True, check=True)
    status, peak_kib = result.stdout.split()
    if status == "hang":
        pytest.fail(f"{arguments} still running after {HANG} s")
    return Run(int(status), result.stderr, int(peak_kib) / 1024)


def assert_refused(run: Run, *fragments: str):
    """Exit 2 with one line on stderr that names the problem, no traceback, in bounded memory."""
    assert run.status == 2, run
    assert len(run.err.splitlines()) == 1 and "Traceback" not in run.err, run.err
    assert run.peak_mb < PEAK_MB, run
    for fragment in fragments:
        assert fragment in run.err, (fragment, run.err)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def answer_file(folder: Path, walkthrough: str, answers: str = "", name: str = "answers.toml") -> Path:
    return write(folder / name, f"walkthrough = {json.dumps(walkthrough)}\n[answers]\n{answers}")


# Explicit cases --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["[" * DEEP + "]" * DEEP, "{a = " * DEEP + "1" + "}" * DEEP])
def test_deep_nesting_is_refused_before_parsing(tmp_path, value):
    walkthrough = write(tmp_path / "deep.toml", f'title = "deep"\nloss = {value}\n')
    assert_refused(cli("walkthrough", walkthrough), "deep.toml:2:", "nested more than 20 deep")
    answers = answer_file(tmp_path, "article", f'"J" = {value}\n')
    assert_refused(cli("check", answers), "answers.toml:3:", "nested more than 20 deep")
    assert_refused(cli("check", answer_file(tmp_path, "deep.toml", name="for_deep.toml")), "deep.toml:2:")


def test_long_dotted_keys_are_refused_before_parsing(tmp_path):
    for text in (".".join(["a"] * 50_000) + " = 1\n", "[" + ".".join(['"a"'] * 50_000) + "]\n"):
        assert_refused(cli("walkthrough", write(tmp_path / "dotted.toml", text)), "dotted key of more than 20 parts")
    dotted = answer_file(tmp_path, "article", ".".join(["x"] * 50_000) + " = 1\n")
    assert_refused(cli("check", dotted), "answers.toml:3:", "dotted key")


def test_integers_too_long_to_convert(tmp_path):
    walkthrough = write(tmp_path / "digits.toml", 'loss = "mean_squared_error"\nseed = ' + "7" * 5000 + "\n")
    assert_refused(cli("walkthrough", walkthrough), "digits.toml:2:", "more than 4300 digits")
    answers = answer_file(tmp_path, "article", '"J" = ' + "9" * 5000 + "\n")
    assert_refused(cli("check", answers), "answers.toml:3:", "more than 4300 digits")
    hexadecimal = resolve_text("article").replace("decimals = 4", "decimals = 0x" + "f" * 4000)
    assert_refused(cli("walkthrough", write(tmp_path / "hex.toml", hexadecimal)),
                   "decimals: expected a whole number from −2⁶³ to 2⁶³ − 1 (TOML's range), found a number too large")
    units = resolve_text("article").replace("units = 3", "units = 1" + "0" * 200)
    assert_refused(cli("walkthrough", write(tmp_path / "units.toml", units)),
                   "layers[1].units: expected a whole number from −2⁶³ to 2⁶³ − 1 (TOML's range), "
                   "found the number " + "1" + "0" * 39 + "…")


def resolve_text(name: str) -> str:
    return (bundled_directory() / f"{name}.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_only_regular_files_are_read(tmp_path, kind):
    if kind == "fifo":
        path, found = tmp_path / "pipe.toml", "is not a file but a named pipe"
        os.mkfifo(path)
    elif kind == "device":
        path, found = Path("/dev/zero"), "is not a file but a device"
    else:
        path, found = tmp_path, "is not a file but a directory"
    assert_refused(cli("walkthrough", path), f"{path}: {found}")
    # `check FOLDER` grades the class of answer files in it; this folder holds none.
    assert_refused(cli("check", path), f"{path}: no answer files" if kind == "directory" else f"{path}: {found}")
    assert_refused(cli("check", answer_file(tmp_path, str(path), name="answers.txt")), f"{path}: {found}")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "w", encoding="utf-8") as file:
        for _ in range(50):
            file.write("# " + "x" * 999_997 + "\n")
    assert_refused(cli("walkthrough", path), "huge.toml: is larger than the limit of 10 MB")
    assert_refused(cli("check", path), "huge.toml: is larger than the limit of 10 MB")
    assert_refused(cli("check", answer_file(tmp_path, "huge.toml")), "huge.toml: is larger than the limit of 10 MB")


def test_long_keys_and_strings_are_cut_in_messages(tmp_path):
    key = "k" * 10_000
    walkthrough = write(tmp_path / "keys.toml", f"{key} = 1\n")
    run = cli("walkthrough", walkthrough)
    assert_refused(run, "keys.toml:1: " + "k" * 40 + "…: unknown key")
    assert len(run.err) < 300
    run = cli("check", answer_file(tmp_path, "article", f'"{key}" = 1\n'))
    assert_refused(run, "answers.toml:3: answers: unknown quantity '" + "k" * 40 + "…'")
    assert len(run.err) < 300
    run = cli("walkthrough", write(tmp_path / "loss.toml", f'loss = "{key}"\n[data]\nX = [[1]]\nY = [[1]]\n'
                                                            '[[layers]]\nunits = 1\nactivation = "identity"\n'))
    assert_refused(run, "loss: unknown loss '" + "k" * 40 + "…'")
    assert len(run.err) < 300


def test_a_key_with_a_newline_is_still_one_line(tmp_path):
    assert_refused(cli("check", answer_file(tmp_path, "article", '"a\\nb" = 1\n')), r"unknown quantity 'a\nb'")
    assert_refused(cli("walkthrough", write(tmp_path / "newline.toml", '"a\\nb" = 1\n')), r"a\nb: unknown key")


def test_an_unknown_quantity_is_reported_before_solving(tmp_path):
    units = int((DEFAULT_MAX_JACOBIAN_MB * 2**20 / 8) ** 0.5)  # dA1/dZ1 is (units × units): at the limit
    write(tmp_path / "limit.toml", 'loss = "mean_squared_error"\n[data]\nX = [[1.0]]\nY = [[' + ", ".join(
        ["0.5"] * units) + f']]\n[[layers]]\nunits = {units}\nactivation = "identity"\n')
    run = cli("check", answer_file(tmp_path, "limit.toml", '"dJ/dQ" = 1\n'))
    assert_refused(run, "answers.toml:3: answers: unknown quantity 'dJ/dQ'")


@pytest.mark.parametrize("name", bundled_names())
def test_quantity_names_without_solving_are_the_solutions_names(name):
    assert quantity_names(load(name)) == list(solve(load(name)).quantities)


def test_names_too_long_for_a_file_name(tmp_path):
    name = "x" * 300
    assert_refused(cli("walkthrough", name), "no such file, and no bundled walkthrough")
    assert_refused(cli("check", name), "no such file (the name is too long for a file name)")
    assert_refused(cli("check", answer_file(tmp_path, name)),
                   "walkthrough: '" + "x" * 40 + "…' is neither a bundled walkthrough nor a file")


def test_a_byte_order_mark_is_skipped(tmp_path):
    walkthrough = write(tmp_path / "bom.toml", resolve_text("article"), encoding="utf-8-sig")
    assert walkthrough.read_bytes().startswith(b"\xef\xbb\xbf")
    assert cli("walkthrough", walkthrough, "--format", "json").status == 0
    answers = write(tmp_path / "answers.toml", 'walkthrough = "bom.toml"\n[answers]\n"J" = 0.1952\n',
                    encoding="utf-8-sig")
    assert cli("check", answers).status == 0


def test_a_loop_of_symbolic_links(tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    assert_refused(cli("walkthrough", tmp_path / "a.toml"), "a.toml: is a loop of symbolic links")
    assert_refused(cli("check", tmp_path / "a.toml"), "a.toml: is a loop of symbolic links")
    assert_refused(cli("check", answer_file(tmp_path, "a.toml")), "a.toml: is a loop of symbolic links")


def test_a_verdict_survives_a_reader_that_stops_early():
    for form in ("text", "json"):
        command = (f"{sys.executable} -m jacobian_bp check {HAND} --format {form} | head -1; "
                   "exit ${PIPESTATUS[0]}")
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=HANG)
        assert result.returncode == 1 and result.stderr == "", (form, result.stderr)


@pytest.mark.parametrize("arguments, status", [
    (["check", str(HAND)], 1), (["check", str(HAND), "--format", "json"], 1),
    (["walkthrough", "--format", "json"], 0), (["worksheet"], 0)])
def test_a_closed_pipe_keeps_the_verdict(arguments, status):
    """Deterministically what `| head` does at random: standard output is a pipe nobody reads."""
    reader, writer = os.pipe()
    os.close(reader)
    with open(writer, "w", encoding="utf-8") as closed, contextlib.redirect_stdout(closed):
        assert main(arguments) == status


# Fuzz ------------------------------------------------------------------------------------------------

def in_process(arguments: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(arguments)
    return status, out.getvalue(), err.getvalue()


@functools.cache
def seeds() -> dict[str, bytes]:
    """The files the fuzz mutates: the bundled walkthroughs, and the article's worksheet blank and filled in."""
    status, blank, _ = in_process(["worksheet", "article"])
    assert status == 0
    exact = solve(load("article")).quantities
    values = iter(f"{value:.4f}" for name in tomllib.loads(blank)["answers"] for value in np.ravel(exact[name]))
    head, tail = blank.split("[answers]")
    filled = head + "[answers]" + re.sub(r'"\?"', lambda _: next(values), tail)
    files = {path.name: path.read_bytes() for path in sorted(bundled_directory().glob("*.toml"))}
    return files | {"worksheet.answers": blank.encode(), "filled.answers": filled.encode()}


def test_the_fuzz_seeds_are_valid(tmp_path):
    for name, data in seeds().items():
        (tmp_path / name).write_bytes(data)
        command = "check" if name.endswith(".answers") else "walkthrough"
        assert in_process([command, str(tmp_path / name), "--format", "json"])[0] == 0, name


HOSTILE_VALUES = [
    # wrong types and shapes
    '"text"', "true", "[]", "{}", "[[]]", "[[1, 2], [3]]", "[[1], 2]", "[1, [2]]", "{ a = 1 }", "1979-05-27",
    "07:32:00", "'literal'", '"""multi\nline"""', "[[0, 0], [0, 0]]",
    # non-finite, huge and tiny numbers
    "nan", "-nan", "inf", "-inf", "1e308", "-1e309", "5e-324", "[1e-300]", "[[1e308, 1e308]]", "0", "-0.0", "-1",
    "1" + "0" * 200, "1" + "0" * 400, "-" + "9" * 300, "9" * 5000, str(2**63), str(-2**63 - 1), "0x" + "f" * 300,
    "0x" + "f" * 4000,
    # arithmetic, long text, deep nesting
    '"?"', '"1/0"', '"9**9**9"', '"' + "(" * 60 + '"', '"' + "x" * 10_000 + '"', "[" * DEEP + "]" * DEEP,
    "{a = " * 30 + "1" + "}" * 30,
    # walkthroughs an answer file may name
    '"article"', '"xor"', '"/dev/zero"', '"."', '"' + "x" * 300 + '"', '"a\\u0000b"',
]
HOSTILE_KEYS = ["loss", "lose", "units", "W", "b", "X", "Y", "data", "answers", "walkthrough", "decimals", "seed",
                '"dJ/dW2"', '"dJ/dQ"', '"J"', "k" * 10_000, '"a\\nb"', ".".join(["a"] * 30), '"' + "é" * 50 + '"',
                "negative_slope", "title"]
HEADERS = ["[data]", "[[layers]]", "[answers]", "[answers.J]", "[[answers]]", "[data.X]", "[layers]", "[" * 30]
numbers = st.one_of(st.integers(), st.floats()).map(lambda x: repr(x) if isinstance(x, float) else str(x))
values = st.one_of(
    st.sampled_from(HOSTILE_VALUES), numbers, st.text(max_size=20).map(json.dumps),
    st.lists(st.lists(numbers, max_size=4), max_size=4).map(lambda rows: "[" + ", ".join(
        "[" + ", ".join(row) + "]" for row in rows) + "]"))
keys = st.one_of(st.sampled_from(HOSTILE_KEYS), st.text(min_size=1, max_size=12).map(json.dumps))


# The commands that read each kind of seed, with the file's path after the first word.
COMMANDS = {False: (["walkthrough", "--format", "json"], ["walkthrough", "--no-symbolic", "--width", "100"],
                    ["worksheet"]),
            True: (["check", "--format", "json"], ["check", "--width", "100"])}


@st.composite
def mutants(draw) -> tuple[list[str], str, bytes]:
    """A command, and the seed file it reads with one to four mutations: lines deleted, duplicated or
    added, keys renamed, values or single numbers replaced (wrong types, huge, non-finite, deeply
    nested), junk bytes, a cut, a BOM, CRLF line ends."""
    answers = draw(st.booleans())
    command = draw(st.sampled_from(COMMANDS[answers]))
    name = draw(st.sampled_from([name for name in sorted(seeds()) if name.endswith(".answers") == answers]))
    lines = seeds()[name].split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        key, equals, value = lines[i].partition(b"=")
        numbers_here = list(re.finditer(rb"-?[0-9][0-9.e+-]*", value))
        operation = draw(st.sampled_from(["delete", "duplicate", "add", "header", "key", "value", "number",
                                          "number", "junk", "cut", "bom", "crlf"]))
        if operation == "delete":
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "add":
            lines.insert(i, f"{draw(keys)} = {draw(values)}".encode())
        elif operation == "header":
            lines.insert(i, draw(st.sampled_from(HEADERS)).encode())
        elif operation == "key" and equals:
            lines[i] = draw(keys).encode() + b" =" + value
        elif operation == "value" and equals:
            lines[i] = key + b"= " + draw(values).encode()
        elif operation == "number" and numbers_here:
            found = draw(st.sampled_from(numbers_here))
            lines[i] = key + equals + value[:found.start()] + draw(values).encode() + value[found.end():]
        elif operation == "junk":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.binary(min_size=1, max_size=8)) + lines[i][at:]
        elif operation == "cut":
            lines = lines[:i + 1]
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))]
        elif operation == "bom":
            lines[0] = b"\xef\xbb\xbf" + lines[0]
        elif operation == "crlf":
            lines = [line + b"\r" for line in lines]
        if not lines:
            lines = [b""]
    return command, name, b"\n".join(lines)


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(mutant=mutants())
def test_fuzz_mutated_files_end_in_a_verdict_or_one_line(fuzz_folder, mutant):
    command, name, data = mutant
    path = fuzz_folder / name
    path.write_bytes(data)
    status, _, err = in_process([command[0], str(path), *command[1:], "--max-jacobian-mb", "1"])
    event(f"{command[0]}: exit {status} {err.split(': ', 3)[-1][:40]}")  # `make fuzz` shows how often each
    assert status in (0, 1, 2) and "Traceback" not in err
    if status == 2:
        assert len(err.splitlines()) == 1 and err.startswith("jacobian-bp: error: "), err
    else:
        assert err == ""
