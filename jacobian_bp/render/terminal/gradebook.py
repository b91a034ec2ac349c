"""The class table in the terminal: one row per student, one column per quantity, a mark per verdict.

Quantities are numbered in the header and named in a key below, so that forty of them fit; a table
wider than the terminal is cut into several, each repeating the student column. Under the table,
a row counts the wrong answers of each quantity, and the quantities the class got wrong most often
are listed with their commonest slip.
"""

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from ...gradebook import Gradebook, Group
from ...sentences import math, say
from .check import STYLES, _marks
from .widgets import NOTE_STYLE, ZERO_STYLE, Heading, Prose

COLUMN = 4  # a mark or a count of up to two digits, with its padding
SHOWN_STEPS = 5  # the quantities most often wrong that are listed under a table
BLANK = " (blank)"  # after the name of a student who answered nothing


def render(gradebook: Gradebook, console: Console) -> None:
    """Print one table per walkthrough, then the files that cannot be graded."""
    count = len(gradebook.students)
    console.print(Prose(say(f"Checking {count} answer file{'s' * (count != 1)}."), "bold"))
    for group in gradebook.groups:
        console.print()
        console.print(Heading(f"{group.walkthrough}: {group.title}"))
        console.print(_Legend())
        console.print(GroupTable(group))
        console.print(_Key(group))
        console.print(_Hardest(group))
    if gradebook.ungraded:
        console.print()
        console.print(Heading("Answer files that cannot be graded"))
        for student in gradebook.ungraded:
            console.print(Prose(student.problem, "bold red"))


class _Legend:
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        marks = _marks(options.ascii_only)
        yield Prose(say(f"{marks['correct']} correct, {marks['carried forward']} carried forward, {marks['wrong']} "
                        f"wrong, {marks['unreadable']} unreadable, {marks['unanswered']} unanswered; a quantity takes "
                        "its worst entry. `check FILE` shows one student's answers in full."), ZERO_STYLE)


class GroupTable:
    """The students of one walkthrough against its quantities, cut into tables that fit the width.

    The rows are laid out here, one `Text` each, in columns of a fixed width: a class of thirty is
    printed as fast as one report.
    """

    def __init__(self, group: Group):
        self.group = group

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        group, marks = self.group, _marks(options.ascii_only)
        names = [len(student.name) + len(BLANK) for student in group.students]
        name_width = max([len("unreadable answers"), *names]) + 2
        per_table = max(1, (options.max_width - name_width - COLUMN) // COLUMN)
        numbered = list(enumerate(group.quantities, start=1))
        counts = {verdict: [group.counts(quantity)[verdict] for quantity in group.quantities]
                  for verdict in ("wrong", "unreadable")}
        verdicts = [[group.verdict(student, quantity) for quantity in group.quantities] for student in group.students]
        for start in range(0, max(len(numbered), 1), per_table):
            shown = range(start, min(start + per_table, len(numbered)))
            last = start + per_table >= len(numbered)
            header = Text("student".ljust(name_width), "bold")
            for index in shown:
                header.append(str(numbered[index][0]).ljust(COLUMN), "bold")
            if last:
                header.append(marks["wrong"], "bold")
            header.rstrip()
            yield header
            for student, row in zip(group.students, verdicts, strict=True):
                line = Text((student.name + (BLANK if student.report.blank else "")).ljust(name_width))
                for index in shown:
                    line.append(marks[row[index]], STYLES[row[index]])
                    line.append(" " * (COLUMN - len(marks[row[index]])))
                if last:
                    summary = student.report.summary
                    line.append(str(summary["wrong"] + summary["unreadable"]), STYLES["wrong"])
                line.rstrip()
                yield line
            for verdict, numbers in counts.items():
                if verdict == "wrong" or any(numbers):
                    line = Text(f"{verdict} answers".ljust(name_width), STYLES[verdict])
                    for index in shown:
                        style = STYLES[verdict] if numbers[index] else ZERO_STYLE
                        line.append(str(numbers[index]).ljust(COLUMN), style)
                    line.rstrip()
                    yield line
            if not last:
                yield Text()


class _Key:
    """Which quantity each column number stands for."""

    def __init__(self, group: Group):
        self.group = group

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        entries = [say(" · " if number > 1 else "", f"{number} ", math(quantity))
                   for number, quantity in enumerate(self.group.quantities, start=1)]
        yield Prose(say("Columns: ", *entries, "."), ZERO_STYLE)


class _Hardest:
    """The quantities most often wrong, with how many students got them wrong and the slip they made most."""

    def __init__(self, group: Group):
        self.group = group

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        group = self.group
        wrong = sorted(((group.counts(quantity)["wrong"], quantity) for quantity in group.quantities),
                       key=lambda pair: -pair[0])
        wrong = [(count, quantity) for count, quantity in wrong if count][:SHOWN_STEPS]
        if not wrong:
            yield Prose(say(f"Nobody in the class got a quantity wrong ({len(group.students)} students)."),
                        "bold green")
            return
        parts = []
        for count, quantity in wrong:
            slip = group.commonest_slip(quantity)
            named = f", {slip[1]} of them {slip[0]}" if slip else ""
            counted = f" ({count} of {len(group.students)} wrong{named})"
            parts.append(say("; " if parts else "", math(quantity), counted))
        yield Prose(say("Most often wrong: ", *parts, "."), NOTE_STYLE)
