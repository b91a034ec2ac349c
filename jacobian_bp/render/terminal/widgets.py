"""Terminal widgets built on rich: bracketed matrices, equations that wrap, the breadcrumb, prose.

Every widget fits the width it is given: matrices drop middle columns (numpy-style `…`) and
equations stack their parts rather than cut them. On terminals that cannot show Unicode, the
widgets spell their symbols in ASCII.
"""

import functools
import io
import math
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from itertools import accumulate, compress, zip_longest
from operator import attrgetter

import numpy as np
from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.control import STRIP_CONTROL_CODES, strip_control_codes
from rich.rule import Rule
from rich.segment import Segment
from rich.text import Span, Text

from ...numbers import format_number
from ...sentences import Sentence
from .. import layout, story

MAX_ROWS = 24
KEPT_ROWS = 10
GAP = "  "
CONTINUATION_INDENT = 4
ZERO_STYLE = "dim"
NAME_STYLE = "bold"
MARK_STYLE = "bold reverse"
NOTE_STYLE = "yellow"
OK_STYLE = "green"
SHARED_DRAWING = 64  # numeric matrices of at most this many entries are drawn once for all their views
SHARED_DRAWINGS = 4096  # drawings kept at most (the cache starts afresh when full)
_DRAWN: dict = {}  # the lines of small numeric matrices, by their numbers, decimals, width and alphabet


