"""Reading and validating walkthrough files (TOML, format in DESIGN.md) into a network and data.

Every problem is reported as a `WalkthroughError` that names the file, the line where one is
known, the field (e.g. `layers[1].W`), what was expected and what was found.
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import tomlinput
from .errors import InputError, quoted, shorten, suggestion
from .network import Layer, Network, jacobian_shapes
from .nodes import ACTIVATIONS, LOSSES

DEFAULT_LEARNING_RATE = 0.01
DEFAULT_DECIMALS = 4
DEFAULT_SEED = 0
MIN_DECIMALS = 1
MAX_DECIMALS = 12
DEFAULT_MAX_JACOBIAN_MB = 256
BYTES_PER_ENTRY = 8

TOP_LEVEL_KEYS = ("title", "description", "loss", "learning_rate", "decimals", "seed", "data", "layers")
DATA_KEYS = ("X", "Y")
LAYER_KEYS = ("units", "activation", "W", "b")


class WalkthroughError(InputError):
    """A walkthrough that cannot be used; `str()` is the one-line message for the student."""

    def __init__(self, source: str, message: str, field: str | None = None, line: int | None = None):
        self.source, self.message, self.field, self.line = source, message, field, line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


@dataclass(frozen=True)
class Walkthrough:
    """A network with its batch, ready to be solved; `name` is the bundled name or the path given."""

    name: str
    title: str
    description: str
    network: Network
    X: np.ndarray
    Y: np.ndarray
    learning_rate: float
    decimals: int
    seed: int
    initialized: tuple[str, ...] = ()


def bundled_directory() -> Path:
    """Where the bundled walkthroughs are: inside the installed package, or the source tree's folder."""
    installed = Path(__file__).resolve().parent / "walkthroughs"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "walkthroughs"


def bundled_names() -> list[str]:
    """The names of the bundled walkthroughs, sorted, `article` first."""
    names = sorted(path.stem for path in bundled_directory().glob("*.toml"))
    return sorted(names, key=lambda name: name != "article")


def is_bundled(name: str) -> bool:
    """Whether `name` (not a path) names a bundled walkthrough; a name is never looked up as a file."""
    return name in bundled_names()


def resolve(name_or_path: str, base: Path | None = None) -> Path:
    """The file behind a bundled name, or a path (relative to `base`, if given) unless nothing can be
    there: then a suggestion. Whether the path can be read is `tomlinput.read`'s to say."""
    if is_bundled(name_or_path):
        return bundled_directory() / f"{name_or_path}.toml"
    path = base / name_or_path if base else Path(name_or_path)
    if not tomlinput.missing(path):
        return path
    hint = suggestion(name_or_path, bundled_names())
    raise WalkthroughError(name_or_path, "no such file, and no bundled walkthrough of that name"
                           f"{hint or ' (the command `list` shows the bundled ones)'}")


def load(name_or_path: str = "article", max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB,
         base: Path | None = None) -> Walkthrough:
    """Read and validate a bundled walkthrough by name, or a walkthrough file by path.

    A walkthrough whose largest local Jacobian would take more than `max_jacobian_mb` MiB is
    refused before anything is allocated.

    >>> load("article").network.layers[0].W.shape
    (3, 2)
    """
    path = resolve(name_or_path, base)
    source = name_or_path if base is None or is_bundled(name_or_path) else str(path)
    try:
        text, document = tomlinput.read(path)
    except tomlinput.UnreadableError as problem:
        raise WalkthroughError(source, problem.message, line=problem.line) from None
    return _Reader(text, source, max_jacobian_mb).walkthrough(document)


