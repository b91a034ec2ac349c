"""Entries of symbolic Jacobians as text, written from an op's index pattern without sympy.

Importing sympy takes longer than the whole walkthrough of a small network, so an op whose
Jacobian follows a known index pattern (a dense layer's weights and inputs, a diagonal of
derivatives, 1/m) writes each entry it is asked for as a `Term`: a number, the name of an entry
of a variable (`w[3]₁₂`, `a[2]₁₁⁽¹⁾`), or a formula the op writes itself. The terms print exactly as
`symbolic.text` prints sympy's entries (a test holds the two together), and only the entries a
page shows are ever written, however large the Jacobian.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

SUBSCRIPT = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉‚")
SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


# Letters of derived quantities (a normalized input) that LaTeX and ASCII terminals spell otherwise.
LATEX_LETTERS = {"ẑ": r"\hat{z}"}
ASCII_LETTERS = {"ẑ": "zhat"}


@dataclass(frozen=True)
class EntryName:
    """Which entry of which matrix a symbol stands for: letter, layer (0 if none), row, column (from 1).

    Entries of a variable computed per sample (not a parameter) belong to one sample, shown as the
    outer superscript: the row, or the column when samples are written as columns (`sample_column`);
    a per-sample column (one loss per sample) has one index only.
    """

    letter: str
    layer: int
    row: int
    column: int
    per_sample: bool = False
    single_index: bool = False
    sample_column: bool = False

    @property
    def key(self) -> str:
        """The name of the entry's sympy symbol. sympy orders the terms of a sum and the factors of a product by
        it, so its numbers are written with leading zeros: a₁₂ comes before a₁‚₁₀, as their indices do."""
        numbers = "|".join(f"{int(number):04d}" for number in (self.layer, self.row, self.column))
        return f"{self.letter}|{numbers}|{int(self.per_sample)}|{int(self.single_index)}|{int(self.sample_column)}"

    @classmethod
    def parse(cls, key: str) -> "EntryName":
        letter, layer, row, column, per_sample, single_index, sample_column = key.split("|")
        return cls(letter, int(layer), int(row), int(column), per_sample == "1", single_index == "1",
                   sample_column == "1")

    @property
    def sample(self) -> int:
        return self.column if self.sample_column else self.row

    def indices(self) -> str:
        separator = "," if max(self.row, self.column) > 9 else ""
        if self.single_index:
            return str(self.sample)
        return f"{self.row}{separator}{self.column}"

    @property
    def whole(self) -> bool:
        """Whether the symbol names a whole variable (`J`, `R`): row 0, no indices."""
        return self.row == 0

    def text(self, ascii_only: bool = False) -> str:
        """`a[2]₁₂⁽¹⁾` (or `a[2]_12^(1)` in ASCII): layer in brackets, indices, then the sample."""
        return self.spellings()[ascii_only]

    def spellings(self) -> tuple[str, str]:
        """The name in Unicode and in ASCII (`text`), both at once: a term keeps both, and a deep network's pages
        write thousands of names."""
        if self.whole:
            return self.letter, self.letter
        layer = f"[{self.layer}]" if self.layer else ""
        sample = f"({self.sample})" if self.per_sample else ""
        indices = self.indices()
        return (f"{self.letter}{layer}{indices.translate(SUBSCRIPT)}{sample.translate(SUPERSCRIPT)}",
                f"{ASCII_LETTERS.get(self.letter, self.letter)}{layer}_{indices}" + (f"^{sample}" if sample else ""))

    def latex(self) -> str:
        """`{a_{12}^{[2]}}^{(1)}` as in the article."""
        if self.whole:
            return self.letter
        layer = f"^{{[{self.layer}]}}" if self.layer else ""
        core = f"{LATEX_LETTERS.get(self.letter, self.letter)}_{{{self.indices()}}}{layer}"
        return f"{{{core}}}^{{({self.sample})}}" if self.per_sample else core


@dataclass(frozen=True)
class Term:
    """One entry of a symbolic Jacobian as text; `zero` says it is an exact 0 (drawn dimmed)."""

    unicode: str
    ascii: str
    zero: bool = False

    def text(self, ascii_only: bool = False) -> str:
        return self.ascii if ascii_only else self.unicode


def number(value: float, denominator: int = 1) -> Term:
    """A number (`value / denominator`, exactly) as the symbolic forms print it: `0`, `1`, `1/2`, and `0.01` where
    the denominator is a power of ten."""
    from fractions import Fraction  # imported where a symbolic form is written, not at every start

    exact = (Fraction(repr(float(value))) if isinstance(value, float | np.floating) else Fraction(value)) / denominator
    digits = len(str(exact.denominator)) - 1
    if exact.denominator == 1:
        written = str(exact.numerator)
    elif 10**digits == exact.denominator:
        written = f"{float(exact):.{digits}f}"
    else:
        written = f"{exact.numerator}/{exact.denominator}"
    return Term(written, written, zero=exact == 0)


ZERO, ONE = Term("0", "0", zero=True), Term("1", "1")


def formula(unicode: str, ascii: str) -> Term:
    """A formula an op writes itself, e.g. `σ(z)·(1 - σ(z))`, in Unicode and in ASCII."""
    return Term(unicode, ascii)


# The Unicode signs of the formulas ops write, spelt in ASCII.
ASCII_SIGNS = str.maketrans({"·": "*", "σ": "sigmoid", "δ": "delta", "−": "-"})


def written(template: str, **terms: Term) -> Term:
    """A formula an op writes around other terms: `template` in Unicode with `{name}` where each term goes, e.g.
    `written("(1 - {y})·log(1 - {a})", y=…, a=…)`; in ASCII its signs are spelt out and the terms take their ASCII
    forms."""
    return Term(template.format(**{name: term.unicode for name, term in terms.items()}),
                template.translate(ASCII_SIGNS).format(**{name: term.ascii for name, term in terms.items()}))


def total(summands: list[Term], negated: bool = False, divisor: int = 1) -> Term:
    """The sum of `summands`, negated (`-s₁ - s₂`) and divided by `divisor` (`(s₁ + s₂)/n`) as asked."""
    def text(forms: list[str]) -> str:
        sign = "-" if negated else ""
        if divisor == 1:
            return sign + (" - " if negated else " + ").join(forms)
        inner = " + ".join(forms)
        return f"{sign}({inner})/{divisor}" if len(forms) > 1 else f"{sign}{inner}/{divisor}"

    return Term(text([term.unicode for term in summands]), text([term.ascii for term in summands]))


@dataclass(frozen=True)
class Namer:
    """Names the entries of one variable: `namer(i, j)` is the term of row i, column j (from 0).

    Data an op is never differentiated by (the targets `Y`) are `y₁₁`, row 1 and column 1 with no sample mark, or
    their exact numbers (`values`) where the op writes them in.
    """

    letter: str
    layer: int
    per_sample: bool = False
    single_index: bool = False
    values: "np.ndarray | None" = None
    sample_column: bool = False  # the samples are columns (EntryName.sample_column)

    def __call__(self, i: int, j: int) -> Term:
        if self.values is not None:
            return number(float(self.values[i, j]))
        return Term(*self.name(i, j).spellings())

    def name(self, i: int, j: int) -> EntryName:
        return EntryName(self.letter, self.layer, i + 1, j + 1, self.per_sample, self.single_index,
                         self.sample_column)

    def key(self, i: int, j: int) -> str:
        """The name of the entry's sympy symbol, by which sympy orders the factors of a product."""
        return self.name(i, j).key


