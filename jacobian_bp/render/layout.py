"""The one page layout: every page of the walkthrough as blocks, for the terminal and the documents alike.

`sections` lays the walkthrough out as headings and form-independent blocks, in the order and with
the sentences of `story`. The terminal (rich), the step-through, Markdown, LaTeX and HTML all print
these same blocks, so the wording cannot drift between them. A `Group` keeps blocks together (the
terminal prints no blank line inside it); a group marked `result` is what `--reveal` hides.
"""

import re
from dataclasses import dataclass, field, replace
from functools import cache, cached_property

import numpy as np

from .. import entries
from ..conventions import writing
from ..numbers import format_number
from ..sentences import Sentence, math, say
from ..structured import Structured
from . import story

# Documents show at most this many rows (columns) of a matrix: beyond, the first and last KEPT of them
# around an elision mark. The terminal keeps its own rows (widgets.MAX_ROWS) and fits columns to its width.
DOCUMENT_ROWS, DOCUMENT_KEPT_ROWS = 24, 10
DOCUMENT_COLUMNS, DOCUMENT_KEPT_COLUMNS = 14, 6
# The marks that stand for elided rows, elided columns, and both.
ROWS_MARK, COLUMNS_MARK, BOTH_MARK = "⋮", "…", "⋱"
ASCII_MARKS = {ROWS_MARK: ":", COLUMNS_MARK: "...", BOTH_MARK: "..."}


@dataclass(frozen=True)
class Window:
    """Which rows and columns of a `shape` matrix are shown: indices from 0, None where a mark stands."""

    rows: tuple
    columns: tuple
    shape: tuple[int, int]

    @property
    def hidden(self) -> int:
        """How many entries are not shown."""
        shown = sum(i is not None for i in self.rows) * sum(j is not None for j in self.columns)
        return self.shape[0] * self.shape[1] - shown

    def note(self) -> str:
        """`(812 of 41209 columns and 792 of 812 rows not shown)`, or "" when everything is shown."""
        (rows, columns), parts = self.shape, []
        shown_rows, shown_columns = (sum(i is not None for i in kept) for kept in (self.rows, self.columns))
        if shown_columns < columns:
            parts.append(f"{columns - shown_columns} of {columns} columns")
        if shown_rows < rows:
            parts.append(f"{rows - shown_rows} of {rows} rows")
        return f"({' and '.join(parts)} not shown)" if parts else ""


def _kept(count: int, most: int, kept: int) -> tuple:
    return tuple(range(count)) if count <= most else (*range(kept), None, *range(count - kept, count))


def window(shape: tuple[int, int], rows: tuple[int, int] = (DOCUMENT_ROWS, DOCUMENT_KEPT_ROWS),
           columns: tuple[int, int] = (DOCUMENT_COLUMNS, DOCUMENT_KEPT_COLUMNS)) -> Window:
    """The rows and columns shown of a `shape` matrix: all of them up to a most, else the first and last kept.

    >>> window((30, 3)).rows[9:12], window((30, 3)).columns
    ((9, None, 20), (0, 1, 2))
    """
    return _window(tuple(shape), rows, columns)


@cache
def _window(shape: tuple[int, int], rows: tuple[int, int], columns: tuple[int, int]) -> Window:
    """`window`, kept for each shape asked (a `Window` never changes): a deep network's pages show hundreds of
    Jacobians of a few shapes."""
    return Window(_kept(shape[0], *rows), _kept(shape[1], *columns), shape)


def marked(window: Window, cells) -> list[list[tuple[str, bool]]]:
    """The shown cells (rows of (text, is zero) for the indices of `window`) with the marks put in the gaps."""
    found, found_rows = [], iter(cells)
    for i in window.rows:
        row = next(found_rows) if i is not None else None
        entries = iter(row) if row is not None else None
        found.append([(BOTH_MARK if i is None and j is None else ROWS_MARK if i is None else COLUMNS_MARK, True)
                      if i is None or j is None else next(entries) for j in window.columns])
    return found


# A matrix of at most this many entries is read whole when a page shows part of it (cheaper than indexing).
SMALL_MATRIX = 400


