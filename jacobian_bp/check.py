"""Grading an answer file (docs/answer-files.md): every entry correct, carried forward or wrong.

A hand calculation is a graph: each quantity a student computes comes from a few others, its
parents, through one of the engine's own functions (`derivations`). An entry is `correct` within
one unit of its last decimal of the exact value; `carried forward` when it is what that function
gives from the student's OWN values of the parents, as an examiner marks an error carried
forward; `wrong` otherwise, and then the slip catalogue (`slips.py`) tries to name the mistake.
"""

import dataclasses
import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

import numpy as np

from . import tomlinput
from .arithmetic import ExpressionError, evaluate
from .chain import Step, Update, chain_rule, gradient_name, suffix
from .conventions import DEFAULT, Conventions, Writing, from_table, listing, writing
from .errors import InputError, quoted, shorten, suggestion
from .graph import COST, Node
from .names import kernel_shapes, quantity_names
from .ops import OUTPUT
from .slips import Attempt, diagnose, within
from .solution import FINAL_COST, Solution, solve
from .structured import SMALL, Structured, structure_of
from .vec import devec
from .walkthrough import (
    DEFAULT_MAX_JACOBIAN_MB,
    MAX_DECIMALS,
    MIN_DECIMALS,
    Walkthrough,
    bundled_names,
    dense_shapes,
    is_bundled,
    load,
)

VERDICTS = ("correct", "carried forward", "wrong", "unreadable", "unanswered")
WORST_FIRST = ("wrong", "unreadable", "carried forward", "correct")  # a quantity takes its worst entry's verdict
TOP_LEVEL_KEYS = ("walkthrough", "decimals", "conventions", "answers")
UNANSWERED = "?"
DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


class AnswerFileError(InputError):
    """An answer file that cannot be graded; `str()` names the file, the line where known, and the field."""

    def __init__(self, path: Path, message: str, field: str | None = None, line: int | None = None):
        where = str(path) if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


Position = tuple[int, int] | None  # an entry of an answer (row, column from 0), None for the whole answer


@dataclass(frozen=True)
class Readings:
    """What reading an answer file found besides the numbers, by quantity: the entries that could not be read,
    each with the reason (`None` for an answer that is not a matrix at all), and notes on entries that were
    read with a correction (a decimal comma taken for a decimal point)."""

    unreadable: Mapping[str, Mapping[Position, str]] = field(default_factory=dict)
    notes: Mapping[str, Mapping[Position, str]] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)  # a name that is no quantity → what to say about it


@dataclass(frozen=True)
class Derivation:
    """How one quantity of a hand calculation is computed: from which quantities, by which function.

    `group` is given, forward, jacobians, gradients or update (J_final too: it follows the update). `step` is
    the backward step whose Jacobian or gradient this is; `update` the optimizer's update that makes it (or
    its state). `training` is the training step it belongs to (from 1), whose quantities carry `@t` from the
    second on.
    """

    name: str
    group: str
    parents: tuple[str, ...]
    compute: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    step: Step | None = None
    update: Update | None = None
    training: int = 1


def exact_values(solution: Solution) -> dict[str, "np.ndarray | Structured"]:
    """Every quantity of the solution as computed (samples as rows), as a 2-D array (`J` as 1 × 1); a Jacobian too
    large to write out stays `Structured`: grading never builds it in full (the gradients go through it)."""
    return {name: value if isinstance(value, Structured) else np.atleast_2d(np.asarray(value, dtype=float))
            for name, value in solution.computed.quantities.items()}


class StepNames:
    """The name, in the whole calculation, of a quantity of one training step as the graph names it: `Z1` is
    `Z1@2` in the second step, and the parameter `W1` there is `W1_updated` (the first step's update)."""

    def __init__(self, graph, training: int):
        self.graph, self.training, self.at = graph, training, suffix(training)

    def __call__(self, name: str) -> str:
        if name in self.graph.data or (self.training == 1 and name in self.graph.parameters):
            return name
        if name in self.graph.parameters:
            return f"{name}_updated{suffix(self.training - 1)}"
        return name + self.at


class StepView(Mapping):
    """The values of the whole calculation seen from one training step: `view["Z1"]` is `values["Z1@2"]`."""

    def __init__(self, values: Mapping[str, np.ndarray], names: StepNames):
        self.values, self.names = values, names

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self.names(name)]

    def __contains__(self, name) -> bool:
        return self.names(name) in self.values

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def derivations(solution: Solution) -> dict[str, Derivation]:
    """Every quantity in the order a student computes it: the givens, then for each training step the forward
    pass, for each backward step its local Jacobian and its gradient (a sum step adds its contributions), the
    optimizer's state and update; last the cost after training. Everything is read off the one graph
    description and computed by the ops, the engine and the optimizer.

    >>> from jacobian_bp import load, solve
    >>> derived = derivations(solve(load("article")))
    >>> derived["dJ/dW2"].parents, derived["dZ2/dW2"].parents, derived["W1_updated"].parents
    (('dJ/dZ2', 'dZ2/dW2'), ('A1',), ('W1', 'dJ/dW1'))
    """
    solution = solution.computed  # the engine's functions compute with samples as rows
    graph = solution.graph
    exact = exact_values(solution)
    derived: dict[str, Derivation] = {}
    for name in graph.data + graph.parameters:
        derived[name] = Derivation(name, "given", (), lambda values, name=name: exact[name])
    for training in solution.training:
        _training_derivations(solution, training.number, training.steps, training.updates, exact, derived)
    after = StepNames(graph, len(solution.training) + 1)  # the parameters after the last update
    derived[FINAL_COST] = Derivation(
        FINAL_COST, "update", tuple(after(name) for name in graph.data + graph.parameters),
        lambda v: graph.forward({name: v[after(name)] for name in graph.data + graph.parameters})[COST])
    return derived


