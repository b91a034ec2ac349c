"""Grading hand calculations: verdicts, carried-forward credit, the slip catalogue, bad files, the report."""

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from jacobian_bp import Solution, load, solve
from jacobian_bp.check import (
    AnswerFileError,
    derivations,
    exact_values,
    grade,
    grade_answers,
    quantity_names,
    report_document,
)
from jacobian_bp.cli import main
from jacobian_bp.names import GROUPS
from jacobian_bp.render.terminal import check as terminal
from jacobian_bp.render.terminal.widgets import make_console
from jacobian_bp.vec import devec, vec
from jacobian_bp.walkthrough import resolve
from tests.golden import AsciiBuffer
from tests.strategies import graphs, walkthroughs

ANSWERS = Path(__file__).parent / "answers"
ARTICLE = solve(load("article"))
EXACT = {name: np.atleast_2d(value) for name, value in ARTICLE.quantities.items()}


def write_answers(folder: Path, answers: dict, walkthrough: str = "article", decimals: int | None = 4,
                  name: str = "answers.toml") -> Path:
    """An answer file with `answers` (arrays, nested lists, numbers or strings) under [answers]."""
    lines = [f"walkthrough = {json.dumps(walkthrough)}"] + ([f"decimals = {decimals}"] if decimals is not None else [])
    lines.append("[answers]")
    for key, value in answers.items():
        plain = value.tolist() if isinstance(value, np.ndarray) else value
        lines.append(f"{json.dumps(key)} = {json.dumps(plain)}")
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def graded(answers: dict, solution=ARTICLE, decimals: int = 4) -> dict:
    """Grade arrays directly, by name."""
    arrays = {name: np.atleast_2d(np.asarray(value, dtype=float)) for name, value in answers.items()}
    return {result.name: result for result in grade_answers(solution, arrays, decimals)}


def positions(result, verdict: str) -> list[tuple[int, int]]:
    return [tuple(int(i) for i in position) for position in np.argwhere(result.entries == verdict)]


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# The article's own hand calculation ---------------------------------------------------------------

CARRIED_IN_THE_ARTICLE = {"dJ/dW3": [(0, 1)], "dJ/dW2": [(1, 1)], "dJ/dA1": [(1, 2)]}
UNANSWERED_IN_THE_FIXTURE = {"Z3", "b2_updated", "W2_updated", "b3_updated", "W3_updated"}


def test_article_hand_values_one_slip_three_carried_forward_the_rest_correct():
    report = grade(ANSWERS / "article_hand.toml")
    by_name = {result.name: result for result in report.quantities}
    assert report.wrong
    wrong = {name: positions(result, "wrong") for name, result in by_name.items() if positions(result, "wrong")}
    assert wrong == {"b1_updated": [(0, 0)]}
    diagnosis = by_name["b1_updated"].diagnosis
    assert "digit slip" in diagnosis and "0.1001" in diagnosis and "1.0001" in diagnosis
    assert "adjacent digits swapped" in diagnosis
    carried = {name: positions(result, "carried forward") for name, result in by_name.items()
               if positions(result, "carried forward")}
    assert carried == CARRIED_IN_THE_ARTICLE
    assert {name for name, result in by_name.items() if result.verdict == "unanswered"} == UNANSWERED_IN_THE_FIXTURE
    for name, result in by_name.items():
        if name not in CARRIED_IN_THE_ARTICLE and name != "b1_updated" and name not in UNANSWERED_IN_THE_FIXTURE:
            assert result.verdict == "correct" and result.diagnosis is None, name
    assert report.summary == {"correct": 30, "carried forward": 3, "wrong": 1, "unreadable": 0, "unanswered": 5}


def test_the_article_values_carried_forward_are_wrong_without_their_own_intermediates():
    """0.3173, -0.9250 and 0.1393 are more than one unit off the exact values: only the article's own
    rounded intermediates make them right."""
    results = graded({"dJ/dW3": [[-1.0216, -0.9250]], "dJ/dW2": [[-0.3831, -0.5747, 0], [0.1752, 0.3173, 0]],
                      "dJ/dA1": [[-0.0096, -0.0014, -0.0041], [-0.0051, -0.0601, 0.1393]]})
    assert {name: positions(result, "wrong") for name, result in results.items()} == CARRIED_IN_THE_ARTICLE


# Verdicts on small hand-made cases ----------------------------------------------------------------

def test_correct_within_one_unit_of_the_last_decimal():
    exact = EXACT["dJ/db3"][0, 0]
    assert graded({"dJ/db3": exact + 0.99e-4})["dJ/db3"].verdict == "correct"
    assert graded({"dJ/db3": exact - 0.99e-4})["dJ/db3"].verdict == "correct"
    assert graded({"dJ/db3": exact + 1.01e-4})["dJ/db3"].verdict == "wrong"
    assert graded({"dJ/db3": -0.08}, decimals=2)["dJ/db3"].verdict == "correct"
    assert graded({"dJ/db3": -0.0821}, decimals=6)["dJ/db3"].verdict == "wrong"


def test_carried_forward_through_two_levels_of_the_graph():
    """A slip in dL/dA3 (1/0.9 for 1/0.9089) carries into dJ/dA3, then dJ/dZ3, then dJ/db3 and dJ/dW3."""
    results = graded({"dL/dA3": [[1 / 0.9, 0], [0, -1 / 0.7446]],
                      "dJ/dA3": [[0.5556], [-0.6715]],
                      "dJ/dZ3": [[0.0460], [-0.1277]],
                      "dJ/db3": -0.0817,
                      "dJ/dW3": [[-1.0216, -0.9218]]})
    assert positions(results["dL/dA3"], "wrong") == [(0, 0)]
    assert positions(results["dJ/dA3"], "carried forward") == [(0, 0)]
    assert positions(results["dJ/dZ3"], "carried forward") == [(0, 0)]
    assert results["dJ/db3"].verdict == "carried forward" and results["dJ/db3"].sources == ("dJ/dZ3",)
    assert positions(results["dJ/dW3"], "carried forward") == [(0, 1)]
    assert results["dJ/dW3"].sources == ("dJ/dZ3",)


