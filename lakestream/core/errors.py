"""Errors that reach a person: each carries a one-line message that says what to do."""


class LakestreamError(Exception):
    """A failure the user can act on. The command line prints its message, never a traceback."""


class CatalogError(LakestreamError):
    """The dataset catalog file is missing, unreadable or breaks a rule."""


class StackError(LakestreamError):
    """The embedded stack could not be started, reached, provisioned or stopped."""


def kafka_unreachable(servers: str, reason: str) -> LakestreamError:
    """The one wording of 'Kafka does not answer', with what to do about it."""
    return LakestreamError(
        f"cannot reach Kafka at {servers} ({reason}); is the stack up? Run `lakestream up`, "
        "or set KAFKA_BOOTSTRAP_SERVERS"
    )