class _Console(Console):
    """rich's console, but a reader that stops early (`| head`) ends the program like any other pipe."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def make_console(width: int | None = None, file=None) -> Console:
    """A rich console for our output: no syntax highlighting, no emoji codes, no colour under `NO_COLOR`."""
    plain = "NO_COLOR" in os.environ
    return _Console(file=file or sys.stdout, width=width, highlight=False,
                    color_system=None if plain else "auto", emoji=False)


class MatrixView:
    """A bracketed matrix with decimal-aligned columns and dimmed zeros.

    `cells` holds the text of every entry; `ascii_cells`, if given, is used on terminals that
    cannot show Unicode. Numeric columns line up on the decimal point; symbolic ones are centred.
    A `source` (a `layout.Numbers`, or the `layout.Symbols` of a Jacobian too large to write out) instead
    gives the entries on demand: only the rows and columns that can be shown at the width are formatted (or
    written), however large the matrix. A matrix that is itself the `window` of a larger one (a symbolic
    Jacobian written in the window documents show) counts what it hides against the larger one.
    """

    def __init__(self, cells, zeros, numeric: bool, ascii_cells=None, source=None, window=None, content=None):
        self.cells = cells
        self.ascii_cells = ascii_cells or cells
        self.zeros = zeros
        self.numeric = numeric
        self.source = source
        self.window = window
        self.content = content  # what the drawing depends on besides the width, for matrices drawn from a cache

    @classmethod
    def of(cls, matrix, decimals: int) -> "MatrixView":
        """The numbers of an array (or of a `structured.Structured` Jacobian), formatted when drawn."""
        return cls.showing(layout.Numbers(matrix, decimals))

    @classmethod
    def showing(cls, numbers: layout.Numbers) -> "MatrixView":
        """The matrix of a layout's `Numbers`, formatted when drawn.

        A small array is drawn once for all the views of the same numbers: a walkthrough shows each gradient
        several times (as a result, then as the upstream row of the next steps)."""
        matrix, content = numbers.values, None
        if isinstance(matrix, np.ndarray) and matrix.size <= SHARED_DRAWING:
            content = (matrix.tobytes(), matrix.shape, matrix.dtype.str, numbers.decimals)
        return cls(None, None, numeric=True, source=numbers, content=content)

    @property
    def shape(self) -> tuple[int, int]:
        return self.source.shape if self.source is not None else (len(self.cells), len(self.cells[0]))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _fitting(self.lines(options.max_width, options.ascii_only), console)

    def _fetch(self, row_order: list, candidates: list[int], ascii_only: bool) -> tuple[dict, dict]:
        """The text and zero flag of the candidate columns of every shown row, by row index."""
        shown = [i for i in row_order if i is not None]
        if self.source is not None:
            found = self.source.cells(shown, candidates, ascii_only)
            texts, zeros = {}, {}
            for i, row in zip(shown, found, strict=True):
                texts[i], zeros[i] = zip(*row, strict=True) if row else ((), ())
            return texts, zeros
        cells = self.ascii_cells if ascii_only else self.cells
        return ({i: [cells[i][j] for j in candidates] for i in shown},
                {i: [self.zeros[i][j] for j in candidates] for i in shown})

    def lines(self, max_width: int, ascii_only: bool) -> list["Text | _Fitted"]:
        """The matrix's lines at `max_width` (a new list, whose lines are not to be changed: they may be shared)."""
        if self.content is None:
            return self._lines(max_width, ascii_only)
        key = (self.content, max_width, ascii_only)
        drawn = _DRAWN.get(key)
        if drawn is None:
            if len(_DRAWN) >= SHARED_DRAWINGS:
                _DRAWN.clear()
            drawn = _DRAWN[key] = self._lines(max_width, ascii_only)
        return list(drawn)

    def _lines(self, max_width: int, ascii_only: bool) -> list["Text | _Fitted"]:
        rows, columns = self.shape
        row_order = list(range(rows))
        if rows > MAX_ROWS:
            row_order = list(range(KEPT_ROWS)) + [None] + list(range(rows - KEPT_ROWS, rows))
        # Only columns from either end can be shown, and each takes at least 3 cells (an entry and the gap):
        # format a few from each end, and more only while all of those fit.
        ellipsis = "..." if ascii_only else "…"
        most, reach = max_width // 3 + 1, 8
        while True:
            reach = min(reach, most)
            candidates = (list(range(columns)) if columns <= 2 * reach
                          else [*range(reach), *range(columns - reach, columns)])
            cells, zeros = self._fetch(row_order, candidates, ascii_only)
            count = len(candidates)
            texts = [self.aligned_column(cells, j, row_order, ":" if ascii_only else "⋮") for j in range(count)]
            widths = [len(column[0]) for column in texts]
            left, right = self._fit(widths, max_width, len(ellipsis))
            if count == columns or reach == most or max(left, right) < reach:
                break
            reach *= 2
        shown = list(range(left)) + ([None] if left + right < columns else []) + list(range(count - right, count))
        lines = self._drawn(row_order, shown, texts, zeros, ellipsis, ascii_only)
        if _cells(lines[0].plain) > max_width:  # a single column wider than the page: cut at its edge
            lines = [line.text() for line in lines]
            for line in lines:
                line.truncate(max_width)
        if self.window is None and left + right == columns and rows <= MAX_ROWS:
            return lines  # everything is shown: nothing to note
        note = self._shown(row_order, [*range(left), *range(columns - right, columns)]).note()
        if note:
            lines += _wrapped(note, ZERO_STYLE, max_width)
        return lines

    def _shown(self, row_order: list, columns: list[int]) -> layout.Window:
        """The rows and columns drawn, as a window of the whole matrix (of the larger one this is a `window` of)."""
        rows = [i for i in row_order if i is not None]
        if self.window is None:
            return layout.Window(tuple(rows), tuple(columns), self.shape)
        return layout.Window(tuple(self.window.rows[i] for i in rows), tuple(self.window.columns[j] for j in columns),
                             self.window.shape)

    def _drawn(self, row_order: list, shown: list, texts: list[list[str]], zeros: dict, ellipsis: str,
               ascii_only: bool) -> list["_Fitted"]:
        """The bracketed lines of the `shown` columns (None where columns are elided), zeros and elision marks
        dimmed. Every entry of a column is padded to one width, so each column starts at the same place on every
        line: a line is joined at once and only its dimmed stretches are placed (piece by piece, a matrix of a deep
        network's walkthrough would cost a call for every entry)."""
        widths = [len(ellipsis) if j is None else len(texts[j][0]) for j in shown]
        starts = list(accumulate((width + len(GAP) for width in widths[:-1]), initial=2))  # after `⎡ `
        count = len(row_order)
        lines = []
        for line_index, i in enumerate(row_order):
            marks = ellipsis if i is not None or ascii_only else "⋱"
            body = GAP.join(marks if j is None else texts[j][line_index] for j in shown)
            dimmed = [j is None or (i is not None and zeros[i][j]) for j in shown]
            spans = [Span(start, start + width, ZERO_STYLE)
                     for start, width, dim in zip(starts, widths, dimmed, strict=True) if dim and width]
            line = (f"{self._bracket(line_index, count, ascii_only, left_side=True)} {body} "
                    f"{self._bracket(line_index, count, ascii_only, left_side=False)}")
            lines.append(_Fitted(line.replace("⋮", ":") if ascii_only else line, spans))
        return lines

    def aligned_column(self, cells, j: int, row_order, mark: str = "⋮") -> list[str]:
        """The entries of column j, padded to one width (aligned on the decimal point if numeric); `mark`
        stands where rows are elided."""
        present = [cells[i][j] for i in row_order if i is not None]
        if self.numeric:  # " " * n pads as `rjust` and `ljust` do, without taking each entry apart
            heads = [len(e.split(".", 1)[0]) for e in present]
            head_width = max(heads)
            width = head_width + max(len(e) - head for e, head in zip(present, heads, strict=True))
            aligned = [" " * (head_width - head) + e + " " * (width - head_width - len(e) + head)
                       for e, head in zip(present, heads, strict=True)]
        else:
            width = max(map(len, present))
            aligned = [e.center(width) for e in present]
        if len(aligned) == len(row_order):
            return aligned
        below = row_order.index(None)
        return [*aligned[:below], mark.center(width), *aligned[below:]]

    @staticmethod
    def _fit(widths: list[int], max_width: int, ellipsis_width: int) -> tuple[int, int]:
        """How many columns to keep on the left and on the right so the matrix fits."""
        columns = len(widths)
        frame = 4

        def width_of(kept: list[int], elided: bool) -> int:
            parts = [widths[j] for j in kept] + ([ellipsis_width] if elided else [])
            return frame + sum(parts) + len(GAP) * (len(parts) - 1)

        if frame + sum(widths) + len(GAP) * (columns - 1) <= max_width:  # all of them
            return columns, 0
        left = right = 0
        while left + right < columns:
            grow_left = left <= right
            candidate = (left + 1, right) if grow_left else (left, right + 1)
            kept = list(range(candidate[0])) + list(range(columns - candidate[1], columns))
            if width_of(kept, True) > max_width:
                break
            left, right = candidate
        return max(left, 1), right

    @staticmethod
    def _bracket(index: int, count: int, ascii_only: bool, left_side: bool) -> str:
        if ascii_only or count == 1:
            return "[" if left_side else "]"
        if index == 0:
            return "⎡" if left_side else "⎤"
        if index == count - 1:
            return "⎣" if left_side else "⎦"
        return "⎢" if left_side else "⎥"


