"""Grading an answer file (docs/answer-files.md): every entry correct, carried forward or wrong.

A hand calculation is a graph: each quantity a student computes comes from a few others, its
parents, through one of the engine's own functions (`derivations`). An entry is `correct` within
one unit of its last decimal of the exact value; `carried forward` when it is what that function
gives from the student's OWN values of the parents, as an examiner marks an error carried
forward; `wrong` otherwise, and then the slip catalogue (`slips.py`) tries to name the mistake.
"""

import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import numpy as np

from . import tomlinput
from .arithmetic import ExpressionError, evaluate
from .chain import Step, Update, chain_rule, sgd_update
from .errors import InputError, quoted, shorten, suggestion
from .network import Layer
from .nodes import Dense, MeanCost
from .slips import Attempt, diagnose, within
from .solution import Solution, solve
from .walkthrough import (
    DEFAULT_MAX_JACOBIAN_MB,
    MAX_DECIMALS,
    MIN_DECIMALS,
    Walkthrough,
    bundled_names,
    is_bundled,
    load,
)

VERDICTS = ("correct", "carried forward", "wrong", "unanswered")
TOP_LEVEL_KEYS = ("walkthrough", "decimals", "answers")
UNANSWERED = "?"


class AnswerFileError(InputError):
    """An answer file that cannot be graded; `str()` names the file, the line where known, and the field."""

    def __init__(self, path: Path, message: str, field: str | None = None, line: int | None = None):
        where = str(path) if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


@dataclass(frozen=True)
class Derivation:
    """How one quantity of a hand calculation is computed: from which quantities, by which function.

    `group` is given, forward, jacobians, gradients or update. `step` is the backward step whose
    Jacobian or gradient this is; `update` the SGD update that makes it.
    """

    name: str
    group: str
    parents: tuple[str, ...]
    compute: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    step: Step | None = None
    update: Update | None = None


def exact_values(solution: Solution) -> dict[str, np.ndarray]:
    """Every quantity of the solution as a 2-D array (`J` as 1 × 1)."""
    return {name: np.atleast_2d(np.asarray(value, dtype=float)) for name, value in solution.quantities.items()}


def derivations(solution: Solution) -> dict[str, Derivation]:
    """Every quantity in the order a student computes it: the givens, the forward pass, then for each
    backward step its local Jacobian and its gradient, then the SGD update.

    >>> from jacobian_bp import load, solve
    >>> graph = derivations(solve(load("article")))
    >>> graph["dJ/dW2"].parents, graph["dZ2/dW2"].parents, graph["W1_updated"].parents
    (('dJ/dZ2', 'dZ2/dW2'), ('A1',), ('W1', 'dJ/dW1'))
    """
    network = solution.walkthrough.network
    exact = exact_values(solution)
    m = solution.forward.samples
    N = len(network.layers)
    graph: dict[str, Derivation] = {}

    def add(name: str, group: str, parents: tuple[str, ...], compute, **records):
        graph[name] = Derivation(name, group, parents, compute, **records)

    for name in ("X", "Y", *(f"{p}{k}" for k in range(1, N + 1) for p in "Wb")):
        add(name, "given", (), lambda values, name=name: exact[name])
    for k, layer in enumerate(network.layers, start=1):
        previous = _input_of(k)
        add(f"Z{k}", "forward", (previous, f"W{k}", f"b{k}"),
            lambda v, k=k, previous=previous: Dense.forward(v[previous], v[f"W{k}"], v[f"b{k}"]))
        add(f"A{k}", "forward", (f"Z{k}",), lambda v, k=k, layer=layer: layer.activation.forward(v[f"Z{k}"]))
    add("L", "forward", (f"A{N}", "Y"), lambda v: network.loss.forward(v[f"A{N}"], v["Y"]))
    add("J", "forward", ("L",), lambda v: np.array([[MeanCost.forward(v["L"])]]))
    for step in solution.steps:
        if step.kind == "cost":
            add(step.gradient, "gradients", (), lambda v: MeanCost.shortcut(m), step=step)
            continue
        parents, compute = _local_jacobian(solution, step)
        add(step.jacobian_name, "jacobians", parents, compute, step=step)
        add(step.gradient, "gradients", (step.upstream, step.jacobian_name),
            lambda v, s=step: chain_rule(v[s.upstream], v[s.jacobian_name], s.result.shape), step=step)
    for update in solution.updates:
        add(update.name, "update", (update.parameter, f"dJ/d{update.parameter}"),
            lambda v, u=update: sgd(solution, v, u.learning_rate)[u.name], update=update)
    return graph


