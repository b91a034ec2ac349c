"""Reading and validating walkthrough files (TOML, format in docs/walkthrough-files.md) into a network and data.

Every problem is reported as a `WalkthroughError` that names the file, the line where one is
known, the field (e.g. `layers[1].W`), what was expected and what was found.

A bundled walkthrough is found with `os.path`: pathlib (and the URL parsing it imports) would add a thirtieth to
the start of `--format json`. It is imported where a path a person gave is read, and by the functions that
hand out a `Path`.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import tomlinput
from .conventions import DEFAULT, Conventions, from_table
from .errors import InputError, quoted, shorten, suggestion
from .graph import COST, INPUT_DATA, LOSS, PENALTY_NAME, TARGET_DATA, Graph, Node, chain, closing_nodes
from .ops import ACTIVATIONS, INPUT, LOSSES, OPS, OUTPUT, REDUCTIONS, Dense, Op, input_roles
from .optimizers import OPTIMIZERS, SGD, Optimizer
from .structured import SMALL

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_LEARNING_RATE = 0.01
DEFAULT_DECIMALS = 4
DEFAULT_SEED = 0
MIN_DECIMALS = 1
MAX_DECIMALS = 12
DEFAULT_MAX_JACOBIAN_MB = 256
BYTES_PER_ENTRY = 8

# The settings of the losses (Huber's `delta`) are top-level keys too.
LOSS_SETTINGS = tuple(dict.fromkeys(key for cls in LOSSES.values() for key in cls.settings))
TOP_LEVEL_KEYS = ("title", "description", "loss", "learning_rate", "decimals", "seed", "data", "layers", "nodes",
                  "output", "regularization", "frozen", "targets", "reduction", "steps", "optimizer", "conventions",
                  *LOSS_SETTINGS)
MAX_STEPS = 10000
TRAINING_LIMIT = 4  # the Jacobians of all training steps together may take this many times --max-jacobian-mb
TARGET_FORMS = ("values", "indices")
DATA_KEYS = ("X", "Y")
LAYER_KEYS = ("units", "activation", "W", "b", "bias")
NODE_KEYS = ("name", "op", "input", "inputs")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_NAME = 24
FORBIDDEN = ("dJ", "via", "@", "_updated")
RESERVED = {INPUT_DATA: "the inputs", TARGET_DATA: "the targets", LOSS: "the losses", COST: "the cost",
            PENALTY_NAME: "the L2 penalty"}


class WalkthroughError(InputError):
    """A walkthrough that cannot be used; `str()` is the one-line message for the student."""

    def __init__(self, source: str, message: str, field: str | None = None, line: int | None = None):
        self.source, self.message, self.field, self.line = source, message, field, line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


# Compared by identity: == of its arrays has no single truth value. Not generating __eq__, __hash__ and __repr__
# (it writes its own) shortens every start-up.
@dataclass(frozen=True, eq=False, repr=False)
class Walkthrough:
    """A graph with its batch and parameters, ready to be solved; `name` is the bundled name or the path given.

    `given` holds the data `X` and `Y` and every parameter by name, as the engine computes with them
    (samples as rows); `initialized` names the parameters drawn from `seed`; `frozen` those the update
    leaves as they are; `conventions` how every quantity is written (the file's data too).
    """

    name: str
    title: str
    description: str
    graph: Graph
    given: dict
    learning_rate: float
    decimals: int
    seed: int
    initialized: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()
    steps: int = 1
    optimizer: Optimizer = field(default_factory=SGD)
    training_shown: bool = False  # whether the file states `steps`: then the pages end with the cost after training
    all_steps: bool = False  # whether every training step is shown in full (else the first, then updates and costs)
    conventions: Conventions = DEFAULT

    def __repr__(self) -> str:
        """One line, not a dump of every matrix: the name, the title, the graph's size and the batch."""
        return (f"<Walkthrough {self.name!r}: {self.title!r}, {len(self.graph.nodes)} nodes, "
                f"{len(self.graph.parameters)} parameters, {self.X.shape[0]} samples>")

    @property
    def X(self) -> np.ndarray:  # noqa: N802 (the article's name)
        return self.given[INPUT_DATA]

    @property
    def Y(self) -> np.ndarray:  # noqa: N802 (the article's name)
        return self.given[TARGET_DATA]


@dataclass(frozen=True, eq=False)  # by identity, as a Walkthrough
class _Spec:
    """One node as read from the file, before the graph is put in order."""

    field: str
    output: str
    op: Op
    inputs: dict
    given: dict
    names: dict
    layer: int | None

    def node(self) -> Node:
        return Node(self.output, self.op, {**self.inputs, **self.names}, layer=self.layer)


def bundled_directory() -> "Path":
    """Where the bundled walkthroughs are: inside the installed package, or the source tree's folder."""
    from pathlib import Path

    return Path(_bundled_folder())


def _bundled_folder() -> str:
    package = os.path.dirname(os.path.realpath(__file__))
    installed = os.path.join(package, "walkthroughs")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package), "walkthroughs")


def bundled_names() -> list[str]:
    """The names of the bundled walkthroughs, sorted, `article` first."""
    names = sorted(name.removesuffix(".toml") for name in os.listdir(_bundled_folder()) if name.endswith(".toml"))
    return sorted(names, key=lambda name: name != "article")