class Equation:
    """Labels, operators and matrices laid out left to right, wrapping onto new lines when needed.

    Parts that fit share a line and are centred vertically on each other; a part that does not
    fit starts a new line, and a formula longer than a whole line is wrapped between its words and
    stands alone, so nothing is ever cut.
    """

    def __init__(self, *parts):
        self.parts = parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _fitting(self.lines(options.max_width, options.ascii_only), console)

    def lines(self, max_width: int, ascii_only: bool) -> list["Text | _Fitted"]:
        blocks = [self._block(part, max_width, ascii_only) for part in self.parts]
        output: list[Text | _Fitted] = []
        row: list[tuple[list[Text], list[int]]] = []  # each block with the cells of its lines, measured once
        row_width = 0
        indent = 0
        wrapped = False  # a formula too long for a line is wrapped, and stands on its lines alone
        for part, block in zip(self.parts, blocks, strict=True):
            widths = [_cells(line.plain) for line in block]
            width = max(widths)
            needed = width if not row else row_width + 1 + width
            if row and (needed > max_width or wrapped):
                output += self._join(row, indent)
                indent = CONTINUATION_INDENT if width + CONTINUATION_INDENT <= max_width else 0
                row, needed = [], indent + width
            row.append((block, widths))
            row_width = needed
            wrapped = len(block) > 1 and not isinstance(part, (MatrixView, Equation))
        return output + self._join(row, indent)

    @staticmethod
    def _block(part, max_width: int, ascii_only: bool) -> list["Text | _Fitted"]:
        if isinstance(part, (MatrixView, Equation)):
            return part.lines(max_width, ascii_only)
        if isinstance(part, (Styled, Text)) and not ascii_only and not part.spans and _cells(part.plain) <= max_width:
            return [part]  # a formula as it stands: `_join` only reads it
        text, style = (part.plain, part.style) if isinstance(part, (Styled, Text)) else (part, "")
        text = _plain(text, ascii_only)
        return _wrapped(text, style, max_width) if _cells(text) > max_width else [Styled(text, style)]

    @staticmethod
    def _join(row: list[tuple[list["Text | _Fitted"], list[int]]], indent: int) -> list["_Fitted"]:
        """The blocks of `row` side by side, one space apart, each centred vertically and padded to its width."""
        if not row:
            return []
        height = max(len(block) for block, _ in row)
        if height == 1:  # most equations: one line, the blocks one space apart
            line = _Line(" " * indent)
            for position, (block, _) in enumerate(row):
                line.add_text(block[0], " " if position else "")
            return [line.text(stripped=True)]
        joined = [_Line(" " * indent) for _ in range(height)]
        for position, (block, widths) in enumerate(row):
            width = max(widths)
            top = (height - len(block)) // 2
            before = " " if position else ""
            for i in range(height):
                if top <= i < top + len(block):
                    joined[i].add_text(block[i - top], before, width - widths[i - top])
                else:
                    joined[i].add(before + " " * width)
        return [line.text(stripped=True) for line in joined]


