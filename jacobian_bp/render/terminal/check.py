"""The `check` report in the terminal: every quantity as a matrix with each entry marked.

✓ correct, ↪ carried forward (right from the student's own earlier values), ✗ wrong with the
expected value beside it, ! unreadable (with the reason), ○ unanswered; then the diagnosis of a
wrong answer and a summary line.
Marks are spelt in ASCII on terminals that cannot show Unicode.
"""

import itertools
import re

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from ...check import VERDICTS, Graded, Report
from ...numbers import format_number
from ...sentences import say
from ...slips import within
from .widgets import NAME_STYLE, NOTE_STYLE, OK_STYLE, ZERO_STYLE, Equation, Heading, MatrixView, Prose

MARKS = {"correct": "✓", "carried forward": "↪", "wrong": "✗", "unreadable": "!", "unanswered": "○"}
ASCII_MARKS = {"correct": "OK", "carried forward": "CF", "wrong": "X", "unreadable": "!", "unanswered": "-"}
STYLES = {"correct": OK_STYLE, "carried forward": "cyan", "wrong": "bold red", "unreadable": "bold magenta",
          "unanswered": ZERO_STYLE}
PARTS = {"given": "Givens", "forward": "Forward pass, loss and cost", "jacobians": "Backward pass",
         "gradients": "Backward pass", "update": "{optimizer} update"}  # the walkthrough's optimizer, by its title


def render(report: Report, console: Console) -> None:
    """Print the report: a heading per part of the calculation, every answered quantity, the summary (only the
    summary, after saying so, for a file with nothing answered)."""
    console.print(Prose(f"Checking {report.path} against the walkthrough {report.walkthrough} "
                        f"({report.title}), to {report.decimals} decimals.", "bold"))
    if not report.conventions.is_default:
        console.print(Prose(say(f"Answers are read with {report.conventions}, as the answer file or the "
                                "walkthrough says.")))
    if report.decimals_note:
        console.print(Prose(say(f"Note: {report.decimals_note}."), NOTE_STYLE))
    console.print(_Legend(report.decimals, report.summary["unreadable"] > 0))
    if report.blank:
        console.print()
        if report.quantities:
            console.print(Prose(say('Nothing is answered yet: every entry is "?". Replace each "?" with the value '
                                    "you worked out by hand, then check the file again."), "bold"))
        else:
            console.print(Prose(say("Nothing to grade: the [answers] table is empty. Write each quantity you "
                                    'worked out under it, e.g. "J" = 0.1952 (`jacobian-bp worksheet` writes a '
                                    "file with every name)."), "bold"))
        console.print()
        console.print(_Summary(report))
        return
    parts = {group: heading.format(optimizer=report.optimizer) for group, heading in PARTS.items()}
    for part, quantities in itertools.groupby(report.quantities, key=lambda graded: parts[graded.group]):
        console.print()
        console.print(Heading(part))
        for graded in quantities:
            console.print()
            console.print(QuantityView(graded, report.decimals))
    if report.unknown:
        console.print()
        console.print(Heading("Names that are no quantity of this walkthrough"))
        for _, message in report.unknown:
            console.print(Prose(say(message), "bold red"))
    console.print()
    console.print(_Summary(report))


def _marks(ascii_only: bool) -> dict[str, str]:
    return ASCII_MARKS if ascii_only else MARKS