def test_carried_forward_falls_back_to_exact_values_for_parents_not_given():
    """dJ/dZ3 wrong on its own; dJ/db3 follows from it and the exact dZ3/db3, which was not answered."""
    results = graded({"dJ/dZ3": [[0.0556], [-0.1277]], "dJ/db3": -0.0721})
    assert results["dJ/dZ3"].verdict == "wrong"
    assert results["dJ/db3"].verdict == "carried forward"


def test_carried_forward_needs_the_students_own_parents():
    """The same value as above, without the wrong dJ/dZ3 it follows from, is simply wrong."""
    results = graded({"dJ/db3": -0.0721})
    assert results["dJ/db3"].verdict == "wrong" and results["dJ/db3"].own is None


def test_a_quantity_takes_its_worst_entry_and_unanswered_entries_count_for_nothing():
    results = graded({"dJ/db2": [np.nan, 0.0246], "dJ/db1": [np.nan, np.nan, np.nan], "dJ/dW3": [[0.5, np.nan]]})
    assert results["dJ/db2"].verdict == "correct"
    assert results["dJ/db2"].entries.tolist() == [["unanswered", "correct"]]
    assert results["dJ/db1"].verdict == "unanswered"
    assert results["dJ/dW3"].verdict == "wrong"


def test_accepted_forms_bare_number_flat_list_and_the_first_jacobian_as_a_row(tmp_path):
    path = write_answers(tmp_path, {"J": 0.1952, "dJ/db3": [[-0.0821]], "b1_updated": [1.0001, -1.9994, 0.3],
                                    "dJ/dL": [0.5, "1/2"], "dJ/db2": ["-0.0639", "0.0246"]})
    report = grade(path)
    assert [result.verdict for result in report.quantities] == ["correct"] * 5
    assert not report.wrong


def test_a_wrong_shape_is_a_wrong_answer_that_names_the_expected_shape(tmp_path):
    results = {result.name: result for result in grade(write_answers(tmp_path, {
        "dJ/dW2": 0.5, "dJ/dA3": [0.5501, -0.6715], "dJ/db2": [[1, 2, 3]]})).quantities}
    assert results["dJ/dW2"].verdict == "wrong"
    assert results["dJ/dW2"].diagnosis.startswith("expected shape 2 × 3, found 1 × 1")
    assert "transposed" not in results["dJ/dW2"].diagnosis
    assert results["dJ/dA3"].diagnosis.startswith("expected shape 2 × 1, found 1 × 2 (the transposed shape)")
    assert results["dJ/db2"].diagnosis == "expected shape 1 × 2, found 1 × 3"


# The slip catalogue: one case per slip ------------------------------------------------------------

def _column_major_devec(name: str) -> np.ndarray:
    step = ARTICLE.step(name)
    return devec(step.product_row, step.result.shape[::-1]).T


def _column_major_vec(name: str) -> np.ndarray:
    step = ARTICLE.step(name)
    return devec(vec(EXACT[step.upstream].T) @ step.jacobian, step.result.shape)


def _column_major_jacobian(name: str) -> np.ndarray:
    rows = np.arange(EXACT["Z2"].size).reshape(EXACT["Z2"].shape).T.ravel()
    return EXACT[name][rows]


def _kink_at_one(name: str) -> np.ndarray:
    kink = ARTICLE.step("dJ/dZ2").kinks[0]
    value = EXACT[name].copy()
    if name == "dJ/dZ2":
        value[kink.position] = kink.other_value
    else:
        value[0, 0] = kink.other_derivative
    return value


def _kink_downstream() -> np.ndarray:
    dZ2 = _kink_at_one("dJ/dZ2")
    return dZ2.T @ EXACT["A1"]  # dJ/dW2 = (dJ/dZ2)ᵀ · A1


def _updated_weights() -> np.ndarray:
    step = ARTICLE.step("dJ/dA2")
    # dZ3/dA2 holds one copy of W3 per sample (2 samples) on its block diagonal; here W3_updated's.
    return devec(vec(EXACT["dJ/dZ3"]) @ np.kron(np.eye(2), EXACT["W3_updated"]), step.result.shape)


def _updated(parameter: str, learning_rate: float) -> np.ndarray:
    return EXACT[parameter] - learning_rate * EXACT[f"dJ/d{parameter}"]


def _with(name: str, position: tuple[int, int], value: float) -> np.ndarray:
    changed = EXACT[name].copy()
    changed[position] = value
    return changed


