"""`walkthrough NAME --format pytorch`: a standalone PyTorch script that redoes the walkthrough and checks it.

The script builds the same graph in float64, one line per node from the op's own
`torch_expression`, runs the forward pass, the backward pass (`J.backward()`) and the SGD step, and
prints every variable, gradient and updated parameter next to this tool's value with a ✓ where
they agree (to 1e-9 relative). It needs only PyTorch; this module never imports it.
"""

import keyword

import numpy as np

from ..chain import gradient_name
from ..errors import InputError
from ..graph import COST
from ..solution import Solution

# Names the script uses for itself, which a variable must not shadow.
RESERVED = {"torch", "F", "sys", "DECIMALS", "EXPECTED", "COMPUTED", "shown", "compare"}


def identifier(name: str) -> str:
    """The Python name of a variable in the script: its own, unless that is a keyword or one of the script's."""
    return f"{name}_" if keyword.iskeyword(name) or name in RESERVED else name


def _one_line(text: str) -> str:
    """`text` for a comment of the script: one line, its whitespace runs made single spaces."""
    return " ".join(text.split())


def _literal(value) -> str:
    """A matrix as a nested Python list with every float written exactly."""
    rows = np.atleast_2d(np.asarray(value, dtype=float))
    return "[" + ", ".join("[" + ", ".join(repr(float(x) + 0.0) for x in row) + "]" for row in rows) + "]"


def _forward_lines(solution: Solution) -> list[str]:
    """One assignment per node, from the op's PyTorch expression of the node's variables."""
    lines = []
    for node in solution.graph.nodes:
        names = {role: identifier(variable) for role, variable in node.roles.items()}
        try:
            expression = node.op.torch_expression(names)
        except NotImplementedError:
            raise InputError(f"{solution.walkthrough.name}: the op {node.op.name!r} (node {node.output}) has no "
                             "PyTorch form yet, so --format pytorch cannot write this walkthrough") from None
        lines.append(f"{identifier(node.output)} = {expression}")
    return lines


def render(solution: Solution, decimals: int) -> str:
    """The script's text for `solution`, printing values to `decimals` places."""
    walkthrough, graph = solution.walkthrough, solution.graph
    quantities = solution.quantities
    with_gradient = [name for name in graph.backward_order if gradient_name(name) in quantities]
    given = [*graph.data, *graph.parameters]
    forward = _forward_lines(solution)
    computed = {name: identifier(name) for name in graph.computed}
    computed.update({gradient_name(name): f"{identifier(name)}.grad" for name in with_gradient})
    computed.update({update.name: identifier(update.name) for update in solution.updates})
    intermediates = [identifier(name) for name in graph.computed if name in with_gradient]
    title, name = _one_line(walkthrough.title), _one_line(walkthrough.name)
    lines = [
        "#!/usr/bin/env python3",
        f"# {title}",
        "#",
        f"# The walkthrough {name} of jacobian-bp rebuilt in PyTorch (float64): the same graph, the forward",
        "# pass, the backward pass (autograd) and one SGD step, every value printed next to the one",
        "# jacobian-bp computed with full Jacobians, with a check mark where the two agree.",
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
        "",
        "# The data and the parameters (the parameters and any data with a gradient record their gradients)",
        *(f"{identifier(name)} = torch.tensor({_literal(quantities[name])}"
          f"{', requires_grad=True' if name in with_gradient else ''})" for name in given),
        "",
        "# The forward pass, one line per node of the graph",
        *forward,
        "",
        "# The backward pass: autograd from J, keeping the gradient of every intermediate variable",
        *(f"{name}.retain_grad()" for name in intermediates),
        f"{identifier(COST)}.backward()",
        "",
        f"# One SGD step with learning rate {walkthrough.learning_rate!r}"
        + (" (frozen parameters keep their value)" if walkthrough.frozen else ""),
        "with torch.no_grad():",
        *(f"    {identifier(update.name)} = {identifier(update.parameter)}.clone()" if update.frozen else
          f"    {identifier(update.name)} = {identifier(update.parameter)} - {update.learning_rate!r} * "
          f"{identifier(update.parameter)}.grad" for update in solution.updates),
        "",
        "# jacobian-bp's values, at full precision",
        "EXPECTED = {",
        *(f"    {name!r}: {_literal(quantities[name])}," for name in computed),
        "}",
        "COMPUTED = {",
        *(f"    {name!r}: {expression}," for name, expression in computed.items()),
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