def _input_of(k: int) -> str:
    """The input of layer k: `X` for the first layer, else the previous layer's activation."""
    return "X" if k == 1 else f"A{k - 1}"


def _local_jacobian(solution: Solution, step: Step):
    """The parents of a step's local Jacobian and the node's own builder for it."""
    network, m, k = solution.walkthrough.network, solution.forward.samples, step.layer
    if step.kind == "loss":
        return (f"A{k}", "Y"), lambda v: network.loss.jacobian(v[f"A{k}"], v["Y"])
    if step.kind == "activation":
        activation = network.layer(k).activation
        return (f"Z{k}", f"A{k}"), lambda v: activation.jacobian(v[f"Z{k}"], v[f"A{k}"])
    if step.kind == "dense_weights":
        return (_input_of(k),), lambda v: Dense.jacobian_wrt_weights(v[_input_of(k)], network.layer(k).units)
    if step.kind == "dense_input":
        return (f"W{k}",), lambda v: Dense.jacobian_wrt_input(v[f"W{k}"], m)
    if step.kind == "dense_bias":
        return (), lambda v: Dense.jacobian_wrt_bias(m, network.layer(k).units)
    return (), lambda v: step.jacobian  # a kind of step this module does not know: graded against its value only


def sgd(solution: Solution, values: Mapping[str, np.ndarray], learning_rate: float) -> dict[str, np.ndarray]:
    """The engine's SGD step taken from `values` of the parameters and gradients, by update name."""
    network = solution.walkthrough.network
    layers = tuple(replace(layer, W=values[f"W{k}"], b=values[f"b{k}"])
                   for k, layer in enumerate(network.layers, start=1))
    steps = [replace(step, result=values[step.gradient]) for step in solution.steps]
    return {update.name: update.new for update in sgd_update(replace(network, layers=layers), steps, learning_rate)}