@dataclass(frozen=True)
class Numbers:
    """A numeric matrix shown at `decimals`: an array, or a `structured.Structured` Jacobian.

    Only the entries that are shown are ever read (`cells`), so a Jacobian of billions of entries
    costs what its corner costs.
    """

    values: object
    decimals: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape if isinstance(self.values, Structured) else np.atleast_2d(self.values).shape

    def cells(self, rows, columns, ascii_only: bool = False) -> list[list[tuple[str, bool]]]:
        """The entries at the crossings of `rows` and `columns` as (text, is an exact zero); numbers are ASCII."""
        matrix = self.values if isinstance(self.values, Structured) else np.atleast_2d(self.values)
        if not isinstance(matrix, Structured) and matrix.size <= SMALL_MATRIX:  # read as Python numbers at once
            whole = matrix.tolist()
            block = [[whole[i][j] for j in columns] for i in rows]
        else:
            rows, columns = np.asarray(rows, dtype=int), np.asarray(columns, dtype=int)
            block = (matrix.block(rows, columns) if isinstance(matrix, Structured)
                     else matrix[np.ix_(rows, columns)]).tolist()
        return [[(format_number(value, self.decimals), value == 0) for value in row] for row in block]

    def window(self) -> Window:
        """What documents show of the matrix."""
        return window(self.shape)

    def rows(self) -> list[list[tuple[str, bool]]]:
        """Each shown entry as (text, is an exact zero), marks where rows or columns are elided; zeros and
        marks are drawn dimmed."""
        shown = self.window()
        return marked(shown, self.cells([i for i in shown.rows if i is not None],
                                        [j for j in shown.columns if j is not None]))


@dataclass(frozen=True)
class Symbols:
    """A step's local Jacobian in symbols, written only when a renderer asks for it.

    Plain text comes from the op's index pattern where it has one (no sympy); LaTeX and MathML, and
    the text of ops without a pattern, come from the sympy matrix, which is built on first use.
    """

    solution: object
    step: object

    @property
    def shape(self) -> tuple[int, int]:
        return self.step.structure.shape

    @property
    def window(self) -> Window:
        """The rows and columns written out (all of them, up to the most documents show)."""
        return window(self.shape)

    @cached_property
    def pattern(self):
        if not self.solution.conventions.is_default:  # the op's index pattern is in the engine's order
            return None
        node = self.solution.graph.producers[self.step.node]
        return node.op.symbolic_pattern(self.step.role, entries.role_namers(self.solution, node),
                                        self.solution.graph.role_values(node, self.solution.values))

    @cached_property
    def matrix(self):
        from .. import symbolic

        return writing(self.solution).jacobian(self.step.node, self.step.variable,
                                               symbolic.jacobian(self.solution, self.step))

    def rows(self) -> list[list[tuple[object, bool]]]:
        """Each shown entry as (sympy expression, is zero), in the window documents show, with the marks (text)
        where rows or columns are elided."""
        shown = self.window
        matrix = self.matrix
        return marked(shown, [[(matrix[i, j], matrix[i, j] == 0) for j in shown.columns if j is not None]
                              for i in shown.rows if i is not None])

    @property
    def corner(self) -> bool:
        """Whether the Jacobian is too large to be written out in symbols, so that only the entries shown are
        written, from the op's index pattern (`terms`); an op without a pattern shows such a Jacobian in numbers."""
        return not story.symbolic_shown(self.step)

    def terms(self, rows, columns) -> list[list[entries.Term]]:
        """The pattern's entries at the crossings of `rows` and `columns`: only these are ever written."""
        return [[self.pattern(r, c) for c in columns] for r in rows]

    def cells(self, rows, columns, ascii_only: bool = False) -> list[list[tuple[str, bool]]]:
        """The entries at the crossings of `rows` and `columns` as (plain text, is zero), from the pattern."""
        return [[(term.text(ascii_only), term.zero) for term in row] for row in self.terms(rows, columns)]

    def pattern_rows(self) -> list[list[tuple[object, bool]]]:
        """The pattern's entries as (`entries.Term`, is zero) in the window documents show, with the marks (text)
        where rows or columns are elided: only these entries are written, however large the Jacobian."""
        shown = self.window
        return marked(shown, [[(term, term.zero) for term in row]
                              for row in self.terms([i for i in shown.rows if i is not None],
                                                    [j for j in shown.columns if j is not None])])

    def texts(self, ascii_only: bool = False) -> list[list[tuple[str, bool]]]:
        """Each shown entry as (plain text, is zero), as `symbolic.text` prints it, in the window of `rows`; written
        once (a page's layout measures them, then the terminal draws them)."""
        written = self._written
        if ascii_only not in written:
            written[ascii_only] = self._texts(ascii_only)
        return written[ascii_only]

    @cached_property
    def _written(self) -> dict:
        """The texts written so far, by `ascii_only` (a dict: a `functools.cache` per Jacobian costs more to make
        than a deep network's small Jacobians cost to write)."""
        return {}

    def _texts(self, ascii_only: bool) -> list[list[tuple[str, bool]]]:
        if self.pattern is not None:  # (the pattern's terms written straight away, not kept as `pattern_rows`)
            shown = self.window
            texts = marked(shown, self.cells([i for i in shown.rows if i is not None],
                                             [j for j in shown.columns if j is not None], ascii_only))
        else:
            from .. import symbolic

            texts = [[(entry if isinstance(entry, str) else symbolic.text(entry, ascii_only), zero)
                      for entry, zero in row] for row in self.rows()]
        if not ascii_only:
            return texts
        return [[(ASCII_MARKS.get(text, text), zero) for text, zero in row] for row in texts]