def is_bundled(name: str) -> bool:
    """Whether `name` (not a path) names a bundled walkthrough; a name is never looked up as a file."""
    return name in bundled_names()


def resolve(name_or_path: str, base: "Path | None" = None) -> "Path":
    """The file behind a bundled name, or a path (relative to `base`, if given) unless nothing can be
    there: then a suggestion. Whether the path can be read is `tomlinput.read`'s to say."""
    from pathlib import Path

    return Path(_located(name_or_path, base))


def _located(name_or_path: str, base: "Path | None") -> "str | Path":
    """`resolve`, where a bundled walkthrough's file is a string."""
    if is_bundled(name_or_path):
        return os.path.join(_bundled_folder(), f"{name_or_path}.toml")
    from pathlib import Path

    path = base / name_or_path if base else Path(name_or_path)
    if not tomlinput.missing(path):
        return path
    hint = suggestion(name_or_path, bundled_names())
    raise WalkthroughError(name_or_path, "no such file, and no bundled walkthrough of that name"
                           f"{hint or ' (the command `list` shows the bundled ones)'}")


def _stem(source: str) -> str:
    """The title of a walkthrough whose file gives none: the file's name without its extension."""
    from pathlib import Path

    return Path(source).stem


def load(name_or_path: "str | Path" = "article", max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB,
         base: "Path | None" = None) -> Walkthrough:
    """Read and validate a bundled walkthrough by name, or a walkthrough file by path.

    A walkthrough whose largest local Jacobian would take more than `max_jacobian_mb` MiB is
    refused before anything is allocated.

    >>> load("article").given["W1"].shape
    (3, 2)
    """
    name_or_path = str(name_or_path)
    path = _located(name_or_path, base)
    source = name_or_path if base is None or is_bundled(name_or_path) else str(path)
    try:
        text, document = tomlinput.read(path)
    except tomlinput.UnreadableError as problem:
        raise WalkthroughError(source, problem.message, line=problem.line) from None
    return _Reader(text, source, max_jacobian_mb).walkthrough(document)


def from_layers(X: np.ndarray, Y: np.ndarray, W: list, b: list, activations: list, loss: Op,
                learning_rate: float = DEFAULT_LEARNING_RATE, l2: float = 0.0, name: str = "layers",
                reduction: str = "mean") -> Walkthrough:
    """A walkthrough of a chain of dense layers from its matrices, as `[[layers]]` would give it (for programs)."""
    units = [weights.shape[0] for weights in W]
    graph = chain(units, activations, loss, l2, reduction=reduction)
    parameters = {f"{letter}{k}": value for k, (weights, bias) in enumerate(zip(W, b, strict=True), start=1)
                  for letter, value in (("W", weights), ("b", bias))}
    return Walkthrough(name=name, title=name, description="", graph=graph,
                       given={INPUT_DATA: X, TARGET_DATA: Y, **parameters}, learning_rate=learning_rate,
                       decimals=DEFAULT_DECIMALS, seed=DEFAULT_SEED)


