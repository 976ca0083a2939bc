"""The one exception type that means "the user gave us something wrong"."""


class UserError(Exception):
    """A mistake in the user's input (file, option, data).

    The CLI prints it as one line (``error: <message>``) and exits with status 2, never with a
    traceback. Messages name the file and the problem.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's ``KeyboardInterrupt`` would be, so the same clean-up runs
    (temporaries removed, workers stopped); the CLI prints ``interrupted`` and exits 143."""
