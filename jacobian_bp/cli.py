"""The command line: argparse subcommands that load, solve and hand over to a renderer.

Errors are one line on stderr and exit status 2, never a traceback. Renderers are imported
only when used, so `--format json` loads neither rich nor sympy.
"""

import argparse
import os
import sys

from . import __version__
from .solution import solve
from .walkthrough import MAX_DECIMALS, WalkthroughError, load

PROGRAM = "jacobian-bp"

EXAMPLES = f"""\
examples:
  {PROGRAM} walkthrough                       the article's example, every Jacobian written out
  {PROGRAM} walkthrough article --decimals 6  more decimals
  {PROGRAM} walkthrough my_net.toml           your own network (format: see README)
  {PROGRAM} walkthrough --format json         every quantity at full precision, for scripts
  {PROGRAM} walkthrough --no-symbolic --width 100 | less -R
"""

WALKTHROUGH_EXAMPLES = f"""\
examples:
  {PROGRAM} walkthrough
  {PROGRAM} walkthrough article --width 80 --decimals 3
  {PROGRAM} walkthrough path/to/network.toml --format json > values.json
"""


class UsageError(Exception):
    """Bad usage of the command line; the message is shown as it is."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that `main` turns into exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROGRAM, description="Backpropagation with every Jacobian written out.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    walkthrough = commands.add_parser(
        "walkthrough", help="the whole walkthrough: forward pass, loss, every backward step, update",
        description="Run the forward pass, the loss and the cost, then every backward step with its full "
                    "Jacobian, then one SGD step.",
        epilog=WALKTHROUGH_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    walkthrough.add_argument("source", nargs="?", default="article", metavar="NAME|FILE",
                             help="a bundled walkthrough's name or a walkthrough file (default: article)")
    walkthrough.add_argument("--format", choices=("text", "json"), default="text",
                             help="text for people (default), json for programs")
    walkthrough.add_argument("--decimals", type=_decimals, metavar="N",
                             help=f"decimals shown, 0 to {MAX_DECIMALS} (default: the file's, else 4)")
    walkthrough.add_argument("--no-symbolic", dest="symbolic", action="store_false",
                             help="show only numeric Jacobians (faster; skips sympy)")
    walkthrough.add_argument("--width", type=_width, metavar="N",
                             help="columns to lay out for (default: the terminal's width)")
    walkthrough.set_defaults(run=_walkthrough)
    return parser


def _decimals(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if not 0 <= value <= MAX_DECIMALS:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_DECIMALS}, found {value}")
    return value


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 40:
        raise argparse.ArgumentTypeError(f"expected at least 40 columns, found {value}")
    return value


def _walkthrough(arguments) -> int:
    solution = solve(load(arguments.source))
    if arguments.format == "json":
        from .render import json as json_render

        sys.stdout.write(json_render.render(solution) + "\n")
        return 0
    from .render import terminal

    decimals = arguments.decimals if arguments.decimals is not None else solution.walkthrough.decimals
    terminal.render_walkthrough(solution, make_console(arguments.width),
                                terminal.Options(decimals=decimals, symbolic=arguments.symbolic))
    return 0


def make_console(width: int | None = None, file=None):
    """A rich console for our output: no syntax highlighting, no colour under `NO_COLOR`."""
    from rich.console import Console

    plain = "NO_COLOR" in os.environ
    return Console(file=file or sys.stdout, width=width, highlight=False,
                   color_system=None if plain else "auto", emoji=False)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`) and return the exit status."""
    try:
        arguments = build_parser().parse_args(argv)
        return arguments.run(arguments)
    except UsageError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    except WalkthroughError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    return 2
