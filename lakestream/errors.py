"""Errors that reach a person: each carries a one-line message that says what to do."""


class LakestreamError(Exception):
    """A failure the user can act on. The command line prints its message, never a traceback."""


class CatalogError(LakestreamError):
    """The dataset catalog file is missing, unreadable or breaks a rule."""


class StackError(LakestreamError):
    """The embedded stack could not be started, reached, provisioned or stopped."""