@dataclass(frozen=True)
class Graded:
    """The verdicts on one quantity of an answer file.

    `answer` is as the student gave it, `NaN` where unanswered (its shape may be wrong); `entries`
    holds one verdict per entry of `answer`. `parents` are the quantities it is computed from; `own`
    is what that computation gives from the student's own values of `sources`, the parents they
    answered (`None` when they answered none).
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


@dataclass(frozen=True)
class Report:
    """Everything `check` found in one answer file, quantities in the order a student computes them."""

    path: Path
    walkthrough: str
    title: str
    decimals: int
    quantities: tuple[Graded, ...]

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
        return any(graded.verdict == "wrong" for graded in self.quantities)


def grade(path: Path, max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB) -> Report:
    """Grade the answer file at `path`; a file that cannot be graded raises `AnswerFileError`.

    The whole file is checked before the walkthrough is solved, which can take seconds and
    hundreds of megabytes: a mistake in the answer file is reported at once.
    """
    reader = _AnswerFile(path)
    source = reader.walkthrough()
    walkthrough = reader.load(source, max_jacobian_mb)
    decimals = reader.decimals(walkthrough.decimals)
    answers = reader.answers(quantity_names(walkthrough))
    solution = solve(walkthrough)
    return Report(path=path, walkthrough=source, title=walkthrough.title, decimals=decimals,
                  quantities=grade_answers(solution, answers, decimals))


def quantity_names(walkthrough: Walkthrough) -> list[str]:
    """The name of every quantity of `walkthrough`, without solving it.

    The names depend only on the layers, not on their sizes, so they are read off a copy of the
    network with one unit per layer and one sample, which costs next to nothing.

    >>> quantity_names(load("article")) == list(solve(load("article")).quantities)
    True
    """
    network = walkthrough.network
    layers = tuple(Layer(W=np.zeros((1, 1)), b=np.zeros((1, 1)), activation=layer.activation)
                   for layer in network.layers)
    copy = replace(walkthrough, network=replace(network, layers=layers), X=np.zeros((1, 1)), Y=np.ones((1, 1)))
    return list(solve(copy).quantities)


def grade_answers(solution: Solution, answers: Mapping[str, np.ndarray], decimals: int) -> tuple[Graded, ...]:
    """Grade answers given as 2-D arrays (`NaN` where unanswered), in the order a student computes them.

    `dJ/dL` may also be given in its form as the first local Jacobian, the row `1 × m`.

    >>> from jacobian_bp import load, solve
    >>> solution = solve(load("article"))
    >>> [(graded.name, graded.verdict) for graded in grade_answers(solution, {
    ...     "dJ/dZ3": np.array([[0.0456], [-0.1287]]), "dJ/db3": np.array([[-0.0831]])}, 4)]
    [('dJ/dZ3', 'wrong'), ('dJ/db3', 'carried forward')]
    """
    seed = next(step for step in solution.steps if step.kind == "cost")
    answers = {name: answer.T if name == seed.gradient and answer.shape == seed.jacobian.shape else answer
               for name, answer in answers.items()}
    graph = derivations(solution)
    grader = _Grader(solution, graph, answers, decimals)
    return tuple(grader.grade(name) for name in graph if name in answers)


def report_document(report: Report) -> dict:
    """The report as the JSON object of docs/json.md: walkthrough, decimals, summary, quantities."""
    return {"walkthrough": report.walkthrough, "decimals": report.decimals, "summary": report.summary,
            "quantities": {graded.name: {
                "verdict": graded.verdict,
                "entries": graded.entries.tolist(),
                "expected": float(graded.expected[0, 0]) + 0.0 if graded.scalar else (graded.expected + 0.0).tolist(),
                "diagnosis": graded.diagnosis} for graded in report.quantities}}


class _Grader:
    """Verdicts and diagnoses against the exact calculation and the student's own."""

    def __init__(self, solution: Solution, graph: dict[str, Derivation], answers: dict[str, np.ndarray],
                 decimals: int):
        self.solution, self.graph, self.answers, self.decimals = solution, graph, answers, decimals
        self.exact = exact_values(solution)
        self.student = dict(self.exact)
        for name, answer in answers.items():
            # A given (X, Y, W, b) that was copied wrongly is graded, but it is not the student's own work:
            # what follows from it is judged from the real givens.
            if answer.shape == self.exact[name].shape and graph[name].group != "given":
                self.student[name] = np.where(np.isnan(answer), self.exact[name], answer)
        self.worlds: dict[str, dict[str, np.ndarray]] = {}

    def grade(self, name: str) -> Graded:
        derivation, answer, expected = self.graph[name], self.answers[name], self.exact[name]
        sources = tuple(parent for parent in derivation.parents if parent in self.answers
                        and self.answers[parent].shape == self.exact[parent].shape
                        and not np.isnan(self.answers[parent]).all())
        own = _quietly(derivation.compute, self.student) if sources else None
        entries = _entry_verdicts(answer, expected, own, self.decimals)
        verdict = next((v for v in ("wrong", "carried forward", "correct") if (entries == v).any()), "unanswered")
        diagnosis = None
        if answer.shape != expected.shape:
            diagnosis = _shape_note(answer.shape, expected.shape)
        if verdict == "wrong":
            found = diagnose(self.attempt(derivation, answer, own))
            diagnosis = "; ".join(part for part in (diagnosis, found) if part) or None
        return Graded(name=name, group=derivation.group, verdict=verdict, answer=answer, entries=entries,
                      expected=expected, parents=derivation.parents, own=own, sources=sources, diagnosis=diagnosis,
                      scalar=np.ndim(self.solution.quantities[name]) == 0)

    def attempt(self, derivation: Derivation, answer: np.ndarray, own: np.ndarray | None) -> Attempt:
        network = self.solution.walkthrough.network
        return Attempt(
            name=derivation.name, answer=answer, expected=self.exact[derivation.name], own=own,
            decimals=self.decimals, samples=self.solution.forward.samples, step=derivation.step,
            update=derivation.update, steps=self.solution.steps, updates=self.solution.updates,
            activations={k: layer.activation.name for k, layer in enumerate(network.layers, start=1)},
            values=(self.exact, self.student),
            rederive=lambda label, replaced: self.rederive(derivation.name, label, replaced),
            sgd=lambda values, learning_rate: sgd(self.solution, values, learning_rate))

    def rederive(self, name: str, label: str, replaced: dict[str, np.ndarray]) -> list[np.ndarray]:
        """`name` recomputed with some quantities replaced: in the exact calculation, then from the student's values."""
        if label not in self.worlds:
            self.worlds[label] = self.world(replaced)
        if name in replaced:
            return [replaced[name], replaced[name]]
        return [self.worlds[label][name], _quietly(self.graph[name].compute, ChainMap(replaced, self.student))]

    def world(self, replaced: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The exact calculation redone from the replaced quantities on; what they do not reach stays exact."""
        values, changed = dict(self.exact), set(replaced)
        for name, derivation in self.graph.items():
            if name in replaced:
                values[name] = replaced[name]
            elif changed.intersection(derivation.parents):
                values[name] = _quietly(derivation.compute, values)
                changed.add(name)
        return values


def _quietly(compute, values) -> np.ndarray:
    """A recomputation from a student's values, which may be far outside the usual range (NaN where undefined)."""
    with np.errstate(all="ignore"):
        return np.asarray(compute(values), dtype=float)


def _entry_verdicts(answer: np.ndarray, expected: np.ndarray, own: np.ndarray | None, decimals: int) -> np.ndarray:
    unanswered = np.isnan(answer)
    verdicts = np.full(answer.shape, "wrong", dtype=object)
    if answer.shape == expected.shape:
        if own is not None:
            verdicts[within(answer, own, decimals)] = "carried forward"
        verdicts[within(answer, expected, decimals)] = "correct"
    verdicts[unanswered] = "unanswered"
    return verdicts


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
                hint = suggestion(key, TOP_LEVEL_KEYS) or " (allowed: walkthrough, decimals, [answers])"
                self.fail(shorten(key), f"unknown key{hint}", key=key)

    def fail(self, field: str, message: str, key: str | None = None) -> NoReturn:
        raise AnswerFileError(self.path, message, field=field, line=self.line_of(key or field))

    def line_of(self, key: str) -> int | None:
        """The first line that sets `key` (quoted or bare), found by a light scan."""
        pattern = re.compile(rf"\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
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

    def decimals(self, default: int) -> int:
        value = self.document.get("decimals", default)
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_DECIMALS <= value <= MAX_DECIMALS:
            self.fail("decimals", f"expected a whole number from {MIN_DECIMALS} to {MAX_DECIMALS}, "
                                  f"found {tomlinput.describe(value)}")
        return value

    def answers(self, names: list[str]) -> dict[str, np.ndarray]:
        table = self.document.get("answers")
        if table is None:
            self.fail("[answers]", "missing (a table of quantity = value, e.g. \"dJ/dW3\" = [[-1.0216, -0.9253]])",
                      key="answers")
        if not isinstance(table, dict):
            self.fail("answers", "expected a table [answers] of quantity = value")
        found = {}
        for name, value in table.items():
            if name not in names:
                hint = suggestion(name, names) or " (`jacobian-bp worksheet` lists every name)"
                self.fail("answers", f"unknown quantity {quoted(name)}{hint}", key=name)
            found[name] = self.matrix(name, value)
        return found

    def matrix(self, name: str, value) -> np.ndarray:
        """A number, a flat list (one row) or a list of rows, as a 2-D array with NaN for "?"."""
        field = f'answers."{name}"'
        if not isinstance(value, list):
            return np.array([[self.entry(name, value, field)]])
        if not value:
            self.fail(field, "expected numbers, found an empty list", key=name)
        if not any(isinstance(row, list) for row in value):
            return np.array([[self.entry(name, v, f"{field} entry {j + 1}") for j, v in enumerate(value)]])
        if not all(isinstance(row, list) for row in value):
            self.fail(field, "mixes rows and single values; write a list of rows, e.g. [[1, 2], [3, 4]]", key=name)
        problem = tomlinput.ragged(value)
        if problem:
            self.fail(field, problem, key=name)
        return np.array([[self.entry(name, v, f"{field} row {i + 1}, column {j + 1}") for j, v in enumerate(row)]
                         for i, row in enumerate(value)])

    def entry(self, name: str, value, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(field, f'expected a number, a string of arithmetic or "?", found {tomlinput.describe(value)}',
                      key=name)
        if isinstance(value, str):
            if value.strip() == UNANSWERED:
                return np.nan
            try:
                return evaluate(value)
            except ExpressionError as error:
                self.fail(field, str(error), key=name)
        number = tomlinput.finite_number(value)
        if number is None:
            self.fail(field, f"expected a finite number, found {tomlinput.describe(value)}", key=name)
        return number
