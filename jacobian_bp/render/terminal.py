"""The walkthrough in the terminal, with rich: every matrix bracketed, aligned and never clipped.

Matrices too wide for the terminal keep their brackets and lose middle columns (numpy-style
`…`); pieces that do not fit side by side are stacked. Piped output and `NO_COLOR` give plain
text. This module and the CLI are the only places that import rich.
"""

from dataclasses import dataclass

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.rule import Rule
from rich.text import Text

from ..numbers import format_number
from . import story

MAX_ROWS = 24
KEPT_ROWS = 10
GAP = "  "
CONTINUATION_INDENT = 4
ZERO_STYLE = "dim"
NAME_STYLE = "bold"
MARK_STYLE = "bold reverse"
NOTE_STYLE = "yellow"
OK_STYLE = "green"


@dataclass(frozen=True)
class Options:
    """How to show numbers and whether to show the symbolic Jacobians."""

    decimals: int = 4
    symbolic: bool = True


class MatrixView:
    """A bracketed matrix with decimal-aligned columns and dimmed zeros.

    `cells` holds the text of every entry; `ascii_cells`, if given, is used on terminals that
    cannot show Unicode. Numeric columns line up on the decimal point; symbolic ones are centred.
    """

    def __init__(self, cells, zeros, numeric: bool, ascii_cells=None):
        self.cells = cells
        self.ascii_cells = ascii_cells or cells
        self.zeros = zeros
        self.numeric = numeric

    @classmethod
    def of(cls, matrix: np.ndarray, decimals: int) -> "MatrixView":
        matrix = np.atleast_2d(matrix)
        cells = [[format_number(float(v), decimals) for v in row] for row in matrix]
        return cls(cells, matrix == 0, numeric=True)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text("\n").join(self.lines(options.max_width, options.ascii_only))

    def lines(self, max_width: int, ascii_only: bool) -> list[Text]:
        cells = self.ascii_cells if ascii_only else self.cells
        rows, columns = len(cells), len(cells[0])
        row_order = list(range(rows))
        if rows > MAX_ROWS:
            row_order = list(range(KEPT_ROWS)) + [None] + list(range(rows - KEPT_ROWS, rows))
        texts = [self._column(cells, j, row_order) for j in range(columns)]
        widths = [len(column[0]) for column in texts]
        ellipsis = "..." if ascii_only else "…"
        left, right = self._fit(widths, max_width, len(ellipsis))
        shown = list(range(left)) + ([None] if left + right < columns else []) + list(range(columns - right, columns))
        lines = []
        for line_index, i in enumerate(row_order):
            line = Text(no_wrap=True)
            line.append(self._bracket(line_index, len(row_order), ascii_only, left_side=True) + " ")
            for position, j in enumerate(shown):
                if position:
                    line.append(GAP)
                if j is None:
                    line.append(ellipsis if i is not None or ascii_only else "⋱", style=ZERO_STYLE)
                    continue
                style = ZERO_STYLE if i is not None and self.zeros[i][j] else ""
                line.append(texts[j][line_index], style=style)
            line.append(" " + self._bracket(line_index, len(row_order), ascii_only, left_side=False))
            lines.append(line)
        hidden = columns - left - right
        if hidden > 0 or rows > MAX_ROWS:
            lines.append(Text(self._elision_note(rows, columns, hidden), style=ZERO_STYLE))
        return lines

    def _column(self, cells, j: int, row_order) -> list[str]:
        """The entries of column j, padded to one width (aligned on the decimal point if numeric)."""
        entries = [cells[i][j] if i is not None else None for i in row_order]
        present = [e for e in entries if e is not None]
        if self.numeric:
            heads = [e.split(".")[0] for e in present]
            tails = [e[len(h):] for e, h in zip(present, heads, strict=True)]
            head_width = max(map(len, heads))
            tail_width = max(map(len, tails))
            aligned = iter(h.rjust(head_width) + t.ljust(tail_width) for h, t in zip(heads, tails, strict=True))
            width = head_width + tail_width
        else:
            width = max(map(len, present))
            aligned = iter(e.center(width) for e in present)
        return [next(aligned) if e is not None else "⋮".center(width) for e in entries]

    @staticmethod
    def _fit(widths: list[int], max_width: int, ellipsis_width: int) -> tuple[int, int]:
        """How many columns to keep on the left and on the right so the matrix fits."""
        columns = len(widths)
        frame = 4

        def width_of(kept: list[int], elided: bool) -> int:
            parts = [widths[j] for j in kept] + ([ellipsis_width] if elided else [])
            return frame + sum(parts) + len(GAP) * (len(parts) - 1)

        if width_of(list(range(columns)), False) <= max_width:
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

    @staticmethod
    def _elision_note(rows: int, columns: int, hidden_columns: int) -> str:
        parts = []
        if hidden_columns > 0:
            parts.append(f"{hidden_columns} of {columns} columns")
        if rows > MAX_ROWS:
            parts.append(f"{rows - 2 * KEPT_ROWS} of {rows} rows")
        return f"({' and '.join(parts)} not shown)"