SLIP_CASES = {
    "transposed, same shape": ("dJ/dA2", lambda: EXACT["dJ/dA2"].T, "transposed: your answer is the transpose"),
    "transposed shape": ("dJ/dW2", lambda: EXACT["dJ/dW2"].T, "(the transposed shape); transposed"),
    "transposed column": ("dJ/dA3", lambda: EXACT["dJ/dA3"].T, "transposed"),
    "missing 1/m in dJ/dL": ("dJ/dL", lambda: [[1.0], [1.0]], "missing 1/m"),
    "missing 1/m below": ("dJ/dW3", lambda: EXACT["dJ/dW3"] * 2, "missing 1/m"),
    "missing 1/m in J": ("J", lambda: EXACT["L"].sum(), "missing 1/m"),
    "doubled 1/m": ("dJ/dW1", lambda: EXACT["dJ/dW1"] / 2, "1/m taken twice"),
    "column-major de-vec": ("dJ/dW2", lambda: _column_major_devec("dJ/dW2"), "column-major de-vec"),
    "column-major vec": ("dJ/dW2", lambda: _column_major_vec("dJ/dW2"), "column-major vec"),
    "column-major Jacobian": ("dZ2/dW2", lambda: _column_major_jacobian("dZ2/dW2"), "column-major vec"),
    "flipped sign": ("dJ/dZ3", lambda: -EXACT["dJ/dZ3"], "flipped sign"),
    "relu'(0) = 1 in the gradient": ("dJ/dZ2", lambda: _kink_at_one("dJ/dZ2"), "ReLU'(0) = 1"),
    "relu'(0) = 1 in the Jacobian": ("dA2/dZ2", lambda: _kink_at_one("dA2/dZ2"), "ReLU'(0) = 1"),
    "relu'(0) = 1 carried below": ("dJ/dW2", _kink_downstream, "ReLU'(0) = 1"),
    "bias not summed": ("dJ/db2", lambda: EXACT["dJ/dZ2"], "not summed over the batch: this is dJ/dZ2 itself"),
    "bias of one sample": ("dJ/db1", lambda: EXACT["dJ/dZ1"][1:2], "only sample 2's row"),
    "updated weights in the backward pass": ("dJ/dA2", _updated_weights, "W3_updated in dZ3/dA2"),
    "update with the wrong sign": ("b1_updated", lambda: _updated("b1", -0.01), "wrong sign"),
    "update without the learning rate": ("W2_updated", lambda: _updated("W2", 1.0), "without the learning rate"),
    "digit slip: adjacent digits swapped": ("dJ/dZ3", lambda: _with("dJ/dZ3", (1, 0), -0.1727),
                                            "-0.1727 looks like -0.1277 with two adjacent digits swapped"),
    "digit slip: a digit dropped": ("dJ/dA3", lambda: _with("dJ/dA3", (1, 0), -0.615), "a digit dropped"),
    "digit slip: a digit moved": ("dJ/dW2", lambda: _with("dJ/dW2", (0, 1), -0.7475), "a digit moved"),
    "rounded too early": ("dJ/dA3", lambda: _with("dJ/dA3", (0, 0), 0.55), "0.55 is 0.5501 rounded to 2 decimals"),
    "digit slip: decimal point moved": ("dJ/dW3", lambda: _with("dJ/dW3", (0, 0), -10.216),
                                        "the decimal point moved"),
}


@pytest.mark.parametrize("case", SLIP_CASES)
def test_each_slip_is_named(case):
    name, wrong_value, fragment = SLIP_CASES[case]
    result = graded({name: wrong_value()})[name]
    assert result.verdict == "wrong", case
    assert result.diagnosis and fragment in result.diagnosis, result.diagnosis


def test_kink_slip_for_another_activation():
    """The catalogue reads the Kink records, so leaky ReLU's kink is recognized too."""
    solution = solve(load("deep_leaky"))
    step = next(step for step in solution.steps if step.kinks)
    kink = step.kinks[0]
    answer = step.result.copy()
    answer[kink.position] = kink.other_value
    result = graded({step.gradient: answer}, solution=solution)[step.gradient]
    assert result.verdict == "wrong" and "leaky ReLU'(0) = 1" in result.diagnosis


def test_digit_slips_of_numbers_written_with_an_exponent():
    from jacobian_bp.slips import digit_slip

    assert digit_slip(-4.2381e9, -4.2318e9, 4) == ("digit slip: -4.2381e+09 looks like -4.2318e+09 with two "
                                                    "adjacent digits swapped")
    assert digit_slip(-4.2381e9, 1.5e9, 4) is None


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False),
       st.integers(1, 10))
@example(1e300, 1.5e300, 10)
@example(5e-324, 1e-320, 10)
def test_entry_slips_name_any_two_numbers_sensibly(value, reference, decimals):
    """No number crashes a slip of one entry, and none names a slip between two numbers written alike or
    with more digits than a double holds (float noise, e.g. 1e300 written out)."""
    from jacobian_bp.slips import ENTRY_SLIPS, within

    assume(not within(value, reference, decimals))  # only wrong entries are shown to the slips
    for single in ENTRY_SLIPS:
        reason = single(value, reference, decimals)
        if reason and "digit slip" in reason:
            written, meant = re.search(r"digit slip: (\S+) looks like (\S+)", reason).groups()
            assert written != meant
            assert all(len(re.sub(r"\D|e.*", "", number)) <= 17 for number in (written, meant)), reason


@pytest.mark.parametrize("number", ["1e9", "-1.2000e+09", "1e300", "-1.7e308", "5e-324", '"3.6000e+11"'])
def test_a_huge_or_tiny_answer_is_graded_wrong_not_a_crash(tmp_path, capsys, number):
    answers = tmp_path / "big.toml"
    answers.write_text(f'walkthrough = "article"\n[answers]\n"J" = {number}\n"dJ/dW3" = [[{number}, 0.1]]\n')
    assert main(["check", str(answers)]) == 1
    assert main(["check", str(answers), str(answers.with_name("big.toml"))]) == 1
    assert "✗" in capsys.readouterr().out


def test_a_digit_slip_of_a_number_rounded_the_other_way_is_named():
    """0.12345 rounds to 0.1235 here, but a student who rounded it to 0.1234 and swapped two digits wrote 0.1243."""
    from jacobian_bp.slips import digit_slip

    assert digit_slip(0.1243, 0.12345, 4) == "digit slip: 0.1243 looks like 0.1234 with two adjacent digits swapped"
    assert digit_slip(0.1287, 0.12770, 4) is None  # one digit changed is no slip of the pen


def test_an_unknown_mistake_gets_no_diagnosis():
    result = graded({"dJ/dW2": [[-0.3831, -0.5747, 0], [0.1752, 0.4242, 0]]})["dJ/dW2"]
    assert result.verdict == "wrong" and result.diagnosis is None


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(walkthroughs(max_depth=3, max_width=3, max_batch=3), st.data())
def test_a_correct_answer_is_never_diagnosed(walkthrough, data):
    """Every quantity of a random network, each entry off by less than one unit of the last decimal."""
    _assert_never_diagnosed(solve(walkthrough), data)