def _size(entries: int) -> str:
    size = entries * BYTES_PER_ENTRY
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def built_sizes(graph: Graph, shapes: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """How many numbers each local Jacobian takes as built, by name, from the shapes of the data and parameters
    alone: what an op stores (`Op.structure_size`: the factors of a structured Jacobian, the full matrix of any
    other), and the full matrix of a small one. What the memory guard counts."""
    every = graph.shapes(shapes)
    jacobians = graph.jacobian_shapes(every)

    def built(edge) -> int:
        node = edge.node
        roles = {**{role: every[name] for role, name in node.roles.items()}, OUTPUT: every[node.output]}
        rows, columns = jacobians[edge.jacobian_name]
        return max(node.op.structure_size(edge.role, roles), rows * columns if rows * columns <= SMALL else 0)

    return {edge.jacobian_name: built(edge) for edge in graph.edges}


def dense_shapes(walkthrough: Walkthrough) -> dict[str, tuple[int, int]]:
    """The shape of every local Jacobian of `walkthrough` as a full matrix, by name, before anything is computed."""
    graph = walkthrough.graph
    return graph.jacobian_shapes(graph.shapes({name: np.shape(value) for name, value in walkthrough.given.items()}))


def refuse_dense(walkthrough: Walkthrough, max_jacobian_mb: float, asked: str) -> None:
    """Refuse, before anything is built, what `asked` for (`--dense-jacobians`): every local Jacobian of
    `walkthrough` in full, when the largest full matrix would take more than `max_jacobian_mb` MiB."""
    shapes = dense_shapes(walkthrough)
    name, (rows, columns) = max(reversed(shapes.items()), key=lambda item: item[1][0] * item[1][1])
    if rows * columns * BYTES_PER_ENTRY > max_jacobian_mb * 2**20:
        raise WalkthroughError(walkthrough.name, f"{asked} builds every Jacobian in full: {name} would be {rows} × "
                                                 f"{columns} ({_size(rows * columns)}), more than the limit of "
                                                 f"{max_jacobian_mb:g} MiB; raise the limit with --max-jacobian-mb, "
                                                 "or leave the Jacobians in their structured form")


class _Reader:
    """Turns a parsed TOML document into a `Walkthrough`, raising on the first problem."""

    def __init__(self, text: str, source: str, max_jacobian_mb: float):
        self.lines = text.splitlines()
        self.source = source
        self.max_jacobian_mb = max_jacobian_mb
        self.conventions = DEFAULT

    def fail(self, field: str, message: str):
        """Refuse, naming the field's line, or the line of its table where the field is missing."""
        line = self.line_of(field)
        if line is None and "]." in field:
            line = self.line_of(field.rpartition(".")[0])
        raise WalkthroughError(self.source, message, field=field, line=line)

    def line_of(self, field: str) -> int | None:
        """The line that sets `field` (`loss`, `data.X[0][1]`, `layers[1].W`, `layers[1]`), by a light scan."""
        match = re.match(r"([A-Za-z_]+)(?:\[(\d+)\])?(?:\.([A-Za-z_][A-Za-z0-9_]*))?", field)
        if not match:
            return None
        name, index, key = match.group(1), max(int(match.group(2) or 1) - 1, 0), match.group(3)
        current, seen = "", -1
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = re.fullmatch(r"\[\[?\s*([A-Za-z_.]+)\s*\]\]?(\s*#.*)?", line)
            if header:
                current = header.group(1)
                if current == name:
                    seen += 1
                    if key is None and seen == index:
                        return number
                continue
            in_place = current == "" if key is None else (current == name and seen == index)
            if in_place and re.match(rf"\"?{re.escape(key or name)}\"?\s*=", line):
                return number
        return None

    def walkthrough(self, document: dict) -> Walkthrough:
        self.reject_unknown(document, TOP_LEVEL_KEYS, "")
        if "layers" in document and "nodes" in document:
            self.fail("nodes", "a walkthrough lists either [[layers]] (a chain) or [[nodes]] (any graph), not both")
        form = "nodes" if "nodes" in document else "layers"
        for key in ("loss", "data", form):
            if key not in document:
                inside = isinstance(document.get("data"), dict) and key in document["data"]
                self.fail(key, "missing; it is written inside [data], where it does not belong: move it above "
                               "[data]" if inside else
                          "missing (every walkthrough needs `loss`, `[data]` and at least one `[[layers]]` "
                          "or `[[nodes]]`)")
        title = self.text(document, "title", default="")
        description = self.text(document, "description", default="")
        learning_rate = self.number(document.get("learning_rate", DEFAULT_LEARNING_RATE), "learning_rate")
        if not learning_rate > 0:
            self.fail("learning_rate", f"expected a positive number, found {learning_rate}")
        decimals = self.integer(document.get("decimals", DEFAULT_DECIMALS), "decimals")
        if not MIN_DECIMALS <= decimals <= MAX_DECIMALS:
            self.fail("decimals", f"expected a whole number from {MIN_DECIMALS} to {MAX_DECIMALS}, found {decimals}")
        seed = self.integer(document.get("seed", DEFAULT_SEED), "seed")
        if seed < 0:
            self.fail("seed", f"expected a whole number ≥ 0, found {seed}")

        data = document["data"]
        if not isinstance(data, dict):
            self.fail("data", f"expected a table `[data]` with X and Y, found {tomlinput.describe(data)}")
        self.reject_unknown(data, DATA_KEYS, "data.")
        for key in DATA_KEYS:
            if key not in data:
                self.fail(f"data.{key}", "missing")
        self.conventions = from_table(document.get("conventions", {}), self.fail)
        X = self.matrix(data["X"], "data.X")
        Y = self.matrix(data["Y"], "data.Y")
        if self.conventions.columns:  # the file writes its data with samples as columns
            X, Y = X.T, Y.T
        if Y.shape[0] != X.shape[0]:
            self.fail("data.Y", f"expected {X.shape[0]} {self.conventions.samples} (one per sample of X), "
                                f"found {Y.shape[0]}")

        loss = self.loss(document)
        reduction = self.choice(document.get("reduction", "mean"), "reduction", dict.fromkeys(REDUCTIONS))
        l2 = self.regularization(document.get("regularization", {}))
        specs = self.layer_specs(document["layers"]) if form == "layers" else self.node_specs(document["nodes"])
        output = self.output(document, specs, form)
        specs = self.in_order(specs)
        self.check_used(specs, output)
        shapes = self.shapes(specs, {INPUT_DATA: X.shape, TARGET_DATA: Y.shape})
        nodes = [spec.node() for spec in specs]
        weights = tuple(name for spec in specs for role, name in spec.names.items() if role in spec.op.penalized)
        if l2 > 0 and not weights:
            self.fail("regularization.l2", "no node has weights for the penalty to add up (only dense layers have)")
        graph = Graph(tuple(nodes + closing_nodes(output, loss, l2, weights, reduction)), output=output)
        self.check_loss(graph, specs, shapes, Y)
        stored = built_sizes(graph, shapes)
        self.check_jacobian_sizes(graph, shapes, stored)
        given, initialized = self.parameters(specs, shapes, seed)
        frozen = self.frozen(document.get("frozen", []), graph)
        steps = self.integer(document.get("steps", 1), "steps")
        if not 1 <= steps <= MAX_STEPS:
            self.fail("steps", f"expected a whole number of training steps from 1 to {MAX_STEPS}, found {steps}")
        self.check_training_size(stored, steps)
        optimizer = self.optimizer(document.get("optimizer", {"name": "sgd"}))
        return Walkthrough(name=self.source, title=title or _stem(self.source), description=description,
                           graph=graph, given={INPUT_DATA: X, TARGET_DATA: Y, **given},
                           learning_rate=learning_rate, decimals=decimals, seed=seed,
                           initialized=tuple(initialized), frozen=frozen, steps=steps, optimizer=optimizer,
                           training_shown="steps" in document, conventions=self.conventions)

    def loss(self, document: dict) -> Op:
        """The loss op: its name, its settings (top-level keys such as `delta`) and `targets`."""
        loss_class = LOSSES[self.choice(document["loss"], "loss", LOSSES)]
        for key in LOSS_SETTINGS:
            if key in document and key not in loss_class.settings:
                owners = [name for name, cls in LOSSES.items() if key in cls.settings]
                self.fail(key, f"a setting of the loss {' or '.join(owners)}, not of {loss_class.name}")
        settings = {key: self.number(document[key], key) for key in loss_class.settings if key in document}
        for key, value in settings.items():
            if not value > 0:
                self.fail(key, f"expected a positive number, found {value:g}")
        form = self.choice(document.get("targets", "values"), "targets", dict.fromkeys(TARGET_FORMS))
        if form == "indices" and not loss_class.takes_indices:
            takers = [name for name, cls in LOSSES.items() if cls.takes_indices]
            self.fail("targets", f"class indices are for {' and '.join(takers)}, not {loss_class.name}")
        return loss_class(indices=form == "indices", **settings)

    def layer_specs(self, value) -> list["_Spec"]:
        """`[[layers]]`: each layer is a dense node `Zk` and an activation node `Ak`."""
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.fail("layers", f"expected one or more `[[layers]]` tables, found {tomlinput.describe(value)}")
        settings = tuple(dict.fromkeys(name for cls in ACTIVATIONS.values() for name in cls.settings))
        specs, previous = [], INPUT_DATA
        for k, table in enumerate(value, start=1):
            field = f"layers[{k}]"
            self.reject_unknown(table, LAYER_KEYS + settings, f"{field}.")
            activation_class = ACTIVATIONS[self.choice(table.get("activation"), f"{field}.activation", ACTIVATIONS)]
            dense = self.op(Dense, {key: table[key] for key in ("units", "bias") if key in table}, field)
            activation = self.op(activation_class, {key: table[key] for key in settings if key in table}, field,
                                 misplaced=settings)
            given = {letter: table[letter] for letter in dense.parameter_roles() if letter in table}
            if "b" in table and not dense.bias:
                self.fail(f"{field}.b", "given, but the layer has `bias = false`")
            specs.append(_Spec(field, f"Z{k}", dense, {INPUT: previous}, given,
                               {letter: f"{letter}{k}" for letter in dense.parameter_roles()}, k))
            specs.append(_Spec(field, f"A{k}", activation, {INPUT: f"Z{k}"}, {}, {}, k))
            previous = f"A{k}"
        return specs

    def node_specs(self, value) -> list["_Spec"]:
        """`[[nodes]]`: any graph; parameters of the k-th node with parameters are named with k."""
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.fail("nodes", f"expected one or more `[[nodes]]` tables, found {tomlinput.describe(value)}")
        specs, defined, numbered = [], {INPUT_DATA: "the data", TARGET_DATA: "the data"}, 0
        for index, table in enumerate(value, start=1):
            field = f"nodes[{index}]"
            op_class = OPS[self.choice(table.get("op"), f"{field}.op", OPS)]
            allowed = (NODE_KEYS + (("parameters",) if op_class.parameter_letters else ()) + tuple(op_class.options)
                       + tuple(op_class.settings) + op_class.parameter_letters)
            self.reject_unknown(table, allowed, f"{field}.")
            name = self.variable_name(table.get("name"), f"{field}.name", defined)
            defined[name] = field
            stated = {key: table[key] for key in (*op_class.options, *op_class.settings) if key in table}
            op = self.op(op_class, {**op_class.implied_options(table), **stated}, field, table=table)
            roles = self.inputs(table, field, op_class)
            given = {letter: table[letter] for letter in op.parameter_roles() if letter in table}
            for letter in op_class.parameter_letters:
                if letter in table and letter not in op.parameter_roles():
                    self.fail(f"{field}.{letter}", "given, but the node has `bias = false`")
            names = {}
            if op.parameter_roles():
                numbered += 1
                names = self.parameter_names(table, field, op, numbered, defined)
            specs.append(_Spec(field, name, op, roles, given, names, numbered if names else None))
        known = [INPUT_DATA, *(spec.output for spec in specs)]
        for spec in specs:
            for role, variable in spec.inputs.items():
                if variable not in defined:
                    key = "input" if role == INPUT else "inputs"
                    self.fail(f"{spec.field}.{key}", f"unknown variable {quoted(variable)}"
                                                     f"{suggestion(variable, known) or ''} (known: {', '.join(known)})")
                if variable in spec.names.values() or variable == TARGET_DATA:
                    self.fail(f"{spec.field}.{'input' if role == INPUT else 'inputs'}",
                              f"{variable} cannot be an input here (the targets and a node's own parameters are not)")
                owner = next((other for other in specs if variable in other.names.values()), None)
                if owner is not None:
                    key = "input" if role == INPUT else "inputs"
                    self.fail(f"{spec.field}.{key}", f"{variable} is a parameter of {owner.field}; a node takes the "
                                                     "data X or variables that nodes compute")
        return specs

    def check_used(self, specs: list["_Spec"], output: str):
        """Every node must lead to the output: a gradient is defined only along the paths to J."""
        needed, waiting = set(), [output]
        producers = {spec.output: spec for spec in specs}
        while waiting:
            name = waiting.pop()
            if name in producers and name not in needed:
                needed.add(name)
                waiting += list(producers[name].inputs.values())
        unused = next((spec for spec in specs if spec.output not in needed), None)
        if unused is not None:
            self.fail(f"{unused.field}.name", f"{unused.output} does not lead to the output {output}, so J does not "
                                              "depend on it; connect it or remove the node")

    def op(self, op_class, values: dict, field: str, misplaced: tuple[str, ...] = (), table: dict | None = None):
        """The op with the options and settings of its table (all of which is `table`), each checked for its type,
        then as the op checks them together."""
        for key in misplaced:
            if key in values and key not in op_class.settings:
                owners = [name for name, cls in ACTIVATIONS.items() if key in cls.settings]
                self.fail(f"{field}.{key}", f"{op_class.name} has no {key} (it belongs to {' and '.join(owners)})")
        arguments = {}
        for key, kind in op_class.options.items():
            if key not in values:
                if key in op_class.required:
                    at, why = op_class.missing(key, table if table is not None else values)
                    self.fail(f"{field}.{at}", why)
                continue
            if kind is bool:
                if not isinstance(values[key], bool):
                    self.fail(f"{field}.{key}", f"expected true or false, found {tomlinput.describe(values[key])}")
                arguments[key] = values[key]
            elif kind is tuple:
                arguments[key] = self.sizes(values[key], f"{field}.{key}")
            elif kind is np.ndarray:
                arguments[key] = self.matrix(values[key], f"{field}.{key}")
            else:
                arguments[key] = self.integer(values[key], f"{field}.{key}")
                least = op_class.option_minimum.get(key, 1)
                if arguments[key] < least:
                    self.fail(f"{field}.{key}", f"expected at least {least}, found {arguments[key]}")
        for key in op_class.settings:
            if key in values:
                arguments[key] = self.number(values[key], f"{field}.{key}")
        op = op_class(**arguments)
        problem = op.settings_problem()
        if problem:
            self.fail(f"{field}.{problem[0]}", problem[1])
        return op

    def variable_name(self, value, field: str, defined: dict) -> str:
        if value is None:
            self.fail(field, "missing (the name of the variable this node computes, e.g. \"Z1\")")
        if not isinstance(value, str):
            self.fail(field, f"expected a name in quotes, found {tomlinput.describe(value)}")
        if not NAME.fullmatch(value) or any(part in value for part in FORBIDDEN) or len(value) > MAX_NAME:
            self.fail(field, f"expected at most {MAX_NAME} ASCII letters, digits and _, starting with a letter, "
                             f"without {', '.join(FORBIDDEN)}; found {quoted(value)}")
        if value in RESERVED:
            self.fail(field, f"{value} is the name of {RESERVED[value]}; choose another name")
        if value in defined:
            self.fail(field, f"{value} is defined twice (also by {defined[value]})")
        return value

    def inputs(self, table: dict, field: str, op_class) -> dict[str, str]:
        """The node's variable inputs by role: `input = "X"` for one, `inputs = [...]` for several."""
        if op_class.inputs == 1:
            if "inputs" in table:
                self.fail(f"{field}.inputs", f"{op_class.name} takes one input: write input = \"…\"")
            value = table.get("input")
            if not isinstance(value, str):
                self.fail(f"{field}.input", "missing" if value is None else
                          f"expected a variable name in quotes, found {tomlinput.describe(value)}")
            return {INPUT: value}
        if "input" in table:
            self.fail(f"{field}.input", f"{op_class.name} takes two or more inputs: write inputs = [\"…\", \"…\"]")
        value = table.get("inputs")
        if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, str) for v in value):
            self.fail(f"{field}.inputs", "missing" if value is None else
                      f"expected two or more variable names in quotes, found {tomlinput.describe(value)}")
        twice = next((name for name in value if value.count(name) > 1), None)
        if twice:
            self.fail(f"{field}.inputs", f"{quoted(twice)} is given twice; a node takes each variable once")
        return dict(zip(input_roles(len(value)), value, strict=True))

    def parameter_names(self, table: dict, field: str, op, number: int, defined: dict) -> dict[str, str]:
        roles = op.parameter_roles()
        if "parameters" not in table:
            names = {role: f"{role}{number}" for role in roles}
        else:
            value = table["parameters"]
            if not isinstance(value, list) or len(value) != len(roles) or not all(isinstance(v, str) for v in value):
                self.fail(f"{field}.parameters", f"expected {len(roles)} names in quotes (for {', '.join(roles)}), "
                                                 f"found {tomlinput.describe(value)}")
            names = dict(zip(roles, value, strict=True))
        for name in names.values():
            self.variable_name(name, f"{field}.parameters", defined)
            defined[name] = field
        return names

    def output(self, document: dict, specs: list["_Spec"], form: str) -> str:
        """The variable the loss takes: `output`, by default the last node's."""
        if "output" not in document:
            return specs[-1].output
        if form == "layers":
            self.fail("output", "only for [[nodes]]: with [[layers]], the loss takes the last layer's output")
        value = document["output"]
        outputs = [spec.output for spec in specs]
        if not isinstance(value, str) or value not in outputs:
            self.fail("output", f"expected the name of a node's variable, one of {', '.join(outputs)}; found "
                                f"{quoted(value) if isinstance(value, str) else tomlinput.describe(value)}")
        return value

    def in_order(self, specs: list["_Spec"]) -> list["_Spec"]:
        """The nodes in an order where every input comes first (file order where it allows); a cycle is refused."""
        done, ordered, waiting = {INPUT_DATA, TARGET_DATA}, [], list(specs)
        while waiting:
            ready = next((spec for spec in waiting if set(spec.inputs.values()) <= done), None)
            if ready is None:
                cycle = self.cycle(waiting)
                key = "input" if INPUT in cycle[0].inputs else "inputs"
                loop = " → ".join(spec.output for spec in cycle + cycle[:1])
                self.fail(f"{cycle[0].field}.{key}", f"the nodes {loop} depend on each other in a cycle")
            waiting.remove(ready)
            ordered.append(ready)
            done.add(ready.output)
        return ordered

    @staticmethod
    def cycle(waiting: list["_Spec"]) -> list["_Spec"]:
        """One cycle among nodes none of which can come first: follow inputs back until a node repeats."""
        by_output = {spec.output: spec for spec in waiting}
        path, spec = [], waiting[0]
        while spec not in path:
            path.append(spec)
            spec = next(by_output[name] for name in spec.inputs.values() if name in by_output)
        return path[path.index(spec):][::-1]

    def shapes(self, specs: list["_Spec"], data: dict) -> dict[str, tuple[int, int]]:
        """Every variable's shape, parameters included, checked op by op before anything is computed."""
        shapes, images = dict(data), {}
        for spec in specs:
            image = images.get(spec.inputs.get(INPUT))
            if spec.op.needs_image:
                self.adopt_image(spec, image)
                image = spec.op.in_shape
            images[spec.output] = spec.op.output_image(image)
            inputs = {role: shapes[name] for role, name in spec.inputs.items()}
            parameters = spec.op.parameter_shapes(inputs)
            shapes.update({spec.names[role]: parameters[role] for role in spec.names})
            roles = {**inputs, **{role: parameters[role] for role in spec.names}}
            problem = spec.op.check_shapes(roles)
            if isinstance(problem, tuple):
                self.fail(f"{spec.field}.{problem[0]}", problem[1])
            if problem:
                self.fail(f"{spec.field}.inputs" if len(spec.inputs) > 1 else spec.field, problem)
            shapes[spec.output] = spec.op.output_shape(roles)
        return shapes

    def adopt_image(self, spec: "_Spec", image: tuple[int, ...] | None):
        """An image op's `in_shape`: as given, or the picture shape its input has after an image op; both must agree."""
        field, source = f"{spec.field}.in_shape", spec.inputs[INPUT]
        if spec.op.in_shape is None:
            if image is None:
                self.fail(field, f"missing: how one sample's row of {source} folds into a picture, e.g. "
                                 "in_shape = [1, 5, 5] (channels, height, width) or [2, 8] (channels, length)")
            spec.op.in_shape = image
        elif image is not None and tuple(image) != spec.op.in_shape:
            shape = " × ".join(map(str, image))
            found = " × ".join(map(str, spec.op.in_shape))
            self.fail(field, f"expected {shape} (the picture shape of {source}), found {found}")

    def check_loss(self, graph: Graph, specs: list["_Spec"], shapes: dict, Y: np.ndarray):
        """The output and the targets must suit the loss; each loss states its own rules."""
        loss = graph.loss_node.op
        producer = graph.producers[graph.output]
        if not loss.accepts(producer.op):
            field = next(spec.field for spec in specs if spec.output == graph.output)
            self.fail(f"{field}.activation" if field.startswith("layers") else f"{field}.op",
                      f"{loss.name} needs outputs from {' or '.join(loss.output_activations)}"
                      f"{'' if loss.takes_probabilities else ' (logits: the loss applies the squashing itself)'}, "
                      f"found {producer.op.name}")
        outputs = shapes[graph.output][1]
        lines = "row" if self.conventions.columns else "column"  # a line of Y as the file writes it
        if loss.indices:
            if Y.shape[1] != 1:
                self.fail("data.Y", f"expected 1 {lines} (one class index per sample, targets = \"indices\"), "
                                    f"found {Y.shape[1]}")
            problem = loss.check_indices(Y, outputs)
            if problem:
                self.fail("data.Y", problem)
            Y = loss.dense_targets(Y, outputs)
        if Y.shape[1] != outputs:
            self.fail("data.Y", f"expected {outputs} {lines}{'s' * (outputs != 1)} (the outputs of "
                                f"{graph.output}, which the loss takes), found {Y.shape[1]}")
        problem = loss.check_targets(Y)
        if problem:
            self.fail("data.Y", problem)

    def check_jacobian_sizes(self, graph: Graph, shapes: dict, stored: dict[str, int]):
        """Refuse, before allocating anything, a graph whose largest Jacobian as built (`stored`, by
        `built_sizes`) exceeds the limit."""
        # The largest, the one nearest the output where several are as large (the backward pass meets it first).
        name, entries = max(reversed(stored.items()), key=lambda item: item[1])
        if entries * BYTES_PER_ENTRY > self.max_jacobian_mb * 2**20:
            rows, columns = graph.jacobian_shapes(graph.shapes(shapes))[name]
            what = (f"would be {rows} × {columns} ({_size(entries)})" if entries == rows * columns else
                    f"({rows} × {columns}) would store {_size(entries)} of factors")
            raise WalkthroughError(
                self.source, f"the Jacobian {name} {what}, more than the limit of {self.max_jacobian_mb:g} MiB; "
                "use fewer units or samples, or raise the limit with --max-jacobian-mb")

    def check_training_size(self, stored: dict[str, int], steps: int):
        """Refuse, before allocating anything, a training whose Jacobians as built (`stored`; every step keeps its
        own, to be shown) would take more than TRAINING_LIMIT times the limit of one Jacobian."""
        entries = sum(stored.values())
        if steps > 1 and steps * entries * BYTES_PER_ENTRY > TRAINING_LIMIT * self.max_jacobian_mb * 2**20:
            self.fail("steps", f"the Jacobians of {steps} training steps would take {_size(steps * entries)}, more "
                               f"than {TRAINING_LIMIT} × the limit of {self.max_jacobian_mb:g} MiB; use fewer steps, "
                               "units or samples, or raise the limit with --max-jacobian-mb")

    def parameters(self, specs: list["_Spec"], shapes: dict, seed: int) -> tuple[dict, list[str]]:
        """Every parameter: as given in the file, or drawn from the seed in file order."""
        rng = None  # created for the first parameter the file leaves out: it costs a noticeable part of a start
        given, initialized = {}, []
        for spec in specs:
            inputs = {role: shapes[name] for role, name in spec.inputs.items()}
            for role, name in spec.names.items():
                shape = shapes[name]
                field = f"{spec.field}.{role}"
                if role not in spec.given:
                    rng = rng or np.random.default_rng(seed)
                    given[name] = spec.op.initialize(role, inputs, rng)
                    initialized.append(name)
                    continue
                hint = spec.op.parameter_hint(role)
                layout = spec.op.parameter_layout(role)
                if layout is not None and tomlinput.depth(spec.given[role]) > 2:
                    value = self.nested(spec.given[role], field, layout, hint).reshape(shape)
                elif role in spec.op.row_parameters:
                    value = self.row(spec.given[role], field)
                    if value.shape != shape:
                        self.fail(field, f"expected {shape[1]} value{'s' * (shape[1] != 1)} ({hint}), "
                                         f"found {value.shape[1]}")
                else:
                    # With samples as columns the file writes a parameter transposed, except the dense `W`.
                    turned = self.conventions.columns and role not in spec.op.same_in_columns
                    value = self.matrix(spec.given[role], field)
                    value = value.T if turned else value
                    if value.shape != shape:
                        rows, columns = shape[::-1] if turned else shape
                        found = value.shape[::-1] if turned else value.shape
                        self.fail(field, f"expected shape {rows} × {columns} ({hint}), "
                                         f"found {found[0]} × {found[1]}")
                given[name] = value
        return given, initialized

    def regularization(self, value) -> float:
        if not isinstance(value, dict):
            self.fail("regularization", f"expected a table `[regularization]`, found {tomlinput.describe(value)}")
        self.reject_unknown(value, ("l2",), "regularization.")
        l2 = self.number(value.get("l2", 0.0), "regularization.l2")
        if l2 < 0:
            self.fail("regularization.l2", f"expected a number ≥ 0, found {l2:g}")
        return l2

    def optimizer(self, value) -> Optimizer:
        """`[optimizer]`: its `name` and any of its settings under PyTorch's argument names."""
        if not isinstance(value, dict):
            self.fail("optimizer", f"expected a table `[optimizer]` with a name, found {tomlinput.describe(value)}")
        optimizer_class = OPTIMIZERS[self.choice(value.get("name"), "optimizer.name", OPTIMIZERS)]
        self.reject_unknown(value, ("name", *optimizer_class.settings), "optimizer.")
        settings = {}
        for key, default in optimizer_class.settings.items():
            if key not in value:
                continue
            field = f"optimizer.{key}"
            if isinstance(default, tuple):
                given = value[key]
                if not isinstance(given, list) or len(given) != len(default):
                    self.fail(field, f"expected {len(default)} numbers in brackets, e.g. {list(default)}, "
                                     f"found {tomlinput.describe(given)}")
                settings[key] = tuple(self.number(entry, f"{field}[{i}]") for i, entry in enumerate(given, start=1))
                numbers = settings[key]
            else:
                settings[key] = self.number(value[key], field)
                numbers = (settings[key],)
            if key == "eps":
                if not settings[key] > 0:
                    self.fail(field, f"expected a positive number, found {settings[key]:g}")
            elif not all(0 <= number < 1 for number in numbers):
                self.fail(field, f"expected {'numbers' if len(numbers) > 1 else 'a number'} from 0 up to (not "
                                 f"including) 1, found {', '.join(f'{number:g}' for number in numbers)}")
        return optimizer_class(**settings)

    def frozen(self, value, graph: Graph) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail("frozen", f"expected a list of parameter names in quotes, found {tomlinput.describe(value)}")
        twice = next((name for name in value if value.count(name) > 1), None)
        if twice:
            self.fail("frozen", f"{quoted(twice)} is listed twice")
        for name in value:
            if name not in graph.parameters:
                self.fail("frozen", f"unknown parameter {quoted(name)}{suggestion(name, graph.parameters) or ''} "
                                    f"(the parameters: {', '.join(graph.parameters)})")
        return tuple(value)

    def reject_unknown(self, table: dict, allowed: tuple[str, ...], prefix: str):
        """Refuse the first key not in `allowed`, shortened in the message but found in the file whole."""
        for key in table:
            if key not in allowed:
                hint = suggestion(key, allowed) or f" (allowed: {', '.join(allowed)})"
                raise WalkthroughError(self.source, f"unknown key{hint}", field=f"{prefix}{shorten(key)}",
                                       line=self.line_of(f"{prefix}{key}"))

    def text(self, document: dict, key: str, default: str) -> str:
        value = document.get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"expected text in quotes, found {tomlinput.describe(value)}")
        return value

    def choice(self, value, field: str, options: dict) -> str:
        if value is None:
            self.fail(field, f"missing (one of: {', '.join(options)})")
        if not isinstance(value, str):
            self.fail(field, f"expected text in quotes, one of: {', '.join(options)}; "
                             f"found {tomlinput.describe(value)}")
        if value not in options:
            hint = suggestion(value, list(options))
            self.fail(field, f"unknown {field.rsplit('.', 1)[-1]} {quoted(value)}"
                             f"{hint or ''} (one of: {', '.join(options)})")
        return value

    def number(self, value, field: str) -> float:
        number = tomlinput.finite_number(value)
        if number is None:
            finite = " finite" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            self.fail(field, f"expected a{finite} number, found {tomlinput.describe(value)}")
        return number

    def integer(self, value, field: str) -> int:
        """A whole number in TOML's 64-bit range, so that sizes computed from it stay within a float."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, f"expected a whole number, found {tomlinput.describe(value)}")
        if not -2**63 <= value < 2**63:
            self.fail(field, f"expected a whole number from −2⁶³ to 2⁶³ − 1 (TOML's range), "
                             f"found {tomlinput.describe(value)}")
        return value

    def matrix(self, value, field: str) -> np.ndarray:
        """A non-empty list of equally long rows of finite numbers."""
        if not isinstance(value, list) or not value:
            self.fail(field, f"expected a matrix written as a list of rows, found {tomlinput.describe(value)}")
        if not all(isinstance(row, list) for row in value):
            self.fail(field, "expected a list of rows, e.g. [[1, 2], [3, 4]]; found a row of numbers"
                      if all(not isinstance(row, list) for row in value) else "mixes rows and single values")
        problem = tomlinput.ragged(value)
        if problem:
            self.fail(field, problem)
        return np.array([[self.number(entry, f"{field}[{i}][{j}]") for j, entry in enumerate(row, start=1)]
                         for i, row in enumerate(value, start=1)])

    def sizes(self, value, field: str) -> tuple[int, ...]:
        """A list of positive whole numbers, such as `in_shape = [1, 5, 5]`."""
        if not isinstance(value, list) or not value:
            self.fail(field, f"expected a list of whole numbers, e.g. [1, 5, 5]; found {tomlinput.describe(value)}")
        for i, entry in enumerate(value, start=1):
            if self.integer(entry, f"{field}[{i}]") < 1:
                self.fail(f"{field}[{i}]", f"expected at least 1, found {entry}")
        return tuple(value)

    def nested(self, value, field: str, layout: tuple[int, ...], hint: str) -> np.ndarray:
        """Nested lists of exactly the sizes of `layout` (a kernel out × in × k × k), finite numbers inside."""
        expected = " × ".join(map(str, layout))

        def read(item, depth: int, where: str):
            if depth == len(layout):
                return self.number(item, f"{field}{where}")
            if not isinstance(item, list) or len(item) != layout[depth]:
                found = f"{len(item)} entries" if isinstance(item, list) else tomlinput.describe(item)
                self.fail(field, f"expected nested lists of {expected} ({hint}); {where or 'the outer list'} has "
                                 f"{found} where {layout[depth]} belong")
            return [read(entry, depth + 1, f"{where}[{i}]") for i, entry in enumerate(item, start=1)]

        return np.array(read(value, 0, ""), dtype=float)

    def row(self, value, field: str) -> np.ndarray:
        """A flat list of numbers (or a single number, or a one-row matrix; a one-column one with samples as
        columns) as a `1 × n` row."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            matrix = self.matrix(value, field)
            if self.conventions.columns:
                if matrix.shape[1] != 1:
                    self.fail(field, f"expected a single column, found {matrix.shape[1]} columns")
                return matrix.T
            if matrix.shape[0] != 1:
                self.fail(field, f"expected a single row, found {matrix.shape[0]} rows")
            return matrix
        if not isinstance(value, list) or not value:
            self.fail(field, f"expected a list of numbers, found {tomlinput.describe(value)}")
        return self.matrix([value], field)