class Breadcrumb:
    """The one-line path through the computational graph, with the current node marked."""

    def __init__(self, main: list[story.Crumb], side: list[story.Crumb]):
        self.main, self.side = main, side

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        ascii_only = options.ascii_only
        yield from _fitting([_shortened(self._line(self._fitted(options.max_width, ascii_only), ascii_only),
                                        options.max_width, ascii_only)], console)

    def _fitted(self, max_width: int, ascii_only: bool) -> list[story.Crumb]:
        """The main path, with the crumbs farthest from the marked ones replaced by `…` until the line fits.

        The first and last crumbs stay; the others are kept nearest the marked ones first (the later of two
        as near), which keeps a run of them around the marked ones. The longest run that fits is found
        by halving, each try measured from the running sum of the crumbs' widths. The crumbs are measured nearest
        first, and only until they alone are wider than the line: a path of hundreds of nodes costs about a line's
        worth of them.
        """
        main = self.main
        last = len(main) - 1
        if last < 3:
            return main
        side = self._width(self.side, ascii_only) + 4 if self.side else 0
        marked = list(compress(range(len(main)), map(attrgetter("marked"), main))) or [last]
        frame = _crumb_width(main[0], ascii_only) + _crumb_width(main[last], ascii_only) + side
        # The run kept with the `count` nearest crumbs (from the smallest to the largest of them), the sum of their
        # widths, and the counts at which a run reaches an end of the path.
        runs, inside, ends = [(last, 0)], [0], []
        for index in _nearest_first(1, last - 1, (marked[0] + marked[-1]) / 2):
            crumbs_width = inside[-1] + _crumb_width(main[index], ascii_only)
            if frame + crumbs_width > max_width:  # neither this run nor any longer one fits
                break
            low, high = runs[-1]
            runs.append((min(low, index), max(high, index)))
            inside.append(crumbs_width)
            if index in (1, last - 1):
                ends.append(len(runs) - 1)

        def gap(i: int) -> int:
            return _crumb_width(_elided(main[i].arrow), ascii_only)

        def width(count: int) -> int:
            low, high = runs[count]
            before = gap(1) if low > 1 or high < low else 0
            after = gap(high + 1) if high < last - 1 and high >= low else 0
            return frame + before + inside[count] + after

        # The width grows with the count, except where the run reaches an end and the `…` there goes (in ASCII
        # `...`, wider than a crumb of one letter): from each such count on it grows again, so each stretch is halved
        # apart, and the most crumbs that fit in any of them are kept.
        fewest = 0
        for start, stop in zip([0, *ends], [*ends, len(runs)], strict=True):
            if width(start) > max_width:
                continue
            most = stop - 1
            while start < most:
                middle = (start + most + 1) // 2
                start, most = (middle, most) if width(middle) <= max_width else (start, middle - 1)
            fewest = start
        low, high = runs[fewest]
        crumbs = [main[0]]
        if low > 1 or high < low:
            crumbs.append(_elided(main[1].arrow))
        crumbs += main[low:high + 1]
        if high < last - 1 and high >= low:
            crumbs.append(_elided(main[high + 1].arrow))
        return crumbs + [main[last]]

    def _width(self, crumbs: list[story.Crumb], ascii_only: bool) -> int:
        """The cells the crumbs take, from the plain text of their pieces."""
        return sum(_crumb_width(crumb, ascii_only) for crumb in crumbs)

    def _line(self, main: list[story.Crumb], ascii_only: bool) -> "_Fitted":
        line = _Line()
        pieces = self._pieces(main, ascii_only) + ([("    ", "")] + self._pieces(self.side, ascii_only)
                                                  if self.side else [])
        for text, style in pieces:
            line.add(text, style)
        return line.text()

    @staticmethod
    def _pieces(crumbs: list[story.Crumb], ascii_only: bool) -> list[tuple[str, str]]:
        """The texts of the crumbs and the arrows between them, each with its style."""
        pieces = []
        for crumb in crumbs:
            if crumb.arrow:
                separator = ", " if crumb.arrow == "," else f" {_plain(crumb.arrow, ascii_only)} "
                pieces.append((separator, ZERO_STYLE))
            label = _plain(crumb.label, ascii_only)
            pieces.append((f"[{label}]" if crumb.marked else label, MARK_STYLE if crumb.marked else ""))
        return pieces


