"""Simulated students with planted slips: how often `check` names each slip, and penalises it once.

Every student works through a whole bundled walkthrough by hand, rounding at every step and
carrying their own values forward (tests/simulator.py); the planted slips are the ones a class
makes. A slip is named when its quantity is wrong and the diagnosis names it; it is penalised once
when no other quantity is wrong.
"""

import numpy as np
import pytest

from jacobian_bp import load, solve
from jacobian_bp.chain import gradient_name
from jacobian_bp.check import derivations, grade_answers
from jacobian_bp.graph import COST
from jacobian_bp.ops import PENALTY
from tests.simulator import PlantedSlip, digit_swap, flipped_sign, hand_calculation, missing_one_over_m, transposed
from tests.strategies import written_out_names

# The simulated students work one training step (walkthroughs of several steps are checked in tests/test_check.py).
SOLUTIONS = {name: solution for name in written_out_names() if len((solution := solve(load(name))).training) == 1}
TRIALS = 120
RATE = 0.95
# A slip made on top of another one, by a student who keeps full precision: the second slip's candidate is built
# from the student's rounded parents and can miss by their rounding (109 of 120 named at worst, a forgotten 1/m
# after a digit slip). A slip of one entry is looked for within that rounding (a digit slip in J_final, whose
# own value is a whole forward pass from the student's rounded updates: 117 of 120 and more).
FULL_PRECISION_NAMED = 0.9


def _after(derived, name: str) -> set[str]:
    """The quantities computed (directly or not) from `name`."""
    reached = {name}
    for quantity, derivation in derived.items():
        if reached.intersection(derivation.parents):
            reached.add(quantity)
    return reached - {name}


def _scaled_by_the_mean(solution, derived) -> list[str]:
    """The gradients that reach J only through the mean of the losses: a forgotten 1/m scales them by m."""
    penalty = solution.graph.producers[COST].roles.get(PENALTY)
    through_penalty = _after(derived, gradient_name(penalty)) | {gradient_name(penalty)} if penalty else set()
    return [name for name, derivation in derived.items()
            if derivation.group == "gradients" and name not in through_penalty]


def _worked(derived) -> list[str]:
    return [name for name, derivation in derived.items() if derivation.group != "given"]


def one_over_m_in_the_last_bias(solution, derived, rng):
    """dJ/db of the last layer without 1/m, half the time after a digit slip earlier on its path."""
    target = next(name for name in _scaled_by_the_mean(solution, derived) if name.startswith("dJ/db"))
    planted = [PlantedSlip(target, missing_one_over_m, "missing 1/m")]
    earlier = [name for name in _worked(derived) if target in _after(derived, name)
               and derived[name].group != "forward"]
    if earlier and rng.random() < 0.5:
        planted.insert(0, PlantedSlip(str(rng.choice(earlier)), digit_swap, "digit slip"))
    return planted


def one_over_m_anywhere(solution, derived, rng):
    return [PlantedSlip(str(rng.choice(_scaled_by_the_mean(solution, derived))), missing_one_over_m, "missing 1/m")]


def digit_slip_in_a_carried_forward_value(solution, derived, rng):
    """A digit slip, then another in a quantity computed from the first one's wrong value."""
    first = str(rng.choice(_worked(derived)))
    later = sorted(_after(derived, first))
    if not later:
        return None
    return [PlantedSlip(first, digit_swap, "digit slip"), PlantedSlip(str(rng.choice(later)), digit_swap, "digit slip")]


def digit_slip_after_another_slip(solution, derived, rng):
    """A flipped sign, a forgotten 1/m, a transposed matrix or a digit slip, then a digit slip in a quantity
    computed from that wrong value."""
    first = str(rng.choice(_worked(derived)))
    later = sorted(_after(derived, first))
    make, named = [(flipped_sign, "flipped sign|wrong sign"), (missing_one_over_m, "missing 1/m"),
                   (transposed, "transposed"), (digit_swap, "digit slip")][rng.integers(4)]
    if not later or (make is missing_one_over_m and first not in _scaled_by_the_mean(solution, derived)) or (
            make is transposed and derived[first].step and derived[first].step.from_cost):
        return None
    return [PlantedSlip(first, make, named), PlantedSlip(str(rng.choice(later)), digit_swap, "digit slip")]


def flipped_sign_anywhere(solution, derived, rng):
    # Flipping the one entry of an update of a zero parameter is the same as updating with the wrong sign.
    return [PlantedSlip(str(rng.choice(_worked(derived))), flipped_sign, "flipped sign|wrong sign")]


def transposed_then_used(solution, derived, rng):
    """A quantity written transposed (and used transposed in what follows); dJ/dL may be written as a row."""
    names = [name for name in _worked(derived) if not (derived[name].step and derived[name].step.from_cost)]
    return [PlantedSlip(str(rng.choice(names)), transposed, "transposed")]


