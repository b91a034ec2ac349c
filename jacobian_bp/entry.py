"""The program's entry point: the command line is imported inside the handling of Ctrl-C.

Loading numpy takes a noticeable moment at start-up; a Ctrl-C then must end the program like a Ctrl-C
at any other moment (one line, exit 130), not with a traceback or numpy's "bad install" message.

Importing numpy and the package makes some twenty thousand objects that live as long as the program, and the
garbage collector would look through them again and again while they are made (a twentieth of the start of
`--format json`). So it rests while they are imported, and they are then set apart (`gc.freeze`) where no
later collection looks; what the command makes afterwards is collected as usual.
"""

import gc
import sys

PROGRAM = "jacobian-bp"


def run() -> int:
    """Import the command line and run it; exit status 130 for a Ctrl-C while importing."""
    gc.disable()
    try:
        from .cli import main
    except KeyboardInterrupt:
        return _interrupted()
    except ImportError as error:  # numpy reports an interrupt during its import as a broken install
        if isinstance(error.__context__, KeyboardInterrupt) or isinstance(error.__cause__, KeyboardInterrupt):
            return _interrupted()
        raise
    finally:
        gc.freeze()
        gc.enable()
    return main()


def _interrupted() -> int:
    print(f"{PROGRAM}: interrupted", file=sys.stderr)
    return 130