def _names(names) -> str:
    """`"A"`, `"A and B"`, `"A, B and C"`."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _counts(counts: dict[str, int], marks: dict[str, str]) -> str:
    """Each verdict with its count; "unreadable" only where there are some."""
    return ", ".join(f"{marks[verdict]} {counts[verdict]} {verdict}" for verdict in VERDICTS
                     if counts[verdict] or verdict != "unreadable")


class _Legend:
    """What the marks mean."""

    def __init__(self, decimals: int, unreadable: bool = False):
        self.decimals, self.unreadable = decimals, unreadable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        marks = _marks(options.ascii_only)
        bound = format_number(10.0**-self.decimals, self.decimals)
        yield Prose(f"{marks['correct']} correct (within {bound}), {marks['carried forward']} carried forward "
                    f"(right from your own earlier values), {marks['wrong']} wrong (expected value in "
                    f"parentheses), "
                    + (f"{marks['unreadable']} unreadable (the reason below), " if self.unreadable else "")
                    + f"{marks['unanswered']} unanswered.", ZERO_STYLE)


class _Summary:
    """The closing line: how many quantities, and how many entries, got each verdict."""

    def __init__(self, report: Report):
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        marks = _marks(options.ascii_only)
        quantities, entries = self.report.summary, self.report.entry_summary
        count = sum(quantities.values())
        unknown = len(self.report.unknown)
        named = f" {unknown} unknown name{'s' * (unknown != 1)}." if unknown else ""
        yield Prose(f"Summary: {count} quantit{'ies' if count != 1 else 'y'}: {_counts(quantities, marks)}. "
                    f"Entries: {_counts(entries, marks)}.{named}", "bold red" if self.report.wrong else "bold green")


class MarkedMatrix(MatrixView):
    """A matrix whose entries carry their verdict marks, each mark in its colour."""

    def lines(self, max_width: int, ascii_only: bool) -> list[Text]:
        lines = [line if isinstance(line, Text) else line.text() for line in super().lines(max_width, ascii_only)]
        for verdict, mark in _marks(ascii_only).items():
            pattern = rf"(?<![\w.]){re.escape(mark)}(?![\w.])"
            for line in lines:
                line.highlight_regex(pattern, STYLES[verdict])
        return lines


def marked_matrix(graded: Graded, decimals: int) -> MarkedMatrix:
    """The answer with a mark after every entry, and the expected value after a wrong one.

    Numbers line up on the decimal point, column by column, before the marks are added.
    """
    answer, entries = graded.answer, graded.entries
    unanswered = np.isnan(answer)
    numbers = [["?" if np.isnan(v) else format_number(float(v), decimals) for v in row] for row in answer]
    aligned = MatrixView(numbers, unanswered, numeric=True)
    columns = [aligned.aligned_column(numbers, j, list(range(len(numbers)))) for j in range(answer.shape[1])]
    shape_ok = answer.shape == graded.expected.shape

    def cells(marks: dict[str, str]) -> list[list[str]]:
        rows = []
        for i, row in enumerate(entries):
            cells_of_row = []
            for j, verdict in enumerate(row):
                cell = f"{columns[j][i]} {marks[verdict]}"
                if verdict == "wrong" and shape_ok:
                    cell += f" ({format_number(float(graded.expected[i, j]), decimals)})"
                cells_of_row.append(cell)
            rows.append(cells_of_row)
        for j in range(answer.shape[1]):
            width = max(len(row[j]) for row in rows)
            for row in rows:
                row[j] = row[j].ljust(width)
        return rows

    return MarkedMatrix(cells(MARKS), unanswered, numeric=False, ascii_cells=cells(ASCII_MARKS))


class QuantityView:
    """One graded quantity: the marked matrix and its verdict, then what a wrong answer needs said."""

    def __init__(self, graded: Graded, decimals: int):
        self.graded, self.decimals = graded, decimals

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        graded, decimals = self.graded, self.decimals
        mark = _marks(options.ascii_only)[graded.verdict]
        verdict = f"{mark} {graded.verdict}"
        if graded.verdict == "carried forward":
            verdict += f": right from your own {_names(graded.sources)}"
        yield Equation(Text(f"{graded.name} =", NAME_STYLE), marked_matrix(graded, decimals),
                       Text(verdict, STYLES[graded.verdict]))
        for note in graded.notes:
            yield Prose(f"Note: {note}.", NOTE_STYLE)
        if graded.verdict != "wrong":
            return
        if graded.answer.shape != graded.expected.shape:
            yield Equation("Expected", MatrixView.of(graded.expected, decimals))
        if graded.own is not None and not within(graded.own, graded.expected, decimals).all():
            yield Equation(f"From your own {_names(graded.sources)} it would be", MatrixView.of(graded.own, decimals))
        elif graded.parents:
            yield Prose(f"{graded.name} is computed from {_names(graded.parents)}.")
        if graded.diagnosis:
            yield Prose(f"Diagnosis: {graded.diagnosis}.", NOTE_STYLE)