@dataclass(frozen=True)
class FittedSymbols(Symbols):
    """A symbolic Jacobian rewritten to fit a page (short names, or one sample's block), of shape `size`: its text
    from `short_pattern` (the op's index pattern with the short names) where the op has one, and its sympy matrix
    from `fit()`, called on first use (LaTeX and MathML, and the text of ops without a pattern)."""

    fit: object = None
    short_pattern: object = None
    size: tuple[int, int] = (0, 0)

    @property
    def shape(self) -> tuple[int, int]:
        return self.size

    @property
    def pattern(self):
        return self.short_pattern

    @property
    def corner(self) -> bool:
        return False

    @cached_property
    def matrix(self):
        return self.fit()


@dataclass(frozen=True)
class Expression:
    """A scalar equation in symbols, `left = right`: as text (`entries.Term`s written without sympy) for the
    terminal, and as sympy expressions (`build()`, called on first use of `left` or `right`) for LaTeX and MathML."""

    text_left: entries.Term
    text_right: entries.Term
    build: object  # () -> (left, right) in sympy

    @cached_property
    def _built(self) -> tuple:
        return self.build()

    @property
    def left(self):
        return self._built[0]

    @property
    def right(self):
        return self._built[1]

    def text(self, ascii_only: bool = False) -> str:
        return f"{self.text_left.text(ascii_only)} = {self.text_right.text(ascii_only)}"


@dataclass(frozen=True)
class Gap:
    """Space between two equations that share a line, like the article's `\\quad` (`width` in the terminal)."""

    width: int = 2


GAP = Gap()


@dataclass(frozen=True)
class Equation:
    """Display math: each line reads its parts left to right (formula texts, `Numbers`, `Symbols`, `Expression`,
    `Gap`).

    A `label` (a sentence of ours) comes before the first line: on the same line in the terminal.
    """

    lines: tuple[tuple, ...]
    label: Sentence = say()


@dataclass(frozen=True)
class Jacobian:
    """A step's local Jacobian: its equation, and the block structure its sparsity picture shows.

    `structure` is the Jacobian as the op gives it (`structured.Structured`). Rows come in groups of
    `row_group` (one group per row of the function), columns in groups of `column_group` (one group
    per row of the variable).
    """

    equation: Equation
    structure: Structured
    name: str
    function: str
    variable: str
    row_group: int
    column_group: int


@dataclass(frozen=True)
class Prose:
    """A sentence of ours; `tone` is plain, name (a formula said in words), note (a warning), check (two ways
    agree) or aside (said in passing)."""

    text: Sentence
    tone: str = "plain"


@dataclass(frozen=True)
class Curve:
    """The cost over the training steps: `costs[t − 1]` before step t's update, and last the cost after training."""

    costs: tuple[float, ...]
    decimals: int


def cost_label(index: int, count: int) -> str:
    """`step 3` for the cost before step 3's update; the last of `count` costs is the one after training."""
    return "after training" if index == count - 1 else f"step {index + 1}"


@dataclass(frozen=True)
class Breadcrumb:
    """Where the page or step is in the computational graph (see `story.breadcrumb`)."""

    main: tuple[story.Crumb, ...]
    side: tuple[story.Crumb, ...]