def _nearest_first(low: int, high: int, centre: float) -> Iterator[int]:
    """The indices from `low` to `high`, nearest `centre` (a whole or half number) first, the later of two as near
    first: those from the centre up and those below it, taken in turn (what sorting by distance gives, unsorted),
    one at a time (a breadcrumb takes only the few it can keep)."""
    start = math.ceil(centre)
    up = range(max(start, low), high + 1)
    down = range(min(start - 1, high), low - 1, -1)
    if up and up[0] == centre:
        yield up[0]
        up = up[1:]
    for pair in zip_longest(up, down):
        yield from (i for i in pair if i is not None)


@functools.cache
def _elided(arrow: str) -> story.Crumb:
    """The crumb `…` that stands for crumbs left out, after `arrow`."""
    return story.Crumb("…", False, arrow)


def _crumb_width(crumb: story.Crumb, ascii_only: bool) -> int:
    """The cells one crumb of the breadcrumb takes, with the arrow before it."""
    return _piece_width(crumb.label, crumb.marked, crumb.arrow, ascii_only)


@functools.cache
def _piece_width(label: str, marked: bool, arrow: str, ascii_only: bool) -> int:
    """`_crumb_width`, remembered by the crumb's fields: strings keep their hash, a crumb's is computed anew on
    every look-up (a breadcrumb measures about a hundred crumbs)."""
    return sum(_cells(text) for text, _ in Breadcrumb._pieces([story.Crumb(label, marked, arrow)], ascii_only))