class Equation:
    """Labels, operators and matrices laid out left to right, wrapping onto new lines when needed.

    Parts that fit share a line and are centred vertically on each other; a part that does not
    fit starts a new line, so nothing is ever cut.
    """

    def __init__(self, *parts):
        self.parts = parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text("\n").join(self.lines(options.max_width, options.ascii_only))

    def lines(self, max_width: int, ascii_only: bool) -> list[Text]:
        blocks = [self._block(part, max_width, ascii_only) for part in self.parts]
        output: list[Text] = []
        row: list[list[Text]] = []
        row_width = 0
        indent = 0
        for block in blocks:
            width = max(line.cell_len for line in block)
            needed = width if not row else row_width + 1 + width
            if row and needed > max_width:
                output += self._join(row, indent)
                indent = CONTINUATION_INDENT if width + CONTINUATION_INDENT <= max_width else 0
                row, needed = [], indent + width
            row.append(block)
            row_width = needed
        return output + self._join(row, indent)

    @staticmethod
    def _block(part, max_width: int, ascii_only: bool) -> list[Text]:
        if isinstance(part, (MatrixView, Equation)):
            return part.lines(max_width, ascii_only)
        if isinstance(part, Text):
            return [Text(_plain(part.plain, ascii_only), style=part.style)]
        return [Text(_plain(part, ascii_only))]

    @staticmethod
    def _join(row: list[list[Text]], indent: int) -> list[Text]:
        if not row:
            return []
        height = max(len(block) for block in row)
        joined = [Text(" " * indent, no_wrap=True) for _ in range(height)]
        for position, block in enumerate(row):
            width = max(line.cell_len for line in block)
            top = (height - len(block)) // 2
            for i in range(height):
                if position:
                    joined[i].append(" ")
                line = block[i - top] if top <= i < top + len(block) else Text()
                joined[i].append_text(line)
                joined[i].append(" " * (width - line.cell_len))
        for line in joined:
            line.rstrip()
        return joined


class Breadcrumb:
    """The one-line path through the computational graph, with the current node marked."""

    def __init__(self, main: list[story.Crumb], side: list[story.Crumb]):
        self.main, self.side = main, side

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        ascii_only = options.ascii_only
        main = self.main
        line = self._line(main, ascii_only)
        marked = [i for i, crumb in enumerate(main) if crumb.marked] or [len(main) - 1]
        while line.cell_len > options.max_width and len(main) > 3:
            centre = (marked[0] + marked[-1]) / 2
            drop = max((i for i in range(1, len(main) - 1) if main[i].label != "…"),
                       key=lambda i: abs(i - centre), default=None)
            if drop is None:
                break
            main = main[:drop] + [story.Crumb("…", False, main[drop].arrow)] + main[drop + 1:]
            main = [c for i, c in enumerate(main) if not (c.label == "…" and i > 0 and main[i - 1].label == "…")]
            marked = [i for i, crumb in enumerate(main) if crumb.marked] or [len(main) - 1]
            line = self._line(main, ascii_only)
        line.no_wrap, line.overflow = True, "ellipsis"
        yield line

    def _line(self, main: list[story.Crumb], ascii_only: bool) -> Text:
        line = Text()
        self._append(line, main, ascii_only)
        if self.side:
            line.append("    ")
            self._append(line, self.side, ascii_only)
        return line

    @staticmethod
    def _append(line: Text, crumbs: list[story.Crumb], ascii_only: bool):
        for crumb in crumbs:
            if crumb.arrow:
                separator = crumb.arrow if crumb.arrow == "," else f" {_plain(crumb.arrow, ascii_only)} "
                line.append(separator if crumb.arrow != "," else ", ", style=ZERO_STYLE)
            label = _plain(crumb.label, ascii_only)
            line.append(f"[{label}]" if crumb.marked else label,
                        style=MARK_STYLE if crumb.marked else "")