@dataclass(frozen=True)
class Subheading:
    """The heading of one step on a page that holds several (a layer's bias and weights, a fan-out's paths)."""

    text: Sentence
    anchor: str


@dataclass(frozen=True)
class Group:
    """Blocks that belong together; `result` marks what a step-through with `--reveal` hides until asked."""

    blocks: tuple
    result: bool = False


@dataclass(frozen=True)
class Section:
    """One page of `story.pages`: its kind (forward, loss, backward, update), heading, link target and blocks."""

    kind: str
    title: Sentence
    anchor: str
    blocks: tuple = field(default=())


@dataclass(frozen=True)
class Introduction:
    """What comes before the first section: the title, a one-line summary, the description, a note."""

    title: str
    summary: str
    description: str  # people's words: its names of quantities are typeset (`formulas.pieces`, names only)
    note: Sentence


def introduction(solution) -> Introduction:
    """The walkthrough's title, its network in one line, its description and how missing weights were set."""
    walkthrough = solution.walkthrough
    note = story.initialization_note(walkthrough) if walkthrough.initialized else say()
    return Introduction(walkthrough.title, story.summary(solution), " ".join(walkthrough.description.split()), note)


def anchor(text: str) -> str:
    """A link target made of the text's letters and digits: `dJ/dW3` → `dj-dw3`.

    >>> anchor("Backward step 4/10 · dJ/db3 and dJ/dW3")
    'backward-step-4-10-dj-db3-and-dj-dw3'
    """
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def flat(blocks) -> list:
    """The blocks with every group opened, for forms that lay blocks out one after another."""
    found = []
    for block in blocks:
        found += flat(block.blocks) if isinstance(block, Group) else [block]
    return found


def sections(solution, decimals: int, symbolic: bool) -> list[Section]:
    """The reading guide, then every page of the walkthrough as a section of blocks, in the order of `story.pages`."""
    from .guide import guide

    return [guide(solution, decimals, symbolic),
            *(section(solution, page, decimals, symbolic) for page in story.pages(solution))]


def section(solution, page: story.Page, decimals: int, symbolic: bool) -> Section:
    """One page as a section of blocks: its steps, or the blocks of its part of the walkthrough."""
    if page.training > 1 and not page.closing:
        return _later_section(solution, page, decimals, symbolic)
    if page.steps:
        blocks = [block for step in page.steps
                  for block in step_blocks(solution, page, step, decimals, symbolic, len(page.steps) > 1)]
    else:
        blocks = [_breadcrumb(solution, page), *PAGE_BLOCKS[page.kind](solution, decimals)]
    return Section(page.kind, page.title, anchor(str(page.title)), tuple(blocks))


def step_section(solution, step, decimals: int, symbolic: bool) -> Section:
    """The page of one backward step with that step alone on it (a sum step still reads its contributions
    from the page), as a notebook shows a step."""
    number = next(training.number for training in solution.training if any(step is own for own in training.steps))
    page = next(page for page in story.training_pages(solution, number) if any(step is own for own in page.steps))
    at = solution.at(number)
    blocks = step_blocks(at, replace(page, training=1), step, decimals, symbolic, len(page.steps) > 1)
    return Section(page.kind, page.title, anchor(str(page.title)), tuple(blocks))


def update_section(solution, update, decimals: int) -> Section:
    """The update page of `update`'s training step with that one parameter's update on it."""
    page = next(page for page in story.training_pages(solution, update.training_step)
                if any(update is own for own in page.updates))
    at = solution.at(update.training_step)
    blocks = (_breadcrumb(at, replace(page, training=1)), *_update_blocks(at, decimals, (update,)))
    return Section(page.kind, page.title, anchor(str(page.title)), blocks)


def _later_section(solution, page: story.Page, decimals: int, symbolic: bool) -> Section:
    """A page of a later training step: laid out as the first step's, from that step's values, with a note that
    its quantities carry `@t` elsewhere."""
    at = solution.at(page.training)
    inner = section(at, replace(page, training=1), decimals, symbolic)
    if page.summary:
        return replace(inner, anchor=anchor(str(page.title)))
    note = Prose(say("Every quantity on this page belongs to training step ", str(page.training), ", from the "
                     "parameters the step before left: in JSON and in answer files its name carries ",
                     math(f"@{page.training}"), " (", math(f"Z1@{page.training}"), ", ",
                     math(f"dJ/dW1@{page.training}"), ")."), "aside")
    return replace(inner, blocks=(note, *inner.blocks))