# In this order: σ before its argument is the sigmoid (or its derivative), alone a standard deviation (as in σ²).
ASCII_REPLACEMENTS = {"→": "->", "⇠": "<-", "·": "*", "⊙": ".*", "⊗": "(x)", "⋆": "(*)", "ᵀ": "^T", "∂": "d",
                      "−": "-", "✓": "OK", "⚠": "!", "÷": "/", "±": "+/-", "√": "sqrt", "×": "x", "…": "...",
                      "σ(": "sigmoid(", "σ'(": "sigmoid'(", "σ": "sigma", "²": "^2", "’": "'", "“": '"', "”": '"',
                      "–": "-", "—": "--", "‚": ",", "′": "'", "‖": "||", "≈": "~", "½": "1/2", "°": " degrees",
                      "Σ": "sum", "γ": "gamma", "β": "beta", "δ": "delta", "μ": "mu", "φ": "phi", "Φ": "Phi",
                      "ẑ": "zhat"}


@functools.cache
def _measuring() -> Console:
    """The console rich's word wrap asks for (it only measures text with it)."""
    return Console(file=io.StringIO())


def _wrapped(text: str, style: str, width: int) -> list["Styled | Text"]:
    """`text` in `style` broken into lines of at most `width` cells, between words where it can be (a word longer
    than a line is folded)."""
    plain = _without_control_codes(text)
    if _cells(plain) <= width and "\n" not in plain:
        return [Styled(plain.rstrip(), style)]
    breaks = _breaks(plain, width) if _narrow(plain) else None
    if breaks is not None:
        return [Styled(plain[start:end].rstrip(), style)
                for start, end in zip([0, *breaks], [*breaks, len(plain)], strict=True)]
    lines = Text(plain, style=style).wrap(_measuring(), width)
    for line in lines:
        line.rstrip()
    return list(lines)


_WORD = re.compile(r"\s*\S+\s*")  # a word with the spaces after it (and, first, before it), as rich's wrap takes it


def _breaks(text: str, width: int) -> list[int] | None:
    """Where rich's word wrap breaks a line of one-cell characters (`rich._wrap.divide_line`, without measuring
    each word cell by cell); None when a word is longer than a line, which rich folds."""
    breaks, offset = [], 0
    for word in _WORD.finditer(text):
        length = len(word.group().rstrip())
        if length > width:
            return None
        if width - offset >= length:
            offset += len(word.group())
        elif offset and word.start():
            breaks.append(word.start())
            offset = len(word.group())
    return breaks


def _fitting(lines: list["Text | _Fitted"], console: Console) -> RenderResult:
    """Lines already fitted to the width, as rich's segments: handed back as one `Text`, every line would be wrapped
    again, which is most of the cost of a long walkthrough. Without colours (output to a file or a pipe, or
    `NO_COLOR`) rich draws no style at all, so a line is its plain text, and the lines are one segment."""
    if console.color_system is None:  # the lines as one segment: rich would only join them again
        yield Segment("".join([line.plain + "\n" for line in lines]))
        return
    newline = Segment.line()
    for line in lines:
        if line.style and not line.spans:  # rich's `Text.render` draws a line without spans in no style at all
            yield Segment(line.plain, console.get_style(line.style))
        else:
            yield from line.render(console)
        yield newline


class Stack:
    """Renderables one under another, as rich's `Group` draws them, but each one's output is handed on as it comes:
    through a `Group` rich would take every item as a renderable of its own (options copied, the item cast and
    checked), a cost that a long walkthrough pays for each of its thousands of blocks."""

    def __init__(self, *renderables):
        self.renderables = list(renderables)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for item in self.renderables:
            if hasattr(item, "__rich_console__"):
                yield from item.__rich_console__(console, options)
            else:
                yield item


_NARROW = set(map(chr, range(0x20, 0x7F)))  # characters rich measures as one cell; more are learnt as met


def _narrow(text: str) -> bool:
    """Whether every character of `text` takes one cell as rich counts them (so that its length is its width):
    matrices and formulas are made of a few dozen characters, met again on every line."""
    if _NARROW.issuperset(text):
        return True
    new = set(text) - _NARROW
    if all(get_character_cell_size(character) == 1 for character in new):  # joiners, tabs, newlines take none
        _NARROW.update(new)
        return True
    return False


