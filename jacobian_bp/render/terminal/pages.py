"""The walkthrough in the terminal: the pages of `story`, laid out with the widgets.

`page_renderable` draws one page (the classroom step-through shows one at a time);
`render_walkthrough` prints them all.
"""

from dataclasses import dataclass

import numpy as np
from rich.console import Console, Group
from rich.text import Text

from ...numbers import format_number
from .. import story
from .widgets import (
    NAME_STYLE,
    NOTE_STYLE,
    OK_STYLE,
    ZERO_STYLE,
    Breadcrumb,
    Equation,
    Heading,
    MatrixView,
    Prose,
)


@dataclass(frozen=True)
class Options:
    """How to show numbers and whether to show the symbolic Jacobians."""

    decimals: int = 4
    symbolic: bool = True


@dataclass(frozen=True)
class Block:
    """A piece of a page; `result` pieces are what `--reveal` hides until asked."""

    renderable: object
    result: bool = False


def _matrix(matrix: np.ndarray, options: Options) -> MatrixView:
    return MatrixView.of(matrix, options.decimals)


def _symbolic_matrix(solution, step) -> MatrixView:
    from ... import symbolic

    expressions = symbolic.jacobian(solution, step)
    rows = [list(expressions.row(i)) for i in range(expressions.rows)]
    return MatrixView([[symbolic.text(e) for e in row] for row in rows],
                      [[e == 0 for e in row] for row in rows], numeric=False,
                      ascii_cells=[[symbolic.text(e, ascii_only=True) for e in row] for row in rows])


def _checked(caption: str, agrees: bool) -> Prose:
    """A comparison of two ways to the same gradient: ✓ when they agree, ⚠ when they do not."""
    return Prose(f"✓ {caption}", OK_STYLE) if agrees else Prose(f"⚠ {caption}", NOTE_STYLE)


def _name(text: str) -> Text:
    return Text(text, style=NAME_STYLE)


def _side_by_side(names: list[str], values: dict, options: Options) -> Equation:
    """`W1 = […]  b1 = […]`: several named matrices on one line."""
    parts: list = []
    for name in names:
        parts += (["  "] if parts else []) + [_name(f"{name} ="), _matrix(values[name], options)]
    return Equation(*parts)


def forward_blocks(solution, options: Options) -> list[Block]:
    graph, values = solution.graph, solution.values
    blocks = [Block(_side_by_side(list(graph.data), values, options))]
    for formula, parameters, outputs in story.forward_groups(solution):
        blocks.append(Block(Prose(formula, NAME_STYLE)))
        if parameters:
            blocks.append(Block(_side_by_side(parameters, values, options)))
        blocks.append(Block(_side_by_side(outputs, values, options)))
    return blocks


def loss_blocks(solution, options: Options) -> list[Block]:
    graph, values = solution.graph, solution.values
    return [Block(Prose(story.loss_formula(solution))),
            Block(_side_by_side([name for name in graph.computed if name not in story.main_path(graph)]
                                + [graph.loss_node.output], values, options)),
            *(Block(Prose("⚠ " + note, NOTE_STYLE)) for note in story.loss_notes(solution)),
            Block(Equation(_name(f"{graph.cost_node.output} ="),
                           f"{story.cost_expression(solution)} = {format_number(solution.J, options.decimals)}"))]


def sum_blocks(solution, page: story.Page, step, options: Options) -> list[Block]:
    """A sum step: the contributions of every path, then their sum."""
    values = {step.gradient: step.result, **{other.gradient: other.result for other in page.steps}}
    return [Block(Prose(step.gradient, "bold underline")),
            Block(Breadcrumb(*story.breadcrumb(solution, page, step))),
            Block(Group(Equation("Chain rule:", _name(story.chain_rule(step))),
                        Prose(story.explanation(step, solution)))),
            Block(Group(*(_side_by_side([name], values, options) for name in step.contributions))),
            Block(Group(Prose(f"Added entry by entry, in the shape of {step.variable}:"),
                        _side_by_side([step.gradient], values, options)), result=True)]


def step_blocks(solution, page: story.Page, step, options: Options) -> list[Block]:
    """Everything one backward step shows; the product, the result and the check are the result.

    On a page of several steps (a layer's bias and weights) each step gets its own heading.
    """
    if step.is_sum:
        return sum_blocks(solution, page, step, options)
    blocks = []
    if len(page.steps) > 1:
        blocks.append(Block(Prose(step.gradient, "bold underline")))
    blocks += [Block(Breadcrumb(*story.breadcrumb(solution, page, step))),
               Block(Group(Equation("Chain rule:", _name(story.chain_rule(step))),
                           Prose(story.vectorized_chain_rule(step)))),
               Block(Group(Prose(story.explanation(step, solution)), Prose(story.jacobian_caption(step))))]
    numeric = _matrix(step.jacobian, options)
    if options.symbolic and story.symbolic_shown(step):
        blocks.append(Block(Equation(_name(f"{step.jacobian_name} ="), _symbolic_matrix(solution, step),
                                     "=", numeric)))
    else:
        if options.symbolic:
            blocks.append(Block(Prose(story.symbolic_omitted(step), ZERO_STYLE)))
        blocks.append(Block(Equation(_name(f"{step.jacobian_name} ="), numeric)))
    for kink in step.kinks:
        blocks.append(Block(Prose("⚠ " + story.kink_note(solution, step, kink, options.decimals), NOTE_STYLE)))
    blocks += [Block(Prose("⚠ " + note, NOTE_STYLE)) for note in step.notes]
    blocks.append(Block(Equation(f"Upstream row {story.upstream_label(step)} =", _matrix(step.upstream_row, options))))
    blocks.append(Block(Group(
        Equation(f"times {step.jacobian_name} gives the row", _matrix(step.product_row, options)),
        Text(""),
        Prose(story.devectorize_caption(step)),
        Equation(_name(f"{step.gradient} ="), _matrix(step.result, options)),
        Text(""),
        _checked(story.shortcut_caption(step), story.agrees(step.result, step.shortcut)),
        *([_checked(story.fused_caption(step, solution), story.agrees(step.result, step.fused))]
          if step.fused is not None else [])),
        result=True))
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
        blocks += step_blocks(solution, page, step, options)
    return blocks


def introduction(solution) -> list:
    """The title, the description and a one-line summary of the network."""
    walkthrough = solution.walkthrough
    parts = [Prose(walkthrough.title, "bold"), Prose(story.summary(solution))]
    if walkthrough.description.strip():
        parts.append(Prose(" ".join(walkthrough.description.split())))
    if walkthrough.initialized:
        parts.append(Prose(story.initialization_note(walkthrough), NOTE_STYLE))
    return parts


def page_renderable(solution, page: story.Page, options: Options, reveal: bool = True,
                    heading: bool = True) -> Group:
    """One page, with its heading unless `heading` is false; each unrevealed result becomes a placeholder."""
    items: list = [Heading(page.title)] if heading else []
    hidden = False
    for block in page_blocks(solution, page, options):
        if block.result and not reveal:
            if not hidden:
                items += [Text(""), Text("[ result hidden: press r to reveal ]", style=ZERO_STYLE)]
            hidden = True
            continue
        hidden = False
        items += [Text(""), block.renderable]
    return Group(*items)


def render_walkthrough(solution, console: Console, options: Options) -> None:
    """Print the whole walkthrough: introduction, forward pass, loss, every backward step, update."""
    for part in introduction(solution):
        console.print(part)
    for page in story.pages(solution):
        console.print()
        console.print(page_renderable(solution, page, options))
