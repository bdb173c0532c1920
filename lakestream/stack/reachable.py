"""Whether the services the settings name answer, asked before a command starts its work.

A closed port answers a TCP probe in milliseconds, where the clients would first retry: boto3
about 30 s (five attempts, standard mode), kafka-python's bootstrap 30 s. A command run while the
embedded stack is down then says so at once, in one line, with what to do.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lakestream.core import clients
from lakestream.core.errors import aws_unreachable, kafka_unreachable
from lakestream.core.settings import Settings
from lakestream.stack.processes import port_is_open

PROBE_TIMEOUT_S = 3.0


def require_kafka(settings: Settings) -> None:
    """A LakestreamError unless a bootstrap server accepts connections (and, with TLS, the
    settings name a CA file that exists)."""
    servers = settings.kafka_servers
    if not any(port_is_open(host, port, timeout=PROBE_TIMEOUT_S) for host, port in servers):
        raise kafka_unreachable(settings.kafka_bootstrap_servers, "connection refused")
    if problem := clients.kafka_tls_problem(settings):
        raise kafka_unreachable(settings.kafka_bootstrap_servers, problem)


def require_aws(settings: Settings) -> None:
    """A LakestreamError when the AWS endpoint is this machine's (the embedded stack's moto) and
    nothing listens there. AWS itself is not probed: its errors reach the error boundary, which
    words them the same way (`lakestream.core.errors.unreachable`)."""
    if not settings.aws_endpoint_is_local:
        return
    url = settings.aws_endpoint_url or ""
    if not port_is_open(urlsplit(url).hostname or "", settings.aws_endpoint_port, PROBE_TIMEOUT_S):
        raise aws_unreachable(url, "connection refused")