def _cells(text: str) -> int:
    """The cells `text` takes, as rich's `cell_len` counts them, without measuring it character by character."""
    return len(text) if _narrow(text) else cell_len(text)


class _Fitted:
    """A line fitted to the width, as its plain text and its styled stretches, that becomes a rich `Text` only when it
    is drawn in colour (or needs what only a `Text` does): a `Text` cleans its text of control codes when made, a
    cost paid on every line of a long walkthrough although rich draws a line without colours as its plain text.
    Its pieces are names, numbers and the plain text of `Text`s, none of which holds a control code, so the
    plain text is what a `Text` of it would hold."""

    __slots__ = ("plain", "spans")
    style = ""  # its stretches carry their styles; the line as a whole has none

    def __init__(self, plain: str, spans: list[Span]):
        self.plain, self.spans = plain, spans

    def text(self) -> Text:
        """The line as a rich `Text` of its own."""
        return Text(self.plain, spans=list(self.spans), no_wrap=True)

    def render(self, console: Console) -> RenderResult:
        return self.text().render(console)


class Styled(_Fitted):
    """A line of text in one style throughout (a formula, a line of prose): what a rich `Text` of it holds, made
    without the cost of a `Text`, which a long walkthrough would pay on thousands of lines. Like a `Text`, it
    holds no control codes."""

    __slots__ = ("style",)

    def __init__(self, plain: str, style: str = ""):
        self.plain = _without_control_codes(plain)
        self.spans, self.style = [], style

    def text(self) -> Text:
        return Text(self.plain, style=self.style, no_wrap=True)


_CONTROL_CODES = re.compile("[" + "".join(map(chr, STRIP_CONTROL_CODES)) + "]")  # those a rich `Text` drops


def _without_control_codes(text: str) -> str:
    """`text` as a rich `Text` holds it, without the control codes rich drops (a printable text holds none: a
    cheaper question than the search)."""
    return text if text.isprintable() or not _CONTROL_CODES.search(text) else strip_control_codes(text)


class _Line:
    """A line of text with styled stretches, put together piece by piece and made a line once (appending to a `Text`
    measures and cleans every piece, the cost of drawing a long walkthrough)."""

    def __init__(self, start: str = ""):
        self.pieces, self.spans, self.length = [start], [], len(start)

    def add(self, text: str, style: str = "") -> None:
        if style and text:
            self.spans.append(Span(self.length, self.length + len(text), style))
        self.pieces.append(text)
        self.length += len(text)

    def add_text(self, text: Text, before: str = "", after: int = 0) -> None:
        """A rich `Text`, its own style and spans kept, with `before` in front of it and `after` spaces behind."""
        plain, start = text.plain, self.length + len(before)
        if text.style:
            self.spans.append(Span(start, start + len(plain), text.style))
        if text.spans:
            self.spans += [span.move(start) for span in text.spans]
        self.pieces += (before, plain, " " * after)
        self.length = start + len(plain) + after

    def text(self, stripped: bool = False) -> _Fitted:
        """The line; `stripped`, without trailing spaces (what `Text.rstrip` gives, made once)."""
        line = "".join(self.pieces)
        if not stripped:
            return _Fitted(line, self.spans)
        line = line.rstrip()
        end = len(line)
        spans = [span if span.end < end else Span(span.start, end, span.style) for span in self.spans
                 if span.start < end]
        return _Fitted(line, spans)


def _shortened(text: "Text | _Fitted", width: int, ascii_only: bool) -> "Text | _Fitted":
    """`text` cut to `width` cells with an ellipsis (in ASCII where needed) when it is longer (then as a `Text`)."""
    if _cells(text.plain) <= width:
        return text
    ellipsis = "..." if ascii_only else "…"
    text = text.copy() if isinstance(text, Text) else text.text()
    text.truncate(width - len(ellipsis))
    text.append(ellipsis)
    return text