def _training_derivations(solution: Solution, number: int, steps, updates, exact, derived: dict) -> None:
    """The derivations of one training step, named with its suffix and computed from the values of its own step."""
    graph = solution.graph
    names = StepNames(graph, number)
    exact_view = StepView(exact, names)

    def add(name: str, group: str, parents: tuple[str, ...], compute, **records):
        derived[names(name)] = Derivation(names(name), group, tuple(names(parent) for parent in parents),
                                          lambda values: compute(StepView(values, names)), training=number,
                                          **records)

    for node in graph.nodes:
        add(node.output, "forward", tuple(node.roles.values()),
            lambda v, node=node: node.op.forward({role: v[name] for role, name in node.roles.items()}))
    for step in steps:
        if step.is_sum:
            add(step.gradient, "gradients", step.contributions,
                lambda v, s=step: np.sum([v[name] for name in s.contributions], axis=0), step=step)
            continue
        node = graph.producers[step.node]
        reads = _jacobian_reads(node, step.role)
        jacobian = _jacobian_builder(node, step.role, exact_view)
        if step.from_cost:
            # The first steps start from dJ/dJ = 1, so their Jacobian is their gradient (as a row): one quantity.
            add(step.gradient, "gradients", reads,
                lambda v, s=step, jacobian=jacobian: chain_rule(np.ones((1, 1)), jacobian(v), s.result.shape),
                step=step)
            continue
        add(step.jacobian_name, "jacobians", reads, jacobian, step=step)
        add(step.gradient, "gradients", (step.upstream, step.jacobian_name),
            lambda v, s=step: chain_rule(v[s.upstream], v[s.jacobian_name], s.result.shape), step=step)
    for update in updates:
        parents = (update.parameter, gradient_name(update.parameter))
        previous = tuple(update.previous_state_names().values())
        for state, state_quantity in update.state_names().items():
            derived[state_quantity] = Derivation(
                state_quantity, "update", tuple(names(parent) for parent in parents[1:]) + previous,
                lambda values, u=update, state=state: optimizer_step(solution, values, u)[1][state],
                update=update, training=number)
        derived[update.name] = Derivation(
            update.name, "update", tuple(names(parent) for parent in parents) + previous,
            lambda values, u=update: optimizer_step(solution, values, u)[0], update=update, training=number)


