"""Local Jacobians that know their structure, so that a real-sized layer can be shown without being built.

The Jacobian of a dense layer with respect to its weights, for MNIST's 784 → 128 and a batch of
32, is 4096 × 100352: 3.3 GB as a matrix, yet every entry is an entry of the layer's input or 0.
Each class here stores only the factors that define its matrix, and from them it

- multiplies an upstream row through the structure (`left_multiply`), at the cost of the shortcut;
- builds any rows, columns or corner on demand (`block`), so that renderers format only what they show;
- counts its nonzero entries above and left of any position (`nonzeros_before`), so that a sparsity picture
  at a bounded resolution costs what the picture and the factors cost, not what listing the nonzero entries
  of the matrix would;
- builds the full matrix (`dense`) only when asked, which the engine and the renderers do only for
  Jacobians of at most `SMALL` entries; an op without a structure of its own gives `Dense`.

Rows and columns are those of the row-major-vectorized Jacobian `d vec(output) / d vec(variable)`.
"""

from functools import cached_property
from typing import ClassVar

import numpy as np

BYTES_PER_ENTRY = 8  # float64
# A Jacobian of at most this many entries is built in full, multiplied as a matrix and written out whole;
# a larger one goes through its structure, and pages show a corner of it.
SMALL = 10_000


