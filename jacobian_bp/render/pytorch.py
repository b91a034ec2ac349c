"""`walkthrough NAME --format pytorch`: a standalone PyTorch script that redoes the walkthrough and checks it.

The script builds the same graph in float64, one line per node from the op's own
`torch_expression`, and runs every training step: the forward pass, the backward pass (`J.backward()`)
and the optimizer's update (plain SGD written out, or torch.optim); then the cost after the last update.
It prints every variable, gradient and updated parameter of every step, and J_final, next to this tool's
value with a ✓ where they agree (to 1e-9 relative). It needs only PyTorch; this module never imports it.
"""

import builtins
import keyword
import re

import numpy as np

from ..chain import gradient_name
from ..conventions import DEFAULT
from ..errors import InputError
from ..graph import COST
from ..optimizers import SGD
from ..solution import FINAL_COST, Solution

# Names the script uses for itself, which a variable must not shadow (nor a builtin such as max or print).
RESERVED = {"torch", "F", "sys", "DECIMALS", "STEPS", "EXPECTED", "COMPUTED", "OPTIMIZER", "step", "at", "shown",
            "compare", *dir(builtins)}


def identifiers(names) -> dict[str, str]:
    """A Python name for each name, unique and shadowing nothing: the name itself where it can be, else with
    characters Python does not allow made `_` and a `_` added until it is free (`lambda` → `lambda_`, and a
    `lambda_` of its own then → `lambda__`).

    >>> identifiers(["lambda_", "lambda", "max", "W1"])
    {'lambda_': 'lambda_', 'lambda': 'lambda__', 'max': 'max_', 'W1': 'W1'}
    """
    names = list(dict.fromkeys(names))
    taken = set(RESERVED) | {name for name in names if _usable(name)}
    chosen = {}
    for name in names:
        if _usable(name):
            chosen[name] = name
            continue
        candidate = re.sub(r"\W", "_", name)
        candidate = candidate if candidate[:1].isalpha() or candidate[:1] == "_" else f"_{candidate}"
        candidate += "_"
        while candidate in taken or keyword.iskeyword(candidate):
            candidate += "_"
        taken.add(candidate)
        chosen[name] = candidate
    return chosen


def _usable(name: str) -> bool:
    """Whether a name can be the script's Python name as it is."""
    return name.isidentifier() and not keyword.iskeyword(name) and name not in RESERVED


def _one_line(text: str) -> str:
    """`text` for a comment of the script: one line, its whitespace runs made single spaces."""
    return " ".join(text.split())


def _literal(value) -> str:
    """A matrix as a nested Python list with every float written exactly."""
    rows = np.atleast_2d(np.asarray(value, dtype=float))
    return "[" + ", ".join("[" + ", ".join(repr(float(x) + 0.0) for x in row) + "]" for row in rows) + "]"


def _forward_lines(solution: Solution, identifier: dict[str, str]) -> list[str]:
    """One assignment per node, from the op's PyTorch expression of the node's variables."""
    lines = []
    for node in solution.graph.nodes:
        names = {role: identifier[variable] for role, variable in node.roles.items()}
        try:
            expression = node.op.torch_expression(names)
        except NotImplementedError:
            raise InputError(f"{solution.walkthrough.name}: the op {node.op.name!r} (node {node.output}) has no "
                             "PyTorch form yet, so --format pytorch cannot write this walkthrough") from None
        lines.append(f"{identifier[node.output]} = {expression}")
    return lines


def _update_lines(solution: Solution, identifier) -> tuple[list[str], list[str]]:
    """The optimizer made before the loop (none for plain SGD), and one training step's update inside it: plain
    SGD written out, or the walkthrough's torch.optim optimizer stepped; both change the parameters in place, and
    frozen ones keep their value."""
    walkthrough, updates = solution.walkthrough, solution.updates
    optimizer = walkthrough.optimizer
    trained = [update for update in updates if not update.frozen]
    kept = [f"# {identifier(update.parameter)} is frozen: it keeps its value" for update in updates if update.frozen]
    if isinstance(optimizer, SGD):
        return [], [f"# One SGD step with learning rate {walkthrough.learning_rate!r}", *kept,
                    "with torch.no_grad():",
                    *(f"    {identifier(update.parameter)} -= {update.learning_rate!r} * "
                      f"{identifier(update.parameter)}.grad" for update in trained)]
    call, settings = optimizer.torch_call()
    arguments = ", ".join([f"lr={walkthrough.learning_rate!r}",
                           *(f"{key}={value!r}" for key, value in settings.items())])
    return (["# The optimizer, made once: it keeps its state from one training step to the next",
             f"OPTIMIZER = torch.optim.{call}([{', '.join(identifier(update.parameter) for update in trained)}], "
             f"{arguments})"],
            [f"# One step of torch.optim.{call}", *kept, "OPTIMIZER.step()"])


def _recorded(names: dict[str, str]) -> list[str]:
    """Lines that keep a copy of each value under its quantity's name, with this training step's `@t`."""
    return ["COMPUTED.update({", *(f"    {name!r} + at: {expression}.detach().clone()," for name, expression
                                   in names.items()), "})"]


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" if line else line for line in lines]


