"""The one kind of error a user's input can cause, and the "did you mean" hint its messages share.

The CLI turns an `InputError` into one line on stderr and exit status 2.
"""

import difflib


class InputError(ValueError):
    """Input that cannot be used (a walkthrough, an answer file, an option); `str()` is the message."""


def suggestion(word: str, options) -> str:
    """`" (did you mean 'x'?)"` for the closest option, or `""` when none is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close:
        close = [option for option in options if option.lower() == word.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""
