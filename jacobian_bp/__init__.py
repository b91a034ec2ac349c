"""jacobian_bp: backpropagation with every Jacobian written out.

Load a walkthrough (a bundled name or a TOML file), solve it, and read every step and
quantity, for example in a notebook:

>>> import jacobian_bp
>>> solution = jacobian_bp.solve(jacobian_bp.load("article"))
>>> round(solution.quantities["J"], 4)
0.1952
>>> step = solution.step("dJ/dW3")
>>> step.upstream, step.jacobian_name, step.jacobian.shape
('dJ/dZ3', 'dZ3/dW3', (2, 2))
>>> step.result.round(4).tolist()
[[-1.0216, -0.9253]]
>>> [step.gradient for step in solution.steps][:4]
['dJ/dL', 'dJ/dA3', 'dJ/dZ3', 'dJ/db3']
"""

import importlib

__version__ = "0.1.0"
__all__ = ["Kink", "Solution", "Step", "Update", "Walkthrough", "WalkthroughError", "load", "solve", "__version__"]

# Where each public name lives. They are imported on first use, so that importing the package (as the
# command line does first) loads no numpy: a Ctrl-C at start-up then meets the command line's handling.
_HOMES = {"Kink": "chain", "Step": "chain", "Update": "chain", "Solution": "solution", "solve": "solution",
          "Walkthrough": "walkthrough", "WalkthroughError": "walkthrough", "load": "walkthrough"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
