"""Simulated students: a whole hand calculation, rounded at every step, with known slips planted in it.

A student works through the quantities in the order `check` lists them, computing each from their
OWN earlier (rounded) values with the engine's own functions, and rounds it to the file's decimals.
A slip changes the value of one quantity; everything after it is worked out from the slipped value,
as a real student carries a mistake forward (a parent written transposed is used as its transpose).
The tests grade such students and count how often each planted slip is named, and how often a
slip is penalised more than once.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jacobian_bp.check import derivations, exact_values
from jacobian_bp.slips import within
from jacobian_bp.solution import Solution

# A slip: (the student's rounded value, their unrounded value, m, decimals, rng) → the value written, or None
# when the slip cannot be made on this value (a sign flip of zeros).
SlipMaker = Callable[[np.ndarray, np.ndarray, int, int, np.random.Generator], np.ndarray | None]


@dataclass(frozen=True)
class PlantedSlip:
    """A slip planted in a quantity, and the words its diagnosis must contain."""

    quantity: str
    make: SlipMaker
    named: str


def _entries_that_matter(value: np.ndarray, decimals: int) -> np.ndarray:
    """The positions of entries large enough for a slip of the pen to show (a few units of the last decimal)."""
    return np.argwhere(np.abs(value) >= 20 * 10.0**-decimals)


def digit_swap(value, unrounded, m, decimals, rng):
    """Two adjacent digits of one entry swapped, where that changes the entry by more than a unit."""
    candidates = []
    for position in map(tuple, _entries_that_matter(value, decimals)):
        text = f"{value[position]:.{decimals}f}"
        digits = [i for i, c in enumerate(text) if c.isdigit()]
        for a, b in zip(digits, digits[1:], strict=False):
            if b == a + 1 and text[a] != text[b] and not (a == digits[0] and text[b] == "0"):
                swapped = text[:a] + text[b] + text[a] + text[b + 1:]
                if abs(float(swapped) - value[position]) > 2 * 10.0**-decimals:
                    candidates.append((position, float(swapped)))
    if not candidates:
        return None
    position, swapped = candidates[rng.integers(len(candidates))]
    slipped = value.copy()
    slipped[position] = swapped
    return slipped


def flipped_sign(value, unrounded, m, decimals, rng):
    """One entry written with the wrong sign."""
    positions = _entries_that_matter(value, decimals)
    if not len(positions):
        return None
    slipped = value.copy()
    position = tuple(positions[rng.integers(len(positions))])
    slipped[position] = -slipped[position]
    return slipped


def missing_one_over_m(value, unrounded, m, decimals, rng):
    """The mean's 1/m forgotten in this gradient: m times the student's own value."""
    if m == 1 or not len(_entries_that_matter(value, decimals)):
        return None
    return np.round(unrounded * m, decimals)


def transposed(value, unrounded, m, decimals, rng):
    """The whole matrix written transposed (of a shape that shows it)."""
    return value.T if value.shape[0] != value.shape[1] and value.size > 1 else None


SLIPS = {"digit slip": digit_swap, "flipped sign": flipped_sign, "missing 1/m": missing_one_over_m,
         "transposed": transposed}


def hand_calculation(solution: Solution, decimals: int, planted: list[PlantedSlip],
                     rng: np.random.Generator) -> dict[str, np.ndarray] | None:
    """Every quantity but the givens as a student works it out, with the slips planted (None if one cannot be made)."""
    exact = exact_values(solution)
    used = dict(exact)
    answers = {}
    slips = {slip.quantity: slip for slip in planted}
    for name, derivation in derivations(solution).items():
        if derivation.group == "given":
            continue
        with np.errstate(all="ignore"):
            unrounded = np.asarray(derivation.compute(used), dtype=float).reshape(exact[name].shape)
        value = np.round(unrounded, decimals)
        if name in slips:
            value = slips[name].make(value, unrounded, solution.samples, decimals, rng)
            if value is None or (value.shape == exact[name].shape and within(value, exact[name], decimals).all()):
                return None  # a slip that cannot be made here, or that happens to give the exact value
        answers[name] = value
        used[name] = value if value.shape == exact[name].shape else value.T
    return answers


CLASS_SLIPS = (("dJ/dW3", transposed), ("dJ/db3", missing_one_over_m), ("dJ/dZ2", flipped_sign),
               ("dJ/dA2", digit_swap), ("dJ/dW1", missing_one_over_m), ("W2_updated", digit_swap))


def write_class(folder, solution: Solution, source: str, students: int, seed: int) -> dict[str, dict]:
    """`students` answer files for `solution` in `folder`: most with one or two of CLASS_SLIPS, some with an
    unreadable entry or a decimal comma, one left blank. Returns what was planted, by student."""
    rng = np.random.default_rng(seed)
    planted = {}
    for number in range(1, students + 1):
        name = f"student{number:02d}"
        chosen = [CLASS_SLIPS[i] for i in sorted(rng.choice(len(CLASS_SLIPS), size=int(rng.integers(0, 3)),
                                                            replace=False))]
        slips = [PlantedSlip(quantity, make, "") for quantity, make in chosen]
        answers = None
        while answers is None:
            answers = hand_calculation(solution, 4, slips, rng)
        entries = {quantity: value.tolist() for quantity, value in answers.items()}
        unreadable = comma = None
        if number == students:
            entries = {quantity: [["?"] * len(row) for row in value] for quantity, value in entries.items()}
        elif number % 7 == 0:
            unreadable = str(rng.choice([q for q in entries if q not in dict(chosen)]))
            entries[unreadable][0][0] = "1.2.3"
        elif number % 5 == 0:
            comma = "J"
            entries["J"][0][0] = f"{answers['J'][0, 0]:.4f}".replace(".", ",")
        lines = [f'walkthrough = "{source}"', "decimals = 4", "", "[answers]"]
        lines += [f'"{quantity}" = {_toml(value)}' for quantity, value in entries.items()]
        (folder / f"{name}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        planted[name] = {"slips": [quantity for quantity, _ in chosen], "unreadable": unreadable, "comma": comma,
                         "blank": number == students}
    return planted


def _toml(value) -> str:
    """A list of rows as a TOML array: numbers as they are, strings quoted."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(float(value))
