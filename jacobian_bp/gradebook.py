"""Grading a whole class: many answer files into one table, one row per student, one column per quantity.

Each walkthrough is solved once for the whole class (`check.Solved`). A file that cannot be graded
becomes a row that says why, and the rest of the class is graded. Per quantity, the table counts
the wrong answers and names the commonest slip, so that a teacher sees which step the class did not
get. The JSON and CSV forms are built here; the terminal table is `render/terminal/gradebook.py`.
"""

import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .check import VERDICTS, Report, Solved, grade
from .errors import InputError, one_line
from .walkthrough import DEFAULT_MAX_JACOBIAN_MB

ANSWER_FILE_SUFFIX = ".toml"  # in any case: ADA.TOML is an answer file too
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts so as a formula


@dataclass(frozen=True)
class Student:
    """One answer file of the class: its report, or why it cannot be graded. `name` is how the table names the
    student: the file's name without `.toml`, with its folders when another file has the same name."""

    path: Path
    report: Report | None = None
    problem: str | None = None
    name: str = ""


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
    """Every answer file of a class, graded; `warnings` about the command line (a folder with no answer file)."""

    students: tuple[Student, ...]
    warnings: tuple[str, ...] = ()

    @property
    def groups(self) -> list[Group]:
        """The graded students by walkthrough, in the order the walkthroughs first appear.

        A walkthrough is the file it resolves to, not the string as written: "net.toml" in two folders is two
        walkthroughs (each then named by its path), "./net.toml" and "net.toml" beside each other are one.
        """
        graded = [student for student in self.students if student.report]
        sources = list(dict.fromkeys(student.report.source for student in graded))
        written = {source: next(student.report.walkthrough for student in graded if student.report.source == source)
                   for source in sources}
        ambiguous = {name for name, count in Counter(written.values()).items() if count > 1}
        groups = []
        for source in sources:
            members = tuple(student for student in graded if student.report.source == source)
            answered = {graded.name for student in members for graded in student.report.quantities
                        if graded.verdict != "unanswered"}
            order = members[0].report.order
            name = source if written[source] in ambiguous else written[source]
            groups.append(Group(name, members[0].report.title, members,
                                tuple(name for name in order if name in answered)))
        return groups

    @property
    def ungraded(self) -> list[Student]:
        return [student for student in self.students if student.problem]

    @property
    def needs_attention(self) -> bool:
        """Whether a file cannot be graded or an answer is wrong or unreadable: `check` exits with 1."""
        return bool(self.warnings) or any(student.problem or student.report.wrong for student in self.students)


def is_folder(path: Path) -> bool:
    """Whether `path` is a folder; a path that cannot even be looked at (a name too long, a loop of links) is
    not, and reading it as an answer file says what is wrong with it."""
    try:
        return path.is_dir()
    except OSError:
        return False


def is_answer_file(path: Path) -> bool:
    """Whether a file found in a folder is an answer file: `.toml` in any case, and not hidden nor an editor's
    lock or backup file (`.#ada.toml`, `#ada.toml#`, `ada.toml~`)."""
    return (path.suffix.lower() == ANSWER_FILE_SUFFIX and not path.name.startswith((".", "#", "~"))
            and path.is_file())


def folder_files(folder: Path) -> list[Path]:
    """The answer files in a folder and its subfolders (per-student folders, as a learning platform exports a
    class), sorted; hidden folders are skipped."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += [Path(root) / name for name in sorted(files) if is_answer_file(Path(root) / name)]
    return found


def answer_files(arguments: list[str]) -> tuple[list[Path], list[str]]:
    """The answer files named on the command line, each folder replaced by the answer files in it and in its
    subfolders; a file named twice (by another path to it, too) is graded once. Also the warnings: a folder with
    no answer file among other arguments. A command line that names no answer file at all is an error."""
    paths, warnings = [], []
    for argument in arguments:
        path = Path(argument)
        if is_folder(path):
            inside = folder_files(path)
            if not inside:
                warnings.append(f"{path}: no answer files (*{ANSWER_FILE_SUFFIX}) in this folder")
            paths += inside
        else:
            paths.append(path)
    if not paths:
        raise InputError("; ".join(warnings))
    unique = {os.path.realpath(path): path for path in reversed(paths)}  # the first path given to each file
    return [path for path in paths if unique.get(os.path.realpath(path)) is path], warnings


def student_names(paths: list[Path]) -> list[str]:
    """How the table names each file's student: the file's name without its suffix, with as many of its
    folders as tell it apart from the others with the same name (`ada/answers`, `ben/answers`)."""
    names = []
    for path in paths:
        parts = Path(os.path.abspath(path)).with_suffix("").parts
        depth = 1
        while depth < len(parts) and any(other != path and Path(os.path.abspath(other)).with_suffix("").parts[-depth:]
                                          == parts[-depth:] for other in paths):
            depth += 1
        names.append("/".join(parts[-depth:]))
    return names


def grade_class(paths: list[Path], max_jacobian_mb: float = DEFAULT_MAX_JACOBIAN_MB,
                decimals: int | None = None, warnings: tuple[str, ...] = ()) -> Gradebook:
    """Grade every answer file, solving each walkthrough once; a file that cannot be graded says why.
    `decimals` is the teacher's tolerance for every file (see `check.grade`)."""
    solved = Solved()
    students = []
    for path, name in zip(paths, student_names(paths), strict=True):
        try:
            students.append(Student(path, report=grade(path, max_jacobian_mb, solved, decimals), name=name))
        except InputError as error:
            students.append(Student(path, problem=one_line(str(error)), name=name))
    return Gradebook(tuple(students), tuple(warnings))


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
                      "unknown": dict(student.report.unknown), "decimals note": student.report.decimals_note,
                      "verdicts": {quantity: group.verdict(student, quantity) for quantity in group.quantities}}
                     for student in group.students]} for group in gradebook.groups],
        "ungraded": [{"student": student.name, "file": str(student.path), "problem": student.problem}
                     for student in gradebook.ungraded],
        "warnings": list(gradebook.warnings)}


def csv_text(gradebook: Gradebook) -> str:
    """The class as CSV: one row per student (walkthrough, a verdict per quantity, the counts, the problem of a
    file that cannot be graded or the names that are no quantity), then one row per verdict that counts the
    wrong and unreadable answers."""
    groups = gradebook.groups
    quantities = list(dict.fromkeys(quantity for group in groups for quantity in group.quantities))
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer, lineterminator="\n"))
    writer.writerow(["student", "file", "walkthrough", *quantities, *VERDICTS, "problem"])
    for group in groups:
        for student in group.students:
            summary = student.report.summary
            writer.writerow([student.name, str(student.path), group.walkthrough,
                             *(group.verdict(student, quantity) if quantity in group.quantities else ""
                               for quantity in quantities),
                             *(summary[verdict] for verdict in VERDICTS),
                             "; ".join([message for _, message in student.report.unknown]
                                       + [note for note in [student.report.decimals_note] if note])])
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


def spreadsheet_safe(cell):
    """A cell a spreadsheet shows as text: one that starts like a formula (=, +, -, @; a file named
    `=HYPERLINK(…).toml`) gets a leading `'`, as OWASP advises against CSV injection; numbers are left alone."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


class _SafeWriter:
    """A csv writer whose every text cell is made `spreadsheet_safe`."""

    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        self.writer.writerow([spreadsheet_safe(cell) for cell in row])