SCENARIOS = {"missing 1/m in the last bias gradient": one_over_m_in_the_last_bias,
             "missing 1/m in any gradient": one_over_m_anywhere,
             "digit slip in a carried-forward value": digit_slip_in_a_carried_forward_value,
             "digit slip after another slip": digit_slip_after_another_slip,
             "flipped sign": flipped_sign_anywhere,
             "transposed parent": transposed_then_used}


def simulate(scenario, seed: int, full_precision: bool = False) -> tuple[int, int, list]:
    """How many of TRIALS students had every planted slip named, how many were penalised once per slip."""
    rng = np.random.default_rng(seed)
    named = once = done = 0
    misses = []
    while done < TRIALS:
        source = str(rng.choice(sorted(SOLUTIONS)))
        solution = SOLUTIONS[source]
        if solution.samples == 1 and scenario in (one_over_m_in_the_last_bias, one_over_m_anywhere):
            continue
        derived = derivations(solution)
        decimals = int(rng.integers(3, 6))
        planted = scenario(solution, derived, rng)
        answers = planted and hand_calculation(solution, decimals, planted, rng, full_precision)
        if not answers:
            continue
        done += 1
        results = {result.name: result for result in grade_answers(solution, answers, decimals)}
        this_named = all(results[slip.quantity].verdict == "wrong" and any(
            words in (results[slip.quantity].diagnosis or "") for words in slip.named.split("|")) for slip in planted)
        this_once = sum(result.verdict == "wrong" for result in results.values()) == len(planted)
        named += this_named
        once += this_once
        if not (this_named and this_once):
            misses.append((source, decimals, [slip.quantity for slip in planted],
                           {name: result.diagnosis for name, result in results.items() if result.verdict == "wrong"}))
    return named, once, misses


@pytest.mark.parametrize("full_precision", [False, True], ids=["rounding every step", "keeping full precision"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_planted_slips_are_named_and_penalised_once(scenario, full_precision):
    """Students who round every value they go on from, and students who keep full precision and round only what
    they write (whose rounded parents, recomputed, can be several units off: still no extra charge)."""
    named, once, misses = simulate(SCENARIOS[scenario], seed=sum(map(ord, scenario)), full_precision=full_precision)
    assert named >= (FULL_PRECISION_NAMED if full_precision else RATE) * TRIALS, (named, misses[:5])
    assert once >= RATE * TRIALS, (once, misses[:5])


def test_a_transposed_parent_is_used_transposed_downstream():
    """dJ/dW3 written transposed, W3_updated worked out from it: one mistake, not two."""
    solution = SOLUTIONS["article"]
    rng = np.random.default_rng(1)
    answers = hand_calculation(solution, 4, [PlantedSlip("dJ/dW3", transposed, "transposed")], rng)
    results = {result.name: result for result in grade_answers(solution, answers, 4)}
    assert [name for name, result in results.items() if result.verdict == "wrong"] == ["dJ/dW3"]
    assert "transposed" in results["dJ/dW3"].diagnosis
    assert results["W3_updated"].verdict == "correct"


@pytest.mark.parametrize("full_precision", [False, True])
@pytest.mark.parametrize("name", ["article", "mazur", "regularized"])
def test_a_slip_in_an_update_is_not_charged_again_in_j_final(name, full_precision):
    """J_final worked out from the student's own (wrongly) updated parameters is carried forward: one slip, one
    wrong answer (a digit slip in J_final on top of it is named in the simulation above)."""
    solution = SOLUTIONS[name]
    derived = derivations(solution)
    updates = [quantity for quantity, derivation in derived.items()
               if derivation.update is not None and quantity == derivation.update.name]
    for seed, update in enumerate(updates):
        for make in (flipped_sign, digit_swap):
            rng = np.random.default_rng(seed)
            answers = hand_calculation(solution, 4, [PlantedSlip(update, make, "")], rng, full_precision)
            if answers is None:
                continue
            results = {result.name: result for result in grade_answers(solution, answers, 4)}
            assert [quantity for quantity, result in results.items() if result.verdict == "wrong"] == [update]
            assert results["J_final"].verdict in ("carried forward", "correct")


def test_three_slips_one_of_them_a_transposed_parent_are_three_wrong_answers(tmp_path, capsys):
    """The issue's student: a flipped sign, dJ/dW2 written transposed (and used so), a digit slip in an update."""
    import json

    from jacobian_bp.cli import main

    solution = SOLUTIONS["article"]
    planted = [PlantedSlip("dJ/dZ3", flipped_sign, ""), PlantedSlip("dJ/dW2", transposed, ""),
               PlantedSlip("b1_updated", digit_swap, "")]
    answers = hand_calculation(solution, 4, planted, np.random.default_rng(3))
    path = tmp_path / "answers.toml"
    path.write_text('walkthrough = "article"\ndecimals = 4\n[answers]\n' + "".join(
        f"{json.dumps(name)} = {json.dumps(value.tolist())}\n" for name, value in answers.items()), encoding="utf-8")
    assert main(["check", str(path), "--width", "100"]) == 1
    summary = capsys.readouterr().out.split("Summary:")[1]
    assert "✗ 3 wrong" in summary
