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
    interrupts = []

    def interrupted_here(signum, frame):
        interrupts.append(signum)
        raise KeyboardInterrupt

    previous = None
    gc.disable()
    try:
        import signal  # here, where a Ctrl-C is handled: it takes a moment

        # numpy may turn a Ctrl-C during its import into an ImportError of its own that no longer carries the
        # KeyboardInterrupt (a C extension failing to import `datetime`): the handler notes the Ctrl-C itself.
        previous = signal.signal(signal.SIGINT, interrupted_here)
        from .cli import main
    except KeyboardInterrupt:
        return _interrupted()
    except ImportError as error:  # numpy reports an interrupt during its import as a broken install
        if interrupts or isinstance(error.__context__, KeyboardInterrupt) or isinstance(error.__cause__,
                                                                                        KeyboardInterrupt):
            return _interrupted()
        raise
    finally:
        if previous is not None:  # None: a handler not set from Python, which cannot be set back
            signal.signal(signal.SIGINT, previous)
        gc.freeze()
        gc.enable()
    return main()


def _interrupted() -> int:
    print(f"{PROGRAM}: interrupted", file=sys.stderr)
    return 130
