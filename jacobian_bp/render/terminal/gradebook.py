"""The class table in the terminal: one row per student, one column per quantity, a mark per verdict.

Quantities are numbered in the header and named in a key below, so that forty of them fit; a table
wider than the terminal is cut into several, each repeating the student column. Under the table,
a row counts the wrong answers of each quantity, and the quantities the class got wrong most often
are listed with their commonest slip.
"""

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from ...gradebook import Gradebook, Group
from .check import STYLES, _marks
from .widgets import NOTE_STYLE, ZERO_STYLE, Heading, Prose

COLUMN = 4  # a mark or a count of up to two digits, with its padding
SHOWN_STEPS = 5  # the quantities most often wrong that are listed under a table
BLANK = " (blank)"  # after the name of a student who answered nothing


def render(gradebook: Gradebook, console: Console) -> None:
    """Print one table per walkthrough, then the files that cannot be graded."""
    count = len(gradebook.students)
    console.print(Prose(f"Checking {count} answer file{'s' * (count != 1)}.", "bold"))
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
        yield Prose(f"{marks['correct']} correct, {marks['carried forward']} carried forward, {marks['wrong']} wrong, "
                    f"{marks['unreadable']} unreadable, {marks['unanswered']} unanswered; a quantity takes its worst "
                    "entry. `check FILE` shows one student's answers in full.", ZERO_STYLE)


class GroupTable:
    """The students of one walkthrough against its quantities, cut into tables that fit the width."""

    def __init__(self, group: Group):
        self.group = group

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        group, marks = self.group, _marks(options.ascii_only)
        names = [len(student.name) + len(BLANK) for student in group.students]
        name_width = max([len("unreadable answers"), *names]) + 2
        per_table = max(1, (options.max_width - name_width - 2 * COLUMN) // COLUMN)
        numbered = list(enumerate(group.quantities, start=1))
        for start in range(0, max(len(numbered), 1), per_table):
            shown = numbered[start:start + per_table]
            last = start + per_table >= len(numbered)
            table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
            table.add_column("student", no_wrap=True, min_width=name_width - 2)
            for number, _ in shown:
                table.add_column(str(number), justify="center", no_wrap=True)
            if last:
                table.add_column(marks["wrong"], justify="right", no_wrap=True, style=STYLES["wrong"])
            for student in group.students:
                cells = [Text(marks[verdict], STYLES[verdict])
                         for verdict in (group.verdict(student, quantity) for _, quantity in shown)]
                extra = [str(student.report.summary["wrong"] + student.report.summary["unreadable"])] if last else []
                table.add_row(student.name + (BLANK if student.report.blank else ""), *cells, *extra)
            table.add_section()
            for verdict in ("wrong", "unreadable"):
                counts = [group.counts(quantity)[verdict] for _, quantity in shown]
                if verdict == "wrong" or any(counts):
                    table.add_row(Text(f"{verdict} answers", STYLES[verdict]),
                                  *(Text(str(count), STYLES[verdict] if count else ZERO_STYLE) for count in counts),
                                  *([""] if last else []))
            yield table
            if not last:
                yield Text()


class _Key:
    """Which quantity each column number stands for."""

    def __init__(self, group: Group):
        self.group = group

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = " · ".join(f"{number} {quantity}" for number, quantity in enumerate(self.group.quantities, start=1))
        yield Prose(f"Columns: {key}.", ZERO_STYLE)


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
            yield Prose(f"Nobody in the class got a quantity wrong ({len(group.students)} students).", "bold green")
            return
        parts = []
        for count, quantity in wrong:
            slip = group.commonest_slip(quantity)
            named = f", {slip[1]} of them {slip[0]}" if slip else ""
            parts.append(f"{quantity} ({count} of {len(group.students)} wrong{named})")
        yield Prose(f"Most often wrong: {'; '.join(parts)}.", NOTE_STYLE)
