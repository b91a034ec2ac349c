"""Golden transcripts of the plain-text walkthrough; `make golden` rewrites them after a deliberate change.

Read the diff by eye before committing new transcripts: they are what a student sees.
"""

import io
from pathlib import Path

from jacobian_bp import load, solve
from jacobian_bp.render.terminal import pages as terminal
from jacobian_bp.render.terminal.widgets import make_console

FOLDER = Path(__file__).parent / "golden"
TRANSCRIPTS = {"article_100.txt": ("article", 100), "article_80.txt": ("article", 80)}


class AsciiBuffer(io.StringIO):
    """A text buffer that, like a terminal without Unicode, reports an ASCII encoding."""

    encoding = "ascii"


def render(name: str, width: int, ascii_only: bool = False, **options) -> str:
    """The walkthrough `name` as plain text at `width` columns, as it is printed to a pipe."""
    buffer = AsciiBuffer() if ascii_only else io.StringIO()
    console = make_console(width, file=buffer)
    solution = solve(load(name))
    terminal.render_walkthrough(solution, console, terminal.Options(
        decimals=options.get("decimals", solution.walkthrough.decimals), symbolic=options.get("symbolic", True)))
    return buffer.getvalue()


def main() -> None:
    for file_name, (name, width) in TRANSCRIPTS.items():
        (FOLDER / file_name).write_text(render(name, width), encoding="utf-8")
        print(f"wrote {FOLDER / file_name}")


if __name__ == "__main__":
    main()
