"""Trials of the step-through in a real terminal (tmux): a resize, or Ctrl-C, at a random moment after start.

Run with `.venv/bin/python benchmarks/tmux_trials.py [--trials 20] [--within 0.3] [--seed 1]` from the
repository (it runs the checkout it is in, as the `jacobian-bp` command would; tmux must be installed).
Each trial starts `walkthrough --step --no-symbolic` in a 100×40 tmux window and acts at a random
moment within `--within` seconds (the first trial at once):

- resize, counted from the start of the program: the window becomes 80×30; the trial passes when
  tmux shows the first step drawn at 80×30 (title rule 80 wide, scroll legend for 28 lines) within
  10 s, and `q` then exits 0;
- Ctrl-C, counted from the start of the program and, separately, from the start of `cli.main` (a
  Ctrl-C before `main` lands in Python's start-up or imports, which the program cannot handle): the
  trial passes when the program exits 130 and tmux shows the terminal given back (normal screen,
  cursor shown, lines wrapped), with `stty` showing icanon and echo again.

Like startup.py, this is for people to run and read, not a test: it prints each trial and the counts.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = ["tmux", "-L", "jacobian-bp-trials", "-f", "/dev/null"]
ARGUMENTS = ["walkthrough", "--step", "--no-symbolic"]
# What the `jacobian-bp` command runs; the second also opens the fifo `go` as `main` builds its parser.
COMMAND = "import sys; from jacobian_bp.entry import run; sys.exit(run())"
ANNOUNCED = ("import sys; from jacobian_bp import cli; go = sys.argv.pop(1); build = cli.build_parser; "
             "cli.build_parser = lambda: open(go, 'w').close() or build(); sys.exit(cli.main())")
# The shell in the window: it survives the Ctrl-C meant for the program, and records the program's
# exit status, its stderr and the terminal's settings afterwards.
SHELL = ('trap : INT; dir=$1; shift; "$@" 2> "$dir/stderr"; echo $? > "$dir/status.tmp"; '
         'stty -a > "$dir/stty"; mv "$dir/status.tmp" "$dir/status"; exec sleep 600')
WAIT = 10
FULL_SCREEN, END_FRAME = "\x1b[?1049h", "\x1b[?2026l"


def tmux(*arguments: str) -> str:
    return subprocess.run([*SERVER, *arguments], check=True, capture_output=True, text=True).stdout


def until(condition, what: str):
    """Wait (up to WAIT seconds) until `condition()` returns something true, and return it."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise TimeoutError(what)


def start(folder: Path, from_main: bool) -> tuple[str, float]:
    """A new 100×40 window running the program; its pane, and the moment it started (or reached `main`)."""
    go = folder / "go"
    os.mkfifo(go)
    if from_main:
        program = [sys.executable, "-c", ANNOUNCED, str(go), *ARGUMENTS]
    else:  # a shell that opens the fifo, then becomes the program
        program = ["sh", "-c", 'echo > "$0"; exec "$@"', str(go), sys.executable, "-c", COMMAND, *ARGUMENTS]
    pane = tmux("new-window", "-d", "-P", "-F", "#{pane_id}", "-c", os.getcwd(),
                "sh", "-c", SHELL, "sh", str(folder), *program).strip()
    tmux("pipe-pane", "-t", pane, f"cat > '{folder}/output'")
    with open(go) as fifo:  # blocks until the other end opens it
        fifo.read()
    return pane, time.monotonic()


def finished(folder: Path) -> str | None:
    path = folder / "status"
    return path.read_text().strip() if path.exists() else None


def screen(pane: str) -> list[str]:
    return tmux("capture-pane", "-p", "-t", pane).rstrip("\n").split("\n")


def resize_trial(pane: str, folder: Path) -> tuple[bool, str]:
    tmux("resize-window", "-t", pane, "-x", "80", "-y", "30")

    def drawn_small():
        lines = screen(pane)
        return (len(lines) == 30 and lines[0].startswith("Step 1/13") and len(lines[0]) == 80
                and "lines 1-28 of" in lines[-1])

    try:
        until(drawn_small, "no frame at 80×30")
    except TimeoutError as error:
        return False, str(error)
    tmux("send-keys", "-t", pane, "q")
    status = until(lambda: finished(folder), "no exit after q")
    return status == "0", f"redrawn at 80x30, q exits {status}"


def ctrl_c_trial(pane: str, folder: Path) -> tuple[bool, str]:
    tmux("send-keys", "-t", pane, "C-c")
    try:
        status = until(lambda: finished(folder), "no exit after Ctrl-C")
    except TimeoutError as error:
        status = str(error)
    output = (folder / "output").read_text(errors="replace")
    reached = "drawn" if END_FRAME in output else "full screen" if FULL_SCREEN in output else "starting"
    stderr = (folder / "stderr").read_text().strip().splitlines()
    said = f"stderr: {stderr[0]} … {stderr[-1]}" if stderr else "nothing on stderr"
    if not status.isdigit():
        return False, f"{status}; reached: {reached}; {said}"
    flags = tmux("display", "-p", "-t", pane, "#{alternate_on} #{cursor_flag} #{wrap_flag}").split()
    settings = (folder / "stty").read_text().split()
    restored = flags == ["0", "1", "1"] and "icanon" in settings and "echo" in settings
    return status == "130" and restored, (f"exit {status}, alternate/cursor/wrap {'/'.join(flags)}, "
                                          f"icanon+echo {'icanon' in settings and 'echo' in settings}; "
                                          f"reached: {reached}; {said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--within", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    tmux("new-session", "-d", "-s", "trials", "-x", "100", "-y", "40")
    tmux("set", "-g", "default-size", "100x40")
    kinds = [("resize after start", resize_trial, False), ("Ctrl-C after start", ctrl_c_trial, False),
             ("Ctrl-C after main", ctrl_c_trial, True)]
    try:
        for name, trial, from_main in kinds:
            passed = 0
            for number in range(arguments.trials):
                delay = 0.0 if number == 0 else rng.uniform(0, arguments.within)
                with tempfile.TemporaryDirectory() as folder:
                    pane, started = start(Path(folder), from_main)
                    try:
                        time.sleep(max(0.0, started + delay - time.monotonic()))  # the moment to act
                        ok, detail = trial(pane, Path(folder))
                    finally:
                        tmux("kill-window", "-t", pane)
                passed += ok
                print(f"{name} {number + 1:2d} at {delay * 1000:3.0f} ms: {'ok  ' if ok else 'FAIL'} {detail}",
                      flush=True)
            print(f"{name}: {passed} of {arguments.trials} passed\n", flush=True)
    finally:
        tmux("kill-server")


if __name__ == "__main__":
    main()
