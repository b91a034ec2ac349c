"""Convolutions `conv1d` and `conv2d`: PyTorch's cross-correlation of each sample's picture with a kernel.

The kernel `K` (out_channels × in_channels × k (× k)) is kept as a matrix of one filter per row,
unrolled row-major (out_channels × in_channels·k·k): its vec is the vec of the 4-D kernel, and the
forward pass is then one matrix product with the unfolded input patches (im2col).
"""

import math

import numpy as np

from .. import tomlinput
from ..numbers import format_number
from ..sentences import math as formula
from ..sentences import say
from .base import INPUT, OUTPUT
from .images import ImageOp, correlate, describe, dilate, pad, unfold, window_indices


def ordinal(number: int) -> str:
    """`2nd`, `3rd`, `4th`, `11th`, `21st`."""
    ending = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{ending}"


class Convolution(ImageOp):
    """A convolution over `spatial` axes; `K` is out_channels × (in_channels · k^spatial), `c` one bias per channel.

    Its Jacobians, one block per sample (samples never mix):
    - d out / d in: the kernel's weights placed at the columns of each window — a Toeplitz matrix for
      a sequence, doubly block Toeplitz for an image (constant along diagonals, blocks constant along
      block diagonals), with zero columns wherever a window lies on the padding;
    - d out / d K: the unfolded input patches (im2col), one copy per output channel;
    - d out / d c: ones, summing over the positions of each channel.
    """

    parameter_letters = ("K", "c")
    options = {"out_channels": int, "kernel_size": int, "stride": int, "padding": int, "in_shape": tuple,
               "bias": bool}
    option_minimum = {"padding": 0}
    required = ("out_channels", "kernel_size")
    needs_image = True
    penalized = ("K",)
    row_parameters = ("c",)
    same_in_columns = ("K",)  # out × (in·k·k) like a dense layer's W, with samples as rows or as columns

    def __init__(self, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0, in_shape=None,
                 bias: bool = True):
        super().__init__(in_shape, kernel_size, stride, padding)
        self.out_channels, self.bias = out_channels, bias

    @classmethod
    def implied_options(cls, table: dict) -> dict:
        """`out_channels` and `kernel_size` read off a kernel written as nested lists (out × in × k (× k)), and
        `out_channels` off one unrolled into rows (one filter per row)."""
        kernel = table.get("K")
        if isinstance(kernel, list) and kernel and isinstance(kernel[0], list) and kernel[0] \
                and isinstance(kernel[0][0], list):
            return {"out_channels": len(kernel), "kernel_size": len(kernel[0][0])}
        if isinstance(kernel, list) and kernel and isinstance(kernel[0], list):
            return {"out_channels": len(kernel)}
        return {}

    @classmethod
    def missing(cls, key: str, table: dict) -> tuple[str, str]:
        """A kernel given but empty or unrolled says why its size is missing."""
        layout = f"out_channels × in_channels × k{' × k' * (cls.spatial == 2)}"
        kernel = table.get("K")
        if "K" in table and (not isinstance(kernel, list) or not kernel or not isinstance(kernel[0], list)
                             or not kernel[0]):
            return "K", f"expected nested lists of {layout}, found {tomlinput.describe(kernel)}"
        if "K" in table:
            return key, (f"missing: K is written unrolled (one filter per row), which does not show the kernel's "
                         f"size; give {key}, or write K nested ({layout})")
        return key, f"missing (or give the kernel K, nested {layout}, which shows it)"

    def parameter_roles(self) -> tuple[str, ...]:
        return self.parameter_letters if self.bias else ("K",)

    def filter_size(self) -> int:
        """The entries of one filter: in_channels · k^spatial."""
        return self.in_shape[0] * self.kernel_size**self.spatial

    def parameter_shapes(self, shapes) -> dict[str, tuple[int, int]]:
        return {"K": (self.out_channels, self.filter_size()), "c": (1, self.out_channels)}

    def parameter_layout(self, role: str) -> tuple[int, ...] | None:
        return (self.out_channels, self.in_shape[0], *(self.kernel_size,) * self.spatial) if role == "K" else None

    def parameter_hint(self, role: str) -> str:
        square = " × k" if self.spatial == 2 else ""
        return f"out_channels × in_channels × k{square}" if role == "K" else "one per output channel"

    def initialize(self, role: str, shapes, rng: "np.random.Generator") -> np.ndarray:
        """Uniform in ±1/√(in_channels · k^d), PyTorch's default bound (numpy's generator, so not PyTorch's numbers)."""
        bound = 1.0 / math.sqrt(self.filter_size())
        return rng.uniform(-bound, bound, size=self.parameter_shapes(shapes)[role])

    def initialization(self, role: str):
        square = "²" if self.spatial == 2 else ""
        bound = format_number(1.0 / math.sqrt(self.filter_size()), 4)
        return say("uniform in ", formula(f"±1/√(in_channels · k{square}) = ±{bound}"),
                   f", the default of torch.nn.{self.name.capitalize()}"), True

    def out_channels_count(self) -> int:
        return self.out_channels

    def check_shapes(self, shapes) -> tuple[str, str] | None:
        problem = super().check_shapes(shapes)
        if problem is None and shapes["K"] != self.parameter_shapes(shapes)["K"]:
            return "K", f"expected {describe(self.parameter_layout('K'))}"
        return problem

    def kernel(self, K: np.ndarray) -> np.ndarray:
        """The 4-D (or 3-D) kernel out × in × k (× k) from its unrolled rows."""
        return K.reshape(self.parameter_layout("K"))

    def torch_expression(self, names) -> str:
        layout = ", ".join(map(str, self.parameter_layout("K")))
        bias = f"{names['c']}.reshape(-1)" if self.bias else "None"
        return (f"F.{self.name}({self.torch_picture(names[INPUT])}, {names['K']}.reshape({layout}), {bias}, "
                f"stride={self.stride}, padding={self.padding}).reshape({names[INPUT]}.shape[0], -1)")

    def positions(self) -> int:
        return math.prod(self.out_spatial())

    def forward(self, values) -> np.ndarray:
        X = values[INPUT]
        out = correlate(pad(self.picture(X), self.padding), self.kernel(values["K"]), self.stride)
        out = out.reshape(X.shape[0], self.out_channels, -1)
        if self.bias:
            out = out + values["c"].reshape(1, -1, 1)
        return out.reshape(X.shape[0], -1)

    def jacobian(self, role: str, values) -> np.ndarray:
        X = values[INPUT]
        samples, positions = X.shape[0], self.positions()
        if role == INPUT:
            # d out[i,(o,p)] / d x[i',f] = δ(i,i') · K[o,q] where entry q of window p is input entry f
            indices = window_indices(self.in_shape, self.kernel_size, self.stride, self.padding)
            block = np.zeros((self.out_channels, positions, X.shape[1] + 1))  # the last column collects the padding
            o, p, q = np.ix_(range(self.out_channels), range(positions), range(indices.shape[1]))
            np.add.at(block, (o, p, indices[p, q]), values["K"][o, q])
            return np.kron(np.eye(samples), block[:, :, :-1].reshape(self.out_channels * positions, X.shape[1]))
        if role == "K":
            # d out[i,(o,p)] / d K[o',q] = δ(o,o') · patch[i,p,q]: the im2col patches, once per output channel
            patches = unfold(pad(self.picture(X), self.padding), self.kernel_size, self.stride)
            blocks = np.einsum("ipq,ab->iapbq", patches, np.eye(self.out_channels))
            return blocks.reshape(samples * self.out_channels * positions, self.out_channels * self.filter_size())
        # d out[i,(o,p)] / d c[o'] = δ(o,o'): ones down each channel's positions, for every sample
        return np.tile(np.kron(np.eye(self.out_channels), np.ones((positions, 1))), (samples, 1))

    def jacobian_reads(self, role: str) -> tuple[str, ...]:
        return {INPUT: ("K",), "K": (INPUT,), "c": ()}[role]

    def shortcut(self, role: str, upstream: np.ndarray, values) -> np.ndarray:
        samples = upstream.shape[0]
        gradient = upstream.reshape(samples, self.out_channels, *self.out_spatial())
        if role == INPUT:
            return self.full_convolution(gradient, self.kernel(values["K"])).reshape(samples, -1)
        if role == "K":
            return self.kernel_gradient(self.picture(values[INPUT]), gradient).reshape(self.out_channels, -1)
        return gradient.reshape(samples, self.out_channels, -1).sum(axis=(0, 2)).reshape(1, -1)

    def full_convolution(self, gradient: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """dJ/dIn: the gradient (spread `stride` apart) padded by k − 1 and correlated with the kernel rotated
        by 180° (channels swapped), then cut to the input (the padding removed)."""
        k, spatial = self.kernel_size, self.spatial
        spread = dilate(gradient, self.stride)
        # rows and columns no window reached get zeros, so that the result covers the whole padded input
        missed = [size + 2 * self.padding - ((out - 1) * self.stride + k) for size, out in
                  zip(self.in_shape[1:], self.out_spatial(), strict=True)]
        spread = np.pad(spread, [(0, 0), (0, 0)] + [(k - 1, k - 1 + extra) for extra in missed])
        rotated = np.flip(kernel, axis=tuple(range(2, 2 + spatial))).swapaxes(0, 1)
        full = correlate(spread, rotated)
        inside = tuple(slice(self.padding, self.padding + size) for size in self.in_shape[1:])
        return full[(slice(None), slice(None)) + inside]

    def kernel_gradient(self, picture: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """dJ/dK: the padded input correlated with dJ/dOut (spread `stride` apart), samples summed."""
        padded = pad(picture, self.padding).swapaxes(0, 1)  # samples become the channels that are summed
        found = correlate(padded, dilate(gradient, self.stride).swapaxes(0, 1))
        kept = (slice(None), slice(None)) + (slice(0, self.kernel_size),) * self.spatial
        return found[kept].swapaxes(0, 1)

    def shortcut_formula(self, role: str, names, shapes):
        upstream = names["upstream"]
        if role == INPUT:
            K = formula(names["K"])
            if self.stride == 1:
                return say(formula(f"{upstream} ⋆ rot180({names['K']})"), " (the full cross-correlation, padded by "
                           "k − 1, with ", K, " turned by 180°: the full convolution with ", K, ")")
            return say(formula(f"dilate({upstream}, {self.stride}) ⋆ rot180({names['K']})"), " (",
                       formula(upstream), f" with stride − 1 = {self.stride - 1} zero{'s' * (self.stride > 2)} "
                       "inserted between neighbouring entries, then the full cross-correlation with ", K,
                       " turned by 180°: the full convolution with ", K, ")")
        if role == "K":
            return say(formula(f"{names[INPUT]} ⋆ {upstream}"),
                       " (the input correlated with the gradient, summed over samples)")
        return say("sums of ", formula(upstream), " over samples and positions, channel by channel")

    def expression(self, names) -> str:
        bias = f" + {names['c']}" if self.bias else ""
        return f"{names[INPUT]} ⋆ {names['K']}{bias}"

    @property
    def remark(self) -> str:
        padding = f", padding {self.padding}" if self.padding else ""
        return f" (cross-correlation, stride {self.stride}{padding})"

    def explanation(self, role: str, names, samples: int):
        from ..conventions import DEFAULT

        return self.written_explanation(role, names, samples, DEFAULT)

    def written_explanation(self, role: str, names, samples: int, conventions):
        """In the denominator layout an entry of the output is a column of the Jacobian, and the upstream
        gradient a column."""
        out, x, K = names[OUTPUT], names[INPUT], names["K"]
        mine, theirs = conventions.lines
        if role == INPUT:
            shape = "Toeplitz" if self.spatial == 1 else "doubly block Toeplitz"
            blocks = "" if self.spatial == 1 else ", and block by block"
            stride = self.stride
            if stride == 1:
                sliding = say("Sliding the window shifts the same weights along: each sample's block is ", shape,
                              f" (constant along its diagonals{blocks}), and samples stay apart.")
                product = say("the full convolution of ", formula(names["upstream"]), " with ", formula(K))
            else:
                sliding = say(f"Sliding the window by the stride {stride} shifts the same weights along by {stride} "
                              f"{theirs}s from one {mine} to the next: each sample's block is a strided (decimated) ",
                              shape, f" matrix, every {ordinal(stride)} {mine} of the {shape} one of stride 1", blocks,
                              ", and samples stay apart.")
                product = say("the full convolution with ", formula(K), " of ", formula(names["upstream"]),
                              f" dilated by the stride (stride − 1 = {stride - 1} zero{'s' * (stride > 2)} between "
                              "neighbouring entries)")
            return say(
                "Each entry of ", formula(out), " is one window of ", formula(x), " times a filter of ", formula(K),
                f", so its {mine} of the Jacobian holds that filter's weights at the {theirs}s of the window and "
                "zeros elsewhere. ", sliding, f" Multiplying a {conventions.flat} by it is the transposed "
                "convolution: ", product, ", a cross-correlation with ", formula(K), " turned by 180° — the rot180 "
                "is the transpose of the Toeplitz matrix, while the forward pass correlates with ", formula(K),
                " as it is.",
                conventions.blocks_note())
        if role == "K":
            return say(
                "Entry (sample, channel o, position p) of ", formula(out), " uses only filter o of ", formula(K),
                ", times the window of ", formula(x), " at p. So the Jacobian holds the unfolded input patches "
                f"(im2col), one patch per {mine}, once for every output channel, shifted along.",
                conventions.blocks_note())
        return say(formula(names["c"]), " adds channel o's bias at every position of channel o of every sample, "
                   "so the Jacobian stacks ones, and multiplying by it sums ", formula(names["upstream"]),
                   " over samples and positions.")

    def turned(self, K: np.ndarray) -> np.ndarray:
        """Every filter of `K` turned by 180° (flipped along each spatial axis), kept as unrolled rows."""
        return np.flip(self.kernel(K), axis=tuple(range(2, 2 + self.spatial))).reshape(K.shape)

    def slips(self, role: str, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        if role != INPUT:
            return ()
        out, K = names[OUTPUT], names["K"]
        return ((f"kernel not turned by 180° (or turned twice) in dJ/d{names[INPUT]}: this is dJ/d{out} fully "
                 f"cross-correlated with {K} as it is; the transpose of the Toeplitz matrix is the full "
                 f"cross-correlation with {K} turned by 180° (the full convolution with {K})",
                 self.jacobian(INPUT, {**values, "K": self.turned(values["K"])})),)

    def forward_slips(self, values, names) -> tuple[tuple[str, np.ndarray], ...]:
        K = names["K"]
        return ((f"{K} turned by 180° in the forward pass (a convolution as in signal processing); PyTorch's "
                 f"{self.name} is a cross-correlation: the kernel slides over the input as it is",
                 self.forward({**values, "K": self.turned(values["K"])})),)

    def symbolic_forward(self, symbols):
        import sympy

        x, K = symbols[INPUT], symbols["K"]
        indices = window_indices(self.in_shape, self.kernel_size, self.stride, self.padding)
        positions = indices.shape[0]

        def entry(i: int, column: int):
            o, p = divmod(column, positions)
            total = sum((K[o, q] * x[i, f] for q, f in enumerate(indices[p]) if f >= 0), sympy.Integer(0))
            return total + symbols["c"][0, o] if self.bias else total

        return sympy.Matrix(x.rows, self.out_channels * positions, entry)


class Conv1d(Convolution):
    """`F.conv1d`: each sample's row is a sequence of channels × length."""

    name = "conv1d"
    title = "conv1d"
    spatial = 1


class Conv2d(Convolution):
    """`F.conv2d`: each sample's row is an image of channels × height × width."""

    name = "conv2d"
    title = "conv2d"
    spatial = 2