def _assert_never_diagnosed(solution, data):
    """Every quantity, each entry off by less than one unit of the last decimal: all correct, none diagnosed."""
    decimals = data.draw(st.integers(2, 6), label="decimals")
    answers = {}
    for name, value in solution.quantities.items():
        value = np.atleast_2d(value)
        offsets = data.draw(st.lists(st.floats(-0.9, 0.9), min_size=value.size, max_size=value.size), label=name)
        answers[name] = value + np.reshape(offsets, value.shape) * 10.0**-decimals
    results = grade_answers(solution, answers, decimals)
    assert len(results) == len(solution.quantities)
    for result in results:
        assert result.verdict == "correct", (result.name, result.entries)
        assert result.diagnosis is None, (result.name, result.diagnosis)


# A graph with a fan-out: contributions along each path and their sum ------------------------------

RESIDUAL = """
loss = "mean_squared_error"
output = "A3"
learning_rate = 0.1
{extra}
[data]
X = [[0.5, -1.0], [1.5, 0.25]]
Y = [[0.2, -0.1], [0.4, 0.3]]

[[nodes]]
name = "Z1"
op = "dense"
input = "X"
units = 2
W = [[0.3, -0.2], [0.1, 0.4]]
b = [0.1, -0.1]

[[nodes]]
name = "A1"
op = "tanh"
input = "Z1"

[[nodes]]
name = "Z2"
op = "dense"
input = "A1"
units = 2
W = [[0.5, 0.2], [-0.3, 0.6]]
b = [0.0, 0.2]

[[nodes]]
name = "S2"
op = "add"
inputs = ["Z2", "A1"]

[[nodes]]
name = "A3"
op = "tanh"
input = "S2"
"""


def residual(folder: Path, extra: str = "") -> Solution:
    """A1 feeds both Z2 and the skip connection S2 = Z2 + A1; `extra` adds top-level keys (before [data])."""
    path = folder / "residual.toml"
    path.write_text(RESIDUAL.format(extra=extra), encoding="utf-8")
    return solve(load(str(path)))


def test_a_fan_out_is_graded_through_its_contributions_and_their_sum(tmp_path):
    solution = residual(tmp_path)
    derived = derivations(solution)
    assert derived["dJ/dA1"].parents == ("dJ/dA1 via Z2", "dJ/dA1 via S2")
    assert derived["dJ/dA1 via S2"].parents == ("dJ/dS2", "dS2/dA1")
    assert derived["dJ/dZ1"].parents == ("dJ/dA1", "dA1/dZ1")
    assert derived["S2"].parents == ("Z2", "A1") and derived["dZ2/dA1"].parents == ("W2",)
    exact = {name: np.atleast_2d(value) for name, value in solution.quantities.items()}
    results = graded({name: exact[name] for name in ("dJ/dA1 via Z2", "dJ/dA1 via S2", "dJ/dA1")}, solution)
    assert [result.verdict for result in results.values()] == ["correct"] * 3

    slip = exact["dJ/dA1 via S2"] + [[0.5, 0], [0, 0]]
    results = graded({"dJ/dA1 via S2": slip, "dJ/dA1": exact["dJ/dA1 via Z2"] + slip,
                      "dJ/dZ1": exact["dJ/dZ1"] + [[0.5 * (1 - exact["A1"][0, 0] ** 2), 0], [0, 0]]}, solution)
    assert positions(results["dJ/dA1 via S2"], "wrong") == [(0, 0)]
    assert positions(results["dJ/dA1"], "carried forward") == [(0, 0)]
    assert results["dJ/dA1"].sources == ("dJ/dA1 via S2",)
    assert positions(results["dJ/dZ1"], "carried forward") == [(0, 0)]
    assert positions(results["dJ/dZ1"], "correct") == [(0, 1), (1, 0), (1, 1)]


def test_a_correct_answer_through_a_fan_out_is_never_diagnosed(tmp_path):
    """Every quantity of a residual graph with L2 regularization and a frozen parameter, given right."""
    solution = residual(tmp_path, 'frozen = ["b2"]\n[regularization]\nl2 = 0.1')
    assert quantity_names(solution.walkthrough) == list(solution.quantities)
    assert {"dJ/dW1 via R", "dJ/dW2 via Z2", "dJ/dR", "dR/dW1"} <= set(solution.quantities)
    results = grade_answers(solution, {name: np.atleast_2d(value) for name, value in solution.quantities.items()}, 4)
    assert len(results) == len(solution.quantities)
    assert all(result.verdict == "correct" and result.diagnosis is None for result in results)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(graphs(max_nodes=5, max_width=3, max_batch=3), st.data())
def test_a_correct_answer_on_a_random_graph_is_never_diagnosed(walkthrough, data):
    """Residual adds, concats and L2 penalties: every quantity right, and named before solving."""
    solution = solve(walkthrough)
    assert quantity_names(walkthrough) == list(solution.quantities)
    _assert_never_diagnosed(solution, data)


def test_missed_path_names_the_path_left_out(tmp_path):
    solution = residual(tmp_path)
    exact = {name: np.atleast_2d(value) for name, value in solution.quantities.items()}
    result = graded({"dJ/dA1": exact["dJ/dA1 via Z2"]}, solution)["dJ/dA1"]
    assert result.verdict == "wrong"
    assert result.diagnosis.startswith("missed the path via S2: this is dJ/dA1 via Z2 alone")
    assert "dJ/dA1 via Z2 + dJ/dA1 via S2" in result.diagnosis
    # The student's own (wrong) contribution alone is the same slip.
    own = exact["dJ/dA1 via S2"] + 0.5
    results = graded({"dJ/dA1 via S2": own, "dJ/dA1": own}, solution)
    assert "missed the path via Z2" in results["dJ/dA1"].diagnosis
    # Further down, a gradient that follows from the partial sum.
    partial = exact["dJ/dA1 via S2"] * (1 - exact["A1"] ** 2)
    result = graded({"dJ/dZ1": partial}, solution)["dJ/dZ1"]
    assert result.diagnosis.startswith("missed the path via Z2: this follows from dJ/dA1 as dJ/dA1 via S2 alone")