class Structured:
    """A Jacobian of `shape`; a subclass stores its factors and implements the methods that raise.

    `kind` names the structure in JSON (docs/json.md); `formula` writes it as the pages do (`I ⊗ W`), and where
    `reordered`, the matrix is that formula with its columns in the order of the variable's vec.
    """

    kind: ClassVar[str]
    formula: ClassVar[str]
    reordered: ClassVar[bool] = False  # the columns of `formula` are put in the order of the variable's vec

    def __init__(self, shape: tuple[int, int]):
        self.shape = (int(shape[0]), int(shape[1]))

    @property
    def size(self) -> int:
        """How many entries the full matrix has."""
        return self.shape[0] * self.shape[1]

    @property
    def small(self) -> bool:
        """Whether the full matrix is built and written out whole."""
        return self.size <= SMALL

    @property
    def dense_bytes(self) -> int:
        """What the full matrix would take in memory, as float64."""
        return self.size * BYTES_PER_ENTRY

    @property
    def nbytes(self) -> int:
        """What the factors take in memory."""
        return sum(np.asarray(factor).nbytes for factor in self.factors().values())

    def factors(self) -> dict[str, np.ndarray]:
        """The arrays that define the matrix, by name (see docs/json.md)."""
        raise NotImplementedError

    def left_multiply(self, row: np.ndarray) -> np.ndarray:
        """`row · J` for a `1 × rows` row, through the structure: a `1 × columns` row."""
        raise NotImplementedError

    def block(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """The entries at the crossings of `rows` and `columns` (index arrays), as a dense matrix."""
        raise NotImplementedError

    def nonzeros_before(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """How many nonzero entries lie in the first `rows` rows and first `columns` columns (arrays that
        broadcast together), counted from the factors."""
        raise NotImplementedError

    def build(self) -> np.ndarray:
        """The full matrix, with vectorized numpy."""
        raise NotImplementedError

    @cached_property
    def _dense(self) -> np.ndarray:
        return self.build()

    def dense(self) -> np.ndarray:
        """The full matrix, built once on first use (for a large Jacobian, only when something asks for it)."""
        return self._dense

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The full matrix, for code that treats the Jacobian as an array."""
        return self.dense() if dtype is None else self.dense().astype(dtype)

    def kept(self) -> "Structured | np.ndarray":
        """The Jacobian as quantities keep it: its full matrix when small, else this structure (never built in full)."""
        return self.dense() if self.small else self

    def magnitudes(self) -> "Structured":
        """The matrix of the absolute values of the entries, in the same structure."""
        raise NotImplementedError

    def corner(self, rows: int, columns: int) -> np.ndarray:
        """The top-left `rows × columns` entries (or fewer, where the matrix is smaller)."""
        return self.block(np.arange(min(rows, self.shape[0])), np.arange(min(columns, self.shape[1])))

    def row(self, index: int) -> np.ndarray:
        """Row `index` in full, as a `1 × columns` row."""
        return self.block(np.array([index]), np.arange(self.shape[1]))

    def column(self, index: int) -> np.ndarray:
        """Column `index` in full, as a `rows × 1` column."""
        return self.block(np.arange(self.shape[0]), np.array([index]))

    def nonzeros(self) -> int:
        """How many entries are not zero, counted in the factors (each nonzero factor entry appears `copies` times)."""
        factor = next(iter(self.factors().values()))
        return int(np.count_nonzero(factor)) * self.copies_of_factor

    copies_of_factor = 1  # how many times each entry of the first factor appears in the matrix

    def finite(self) -> bool:
        """Whether every entry is a finite number."""
        return all(bool(np.all(np.isfinite(factor))) for factor in self.factors().values())

    def occupancy(self, down: int, across: int) -> np.ndarray:
        """A `down × across` grid over the matrix, true where its part of the matrix holds a nonzero entry.

        Square (a, b) covers the rows r with `r * down // rows == a` and the columns likewise; how many nonzero
        entries it holds comes from `nonzeros_before` at its four corners, so no nonzero entry is listed.
        """
        rows, columns = _edges(self.shape[0], down), _edges(self.shape[1], across)
        before = self.nonzeros_before(rows[:, None], columns[None, :])
        return np.diff(np.diff(before, axis=0), axis=1) > 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shape[0]} × {self.shape[1]}>"


class Dense(Structured):
    """No structure known: the full matrix itself (what an op that builds only `jacobian` gives)."""

    kind = "dense"
    formula = "a dense matrix"

    def __init__(self, matrix: np.ndarray):
        super().__init__(matrix.shape)
        self.matrix = matrix

    def factors(self):
        return {"matrix": self.matrix}

    def left_multiply(self, row):
        return row @ self.matrix

    def block(self, rows, columns):
        return self.matrix[np.ix_(rows, columns)]

    def nonzero_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """The row and column of every entry that is not zero (JSON writes a dense Jacobian by them)."""
        return np.nonzero(self.matrix)

    def nonzeros_before(self, rows, columns):
        return _prefix_counts(self.matrix)[rows, columns]

    def build(self):
        return self.matrix

    def magnitudes(self):
        return Dense(np.abs(self.matrix))


class Diagonal(Structured):
    """`diag(d)`: each entry of the output depends on the entry of the variable at the same position only."""

    kind = "diagonal"
    formula = "diag(d)"

    def __init__(self, diagonal: np.ndarray):
        diagonal = np.asarray(diagonal, dtype=float).ravel()
        super().__init__((diagonal.size, diagonal.size))
        self.diagonal = diagonal

    def factors(self):
        return {"diagonal": self.diagonal}

    def left_multiply(self, row):
        return row * self.diagonal

    def block(self, rows, columns):
        return np.where(rows[:, None] == columns[None, :], self.diagonal[rows][:, None], 0.0)

    def nonzeros_before(self, rows, columns):
        return np.concatenate([[0], np.cumsum(self.diagonal != 0)])[np.minimum(rows, columns)]

    def build(self):
        return np.diagflat(self.diagonal)

    def magnitudes(self):
        return Diagonal(np.abs(self.diagonal))


class BlockDiagonal(Structured):
    """`diag(B₁, …, B_k)`: `blocks` is `k × p × q`, one block per sample; nothing crosses between samples."""

    kind = "block_diagonal"
    formula = "one block per sample on the diagonal"

    def __init__(self, blocks: np.ndarray):
        count, down, across = blocks.shape
        super().__init__((count * down, count * across))
        self.blocks = blocks

    def factors(self):
        return {"blocks": self.blocks}

    def left_multiply(self, row):
        count, down, _ = self.blocks.shape
        return np.einsum("kp,kpq->kq", row.reshape(count, down), self.blocks).reshape(1, -1)

    def block(self, rows, columns):
        _, down, across = self.blocks.shape
        same = (rows // down)[:, None] == (columns // across)[None, :]
        return np.where(same, self.blocks[(rows // down)[:, None], (rows % down)[:, None], (columns % across)[None, :]],
                        0.0)

    def nonzeros_before(self, rows, columns):
        count, down, across = self.blocks.shape
        within = np.zeros((count + 1, down + 1, across + 1), dtype=np.int64)  # a last block of none, for the edge
        within[:count] = _prefix_counts(self.blocks)
        ahead = np.concatenate([[0], np.cumsum(within[:count, down, across])])
        return _block_diagonal_count(rows, columns, (down, across), ahead.__getitem__,
                                     lambda block, i, j: within[block, i, j])

    def build(self):
        count = self.blocks.shape[0]
        return np.einsum("ab,ajk->ajbk", np.eye(count), self.blocks).reshape(self.shape)

    def magnitudes(self):
        return BlockDiagonal(np.abs(self.blocks))


class IdentityKronecker(Structured):
    """`I_m ⊗ W`: one copy of `W` per sample on the block diagonal (a dense layer's input)."""

    kind = "identity_kronecker"
    formula = "I ⊗ W"

    def __init__(self, copies: int, matrix: np.ndarray):
        units, inputs = matrix.shape
        super().__init__((copies * units, copies * inputs))
        self.copies, self.matrix = copies, matrix

    def factors(self):
        return {"W": self.matrix, "copies": np.array(self.copies)}

    @property
    def copies_of_factor(self) -> int:
        return self.copies

    def left_multiply(self, row):
        return (row.reshape(self.copies, -1) @ self.matrix).reshape(1, -1)

    def block(self, rows, columns):
        units, inputs = self.matrix.shape
        same = (rows // units)[:, None] == (columns // inputs)[None, :]
        return np.where(same, self.matrix[(rows % units)[:, None], (columns % inputs)[None, :]], 0.0)

    def nonzeros_before(self, rows, columns):
        within = _prefix_counts(self.matrix)
        return _block_diagonal_count(rows, columns, self.matrix.shape, lambda copy: copy * within[-1, -1],
                                     lambda copy, i, j: np.where(copy < self.copies, within[i, j], 0))

    def build(self):
        return np.kron(np.eye(self.copies), self.matrix)

    def magnitudes(self):
        return type(self)(self.copies, np.abs(self.matrix))


class Selection(IdentityKronecker):
    """`I_m ⊗ S` with `S` a selection matrix (a single 1 per row of the part selected): concat's Jacobian."""

    kind = "selection"
    formula = "I ⊗ S"


class KroneckerIdentity(Structured):
    """`A ⊗ I_u`, columns in the order of `vec(W)`: entry ((i, j), (j', k)) is `A[i, k]` where j = j'.

    A dense layer's Jacobian with respect to its weights (A is the layer's input), and with respect to
    its bias (A a column of ones: an identity per sample, stacked).
    """

    kind = "kronecker_identity"
    formula = "A ⊗ I"
    reordered = True

    def __init__(self, matrix: np.ndarray, units: int):
        samples, inputs = matrix.shape
        super().__init__((samples * units, units * inputs))
        self.matrix, self.units = matrix, units

    def factors(self):
        return {"A": self.matrix, "units": np.array(self.units)}

    @property
    def copies_of_factor(self) -> int:
        return self.units

    def left_multiply(self, row):
        return (row.reshape(-1, self.units).T @ self.matrix).reshape(1, -1)

    def block(self, rows, columns):
        inputs = self.matrix.shape[1]
        sample, unit = np.divmod(rows, self.units)
        column_unit, k = np.divmod(columns, inputs)
        same = unit[:, None] == column_unit[None, :]
        return np.where(same, self.matrix[sample[:, None], k[None, :]], 0.0)

    def nonzeros_before(self, rows, columns):
        """Unit u's entries sit in rows `i * units + u` and in the u-th band of `inputs` columns: the first
        `rows` rows hold `q + (u < s)` samples of unit u, where `rows = q * units + s`."""
        samples, inputs = self.matrix.shape
        within = _prefix_counts(self.matrix)
        samples_in, extra = np.divmod(rows, self.units)
        whole_units, k = np.divmod(columns, inputs)
        one_more = np.minimum(extra, whole_units)  # the whole units that reach one sample further down
        return (one_more * within[np.minimum(samples_in + 1, samples), inputs]
                + (whole_units - one_more) * within[samples_in, inputs]
                + within[samples_in + (whole_units < extra), k])

    def build(self):
        samples, inputs = self.matrix.shape
        full = np.zeros((samples, self.units, self.units, inputs))
        every = np.arange(self.units)
        full[:, every, every, :] = self.matrix[:, None, :]
        return full.reshape(self.shape)

    def magnitudes(self):
        return KroneckerIdentity(np.abs(self.matrix), self.units)


def _edges(size: int, parts: int) -> np.ndarray:
    """Where each of `parts` squares over `size` entries begins, and the end: square a holds the entries n with
    `n * parts // size == a`."""
    return -(-np.arange(parts + 1) * size // parts)


def _prefix_counts(matrices: np.ndarray) -> np.ndarray:
    """Entry [..., i, j]: how many of the first i rows and j columns of each matrix are not zero."""
    counts = np.zeros((*matrices.shape[:-2], matrices.shape[-2] + 1, matrices.shape[-1] + 1), dtype=np.int64)
    counts[..., 1:, 1:] = np.cumsum(np.cumsum(matrices != 0, axis=-2, dtype=np.int64), axis=-1)
    return counts


def _block_diagonal_count(rows, columns, block_shape, ahead, within) -> np.ndarray:
    """`nonzeros_before` of a matrix of blocks of `block_shape` on its diagonal: `ahead(b)` counts the nonzero
    entries of the blocks before block b, `within(b, i, j)` those in the first i rows and j columns of block b.

    The first `rows` rows and `columns` columns hold every block before the one either of them stops in, and of
    that block, the rows (or columns) the other one reaches: all of them where it reaches past the block.
    """
    down, across = block_shape
    row_block, i = np.divmod(rows, down)
    column_block, j = np.divmod(columns, across)
    block = np.minimum(row_block, column_block)
    return ahead(block) + within(block, np.where(row_block > block, down, i), np.where(column_block > block, across, j))


def structure_of(jacobian: "Structured | np.ndarray") -> Structured:
    """A Jacobian as a structured one: an array becomes `Dense`."""
    return jacobian if isinstance(jacobian, Structured) else Dense(np.asarray(jacobian))
