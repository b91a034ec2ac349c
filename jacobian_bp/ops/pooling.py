"""Pooling `max_pool2d` and `avg_pool2d`: each channel's windows reduced to one number, as PyTorch's."""

import math

import numpy as np

from ..numbers import format_number
from ..sentences import math as formula
from ..sentences import say
from .base import INPUT, OUTPUT, entry
from .images import ImageOp, windows


class Pooling(ImageOp):
    """Windows of `kernel_size` × `kernel_size`, `stride` apart (by default side by side), channel by channel.

    Every output entry reads one window of one channel of one sample, so each sample's Jacobian block
    has one row per window with entries only at that window's columns; samples never mix.
    """

    spatial = 2
    options = {"kernel_size": int, "stride": int, "in_shape": tuple}
    required = ("kernel_size",)

    def __init__(self, kernel_size: int, stride: int | None = None, in_shape=None):
        super().__init__(in_shape, kernel_size, stride, padding=0)

    def torch_expression(self, names) -> str:
        return (f"F.{self.name}({self.torch_picture(names[INPUT])}, {self.kernel_size}, {self.stride})"
                f".reshape({names[INPUT]}.shape[0], -1)")

    def window_positions(self) -> np.ndarray:
        """For each output entry of a sample (rows, channel by channel) the positions of its window in the row."""
        positions = np.arange(math.prod(self.in_shape)).reshape(1, *self.in_shape)
        return windows(positions, self.kernel_size, self.stride)[0].reshape(-1, self.kernel_size**2)

    def window_values(self, X: np.ndarray) -> np.ndarray:
        """(samples, output entries, window entries in row-major order)."""
        return X[:, self.window_positions()]

    def spread(self, weights: np.ndarray) -> np.ndarray:
        """The full Jacobian from the weight (samples, output entries, window entries) of every window entry."""
        samples, features = weights.shape[0], math.prod(self.in_shape)
        positions = self.window_positions()
        rows = positions.shape[0]
        jacobian = np.zeros((samples, rows, samples, features))
        i, r, q = np.ix_(range(samples), range(rows), range(positions.shape[1]))
        np.add.at(jacobian, (i, r, i, positions[r, q]), weights)
        return jacobian.reshape(samples * rows, samples * features)

    def route(self, upstream: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """dJ/dIn the way frameworks do it: each window's gradient sent back to its entries by their weights."""
        samples, rows = upstream.shape[0], upstream.shape[1]
        positions = self.window_positions()
        found = np.zeros((samples, math.prod(self.in_shape)))
        i, r, q = np.ix_(range(samples), range(rows), range(positions.shape[1]))
        np.add.at(found, (i, positions[r, q]), upstream[:, :, None] * weights)
        return found

    def jacobian(self, role: str, values) -> np.ndarray:
        return self.spread(self.weights(values[INPUT]))

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        return self.route(upstream, self.weights(values[INPUT]))

    def weights(self, X: np.ndarray) -> np.ndarray:
        """d output entry / d window entry, for every window entry: (samples, output entries, window entries)."""
        raise NotImplementedError

    def window_symbols(self, index: int, symbols) -> list:
        """The symbols of the window that output entry `index` (row-major, from 0) reads."""
        x = symbols[INPUT]
        sample, entry = divmod(index, self.window_positions().shape[0])
        return [x[sample, int(position)] for position in self.window_positions()[entry]]

    def expression(self, names) -> str:
        return f"{self.name}({names[INPUT]})"

    @property
    def remark(self) -> str:
        return f" ({self.kernel_size} × {self.kernel_size} windows, stride {self.stride}, channel by channel)"

    def symbolic_jacobian(self, role: str, symbols, values):
        import sympy

        return sympy.Matrix(self.jacobian(role, values)).applyfunc(sympy.nsimplify)


class MaxPool2d(Pooling):
    """`F.max_pool2d`: the largest entry of each window. The derivative is 1 at the entry chosen, 0 elsewhere;
    where a window's maximum appears more than once (a tie), the first in row-major order is chosen, as
    PyTorch's CPU code does — a kink, where the other common choice is the last one."""

    name = "max_pool2d"
    title = "max pool"

    def choice(self, X: np.ndarray, last: bool = False) -> np.ndarray:
        """The window entry each output takes: the first maximum (or the last)."""
        found = self.window_values(X)
        if last:
            return found.shape[2] - 1 - np.argmax(found[:, :, ::-1], axis=2)
        return np.argmax(found, axis=2)

    def selection(self, X: np.ndarray, last: bool = False) -> np.ndarray:
        count = self.kernel_size**2
        return np.eye(count)[self.choice(X, last)]

    def forward(self, values) -> np.ndarray:
        return self.window_values(values[INPUT]).max(axis=2)

    def entry_equation(self, index: int, symbols):
        import sympy

        return sympy.Max(*self.window_symbols(index, symbols))

    def weights(self, X: np.ndarray) -> np.ndarray:
        # d out[i,r] / d x[i,f] = 1 where f is the window entry chosen as the maximum, else 0
        return self.selection(X)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return (INPUT,)

    def kinks(self, role: str, values) -> np.ndarray:
        """The entries of a window whose maximum appears more than once."""
        X = values[INPUT]
        found = self.window_values(X)
        tops = found == found.max(axis=2, keepdims=True)
        tied = tops & (tops.sum(axis=2, keepdims=True) > 1)
        mask = np.zeros(X.shape, dtype=bool)
        i, r, q = np.nonzero(tied)
        mask[i, self.window_positions()[r, q]] = True
        return mask

    def kink_derivatives(self, role: str, values) -> tuple[np.ndarray, np.ndarray]:
        X = values[INPUT]
        return (self.route(np.ones((X.shape[0], self.window_positions().shape[0])), self.selection(X)),
                self.route(np.ones((X.shape[0], self.window_positions().shape[0])), self.selection(X, last=True)))

    def other_jacobian(self, role: str, values) -> np.ndarray:
        return self.spread(self.selection(values[INPUT], last=True))

    def kink_statement(self, position, variable, output, derivative):
        i, j = position
        return say(
            formula(variable), f" {entry(i, j)} ties for the maximum of a window of ", formula(output),
            ", where the derivative is not defined (nudging either tied entry up picks it). This walkthrough gives "
            "the window's gradient to the first maximum in row-major order, as PyTorch's CPU code does.")

    def kink_note(self, position, names, gradient, values):
        in_force, other = values
        return say(
            "At the tie (", formula(names[INPUT]), f" {entry(*position)}), ", formula(gradient), f" {entry(*position)} "
            f"is {in_force}. Had the last maximum been chosen, it would be {other}.")

    def kink_slip(self, places: str, names) -> str:
        return (f"the last of tied maxima chosen: {names[INPUT]} ties for a window's maximum at {places}; this "
                "walkthrough gives the window's gradient to the first maximum in row-major order, as PyTorch's CPU "
                "code does")

    def shortcut_formula(self, role: str, names, shapes):
        return say("each entry of ", formula(names["upstream"]), " sent to the maximum of its window (zeros elsewhere)")

    def slips(self, role: str, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        shape = self.window_values(values[INPUT]).shape
        count = self.kernel_size**2
        only = "a max pool's gradient goes only to the maximum of each window (1 there, 0 elsewhere)"
        return ((f"max-pool gradient spread over the window, 1/{count} to each entry as for an average pool; {only}",
                 self.spread(np.full(shape, 1.0 / count))),
                (f"max-pool gradient copied to every entry of the window; {only}", self.spread(np.ones(shape))))

    def explanation(self, role: str, names, samples: int):
        return say(
            "Each entry of ", formula(names[OUTPUT]), " is one entry of its window of ", formula(names[INPUT]),
            " — the largest — so its row of the Jacobian holds a single 1 at that entry's column and zeros "
            "elsewhere: a selection matrix. The gradient goes back only to the maxima; every other entry of a "
            "window gets 0, not a share.")


class AvgPool2d(Pooling):
    """`F.avg_pool2d`: the mean of each window, so every window entry has derivative 1/k²."""

    name = "avg_pool2d"
    title = "average pool"

    def forward(self, values) -> np.ndarray:
        return self.window_values(values[INPUT]).mean(axis=2)

    def entry_equation(self, index: int, symbols):
        return sum(self.window_symbols(index, symbols)) / self.kernel_size**2

    def weights(self, X: np.ndarray) -> np.ndarray:
        # d out[i,r] / d x[i,f] = 1/k² for every f in window r
        return np.full(self.window_values(X).shape, 1.0 / self.kernel_size**2)

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return ()

    def shortcut_formula(self, role: str, names, shapes):
        share = format_number(1.0 / self.kernel_size**2, 4)
        return say("each entry of ", formula(names["upstream"]), f" shared out over its window, {share} to every entry")

    def explanation(self, role: str, names, samples: int):
        return say(
            "Each entry of ", formula(names[OUTPUT]), " is the mean of its window of ", formula(names[INPUT]),
            f", so its row of the Jacobian holds 1/{self.kernel_size**2} at the {self.kernel_size**2} columns of "
            "the window and zeros elsewhere: the gradient of a window is shared out equally.")