def _size(entries: int) -> str:
    size = entries * BYTES_PER_ENTRY
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class _Reader:
    """Turns a parsed TOML document into a `Walkthrough`, raising on the first problem."""

    def __init__(self, text: str, source: str, max_jacobian_mb: float):
        self.lines = text.splitlines()
        self.source = source
        self.max_jacobian_mb = max_jacobian_mb

    def fail(self, field: str, message: str):
        raise WalkthroughError(self.source, message, field=field, line=self.line_of(field))

    def line_of(self, field: str) -> int | None:
        """The line that sets `field` (`loss`, `data.X[0][1]`, `layers[1].W`, `layers[1]`), by a light scan."""
        match = re.match(r"([A-Za-z_]+)(?:\[(\d+)\])?(?:\.([A-Za-z_]+))?", field)
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
        for key in ("loss", "data", "layers"):
            if key not in document:
                inside = isinstance(document.get("data"), dict) and key in document["data"]
                self.fail(key, "missing; it is written inside [data], where it does not belong: move it above "
                               "[data]" if inside else
                          "missing (every walkthrough needs `loss`, `[data]` and at least one `[[layers]]`)")
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
        X = self.matrix(data["X"], "data.X")
        Y = self.matrix(data["Y"], "data.Y")
        if Y.shape[0] != X.shape[0]:
            self.fail("data.Y", f"expected {X.shape[0]} rows (one per sample of X), found {Y.shape[0]}")

        loss_name = self.choice(document["loss"], "loss", LOSSES)
        layers, initialized = self.layers(document["layers"], X.shape[1], seed, X.shape[0])
        network = Network(layers=tuple(layers), loss=LOSSES[loss_name]())
        outputs = layers[-1].units
        if Y.shape[1] != outputs:
            self.fail("data.Y", f"expected {outputs} column{'s' * (outputs != 1)} (the output layer's units), "
                                f"found {Y.shape[1]}")
        self.check_targets(network, Y)
        return Walkthrough(name=self.source, title=title or Path(self.source).stem, description=description,
                           network=network, X=X, Y=Y, learning_rate=learning_rate, decimals=decimals,
                           seed=seed, initialized=tuple(initialized))

    def layers(self, value, inputs: int, seed: int, samples: int) -> tuple[list[Layer], list[str]]:
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.fail("layers", f"expected one or more `[[layers]]` tables, found {tomlinput.describe(value)}")
        specs = []
        settings = tuple(dict.fromkeys(name for cls in ACTIVATIONS.values() for name in cls.parameters))
        for number, spec in enumerate(value, start=1):
            field = f"layers[{number}]"
            self.reject_unknown(spec, LAYER_KEYS + settings, f"{field}.")
            activation_name = self.choice(spec.get("activation"), f"{field}.activation", ACTIVATIONS)
            activation_class = ACTIVATIONS[activation_name]
            for name in settings:
                if name in spec and name not in activation_class.parameters:
                    owners = [other for other, cls in ACTIVATIONS.items() if name in cls.parameters]
                    self.fail(f"{field}.{name}", f"{activation_name} has no {name} (it belongs to "
                                                 f"{' and '.join(owners)})")
            if "units" not in spec:
                self.fail(f"{field}.units", "missing")
            units = self.integer(spec["units"], f"{field}.units")
            if units < 1:
                self.fail(f"{field}.units", f"expected at least 1, found {units}")
            parameters = {name: self.number(spec.get(name, default), f"{field}.{name}")
                          for name, default in activation_class.parameters.items()}
            specs.append((units, activation_class(**parameters)))
        self.check_jacobian_sizes([inputs] + [units for units, _ in specs], samples)
        rng = np.random.default_rng(seed)
        layers, initialized = [], []
        for number, (spec, (units, activation)) in enumerate(zip(value, specs, strict=True), start=1):
            field = f"layers[{number}]"
            bound = 1.0 / math.sqrt(inputs)
            if "W" in spec:
                W = self.matrix(spec["W"], f"{field}.W")
                if W.shape != (units, inputs):
                    self.fail(f"{field}.W", f"expected shape {units} × {inputs} (units × inputs), "
                                            f"found {W.shape[0]} × {W.shape[1]}")
            else:
                W = rng.uniform(-bound, bound, size=(units, inputs))
                initialized.append(f"W{number}")
            if "b" in spec:
                b = self.row(spec["b"], f"{field}.b")
                if b.shape[1] != units:
                    self.fail(f"{field}.b", f"expected {units} value{'s' * (units != 1)} (one per unit), "
                                            f"found {b.shape[1]}")
            else:
                b = rng.uniform(-bound, bound, size=(1, units))
                initialized.append(f"b{number}")
            layers.append(Layer(W=W, b=b, activation=activation))
            inputs = units
        return layers, initialized

    def check_jacobian_sizes(self, widths: list[int], samples: int):
        """Refuse, before allocating anything, a network whose largest Jacobian exceeds the limit."""
        shapes = jacobian_shapes(widths, samples)
        name, (rows, columns) = max(shapes.items(), key=lambda item: item[1][0] * item[1][1])
        if rows * columns * BYTES_PER_ENTRY > self.max_jacobian_mb * 2**20:
            raise WalkthroughError(
                self.source, f"the Jacobian {name} would be {rows} × {columns} ({_size(rows * columns)}), "
                f"more than the limit of {self.max_jacobian_mb:g} MiB; use fewer units or samples, "
                "or raise the limit with --max-jacobian-mb")

    def check_targets(self, network: Network, Y: np.ndarray):
        """The output layer and the targets must suit the loss; each loss states its own rules."""
        output_activation = network.layers[-1].activation.name
        allowed = network.loss.output_activations
        if allowed and output_activation not in allowed:
            self.fail(f"layers[{len(network.layers)}].activation",
                      f"{network.loss.name} needs outputs from {' or '.join(allowed)}, found {output_activation}")
        problem = network.loss.check_targets(Y)
        if problem:
            self.fail("data.Y", problem)

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

    def row(self, value, field: str) -> np.ndarray:
        """A flat list of numbers (or a single number, or a one-row matrix) as a `1 × n` row."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            matrix = self.matrix(value, field)
            if matrix.shape[0] != 1:
                self.fail(field, f"expected a single row, found {matrix.shape[0]} rows")
            return matrix
        if not isinstance(value, list) or not value:
            self.fail(field, f"expected a list of numbers, found {tomlinput.describe(value)}")
        return self.matrix([value], field)
