"""The walkthrough as one JSON object: every named quantity at full precision, and the steps."""

import json

import numpy as np

from ..names import kernel_shapes
from ..structured import Dense, Structured


def _plain(value, dense_jacobians: bool = False, shape: tuple[int, ...] | None = None):
    """A matrix as a list of rows of floats (negative zero as 0.0), a scalar as a float; a large Jacobian
    in its structured form, or in full with `dense_jacobians`; with `shape`, nested lists of that shape (a
    kernel out × in × k × k)."""
    if isinstance(value, Structured):
        return _plain(value.build()) if dense_jacobians else structured_form(value)
    if isinstance(value, np.ndarray):
        found = np.atleast_2d(value).astype(float) + 0.0
        return (found.reshape(shape) if shape else found).tolist()
    return float(value) + 0.0


def structured_form(jacobian: Structured) -> dict:
    """A Jacobian too large to write out: its kind, its shape, and its factors (for a `dense` one, the
    row, column and value of every entry that is not zero), as docs/json.md describes."""
    form: dict = {"structure": jacobian.kind, "shape": list(jacobian.shape)}
    if isinstance(jacobian, Dense):
        rows, columns = jacobian.nonzero_positions()
        form["nonzero"] = {"rows": rows.tolist(), "columns": columns.tolist(),
                           "values": _plain(jacobian.matrix[rows, columns])[0] if len(rows) else []}
        return form
    form["factors"] = {name: int(factor) if np.ndim(factor) == 0 else _plain(factor)
                       for name, factor in jacobian.factors().items()}
    return form


def document(solution, dense_jacobians: bool = False) -> dict:
    """The JSON document of docs/json.md as Python data."""
    shapes = kernel_shapes(solution.walkthrough)
    steps = []
    for step in solution.steps:
        if step.is_sum:
            steps.append({"number": step.number, "section": step.section, "gradient": step.gradient,
                          "contributions": list(step.contributions),
                          "result": _plain(step.result, shape=shapes.get(step.gradient))})
            continue
        steps.append({
            "number": step.number,
            "section": step.section,
            "gradient": step.gradient,
            "upstream": step.upstream,
            "jacobian": step.jacobian_name,
            "upstream_row": _plain(step.upstream_row.ravel()[None, :])[0],
            "product_row": _plain(step.product_row.ravel()[None, :])[0],
            "result": _plain(step.result, shape=shapes.get(step.gradient)),
            "shortcut": str(step.shortcut_formula),
            "shortcut_result": _plain(step.shortcut, shape=shapes.get(step.gradient)),
            **({"fused": step.fused_formula, "fused_result": _plain(step.fused)} if step.fused is not None else {}),
            "kinks": [{"position": list(kink.position), "derivative": kink.derivative,
                       "other_derivative": kink.other_derivative, "other_value": kink.other_value}
                      for kink in step.kinks],
            "notes": [str(note) for note in step.notes],
            **({"via": step.path} if step.path else {}),
        })
    walkthrough = solution.walkthrough
    return {
        "title": walkthrough.title,
        "walkthrough": walkthrough.name,
        "learning_rate": walkthrough.learning_rate,
        "conventions": solution.conventions.document(),
        "quantities": {name: _plain(value, dense_jacobians, shapes.get(name))
                       for name, value in solution.quantities.items()},
        "steps": steps,
        **({"training": {"optimizer": walkthrough.optimizer.name,
                         "settings": {key: _setting(getattr(walkthrough.optimizer, key))
                                      for key in walkthrough.optimizer.settings},
                         "steps": len(solution.training), "costs": [_plain(cost) for cost in solution.costs]}}
           if len(solution.training) > 1 or walkthrough.training_shown else {}),
    }


def _setting(value):
    return list(value) if isinstance(value, tuple) else value


def dumps(value, indent: int = 0) -> str:
    """JSON that people can read too: one line per key, and a matrix (a list of rows) on one line.

    NaN and infinities are refused: they are not JSON. Text outside ASCII is escaped (`\\u00b7`),
    so the output is valid JSON whatever the encoding of the pipe it goes to.
    """
    pad = " " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(key)}: {dumps(item, indent + 1)}"
                 for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return "[\n" + ",\n".join(pad + dumps(item, indent + 1) for item in value) + "\n" + " " * indent + "]"
    return json.dumps(value, allow_nan=False)


def render(solution, dense_jacobians: bool = False) -> str:
    return dumps(document(solution, dense_jacobians))
