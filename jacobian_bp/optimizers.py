"""The optimizers that turn a gradient into an update, one class each, with torch.optim's defaults and semantics.

An optimizer keeps, for every parameter, the state torch.optim keeps (the momentum buffer, the
running averages of the gradient and its square), starting from nothing before the first step.
Each state is a matrix in the shape of its parameter, named `velocity_W1`, `square_avg_W1`,
`exp_avg_W1`, `exp_avg_sq_W1` (with `@t` from the second training step on), and shown like every
other quantity. Adding an optimizer is one class and one entry in `OPTIMIZERS`.
"""

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .sentences import Sentence, math, say

State = Mapping[str, np.ndarray]  # by state name (`velocity`), in the parameter's shape


class Optimizer:
    """One rule `new parameter = f(parameter, gradient, state, step t)`; the state starts empty before step 1."""

    name: ClassVar[str]  # as written under `[optimizer]`
    title: ClassVar[str]  # as named in prose
    settings: ClassVar[dict[str, float | tuple[float, ...]]] = {}  # PyTorch's argument names and defaults
    state_names: ClassVar[tuple[str, ...]] = ()  # the state it keeps per parameter, in the order it updates them

    def __init__(self, **settings):
        for key, default in self.settings.items():
            setattr(self, key, settings.get(key, default))

    def step(self, t: int, parameter: np.ndarray, gradient: np.ndarray, state: State,
             learning_rate: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The parameter after training step `t` (from 1) and the new state, from the state of step t − 1."""
        raise NotImplementedError

    def formulas(self, t: int, names: Mapping[str, str], rate: str) -> tuple[Sentence, ...]:
        """The update of step `t` written out: one line per state, then the parameter's.

        `names` holds `parameter`, `gradient`, `updated` and every state name, new and `previous_…`.
        """
        raise NotImplementedError

    def describe(self, rate: str) -> Sentence:
        """The optimizer and its settings in one sentence, for the update page."""
        raise NotImplementedError

    def slips(self) -> tuple[tuple[str, "Optimizer"], ...]:
        """Common mistakes with this optimizer, each as what the slip report says and an optimizer that makes it."""
        return ()

    def torch_call(self) -> tuple[str, dict]:
        """The torch.optim class that takes the same step, and its arguments besides the parameters and `lr`."""
        return self.title, {key: getattr(self, key) for key in self.settings}

    def settings_text(self) -> str:
        return ", ".join(f"{key} = {_number(getattr(self, key))}" for key in self.settings)


def _number(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{entry:g}" for entry in value) + ")"
    return f"{value:g}"


class SGD(Optimizer):
    """Plain gradient descent: `new = old − learning_rate · gradient`, with no state."""

    name = "sgd"
    title = "SGD"

    def step(self, t, parameter, gradient, state, learning_rate):
        return parameter - learning_rate * gradient, {}

    def formulas(self, t, names, rate):
        return (say(math(f"{names['updated']} = {names['parameter']} − {rate} · {names['gradient']}")),)

    def describe(self, rate):
        return say("Plain SGD: each parameter moves against its gradient, scaled by the learning rate ",
                   math(rate), ".")


class Momentum(Optimizer):
    """SGD with momentum as torch.optim.SGD keeps it: the velocity starts as the first gradient itself,
    then `v = momentum · v + (1 − dampening) · g`, and `new = old − learning_rate · v`."""

    name = "momentum"
    title = "SGD with momentum"
    settings = {"momentum": 0.9, "dampening": 0.0}
    state_names = ("velocity",)

    def torch_call(self) -> tuple[str, dict]:
        return "SGD", {"momentum": self.momentum, "dampening": self.dampening}

    def slips(self):
        return (("momentum applied to the gradient instead of the velocity: this is v = momentum · g + v before; "
                 "the velocity is v = momentum · v before + g, and the first velocity is the gradient itself",
                 MomentumOnTheGradient(momentum=self.momentum, dampening=self.dampening)),)

    def step(self, t, parameter, gradient, state, learning_rate):
        if "velocity" not in state:  # torch.optim.SGD's buffer is a copy of the first gradient, not 0
            velocity = gradient.copy()
        else:
            velocity = self.momentum * state["velocity"] + (1.0 - self.dampening) * gradient
        return parameter - learning_rate * velocity, {"velocity": velocity}

    def formulas(self, t, names, rate):
        if "previous_velocity" not in names:
            first = say(math(f"{names['velocity']} = {names['gradient']}"), " (the first velocity is the gradient "
                        "itself, as torch.optim.SGD keeps it)")
        else:
            share = "" if self.dampening == 0 else f"{_number(1 - self.dampening)} · "
            first = say(math(f"{names['velocity']} = {_number(self.momentum)} · {names['previous_velocity']} + "
                             f"{share}{names['gradient']}"))
        return first, say(math(f"{names['updated']} = {names['parameter']} − {rate} · {names['velocity']}"))

    def describe(self, rate):
        return say("SGD with momentum (", math(self.settings_text()), "), as torch.optim.SGD: the velocity is a "
                   "running sum of gradients, each older one weighted by momentum once more; the parameter moves "
                   "against the velocity, not against the gradient.")


class RMSprop(Optimizer):
    """torch.optim.RMSprop: `s = alpha · s + (1 − alpha) · g²` from s = 0, `new = old − lr · g / (√s + eps)`."""

    name = "rmsprop"
    title = "RMSprop"
    settings = {"alpha": 0.99, "eps": 1e-8}
    state_names = ("square_avg",)

    def step(self, t, parameter, gradient, state, learning_rate):
        square_avg = self.alpha * state.get("square_avg", np.zeros_like(gradient)) + (1 - self.alpha) * gradient**2
        return parameter - learning_rate * gradient / (np.sqrt(square_avg) + self.eps), {"square_avg": square_avg}

    def formulas(self, t, names, rate):
        previous = names.get("previous_square_avg", "0")
        return (say(math(f"{names['square_avg']} = {_number(self.alpha)} · {previous} + {_number(1 - self.alpha)} · "
                         f"{names['gradient']}²")),
                say(math(f"{names['updated']} = {names['parameter']} − {rate} · {names['gradient']} / "
                         f"(√{names['square_avg']} + {_number(self.eps)})")))

    def describe(self, rate):
        return say("RMSprop (", math(self.settings_text()), "), as torch.optim.RMSprop: each entry's step is "
                   "divided by the root of a running mean of its squared gradients, eps added after the root.")


class Adam(Optimizer):
    """torch.optim.Adam: running means of g and g² from 0, each divided by its bias correction 1 − β^t;
    `new = old − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)`, eps added after the root."""

    name = "adam"
    title = "Adam"
    settings = {"betas": (0.9, 0.999), "eps": 1e-8}
    state_names = ("exp_avg", "exp_avg_sq")

    def corrections(self, t: int) -> tuple[float, float]:
        """The bias corrections 1 − β1^t and 1 − β2^t of step t."""
        beta1, beta2 = self.betas
        return 1 - beta1**t, 1 - beta2**t

    def slips(self):
        return (("Adam without bias correction: exp_avg and exp_avg_sq start at 0, so torch.optim.Adam divides them "
                 "by 1 − β1^t and 1 − β2^t (the step size lr / (1 − β1^t), the root divided by √(1 − β2^t))",
                 AdamWithoutBiasCorrection(betas=self.betas, eps=self.eps)),)

    def step(self, t, parameter, gradient, state, learning_rate):
        beta1, beta2 = self.betas
        exp_avg = beta1 * state.get("exp_avg", np.zeros_like(gradient)) + (1 - beta1) * gradient
        exp_avg_sq = beta2 * state.get("exp_avg_sq", np.zeros_like(gradient)) + (1 - beta2) * gradient**2
        first, second = self.corrections(t)
        denominator = np.sqrt(exp_avg_sq) / np.sqrt(second) + self.eps
        return parameter - learning_rate / first * exp_avg / denominator, {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}

    def formulas(self, t, names, rate):
        beta1, beta2 = self.betas
        first, second = self.corrections(t)
        return (say(math(f"{names['exp_avg']} = {beta1:g} · {names.get('previous_exp_avg', '0')} + {1 - beta1:g} · "
                         f"{names['gradient']}")),
                say(math(f"{names['exp_avg_sq']} = {beta2:g} · {names.get('previous_exp_avg_sq', '0')} + "
                         f"{1 - beta2:g} · {names['gradient']}²")),
                say(math(f"{names['updated']} = {names['parameter']} − {rate} / {first:.6g} · {names['exp_avg']} / "
                         f"(√{names['exp_avg_sq']} / √{second:.6g} + {self.eps:g})")))

    def describe(self, rate):
        return say("Adam (", math(self.settings_text()), "), as torch.optim.Adam: running means of the gradient ",
                   "and of its square, both started at 0 and so divided by their bias corrections ",
                   math("1 − β1^t"), " and ", math("1 − β2^t"), "; eps is added after the root.")


class MomentumOnTheGradient(Momentum):
    """A slip, not an optimizer to use: momentum multiplies the new gradient instead of the velocity before."""

    def step(self, t, parameter, gradient, state, learning_rate):
        velocity = self.momentum * gradient + state.get("velocity", np.zeros_like(gradient))
        return parameter - learning_rate * velocity, {"velocity": velocity}


class AdamWithoutBiasCorrection(Adam):
    """A slip, not an optimizer to use: Adam with its running means taken as they are."""

    def corrections(self, t: int) -> tuple[float, float]:
        return 1.0, 1.0


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam)}


def state_name(state: str, parameter: str, suffix: str = "") -> str:
    """`velocity_W1`, or `exp_avg_sq_W2@3` from the third training step on."""
    return f"{state}_{parameter}{suffix}"


__all__ = ["OPTIMIZERS", "SGD", "Adam", "Momentum", "Optimizer", "RMSprop", "state_name"]
