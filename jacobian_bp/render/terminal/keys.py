"""Single keypresses from a terminal, and a terminal that is always given back as it was found.

`KeySession` puts the terminal in cbreak mode (keys arrive one by one, unechoed; Ctrl-C still
raises KeyboardInterrupt) and restores it on every way out, also around Ctrl-Z. `read_key` turns
bytes into key names, telling a lone Esc from the escape sequences of arrows, Home, End, PgUp, PgDn.
Where there is no `termios` (Windows), `available()` is false and callers read lines instead.
"""

import os
import select
import signal
import sys

try:
    import termios
    import tty
except ImportError:  # Windows: no termios; the step-through falls back to line input
    termios = tty = None

UP, DOWN, RIGHT, LEFT = "up", "down", "right", "left"
HOME, END, PAGE_UP, PAGE_DOWN = "home", "end", "page_up", "page_down"
ENTER, ESCAPE, BACKSPACE = "enter", "escape", "backspace"
REDRAW = "redraw"  # not a key: the terminal was resized or resumed, so the screen must be drawn again

# An escape sequence arrives in one burst; a lone Esc is followed by silence for longer than this.
ESCAPE_TIMEOUT = 0.05
# How often to look at the terminal's size while no key arrives.
POLL_INTERVAL = 0.2

CSI_FINALS = {"A": UP, "B": DOWN, "C": RIGHT, "D": LEFT, "H": HOME, "F": END}
CSI_TILDES = {"1": HOME, "7": HOME, "4": END, "8": END, "5": PAGE_UP, "6": PAGE_DOWN}
CONTROLS = {"\r": ENTER, "\n": ENTER, "\x7f": BACKSPACE, "\x08": BACKSPACE}


def available() -> bool:
    """Whether single keys can be read here: a POSIX terminal on standard input and output."""
    return termios is not None and sys.stdin.isatty() and sys.stdout.isatty()


def _ready(fd: int, timeout: float | None) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def _read_char(fd: int) -> str:
    """One character: one byte, or the whole of a UTF-8 sequence; '' at end of input."""
    first = os.read(fd, 1)
    if not first:
        return ""
    length = 4 if first[0] >= 0xF0 else 3 if first[0] >= 0xE0 else 2 if first[0] >= 0xC0 else 1
    data = first
    while len(data) < length and _ready(fd, ESCAPE_TIMEOUT):
        data += os.read(fd, 1)
    return data.decode("utf-8", errors="replace")


def _escape_sequence(fd: int) -> str | None:
    """The key after an Esc byte: ESCAPE when no sequence follows, None for sequences we do not use.

    Esc typed quickly before another key (or Alt with a key) counts as Esc; the other key is dropped.
    """
    if not _ready(fd, ESCAPE_TIMEOUT):
        return ESCAPE
    introducer = _read_char(fd)
    if introducer not in ("[", "O"):
        return ESCAPE
    body = ""
    while _ready(fd, ESCAPE_TIMEOUT):
        char = _read_char(fd)
        if not char:
            break
        body += char
        if introducer == "O" or "@" <= char <= "~":
            break
    final, parameters = body[-1:], body[:-1]
    if final == "~":
        return CSI_TILDES.get(parameters.split(";")[0])
    return CSI_FINALS.get(final)


def read_key(fd: int, timeout: float | None = None) -> str | None:
    """The next key from `fd` as a name (UP, HOME, ENTER, …) or the character typed.

    Returns None when `timeout` seconds pass without a key, and "" at end of input. Ctrl-C read as a
    byte (when signals are off) raises KeyboardInterrupt, as it does with signals on. Sequences we
    have no use for (function keys, Alt+letter) are skipped.
    """
    while True:
        if not _ready(fd, timeout):
            return None
        char = _read_char(fd)
        if char == "\x03":
            raise KeyboardInterrupt
        if char != "\x1b":
            return CONTROLS.get(char, char)
        key = _escape_sequence(fd)
        if key is not None:
            return key


class KeySession:
    """Cbreak mode on standard input and a full-screen mode on the output, both always undone.

    `enter` and `leave` are written to the output on the way in and out (e.g. to switch to the
    alternate screen and back); they are also undone and redone around a suspension with Ctrl-Z.
    """

    def __init__(self, output, enter: str = "", leave: str = ""):
        self.fd = sys.stdin.fileno()
        self.output, self.enter, self.leave = output, enter, leave
        self._saved = None
        self._size = None
        self._resumed = False

    def __enter__(self) -> "KeySession":
        self._saved = termios.tcgetattr(self.fd)
        self._previous_handlers = {number: signal.getsignal(number) for number in (signal.SIGTSTP, signal.SIGCONT)}
        signal.signal(signal.SIGTSTP, self._suspend)
        signal.signal(signal.SIGCONT, self._resume)
        self._start()
        return self

    def __exit__(self, *exception) -> None:
        try:
            self._stop()
        finally:
            for number, handler in self._previous_handlers.items():
                signal.signal(number, handler)

    def _start(self) -> None:
        tty.setcbreak(self.fd)
        self.output.write(self.enter)
        self.output.flush()

    def _stop(self) -> None:
        try:
            self.output.write(self.leave)
            self.output.flush()
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _suspend(self, number, frame) -> None:
        """Ctrl-Z: give the terminal back as it was, then stop for real."""
        self._stop()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)

    def _resume(self, number, frame) -> None:
        signal.signal(signal.SIGTSTP, self._suspend)
        self._start()
        self._resumed = True

    def read(self) -> str:
        """The next key; REDRAW when the terminal changed size or came back from Ctrl-Z."""
        while True:
            key = read_key(self.fd, POLL_INTERVAL)
            if key == "":
                raise EOFError("the terminal closed")
            if key is not None:
                return key
            size = os.get_terminal_size(self.output.fileno())
            changed, self._size = self._size is not None and size != self._size, size
            if self._resumed or changed:
                self._resumed = False
                return REDRAW
