"""Single keypresses from a terminal, and a terminal that is always given back as it was found.

`KeySession` puts the terminal in cbreak mode (keys arrive one by one, unechoed) and restores it on
every way out, also around Ctrl-Z and whenever Ctrl-C is pressed; its `read` draws the screen, draws
it again when the terminal is resized, and waits for a key. `read_key` turns bytes into key names,
telling a lone Esc from the escape sequences of arrows, Home, End, PgUp, PgDn. Where there is no
`termios` (Windows), `available()` is false and callers read lines instead.
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

# An escape sequence arrives in one burst; a lone Esc is followed by silence for longer than this.
ESCAPE_TIMEOUT = 0.05

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
    Ctrl-C raises KeyboardInterrupt at once while `read` draws; at any other moment it is only noted,
    and raised by the next `read` or after the terminal is given back, so that it can never cut short
    the setting up or the giving back. Signals wake `read` through a pipe (`signal.set_wakeup_fd`),
    which is written whichever thread the signal lands on.
    """

    def __init__(self, output, enter: str = "", leave: str = ""):
        self.fd = sys.stdin.fileno()
        self.output, self.enter, self.leave = output, enter, leave
        self._stale = False  # the screen is not as the terminal now needs: it was resized or resumed
        self._interrupted = False  # Ctrl-C was pressed
        self._drawing = False  # Ctrl-C may raise at once

    def __enter__(self) -> "KeySession":
        self._saved = termios.tcgetattr(self.fd)
        # SIGINT first: once it is ours, nothing here can be interrupted halfway.
        handlers = {signal.SIGINT: self._interrupt, signal.SIGWINCH: self._resized,
                    signal.SIGTSTP: self._suspend, signal.SIGCONT: self._resume}
        self._previous_handlers = {number: signal.signal(number, handler) for number, handler in handlers.items()}
        self._wake_reader, self._wake_writer = os.pipe()
        os.set_blocking(self._wake_writer, False)
        self._previous_wakeup = signal.set_wakeup_fd(self._wake_writer, warn_on_full_buffer=False)
        self._start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        """Give the terminal back; a Ctrl-C noted but not yet raised is raised once that is done."""
        previous = self._previous_handlers
        for number in (signal.SIGWINCH, signal.SIGTSTP, signal.SIGCONT):  # nothing may draw or re-enter now
            signal.signal(number, previous[number])
        try:
            self._stop()
        finally:
            signal.set_wakeup_fd(self._previous_wakeup)
            os.close(self._wake_reader)
            os.close(self._wake_writer)
            signal.signal(signal.SIGINT, previous[signal.SIGINT])
        if self._interrupted and kind is None:
            raise KeyboardInterrupt

    def _start(self) -> None:
        tty.setcbreak(self.fd, termios.TCSANOW)  # not TCSAFLUSH: it could drop a Ctrl-C typed at that instant
        self.output.write(self.enter)
        self.output.flush()

    def _stop(self) -> None:
        try:
            self.output.write(self.leave)
            self.output.flush()
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _interrupt(self, number, frame) -> None:
        """Ctrl-C: raise KeyboardInterrupt if a draw is under way; otherwise note it, to be raised safely."""
        self._interrupted = True
        if self._drawing:
            self._drawing = False
            raise KeyboardInterrupt

    def _resized(self, number, frame) -> None:
        """SIGWINCH: the screen was laid out for another size."""
        self._stale = True

    def _suspend(self, number, frame) -> None:
        """Ctrl-Z: give the terminal back as it was, then stop for real."""
        self._stop()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)

    def _resume(self, number, frame) -> None:
        signal.signal(signal.SIGTSTP, self._suspend)
        self._start()
        self._stale = True

    def read(self, draw) -> str:
        """Draw the screen with `draw()`, then return the next key; EOFError when the terminal closes.

        Whenever the terminal is resized or resumed after Ctrl-Z, while drawing or waiting, the screen
        is drawn again: the flag is cleared before `draw` looks at the terminal's size, so no resize
        is missed, and the signal wakes the wait.
        """
        self._stale = True
        while True:
            if self._interrupted:
                raise KeyboardInterrupt
            if self._stale:
                self._stale = False
                self._draw(draw)
                continue
            ready = select.select([self.fd, self._wake_reader], [], [])[0]
            if self._wake_reader in ready:
                os.read(self._wake_reader, 512)  # a signal came: its handler has set the flags looked at above
                continue
            key = read_key(self.fd, 0)
            if key == "":
                raise EOFError("the terminal closed")
            if key is not None:
                return key

    def _draw(self, draw) -> None:
        """`draw()`, during which Ctrl-C raises at once: quitting must not wait for a slow page."""
        self._drawing = True
        try:
            if self._interrupted:
                raise KeyboardInterrupt
            draw()
        finally:
            self._drawing = False
