"""The classroom step-through: the walkthrough one page at a time, forward and back, results on cue.

The steps are the pages of `story.pages` (forward pass, loss and cost, each backward heading, the
update), each laid out by `pages.page_renderable` exactly as in the full walkthrough. With a terminal
on both ends it is a full-screen presentation driven by single keys (`keys`); otherwise it reads the
same commands one per line and prints each screen as text, so that it never waits for a terminal.
"""

import sys
from dataclasses import dataclass, field

from rich.console import Group
from rich.text import Text

from ...explain import ExplainError, explain
from .. import layout, story
from . import keys
from .pages import BLANK, Options, guide_renderable, introduction, page_renderable
from .widgets import NOTE_STYLE, Heading, Prose, Stack, make_console

NEXT, BACK, FIRST, LAST, JUMP, REVEAL, HELP, QUIT = "next", "back", "first", "last", "jump", "reveal", "help", "quit"
EXPLAIN = "explain"

LINE_WORDS = {"": NEXT, "n": NEXT, "next": NEXT, "b": BACK, "p": BACK, "back": BACK, "first": FIRST,
              "last": LAST, "r": REVEAL, "reveal": REVEAL, "?": HELP, "help": HELP, "q": QUIT, "quit": QUIT}
KEY_COMMANDS = {keys.RIGHT: NEXT, "n": NEXT, " ": NEXT, keys.ENTER: NEXT, keys.LEFT: BACK, "p": BACK, "b": BACK,
                keys.HOME: FIRST, keys.END: LAST, "r": REVEAL, "?": HELP, "q": QUIT, keys.ESCAPE: QUIT}
SCROLL_KEYS = {keys.UP: -1, "k": -1, keys.DOWN: 1, "j": 1}
PAGE_KEYS = {keys.PAGE_UP: -1, keys.PAGE_DOWN: 1}

# Each entry: the keys, the same keys for terminals without Unicode, and what they do.
KEY_HELP = [("→  n  space  Enter", "Right  n  space  Enter", "next step"),
            ("←  p  b", "Left  p  b", "previous step"),
            ("g, a number, Enter", "g, a number, Enter", "go to that step"),
            ("Home  End", "Home  End", "first step, last step"),
            ("↑ ↓  j k  PgUp PgDn", "Up Down  j k  PgUp PgDn", "scroll a step that is taller than the screen"),
            ("r", "r", "reveal the hidden result (when started with --reveal)"),
            ("e, an entry, Enter", "e, an entry, Enter",
             "explain one Jacobian entry: e 3,4 (or e dZ3/dW3[1,2]); e Enter: the equations of its rows"),
            ("?", "?", "this help"),
            ("q  Esc  Ctrl-C", "q  Esc  Ctrl-C", "quit")]
LINE_HELP = [("n, next or an empty line", "next step"),
             ("b, p or back", "previous step"),
             ("g N", "go to step N"),
             ("first, last", "first step, last step"),
             ("r", "reveal the hidden result (when started with --reveal)"),
             ("e ROW,COLUMN", "explain one entry of the step's Jacobian (e dZ3/dW3[1,2] on a page of several; "
                              "e alone: the scalar equations of its rows)"),
             ("?", "this help"),
             ("q", "quit (so does the end of input)")]
LINE_LEGEND = "Commands: n next, b back, g N jump, first, last, {reveal}e R,C explain, ? help, q quit"

