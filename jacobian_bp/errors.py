"""The one kind of error a user's input can cause, and the pieces its messages share.

The CLI turns an `InputError` into one line on stderr and exit status 2.
"""

SHORT = 40


class InputError(ValueError):
    """Input that cannot be used (a walkthrough, an answer file, an option); `str()` is the message."""


def suggestion(word: str, options) -> str:
    """`" (did you mean 'x'?)"` for the closest option, or `""` when none is close."""
    close = [option for option in options if option.lower() == word.lower()]  # a slip of the shift key first
    if not close:
        import difflib  # imported by the messages that need it, not by every start

        close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def shorten(text: str) -> str:
    """`text` cut to `SHORT` characters with "…": a key or a string echoed in a message stays readable."""
    return text if len(text) <= SHORT else text[:SHORT] + "…"


def quoted(text: str) -> str:
    """`text` shortened and in quotes, as a message echoes what was written."""
    return repr(shorten(text))


def one_line(message: str) -> str:
    """`message` with every unprintable character (a newline in a key, say) escaped, so it is one line."""
    return "".join(character if character.isprintable() else character.encode("unicode_escape").decode("ascii")
                   for character in message)
