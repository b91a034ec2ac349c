"""The walkthrough in the terminal: the blocks of the one page layout (`layout`), drawn with the widgets.

`page_renderable` draws one page (the classroom step-through shows one at a time);
`render_walkthrough` prints them all.
"""

from dataclasses import dataclass

from rich.console import Console, NewLine
from rich.text import Text

from ...sentences import written
from .. import layout, story
from .widgets import (
    NAME_STYLE,
    NOTE_STYLE,
    OK_STYLE,
    ZERO_STYLE,
    Breadcrumb,
    CostCurve,
    Equation,
    Heading,
    MatrixView,
    Prose,
    Stack,
    Styled,
)


@dataclass(frozen=True)
class Options:
    """How to show numbers and whether to show the symbolic Jacobians."""

    decimals: int = 4
    symbolic: bool = True


BLANK = NewLine()  # the empty line between blocks (an empty `Text` would be word-wrapped like any other)
TONES = {"plain": ("", ""), "name": ("", NAME_STYLE), "note": ("⚠ ", NOTE_STYLE), "check": ("✓ ", OK_STYLE),
         "aside": ("", ZERO_STYLE)}


def _matrix(matrix) -> MatrixView:
    if isinstance(matrix, layout.Symbols) and matrix.corner:
        return MatrixView(None, None, numeric=False, source=matrix)  # written entry by shown entry
    if isinstance(matrix, layout.Symbols):
        return _symbolic_matrix(matrix)
    return MatrixView.showing(matrix)


def _symbolic_matrix(symbols: layout.Symbols) -> MatrixView:
    return MatrixView(None, None, numeric=False, source=_Written(symbols), window=symbols.window)


class _Written:
    """A symbolic Jacobian written out whole (in the window documents show), as a `MatrixView` source: its text in
    Unicode, or in ASCII only for a terminal that needs it (each written once, by `symbols`)."""

    def __init__(self, symbols: layout.Symbols):
        self.symbols = symbols
        self.texts = symbols.texts

    @property
    def shape(self) -> tuple[int, int]:
        texts = self.texts(False)
        return len(texts), len(texts[0])

    def cells(self, rows, columns, ascii_only: bool = False) -> list[list[tuple[str, bool]]]:
        texts = self.texts(ascii_only)
        return [[texts[i][j] for j in columns] for i in rows]


def _line(parts: tuple) -> list:
    """One line of an equation: formulas in the names' style, matrices as matrices, gaps as spaces."""
    return [" " * part.width if isinstance(part, layout.Gap) else Styled(part, NAME_STYLE)
            if isinstance(part, str) else _expression(part) if isinstance(part, layout.Expression)
            else _matrix(part) for part in parts]


def _expression(part: layout.Expression) -> Styled:
    return Styled(part.text(), NAME_STYLE)


def renderables(block) -> list:
    """A block of the page layout as rich renderables drawn one under another: groups are taken apart here, so that
    each line passes through rich once rather than once per level of nesting."""
    if isinstance(block, layout.Group):
        items: list = []
        previous = None
        for child in block.blocks:
            if previous is not None and (isinstance(child, layout.Group) or isinstance(previous, layout.Group)):
                items.append(BLANK)
            items += renderables(child)
            previous = child
        return items
    if isinstance(block, layout.Jacobian):
        return renderables(block.equation)
    if isinstance(block, layout.Equation):
        first, *rest = block.lines
        head = Equation(*([str(block.label)] if block.label else []), *_line(first))
        return [head, *(Prose(" ".join(line)) for line in rest)]
    if isinstance(block, layout.Breadcrumb):
        return [Breadcrumb(list(block.main), list(block.side))]
    if isinstance(block, layout.Subheading):
        return [Prose(block.text, "bold underline")]
    if isinstance(block, layout.Curve):
        return [CostCurve(block.costs, block.decimals)]
    mark, style = TONES[block.tone]
    return [Prose(mark + str(block.text), style)]


def introduction(solution) -> list:
    """The title, the description and a one-line summary of the network."""
    walkthrough = solution.walkthrough
    parts = [Prose(walkthrough.title, "bold"), Prose(story.summary(solution))]
    if walkthrough.description.strip():
        parts.append(Prose(written(" ".join(walkthrough.description.split()))))
    if walkthrough.initialized:
        parts.append(Prose(story.initialization_note(walkthrough), NOTE_STYLE))
    return parts


def page_renderable(solution, page: story.Page, options: Options, reveal: bool = True,
                    heading: bool = True, section: layout.Section | None = None) -> Stack:
    """One page, with its heading unless `heading` is false; each unrevealed result becomes a placeholder.

    `section` is the page's layout when the caller has it already (the step-through lays a page out once).
    """
    items: list = [Heading(page.title)] if heading else []
    hidden = False
    section = section or layout.section(solution, page, options.decimals, options.symbolic)
    for block in section.blocks:
        if isinstance(block, layout.Group) and block.result and not reveal:
            if not hidden:
                items += [BLANK, Text("[ result hidden: press r to reveal ]", style=ZERO_STYLE)]
            hidden = True
            continue
        hidden = False
        items += [BLANK, *renderables(block)]
    return Stack(*items)


def guide_renderable(solution, options: Options) -> Stack:
    """The reading guide (`guide`), with its heading, as the first page shows it after the introduction."""
    from ..guide import guide

    section = guide(solution, options.decimals, options.symbolic)
    items: list = [Heading(str(section.title))]
    for block in section.blocks:
        items += [BLANK, *renderables(block)]
    return Stack(*items)


def render_walkthrough(solution, console: Console, options: Options) -> None:
    """Print the whole walkthrough: introduction, reading guide, forward pass, loss, every backward step, update."""
    # Every widget fits its lines to the width, so rich need not measure each line again to crop it (which would
    # cost more than drawing a long walkthrough). A page is printed with the empty line before it: each print asks
    # the console for its options (and the terminal for its size), a cost paid for every page.
    for part in introduction(solution):
        console.print(part, crop=False)
    console.print(BLANK, guide_renderable(solution, options), crop=False)
    for page in story.pages(solution):
        console.print(BLANK, page_renderable(solution, page, options), crop=False)
