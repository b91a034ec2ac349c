"""Normalizations `batch_norm` (each feature over the batch) and `layer_norm` (each sample over its features).

Both compute `ẑ = (x − μ) / √(σ² + eps)` (biased variance, as PyTorch) and then `γ ⊙ ẑ + β`;
they differ only in the direction of the mean: down a column (batch norm) or along a row (layer norm).
"""

from typing import ClassVar

import numpy as np

from ..sentences import math as formula
from ..sentences import say
from .base import AS_COMPUTED, INPUT, OUTPUT, Op, Places


class Normalization(Op):
    """`γ ⊙ (x − μ)/√(σ² + eps) + β` with the statistics taken along `axis` (0: over samples, 1: over features)."""

    parameter_letters = ("gamma", "beta")
    row_parameters = ("gamma", "beta")
    settings = {"eps": 1e-5}
    keeps_image = True
    axis: ClassVar[int]

    def parameter_shapes(self, shapes) -> dict[str, tuple[int, int]]:
        return {"gamma": (1, shapes[INPUT][1]), "beta": (1, shapes[INPUT][1])}

    def parameter_hint(self, role: str) -> str:
        return "one per feature"

    def settings_problem(self) -> tuple[str, str] | None:
        if not self.eps > 0:
            return "eps", (f"expected a positive number (added to the variance so that a constant feature is not "
                           f"divided by 0; PyTorch's default is 1e-5), found {self.eps:g}")
        return None

    def constants(self, values, names, at: Places = AS_COMPUTED) -> tuple:
        return (say(formula(names[OUTPUT]), " adds eps = ", formula(f"{self.eps:g}"),
                    " to the variance before its square root; the variance is the biased one (divided by the count)."),)

    def initialize(self, role: str, shapes, rng: "np.random.Generator") -> np.ndarray:
        """γ = 1 and β = 0, as PyTorch starts them: at first the node only normalizes."""
        return np.full(self.parameter_shapes(shapes)[role], 1.0 if role == "gamma" else 0.0)

    def initialization(self, role: str):
        return say("1" if role == "gamma" else "0", ", as PyTorch starts a norm's ",
                   "scale" if role == "gamma" else "shift"), False

    def statistics(self, X: np.ndarray, unbiased: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """`ẑ` and `√(σ² + eps)`, the latter with the axis of the mean kept; σ² is the biased variance (divided by
        the count), as PyTorch normalizes in training, or the `unbiased` one (divided by the count − 1)."""
        centred = X - X.mean(axis=self.axis, keepdims=True)
        variance = (centred**2).sum(axis=self.axis, keepdims=True) / (X.shape[self.axis] - unbiased)
        spread = np.sqrt(variance + self.eps)
        return centred / spread, spread

    def forward(self, values) -> np.ndarray:
        normalized, _ = self.statistics(values[INPUT])
        return values["gamma"] * normalized + values["beta"]

    def jacobian(self, role: str, values) -> np.ndarray:
        X = values[INPUT]
        samples, features = X.shape
        normalized, spread = self.statistics(X)
        if role == "gamma":
            # d out[i,j] / d γ[l] = δ(j,l) · ẑ[i,j]
            return np.einsum("ij,jl->ijl", normalized, np.eye(features)).reshape(samples * features, features)
        if role == "beta":
            # d out[i,j] / d β[l] = δ(j,l): an identity per sample, stacked
            return np.tile(np.eye(features), (samples, 1))
        return self.input_jacobian(normalized, spread, values["gamma"])

    def input_jacobian(self, normalized: np.ndarray, spread: np.ndarray, gamma: np.ndarray, mean_path: bool = True,
                       variance_path: bool = True) -> np.ndarray:
        """d out / d x; without `mean_path` or `variance_path`, as if μ or σ² were constants (a slip)."""
        raise NotImplementedError

    def slips(self, role: str, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        if role != INPUT:
            return ()
        normalized, spread = self.statistics(values[INPUT])
        over = "the batch" if self.axis == 0 else "the sample's features"
        paths = (f"; x reaches the output directly, through the mean and through the variance of {over}, and "
                 "the Jacobian adds all three")
        return ((f"{self.title} gradient without the mean and variance paths: this treats μ and σ as constants"
                 + paths, self.input_jacobian(normalized, spread, values["gamma"], False, False)),
                (f"{self.title} gradient without the variance path: this treats σ as a constant" + paths,
                 self.input_jacobian(normalized, spread, values["gamma"], True, False)))

    def forward_slips(self, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        X = values[INPUT]
        count, letter = X.shape[self.axis], "m" if self.axis == 0 else "n"
        if count < 2:
            return ()
        normalized, _ = self.statistics(X, unbiased=True)
        over = "the batch" if self.axis == 0 else "the sample's features"
        return ((f"unbiased variance in {names[OUTPUT]} (divided by {letter} − 1 = {count - 1}); {self.title} "
                 f"normalizes with the biased variance of {over}, divided by {letter} = {count}, as PyTorch does",
                 values["gamma"] * normalized + values["beta"]),)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return {INPUT: (INPUT, "gamma"), "gamma": (INPUT,), "beta": ()}[role]

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        normalized, spread = self.statistics(values[INPUT])
        if role == "gamma":
            return (upstream * normalized).sum(axis=0, keepdims=True)
        if role == "beta":
            return upstream.sum(axis=0, keepdims=True)
        # dJ/dx = (g − mean(g) − ẑ ⊙ mean(g ⊙ ẑ)) / √(σ² + eps), with g = γ ⊙ dJ/dout, means along the axis
        g = upstream * values["gamma"]
        mean = g.mean(axis=self.axis, keepdims=True)
        return (g - mean - normalized * (g * normalized).mean(axis=self.axis, keepdims=True)) / spread

    def shortcut_formula(self, role: str, names, shapes, columns: bool = False):
        """`columns`: with samples as columns (a feature is then a row, a sample a column)."""
        upstream, gamma = names["upstream"], names["gamma"]
        sums = "row sums of " if columns else "column sums of "
        if role == "gamma":
            return say(sums, formula(f"{upstream} ⊙ ẑ"))
        if role == "beta":
            return say(sums, formula(upstream))
        along = "down each column" if (self.axis == 0) != columns else "along each row"
        return say(formula("(g − mean(g) − ẑ ⊙ mean(g ⊙ ẑ)) / √(σ² + eps)"), " with ",
                   formula(f"g = {upstream} ⊙ {gamma}"), f", the means taken {along}, and ",
                   formula(f"ẑ = ({names[OUTPUT]} − {names['beta']}) / {gamma}"))

    def columns_shortcut_formula(self, role: str, names, shapes):
        return self.shortcut_formula(role, names, shapes, columns=True)

    def explanation(self, role: str, names, samples: int):
        from ..conventions import DEFAULT

        return self.written_explanation(role, names, samples, DEFAULT)

    def parameter_explanation(self, role: str, names, conventions):
        """γ scales and β shifts each feature of every sample: one block (or identity) per sample."""
        if role == "gamma":
            entry, normalized = ("(j, i)", "ẑ_ji") if conventions.columns else ("(i, j)", "ẑ_ij")
            text = say(f"Entry {entry} of ", formula(names[OUTPUT]), " is ", formula(f"γ_j · {normalized} + β_j"),
                       ", so the Jacobian holds each sample's ẑ along the diagonal of its block, and multiplying "
                       "by it sums ", formula(f"{names['upstream']} ⊙ ẑ"), " over the batch.")
        else:
            text = say(formula(names["beta"]), f" is added to every sample's {conventions.sample_line}, so the "
                       f"Jacobian {conventions.identities}, and multiplying by it sums ", formula(names["upstream"]),
                       " over the batch.")
        return say(text, conventions.blocks_note())

    def expression(self, names) -> str:
        return f"{names['gamma']} ⊙ ({names[INPUT]} − μ) / √(σ² + eps) + {names['beta']}"

    def derived_symbols(self, symbols, shape: tuple[int, int]):
        """The symbols of the normalized input ẑ and of s = √(σ² + eps) (a column: one per feature for batch norm,
        one per sample for layer norm), numbered with the node's layer as its γ is."""
        from ..symbolic import EntryName
        from ..symbolic import symbols as entries

        layer = EntryName.parse(symbols["gamma"][0, 0].name).layer
        samples, features = shape
        spread = (entries("s", layer, (features, 1), single_index=True) if self.axis == 0 else
                  entries("s", layer, (samples, 1), per_sample=True, single_index=True))
        return entries("ẑ", layer, shape, per_sample=True), spread

    def entry_equation(self, index: int, symbols):
        """`γ_j · (x_ij − μ) / √(σ² + eps) + β_j` with μ and σ² written out over the column (batch norm) or the
        row (layer norm) of the entry."""
        import sympy

        x = symbols[INPUT]
        i, j = divmod(index, x.cols)
        line = list(x.col(j)) if self.axis == 0 else list(x.row(i))
        mean = sum(line) / len(line)
        variance = sum((entry - mean) ** 2 for entry in line) / len(line)
        eps = sympy.nsimplify(self.eps)
        return symbols["gamma"][0, j] * (x[i, j] - mean) / sympy.sqrt(variance + eps) + symbols["beta"][0, j]

    def symbolic_values(self, values, symbols) -> dict:
        normalized, spread = self.statistics(values[INPUT])
        hat, spreads = self.derived_symbols(symbols, normalized.shape)
        numbers = [*normalized.flat, *spread.flat]
        return {symbol: float(number) for symbol, number in zip([*hat, *spreads], numbers, strict=True)}

    def symbolic_jacobian(self, role: str, symbols, values):
        """In the symbols of γ, of the normalized input ẑ and of s = √(σ² + eps), as the explanation writes it."""
        import sympy

        samples, features = values[INPUT].shape
        gamma = symbols["gamma"]
        hat, spread = self.derived_symbols(symbols, (samples, features))
        if role == "gamma":
            return sympy.Matrix(samples * features, features,
                                lambda row, column: hat[int(row) // features, int(row) % features]
                                if int(row) % features == int(column) else 0)
        if role == "beta":
            return sympy.Matrix(np.tile(np.eye(features, dtype=int), (samples, 1)))
        count = samples if self.axis == 0 else features

        def entry(row, column):
            (i, j), (k, f) = divmod(int(row), features), divmod(int(column), features)
            if (self.axis == 0 and j != f) or (self.axis == 1 and i != k):
                return sympy.Integer(0)
            same = sympy.Integer(int(i == k and j == f))
            s = spread[j if self.axis == 0 else i, 0]
            return gamma[0, j] / s * (same - sympy.Rational(1, count) - hat[i, j] * hat[k, f] / count)

        return sympy.Matrix(samples * features, samples * features, entry)


class BatchNorm(Normalization):
    """`nn.BatchNorm1d` in training mode: each feature normalized with the mean and biased variance of the batch.

    Its Jacobian with respect to the input couples the samples: every output depends on the same feature
    of every sample (through μ and σ), so it is NOT block diagonal by sample; ordered by sample, it has a
    diagonal m × m pattern inside every block, one per feature.
    """

    name = "batch_norm"
    title = "batch norm"
    axis = 0

    def torch_expression(self, names) -> str:
        return (f"F.batch_norm({names[INPUT]}, None, None, {names['gamma']}.reshape(-1), {names['beta']}.reshape(-1), "
                f"training=True, eps={self.eps!r})")

    def input_jacobian(self, normalized, spread, gamma, mean_path=True, variance_path=True) -> np.ndarray:
        samples, features = normalized.shape
        # d out[i,j] / d x[k,l] = δ(j,l) · γ[j]/s[j] · (δ(i,k) − 1/m − ẑ[i,j]·ẑ[k,j]/m)
        coupling = (np.eye(samples)[None] - mean_path / samples
                    - variance_path * np.einsum("ij,kj->jik", normalized, normalized) / samples)
        per_feature = (gamma[0] / spread[0])[:, None, None] * coupling
        return np.einsum("jik,jl->ijkl", per_feature, np.eye(features)).reshape(samples * features,
                                                                                  samples * features)

    def check_shapes(self, shapes) -> str | None:
        if shapes[INPUT][0] < 2:
            return "batch norm in training mode needs at least 2 samples (a batch of one has no variance)"
        return None

    def written_explanation(self, role: str, names, samples: int, conventions):
        out = names[OUTPUT]
        if role == INPUT:
            return say(
                "Batch norm takes each feature's mean and variance over the batch, so every entry of ", formula(out),
                " depends on the same feature of every sample: the Jacobian couples the samples and is not block "
                "diagonal — dividing samples into separate blocks would miss the mean and variance paths. Each "
                "entry is ", formula("γ/√(σ² + eps) · (δ − 1/m − ẑ·ẑ′/m)"), ", with ",
                formula("ẑ = (x − μ)/√(σ² + eps)"),
                " the normalized input: the direct path, minus what flows through the mean and through the variance.")
        return self.parameter_explanation(role, names, conventions)


class LayerNorm(Normalization):
    """`nn.LayerNorm` over the features of each sample: one mean and variance per sample (row).

    Its Jacobian with respect to the input is block diagonal with FULL n × n blocks: each output of a
    sample depends on every feature of that sample, and on no other sample.
    """

    name = "layer_norm"
    title = "layer norm"
    axis = 1

    def torch_expression(self, names) -> str:
        x = names[INPUT]
        return (f"F.layer_norm({x}, ({x}.shape[1],), {names['gamma']}.reshape(-1), {names['beta']}.reshape(-1), "
                f"eps={self.eps!r})")

    def input_jacobian(self, normalized, spread, gamma, mean_path=True, variance_path=True) -> np.ndarray:
        samples, features = normalized.shape
        # d out[i,j] / d x[k,l] = δ(i,k) · γ[j]/s[i] · (δ(j,l) − 1/n − ẑ[i,j]·ẑ[i,l]/n)
        coupling = (np.eye(features)[None] - mean_path / features
                    - variance_path * np.einsum("ij,il->ijl", normalized, normalized) / features)
        blocks = gamma[0][None, :, None] / spread[:, :, None] * coupling
        return np.einsum("ab,ajl->ajbl", np.eye(samples), blocks).reshape(samples * features, samples * features)

    def written_explanation(self, role: str, names, samples: int, conventions):
        out = names[OUTPUT]
        if role == INPUT:
            return say(
                "Layer norm takes one mean and variance per sample, over its features, so every entry of a sample's "
                f"{conventions.sample_line} of ", formula(out), " depends on every feature of that sample and of no "
                "other: the Jacobian is block diagonal, one full block per sample. Each entry is ",
                formula("γ/√(σ² + eps) · (δ − 1/n − ẑ·ẑ′/n)"), ", with ", formula("ẑ = (x − μ)/√(σ² + eps)"),
                " the normalized input.", conventions.blocks_note())
        return self.parameter_explanation(role, names, conventions)
