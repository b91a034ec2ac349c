"""The command line: argparse subcommands that load, solve and hand over to a renderer or the checker.

Errors are one line on stderr and exit status 2, never a traceback. Renderers are imported
only when used, so `--format json` loads neither rich nor sympy; nor pathlib, which only files
given with -o and `check` need.
"""

import argparse
import gc
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from . import __version__
from .conventions import LAYOUT, SAMPLES, VEC, overridden
from .errors import InputError, one_line
from .names import GROUPS
from .solution import solve
from .walkthrough import (
    DEFAULT_MAX_JACOBIAN_MB,
    MAX_DECIMALS,
    MIN_DECIMALS,
    Walkthrough,
    bundled_names,
    load,
    refuse_dense,
)

if TYPE_CHECKING:
    from pathlib import Path

PROGRAM = "jacobian-bp"
FORMATS = ("text", "json", "markdown", "latex", "html", "pytorch")
EXTENSIONS = {".txt": "text", ".json": "json", ".md": "markdown", ".markdown": "markdown", ".tex": "latex",
              ".html": "html", ".htm": "html", ".py": "pytorch"}

EXAMPLES = f"""\
examples:
  {PROGRAM} walkthrough                       the article's example, every Jacobian written out
  {PROGRAM} walkthrough xor --decimals 6      a bundled walkthrough, more decimals
  {PROGRAM} walkthrough my_net.toml           your own network (format: see README)
  {PROGRAM} walkthrough --format json         every quantity at full precision, for programs
  {PROGRAM} walkthrough --step --reveal       classroom step-through, results revealed on cue
  {PROGRAM} walkthrough -o notes.html         a self-contained page (also .md, .tex, .json)
  {PROGRAM} walkthrough -o check.py           a PyTorch script that redoes it and compares every value
  {PROGRAM} explain article "dZ2/dW2[3,4]"   one Jacobian entry: what it relates, its equation, its number
  {PROGRAM} list                              the bundled walkthroughs
  {PROGRAM} worksheet article -o answers.toml a blank answer file for students
  {PROGRAM} check answers.toml                grade a filled-in answer file
"""

WALKTHROUGH_EXAMPLES = f"""\
examples:
  {PROGRAM} walkthrough
  {PROGRAM} walkthrough article --width 80 --decimals 3
  {PROGRAM} walkthrough path/to/network.toml --format json > values.json
  {PROGRAM} walkthrough --step            keys: → n space Enter next, ← p b back, g 5 Enter jump, q quit, ? help
  {PROGRAM} walkthrough article -o article.tex
  {PROGRAM} walkthrough --samples columns --vec column-major --layout denominator   as many textbooks write it
  {PROGRAM} walkthrough residual --format pytorch > residual.py && python residual.py
"""

EXPLAIN_EXAMPLES = f"""\
examples:
  {PROGRAM} explain article "dZ2/dW2[3,4]"    row 3, column 4 of dZ2/dW2 (counted from 1)
  {PROGRAM} explain article dA1/dZ1           the scalar equations behind every row of dA1/dZ1
  {PROGRAM} explain my_net.toml "dL/dA2[1,1]"
"""

WORKSHEET_EXAMPLES = f"""\
examples:
  {PROGRAM} worksheet > answers.toml
  {PROGRAM} worksheet article --only gradients,update -o answers.toml
"""

CHECK_EXAMPLES = f"""\
examples:
  {PROGRAM} check answers.toml
  {PROGRAM} check answers.toml --format json
  {PROGRAM} check class/                   the whole class: one row per student, one column per quantity
  {PROGRAM} check class/ --format csv > grades.csv
exit status: 0 when nothing is wrong, 1 when an answer is wrong or unreadable (or, for a class, a file
cannot be graded), 2 for a single file that cannot be graded
"""


class UsageError(InputError):
    """Bad usage of the command line; the message is shown as it is."""


