"""The one kind of error a user's input can cause; the CLI turns it into one line and exit status 2."""


class InputError(ValueError):
    """Input that cannot be used (a walkthrough, an answer file, an option); `str()` is the message."""