def _breadcrumb(solution, page, step=None) -> Breadcrumb:
    return Breadcrumb(*story.breadcrumb(solution, page, step))


def _side_by_side(names, values: dict, decimals: int, gap: Gap = GAP, label: Sentence | None = None) -> Equation:
    """`W1 = […]  b1 = […]`: several named matrices on one line."""
    parts: list = []
    for name in names:
        parts += ([gap] if parts else []) + [f"{name} =", Numbers(values[name], decimals)]
    return Equation((tuple(parts),), label=label or say())


def pictures(solution, variable: str, name: str, value: np.ndarray, decimals: int) -> list:
    """A value whose rows are images or sequences shown as its pictures, one line per sample (channels side by
    side); a kernel as its filters, one line per output channel. Nothing for any other value."""
    graph = solution.graph
    value = writing(solution).matrix(variable, value)  # a sample's row (or a kernel) as computed
    if variable in graph.layouts:
        layout = graph.layouts[variable]
        filters = np.asarray(value).reshape(layout[0], layout[1], -1, layout[-1])
        label = story.kernel_caption(name, layout)
    elif variable in graph.images:
        image = graph.images[variable]
        filters = np.atleast_2d(value).reshape(-1, image[0], image[1] if len(image) == 3 else 1, image[-1])
        if len(image) == 2:  # a sequence: its channels are the rows of one matrix
            filters = filters.swapaxes(1, 2)
        label = story.picture_caption(name, image, solution.conventions.sample_line)
    else:
        return []
    lines = []
    for index, parts in enumerate(filters, start=1):
        line: list = [f"{story.picture_name(name, index, variable in graph.layouts)} ="]
        for k, part in enumerate(parts):
            line += ([GAP] if k else []) + [Numbers(part, decimals)]
        lines.append(Equation((tuple(line),)))
    return [Group((Prose(label), *lines))]


def _forward_blocks(solution, decimals: int) -> list:
    values, graph = solution.values, solution.graph
    blocks = [_side_by_side(graph.data, values, decimals)]
    blocks += [block for name in graph.data for block in pictures(solution, name, name, values[name], decimals)]
    for formula, parameters, outputs in story.forward_groups(solution):
        # A layer's heading names its nodes; a single node's formula is the first of its own lines.
        blocks += [*([Prose(formula, "name")] if len(outputs) > 1 else []),
                   *([_side_by_side(parameters, values, decimals)] if parameters else [])]
        blocks += [block for name in parameters for block in pictures(solution, name, name, values[name], decimals)]
        blocks += [Group(tuple(_forward_lines(solution, graph.producers[output], decimals) for output in outputs))]
        for name in outputs:
            blocks += pictures(solution, name, name, values[name], decimals)
            blocks += [Prose(note) for note in story.output_notes(solution, name)]
    return blocks


def _forward_lines(solution, node, decimals: int) -> Group:
    """How one node's output is worked out: the op's intermediate products (`X · W1ᵀ`, the bias on every
    row), or its formula and value (`A1 = ReLU(Z1) = […]`). The products are written samples as rows, so with
    samples as columns the formula and value stand alone (`Z1 = W1 · X + b1 = […]`)."""
    values, conventions = solution.values, solution.conventions
    products = () if conventions.columns else node.op.forward_products(solution.graph.role_values(node, values),
                                                                          node.names())
    lines = products or ((f"{node.output} = {conventions.expression(node)} =", values[node.output]),)
    return Group(tuple(Equation((tuple(Numbers(part, decimals) if isinstance(part, np.ndarray) else part
                                       for part in line),)) for line in lines))


def _loss_blocks(solution, decimals: int) -> list:
    graph = solution.graph
    shown = [name for name in graph.computed if name not in graph.on_main_path] + [graph.loss_node.output]
    return [Prose(story.loss_formula(solution)),
            _side_by_side(shown, solution.values, decimals),
            *(Prose(note, "note") for note in story.loss_notes(solution)),
            Equation(((f"{graph.cost_node.output} =",
                       f"{story.cost_expression(solution)} = {format_number(solution.J, decimals)}"),))]