# Each screen is drawn as one synchronized update (DEC mode 2026): terminals that know it show it
# whole, never half drawn, and the others ignore it. Its end also tells a test that a frame is complete.
BEGIN_FRAME, END_FRAME = "\x1b[?2026h", "\x1b[?2026l"
# Full screen: the alternate screen, no cursor, and no line wrapping (so a --width wider than the
# terminal crops lines instead of scrambling the screen); undone in reverse order, after ending any
# frame that Ctrl-C cut short.
FULL_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[?7l"
NORMAL_SCREEN = END_FRAME + "\x1b[?7h\x1b[?25h\x1b[?1049l"


@dataclass(frozen=True)
class Command:
    """What the user asked for: `action` is one of NEXT … EXPLAIN; `number` is the step to JUMP to, `entry`
    the Jacobian entry to EXPLAIN."""

    action: str
    number: int | None = None
    entry: str = ""


def parse_line(line: str) -> Command | None:
    """The command typed on one line of input, or None when it is not one.

    >>> parse_line("g 5")
    Command(action='jump', number=5, entry='')
    >>> parse_line(" n ")
    Command(action='next', number=None, entry='')
    >>> parse_line("go") is None
    True
    >>> parse_line("e dZ3/dW3[1,2]")
    Command(action='explain', number=None, entry='dZ3/dW3[1,2]')
    """
    words = line.strip().lower().split()
    text = " ".join(words)
    if text in LINE_WORDS:
        return Command(LINE_WORDS[text])
    if words and words[0] == "e":
        return Command(EXPLAIN, entry=line.strip()[1:].strip())
    number = text[1:].strip()
    if text.startswith("g") and number.isdigit():
        return Command(JUMP, int(number))
    return None


@dataclass
class Presentation:
    """Which step is shown and which have been revealed: the state of the step-through, without a screen.

    `hiding` is true under --reveal: results stay hidden until revealed, and a revealed step stays so.
    """

    total: int
    hiding: bool = False
    index: int = 0
    revealed: set[int] = field(default_factory=set)

    def shows_results(self, index: int | None = None) -> bool:
        return not self.hiding or (self.index if index is None else index) in self.revealed

    def apply(self, command: Command) -> str | None:
        """Carry out a move or a reveal; a message for the user when there was nothing to do."""
        last = self.total - 1
        if command.action == REVEAL:
            if not self.hiding:
                return "Nothing is hidden: start with --reveal to hide each result until r."
            if self.index in self.revealed:
                return "The result of this step is already shown."
            self.revealed.add(self.index)
            return None
        targets = {NEXT: self.index + 1, BACK: self.index - 1, FIRST: 0, LAST: last,
                   JUMP: (command.number or 0) - 1}
        wanted = targets[command.action]
        target = min(max(wanted, 0), last)
        moved, self.index = target != self.index, target
        if wanted != target:
            return f"There is no step {wanted + 1}: the steps are 1 to {self.total}." if command.action == JUMP \
                else f"Already at the {'last' if target == last else 'first'} step."
        return None if moved else f"Already at step {target + 1}."


class Screens:
    """Each step laid out as lines of terminal text, for a console; cached, since sympy is slow.

    A page is laid out once (`layout.section`), whether it is then shown with its result hidden,
    revealed, or at another width; the lines of each of those are cached too.
    """

    def __init__(self, solution, options: Options, console):
        self.solution, self.options, self.console = solution, options, console
        self.pages = story.pages(solution)
        self._cache: dict[tuple[int, bool, int], list[str]] = {}
        self._sections: dict[int, layout.Section] = {}

    def section(self, index: int) -> layout.Section:
        """The layout of page `index`, built on first use."""
        if index not in self._sections:
            self._sections[index] = layout.section(self.solution, self.pages[index], self.options.decimals,
                                                   self.options.symbolic)
        return self._sections[index]

    def header(self, index: int) -> list[str]:
        """The title line: `Step k/N · title` on a rule."""
        title = f"Step {index + 1}/{len(self.pages)} · {self.pages[index].title}"
        return self._lines(Heading(title))

    def body(self, index: int, reveal: bool) -> list[str]:
        """The page as in the full walkthrough, without its heading (the title line carries it)."""
        key = (index, reveal, self.console.width)
        if key not in self._cache:
            page = page_renderable(self.solution, self.pages[index], self.options, reveal=reveal, heading=False,
                                   section=self.section(index))
            items = list(page.renderables)
            if index == 0:
                items = [*introduction(self.solution), BLANK, guide_renderable(self.solution, self.options),
                         BLANK, Heading(str(self.pages[0].title)), *items]
            self._cache[key] = self._lines(Stack(*items))
        return self._cache[key]

    def first_result_line(self, index: int) -> int | None:
        """Where the revealed result starts on the page, or None when the page hides nothing."""
        hidden, shown = self.body(index, reveal=False), self.body(index, reveal=True)
        return next((i for i, (a, b) in enumerate(zip(hidden, shown, strict=False)) if a != b),
                    None if len(hidden) == len(shown) else min(len(hidden), len(shown)))

    def explanation(self, index: int, entry: str) -> list[str]:
        """One Jacobian entry of the page explained (`3,4` names the page's only Jacobian; nothing at all gives the
        scalar equations behind all of its rows), from the values of the page's own training step; ExplainError if
        there is no such entry."""
        page = self.pages[index]
        steps = [step for step in page.steps if not step.is_sum]
        if not entry or ("[" not in entry and "," in entry):
            if len(steps) != 1:
                names = ", ".join(f"{step.jacobian_name}[{entry}]" for step in steps)
                raise ExplainError(f"this page has {len(steps)} Jacobians: name one, e.g. " + names
                                   if steps else "this page has no Jacobian: go to a backward step")
            entry = f"{steps[0].jacobian_name}[{entry}]" if entry else steps[0].jacobian_name
        return self._lines(Group(Text(f"Explained: {entry}", style="bold"), Text(""),
                                 *(Prose(sentence) for sentence in explain(self.solution.at(page.training), entry,
                                                                           self.options.decimals))))

    def help(self, entries: list[tuple[str, str]], title: str) -> list[str]:
        """A page of help: each entry is what to type and what it does."""
        width = max(len(entry) for entry, _ in entries) + 3
        lines = [Text(title, style="bold"), Text("")]
        lines += [Text(entry.ljust(width), style="bold") + Text(meaning) for entry, meaning in entries]
        return self._lines(Group(*lines))

    def key_help(self) -> list[str]:
        ascii_only = self.console.options.ascii_only
        return self.help([(plain if ascii_only else fancy, meaning) for fancy, plain, meaning in KEY_HELP],
                         "Keys of the step-through")

    def line_help(self) -> list[str]:
        return self.help(LINE_HELP, "Commands of the step-through, one per line")

    def _lines(self, renderable) -> list[str]:
        with self.console.capture() as capture:
            self.console.print(renderable)
        return capture.get().rstrip("\n").split("\n")


def run(solution, options: Options, reveal: bool, width: int | None) -> int:
    """Present the walkthrough step by step and return the exit status (0; Ctrl-C reaches the CLI).

    Full screen with single keys when standard input and output are a terminal; otherwise one
    command per line from standard input, each screen printed as text, until `q` or the end of input.
    """
    console = make_console(width)
    screens = Screens(solution, options, console)
    presentation = Presentation(len(screens.pages), hiding=reveal)
    if keys.available():
        return FullScreen(screens, presentation).run()
    return run_lines(screens, presentation)


def run_lines(screens: Screens, presentation: Presentation) -> int:
    """The step-through without a terminal: commands one per line, each new screen printed in full."""
    console = screens.console
    prompt = sys.stdin.isatty()
    legend = LINE_LEGEND.format(reveal="r reveal, " if presentation.hiding else "")

    def show() -> None:
        index = presentation.index
        for line in screens.header(index) + screens.body(index, presentation.shows_results()):
            console.file.write(line + "\n")
        console.print(Text(legend, style="dim"))
        console.print()

    def say(message: str) -> None:
        console.print(Text(message, style=NOTE_STYLE))

    show()
    while True:
        if prompt:
            console.file.write("> ")
            console.file.flush()
        line = sys.stdin.readline()
        if not line:
            return 0
        command = parse_line(line)
        if command is None:
            say(f"Unknown command {line.strip()!r}; type ? for the commands.")
        elif command.action == QUIT:
            return 0
        elif command.action == HELP:
            for text in screens.line_help():
                console.file.write(text + "\n")
        elif command.action == EXPLAIN:
            try:
                for text in screens.explanation(presentation.index, command.entry):
                    console.file.write(text + "\n")
            except ExplainError as error:
                say(str(error))
        elif command.action == REVEAL and presentation.hiding and \
                screens.first_result_line(presentation.index) is None:
            say("Nothing is hidden on this step.")
        else:
            before = (presentation.index, len(presentation.revealed))
            message = presentation.apply(command)
            if (presentation.index, len(presentation.revealed)) != before:
                show()
            if message:
                say(message)


class FullScreen:
    """The step-through on the alternate screen, driven by single keys; the terminal is always restored."""

    def __init__(self, screens: Screens, presentation: Presentation):
        self.screens, self.presentation = screens, presentation
        self.console = screens.console
        self.offset = 0
        self.helping = False
        self.typed: str | None = None  # the digits after `g`, while a jump is being typed
        self.entry: str | None = None  # the entry after `e`, while it is being typed
        self.explained: list[str] | None = None  # the explanation of an entry, while it is shown
        self.message = ""

    def run(self) -> int:
        with keys.KeySession(sys.stdout, FULL_SCREEN, NORMAL_SCREEN) as session:
            while True:
                try:
                    key = session.read(self.draw)
                except EOFError:
                    return 0
                if not self.handle(key):
                    return 0

    def handle(self, key: str) -> bool:
        """React to one key; False to quit."""
        self.message = ""
        if self.typed is not None:
            self._type(key)
            return True
        if self.entry is not None:
            self._type_entry(key)
            return True
        if self.helping or self.explained is not None:
            self.helping, self.explained = False, None
            return True
        if key in SCROLL_KEYS:
            self.offset += SCROLL_KEYS[key]
        elif key in PAGE_KEYS:
            self.offset += PAGE_KEYS[key] * max(1, self._view_height() - 1)
        elif key == "g":
            self.typed = ""
        elif key == "e":
            self.entry = ""
        elif key in KEY_COMMANDS:
            return self._command(Command(KEY_COMMANDS[key]))
        else:
            self.message = f"The key {key!r} does nothing here; press ? for the keys."
        return True

    def _type(self, key: str) -> None:
        """A key while the number after `g` is being typed."""
        if key.isdigit() and len(key) == 1:
            self.typed += key
        elif key == keys.BACKSPACE:
            self.typed = self.typed[:-1]
        elif key == keys.ENTER and self.typed:
            number, self.typed = int(self.typed), None
            self._command(Command(JUMP, number))
        elif key in (keys.ENTER, keys.ESCAPE, "q"):
            self.typed = None

    def _type_entry(self, key: str) -> None:
        """A key while the entry after `e` is being typed: Enter explains it, Esc gives up."""
        if key == keys.BACKSPACE:
            self.entry = self.entry[:-1]
        elif key == keys.ESCAPE:
            self.entry = None
        elif key == keys.ENTER:
            entry, self.entry = self.entry, None
            try:
                self.explained = self.screens.explanation(self.presentation.index, entry.strip())
            except ExplainError as error:
                self.message = str(error)
        elif len(key) == 1 and key.isprintable():
            self.entry += key

    def _command(self, command: Command) -> bool:
        if command.action == QUIT:
            return False
        if command.action == HELP:
            self.helping = True
            return True
        presentation, before = self.presentation, self.presentation.index
        if command.action == REVEAL and presentation.hiding:
            start = self.screens.first_result_line(presentation.index)
            if start is None:
                self.message = "Nothing is hidden on this step."
                return True
            self.message = presentation.apply(command) or ""
            # Bring the result into view: all of it if it fits, with one line of what it answers at least.
            end = len(self.screens.body(presentation.index, presentation.shows_results()))
            self.offset = max(self.offset, min(start - 1, end - self._view_height()))
            return True
        self.message = presentation.apply(command) or ""
        if presentation.index != before:
            self.offset = 0
        return True

    def _view_height(self) -> int:
        """The lines between the title line and the legend."""
        return max(1, self.console.size.height - 2)

    def draw(self) -> None:
        """The whole screen, laid out for the terminal's size as it is now."""
        screens, presentation = self.screens, self.presentation
        index = presentation.index
        if self.helping:
            body = screens.key_help()
        elif self.explained is not None:
            body = self.explained
        else:
            body = screens.body(index, presentation.shows_results())
        height = self._view_height()
        overlay = self.helping or self.explained is not None  # drawn from its top; the step keeps its place
        if not overlay:
            self.offset = min(max(self.offset, 0), max(0, len(body) - height))
        visible = body[:height] if overlay else body[self.offset:self.offset + height]
        rows = screens.header(index)[:1] + visible + [""] * (height - len(visible)) + [self._footer(len(body))]
        output = "".join(f"\x1b[{row};1H\x1b[2K{line}" for row, line in enumerate(rows, start=1))
        self.console.file.write(BEGIN_FRAME + output + END_FRAME)
        self.console.file.flush()

    def _footer(self, length: int) -> str:
        """The bottom line: the key legend (or a message, or the jump prompt) and where the view is."""
        width = self.console.width - 1
        presentation = self.presentation
        if self.typed is not None:
            left = Text(f"Go to step (1-{presentation.total}), then Enter: {self.typed}_", style="bold")
        elif self.entry is not None:
            left = Text(f"Explain entry (3,4 or dZ3/dW3[1,2]), then Enter: {self.entry}_", style="bold")
        elif self.message:
            left = Text(self.message, style=NOTE_STYLE)
        elif self.helping or self.explained is not None:
            left = Text("Press any key to go back to the step.", style="dim")
        else:
            left = None  # the legend, fitted to the room the position leaves
        right = ""
        height = self._view_height()
        if length > height and not (self.helping or self.explained is not None):
            last = min(self.offset + height, length)
            right = f"lines {self.offset + 1}-{last} of {length}"
        if left is None:
            left = self._legend(scrolls=length > height, room=width - (len(right) + 2 if right else 0))
        if right:
            left.truncate(max(0, width - len(right) - 2), overflow="ellipsis")
            left.append(" " * (width - left.cell_len - len(right)) + right, style="bold")
        else:
            left.truncate(width, overflow="ellipsis")
        with self.console.capture() as capture:
            self.console.print(left, end="", no_wrap=True, crop=True)
        return capture.get()

    def _legend(self, scrolls: bool, room: int) -> Text:
        """The keys that do something on this screen, as many as fit in `room` cells: the least needed go
        first (Home/End, jump, …), `? help` and `q quit` never; `r reveal` stands out while a result is hidden."""
        presentation = self.presentation
        arrows = ("n", "b", "up/down") if self.console.options.ascii_only else ("→", "←", "↑↓")
        hidden = (not presentation.shows_results()
                  and self.screens.first_result_line(presentation.index) is not None)
        explains = any(not step.is_sum for step in self.screens.pages[presentation.index].steps)
        # (text, style, rank): a part of higher rank is dropped first.
        parts = [(f"{arrows[0]} next", "dim", 2), (f"{arrows[1]} back", "dim", 3), ("g jump", "dim", 6),
                 ("Home/End", "dim", 7), *([(f"{arrows[2]} scroll", "dim", 4)] if scrolls else []),
                 *([("r reveal", "bold", 1)] if hidden else []), *([("e explain", "dim", 5)] if explains else []),
                 ("? help", "dim", 0), ("q quit", "dim", 0)]
        while len(parts) > 2 and sum(len(text) + 2 for text, _, _ in parts) - 2 > room:
            parts.remove(max(parts, key=lambda part: part[2]))
        return Text("  ").join(Text(text, style=style) for text, style, _ in parts)