def _plain(text: str, ascii_only: bool) -> str:
    """`text` as it is, or with its Unicode symbols spelt in ASCII for terminals that need it.

    Symbols we use have an ASCII spelling; anything else (say, in a teacher's description) is
    decomposed (é → e) or, failing that, shown as `?`, so that nothing can fail to print.
    """
    if not ascii_only:
        return text
    for symbol, replacement in ASCII_REPLACEMENTS.items():
        text = text.replace(symbol, replacement)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "replace").decode()


class Heading:
    """A page title on a horizontal rule."""

    def __init__(self, title: str | Sentence):
        self.title = str(title)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = Text(_plain(self.title, options.ascii_only), style="bold")
        rule = Rule(_shortened(title, options.max_width - 4, options.ascii_only), align="left")
        # The rule's line is exactly as wide as the page: handed on as a fitted line, rich need not wrap it again.
        yield from _fitting(list(rule.__rich_console__(console, options)), console)


class Prose:
    """Explanatory text that wraps at the terminal width, in ASCII where needed."""

    def __init__(self, text: str | Sentence, style: str = ""):
        self.text, self.style = str(text), style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _fitting(_wrapped(_plain(self.text, options.ascii_only), self.style, options.max_width), console)


class CostCurve:
    """The cost over the training steps as a small bar chart: one column per step (sampled when there are more
    steps than columns), eighth blocks in Unicode, `#` in ASCII; the highest and lowest cost label the axis."""

    BLOCKS = " ▁▂▃▄▅▆▇█"
    ROWS = 6
    WIDEST = 4  # columns per step at most

    def __init__(self, costs, decimals: int):
        self.costs, self.decimals = [float(cost) for cost in costs], decimals

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _fitting(self.lines(options.max_width, options.ascii_only), console)

    def lines(self, max_width: int, ascii_only: bool) -> list[Text]:
        high, low = max(self.costs), min(self.costs)
        top, bottom = format_number(high, self.decimals), format_number(low, self.decimals)
        label = max(len(top), len(bottom))
        room = max(1, max_width - label - 2)
        columns = min(len(self.costs), room)
        picked = np.round(np.linspace(0, len(self.costs) - 1, columns)).astype(int)
        # few steps: each gets a bar several columns wide, so that the chart reads at a glance
        values = np.repeat(np.array(self.costs)[picked], max(1, min(self.WIDEST, room // columns)))
        # The lowest cost keeps a sliver of a bar: heights run from just below it to the highest.
        floor = low - 0.1 * (high - low)
        eighths = np.full(len(values), self.ROWS * 4) if high == low else np.round(
            (values - floor) / (high - floor) * self.ROWS * 8).astype(int)
        axis, corner = ("|", "+") if ascii_only else ("┤", "└")
        lines = []
        for row in range(self.ROWS):
            above = (self.ROWS - 1 - row) * 8  # eighths below this row
            cells = np.clip(eighths - above, 0, 8)
            bar = "".join(("#" if cell >= 4 else " ") if ascii_only else self.BLOCKS[cell] for cell in cells)
            name = top if row == 0 else bottom if row == self.ROWS - 1 else ""
            tick = axis if row in (0, self.ROWS - 1) else ("|" if ascii_only else "│")
            line = Text(f"{name:>{label}} {tick}", style=ZERO_STYLE)
            line.append(bar.rstrip(), style=NAME_STYLE)
            lines.append(line)
        rule = ("-" if ascii_only else "─") * len(values)
        lines.append(Text(f"{'':>{label}} {corner}{rule}", style=ZERO_STYLE))
        steps = len(self.costs) - 1
        arrow = "->" if ascii_only else "→"
        captions = [f"J at steps 1 {arrow} {steps}, then after training" if steps > 1
                    else "J before and after training"]
        if columns < len(self.costs):
            captions.append(f"(one column per {len(self.costs) / columns:.1f} steps)")
        return lines + [_shortened(Text(f"{'':>{label}}  {caption}", style=ZERO_STYLE), max_width, ascii_only)
                        for caption in captions]