def _update_blocks(solution, decimals: int, updates: tuple | None = None) -> list:
    """Each parameter's update (or those of `updates`): its formulas, what it starts from (the optimizer's state of
    the step before, if any), then the new state and the new parameter."""
    updates = solution.updates if updates is None else updates
    blocks = [Prose(solution.walkthrough.optimizer.describe(format_number(updates[0].learning_rate, 12)))] \
        if updates and updates[0].optimizer.state_names else []
    for update in updates:
        previous = [Equation(((f"{name} =", Numbers(update.previous_state[state], decimals)),))
                    for state, name in update.previous_state_names().items()]
        states = [Equation(((f"{name} =", Numbers(update.state[state], decimals)),))
                  for state, name in update.state_names().items()]
        blocks += [
            Group((*(Prose(formula, "name") for formula in story.update_formulas(update, decimals)),
                   Equation(((f"{update.old_name} =", Numbers(update.old, decimals), Gap(1),
                              f"{update.gradient_name} =", Numbers(update.gradient, decimals)),)), *previous)),
            Group((*states, Equation(((f"{update.name} =", Numbers(update.new, decimals)),)),
                   *pictures(solution, update.parameter, update.name, update.new, decimals)), result=True),
        ]
    return blocks


def _conventions_blocks(solution, decimals: int) -> list:
    """What the conventions in force write differently, `vec` of a 2 × 3 matrix drawn, and a Jacobian's rows and
    columns."""
    conventions = solution.conventions
    matrix, flat = story.vec_example(conventions)
    return [Prose(story.conventions_in_force(conventions)),
            Prose(story.samples_sentence(solution)),
            Prose(story.vec_sentence(conventions)),
            Equation((("M =", Numbers(matrix, decimals), GAP, "vec(M) =", Numbers(flat, decimals)),)),
            Prose(story.jacobian_sentence(solution))]


def _training_blocks(solution, decimals: int) -> list:
    """A later training step in short: its cost, then its update (the gradients as the backward pass gives them)."""
    training = solution.training[0]
    return [Prose(say("The forward and backward passes of this step go exactly as in the first, from the parameters "
                      "the step before left; here are their cost and the update. (", math("--all-steps"),
                      " shows every page of every step.)"), "aside"),
            Equation(((f"J{training.suffix} =", format_number(training.J, decimals)),)),
            *_update_blocks(solution, decimals)]


def _cost_blocks(solution, decimals: int) -> list:
    """The cost after training, and the curve of the cost over the steps."""
    return [Prose(story.final_cost_sentence(solution, decimals)),
            Curve(tuple(solution.costs), decimals),
            Equation((("J_final =", format_number(solution.J_final, decimals)),))]


# The blocks of the pages that hold no backward steps.
PAGE_BLOCKS = {"conventions": _conventions_blocks, "forward": _forward_blocks, "loss": _loss_blocks,
               "update": _update_blocks, "training": _training_blocks, "cost": _cost_blocks}


def step_blocks(solution, page, step, decimals: int, symbolic: bool, heading: bool) -> list:
    """One backward step: where it is, the chain rule, the Jacobian, the product, the result, the check."""
    if step.is_sum:
        return _sum_blocks(solution, page, step, decimals)
    blocks = [Subheading(say(math(step.gradient)), anchor(step.gradient))] if heading else []
    omitted = symbolic and not story.symbolic_shown(step)
    corner = omitted and symbolic_corner(solution, step) is not None
    conventions = solution.conventions
    blocks += [
        _breadcrumb(solution, page, step),
        Equation(((story.chain_rule(step, conventions),), (story.vectorized_chain_rule(step, conventions),)),
                 label=say("Chain rule:")),
        Group((Prose(story.explanation(step, solution)), Prose(story.jacobian_caption(step, conventions)),
               *([] if step.structure.small else [Prose(story.structure_caption(step))]))),
        *([Prose(story.symbolic_corner_caption(step) if corner else story.symbolic_omitted(step), "aside")]
          if omitted else []),
        *_jacobian(solution, step, decimals, symbolic),
        *(Prose(story.kink_note(step, kink, decimals), "note") for kink in step.kinks),
        *(Prose(note, "note") for note in step.notes),
        Equation(((f"{story.upstream_label(step)} =", Numbers(step.upstream_row, decimals)),),
                 label=say(f"Upstream {conventions.flat}")),
    ]
    agreed = story.agrees(step.result, step.shortcut)
    checks = [Prose(story.shortcut_caption(step, agreed), "check" if agreed else "note")]
    if step.fused is not None:
        fused = story.agrees(step.result, step.fused)
        checks.append(Prose(story.fused_caption(step, solution, fused), "check" if fused else "note"))
    blocks.append(Group((
        Equation(((Numbers(step.product_row, decimals),),),
                 label=conventions.product_label(story.jacobian_label(step))),
        Group((Prose(story.devectorize_caption(step, conventions)),
               Equation(((f"{step.gradient} =", Numbers(step.result, decimals)),)),
               *pictures(solution, step.variable, step.gradient, step.result, decimals))),
        *(Prose(story.kink_consequence(solution, step, kink, decimals), "note") for kink in step.kinks),
        Group(tuple(checks))), result=True))
    return blocks