def test_missed_path_of_the_l2_penalty_and_a_frozen_parameter_updated(tmp_path):
    solution = residual(tmp_path, 'frozen = ["W1"]\n[regularization]\nl2 = 0.1')
    exact = {name: np.atleast_2d(value) for name, value in solution.quantities.items()}
    results = graded({"dJ/dW2": exact["dJ/dW2 via Z2"], "W1_updated": exact["W1"] - 0.1 * exact["dJ/dW1"],
                      "W2_updated": exact["W2"] + 0.1 * exact["dJ/dW2"]}, solution)
    assert results["dJ/dW2"].diagnosis.startswith("missed the path via R")
    assert results["W1_updated"].diagnosis.startswith("W1 is frozen")
    assert "wrong sign" in results["W2_updated"].diagnosis
    assert graded({"W1_updated": exact["W1"]}, solution)["W1_updated"].verdict == "correct"


def test_graph_slips_ask_the_ops_not_their_names(tmp_path):
    """Column sums where a row is broadcast over the batch; updated weights wherever a Jacobian reads them."""
    solution = residual(tmp_path)
    exact = {name: np.atleast_2d(value) for name, value in solution.quantities.items()}
    result = graded({"dJ/db2": exact["dJ/dZ2"]}, solution)["dJ/db2"]
    assert "not summed over the batch: this is dJ/dZ2 itself" in result.diagnosis
    updated = devec(vec(exact["dJ/dZ2"]) @ np.kron(np.eye(2), exact["W2_updated"]), (2, 2))
    result = graded({"dJ/dA1 via Z2": updated}, solution)["dJ/dA1 via Z2"]
    assert "W2_updated in dZ2/dA1" in result.diagnosis


# Bad answer files: exit 2 with one clear line -----------------------------------------------------

