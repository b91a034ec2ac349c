"""The safe arithmetic parser: agrees with Python's arithmetic, and refuses anything else without running it."""

import ast
import builtins
import math
import operator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jacobian_bp import arithmetic
from jacobian_bp.arithmetic import MAX_EXPONENT, ExpressionError, evaluate


class NoRealValueError(Exception):
    """What Python's arithmetic cannot give as a finite real number, which the parser must refuse too."""


OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def python_value(text: str) -> float:
    """The value of `text` by Python's own grammar (`ast.parse`, nothing executed), in floats."""
    return _value(ast.parse(text, mode="eval").body)


def _value(node) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        value = _value(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    left, right = _value(node.left), _value(node.right)
    try:
        if isinstance(node.op, ast.Pow):
            if abs(right) > MAX_EXPONENT:
                raise NoRealValueError
            result = left**right
        else:
            result = OPERATORS[type(node.op)](left, right)
    except (ZeroDivisionError, OverflowError):
        raise NoRealValueError from None
    if isinstance(result, complex) or not math.isfinite(result):
        raise NoRealValueError
    return result


numbers = st.one_of(st.integers(0, 20).map(str),
                    st.decimals(min_value=0, max_value=100, places=4, allow_nan=False).map(str),
                    st.sampled_from(["0.5", ".25", "3.", "1e-3", "2.5E2"]))


@st.composite
def expressions(draw, depth: int = 0) -> str:
    """Operands joined by operators, each operand with optional signs, some of them parenthesized expressions."""
    parts = []
    for position in range(draw(st.integers(1, 4))):
        if position:
            parts.append(draw(st.sampled_from(["+", "-", "*", "/", "**", "**"])))
        sign = draw(st.sampled_from(["", "", "-", "+", "--", "-+"]))
        nested = depth < 2 and draw(st.integers(0, 3)) == 0
        parts.append(sign + (f"({draw(expressions(depth + 1))})" if nested else draw(numbers)))
    return " ".join(parts)


@given(expressions())
def test_agrees_with_python_arithmetic(text):
    try:
        expected = python_value(text)
    except NoRealValueError:
        with pytest.raises(ExpressionError):
            evaluate(text)
        return
    assert math.isclose(evaluate(text), expected, rel_tol=1e-12, abs_tol=1e-300), text


@given(expressions())
def test_caret_and_typographic_signs_mean_the_same(text):
    typographic = text.replace("**", "^").replace("-", "−").replace("*", "×").replace("/", "÷")
    try:
        value = evaluate(text)
    except ExpressionError:
        with pytest.raises(ExpressionError):
            evaluate(typographic)
        return
    assert evaluate(typographic) == value


@pytest.mark.parametrize(("text", "value"), [
    ("1/0.9089", 1 / 0.9089), ("-(0.5 * 0.0828)", -0.0414), ("-1/0.7446", -1 / 0.7446), ("2^3^2", 512.0),
    ("-2**2", -4.0), ("2**-1", 0.5), ("(-2)^2", 4.0), (" 3 ", 3.0), ("1 - 2 - 3", -4.0), ("8 / 4 / 2", 1.0),
    ("1/2 · 3", 1.5), ("−0.6715", -0.6715), ("1e-3", 0.001)])
def test_examples(text, value):
    assert evaluate(text) == pytest.approx(value, rel=1e-15)


HOSTILE = [
    "__import__('os')", "__import__('os').system('touch pwned')", "(1).__class__", "(1).real", "().__class__",
    "lambda: 1", "lambda x: x", "x", "e", "pi", "nan", "inf", "open('x')", "print(1)", "1 if 1 else 2", "[1]",
    "{}", "1; 2", "1, 2", "0x10", "1_000", "1j", "'1'", "a.b", "2(3)", "9**9**9", "2**10000", "10**400",
    "1e999", "(-8)**(1/3)", "1/0", "0**-1", "", "   ", "(", "(1", "1)", "1 +", "* 2", "1 2", "1 ** ** 2",
    "1" * 600, "1+" * 300 + "1", "(" * 100 + "1" + ")" * 100, "-" * 100 + "1", "2" + "**2" * 200,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: text[:30])
def test_refuses_anything_but_arithmetic(text, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def no_imports(*arguments, **keywords):
        raise AssertionError("the parser imported something while parsing")

    monkeypatch.setattr(builtins, "__import__", no_imports)
    with pytest.raises(ExpressionError) as refusal:
        evaluate(text)
    monkeypatch.undo()
    assert not (tmp_path / "pwned").exists()
    assert len(str(refusal.value).splitlines()) == 1
    assert len(str(refusal.value)) < 200


def test_refusals_say_where_and_what_is_allowed():
    with pytest.raises(ExpressionError, match=r"unexpected '_' at character 1 .*allowed: numbers"):
        evaluate("__import__('os')")
    with pytest.raises(ExpressionError, match=r"unexpected '\.' at character 4"):
        evaluate("(1).real")
    with pytest.raises(ExpressionError, match="absurd"):
        evaluate("9**9**9")
    with pytest.raises(ExpressionError, match="too long"):
        evaluate("1+" * 300 + "1")


def test_the_parser_never_hands_text_to_an_evaluator():
    tree = ast.parse(Path(arithmetic.__file__).read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names}
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not names & {"eval", "exec", "compile", "__import__", "getattr"}
    assert not (attributes | imported) & {"sympify", "parse_expr", "literal_eval", "eval", "exec"}
    assert not {name.split(".")[0] for name in imported | modules if name} & {"sympy", "ast", "builtins"}
