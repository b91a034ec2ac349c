"""Blank answer files for students: every quantity to compute, shaped with "?" placeholders.

The quantities come in the order a student computes them, page by page of the walkthrough, each
with a comment that says what it is and its shape. The givens (X, Y, the weights and biases) are
not asked: the header lists their values instead. The file format is docs/answer-files.md.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .conventions import DEFAULT, Conventions, writing
from .names import kernel_shapes
from .numbers import format_number
from .ops import INPUT
from .render import story
from .solution import Solution
from .structured import Dense
from .walkthrough import MAX_DECIMALS, is_bundled, resolve

PLACEHOLDER = '"?"'
INLINE_WIDTH = 60


def render(solution: Solution, groups: list[str], source: str, implied: Conventions = DEFAULT) -> str:
    """The TOML text of a blank answer file for `solution`, asking for the quantities of `groups`.

    `source` is how the answer file names its walkthrough: a bundled name, or a path relative to
    the answer file. `implied` are the conventions `check` assumes without a `[conventions]` table
    (the walkthrough file's); the table is written wherever the answers' conventions differ from them.

    >>> from jacobian_bp import load, solve
    >>> text = render(solve(load("article")), ["update"], "article")
    >>> for line in text[text.index("[answers]"):].splitlines()[2:5]:
    ...     print(line)
    # SGD update
    # b1_updated = b1 − 0.01 · dJ/db1 (1 × 3)
    "b1_updated" = ["?", "?", "?"]
    """
    walkthrough = solution.walkthrough
    shapes = kernel_shapes(solution.walkthrough)  # kernels are asked for as out × in × k × k
    lines = [f"# Answers for the walkthrough \"{walkthrough.title}\".",
             "# Replace every \"?\" with the value you worked out by hand, rounded to `decimals` places;",
             "# a string of arithmetic such as \"1/0.9089\" or \"-(0.5 * 0.0828)\" is fine too. Leave \"?\" where",
             "# you did not get that far, then grade the file with:  jacobian-bp check FILE",
             "#",
             f"# Given: {story.summary(solution)}.",
             *(f"#   {name} = {_values(solution.quantities[name], shapes.get(name))}" for name in _givens(solution)),
             *(f"#   {sentence}" for sentence in _constants(solution)),
             "",
             f"walkthrough = {json.dumps(source, ensure_ascii=False)}",
             f"decimals = {walkthrough.decimals}",
             "",
             *_conventions(solution, implied),
             "[answers]"]
    for title, questions in _sections(solution, groups):
        lines += ["", f"# {title}"]
        for name, meaning in questions:
            lines.append(f"# {meaning}")
            if name is None:  # a note on what is not asked
                continue
            shape = shapes.get(name)
            blank = _nested(np.full(shape, PLACEHOLDER)) if shape else _placeholders(solution.quantities[name])
            lines.append(f"{json.dumps(name)} = {blank}")
    return "\n".join(lines) + "\n"


def source_for(source: str, output: str | None) -> str:
    """How an answer file written to `output` (standard output when `None`) names the walkthrough `source`.

    A bundled name stays a name; a file becomes a path relative to the folder of the answer file,
    which is where `check` looks for it, or an absolute path when the answer file's folder is
    unknown (standard output may be redirected anywhere).
    """
    if is_bundled(source):
        return source
    path = resolve(source).resolve()
    if output is None:
        return path.as_posix()
    return Path(os.path.relpath(path, Path(output).resolve().parent)).as_posix()


def _conventions(solution: Solution, implied: Conventions) -> list[str]:
    """The `[conventions]` table the answers are written in, where they are not the default or not those the
    walkthrough file implies."""
    if solution.conventions.is_default and implied.is_default:
        return []
    return ["# Every matrix below is written in these conventions (see the walkthrough's first page).",
            "[conventions]",
            *(f"{key} = {json.dumps(value)}" for key, value in solution.conventions.document().items()), ""]


def _givens(solution: Solution) -> list[str]:
    return [*solution.graph.data, *solution.graph.parameters]


def _constants(solution: Solution) -> list:
    """What the nodes hold beside their parameters (a picture's shape, a stride, a dropout mask), in sentences."""
    graph, places = solution.graph, writing(solution).places
    return [sentence for node in graph.nodes
            for sentence in node.op.constants(graph.role_values(node, solution.computed.values), node.names(),
                                              places)]


def _forward_questions(solution: Solution) -> list[tuple[str, str]]:
    """One question per node of the forward page: its equation (a layer's `Z` says it comes before the activation)."""
    questions = []
    for _, _, outputs in story.forward_groups(solution):
        for i, name in enumerate(outputs):
            node = solution.graph.producers[name]
            before = f", layer {node.layer} before its activation" if len(outputs) > 1 and i == 0 else ""
            questions.append((name, f"{solution.conventions.formula(node)}{before} ({_shape(solution, name)})"))
    return questions


def _loss_questions(solution: Solution) -> list[tuple[str, str]]:
    """The penalty (if any), the losses and the cost."""
    graph = solution.graph
    loss, cost = graph.loss_node, graph.cost_node
    questions = [(node.output, f"{node.op.formula(node.names())} (a number)") for node in graph.nodes
                 if not story.main_path_node(graph, node)]
    return questions + [(loss.output, f"{loss.output}: the {loss.op.title} of each sample, "
                                      f"{graph.output} against Y ({_shape(solution, loss.output)})"),
                        (cost.output, f"{cost.op.formula(cost.names())}, the cost (a number)")]


def _update_questions(solution: Solution, number: int = 1) -> list[tuple[str, str]]:
    """Each parameter's optimizer state (if any), then the parameter after the update of training step `number`."""
    decimals = max(solution.walkthrough.decimals, 6)
    questions = []
    for update in solution.training[number - 1].updates:
        formulas = story.update_formulas(update, decimals)
        names = [*update.state_names().values(), update.name]
        # the optimizer writes one formula per state and the parameter's last; a frozen parameter has one
        questions += [(name, f"{formula} ({_shape(solution, name)})")
                      for name, formula in zip(names, formulas[len(formulas) - len(names):], strict=True)]
    return questions


def _training_questions(solution: Solution, number: int) -> list[tuple[str, str]]:
    """A later training step in short: its cost, its optimizer state and its update."""
    at = solution.training[number - 1].suffix
    return [(f"J{at}", f"the cost at training step {number}, from the parameters the step before left (a number)"),
            *_update_questions(solution, number)]


def _cost_questions(solution: Solution, number: int) -> list[tuple[str, str]]:
    return [("J_final", "the cost of the parameters after the last update: one more forward pass (a number)")]


@dataclass(frozen=True)
class PageQuestions:
    """What a page without backward steps asks: its group of questions, and its questions. `within_step` pages ask
    of one training step's own quantities (from that step's values, their names carrying its `@t`); the others
    name their quantities across the training themselves."""

    group: str
    ask: Callable
    within_step: bool = False


PAGE_QUESTIONS = {"forward": PageQuestions("forward", _forward_questions, within_step=True),
                  "loss": PageQuestions("forward", _loss_questions, within_step=True),
                  "update": PageQuestions("update", _update_questions),
                  "training": PageQuestions("update", _training_questions),
                  "cost": PageQuestions("update", _cost_questions)}


def _sections(solution: Solution, groups: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The pages of the walkthrough with the questions each asks, in the order a student computes them: every page
    of every training step (a hand calculation needs each step's gradients), then the cost after training."""
    sections = []
    solution = replace(solution, walkthrough=replace(solution.walkthrough, all_steps=True, training_shown=True))
    for page in story.pages(solution):
        if page.steps:
            within_step = True
            questions = [question for step in page.steps for question in _backward_questions(solution, step, groups)]
        elif page.kind not in PAGE_QUESTIONS:  # the conventions page asks nothing
            continue
        else:
            asked = PAGE_QUESTIONS[page.kind]
            within_step = asked.within_step
            questions = ((asked.ask(solution.at(page.training)) if within_step else asked.ask(solution, page.training))
                         if asked.group in groups else [])
        suffix = solution.training[page.training - 1].suffix
        if suffix and within_step:  # a later step's own page, shown in full
            questions = [(name and name + suffix, meaning) for name, meaning in questions]
        if questions:
            sections.append((str(page.title), questions))
    return sections


def _backward_questions(solution: Solution, step, groups: list[str]) -> list[tuple[str, str]]:
    if step.from_cost and step.role == INPUT:
        if "gradients" not in groups and "jacobians" not in groups:
            return []
        rows, columns = step.result.shape
        line = "a column" if columns == 1 else "a row"
        jacobian_rows, jacobian_columns = step.jacobian.shape
        return [(step.gradient, f"{step.gradient}: 1/m for each sample, {line} ({rows} × {columns}); its form as the "
                                f"first local Jacobian, {jacobian_rows} × {jacobian_columns}, is accepted too")]
    questions = []
    if "jacobians" in groups and not step.is_sum and not step.from_cost:
        questions.append(_jacobian_question(solution, step))
    if "gradients" in groups:
        shaped = "added" if step.is_sum else "de-vectorized"
        questions.append((step.gradient, f"{story.chain_rule(step, solution.conventions)}, {shaped} to the shape of "
                                         f"{step.variable} "
                                         f"({_shape(solution, step.gradient)})"))
    return questions


def _jacobian_question(solution: Solution, step) -> tuple[str | None, str]:
    """The question on a step's local Jacobian; for one too large to write out, a note (named `None`) that it is
    not asked and why, as `check` grades only Jacobians it can build in full."""
    structure = step.structure
    if structure.small:
        return step.jacobian_name, str(story.jacobian_caption(step, solution.conventions)).rstrip(".")
    rows, columns = structure.shape
    kept = "" if isinstance(structure, Dense) else (f", kept only by its structure, {story.structure_named(step)}; "
                                                    "work through that structure instead")
    return None, (f"{step.jacobian_name} is not asked: {rows:,} × {columns:,} entries, "
                  f"{story.byte_size(structure.dense_bytes)} as a dense matrix, too many to write out{kept}")


def _shape(solution: Solution, name: str) -> str:
    # a later training step's forward page names its variables as the first step's, which have the same shapes
    value = solution.quantities[name] if name in solution.quantities else solution.values[name]
    if np.ndim(value) == 0 or np.shape(value) == (1, 1):
        return "a number"
    return " × ".join(map(str, kernel_shapes(solution.walkthrough).get(name, np.shape(value))))


def _nested(entries: np.ndarray) -> str:
    """Nested lists of texts, as TOML writes them: `[[["?", "?"]]]`."""
    if entries.ndim == 1:
        return "[" + ", ".join(entries) + "]"
    return "[" + ", ".join(_nested(part) for part in entries) + "]"


def _placeholders(value) -> str:
    """`"?"` for a number, a flat list for a row, else a list of rows (one per line when long)."""
    if np.ndim(value) == 0 or np.shape(value) == (1, 1):
        return PLACEHOLDER
    rows, columns = np.shape(value)
    row = "[" + ", ".join([PLACEHOLDER] * columns) + "]"
    if rows == 1:
        return row
    inline = "[" + ", ".join([row] * rows) + "]"
    return inline if len(inline) <= INLINE_WIDTH else "[\n" + "".join(f"  {row},\n" for _ in range(rows)) + "]"


def _values(value, shape: tuple[int, ...] | None = None) -> str:
    """A given matrix at full precision, written as in an answer file: a row flat, else a list of rows (a kernel
    as nested lists of `shape`)."""
    if shape:
        texts = np.array([format_number(float(v), MAX_DECIMALS) for v in np.ravel(value)]).reshape(shape)
        return _nested(texts)
    rows = ["[" + ", ".join(format_number(float(v), MAX_DECIMALS) for v in row) + "]" for row in np.atleast_2d(value)]
    return rows[0] if len(rows) == 1 else "[" + ", ".join(rows) + "]"