def _terminal_columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it: $COLUMNS, else the terminal on stdout, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help as written (descriptions and examples keep their lines), wrapped at the terminal's width
    less 2, as argparse does; argparse would import shutil to find that width for every argument it checks, a
    fiftieth of the start of `--format json`."""

    def __init__(self, prog: str):
        super().__init__(prog, width=_terminal_columns() - 2)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that `main` turns into exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _subparser(commands, name: str, help_text: str, description: str, examples: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=help_text, description=description, epilog=examples,
                               formatter_class=_HelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROGRAM, description="Backpropagation with every Jacobian written out.",
                     epilog=EXAMPLES, formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    walkthrough = _subparser(
        commands, "walkthrough", "the whole walkthrough: forward pass, loss, every backward step, update",
        "Run the forward pass, the loss and the cost, then every backward step with its full Jacobian, "
        "then one SGD step.", WALKTHROUGH_EXAMPLES)
    _add_source(walkthrough)
    walkthrough.add_argument("--format", choices=FORMATS,
                             help="text for people (default), json for programs, markdown, latex or html "
                                  "documents, pytorch for a script that redoes it in PyTorch and compares "
                                  "every value (default: from the extension of -o, else text)")
    walkthrough.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    walkthrough.add_argument("--decimals", type=_decimals, metavar="N",
                             help=f"decimals shown, {MIN_DECIMALS} to {MAX_DECIMALS} (default: the file's, else 4)")
    walkthrough.add_argument("--no-symbolic", dest="symbolic", action="store_false",
                             help="show only numeric Jacobians (faster; skips sympy)")
    walkthrough.add_argument("--dense-jacobians", action="store_true",
                             help="json: write every Jacobian as its full matrix, also those above 10,000 entries "
                                  "(written by their structure otherwise; see docs/json.md)")
    walkthrough.add_argument("--width", type=_width, metavar="N",
                             help="columns to lay out for (default: the terminal's width)")
    walkthrough.add_argument("--step", action="store_true",
                             help="classroom step-through: one step at a time, forward and back")
    walkthrough.add_argument("--reveal", action="store_true",
                             help="step-through (implies --step) that hides each result until `r` is pressed")
    walkthrough.add_argument("--all-steps", action="store_true",
                             help="over several training steps, show every page of every step (by default the "
                                  "first step in full, then each later step's update and cost)")
    walkthrough.add_argument("--escape-backslashes", action="store_true",
                             help="markdown: inside math, double every backslash and escape _ and *, for "
                                  "renderers that read math as Markdown first")
    _add_conventions(walkthrough)
    _add_memory_limit(walkthrough)
    walkthrough.set_defaults(run=_walkthrough)

    explain = _subparser(
        commands, "explain", "one entry of a local Jacobian explained: which entries it relates, its scalar "
        "equation, its derivative and its number",
        "Explain one entry of a local Jacobian: which entry of the output (its row) and which entry of the "
        "variable (its column) it relates, read row by row, the scalar equation of that output entry, its "
        "derivative and the number. Without [row,column], the scalar equations behind every row.",
        EXPLAIN_EXAMPLES)
    explain.add_argument("source", metavar="NAME|FILE", help="a bundled walkthrough's name (see `list`) or a "
                                                             "walkthrough file")
    explain.add_argument("entry", metavar="JACOBIAN[ROW,COLUMN]",
                         help="a local Jacobian's name, e.g. dZ2/dW2, with an entry counted from 1: dZ2/dW2[3,4]")
    explain.add_argument("--decimals", type=_decimals, metavar="N",
                         help=f"decimals shown, {MIN_DECIMALS} to {MAX_DECIMALS} (default: the file's, else 4)")
    explain.add_argument("--width", type=_width, metavar="N",
                         help="columns to lay out for (default: the terminal's width)")
    _add_conventions(explain)
    _add_memory_limit(explain)
    explain.set_defaults(run=_explain)

    listing = _subparser(commands, "list", "the bundled walkthroughs, one per line: name, then title",
                         "List the bundled walkthroughs: the name first, then the title.", "")
    listing.set_defaults(run=_list)

    worksheet = _subparser(commands, "worksheet", "a blank answer file for students",
                           "Print (or write with -o) an answer file for a walkthrough: every quantity with "
                           "\"?\" placeholders, in the order a student computes them.", WORKSHEET_EXAMPLES)
    _add_source(worksheet)
    worksheet.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    worksheet.add_argument("--only", type=_groups, metavar="GROUPS", default=list(GROUPS),
                           help=f"comma-separated groups to include: {','.join(GROUPS)} (default: all)")
    _add_conventions(worksheet)
    _add_memory_limit(worksheet)
    worksheet.set_defaults(run=_worksheet)

    check = _subparser(commands, "check", "grade a filled-in answer file, or a whole class of them",
                       "Grade every answered entry: correct, carried forward (right from your own earlier "
                       "values), wrong or unreadable, and name the slip where it is a known one. Given a "
                       "folder or several files, grade the whole class into one table.", CHECK_EXAMPLES)
    check.add_argument("answers", metavar="ANSWERS.toml|FOLDER", nargs="+",
                       help="an answer file; several, or a folder of them (*.toml), for the class table")
    check.add_argument("--format", choices=("text", "json", "csv"), default="text",
                       help="text (default), json, or csv (the class table)")
    check.add_argument("--width", type=_width, metavar="N",
                       help="columns to lay out for (default: the terminal's width)")
    check.add_argument("--decimals", type=_decimals, metavar="N",
                       help="grade every answer to N decimals, whatever the answer files say (default: the "
                            "walkthrough's, or an answer file's own when it asks for more)")
    _add_memory_limit(check)
    check.set_defaults(run=_check)
    return parser


def _add_source(parser: argparse.ArgumentParser):
    parser.add_argument("source", nargs="?", default="article", metavar="NAME|FILE",
                        help="a bundled walkthrough's name (see `list`) or a walkthrough file (default: article)")


def _add_conventions(parser: argparse.ArgumentParser):
    group = parser.add_argument_group("conventions", "how every quantity is written (default: the file's "
                                      "[conventions], else the article's); what is computed never changes")
    group.add_argument("--samples", choices=SAMPLES, help="samples as rows (Z = A · Wᵀ + b, PyTorch) or as "
                                                          "columns (Z = W · A + b, X is features × samples)")
    group.add_argument("--vec", choices=VEC, help="vec reads a matrix row after row, or column after column")
    group.add_argument("--layout", choices=LAYOUT, help="Jacobians in the numerator layout (one row per entry of "
                                                        "the function) or the denominator layout (transposed)")


def _solve(arguments, walkthrough: Walkthrough | None = None, **changes):
    """Load (unless given) and solve the walkthrough of `arguments`, written under its conventions and those given
    on the line (`changes` are further fields of the walkthrough, e.g. `all_steps`)."""
    walkthrough = walkthrough or load(arguments.source, arguments.max_jacobian_mb)
    conventions = overridden(walkthrough.conventions, arguments.samples, arguments.vec, arguments.layout)
    return solve(replace(walkthrough, conventions=conventions, **changes))


def _add_memory_limit(parser: argparse.ArgumentParser):
    parser.add_argument("--max-jacobian-mb", type=_positive, default=DEFAULT_MAX_JACOBIAN_MB, metavar="MB",
                        help="refuse networks whose largest Jacobian, as built, needs more: a structured one counts "
                             f"its factors, any other its full matrix (default: {DEFAULT_MAX_JACOBIAN_MB})")


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None


def _decimals(text: str) -> int:
    value = _whole_number(text)
    if not MIN_DECIMALS <= value <= MAX_DECIMALS:
        raise argparse.ArgumentTypeError(f"expected {MIN_DECIMALS} to {MAX_DECIMALS}, found {value}")
    return value


def _width(text: str) -> int:
    value = _whole_number(text)
    if value < 40:
        raise argparse.ArgumentTypeError(f"expected at least 40 columns, found {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, found {text}")
    return value


def _groups(text: str) -> list[str]:
    groups = [group.strip() for group in text.split(",") if group.strip()]
    for group in groups:
        if group not in GROUPS:
            raise argparse.ArgumentTypeError(f"unknown group {group!r} (choose from {','.join(GROUPS)})")
    if not groups:
        raise argparse.ArgumentTypeError("expected at least one group")
    return groups


def _format(arguments) -> str:
    """The output format: as given, else from the output file's extension, else text."""
    if arguments.format:
        return arguments.format
    if arguments.output:
        from pathlib import Path

        extension = Path(arguments.output).suffix.lower()
        if extension not in EXTENSIONS:
            raise UsageError(f"cannot tell the format from {arguments.output!r}: give --format "
                             f"({', '.join(FORMATS)}) or use one of {', '.join(EXTENSIONS)}")
        return EXTENSIONS[extension]
    return "text"