def optimizer_step(solution: Solution, values: Mapping[str, np.ndarray], update: Update,
                   learning_rate: float | None = None, frozen: tuple[str, ...] | None = None,
                   state: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The walkthrough's optimizer step of `update`'s parameter taken from `values` (the parameter, its gradient
    and the state the step before left, unless `state` gives another), and its new state.

    The learning rate and frozen parameters are the walkthrough's unless given.
    """
    learning_rate = update.learning_rate if learning_rate is None else learning_rate
    frozen = solution.walkthrough.frozen if frozen is None else frozen
    names = StepNames(solution.graph, update.training_step)
    old, gradient = values[names(update.parameter)], values[names(gradient_name(update.parameter))]
    if update.parameter in frozen:
        return old.copy(), {}
    if state is None:
        state = {state: values[name] for state, name in update.previous_state_names().items()}
    return update.optimizer.step(update.training_step, old, gradient, state, learning_rate)


def _variable_of(node: Node, role: str) -> str:
    """The variable a role of the node stands for; "output" is the node's own output."""
    return node.output if role == OUTPUT else node.roles[role]


def _jacobian_reads(node: Node, role: str) -> tuple[str, ...]:
    """The variables the node's Jacobian for `role` is built from: the parents of that Jacobian."""
    return tuple(_variable_of(node, read) for read in node.op.jacobian_reads(role))


def _jacobian_builder(node: Node, role: str, exact: Mapping[str, np.ndarray]):
    """The op's own builder of its Jacobian for `role`, from the values of the variables it reads, kept as the
    solution keeps it (a large one by its structure).

    The roles it does not read (which give it only their shapes) keep their exact values.
    """
    reads = node.op.jacobian_reads(role)
    roles = {**node.roles, OUTPUT: node.output}

    def build(values: Mapping[str, np.ndarray]) -> np.ndarray:
        return node.op.structured_jacobian(role, {r: (values if r in reads else exact)[name]
                                                  for r, name in roles.items()}).kept()

    return build


@dataclass(frozen=True)
class Graded:
    """The verdicts on one quantity of an answer file.

    `answer` is as the student gave it, `NaN` where unanswered or unreadable (its shape may be wrong);
    `entries` holds one verdict per entry of `answer`. `parents` are the quantities it is computed
    from; `own` is what that computation gives from the student's own values of `sources`, the
    parents they answered (`None` when they answered none). `notes` say why an entry is unreadable
    and how an entry was read with a correction.
    """

    name: str
    group: str
    verdict: str
    answer: np.ndarray
    entries: np.ndarray
    expected: np.ndarray
    parents: tuple[str, ...]
    own: np.ndarray | None
    sources: tuple[str, ...]
    diagnosis: str | None
    scalar: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything `check` found in one answer file, quantities in the order a student computes them.

    `unknown` holds the names in [answers] that are no quantity of the walkthrough, each with its message
    (the line, the closest name): marked as such, while the rest of the file is graded.
    """

    path: Path
    walkthrough: str
    title: str
    decimals: int
    quantities: tuple[Graded, ...]
    conventions: Conventions = DEFAULT
    order: tuple[str, ...] = ()  # every quantity of the walkthrough, in the order a student computes them
    source: str = ""  # the walkthrough as resolved: its bundled name or the absolute path of its file
    unknown: tuple[tuple[str, str], ...] = ()
    asked: int | None = None  # the file's own `decimals` when it was not used (coarser than the walkthrough's)
    optimizer: str = "SGD"  # the title of the walkthrough's optimizer, which the update's heading names

    @property
    def decimals_note(self) -> str | None:
        """Why the answers were graded to other decimals than the file asks for, if they were."""
        if self.asked is None:
            return None
        return (f"the answer file asks for {self.asked} decimal{'s' * (self.asked != 1)}, coarser than the "
                f"walkthrough's {self.decimals}: graded to {self.decimals}")

    @property
    def summary(self) -> dict[str, int]:
        """How many quantities got each verdict."""
        return {verdict: sum(graded.verdict == verdict for graded in self.quantities) for verdict in VERDICTS}

    @property
    def entry_summary(self) -> dict[str, int]:
        """How many entries got each verdict."""
        return {verdict: sum(int((graded.entries == verdict).sum()) for graded in self.quantities)
                for verdict in VERDICTS}

    @property
    def wrong(self) -> bool:
        """Whether an answer is wrong, could not be read or names no quantity: what makes `check` exit with 1."""
        return bool(self.unknown) or any(graded.verdict in ("wrong", "unreadable") for graded in self.quantities)

    @property
    def blank(self) -> bool:
        """Whether nothing at all is answered: a worksheet handed in as it was handed out."""
        return not self.unknown and all(graded.verdict == "unanswered" for graded in self.quantities)


class Solved:
    """Walkthroughs loaded and solved once each, for grading many answer files (a class) against them.

    A walkthrough is known by its bundled name, or by the absolute path of its file.
    """

    def __init__(self):
        self.walkthroughs: dict[str, Walkthrough] = {}
        self.solutions: dict[str, Solution] = {}
        self.derivations: dict[str, dict[str, Derivation]] = {}  # each solution's, worked out once too


def grade(path: Path, max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB, solved: Solved | None = None,
          decimals: int | None = None) -> Report:
    """Grade the answer file at `path`; a file that cannot be graded raises `AnswerFileError`.

    The tolerance is the teacher's: `decimals` (`check --decimals N`) when given, else the walkthrough's; the
    answer file's own `decimals` is used only when it is finer (a student cannot widen the tolerance), and a
    coarser one is reported (`Report.asked`).

    The whole file is checked before the walkthrough is solved, which can take seconds and
    hundreds of megabytes: a mistake in the answer file is reported at once. `solved` keeps the
    walkthroughs already solved, so that a class of answer files solves each walkthrough once.
    """
    solved = solved or Solved()
    reader = _AnswerFile(path)
    source = reader.walkthrough()
    key = source if is_bundled(source) else os.path.abspath(path.parent / source)  # no resolve(): links may loop
    if key not in solved.walkthroughs:
        solved.walkthroughs[key] = reader.load(source, max_jacobian_mb)
    walkthrough = solved.walkthroughs[key]
    written = reader.decimals(walkthrough.decimals)
    asked = None
    if decimals is None:
        decimals = max(written, walkthrough.decimals)
        asked = written if written < walkthrough.decimals else None
    conventions = reader.conventions(walkthrough.conventions)
    names = quantity_names(walkthrough)
    answers = reader.answers(names, set(kernel_shapes(walkthrough)))
    reader.refuse_large_jacobians(walkthrough, answers)
    readings = reader.readings()
    unknown = tuple(readings.unknown.items())
    if not answers:  # nothing to grade (only names that are no quantity): no need to solve
        return Report(path=path, walkthrough=source, title=walkthrough.title, decimals=decimals, quantities=(),
                      conventions=conventions, order=tuple(names), source=key, unknown=unknown, asked=asked,
                      optimizer=walkthrough.optimizer.title)
    if key not in solved.solutions:
        solved.solutions[key] = solve(walkthrough)
        solved.derivations[key] = derivations(solved.solutions[key].computed)
    solution, derived = solved.solutions[key], solved.derivations[key]
    return Report(path=path, walkthrough=source, title=walkthrough.title, decimals=decimals,
                  quantities=grade_written(solution, answers, decimals, conventions, readings, derived),
                  order=tuple(derived), conventions=conventions, source=key, unknown=unknown, asked=asked,
                  optimizer=walkthrough.optimizer.title)


def grade_answers(solution: Solution, answers: Mapping[str, np.ndarray], decimals: int,
                  readings: Readings | None = None, derived: dict[str, Derivation] | None = None) -> tuple[Graded, ...]:
    """Grade answers given as 2-D arrays (`NaN` where unanswered), in the order a student computes them.

    `dJ/dL` may also be given in its form as the first local Jacobian, the row `1 × m`. `readings` says
    which entries could not be read (they are `NaN` in `answers`, or the answer is any placeholder when
    the whole answer could not be read) and how some were read. `derived` is `derivations(solution)`, when
    the caller already has it (a class graded against one solution).

    >>> from jacobian_bp import load, solve
    >>> solution = solve(load("article"))
    >>> [(graded.name, graded.verdict) for graded in grade_answers(solution, {
    ...     "dJ/dZ3": np.array([[0.0456], [-0.1287]]), "dJ/db3": np.array([[-0.0831]])}, 4)]
    [('dJ/dZ3', 'wrong'), ('dJ/db3', 'carried forward')]
    """
    readings, solution = readings or Readings(), solution.computed  # answers in the engine's form
    exact = exact_values(solution)
    rows = {step.gradient: step.structure.shape for step in solution.steps if step.from_cost}
    answers = {name: np.full(exact[name].shape, np.nan) if None in readings.unreadable.get(name, {})
               else answer.T if name in rows and answer.shape == rows[name] else answer
               for name, answer in answers.items()}
    derived = derived or derivations(solution)
    grader = _Grader(solution, derived, answers, decimals, readings)
    return tuple(grader.grade(name) for name in derived if name in answers)


def grade_written(solution: Solution, answers: Mapping[str, np.ndarray], decimals: int,
                  conventions: Conventions, readings: Readings | None = None,
                  derived: dict[str, Derivation] | None = None) -> tuple[Graded, ...]:
    """Grade answers written under `conventions`: each is read back into the engine's form, graded by
    `grade_answers`, and reported as written. An answer in the wrong shape for the conventions is wrong as a
    whole; a wrong answer that is right under other conventions is named as that slip. `derived` is
    `derivations(solution.computed)`, when the caller already has it.
    """
    engine, readings = solution.computed, readings or Readings()
    derived = derived or derivations(engine)
    if conventions.is_default:
        graded = grade_answers(engine, answers, decimals, readings, derived)
        return tuple(_with_convention_slip(engine, conventions, result, decimals) for result in graded)
    written = writing(engine, conventions)
    exact = exact_values(engine)
    expected = {name: np.atleast_2d(written.quantity(engine, name, exact[name])) for name in answers}
    answers = {name: np.full(expected[name].shape, np.nan) if None in readings.unreadable.get(name, {})
               else _as_gradient(written, engine, name, answer) for name, answer in answers.items()}
    shaped = {name: written.quantity(engine, name, answer, inverse=True) for name, answer in answers.items()
              if answer.shape == expected[name].shape}
    graded = {result.name: result for result in grade_answers(engine, shaped, decimals, derived=derived)}
    found = []
    for name in (name for name in derived if name in answers):
        answer = answers[name]
        if name in graded:  # as written: the grader's verdicts and values put back in the answer's places
            result = graded[name]
            own = None if result.own is None else written.quantity(engine, name, result.own)
            entries = written.quantity(engine, name, result.entries)
            diagnosis = result.diagnosis
        else:
            own, entries = None, np.where(np.isnan(answer), "unanswered", "wrong").astype(object)
            diagnosis = _shape_note(answer.shape, expected[name].shape)
        entries, verdict, notes = _read(name, answer, entries, readings)
        result = Graded(name=name, group=derived[name].group, verdict=verdict, answer=answer, entries=entries,
                        expected=expected[name], parents=derived[name].parents, own=own,
                        sources=graded[name].sources if name in graded else (), diagnosis=diagnosis,
                        scalar=np.ndim(engine.quantities[name]) == 0, notes=notes)
        found.append(_with_convention_slip(engine, conventions, result, decimals))
    return tuple(found)


def _with_convention_slip(engine: Solution, conventions: Conventions, graded: Graded, decimals: int) -> Graded:
    """A wrong answer that is right under other conventions, diagnosed as that slip before any other (it explains
    the whole answer); its shape note stays."""
    slip = _convention_slip(engine, conventions, graded.name, graded.answer, decimals) \
        if graded.verdict == "wrong" else None
    if not slip:
        return graded
    shape = _shape_note(graded.answer.shape, graded.expected.shape) if graded.answer.shape != graded.expected.shape \
        else None
    return dataclasses.replace(graded, diagnosis="; ".join(part for part in (shape, slip) if part))


def _as_gradient(written: Writing, engine: Solution, name: str, answer: np.ndarray) -> np.ndarray:
    """`dJ/dL` (of any training step) given in its form as the first local Jacobian, as the gradient it stands for
    (both are vectors)."""
    step = next((step for training in engine.training for step in training.steps
                 if step.from_cost and step.gradient + training.suffix == name), None)
    if step is None:
        return answer
    gradient = written.matrix(step.variable, step.result)
    jacobian = written.jacobian(step.node, step.variable, step.jacobian)
    return answer.T if answer.shape == jacobian.shape != gradient.shape else answer


def _convention_slip(engine: Solution, conventions: Conventions, name: str, answer: np.ndarray,
                     decimals: int) -> str | None:
    """`this is dZ2/dW2 written with column-major vec: your course's convention is row-major vec`, when the
    answer is right under other conventions (those that differ least first)."""
    answered = ~np.isnan(answer)
    if not answered.any():
        return None
    exact = np.atleast_2d(np.asarray(engine.quantities[name], dtype=float))
    for other in conventions.others():
        candidate = np.atleast_2d(writing(engine, other).quantity(engine, name, exact))
        if candidate.shape == answer.shape and within(answer[answered], candidate[answered], decimals).all():
            theirs, ours = other.differences(conventions)
            return f"this is {name} written with {listing(theirs)}: your course's convention is {listing(ours)}"
    return None


def report_document(report: Report) -> dict:
    """The report as the JSON object of docs/json.md: walkthrough, decimals, conventions, summary, blank,
    quantities, then the names that are no quantity and why the file's decimals was not used."""
    return {"walkthrough": report.walkthrough, "decimals": report.decimals,
            "conventions": report.conventions.document(), "summary": report.summary,
            "blank": report.blank,
            "quantities": {graded.name: {
                "verdict": graded.verdict,
                "entries": graded.entries.tolist(),
                "expected": float(graded.expected[0, 0]) + 0.0 if graded.scalar else (graded.expected + 0.0).tolist(),
                "diagnosis": graded.diagnosis,
                "notes": list(graded.notes)} for graded in report.quantities},
            "unknown": dict(report.unknown), "decimals note": report.decimals_note}


class _Grader:
    """Verdicts and diagnoses against the exact calculation and the student's own."""

    def __init__(self, solution: Solution, derived: dict[str, Derivation], answers: dict[str, np.ndarray],
                 decimals: int, readings: Readings):
        self.solution, self.derived, self.answers, self.decimals = solution, derived, answers, decimals
        self.readings = readings
        self.exact = exact_values(solution)
        self.student = dict(self.exact)
        for name, answer in answers.items():
            # A given (X, Y, W, b) that was copied wrongly is graded, but it is not the student's own work:
            # what follows from it is judged from the real givens.
            used = _as_used(answer, self.exact[name].shape)
            if used is not None and derived[name].group != "given":
                self.student[name] = np.where(np.isnan(used), self.exact[name], used)
        self.worlds: dict[str, dict[str, np.ndarray]] = {}
        # The slips rebuild local Jacobians in full: they are looked for only where every one is small.
        self.diagnosable = all(step.structure.small for step in solution.steps)

    def grade(self, name: str) -> Graded:
        derivation, answer, expected = self.derived[name], self.answers[name], self.exact[name]
        sources = tuple(parent for parent in derivation.parents if parent in self.answers
                        and _as_used(self.answers[parent], self.exact[parent].shape) is not None
                        and not np.isnan(self.answers[parent]).all())
        own = _quietly(derivation.compute, self.student) if sources else None
        entries, rounding = _entry_verdicts(answer, expected, own, self.decimals), 0.0
        if sources and (entries == "wrong").any():
            # What the rounding of the parents can move `own` by matters only to an entry that is neither right
            # nor within one unit of `own`: most answers of a class never need its recomputations.
            rounding = self.rounding(derivation, sources, own)
            entries = _entry_verdicts(answer, expected, own, self.decimals, rounding)
        entries, verdict, notes = _read(name, answer, entries, self.readings)
        diagnosis = None
        if answer.shape != expected.shape:
            diagnosis = _shape_note(answer.shape, expected.shape)
        if verdict == "wrong" and self.diagnosable:
            found = diagnose(self.attempt(derivation, answer, own, rounding))
            diagnosis = "; ".join(part for part in (diagnosis, found) if part) or None
        return Graded(name=name, group=derivation.group, verdict=verdict, answer=answer, entries=entries,
                      expected=expected, parents=derivation.parents, own=own, sources=sources, diagnosis=diagnosis,
                      scalar=np.ndim(self.solution.quantities[name]) == 0, notes=notes)

    def rounding(self, derivation: Derivation, sources: tuple[str, ...], own: np.ndarray) -> np.ndarray:
        """How far `own` can move, entry by entry, when each parent the student wrote is off by up to half a unit
        of its last decimal: a student who keeps full precision and rounds only what they write must get carried-
        forward credit, whatever the rounding of their parents grows to (through · X, say).

        Through the chain rule `vec(U) · J` the bound is exact: half a unit times the column sums of |J|, plus
        the sum of |U| times half a unit. Elsewhere each parent is moved by half a unit (all entries up, all
        down, and in a checkerboard of signs both ways) and by a quarter, and the largest change is taken where
        it is a slope (about twice the quarter's): a jump, a parent moved across a kink, is no rounding.
        """
        half = 0.5 * 10.0**-self.decimals
        step, names = derivation.step, StepNames(self.solution.graph, derivation.training)
        if step is not None and derivation.group == "gradients" and not step.is_sum and not step.from_cost:
            upstream, jacobian = self.student[names(step.upstream)], self.student[names(step.jacobian_name)]
            h_upstream = half if names(step.upstream) in sources else 0.0
            h_jacobian = half if names(step.jacobian_name) in sources else 0.0
            column_sums = structure_of(jacobian).magnitudes().left_multiply(np.ones((1, jacobian.shape[0])))
            bound = (h_upstream * column_sums + h_jacobian * np.abs(upstream).sum()
                     + h_upstream * h_jacobian * upstream.size)
            return devec(bound, step.result.shape)
        total = np.zeros_like(own)
        for parent in sources:
            value = self.student[parent]
            checkerboard = np.where(np.indices(value.shape).sum(axis=0) % 2 == 0, 1.0, -1.0)
            largest = np.zeros_like(own)
            for signs in (1.0, -1.0, checkerboard, -checkerboard):
                moved, nearer = (np.abs(_quietly(derivation.compute, ChainMap({parent: value + size * signs},
                                                                                self.student)) - own)
                                 for size in (half, half / 2))
                with np.errstate(invalid="ignore"):
                    slope = np.where(moved >= 1.5 * nearer, moved, 0.0)
                largest = np.maximum(largest, np.nan_to_num(slope, nan=0.0, posinf=0.0))
            total = total + largest
        return total

    def attempt(self, derivation: Derivation, answer: np.ndarray, own: np.ndarray | None,
                rounding: np.ndarray | float = 0.0) -> Attempt:
        """The wrong answer as the slips see it: from inside its own training step, where `Z1@2` is `Z1`."""
        training = self.solution.training[derivation.training - 1]
        names = StepNames(self.solution.graph, derivation.training)
        base = derivation.name.removesuffix(training.suffix) if training.suffix else derivation.name
        update = derivation.update
        if update is not None and derivation.name != update.name:  # the optimizer's state, not the update
            update, state = None, update
        else:
            state = None

        def rederive(label: str, replaced: dict) -> list[np.ndarray]:
            return self.rederive(derivation.name, f"{label}{training.suffix}",
                                 {names(name): value for name, value in replaced.items()}, own)

        def updates(view: StepView, learning_rate: float, frozen: tuple[str, ...] | None = None) -> dict:
            return {f"{step.parameter}_updated": optimizer_step(self.solution, view.values, step, learning_rate,
                                                                frozen)[0] for step in training.updates}

        def optimize(view: StepView, step: Update, previous: Mapping | None = None, optimizer=None):
            chosen = step if optimizer is None else replace(step, optimizer=optimizer)
            return optimizer_step(self.solution, view.values, chosen, state=previous)

        return Attempt(
            name=base, answer=answer, expected=self.exact[derivation.name], own=own,
            decimals=self.decimals, samples=self.solution.samples, step=derivation.step,
            update=update, steps=training.steps, updates=training.updates,
            graph=self.solution.graph, values=(StepView(self.exact, names), StepView(self.student, names)),
            rederive=rederive, sgd=updates, state_of=state, optimize=optimize, rounding=rounding)

    def rederive(self, name: str, label: str, replaced: dict[str, np.ndarray],
                 own: np.ndarray | None = None) -> list[np.ndarray]:
        """`name` recomputed with some quantities replaced: in the exact calculation, from the student's values
        of its parents, and (when the student's own value is known) that own value changed as the replacement
        changes the exact one, so a slip made on top of a carried-forward value is still recognised."""
        if label not in self.worlds:
            self.worlds[label] = self.world(replaced)
        if name in replaced:
            return [replaced[name], replaced[name]]
        changed = self.worlds[label][name]
        candidates = [changed, _quietly(self.derived[name].compute, ChainMap(replaced, self.student))]
        if own is not None:
            candidates.append(_changed_alike(own, self.exact[name], changed))
        return candidates

    def world(self, replaced: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The exact calculation redone from the replaced quantities on; what they do not reach stays exact."""
        values, changed = dict(self.exact), set(replaced)
        for name, derivation in self.derived.items():
            if name in replaced:
                values[name] = replaced[name]
            elif changed.intersection(derivation.parents):
                values[name] = _quietly(derivation.compute, values)
                changed.add(name)
        return values


def _changed_alike(own: np.ndarray, exact: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """`own` changed entry by entry as `exact` changed into `changed`: scaled by the same factor where the exact
    entry is not zero (a forgotten 1/m scales every gradient by m; one factor for all entries when it is one
    factor where it can be seen), shifted by the same amount where it is zero."""
    nonzero = exact != 0
    with np.errstate(all="ignore"):  # the factors where the exact entry is 0 are not used
        factors = changed / exact
        if nonzero.any() and np.allclose(factors[nonzero], factors[nonzero].flat[0], rtol=1e-9, atol=0):
            return own * factors[nonzero].flat[0]
        return np.where(nonzero, own * factors, own + changed - exact)


def _read(name: str, answer: np.ndarray, entries: np.ndarray, readings: Readings) -> tuple[np.ndarray, str,
                                                                                        tuple[str, ...]]:
    """The entries with those that could not be read marked `unreadable`, the quantity's verdict (its worst
    entry's), and the reader's notes on it."""
    unreadable = readings.unreadable.get(name, {})
    for position in unreadable:
        entries[... if position is None else position] = "unreadable"
    verdict = next((v for v in WORST_FIRST if (entries == v).any()), "unanswered")
    notes = tuple(f"{_where(position, answer.shape)}{note}" for position, note in
                  [*unreadable.items(), *readings.notes.get(name, {}).items()])
    return entries, verdict, notes


def _as_used(answer: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The answer as the student went on to use it: as written, or its transpose when only that has the
    right shape (a matrix written transposed is used transposed in what follows); None for another shape."""
    if answer.shape == shape:
        return answer
    return answer.T if answer.T.shape == shape else None


def _quietly(compute, values) -> np.ndarray:
    """A recomputation from a student's values, which may be far outside the usual range (NaN where undefined)."""
    with np.errstate(all="ignore"):
        return np.asarray(compute(values), dtype=float)


def _entry_verdicts(answer: np.ndarray, expected: np.ndarray, own: np.ndarray | None, decimals: int,
                    rounding: np.ndarray | float = 0.0) -> np.ndarray:
    unanswered = np.isnan(answer)
    verdicts = np.full(answer.shape, "wrong", dtype=object)
    if answer.shape == expected.shape:
        if own is not None:
            verdicts[within(answer, own, decimals, rounding)] = "carried forward"
        verdicts[within(answer, expected, decimals)] = "correct"
    verdicts[unanswered] = "unanswered"
    return verdicts


def _where(position: Position, shape: tuple[int, int]) -> str:
    """`row 1, column 2: ` before a note on one entry of a matrix; nothing for a single number or the whole."""
    return "" if position is None or shape == (1, 1) else f"row {position[0] + 1}, column {position[1] + 1}: "


def _shape_note(found: tuple[int, int], expected: tuple[int, int]) -> str:
    note = f"expected shape {expected[0]} × {expected[1]}, found {found[0]} × {found[1]}"
    return note + " (the transposed shape)" if found == expected[::-1] else note


def _quoting_hint(text: str, line: int | None) -> str:
    """A hint for the likeliest TOML mistake in an answer file: a name with a slash left unquoted."""
    lines = text.splitlines()
    if line is not None and 0 < line <= len(lines) and re.match(r"\s*[\w]+/[\w()-]+\s*=", lines[line - 1]):
        return ' (a name with "/" needs quotes, e.g. "dJ/dW2" = ...)'
    return ""


class _AnswerFile:
    """Reads and validates an answer file, raising `AnswerFileError` on the first problem."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text, self.document = tomlinput.read(path)
        except tomlinput.UnreadableError as problem:
            hint = _quoting_hint(problem.text, problem.line)
            raise AnswerFileError(path, problem.message + hint, line=problem.line) from None
        for key in self.document:
            if key not in TOP_LEVEL_KEYS:
                hint = suggestion(key, TOP_LEVEL_KEYS) or " (allowed: walkthrough, decimals, [conventions], [answers])"
                self.fail(shorten(key), f"unknown key{hint}", key=key)

    def fail(self, field: str, message: str, key: str | None = None) -> NoReturn:
        raise AnswerFileError(self.path, message, field=field, line=self.line_of(key or field))

    def line_of(self, key: str) -> int | None:
        """The first line that sets `key` (quoted or bare) or opens it as a table, found by a light scan."""
        name = rf"(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})"
        pattern = re.compile(rf"\s*({name}\s*=|\[\s*{name}\s*\])")
        return next((number for number, line in enumerate(self.text.splitlines(), start=1) if pattern.match(line)),
                    None)

    def walkthrough(self) -> str:
        value = self.document.get("walkthrough")
        if value is None:
            self.fail("walkthrough", "missing (the bundled name, or the path relative to this file, of the "
                      "walkthrough these answers are for)")
        if not isinstance(value, str) or not value.strip():
            self.fail("walkthrough", f"expected a name or a path in quotes, found {tomlinput.describe(value)}")
        return value

    def load(self, source: str, max_jacobian_mb: float):
        """The walkthrough: a bundled one by name, else a file relative to the answer file."""
        if not is_bundled(source) and tomlinput.missing(self.path.parent / source):
            hint = suggestion(source, bundled_names()) or " (the command `list` shows the bundled ones)"
            self.fail("walkthrough", f"{quoted(source)} is neither a bundled walkthrough nor a file at "
                                     f"{self.path.parent / shorten(source)}{hint}")
        return load(source, max_jacobian_mb, base=self.path.parent)

    def refuse_large_jacobians(self, walkthrough: Walkthrough, answers: Mapping[str, np.ndarray]) -> None:
        """Refuse, before the walkthrough is solved, an answer to a local Jacobian too large to write out: it is
        kept only by its structure, which the grading of an entry against another does not go through."""
        shapes = dense_shapes(walkthrough)
        large = {name + suffix(number): shape for number in range(1, walkthrough.steps + 1)
                 for name, shape in shapes.items() if shape[0] * shape[1] > SMALL}
        name = next((name for name in answers if name in large), None)
        if name is None:
            return
        rows, columns = large[name]
        found = answers[name].shape
        shape = "" if found == (rows, columns) else f" (this answer is {found[0]} × {found[1]})"
        self.fail(shorten(name), f"a Jacobian of {rows} × {columns} entries{shape}, kept only by its structure, is "
                                 f"not graded: check grades Jacobians of up to {SMALL:,} entries (a worksheet does "
                                 "not ask for larger ones); remove it, its gradient is graded", key=name)

    def decimals(self, default: int) -> int:
        value = self.document.get("decimals", default)
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_DECIMALS <= value <= MAX_DECIMALS:
            self.fail("decimals", f"expected a whole number from {MIN_DECIMALS} to {MAX_DECIMALS}, "
                                  f"found {tomlinput.describe(value)}")
        return value

    def conventions(self, default: Conventions) -> Conventions:
        """The `[conventions]` the answers are written in: the file's, else the walkthrough's."""
        if "conventions" not in self.document:
            return default
        return from_table(self.document["conventions"], lambda field, message: self.fail(
            field, message, key=field.rpartition(".")[2]))

    def answers(self, names: list[str], kernels: set[str] = frozenset()) -> dict[str, np.ndarray]:
        """Every answer as a 2-D array, `NaN` for "?" and for what cannot be read (see `readings`); the names in
        `kernels` may be written as nested lists (a kernel out × in × k × k).

        A name that is not a quantity is kept aside with the closest name (see `readings`), and a value that
        cannot be read is graded "unreadable" with the reason: one bad entry costs that entry, not the file.
        """
        table = self.document.get("answers")
        if table is None:
            self.fail("[answers]", "missing (a table of quantity = value, e.g. \"dJ/dW3\" = [[-1.0216, -0.9253]])",
                      key="answers")
        if not isinstance(table, dict):
            self.fail("answers", "expected a table [answers] of quantity = value")
        self.unreadable: dict[str, dict[Position, str]] = {}
        self.notes: dict[str, dict[Position, str]] = {}
        self.unknown: dict[str, str] = {}
        found = {}
        for name, value in table.items():
            if name not in names:
                hint = suggestion(name, names) or " (`jacobian-bp worksheet` lists every name)"
                line = self.line_of(name)
                where = f"{self.path}:{line}" if line else str(self.path)
                self.unknown[shorten(name)] = f"{where}: unknown quantity {quoted(name)}{hint}"
                continue
            found[name] = self.matrix(name, value, nested=name in kernels)
        return found

    def readings(self) -> Readings:
        """The unreadable entries and the notes that `answers` found."""
        return Readings(unreadable=self.unreadable, notes=self.notes, unknown=self.unknown)

    def matrix(self, name: str, value, nested: bool = False) -> np.ndarray:
        """A number, a flat list (one row) or a list of rows, as a 2-D array with NaN for "?"; where `nested`,
        a kernel's nested lists too."""
        if not isinstance(value, list):
            return np.array([[self.entry(name, value, (0, 0))]])
        problem = None
        if not value:
            problem = "expected numbers, found an empty list"
        elif not any(isinstance(row, list) for row in value):
            return np.array([[self.entry(name, v, (0, j)) for j, v in enumerate(value)]])
        elif nested and tomlinput.depth(value) > 2:
            return self.nested(name, value)
        elif not all(isinstance(row, list) for row in value):
            problem = "mixes rows and single values; write a list of rows, e.g. [[1, 2], [3, 4]]"
        else:
            problem = tomlinput.ragged(value)
        if problem:
            self.unreadable.setdefault(name, {})[None] = f"cannot be read: {problem}"
            return np.full((1, 1), np.nan)
        return np.array([[self.entry(name, v, (i, j)) for j, v in enumerate(row)] for i, row in enumerate(value)])

    def nested(self, name: str, value: list) -> np.ndarray:
        """A kernel written out × in × k (× k), as the matrix of its filters' unrolled rows (out × in·k·k)."""
        def shape_of(item) -> tuple[int, ...] | None:
            if not isinstance(item, list):
                return ()
            shapes = {shape_of(part) for part in item}
            return (len(item), *shapes.pop()) if item and len(shapes) == 1 and None not in shapes else None

        shape = shape_of(value)
        if shape is None:
            self.unreadable.setdefault(name, {})[None] = ("cannot be read: expected nested lists of equal length "
                                                          "at every depth, e.g. [[[[1, 2], [3, 4]]]]")
            return np.full((1, 1), np.nan)
        entries = np.array(value, dtype=object).reshape(shape[0], -1)
        return np.array([[self.entry(name, v, (i, j)) for j, v in enumerate(row)] for i, row in enumerate(entries)])

    def entry(self, name: str, value, position: tuple[int, int]) -> float:
        """One entry's value; NaN for "?" and for what cannot be read, whose reason is kept."""
        number, problem = None, None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            problem = f'expected a number, a string of arithmetic or "?", found {tomlinput.describe(value)}'
        elif isinstance(value, str):
            if value.strip() == UNANSWERED:
                return np.nan
            number, problem = self.arithmetic(name, value, position)
        else:
            number = tomlinput.finite_number(value)
            if number is None:
                problem = f"expected a finite number, found {tomlinput.describe(value)}"
        if problem:
            written = f"{quoted(shorten(value))} cannot be read: " if isinstance(value, str) else "cannot be read: "
            self.unreadable.setdefault(name, {})[position] = written + problem
            return np.nan
        return number

    def arithmetic(self, name: str, text: str, position: tuple[int, int]) -> tuple[float | None, str | None]:
        """The value of a string of arithmetic, or why it cannot be read; a decimal comma ("0,1952") is read
        as a decimal point, with a note."""
        try:
            return evaluate(text), None
        except ExpressionError as error:
            problem = str(error)
        if "." not in text and DECIMAL_COMMA.search(text):
            point = DECIMAL_COMMA.sub(".", text)
            try:
                number = evaluate(point)
            except ExpressionError:
                return None, problem
            self.notes.setdefault(name, {})[position] = (f"{quoted(shorten(text))} read as {point}: a decimal comma "
                                                         "taken for a decimal point")
            return number, None
        return None, problem