BAD_FILES = {
    "not TOML": ('walkthrough = "article"\n[answers]\ndJ/dW3 = [1, 2]\n', ["answers.toml:3", "not valid TOML",
                                                                           'needs quotes']),
    "unknown walkthrough": ('walkthrough = "artcle"\n[answers]\n', ["walkthrough", "did you mean 'article'"]),
    "no walkthrough": ('[answers]\n"J" = 1\n', ["walkthrough: missing"]),
    "no answers": ('walkthrough = "article"\n', ["[answers]: missing"]),
    "unknown key": ('walkthrough = "article"\nanswer = 1\n[answers]\n', ["answer: unknown key",
                                                                      "did you mean 'answers'"]),
    "bad decimals": ('walkthrough = "article"\ndecimals = 40\n[answers]\n', ["decimals: expected a whole number"]),
    "a key like no other": ('walkthrough = "article"\nfoo = 1\n[answers]\n',
                            ["answers.toml:2: foo: unknown key (allowed: walkthrough, decimals, [conventions], "
                             "[answers])"]),
    "a misspelt table": ('walkthrough = "article"\n[convention]\nsamples = "rows"\n[answers]\n',
                         ["answers.toml:2: convention: unknown key", "did you mean 'conventions'"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_answer_file_exits_2_with_one_clear_line(case, tmp_path, capsys):
    text, fragments = BAD_FILES[case]
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    status, out, err = run(capsys, "check", str(path))
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_a_missing_answer_file(tmp_path, capsys):
    status, _, err = run(capsys, "check", str(tmp_path / "nowhere.toml"))
    assert status == 2 and "no such file" in err


def test_bad_files_raise_answer_file_errors(tmp_path):
    with pytest.raises(AnswerFileError, match="neither a bundled walkthrough"):
        grade(write_answers(tmp_path, {"J": 1}, walkthrough="artcle"))


def test_an_unknown_quantity_is_marked_and_the_rest_of_the_file_is_graded(tmp_path, capsys):
    path = tmp_path / "answers.toml"
    path.write_text('walkthrough = "article"\n[answers]\n"J" = 0.1952\n"dJ/dW4" = [1, 2]\n"dJ/db3" = -0.0821\n',
                    encoding="utf-8")
    status, out, err = run(capsys, "check", str(path), "--width", "120")
    assert status == 1 and err == ""
    assert "answers.toml:4: unknown quantity 'dJ/dW4' (did you mean 'dJ/dW3'?)" in " ".join(out.split())
    assert "2 quantities: ✓ 2 correct" in out and "1 unknown name" in out
    document = json.loads(run(capsys, "check", str(path), "--format", "json")[1])
    assert list(document["quantities"]) == ["J", "dJ/db3"] and list(document["unknown"]) == ["dJ/dW4"]
    status, out, _ = run(capsys, "check", str(path), str(path.with_name("answers.toml")), str(tmp_path))
    assert status == 1 and "unknown quantity 'dJ/dW4'" in out and "cannot be graded" not in out


# Unreadable entries: graded "unreadable" with the reason, the rest of the file graded -------------

UNREADABLE = {
    "hostile string": ('"dJ/db3" = "__import__(\'os\')"', "dJ/db3", ["unexpected '_'"]),
    "a name in a string": ('"dJ/dW3" = ["x", -0.9253]', "dJ/dW3", ["row 1, column 1: 'x' cannot be read",
                                                               "unexpected 'x'"]),
    "ragged rows": ('"dJ/dW2" = [[1, 2], [3]]', "dJ/dW2", ["different lengths"]),
    "a boolean": ('"J" = true', "J", ["cannot be read: expected a number", "the boolean true"]),
    "an empty list": ('"J" = []', "J", ["empty list"]),
    "rows and values mixed": ('"dJ/dW2" = [[1, 2], 3]', "dJ/dW2", ["mixes rows"]),
    "three levels of lists": ('"dJ/dW2" = [[[1]]]', "dJ/dW2", ["found a list"]),
    "infinite number": ('"J" = inf', "J", ["expected a finite number"]),
    "a comma and a point": ('"J" = "0,19.52"', "J", ["cannot be read"]),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_an_unreadable_answer_is_graded_unreadable_and_the_rest_is_graded(case, tmp_path, capsys):
    line, name, fragments = UNREADABLE[case]
    path = tmp_path / "answers.toml"
    path.write_text(f'walkthrough = "article"\n[answers]\n"dJ/db2" = [-0.0639, 0.0246]\n{line}\n', encoding="utf-8")
    report = grade(path)
    results = {result.name: result for result in report.quantities}
    assert results["dJ/db2"].verdict == "correct"
    assert results[name].verdict == "unreadable" and (results[name].entries == "unreadable").any()
    for fragment in fragments:
        assert any(fragment in note for note in results[name].notes), (fragment, results[name].notes)
    status, out, err = run(capsys, "check", str(path), "--width", "100")
    assert status == 1 and err == ""
    assert "! unreadable" in out and "unreadable (the reason below)" in out


def test_a_decimal_comma_is_read_as_a_decimal_point_with_a_note(tmp_path, capsys):
    path = write_answers(tmp_path, {"J": "0,1952", "dJ/db2": ["-0,0639", 0.0246], "dJ/dW3": ["-1,0216", "?"],
                                    "dL/dA3": [["1/0,9089", 0], [0, "-1/0.7446"]]})
    report = grade(path)
    results = {result.name: result for result in report.quantities}
    assert all(result.verdict == "correct" for result in results.values()), results
    assert results["J"].notes == ("'0,1952' read as 0.1952: a decimal comma taken for a decimal point",)
    assert results["dJ/db2"].notes == ("row 1, column 1: '-0,0639' read as -0.0639: a decimal comma taken for a "
                                       "decimal point",)
    assert results["dL/dA3"].notes[0].startswith("row 1, column 1: '1/0,9089' read as 1/0.9089")
    status, out, _ = run(capsys, "check", str(path), "--width", "120")
    assert status == 0 and "Note: '0,1952' read as 0.1952: a decimal comma taken for a decimal point." in out
    document = json.loads(run(capsys, "check", str(path), "--format", "json")[1])
    assert document["quantities"]["J"]["notes"] == list(results["J"].notes)


def test_one_unreadable_entry_costs_that_entry_only(tmp_path):
    path = write_answers(tmp_path, {"dJ/dW2": [[-0.3831, "-0.57,47", 0], [0.1752, 0.3175, 0]]})
    (result,) = grade(path).quantities
    assert result.entries.tolist() == [["correct", "unreadable", "correct"], ["correct", "correct", "correct"]]
    assert result.diagnosis is None


def test_a_blank_worksheet_is_reported_as_such(tmp_path, capsys):
    from jacobian_bp import worksheet

    path = tmp_path / "blank.toml"
    path.write_text(worksheet.render(ARTICLE, list(GROUPS), "article"), encoding="utf-8")
    report = grade(path)
    assert report.blank and not report.wrong
    status, out, _ = run(capsys, "check", str(path), "--width", "100")
    assert status == 0 and 'Nothing is answered yet: every entry is "?"' in out
    assert "dJ/dW3 =" not in out  # nothing but the summary follows
    assert json.loads(run(capsys, "check", str(path), "--format", "json")[1])["blank"] is True
    answered = write_answers(tmp_path, {"J": 0.1952, "dJ/dW3": [["?", "?"]]})
    assert not grade(answered).blank


# The command line and the reports -----------------------------------------------------------------

def test_check_exit_codes(tmp_path, capsys):
    assert run(capsys, "check", str(ANSWERS / "article_hand.toml"))[0] == 1
    right = write_answers(tmp_path, {"J": 0.1952, "dJ/dW3": [[-1.0216, -0.9253]]})
    assert run(capsys, "check", str(right))[0] == 0
    blank = write_answers(tmp_path, {"J": "?"}, name="blank.toml")
    assert run(capsys, "check", str(blank))[0] == 0


def test_json_report_as_in_the_design(capsys):
    status, out, _ = run(capsys, "check", str(ANSWERS / "article_hand.toml"), "--format", "json")
    assert status == 1
    document = json.loads(out)
    assert list(document) == ["walkthrough", "decimals", "conventions", "summary", "blank", "quantities", "unknown",
                              "decimals note"]
    assert document["conventions"] == {"samples": "rows", "vec": "row-major", "layout": "numerator"}
    assert document["walkthrough"] == "article" and document["decimals"] == 4 and document["blank"] is False
    assert document["summary"] == {"correct": 30, "carried forward": 3, "wrong": 1, "unreadable": 0, "unanswered": 5}
    quantities = document["quantities"]
    assert list(quantities)[:3] == ["Z1", "A1", "Z2"] and list(quantities)[-1] == "W3_updated"
    dW2 = quantities["dJ/dW2"]
    assert set(dW2) == {"verdict", "entries", "expected", "diagnosis", "notes"}
    assert dW2["verdict"] == "carried forward" and dW2["diagnosis"] is None
    assert dW2["entries"] == [["correct"] * 3, ["correct", "carried forward", "correct"]]
    assert dW2["expected"] == ARTICLE.quantities["dJ/dW2"].tolist()
    assert quantities["J"]["expected"] == ARTICLE.quantities["J"]
    assert quantities["b1_updated"]["verdict"] == "wrong" and "digit slip" in quantities["b1_updated"]["diagnosis"]
    assert quantities["Z3"] == {"verdict": "unanswered", "entries": [["unanswered"], ["unanswered"]],
                                "expected": ARTICLE.quantities["Z3"].tolist(), "diagnosis": None, "notes": []}
    assert not re.search(r"-0\.0(?![0-9])", out)  # no negative zeros


def test_report_document_matches_the_report():
    report = grade(ANSWERS / "article_hand.toml")
    document = report_document(report)
    assert [name for name in document["quantities"]] == [result.name for result in report.quantities]


def test_the_walkthrough_is_found_relative_to_the_answer_file(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "net.toml").write_text(resolve("article").read_text(encoding="utf-8"), encoding="utf-8")
    path = write_answers(folder, {"dJ/dW3": [[-1.0216, -0.9253]]}, walkthrough="net.toml")
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "check", str(path.relative_to(tmp_path)), "--format", "json")
    assert status == 0 and json.loads(out)["walkthrough"] == "net.toml"


def _text_report(path: Path, width: int, ascii_only: bool = False) -> str:
    buffer = AsciiBuffer() if ascii_only else io.StringIO()
    terminal.render(grade(path), make_console(width, file=buffer))
    return buffer.getvalue()


def test_text_report_marks_every_entry_and_shows_the_expected_value():
    text = _text_report(ANSWERS / "article_hand.toml", 100)
    assert "0.1001 ✗ (1.0001)" in text
    assert "0.3173 ↪" in text and "right from your own dJ/dZ2 and dZ2/dW2" in text
    assert "-1.0216 ✓" in text and "? ○" in text
    assert "Diagnosis: row 1, column 1: digit slip: 0.1001 looks like 1.0001 with two adjacent digits swapped" in text
    assert "Summary: 39 quantities: ✓ 30 correct, ↪ 3 carried forward, ✗ 1 wrong, ○ 5 unanswered" in text


def test_text_report_fits_80_columns_and_has_ascii_marks():
    for ascii_only in (False, True):
        text = _text_report(ANSWERS / "article_hand.toml", 80, ascii_only)
        assert max(len(line) for line in text.splitlines()) <= 80
    ascii_text = _text_report(ANSWERS / "article_hand.toml", 80, ascii_only=True)
    assert ascii_text.isascii()
    assert "0.1001 X (1.0001)" in ascii_text and "0.3173 CF" in ascii_text and "-1.0216 OK" in ascii_text


def test_text_report_shows_the_expected_matrix_for_a_wrong_shape_and_what_your_own_values_give(tmp_path):
    path = write_answers(tmp_path, {"dJ/dZ3": [[0.0556], [-0.1277]], "dJ/db3": 0.5, "dJ/dW2": EXACT["dJ/dW2"].T})
    text = _text_report(path, 100)
    assert "Expected" in text and "expected shape 2 × 3, found 3 × 2 (the transposed shape)" in text
    assert "From your own dJ/dZ3 it would be" in text


def test_zeros_are_not_diagnosed_as_rounding_or_digit_slips_and_givens_do_not_carry_forward(tmp_path, capsys):
    path = tmp_path / "zeros.toml"
    path.write_text('walkthrough = "article"\n[answers]\n"dJ/db2" = [0, 0]\n"dJ/dA3" = [[0.55], [-0.67]]\n'
                    '"W1" = [[0, 0], [0, 0], [0, 0]]\n"W1_updated" = [[0, 0], [0, 0], [0, 0]]\n', encoding="utf-8")
    assert main(["check", str(path), "--format", "json"]) == 1
    quantities = json.loads(capsys.readouterr().out)["quantities"]
    assert quantities["dJ/db2"]["diagnosis"] is None
    assert quantities["W1_updated"]["verdict"] == "wrong" and quantities["W1_updated"]["diagnosis"] is None
    assert quantities["W1"]["verdict"] == "wrong"
    assert "0.55 is 0.5501 rounded to 2 decimals" in quantities["dJ/dA3"]["diagnosis"]
    assert "-0.67 is -0.6715 rounded to 2 decimals" in quantities["dJ/dA3"]["diagnosis"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_finite_numbers_are_graded_without_a_crash(data):
    """Random wrong answers of every size, from 1e-12 to 1e12, to random quantities: every one gets a verdict."""
    names = data.draw(st.lists(st.sampled_from(sorted(EXACT)), min_size=1, max_size=6, unique=True))
    numbers = st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.sampled_from([0.0, 1e-12, -5e9, 0.5]))
    answers = {name: np.array(data.draw(st.lists(numbers, min_size=EXACT[name].size, max_size=EXACT[name].size)))
               .reshape(EXACT[name].shape) for name in names}
    for result in grade_answers(ARTICLE, answers, data.draw(st.integers(1, 8))):
        assert result.verdict in ("correct", "carried forward", "wrong")
        assert result.diagnosis is None or isinstance(result.diagnosis, str)


def test_a_student_cannot_widen_the_tolerance_the_teacher_can_set_it(tmp_path, capsys):
    """`decimals = 1` in an answer file made every answer within 0.1 right (zeros got ✓): a coarser decimals than
    the walkthrough's is not used, and is said; a finer one is; `check --decimals N` imposes N on every file."""
    coarse = write_answers(tmp_path, {"J": 0.2, "dJ/db3": 0, "dJ/dZ3": [[0], [0]]}, decimals=1, name="coarse.toml")
    status, out, _ = run(capsys, "check", str(coarse), "--width", "200")
    assert status == 1 and "asks for 1 decimal, coarser than the walkthrough's 4: graded to 4" in out
    report = json.loads(run(capsys, "check", str(coarse), "--format", "json")[1])
    assert report["decimals"] == 4 and report["summary"]["correct"] == 0 and "coarser" in report["decimals note"]
    rows = list(csv.reader(io.StringIO(run(capsys, "check", str(coarse), "--format", "csv")[1])))
    assert "coarser than the walkthrough's 4" in rows[1][-1]
    fine = write_answers(tmp_path, {"dJ/db3": -0.082140}, decimals=6, name="fine.toml")
    assert json.loads(run(capsys, "check", str(fine), "--format", "json")[1])["decimals"] == 6
    imposed = json.loads(run(capsys, "check", str(coarse), "--decimals", "1", "--format", "json")[1])
    assert imposed["quantities"]["dJ/db3"]["verdict"] == "correct" and imposed["decimals"] == 1
    assert imposed["decimals note"] is None
    assert json.loads(run(capsys, "check", str(fine), "--decimals", "3", "--format", "json")[1])["decimals"] == 3


def test_an_empty_answers_table_says_so(tmp_path, capsys):
    path = tmp_path / "empty.toml"
    path.write_text('walkthrough = "article"\n[answers]\n', encoding="utf-8")
    status, out, _ = run(capsys, "check", str(path), "--width", "200")
    assert status == 0 and "Nothing to grade: the [answers] table is empty" in out and "every entry" not in out


def full_precision_student(solution: Solution, slipped: dict[str, np.ndarray], decimals: int = 4) -> dict:
    """A student who makes the slips in `slipped`, carries every value forward at full precision and rounds only
    what they write down (as with a calculator that keeps its memory)."""
    values = exact_values(solution)
    written = {}
    for name, derivation in derivations(solution).items():
        if derivation.group != "given":
            values[name] = slipped.get(name, np.asarray(derivation.compute(values), dtype=float))
            written[name] = np.round(values[name], decimals)
    return written


@pytest.mark.parametrize("slip", ["missing 1/m", "relu'(0) = 1 at the top left"])
def test_one_slip_carried_at_full_precision_is_charged_once(slip):
    """Carried-forward credit must not charge the rounding of the student's own parents: a value recomputed from
    rounded parents may differ by more than one unit from the student's full-precision one (·X grows it)."""
    solution = ARTICLE
    exact = exact_values(solution)
    if slip == "missing 1/m":
        slipped = {"dJ/dL": exact["dJ/dL"] * 2}
    else:
        jacobian = exact["dA2/dZ2"].copy()
        jacobian[0, 0] = 1.0
        slipped = {"dA2/dZ2": jacobian}
    written = full_precision_student(solution, slipped)
    results = {result.name: result for result in grade_answers(solution, written, 4)}
    wrong = [name for name, result in results.items() if result.verdict == "wrong"]
    assert wrong == list(slipped), {name: results[name].entries.tolist() for name in wrong}


def test_diagnoses_name_only_what_the_student_can_see():
    """A flat row not folded back is named as such; a digit slip is never explained by a number with more
    decimals than are written, and is named only when it is the one wrong entry."""
    from jacobian_bp.slips import digit_slip

    flat = graded({"dJ/dA1": vec(EXACT["dJ/dA1"])})["dJ/dA1"]
    assert flat.verdict == "wrong" and "not folded back: this is the flat 1 × 6 row vec(dJ/dA1)" in flat.diagnosis
    assert digit_slip(-0.0813, -0.08214006, 4) is None
    assert "digit slip" in graded({"dJ/dW3": [[-1.0126, -0.9253]]})["dJ/dW3"].diagnosis
    assert graded({"dJ/dW3": [[-1.0126, -0.9523]]})["dJ/dW3"].diagnosis is None


@pytest.mark.parametrize(("walkthrough", "heading"), [("optimizers", "Adam update"), ("article", "SGD update")])
def test_the_update_is_headed_by_the_walkthroughs_optimizer(tmp_path, capsys, walkthrough, heading):
    solution = solve(load(walkthrough))
    update = solution.updates[0]
    path = tmp_path / "answers.toml"
    path.write_text(f'walkthrough = "{walkthrough}"\n[answers]\n"{update.name}" = {update.new.round(4).tolist()}\n'
                    f'"J" = {solution.J:.4f}\n', encoding="utf-8")
    status, out, _ = run(capsys, "check", str(path), "--width", "100")
    assert status == 0 and heading in out
    assert all(other not in out for other in {"Adam update", "SGD update"} - {heading})
    assert out.index("Forward pass, loss and cost") < out.index(heading)


def test_the_l1_kink_taken_as_sign_0_equal_1_is_a_named_slip(tmp_path):
    """An output equal to its target sits on l1's kink: a student who takes sign(0) = 1 there is told so."""
    source = tmp_path / "l1.toml"
    source.write_text('title = "L1 at its kink"\nloss = "l1"\nlearning_rate = 0.1\n\n[data]\n'
                      "X = [[1.0, 2.0], [0.5, -1.0]]\nY = [[0.5], [0.25]]\n\n[[layers]]\nunits = 1\n"
                      'activation = "identity"\nW = [[0.25, 0.0]]\nb = [0.25]\n', encoding="utf-8")
    solution = solve(load(source))
    step = solution.step("dJ/dA1")
    assert [kink.position for kink in step.kinks] == [(0, 0)]  # A1 = 0.5 = Y there
    taken = step.result.copy()
    taken[0, 0] = step.kinks[0].other_value  # sign(0) = 1, times dJ/dL = 1/2
    graded = {result.name: result for result in grade_answers(solution, {"dJ/dA1": taken}, 4)}
    assert graded["dJ/dA1"].verdict == "wrong"
    assert graded["dJ/dA1"].diagnosis.startswith("sign(0) = 1 taken for the derivative of |a − y|: A1 equals its "
                                                 "target in Y (a − y = 0) at row 1, column 1")


@pytest.mark.filterwarnings("error")
def test_a_slip_carried_alike_is_quiet_where_the_exact_entry_is_zero():
    """Scaled where the exact entry is not zero, shifted where it is: no warning from the 0 · ∞ never used."""
    from jacobian_bp.check import _changed_alike

    own, exact, changed = np.array([[0.0, 1.0, 1.0]]), np.array([[0.0, 2.0, 4.0]]), np.array([[1.0, 4.0, 4.0]])
    np.testing.assert_array_equal(_changed_alike(own, exact, changed), [[1.0, 2.0, 1.0]])