def _sum_blocks(solution, page, step, decimals: int) -> list:
    """A sum step: the contributions of every path, then their sum."""
    values = {other.gradient: other.result for other in page.steps}
    return [Subheading(say(math(step.gradient)), anchor(step.gradient)),
            _breadcrumb(solution, page, step),
            Equation(((story.chain_rule(step),), (story.vectorized_chain_rule(step),)), label=say("Chain rule:")),
            Prose(story.explanation(step, solution)),
            Group(tuple(_side_by_side([name], values, decimals) for name in step.contributions)),
            Group((Prose(say("Added entry by entry, in the shape of ", math(step.variable), ":")),
                   Equation(((f"{step.gradient} =", Numbers(step.result, decimals)),))), result=True)]


def _symbolic_data(solution, step, decimals: int) -> list:
    """The values of the data the symbolic form keeps as symbols (the targets `y₁₁`), beside it."""
    node = solution.graph.producers[step.node]
    kept = [node.roles[role] for role in node.op.data_roles if role in node.roles and node.op.symbolic_data(role)]
    return [Equation(((f"{name} =", Numbers(solution.values[name], decimals)),),
                     label=say("In symbols, ", math(entries.namer(solution.graph, name, data=True)(0, 0).unicode),
                               " is row 1, column 1 of ", math(name), ":"))
            for name in kept]


def symbolic_corner(solution, step) -> "Symbols | None":
    """The symbols of a Jacobian too large to write out whole, when its op writes entries from an index pattern:
    only the corner a page shows is ever written. None for a Jacobian written out whole, or without a pattern."""
    if story.symbolic_shown(step) or step.is_sum:
        return None
    symbols = Symbols(solution, step)
    return symbols if symbols.pattern is not None else None


def _jacobian(solution, step, decimals: int, symbolic: bool) -> list:
    """The local Jacobian in symbols and numbers; a symbolic form too wide for a page comes in the shorter
    form `fitting` picks, with what it leaves out said above it (one sample's block stands on its own line).
    A small Jacobian is shown from its full matrix; a larger one from its structure, entry by shown entry, and
    its symbols (where its op has an index pattern) likewise, for the shown corner only."""
    numeric = Numbers(step.jacobian if step.structure.small else step.structure, decimals)
    blocks: list = []
    name = story.jacobian_label(step)
    line: tuple = (f"{name} =", numeric)
    corner = symbolic_corner(solution, step) if symbolic else None
    if corner is not None:
        line = (f"{name} =", corner, "=", numeric)
    elif symbolic and story.symbolic_shown(step):
        from .fitting import symbolic_form

        form = symbolic_form(solution, step, Symbols(solution, step))
        blocks += [Prose(note, "aside") for note in form.notes]
        blocks += _symbolic_data(solution, step, decimals)
        if form.block:
            blocks.append(Equation(((form.symbols,),), label=say("Sample 1's block of ", math(name), ":")))
        else:
            line = (f"{name} =", form.symbols, "=", numeric)
    row_group, column_group = solution.conventions.groups(np.atleast_2d(solution.values[step.node]).shape,
                                                          step.result.shape)
    blocks.append(Jacobian(Equation((line,)), step.structure, name, step.node, step.variable,
                           row_group=row_group, column_group=column_group))
    return blocks
