"""The program's entry point: the command line is imported inside the handling of Ctrl-C.

Loading numpy takes a noticeable moment at start-up; a Ctrl-C then must end the program like a Ctrl-C
at any other moment (one line, exit 130), not with a traceback or numpy's "bad install" message.
"""

import gc
import sys

PROGRAM = "jacobian-bp"


def run() -> int:
    """Import the command line and run it; exit status 130 for a Ctrl-C while importing.

    The cyclic garbage collector is held off while the modules load, and what they made is then set aside
    (`gc.freeze`): the classes, functions and modules of an import live until the program ends, yet the collector
    would go through them again and again while they are made (about a tenth of a short run's time)."""
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
