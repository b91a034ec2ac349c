"""Grading a whole class: many answer files into one table, one row per student, one column per quantity.

Each walkthrough is solved once for the whole class (`check.Solved`). A file that cannot be graded
becomes a row that says why, and the rest of the class is graded. Per quantity, the table counts
the wrong answers and names the commonest slip, so that a teacher sees which step the class did not
get. The JSON and CSV forms are built here; the terminal table is `render/terminal/gradebook.py`.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .check import VERDICTS, Report, Solved, grade
from .errors import InputError, one_line
from .walkthrough import DEFAULT_MAX_JACOBIAN_MB

ANSWER_FILE_PATTERN = "*.toml"


@dataclass(frozen=True)
class Student:
    """One answer file of the class: its report, or why it cannot be graded."""

    path: Path
    report: Report | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        """The student as the table names them: the answer file's name without `.toml`."""
        return self.path.stem


@dataclass(frozen=True)
class Group:
    """The students who answered one walkthrough, and the quantities at least one of them answered."""

    walkthrough: str
    title: str
    students: tuple[Student, ...]
    quantities: tuple[str, ...]

    def verdict(self, student: Student, quantity: str) -> str:
        graded = next((graded for graded in student.report.quantities if graded.name == quantity), None)
        return graded.verdict if graded else "unanswered"

    def counts(self, quantity: str) -> dict[str, int]:
        """How many students got each verdict on `quantity`."""
        tally = Counter(self.verdict(student, quantity) for student in self.students)
        return {verdict: tally[verdict] for verdict in VERDICTS}

    def commonest_slip(self, quantity: str) -> tuple[str, int] | None:
        """The slip named most often in the wrong answers to `quantity`, and how often."""
        slips = Counter(_slip_name(graded.diagnosis) for student in self.students
                        for graded in student.report.quantities
                        if graded.name == quantity and graded.verdict == "wrong" and graded.diagnosis)
        return slips.most_common(1)[0] if slips else None


@dataclass(frozen=True)
class Gradebook:
    """Every answer file of a class, graded."""

    students: tuple[Student, ...]

    @property
    def groups(self) -> list[Group]:
        """The graded students by walkthrough, in the order the walkthroughs first appear."""
        graded = [student for student in self.students if student.report]
        groups = []
        for walkthrough in dict.fromkeys(student.report.walkthrough for student in graded):
            members = tuple(student for student in graded if student.report.walkthrough == walkthrough)
            answered = {graded.name for student in members for graded in student.report.quantities
                        if graded.verdict != "unanswered"}
            order = members[0].report.order
            groups.append(Group(walkthrough, members[0].report.title, members,
                                tuple(name for name in order if name in answered)))
        return groups

    @property
    def ungraded(self) -> list[Student]:
        return [student for student in self.students if student.problem]

    @property
    def needs_attention(self) -> bool:
        """Whether a file cannot be graded or an answer is wrong or unreadable: `check` exits with 1."""
        return any(student.problem or student.report.wrong for student in self.students)


def is_folder(path: Path) -> bool:
    """Whether `path` is a folder; a path that cannot even be looked at (a name too long, a loop of links) is
    not, and reading it as an answer file says what is wrong with it."""
    try:
        return path.is_dir()
    except OSError:
        return False


def answer_files(arguments: list[str]) -> list[Path]:
    """The answer files named on the command line, each folder replaced by its `*.toml` files (sorted)."""
    paths = []
    for argument in arguments:
        path = Path(argument)
        if is_folder(path):
            inside = sorted(path.glob(ANSWER_FILE_PATTERN))
            if not inside:
                raise InputError(f"{path}: no answer files ({ANSWER_FILE_PATTERN}) in this folder")
            paths += inside
        else:
            paths.append(path)
    return list(dict.fromkeys(paths))


def grade_class(paths: list[Path], max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB) -> Gradebook:
    """Grade every answer file, solving each walkthrough once; a file that cannot be graded says why."""
    solved = Solved()
    students = []
    for path in paths:
        try:
            students.append(Student(path, report=grade(path, max_jacobian_mb, solved)))
        except InputError as error:
            students.append(Student(path, problem=one_line(str(error))))
    return Gradebook(tuple(students))


def _slip_name(diagnosis: str) -> str:
    """The name of the first slip in a diagnosis: `digit slip` of `row 2, column 1: digit slip: 0.1 …`."""
    without_place = re.sub(r"^(expected shape [^;]*; )?(row \d+, column \d+: )?", "", diagnosis)
    return without_place.split(":")[0]


def document(gradebook: Gradebook) -> dict:
    """The class as JSON (docs/json.md): per walkthrough, the quantities with their counts and every student's
    verdicts; then the files that cannot be graded."""
    return {"walkthroughs": [{
        "walkthrough": group.walkthrough,
        "title": group.title,
        "quantities": {quantity: {**group.counts(quantity),
                                  "commonest slip": (group.commonest_slip(quantity) or (None,))[0]}
                       for quantity in group.quantities},
        "students": [{"student": student.name, "file": str(student.path), "decimals": student.report.decimals,
                      "summary": student.report.summary, "blank": student.report.blank,
                      "verdicts": {quantity: group.verdict(student, quantity) for quantity in group.quantities}}
                     for student in group.students]} for group in gradebook.groups],
        "ungraded": [{"student": student.name, "file": str(student.path), "problem": student.problem}
                     for student in gradebook.ungraded]}


def csv_text(gradebook: Gradebook) -> str:
    """The class as CSV: one row per student (walkthrough, a verdict per quantity, the counts, the problem of a
    file that cannot be graded), then one row per verdict that counts the wrong and unreadable answers."""
    groups = gradebook.groups
    quantities = list(dict.fromkeys(quantity for group in groups for quantity in group.quantities))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "file", "walkthrough", *quantities, *VERDICTS, "problem"])
    for group in groups:
        for student in group.students:
            summary = student.report.summary
            writer.writerow([student.name, str(student.path), group.walkthrough,
                             *(group.verdict(student, quantity) if quantity in group.quantities else ""
                               for quantity in quantities),
                             *(summary[verdict] for verdict in VERDICTS), ""])
    for student in gradebook.ungraded:
        writer.writerow([student.name, str(student.path), "", *([""] * len(quantities)), *([""] * len(VERDICTS)),
                         student.problem])
    for verdict in ("wrong", "unreadable"):
        totals = Counter()
        for group in groups:
            for quantity in group.quantities:
                totals[quantity] += group.counts(quantity)[verdict]
        writer.writerow([f"({verdict} answers)", "", "", *(totals[quantity] for quantity in quantities),
                         *([""] * len(VERDICTS)), ""])
    return buffer.getvalue()
