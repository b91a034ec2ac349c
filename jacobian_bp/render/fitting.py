"""Symbolic Jacobians that fit: short names, or one sample's block of a block-diagonal Jacobian.

Written out in the article's full names (`a[2]₁₁⁽¹⁾·(1 - a[2]₁₁⁽¹⁾)`), a softmax or a wide layer's
Jacobian is far wider than a page. When the full form is wider than `SYMBOLIC_WIDTH` characters, the
entries get short names (`a₁₁`: the layer is the Jacobian's own and the sample is the row), and a
Jacobian whose samples stay apart (zero outside its diagonal blocks) shows the block of sample 1,
saying what the others are. Every form prints what this returns, so they all say the same.
"""

from dataclasses import dataclass, replace

import numpy as np

from ..entries import EntryName, Namer, role_namers
from ..sentences import Sentence, join, math, say

# Characters of plain text a symbolic matrix may take: an 80-column page, less the Jacobian's name and brackets.
SYMBOLIC_WIDTH = 64


@dataclass(frozen=True)
class SymbolicForm:
    """What to show of a symbolic Jacobian: `symbols` (the whole, or sample 1's block when `block`), and
    sentences that say what the short names stand for and what was left out."""

    symbols: object
    block: bool
    notes: tuple[Sentence, ...]

    @property
    def matrix(self):
        """The sympy matrix shown."""
        return self.symbols.matrix


def width(symbols) -> int:
    """The characters a `layout.Symbols` takes as plain text: its widest entry per column, two spaces between."""
    texts = symbols.texts()
    columns = [max(len(row[j][0]) for row in texts) for j in range(len(texts[0]))]
    return sum(columns) + 2 * (len(columns) - 1)


def shortened(matrix) -> tuple[object, dict]:
    """The matrix with every entry symbol renamed to its letter and indices (`a[2]₁₁⁽¹⁾` → `a₁₁`), and the
    renaming; no renaming when two matrices of one letter appear (`a[1]` and `a[2]`), which it would confuse."""
    import sympy

    names = {symbol: EntryName.parse(symbol.name) for symbol in matrix.free_symbols}
    renaming = _renaming(set(names.values()))
    short = {symbol: sympy.Symbol(renaming[name].key, real=True) for symbol, name in names.items() if name in renaming}
    return matrix.xreplace(short), short


def _renaming(names: set[EntryName]) -> dict[EntryName, EntryName]:
    """Each name with a layer or a sample given its short name; none when two matrices share a letter."""
    letters = {(name.letter, name.layer, name.per_sample) for name in names}
    if len({letter for letter, _, _ in letters}) < len(letters):
        return {}
    return {name: EntryName(name.letter, 0, name.row, name.column, False, name.single_index)
            for name in names if name.layer or name.per_sample}


class _Recording:
    """A namer that notes the name of every entry it writes (so that a pattern tells which symbols it uses)."""

    def __init__(self, namer: Namer, used: set):
        self.namer, self.used = namer, used

    def __call__(self, i: int, j: int):
        if self.namer.values is None:
            self.used.add(self.namer.name(i, j))
        return self.namer(i, j)

    def key(self, i: int, j: int) -> str:
        return self.namer.key(i, j)


def _from_pattern(solution, step, symbols) -> tuple[object, dict, np.ndarray]:
    """The op's pattern with short names (or its own, when it cannot have them), the renaming, and where the
    Jacobian is 0, all without sympy."""
    node = solution.graph.producers[step.node]
    namers = role_namers(solution, node)
    values = solution.graph.role_values(node, solution.values)
    used: set = set()
    recording = node.op.symbolic_pattern(step.role, {role: _Recording(namer, used) for role, namer in namers.items()},
                                         values)
    rows, columns = symbols.shape
    zero = np.array([[recording(r, c).zero for c in range(columns)] for r in range(rows)])
    renaming = _renaming(used)
    if not renaming:
        return symbols.pattern, renaming, zero
    short = {role: namer if namer.values is not None else replace(namer, layer=0, per_sample=False)
             for role, namer in namers.items()}
    return node.op.symbolic_pattern(step.role, short, values), renaming, zero