def _write(text: str, output: str | None):
    """Write `text` to the file `output`, or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    from pathlib import Path

    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None


def _walkthrough(arguments) -> int:
    form = _format(arguments)
    if arguments.escape_backslashes and form != "markdown":
        raise UsageError(f"--escape-backslashes is for --format markdown, not {form}")
    if arguments.dense_jacobians and form != "json":
        raise UsageError(f"--dense-jacobians is for --format json, not {form}")
    if (arguments.step or arguments.reveal) and (form != "text" or arguments.output):
        raise UsageError("--step shows the walkthrough in the terminal; it cannot be combined with "
                         "--format or -o")
    walkthrough = load(arguments.source, arguments.max_jacobian_mb)
    if arguments.dense_jacobians:
        refuse_dense(walkthrough, arguments.max_jacobian_mb, "--dense-jacobians")
    solution = _solve(arguments, walkthrough, all_steps=arguments.all_steps)
    decimals = arguments.decimals if arguments.decimals is not None else solution.walkthrough.decimals
    if arguments.step or arguments.reveal:
        from .render.terminal import pages, step

        return step.run(solution, pages.Options(decimals=decimals, symbolic=arguments.symbolic),
                        reveal=arguments.reveal, width=arguments.width)
    if form == "text":
        return _walkthrough_text(solution, arguments, decimals)
    if form == "pytorch":
        from .render import pytorch

        _write(pytorch.render(solution, decimals), arguments.output)
        return 0
    if form == "json":
        from .render import json as document
    elif form == "markdown":
        from .render import markdown as document
    elif form == "latex":
        from .render import latex as document
    else:
        from .render import html as document
    options = {"decimals": decimals, "symbolic": arguments.symbolic}
    if form == "markdown":
        options["escape_backslashes"] = arguments.escape_backslashes
    text = (document.render(solution, arguments.dense_jacobians) if form == "json"
            else document.render(solution, **options))
    _write(text if text.endswith("\n") else text + "\n", arguments.output)
    return 0


def _walkthrough_text(solution, arguments, decimals: int) -> int:
    """Print the walkthrough in the terminal, or write it to `-o`.

    The cyclic garbage collector rests while it is drawn: drawing makes hundreds of thousands of short-lived
    objects, freed as they go (the few in cycles are collected afterwards), while the solution and the layouts
    stay, and the collector would go through those again and again (a fortieth of a deep network's time)."""
    from .render.terminal import pages
    from .render.terminal.widgets import make_console

    options = pages.Options(decimals=decimals, symbolic=arguments.symbolic)
    gc.disable()
    try:
        if arguments.output is None:
            pages.render_walkthrough(solution, make_console(arguments.width), options)
            return 0
        import io

        buffer = io.StringIO()
        pages.render_walkthrough(solution, make_console(arguments.width or 100, file=buffer), options)
    finally:
        gc.enable()
    _write(buffer.getvalue(), arguments.output)
    return 0


def _explain(arguments) -> int:
    from .explain import explain
    from .render.terminal.widgets import Prose, make_console

    solution = _solve(arguments)
    decimals = arguments.decimals if arguments.decimals is not None else solution.walkthrough.decimals
    console = make_console(arguments.width)
    for sentence in explain(solution, arguments.entry, decimals):
        console.print(Prose(sentence))
    return 0


def _list(arguments) -> int:
    names = bundled_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name.ljust(width)}  {load(name).title}")
    return 0