ASCII_REPLACEMENTS = {"→": "->", "⇠": "<-", "·": "*", "⊙": "*", "ᵀ": "^T", "∂": "d", "−": "-", "✓": "OK",
                      "⚠": "!", "÷": "/", "±": "+/-", "√": "sqrt", "×": "x", "…": "..."}


def _plain(text: str, ascii_only: bool) -> str:
    """`text` as it is, or with its Unicode symbols spelt in ASCII for terminals that need it."""
    if not ascii_only:
        return text
    for symbol, replacement in ASCII_REPLACEMENTS.items():
        text = text.replace(symbol, replacement)
    return text


class Heading:
    """A page title on a horizontal rule."""

    def __init__(self, title: str):
        self.title = title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(Text(_plain(self.title, options.ascii_only), style="bold"), align="left")


class Prose:
    """Explanatory text that wraps at the terminal width, in ASCII where needed."""

    def __init__(self, text: str, style: str = ""):
        self.text, self.style = text, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = Text(_plain(self.text, options.ascii_only), style=self.style).wrap(console, options.max_width)
        for line in lines:
            line.rstrip()
        yield Text("\n").join(lines)


@dataclass(frozen=True)
class Block:
    """A piece of a page; `result` pieces are what `--reveal` hides until asked."""

    renderable: object
    result: bool = False


def _matrix(matrix: np.ndarray, options: Options) -> MatrixView:
    return MatrixView.of(matrix, options.decimals)


def _symbolic_matrix(solution, step) -> MatrixView:
    from .. import symbolic

    expressions = symbolic.jacobian(solution, step)
    rows = [list(expressions.row(i)) for i in range(expressions.rows)]
    return MatrixView([[symbolic.text(e) for e in row] for row in rows],
                      [[e == 0 for e in row] for row in rows], numeric=False,
                      ascii_cells=[[symbolic.text(e, ascii_only=True) for e in row] for row in rows])


def _name(text: str) -> Text:
    return Text(text, style=NAME_STYLE)


def forward_blocks(solution, options: Options) -> list[Block]:
    forward, walkthrough = solution.forward, solution.walkthrough
    blocks = [Block(Equation(_name("X ="), _matrix(forward.X, options), "  ", _name("Y ="),
                             _matrix(forward.Y, options)))]
    for k, layer in enumerate(walkthrough.network.layers, start=1):
        blocks.append(Block(Prose(story.layer_formula(k, layer.activation.name), NAME_STYLE)))
        blocks.append(Block(Equation(_name(f"W{k} ="), _matrix(layer.W, options), "  ",
                                     _name(f"b{k} ="), _matrix(layer.b, options))))
        blocks.append(Block(Equation(_name(f"Z{k} ="), _matrix(forward.Z[k], options), "  ",
                                     _name(f"A{k} ="), _matrix(forward.A[k], options))))
    return blocks


def loss_blocks(solution, options: Options) -> list[Block]:
    forward = solution.forward
    return [Block(Prose(story.loss_formula(solution))),
            Block(Equation(_name("L ="), _matrix(forward.L, options))),
            Block(Equation(_name("J ="), f"mean(L) = {format_number(forward.J, options.decimals)}"))]


