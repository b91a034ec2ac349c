"""What the image and sequence ops share: a sample's row seen as its picture, and the sliding windows over it.

A sample's image (channels × height × width) or sequence (channels × length) is one row of its
variable, flattened row-major as PyTorch's `(C, H, W)` / `(C, L)`; `in_shape` says how to fold it.
Windows are taken with numpy's strided views, so nothing loops over entries.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..sentences import math as formula
from ..sentences import say
from .base import INPUT, OUTPUT, Op


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many windows fit along one axis: `⌊(size + 2·padding − kernel) / stride⌋ + 1`, as PyTorch."""
    return (size + 2 * padding - kernel) // stride + 1


def pad(x: np.ndarray, padding: int, value: float = 0.0) -> np.ndarray:
    """`x` (samples, channels, *spatial) with `padding` entries of `value` on both sides of every spatial axis."""
    return np.pad(x, [(0, 0), (0, 0)] + [(padding, padding)] * (x.ndim - 2), constant_values=value)


def windows(x: np.ndarray, kernel: int | tuple[int, ...], stride: int) -> np.ndarray:
    """Every window of `x` (samples, channels, *spatial), `stride` apart: (samples, channels, *out, *kernel).

    `kernel` is the window's size along every spatial axis (one number for a square window)."""
    spatial = x.ndim - 2
    sizes = (kernel,) * spatial if isinstance(kernel, int) else kernel
    view = sliding_window_view(x, sizes, axis=tuple(range(2, 2 + spatial)))
    return view[(slice(None), slice(None)) + (slice(None, None, stride),) * spatial]


def unfold(x: np.ndarray, kernel: int | tuple[int, ...], stride: int) -> np.ndarray:
    """im2col: one row per window position, the window's entries (channel, then row-major) along it.

    From `x` (samples, channels, *spatial) to (samples, positions, channels · kernel^d).
    """
    patches = windows(x, kernel, stride)
    samples, channels = patches.shape[:2]
    spatial = (patches.ndim - 2) // 2
    order = (0, *range(2, 2 + spatial), 1, *range(2 + spatial, 2 + 2 * spatial))
    return patches.transpose(order).reshape(samples, -1, channels * math.prod(patches.shape[2 + spatial:]))


def correlate(x: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """Cross-correlation (PyTorch's "convolution"): `x` (samples, in, *spatial), `kernel` (out, in, *k).

    Returns (samples, out, *positions): each output entry is a window of `x` times the kernel, summed.
    """
    k = kernel.shape[2:]
    sizes = [output_size(size, width, stride, 0) for size, width in zip(x.shape[2:], k, strict=True)]
    products = np.einsum("spq,oq->sop", unfold(x, k, stride), kernel.reshape(kernel.shape[0], -1))
    return products.reshape(x.shape[0], kernel.shape[0], *sizes)


def dilate(x: np.ndarray, stride: int) -> np.ndarray:
    """`x` (samples, channels, *spatial) with `stride − 1` zeros between neighbouring entries of every spatial axis."""
    spatial = x.ndim - 2
    shape = x.shape[:2] + tuple((size - 1) * stride + 1 for size in x.shape[2:])
    spread = np.zeros(shape)
    spread[(slice(None), slice(None)) + (slice(None, None, stride),) * spatial] = x
    return spread


def window_indices(image: tuple[int, ...], kernel: int, stride: int, padding: int) -> np.ndarray:
    """For every window position (rows) and every entry of its window (columns, channel then row-major), the
    position of that entry in a sample's row, or −1 where the window lies on the zero padding."""
    positions = np.arange(math.prod(image)).reshape(1, *image)
    return unfold(pad(positions, padding, value=-1), kernel, stride)[0]


def describe(image: tuple[int, ...]) -> str:
    """`1 × 5 × 5`."""
    return " × ".join(str(size) for size in image)


class ImageOp(Op):
    """An op that reads each sample's row as a picture of `in_shape` (channels, *spatial), with windows of
    `kernel_size`, `stride` apart; `spatial` is 1 for sequences and 2 for images."""

    spatial: int
    needs_image = True

    def __init__(self, in_shape=None, kernel_size: int | None = None, stride: int | None = None, padding: int = 0):
        self.in_shape = tuple(in_shape) if in_shape is not None else None
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def constants(self, values, names) -> tuple:
        sides = " × ".join(["k"] * self.spatial)
        return (say(formula(names[OUTPUT]), " reads each sample's row of ", formula(names[INPUT]), " as a ",
                    formula(describe(self.in_shape)), " picture (channels × ",
                    "length" if self.spatial == 1 else "height × width", f"), with windows of {sides} = ",
                    formula(describe((self.kernel_size,) * self.spatial)), f", stride {self.stride}",
                    f", zero padding {self.padding}." if self.padding else ", no padding."),)

    def image_problem(self) -> str | None:
        """Why `in_shape` does not suit the op (wrong number of axes), or None."""
        if len(self.in_shape) != self.spatial + 1:
            axes = "channels × length" if self.spatial == 1 else "channels × height × width"
            return f"expected {self.spatial + 1} numbers ({axes}), found {describe(self.in_shape)}"
        return None

    def out_spatial(self) -> tuple[int, ...]:
        return tuple(output_size(size, self.kernel_size, self.stride, self.padding) for size in self.in_shape[1:])

    def out_channels_count(self) -> int:
        return self.in_shape[0]

    def output_image(self, image: tuple[int, ...] | None) -> tuple[int, ...]:
        return (self.out_channels_count(), *self.out_spatial())

    def check_shapes(self, shapes) -> tuple[str, str] | None:
        problem = self.image_problem()
        if problem:
            return "in_shape", problem
        features = shapes[INPUT][1]
        if features != math.prod(self.in_shape):
            return "in_shape", (f"{describe(self.in_shape)} has {math.prod(self.in_shape)} entries, but each sample "
                                f"of its input has {features}")
        smallest = min(self.in_shape[1:]) + 2 * self.padding
        if self.kernel_size > smallest:
            return "kernel_size", (f"a window of {self.kernel_size} does not fit in the (padded) input of "
                                   f"{describe(self.in_shape)}")
        return None

    def output_shape(self, shapes) -> tuple[int, int]:
        return shapes[INPUT][0], self.out_channels_count() * math.prod(self.out_spatial())

    def torch_picture(self, name: str) -> str:
        """The PyTorch expression of a variable's rows folded into pictures (samples, channels, *spatial)."""
        return f"{name}.reshape(-1, {', '.join(map(str, self.in_shape))})"

    def picture(self, row: np.ndarray) -> np.ndarray:
        """Samples' rows (samples, features) folded into pictures (samples, channels, *spatial)."""
        return row.reshape(row.shape[0], *self.in_shape)
