"""The ops of the computational graph, one class each, and their registries.

Adding an op is one class plus one entry in `OPS` (and in `ACTIVATIONS` or `LOSSES` for the
short `[[layers]]` form); `tests/test_registry.py` names the piece a new one lacks.
"""

from .activations import (
    ELU,
    GELU,
    Activation,
    Elementwise,
    Identity,
    LeakyReLU,
    PiecewiseLinear,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .base import INPUT, OUTPUT, TARGETS, Op, input_roles
from .combine import Add, Concat
from .convolution import Conv1d, Conv2d, Convolution
from .cost import PENALTY, REDUCTIONS, L2Penalty, MeanCost
from .dense import Dense
from .dropout import Dropout
from .losses import (
    L1,
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    CrossEntropyWithLogits,
    HalfSquaredError,
    Huber,
    Loss,
    MeanSquaredError,
)
from .normalization import BatchNorm, LayerNorm, Normalization
from .pooling import AvgPool2d, MaxPool2d, Pooling

ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Identity, GELU, ELU, Softplus)}
LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (BinaryCrossEntropy, MeanSquaredError, CrossEntropy, BinaryCrossEntropyWithLogits,
                              CrossEntropyWithLogits, HalfSquaredError, L1, Huber)}
# The ops a `[[nodes]]` table may name; losses, the cost and the penalty come from top-level keys.
OPS: dict[str, type[Op]] = {
    "dense": Dense, **ACTIVATIONS, "add": Add, "concat": Concat,
    **{cls.name: cls for cls in (Conv1d, Conv2d, MaxPool2d, AvgPool2d, BatchNorm, LayerNorm, Dropout)}}

__all__ = ["ACTIVATIONS", "INPUT", "LOSSES", "OPS", "OUTPUT", "PENALTY", "REDUCTIONS", "TARGETS", "Activation", "Add",
           "AvgPool2d", "BatchNorm", "Concat", "Conv1d", "Conv2d", "Convolution", "Dense", "Dropout", "Elementwise",
           "L2Penalty", "LayerNorm", "Loss", "MaxPool2d", "MeanCost", "Normalization", "Op", "PiecewiseLinear",
           "Pooling", "input_roles"]
