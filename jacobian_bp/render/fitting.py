"""Symbolic Jacobians that fit: short names, or one sample's block of a block-diagonal Jacobian.

Written out in the article's full names (`a[2]₁₁⁽¹⁾·(1 - a[2]₁₁⁽¹⁾)`), a softmax or a wide layer's
Jacobian is far wider than a page. When the full form is wider than `SYMBOLIC_WIDTH` characters, the
entries get short names (`a₁₁`: the layer is the Jacobian's own and the sample is the row), and a
Jacobian whose samples stay apart (zero outside its diagonal blocks) shows the block of sample 1,
saying what the others are. Every form prints what this returns, so they all say the same.
"""

from dataclasses import dataclass

import numpy as np

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

    from ..entries import EntryName

    names = {symbol: EntryName.parse(symbol.name) for symbol in matrix.free_symbols}
    letters = {(name.letter, name.layer, name.per_sample) for name in names.values()}
    if len({letter for letter, _, _ in letters}) < len(letters):
        return matrix, {}
    short = {symbol: sympy.Symbol(EntryName(name.letter, 0, name.row, name.column, False, name.single_index).key,
                                  real=True)
             for symbol, name in names.items() if name.layer or name.per_sample}
    return matrix.xreplace(short), short


def _legend(short: dict) -> Sentence:
    """`Short names: a₁₁ stands for a[2]₁₁⁽¹⁾, and so on: …` with one example per matrix."""
    from .. import symbolic
    from ..entries import EntryName

    examples = {}
    for long, brief in sorted(short.items(), key=lambda item: item[0].name):
        name = EntryName.parse(long.name)
        examples.setdefault((name.letter, name.layer), (long, brief))
    parts = [say(math(symbolic.text(brief)), " stands for ", math(symbolic.text(long)))
             for long, brief in examples.values()]
    return say("Short names: ", join(parts, ", "), ", and so on: the layer is this Jacobian's own, and a sample's "
               "number is its row.")


def _blocks(solution, step, matrix) -> tuple[int, int] | None:
    """The size of each sample's diagonal block when the symbolic Jacobian keeps samples apart, else None."""
    samples = solution.samples
    output, variable = solution.values[step.node], solution.values[step.variable]
    if samples < 2 or output.shape[0] != samples or variable.shape[0] != samples \
            or step.variable in solution.graph.owners:
        return None
    rows, columns = output.shape[1], variable.shape[1]
    zero = np.array([[entry == 0 for entry in matrix.row(i)] for i in range(matrix.rows)])
    apart = zero.reshape(samples, rows, samples, columns).transpose(0, 2, 1, 3)[~np.eye(samples, dtype=bool)].all()
    return (rows, columns) if apart else None


def symbolic_form(solution, step, symbols) -> SymbolicForm:
    """The whole symbolic Jacobian (`symbols`, a `layout.Symbols`) when it fits in `SYMBOLIC_WIDTH`; else with
    short names; else, for a Jacobian that keeps samples apart, sample 1's block with short names, saying what
    the others are. Only a Jacobian too wide is built in sympy."""
    from .layout import FittedSymbols

    if width(symbols) <= SYMBOLIC_WIDTH:
        return SymbolicForm(symbols, False, ())
    matrix = symbols.matrix
    short_matrix, short = shortened(matrix)
    legend = (_legend(short),) if short else ()
    blocks = _blocks(solution, step, matrix)
    fitted = FittedSymbols(solution, step, short_matrix) if short else symbols
    if blocks is None or width(fitted) <= SYMBOLIC_WIDTH:
        return SymbolicForm(fitted, False, legend)
    rows, columns = blocks
    samples = solution.samples
    total_rows, total_columns = step.jacobian.shape
    left_out = say(
        "In symbols, the block of sample 1 (rows 1–", str(rows), ", columns 1–", str(columns), " of the ",
        f"{total_rows} × {total_columns} Jacobian): samples stay apart, so every entry outside the ",
        f"{samples} diagonal blocks is 0, and the block of sample i has this form with sample i's entries "
        "(row i instead of row 1).")
    return SymbolicForm(FittedSymbols(solution, step, short_matrix[:rows, :columns]), True, (left_out, *legend))