def render(solution: Solution, decimals: int) -> str:
    """The script's text for `solution`, printing values to `decimals` places (as computed: samples as rows, as
    PyTorch computes, whatever conventions the walkthrough is written in; a line of the header says so)."""
    conventions, solution = solution.conventions, solution.computed
    walkthrough, graph = solution.walkthrough, solution.graph
    quantities = solution.quantities
    with_gradient = [name for name in graph.backward_order if gradient_name(name) in quantities]
    given = [*graph.data, *graph.parameters]
    python_names = identifiers([*given, *graph.computed])
    identifier = python_names.__getitem__
    forward = _forward_lines(solution, python_names)
    computed = {name: identifier(name) for name in graph.computed}
    computed.update({gradient_name(name): f"{identifier(name)}.grad" for name in with_gradient})
    updated = {f"{update.parameter}_updated": identifier(update.parameter) for update in solution.updates}
    expected = [name for training in solution.training
                for name in [*(name + training.suffix for name in computed), *(u.name for u in training.updates)]]
    expected.append(FINAL_COST)
    intermediates = [identifier(name) for name in graph.computed if name in with_gradient]
    leaves = [identifier(name) for name in given if name in with_gradient]
    inputs = {name for node in graph.nodes for role, name in node.roles.items()  # the data a node computes from
              if name in graph.data and role not in node.op.data_roles}
    before, update = _update_lines(solution, identifier)
    steps = len(solution.training)
    title, name = _one_line(walkthrough.title), _one_line(walkthrough.name)
    optimizer = walkthrough.optimizer.title
    lines = [
        "#!/usr/bin/env python3",
        f"# {title}",
        "#",
        f"# The walkthrough {name} of jacobian-bp rebuilt in PyTorch (float64): the same graph and, for each of",
        f"# its {steps} training step{'s' * (steps != 1)}, the forward pass, the backward pass (autograd) and the "
        f"{optimizer} update;",
        "# then the cost after the last update, J_final. Every value is printed next to the one jacobian-bp",
        "# computed with full Jacobians, with a check mark where the two agree (quantities of step t ≥ 2 carry @t).",
        *([] if conventions.is_default else [
            f"# The walkthrough is written with {conventions}; this script prints every value in PyTorch's "
            f"convention ({DEFAULT}).",
        ]),
        "#",
        f"# Written by `jacobian-bp walkthrough {name} --format pytorch`; run it with `python FILE`.",
        "",
        "import sys",
        "",
        "import torch",
        "import torch.nn.functional as F",
        "",
        "torch.set_default_dtype(torch.float64)",
        f"DECIMALS = {decimals}",
        f"STEPS = {steps}",
        "",
        "# The data and the parameters (the parameters and the inputs record their gradients, so that autograd",
        "# follows every variable computed from them)",
        *(f"{identifier(name)} = torch.tensor({_literal(quantities[name])}"
          f"{', requires_grad=True' if name in with_gradient or name in inputs else ''})" for name in given),
        "",
        *before,
        *([""] if before else []),
        "COMPUTED = {}",
        "for step in range(1, STEPS + 1):",
        '    at = "" if step == 1 else f"@{step}"',
        *_indented([
            *(f"{leaf}.grad = None" for leaf in leaves),
            "",
            "# The forward pass, one line per node of the graph",
            *forward,
            "",
            "# The backward pass: autograd from J, keeping the gradient of every intermediate variable",
            *(f"{name}.retain_grad()" for name in intermediates),
            f"{identifier(COST)}.backward()",
            *_recorded(computed),
            "",
            *update,
            *_recorded(updated),
        ]),
        "",
        "# The cost after the last update",
        "with torch.no_grad():",
        *_indented(forward),
        f"COMPUTED[{FINAL_COST!r}] = {identifier(COST)}.detach().clone()",
        "",
        "# jacobian-bp's values, at full precision",
        "EXPECTED = {",
        *(f"    {name!r}: {_literal(quantities[name])}," for name in expected),
        "}",
        "",
        "",
        "def shown(rows):",
        '    """A matrix rounded to DECIMALS places, as one line."""',
        "    return \"[\" + \", \".join(\"[\" + \", \".join(f\"{x + 0.0:.{DECIMALS}f}\" for x in row) + \"]\" "
        "for row in rows) + \"]\"",
        "",
        "",
        "def compare():",
        '    """Print every quantity, PyTorch\'s beside jacobian-bp\'s, marked ✓ where they agree; True if all do."""',
        "    agree = 0",
        "    width = max(map(len, EXPECTED))",
        "    for name, expected in EXPECTED.items():",
        "        ours = COMPUTED[name].detach().reshape(len(expected), len(expected[0]))",
        "        same = torch.allclose(ours, torch.tensor(expected), rtol=1e-9, atol=1e-12)",
        "        agree += same",
        "        mark = \"✓\" if same else \"✗\"",
        "        print(f\"{mark} {name:<{width}}  PyTorch {shown(ours.tolist())}   jacobian-bp {shown(expected)}\")",
        "    print(f\"{agree} of {len(EXPECTED)} quantities agree with jacobian-bp.\")",
        "    return agree == len(EXPECTED)",
        "",
        "",
        "sys.exit(0 if compare() else 1)",
    ]
    return "\n".join(lines) + "\n"
