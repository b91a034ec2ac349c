"""What every op of the computational graph holds, side by side, so that nothing else has to know ops by name.

An op computes one variable (samples as rows) from the values of its *roles*: its variable inputs
(`input`, or `input1`, `input2`, … for ops of several inputs), its parameters (`W`, `b`, …) and
data (`targets`). For every differentiable role it gives the FULL row-major-vectorized Jacobian
`d vec(output) / d vec(role)` (one row per entry of the output, one column per entry of the role),
the framework shortcut for the same product, its symbolic form and the sentences that explain it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..sentences import Sentence, math, say

if TYPE_CHECKING:  # sympy is imported only when a symbolic form is asked for
    import sympy

    from ..entries import Namer, Pattern
    from ..structured import Structured

Values = Mapping[str, np.ndarray]  # by role, and "output" for the op's own output
Names = Mapping[str, str]  # the variable name of every role, "output" and "upstream" (the gradient arriving)

INPUT = "input"
OUTPUT = "output"
TARGETS = "targets"


def input_roles(count: int) -> tuple[str, ...]:
    """`input` for one input, `input1`, `input2`, … for several."""
    return (INPUT,) if count == 1 else tuple(f"{INPUT}{i}" for i in range(1, count + 1))


def entry(i: int, j: int) -> str:
    """`row 2, column 1`: a position counted from 1, as the pages count."""
    return f"row {i + 1}, column {j + 1}"


@dataclass(frozen=True)
class Places:
    """How an op's notes write its values (as computed): `at(i, j)` says where entry (i, j) is, `at.matrix(M)`
    gives the matrix as written; `transposed` where the pages write samples as columns (conventions.py)."""

    transposed: bool = False

    def __call__(self, i: int, j: int) -> str:
        return entry(j, i) if self.transposed else entry(i, j)

    def matrix(self, value: np.ndarray) -> np.ndarray:
        return value.T if self.transposed else value

    @property
    def line(self) -> str:
        """What one sample is in a matrix as written: a `row`, or a `column`."""
        return "column" if self.transposed else "row"


AS_COMPUTED = Places()


class Op:
    """One node's computation. Subclasses set the class attributes and implement the methods that raise."""

    name: ClassVar[str]  # as written in walkthrough files
    title: ClassVar[str]  # as named in prose
    remark: ClassVar[str] = ""  # words said after the node's formula, e.g. " (columns side by side)"
    settings: ClassVar[dict[str, float]] = {}  # numbers a walkthrough file may set, with their defaults
    options: ClassVar[dict[str, type]] = {}  # other keys a walkthrough file may set (`units`), with their types
    required: ClassVar[tuple[str, ...]] = ()  # the options a walkthrough file must set
    inputs: ClassVar[int] = 1  # how many variable inputs; 0 for "two or more"
    parameter_letters: ClassVar[tuple[str, ...]] = ()  # the parameters it owns, in file order (`W`, `b`)
    data_roles: ClassVar[tuple[str, ...]] = ()  # roles that take data, never differentiated
    one_per_sample: ClassVar[bool] = False  # whether the output is one number per sample (indexed by sample only)
    row_parameters: ClassVar[tuple[str, ...]] = ()  # parameters written as one flat row (a bias)
    whole_batch: ClassVar[bool] = False  # whether the output is one number for the whole batch (the cost, R)
    penalized: ClassVar[tuple[str, ...]] = ()  # the parameters L2 regularization adds to R (weights, not biases)
    # Parameters written the same way with samples as rows or as columns (the dense `W`, units × inputs, in both
    # `A·Wᵀ + b` and `W·A + b`); every other quantity is transposed when samples are columns (conventions.py).
    same_in_columns: ClassVar[tuple[str, ...]] = ()
    columns_remark: ClassVar[str | None] = None  # `remark` with samples as columns, where it differs
    kink_where: ClassVar[str] = "is exactly 0"  # where an entry on a kink sits, said after its name
    kink_function: ClassVar[str] = ""  # the function whose derivative at 0 is a convention; by default the title
    option_minimum: ClassVar[dict[str, int]] = {}  # the least value of a whole-number option, where it is not 1
    needs_image: ClassVar[bool] = False  # whether it reads each sample's row as a picture of `in_shape`
    keeps_image: ClassVar[bool] = False  # whether its output's rows are pictures of the same shape as its input's
    in_shape: tuple[int, ...] | None = None  # (channels, height, width) or (channels, length) of a sample's row

    def __init__(self, **settings: float):
        for key, default in self.settings.items():
            setattr(self, key, settings.get(key, default))

    @classmethod
    def implied_options(cls, table: dict) -> dict:
        """Options a walkthrough file's table implies without stating them (a kernel's size, from the kernel)."""
        return {}

    @classmethod
    def missing(cls, key: str, table: dict) -> tuple[str, str]:
        """The key at fault and why, where the required option `key` is missing from the node's `table`."""
        return key, "missing"

    def settings_problem(self) -> tuple[str, str] | None:
        """What is wrong with the node's own options and settings, as (the key at fault, why), or None: checked as
        soon as the node is read, before any shape is known."""
        return None

    def output_image(self, image: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """The picture shape of the output's rows, from the input's (None where the rows are not pictures)."""
        return image if self.keeps_image else None

    def parameter_layout(self, role: str) -> tuple[int, ...] | None:
        """The natural shape of a parameter kept as a matrix of unrolled rows (a kernel out × in × k × k), or None.

        Its vec is the vec of the matrix, so nothing changes but how it is written and shown."""
        return None

    def parameter_roles(self) -> tuple[str, ...]:
        """The parameters this node has (a layer without bias has no `b`)."""
        return self.parameter_letters

    def backward_roles(self, count: int) -> tuple[str, ...]:
        """The differentiable roles in the order their steps come: the parameters last-first, then the inputs."""
        return tuple(reversed(self.parameter_roles())) + input_roles(count)

    def parameter_shapes(self, shapes: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """The shape of each parameter, from the shapes of the inputs."""
        return {}

    def parameter_hint(self, role: str) -> str:
        """What a parameter's shape means, for messages: `units × inputs`."""
        return ""

    def initialize(self, role: str, shapes: Mapping[str, tuple[int, int]], rng: "np.random.Generator") -> np.ndarray:
        """A parameter not given in the file, drawn from `rng` (the node's input shapes in `shapes`)."""
        raise NotImplementedError

    def initialization(self, role: str) -> tuple[Sentence, bool]:
        """What `initialize` makes of the parameter `role`, in words (`uniform in ±1/√inputs, the default of
        torch.nn.Linear`), and whether it draws it from the seed (else it is a constant)."""
        raise NotImplementedError

    def check_shapes(self, shapes: Mapping[str, tuple[int, int]]) -> str | tuple[str, str] | None:
        """Why the roles' shapes do not fit together, or None; with the key of the node's table at fault, where
        one is, as (key, why)."""
        return None

    def output_shape(self, shapes: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
        """The output's shape from the roles' shapes, before anything is computed."""
        return shapes[INPUT]

    def forward(self, values: Values) -> np.ndarray:
        raise NotImplementedError

    def jacobian(self, role: str, values: Values) -> np.ndarray:
        """`d vec(output) / d vec(role)` as a full matrix, built with vectorized numpy.

        An op implements this or `structured_jacobian`: by default it is the structured one, built in full.
        """
        return self.structured_jacobian(role, values).dense()

    def structured_jacobian(self, role: str, values: Values) -> "Structured":
        """The Jacobian for `role` as a `structured.Structured` that stores only its factors.

        By default the full matrix of `jacobian` (`structured.Dense`), so an op that builds only that
        works unchanged; an op whose Jacobian has a structure returns it here, and then never needs
        to build the full matrix of a real-sized layer.
        """
        from ..structured import Dense

        return Dense(self.jacobian(role, values))

    def structure_size(self, role: str, shapes: Mapping[str, tuple[int, int]]) -> int:
        """How many numbers `structured_jacobian` stores for `role`, from the shapes of the roles and
        the output alone: what the memory guard measures. By default the full matrix's."""
        return prod(shapes[OUTPUT]) * prod(shapes[role])

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        """The roles (and "output") whose values the Jacobian for `role` is built from."""
        raise NotImplementedError

    def shortcut(self, role: str, upstream: np.ndarray, values: Values) -> np.ndarray:
        """`dJ/d role` from `dJ/d output` the way frameworks compute it, without the full Jacobian."""
        raise NotImplementedError

    def shortcut_formula(self, role: str, names: Names, shapes: Mapping[str, tuple[int, int]]) -> Sentence:
        """The shortcut written with the names of the step (a formula, perhaps with words such as "column sums of")."""
        raise NotImplementedError

    def expression(self, names: Names) -> str:
        """The forward computation written with the names of the node, e.g. `ReLU(Z1)`."""
        raise NotImplementedError

    def columns_expression(self, names: Names) -> str:
        """`expression` with samples as columns (every variable transposed): the same for an elementwise op."""
        return self.expression(names)

    def columns_shortcut_formula(self, role: str, names: Names, shapes: Mapping[str, tuple[int, int]]) -> Sentence:
        """`shortcut_formula` with samples as columns (`shapes` are still the engine's, samples as rows): the
        same for an elementwise op."""
        return self.shortcut_formula(role, names, shapes)

    def forward_products(self, values: Values, names: Names) -> tuple[tuple, ...]:
        """How the forward pass works the output out, as the article writes it: lines of formula texts and
        matrices in reading order (a dense layer shows `X · W1ᵀ`, then its bias broadcast to every sample).
        Empty for an op whose output is shown with its formula alone."""
        return ()

    def torch_expression(self, names: Names) -> str:
        """The forward computation as a PyTorch expression of the roles' variables (`names`), with `torch` and
        `F` (torch.nn.functional) imported, e.g. `torch.relu(Z1)`: the `--format pytorch` script is built from it."""
        raise NotImplementedError(f"the op {self.name!r} has no PyTorch expression (Op.torch_expression)")

    def formula(self, names: Names) -> Sentence:
        """The node's equation, e.g. `A1 = ReLU(Z1)`, and the words `remark` says after it."""
        return say(math(f"{names[OUTPUT]} = {self.expression(names)}"), self.remark)

    def explanation(self, role: str, names: Names, samples: int) -> Sentence:
        """Why the Jacobian for `role` looks the way it does, in a sentence or two."""
        raise NotImplementedError

    def written_explanation(self, role: str, names: Names, samples: int, conventions) -> Sentence:
        """`explanation` for the Jacobian as `conventions` (conventions.Conventions) write it: by default the same
        words, which an op whose sentences name rows, columns or blocks overrides."""
        return self.explanation(role, names, samples)

    def symbolic_forward(self, symbols: Mapping[str, "sympy.Matrix"]) -> "sympy.Matrix":
        """The output in symbols, from the symbols of every role; its Jacobian is the symbolic form."""
        raise NotImplementedError

    def entry_equation(self, index: int, symbols: Mapping[str, "sympy.Matrix"]) -> "sympy.Expr":
        """The scalar equation of entry `index` (row-major, from 0) of the output: its right-hand side in the
        symbols of every role, as the article writes `z₁₁ = a₁₁w₁₁ + a₁₂w₁₂ + b₁` before differentiating.

        By default, that entry of `symbolic_forward`; an op without one must define this method.
        """
        return list(self.symbolic_forward(symbols))[index]

    def symbolic_jacobian(self, role: str, symbols: Mapping[str, "sympy.Matrix"], values: Values) -> "sympy.Matrix":
        """The Jacobian for `role` in symbols: by default, the derivative of the op's own symbolic forward."""
        import sympy

        output = self.symbolic_forward(symbols)
        return sympy.Matrix(list(output)).jacobian(sympy.Matrix(list(symbols[role])))

    def symbolic_entry(self, role: str, row: int, column: int, symbols: Mapping[str, "sympy.Matrix"],
                       values: Values) -> "sympy.Expr":
        """Entry (row, column), from 0, of `symbolic_jacobian` (to explain one entry): by default that entry of
        the whole form; an op that writes its form entry by entry builds only the one asked for."""
        return self.symbolic_jacobian(role, symbols, values)[row, column]

    def symbolic_data(self, role: str) -> bool:
        """Whether symbolic forms keep the data of `role` (one of `data_roles`) as symbols, `y₁₁` for the targets
        (their values shown beside), instead of writing its exact numbers in."""
        return False

    def symbolic_values(self, values: Values, symbols: Mapping[str, "sympy.Matrix"]) -> dict:
        """The numbers that symbols of its own symbolic forms stand for (beyond the roles'), by symbol."""
        return {}

    def symbolic_pattern(self, role: str, namers: Mapping[str, "Namer"], values: Values) -> "Pattern | None":
        """The Jacobian for `role` in symbols entry by entry, written from the op's index pattern without sympy
        (`namers` names the entries of every role and the output); None where only sympy can derive it."""
        return None

    def kinks(self, role: str, values: Values) -> np.ndarray | None:
        """Where, in the role, the derivative is a convention rather than a limit (a boolean mask), or None."""
        return None

    def derivative_at_kink(self) -> tuple[float, float]:
        """The derivative used at a kink, and the one the other common convention would use."""
        raise NotImplementedError(f"{self.name} has no kinks")

    def kink_derivatives(self, role: str, values: Values) -> tuple[np.ndarray, np.ndarray]:
        """At every entry of the role: the derivative in force at a kink, and the other convention's."""
        in_force, other = self.derivative_at_kink()
        return np.full(values[role].shape, in_force), np.full(values[role].shape, other)

    def other_jacobian(self, role: str, values: Values) -> np.ndarray:
        """The Jacobian under the other common convention at the kinks; by default an op acting entry by
        entry, whose kinks sit on the diagonal."""
        jacobian = self.jacobian(role, values).copy()
        at = np.flatnonzero(self.kinks(role, values))
        jacobian[at, at] = self.derivative_at_kink()[1]
        return jacobian

    def kink_statement(self, position: tuple[int, int], variable: str, output: str, derivative: str) -> Sentence:
        """What the kink at `position` of the role's `variable` is and which convention the Jacobian uses there
        (`derivative`, its derivative in force, as text), the op's output being `output`; nothing of the gradient,
        so that it can stand above a result that `--reveal` hides. By default an activation's kink: the entry
        exactly at `kink_where`."""
        i, j = position
        name = self.kink_function or self.title
        return say(math(variable), f" {entry(i, j)} {self.kink_where}, the kink of {name}, where the derivative "
                   "is not defined. This walkthrough uses ", math(f"{name}'(0) = {derivative}"), ", as PyTorch does.")

    def kink_note(self, position: tuple[int, int], names: Names, gradient: str, values: tuple[str, str]):
        """The op's own note on a kink at `position` of the role (the entry of `gradient` under the convention in
        force and under the other, as text in `values`), or None for the note of an activation's kink."""
        return None

    def kink_slip(self, places: str, names: Names) -> str | None:
        """The slip of the other convention at the kinks at `places` (of the role's variable), in the op's own
        words; None for the words of an activation's kink."""
        return None

    def slips(self, role: str, values: Values, names: Names) -> tuple[tuple[str, np.ndarray], ...]:
        """The Jacobian for `role` as students commonly get it wrong, each with the sentence that names the slip
        (`check` tries them on a wrong answer)."""
        return ()

    def forward_slips(self, values: Values, names: Names) -> tuple[tuple[str, np.ndarray], ...]:
        """The output as students commonly get it wrong, each with the sentence that names the slip."""
        return ()

    def notes(self, role: str, values: Values, names: Names, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        """Sentences for the step of `role` where a clamp acts or an output saturates; `at` says where an entry of
        the values (as computed) is written."""
        return ()

    def output_notes(self, values: Values, names: Names, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        """Sentences for the forward pass where a clamp acts on the output; `at` as for `notes`."""
        return ()

    def constants(self, values: Values, names: Names, at: Places = AS_COMPUTED) -> tuple[Sentence, ...]:
        """What, beside its inputs and parameters, a student needs to compute the node by hand (a picture's
        shape, a stride, a mask), said in sentences; a worksheet gives them with the data (`at` as for `notes`)."""
        return ()