def step_blocks(solution, step, options: Options, heading: bool) -> list[Block]:
    """Everything one backward step shows; the product, the result and the check are the result."""
    blocks = []
    if heading:
        blocks.append(Block(Prose(step.gradient, "bold underline")))
    page = story.Page("backward", "")
    blocks += [Block(Breadcrumb(*story.breadcrumb(solution, page, step))),
               Block(Group(Equation("Chain rule:", _name(story.chain_rule(step))),
                           Prose(story.vectorized_chain_rule(step)))),
               Block(Group(Prose(story.explanation(step, solution)), Prose(story.jacobian_caption(step))))]
    numeric = _matrix(step.jacobian, options)
    if options.symbolic:
        blocks.append(Block(Equation(_name(f"{step.jacobian_name} ="), _symbolic_matrix(solution, step),
                                     "=", numeric)))
    else:
        blocks.append(Block(Equation(_name(f"{step.jacobian_name} ="), numeric)))
    activation = solution.walkthrough.network.layer(step.layer).activation.name
    for kink in step.kinks:
        blocks.append(Block(Prose("⚠ " + story.kink_note(step, kink, activation, options.decimals), NOTE_STYLE)))
    upstream = "dJ/dJ" if step.kind == "cost" else f"vec({step.upstream})"
    blocks.append(Block(Equation(f"Upstream row {upstream} =", _matrix(step.upstream_row, options))))
    blocks.append(Block(Group(
        Equation(f"times {step.jacobian_name} gives the row", _matrix(step.product_row, options)),
        Text(""),
        Prose(story.devectorize_caption(step)),
        Equation(_name(f"{step.gradient} ="), _matrix(step.result, options)),
        Text(""),
        Prose("✓ " + story.shortcut_caption(step), OK_STYLE)), result=True))
    return blocks


def update_blocks(solution, options: Options) -> list[Block]:
    blocks = []
    for update in solution.updates:
        blocks.append(Block(Group(
            Prose(story.update_formula(update, options.decimals), NAME_STYLE),
            Equation(_name(f"{update.parameter} ="), _matrix(update.old, options), " ",
                     f"dJ/d{update.parameter} =", _matrix(update.gradient, options)))))
        blocks.append(Block(Equation(_name(f"{update.name} ="), _matrix(update.new, options)), result=True))
    return blocks


def page_blocks(solution, page: story.Page, options: Options) -> list[Block]:
    """The pieces of one page, in order."""
    if page.kind == "forward":
        return [Block(Breadcrumb(*story.breadcrumb(solution, page)))] + forward_blocks(solution, options)
    if page.kind == "loss":
        return [Block(Breadcrumb(*story.breadcrumb(solution, page)))] + loss_blocks(solution, options)
    if page.kind == "update":
        return [Block(Breadcrumb(*story.breadcrumb(solution, page)))] + update_blocks(solution, options)
    blocks = []
    for step in page.steps:
        blocks += step_blocks(solution, step, options, heading=len(page.steps) > 1)
    return blocks


def introduction(solution) -> list:
    """The title, the description and a one-line summary of the network."""
    walkthrough = solution.walkthrough
    network = walkthrough.network
    shape = " → ".join([str(walkthrough.X.shape[1])] + [
        f"{layer.units} ({story.activation_name(layer.activation.name)})" for layer in network.layers])
    parts = [Prose(walkthrough.title, "bold"),
             Prose(f"{solution.forward.samples} samples · layers {shape} · "
                   f"{story.loss_name(network.loss.name)} · learning rate {walkthrough.learning_rate:g}")]
    if walkthrough.description.strip():
        parts.append(Prose(" ".join(walkthrough.description.split())))
    if walkthrough.initialized:
        parts.append(Prose(f"{', '.join(walkthrough.initialized)} initialized from seed {walkthrough.seed} "
                           "(uniform in ±1/√inputs, as torch.nn.Linear does); the values are shown below.",
                           NOTE_STYLE))
    return parts


def page_renderable(solution, page: story.Page, options: Options, reveal: bool = True) -> Group:
    """One page with its heading; unrevealed results are replaced by a placeholder."""
    items: list = [Heading(page.title)]
    hidden = False
    for block in page_blocks(solution, page, options):
        if block.result and not reveal:
            if not hidden:
                items += [Text(""), Text("[ result hidden: press r to reveal ]", style=ZERO_STYLE)]
            hidden = True
            continue
        items += [Text(""), block.renderable]
    return Group(*items)


def render_walkthrough(solution, console: Console, options: Options) -> None:
    """Print the whole walkthrough: introduction, forward pass, loss, every backward step, update."""
    for part in introduction(solution):
        console.print(part)
    for page in story.pages(solution):
        console.print()
        console.print(page_renderable(solution, page, options))
