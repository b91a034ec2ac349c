"""Dropout with a fixed mask: `x ⊙ mask / (1 − p)`, as PyTorch's `F.dropout` in training mode for that mask."""

from math import prod

import numpy as np

from ..numbers import format_number
from ..sentences import math as formula
from ..sentences import say
from ..structured import Diagonal
from .base import AS_COMPUTED, INPUT, OUTPUT, Op, Places


class Dropout(Op):
    """Entries where the mask is 0 are dropped, the others scaled by 1/(1 − p) so that the expected sum stays.

    The mask (0 and 1, the shape of the input) is given in the file, or drawn from `seed`: each entry kept
    with probability 1 − p. It is a constant of the node, shown with it. The Jacobian is diagonal and
    holds `mask / (1 − p)`.
    """

    name = "dropout"
    title = "dropout"
    settings = {"p": 0.5}
    options = {"mask": np.ndarray, "seed": int}
    option_minimum = {"seed": 0}
    keeps_image = True

    def __init__(self, mask: np.ndarray | None = None, seed: int | None = None, p: float = 0.5):
        self.mask, self.seed, self.p = mask, seed if seed is not None else 0, p
        self.seed_given = seed is not None
        self.drawn: np.ndarray | None = None  # the mask `seed` drew, once the input's shape was known

    def mask_for(self, shape: tuple[int, int]) -> np.ndarray:
        """The mask given, or the one `seed` draws for an input of `shape` (always the same for one seed)."""
        if self.mask is not None:
            return self.mask
        if self.drawn is None or self.drawn.shape != tuple(shape):
            self.drawn = (np.random.default_rng(self.seed).random(shape) >= self.p).astype(float)
        return self.drawn

    def torch_expression(self, names) -> str:
        """The mask as a constant of the script: the one given, or the one drawn in the forward pass."""
        mask = self.mask if self.mask is not None else self.drawn
        rows = ", ".join("[" + ", ".join(repr(float(value)) for value in row) + "]" for row in mask)
        return f"{names[INPUT]} * torch.tensor([{rows}], dtype=torch.float64) / (1 - {self.p!r})"

    def settings_problem(self) -> tuple[str, str] | None:
        if not 0 <= self.p < 1:
            return "p", f"expected at least 0 and less than 1 (the probability of dropping an entry), found {self.p:g}"
        if self.mask is None:
            return None
        if self.seed_given:
            return "seed", "given with a mask: the mask is used as it is and the seed would draw nothing; remove one"
        if not np.isin(self.mask, (0.0, 1.0)).all():
            return "mask", "expected only 0 (dropped) and 1 (kept)"
        if self.p == 0 and not self.mask.all():
            return "mask", ("drops entries, but p = 0 says none is dropped (and kept ones are scaled by 1/(1 − p)); "
                            "set p to the dropping probability the mask stands for")
        return None

    def check_shapes(self, shapes) -> tuple[str, str] | None:
        if self.mask is not None and self.mask.shape != tuple(shapes[INPUT]):
            return "mask", (f"expected the shape of its input, {shapes[INPUT][0]} × {shapes[INPUT][1]}; found "
                            f"{self.mask.shape[0]} × {self.mask.shape[1]}")
        return None

    def scaled_mask(self, shape: tuple[int, int]) -> np.ndarray:
        return self.mask_for(shape) / (1.0 - self.p)

    def forward(self, values) -> np.ndarray:
        return values[INPUT] * self.scaled_mask(values[INPUT].shape)

    def structured_jacobian(self, role: str, values) -> Diagonal:
        # d out[i,j] / d x[i',j'] = δ(i,i') · δ(j,j') · mask[i,j] / (1 − p)
        return Diagonal(self.scaled_mask(values[INPUT].shape))

    def structure_size(self, role: str, shapes) -> int:
        return prod(shapes[INPUT])

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        return upstream * self.scaled_mask(upstream.shape)

    def shortcut_formula(self, role: str, names, shapes):
        return say(formula(f"{names['upstream']} ⊙ mask / (1 − {format_number(self.p, 4)})"))

    def expression(self, names) -> str:
        return f"{names[INPUT]} ⊙ mask / (1 − {format_number(self.p, 4)})"

    def explanation(self, role: str, names, samples: int):
        scale = format_number(1.0 / (1.0 - self.p), 4)
        return say(
            "Dropout multiplies each entry of ", formula(names[INPUT]), " by its own constant — 0 where the mask "
            f"drops it, 1/(1 − p) = {scale} where it keeps it — so the Jacobian is diagonal and holds the mask, "
            "scaled. A dropped entry gets no gradient: for this step, it is not part of the network.")

    def slips(self, role: str, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        if self.p == 0:
            return ()
        return ((f"dropout's scale 1/(1 − p) forgotten in d{names[OUTPUT]}/d{names[INPUT]}: this is the mask alone; "
                 f"{names[OUTPUT]} scales every kept entry by 1/(1 − p) = {format_number(1 / (1 - self.p), 4)}, so "
                 "its Jacobian holds the mask scaled by it", np.diagflat(self.mask_for(values[INPUT].shape))),)

    def forward_slips(self, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        if self.p == 0:
            return ()
        mask, scale = self.mask_for(values[INPUT].shape), format_number(1 / (1 - self.p), 4)
        kept = f"dropout scales every kept entry by 1/(1 − p) = {scale}"
        return ((f"dropout's scale 1/(1 − p) forgotten in {names[OUTPUT]}: this is {names[INPUT]} ⊙ mask; {kept}",
                 values[INPUT] * mask),
                (f"dropout's kept entries multiplied by 1 − p, not divided by it; {kept}",
                 values[INPUT] * mask * (1 - self.p)))

    def entry_equation(self, index: int, symbols):
        import sympy

        x = symbols[INPUT]
        return x[index] * sympy.nsimplify(self.scaled_mask(x.shape).flat[index])

    def symbolic_jacobian(self, role: str, symbols, values):
        import sympy

        return sympy.diag(*[sympy.nsimplify(value) for value in self.scaled_mask(values[INPUT].shape).flat])

    def output_notes(self, values, names, at: Places = AS_COMPUTED) -> tuple:
        return self.constants(values, names, at)

    def constants(self, values, names, at: Places = AS_COMPUTED) -> tuple:
        mask = at.matrix(self.mask_for(values[INPUT].shape))
        rows = "; ".join(" ".join(format_number(float(value), 1) for value in row) for row in mask)
        given = "as given" if self.mask is not None else f"drawn from seed {self.seed}"
        return (say("The mask of ", formula(names[OUTPUT]), f" ({given}; 1 keeps, 0 drops), row by row: ",
                    formula(rows), f". Kept entries are scaled by 1/(1 − p) with p = {format_number(self.p, 4)}."),)