def _worksheet(arguments) -> int:
    from .worksheet import render, source_for

    walkthrough = load(arguments.source, arguments.max_jacobian_mb)
    solution = _solve(arguments, walkthrough)
    source = source_for(arguments.source, arguments.output)
    _write(render(solution, arguments.only, source=source, implied=walkthrough.conventions), arguments.output)
    return 0


def _check(arguments) -> int:
    from pathlib import Path

    from .check import grade, report_document
    from .gradebook import answer_files, is_folder

    paths, warnings = answer_files(arguments.answers)
    if len(arguments.answers) > 1 or len(paths) > 1 or is_folder(Path(arguments.answers[0])) \
            or arguments.format == "csv":
        return _check_class(paths, arguments, warnings)
    report = grade(paths[0], max_jacobian_mb=arguments.max_jacobian_mb, decimals=arguments.decimals)
    try:
        if arguments.format == "json":
            from .render.json import dumps

            sys.stdout.write(dumps(report_document(report)) + "\n")
        else:
            from .render.terminal import check as check_report
            from .render.terminal.widgets import make_console

            check_report.render(report, make_console(arguments.width))
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_stopped()  # the verdict stands: a wrong answer is still exit 1 under `| head`
    return 1 if report.wrong else 0


def _check_class(paths: "list[Path]", arguments, warnings: list[str]) -> int:
    from .gradebook import csv_text, document, grade_class

    gradebook = grade_class(paths, max_jacobian_mb=arguments.max_jacobian_mb, decimals=arguments.decimals,
                            warnings=tuple(warnings))
    try:
        if arguments.format == "json":
            from .render.json import dumps

            sys.stdout.write(dumps(document(gradebook)) + "\n")
        elif arguments.format == "csv":
            sys.stdout.write(csv_text(gradebook))
        else:
            from .render.terminal import gradebook as table
            from .render.terminal.widgets import make_console

            table.render(gradebook, make_console(arguments.width))
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_stopped()
    return 1 if gradebook.needs_attention else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`) and return the exit status."""
    if hasattr(sys.stdout, "reconfigure"):
        # A terminal or pipe that cannot take Unicode gets escapes (valid in JSON and TOML), not a crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        arguments = build_parser().parse_args(argv)
        if getattr(arguments, "output", None) == "-":
            arguments.output = None  # `-o -` is standard output, as everywhere
        status = arguments.run(arguments)
        sys.stdout.flush()  # here, so that a reader that stopped early is noticed here, not at exit
        return status
    except InputError as error:
        print(f"{PROGRAM}: error: {one_line(str(error))}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _reader_stopped()
        return 0
    return 2


def _reader_stopped():
    """The reader of standard output stopped early (`| head`): that is no error, and nothing more
    can be written, so what is left to write goes nowhere."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