def _legend(renaming: dict[EntryName, EntryName], line: str = "row") -> Sentence:
    """`Short names: a₁₁ stands for a[2]₁₁⁽¹⁾, and so on: …` with one example per matrix; a sample is a `line`."""
    examples: dict = {}
    for long, brief in sorted(renaming.items(), key=lambda item: item[0].key):
        examples.setdefault((long.letter, long.layer), (long, brief))
    parts = [say(math(brief.text()), " stands for ", math(long.text())) for long, brief in examples.values()]
    return say("Short names: ", join(parts, ", "), ", and so on: the layer is this Jacobian's own, and a sample's "
               f"number is its {line}.")


def _blocks(solution, step, zero: np.ndarray) -> tuple[int, int] | None:
    """The size of each sample's diagonal block when the symbolic Jacobian (0 where `zero`) keeps samples apart,
    else None."""
    samples, conventions = solution.samples, solution.conventions
    output, variable = solution.computed.values[step.node], solution.computed.values[step.variable]
    if samples < 2 or output.shape[0] != samples or variable.shape[0] != samples \
            or step.variable in solution.graph.owners or conventions.columns != conventions.column_major:
        return None  # (vec reads one sample's entries one after another only where samples and vec agree)
    rows, columns = output.shape[1], variable.shape[1]
    if conventions.denominator:
        rows, columns = columns, rows
    apart = zero.reshape(samples, rows, samples, columns).transpose(0, 2, 1, 3)[~np.eye(samples, dtype=bool)].all()
    return (rows, columns) if apart else None


def symbolic_form(solution, step, symbols) -> SymbolicForm:
    """The whole symbolic Jacobian (`symbols`, a `layout.Symbols`) when it fits in `SYMBOLIC_WIDTH`; else with
    short names; else, for a Jacobian that keeps samples apart, sample 1's block with short names, saying what
    the others are. An op with an index pattern writes every form without sympy (which LaTeX and MathML build on
    first use); only the Jacobian of an op without one is shortened in sympy."""
    from .layout import FittedSymbols

    if width(symbols) <= SYMBOLIC_WIDTH:
        return SymbolicForm(symbols, False, ())
    if symbols.pattern is not None:
        pattern, renaming, zero = _from_pattern(solution, step, symbols)
        short_matrix = None
    else:
        matrix = symbols.matrix
        short_matrix, short = shortened(matrix)
        renaming = {EntryName.parse(long.name): EntryName.parse(brief.name) for long, brief in short.items()}
        pattern, zero = None, np.array([[entry == 0 for entry in matrix.row(i)] for i in range(matrix.rows)])

    def fitted(rows: int, columns: int) -> FittedSymbols:
        def fit():
            whole = short_matrix if short_matrix is not None else shortened(symbols.matrix)[0]
            return whole[:rows, :columns]

        return FittedSymbols(solution, step, fit, pattern, (rows, columns))

    legend = (_legend(renaming, solution.conventions.sample_line),) if renaming else ()
    blocks = _blocks(solution, step, zero)
    whole = fitted(*symbols.shape) if renaming else symbols
    if blocks is None or width(whole) <= SYMBOLIC_WIDTH:
        return SymbolicForm(whole, False, legend)
    rows, columns = blocks
    samples = solution.samples
    total_rows, total_columns = symbols.shape
    left_out = say(
        "In symbols, the block of sample 1 (rows 1–", str(rows), ", columns 1–", str(columns), " of the ",
        f"{total_rows} × {total_columns} Jacobian): samples stay apart, so every entry outside the ",
        f"{samples} diagonal blocks is 0, and the block of sample i has this form with sample i's entries "
        f"({solution.conventions.sample_line} i instead of {solution.conventions.sample_line} 1).")
    return SymbolicForm(fitted(rows, columns), True, (left_out, *legend))