def namer(graph, name: str, values: "np.ndarray | None" = None, data: bool = False) -> Namer:
    """How the article names the entries of variable `name`: `W3` gives `w[3]₁₂`, `X` gives `x₁₂⁽¹⁾`, the data
    of an op's `data` role `y₁₂` (or its exact `values`)."""
    if data:
        return Namer(name.lower(), 0, values=values)
    letters = name.rstrip("0123456789")
    digits = name[len(letters):]
    producer = graph.producers.get(name)
    return Namer(letters.lower(), int(digits) if digits else 0, per_sample=name not in graph.owners,
                 single_index=producer is not None and producer.op.one_per_sample)


# The entry of row r, column c (from 0) of a Jacobian, as an op writes it from its index pattern.
Pattern = Callable[[int, int], Term]


def role_namers(solution, node) -> Mapping[str, Namer]:
    """The namers of every role of a node (data roles as symbols `y₁₁` or as their exact values, as the op keeps
    them) and of its output; made once per node of a solution (`Solution.namers`), which every step of the node
    asks for."""
    found = solution.namers.get(node.output)
    if found is None:
        from .ops import OUTPUT

        values, op = solution.values, node.op
        found = solution.namers[node.output] = {
            role: namer(solution.graph, name, None if op.symbolic_data(role) else values[name],
                        data=role in op.data_roles)
            for role, name in {**node.roles, OUTPUT: node.output}.items()}
    return found
