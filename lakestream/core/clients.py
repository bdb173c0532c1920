"""Client factories: the only place that builds boto3 and Kafka clients from the settings.

Every component asks here, so the embedded stack and real AWS differ only in settings.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ACLOperation, KafkaAdminClient
from kafka.structs import OffsetAndMetadata

from lakestream.core.errors import LakestreamError, kafka_unreachable
from lakestream.core.settings import Settings, secret_reference

# Group timings (session timeout, heartbeat interval) on the embedded broker only
# (`group_timings`): on a cluster a short session turns a network blip or a broker roll into a
# rebalance, so the clients keep their own defaults there (kafka-python 10 s / 3 s, librdkafka
# 45 s / 3 s). Against Tansu, kafka-python's defaults made a group's first join take ~23 s;
# 6 s / 1 s joins in ~3 s. librdkafka also times the session out on the client side: with 6 s
# it lost its session whenever the broker stalled on its S3 log (moto held 10 s in the fault
# tests) and its next commit was refused. 15 s rides that out (docs/broker-quirks.md §4).
EMBEDDED_GROUP_TIMINGS_MS = {"kafka-python": (6000, 1000), "confluent": (15000, 1000)}

log = logging.getLogger("lakestream.clients")


# One boto3 session for the process: a session loads each service's model (JSON files of
# several MB) once and caches it, so a fresh session per client cost ~0.2 s per client. The
# settings' credentials and region go to each client, not to the shared session. Sessions are
# not thread-safe, so clients are created under a lock (using them needs none).
_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None
# Clients are kept too, one per service, endpoint, credentials and configuration: a new one
# still cost ~8 ms of CPU, and a curation pass, the crawler, maintenance and the tests ask for one
# per table, query or call. boto3's clients are thread-safe. The process id is part of the key:
# a client made before a fork (its connection pool) is never used by the child. Not kept: a
# client that found no credentials (it would keep none after they appear, as an instance
# role's can a second late), and, once a call of its fails for want of an answer (no
# connection, a timeout, a 5xx after botocore's retries), the client: its retry quota is spent,
# and the next caller gets a new one with a full quota, as before clients were kept.
_CLIENTS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_MAX_CLIENTS = 64


def _session() -> boto3.session.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


def aws_client(settings: Settings, service: str, *, shared: bool = True, **config: Any) -> Any:
    """A boto3 client for `service` pointed at the configured endpoint and credentials: the
    process's client for the same arguments, or with `shared=False` one of the caller's own (its
    own connection pool, for a caller with many threads of its own)."""
    secret, token = settings.aws_secret_access_key, settings.aws_session_token
    base: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 5},
        # The API's workers share a client between their API_THREADS threads: with botocore's
        # pool of 10, more threads at once each dropped a connection after its call ("Connection
        # pool is full"). Connections are opened as needed, so the larger pool costs nothing.
        "max_pool_connections": max(10, settings.api_threads),
    }
    if settings.aws_endpoint_url:
        # moto serves every bucket under one host: path-style addressing avoids DNS tricks.
        base["s3"] = {"addressing_style": "path"}
    options = {**base, **config}
    arguments = {
        "region_name": settings.aws_region,
        "endpoint_url": settings.aws_endpoint_url or None,
        "aws_access_key_id": settings.aws_access_key_id,
        "aws_secret_access_key": secret.get_secret_value() if secret else None,
        "aws_session_token": token.get_secret_value() if token else None,
    }
    key = (
        os.getpid(),
        service,
        *arguments.values(),
        json.dumps(options, sort_keys=True, default=repr),
    )
    with _SESSION_LOCK:
        client = _CLIENTS.get(key) if shared else None
        if client is not None:
            _CLIENTS.move_to_end(key)
            return client
        # A copy: botocore rewrites the retries it is given (max_attempts into
        # total_max_attempts), which would change the caller's options and so the next key.
        client = _session().client(service, config=Config(**copy.deepcopy(options)), **arguments)
        if shared and _has_credentials(client):
            _keep(key, client)
        return client


def _has_credentials(client: Any) -> bool:
    signer = getattr(client, "_request_signer", None)
    return getattr(signer, "_credentials", None) is not None


def _keep(key: tuple[Any, ...], client: Any) -> None:
    """Keep `client` under `key` (the lock held) until a call of its fails for want of an answer."""

    def forget(**_: Any) -> None:
        with _SESSION_LOCK:
            if _CLIENTS.get(key) is client:
                del _CLIENTS[key]

    def forget_on_5xx(http_response: Any = None, **_: Any) -> None:
        if http_response is not None and http_response.status_code >= 500:
            forget()

    client.meta.events.register("after-call-error", forget)  # no answer (botocore raised)
    client.meta.events.register("after-call", forget_on_5xx)
    _CLIENTS[key] = client
    if len(_CLIENTS) > _MAX_CLIENTS:
        _CLIENTS.popitem(last=False)


# --- Kafka security: the same settings for kafka-python and librdkafka ---------------------------

_SECRETS_LOCK = threading.Lock()
_SECRETS: dict[tuple[str, str | None, str], str] = {}


def secret_text(settings: Settings, reference: str, setting: str) -> str:
    """The text of a Secrets Manager secret, read once per process (`setting` names the variable
    that refers to it, for the error message)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = (reference, settings.aws_endpoint_url, settings.aws_region)
    with _SECRETS_LOCK:
        if key in _SECRETS:
            return _SECRETS[key]
        try:
            value = aws_client(settings, "secretsmanager").get_secret_value(SecretId=reference)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise LakestreamError(
                f"{setting} refers to secret {reference!r}, which could not be read: "
                f"{error.get('Code', 'error')}: {error.get('Message', exc)}"
            ) from None
        except BotoCoreError as exc:
            raise LakestreamError(
                f"could not read secret {reference!r} ({setting}): {exc}"
            ) from None
        text = value.get("SecretString")
        if not text:
            raise LakestreamError(f"secret {reference!r} ({setting}) has no text value")
        _SECRETS[key] = text
        return text


def resolve_secret(settings: Settings, value: str, setting: str) -> str:
    """`value` itself, or the secret's text when it is a reference (secretsmanager:<secret>)."""
    reference = secret_reference(value)
    return secret_text(settings, reference, setting) if reference else value


def kafka_credentials(settings: Settings) -> tuple[str, str] | None:
    """(user, password) for a SASL protocol, reading a Secrets Manager reference once per process.

    A referenced secret holds either the password alone or JSON with "password" (and
    "username", used when KAFKA_SASL_USERNAME is unset): the form infra/ stores for each stage.
    """
    if not settings.kafka_security_protocol.startswith("SASL_"):
        return None
    reference = settings.kafka_sasl_secret
    if reference is None:
        assert settings.kafka_sasl_password is not None  # the settings' validator checks it
        return settings.kafka_sasl_username or "", settings.kafka_sasl_password.get_secret_value()
    text = secret_text(settings, reference, "KAFKA_SASL_PASSWORD")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return settings.kafka_sasl_username or "", text  # the password alone
    if not isinstance(document, dict) or not document.get("password"):
        raise LakestreamError(f'secret {reference!r} is JSON without a "password" field')
    user = settings.kafka_sasl_username or str(document.get("username") or "")
    return user, str(document["password"])


def _cafile(settings: Settings) -> str | None:
    path = settings.kafka_ssl_cafile
    if path is None:
        return None
    if not path.is_file():
        raise LakestreamError(
            f"KAFKA_SSL_CAFILE {str(path)!r} is not a file: `make env` writes the brokers' CA "
            "bundle there (or copy it from the SSM parameter infra/ publishes)"
        )
    return str(path)


def kafka_tls_problem(settings: Settings, timeout: float = 5.0) -> str | None:
    """Why the first answering broker's TLS is refused (an untrusted certificate, a name that
    does not match), or None. The clients only time out on such a broker; this says why."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=_cafile(settings))
    for host, port in settings.kafka_servers:
        try:
            with (
                socket.create_connection((host, port), timeout=timeout) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return None
        except ssl.SSLCertVerificationError as exc:
            trust = (
                f"the CA in {settings.kafka_ssl_cafile}"
                if settings.kafka_ssl_cafile
                else ("the system's trust store (set KAFKA_SSL_CAFILE to the brokers' CA bundle)")
            )
            return (
                f"TLS to {host}:{port}: certificate verify failed ({exc.verify_message}), "
                f"checked against {trust}"
            )
        except ssl.SSLError as exc:
            return f"TLS to {host}:{port} failed: {exc.reason or exc}; is the port TLS?"
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class _SecurityNames:
    """One library's names for the same security options."""

    protocol: str
    lower_case_protocol: bool
    verify_hostname: tuple[str, object]
    cafile: str
    mechanism: str
    username: str
    password: str


_KAFKA_PYTHON = _SecurityNames(
    "security_protocol", False, ("ssl_check_hostname", True), "ssl_cafile",
    "sasl_mechanism", "sasl_plain_username", "sasl_plain_password",
)  # fmt: skip
_LIBRDKAFKA = _SecurityNames(
    "security.protocol", True, ("ssl.endpoint.identification.algorithm", "https"),
    "ssl.ca.location", "sasl.mechanism", "sasl.username", "sasl.password",
)  # fmt: skip


def _security(settings: Settings, names: _SecurityNames) -> dict[str, Any]:
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {
        names.protocol: protocol.lower() if names.lower_case_protocol else protocol
    }
    if protocol.endswith("SSL"):
        options[names.verify_hostname[0]] = names.verify_hostname[1]
        cafile = _cafile(settings)
        if cafile:
            options[names.cafile] = cafile
    credentials = kafka_credentials(settings)
    if credentials:
        options[names.mechanism] = settings.kafka_sasl_mechanism
        options[names.username], options[names.password] = credentials
    return options


def kafka_python_security(settings: Settings) -> dict[str, Any]:
    """kafka-python's options for the settings' security protocol, credentials and CA."""
    return _security(settings, _KAFKA_PYTHON)


def librdkafka_security(settings: Settings) -> dict[str, Any]:
    """The same for confluent-kafka (librdkafka's property names)."""
    return _security(settings, _LIBRDKAFKA)


def kafka_python_options(settings: Settings, client_id: str = "lakestream") -> dict[str, Any]:
    """Brokers, client id and security for any kafka-python client."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "client_id": client_id,
        **kafka_python_security(settings),
    }


def librdkafka_options(settings: Settings, client_id: str = "lakestream") -> dict[str, Any]:
    """Brokers, client id and security for any confluent-kafka client."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": client_id,
        **librdkafka_security(settings),
    }


class _KafkaAdmin(KafkaAdminClient):
    """kafka-python's admin client, tolerant of authorized-operation codes it does not know.

    kafka-python 3.0 asks for a group's authorized operations in every DescribeGroups and
    fails on a code outside its enum (Tansu answers 15): unknown codes are dropped instead.
    """

    def _process_acl_operations(self, obj: dict[str, Any]) -> dict[str, Any]:
        operations = obj.get("authorized_operations")
        if operations is not None:
            known = {op.value for op in ACLOperation} - {0, 1, 2}
            obj["authorized_operations"] = [ACLOperation(v).name for v in operations if v in known]
        return obj


def kafka_admin(settings: Settings, **overrides: Any) -> KafkaAdminClient:
    return _KafkaAdmin(
        **{**kafka_python_options(settings), "request_timeout_ms": 15000, **overrides}
    )


def kafka_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    return KafkaProducer(**{**kafka_python_options(settings), "acks": "all", **overrides})


def embedded_broker(settings: Settings) -> bool:
    """Whether Kafka is the embedded broker: the one `lakestream up` runs (`embeds_kafka`),
    reached in plaintext. A cluster reached through a tunnel on loopback, or with
    LAKESTREAM_EMBEDDED=0, is a cluster."""
    return settings.embeds_kafka and settings.kafka_security_protocol == "PLAINTEXT"


def kafka_consumer(settings: Settings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A consumer; with `group_id` in overrides, group timings suited to the broker apply.

    It never creates a topic: kafka-python asks the broker to (allow_auto_create_topics), and
    a broker that does would make a missing topic with its own partition count, not the
    catalog's, under a sink that should instead say the topic is not there."""
    options = {
        **kafka_python_options(settings),
        "enable_auto_commit": False,
        "allow_auto_create_topics": False,
    }
    if overrides.get("group_id") and (timings := group_timings(settings, "kafka-python")):
        options.update(session_timeout_ms=timings[0], heartbeat_interval_ms=timings[1])
    return KafkaConsumer(*topics, **{**options, **overrides})


def auto_kafka_client(settings: Settings) -> str:
    """What `--client auto` (the default) runs. On a Kafka cluster, librdkafka
    (confluent-kafka): it reads and writes about 3x faster than kafka-python, and says at once
    when the brokers refuse its login (`LibrdkafkaErrors`), where kafka-python retries in
    silence. On the embedded broker, kafka-python: librdkafka passes the fault tests there
    (with its longer session, `group_timings`) but joins a group more slowly and does not
    have the broker create a missing topic, which the local workflow relies on
    (docs/broker-quirks.md §4)."""
    return "kafka-python" if embedded_broker(settings) else "confluent"


def kafka_client_named(kind: str, settings: Settings) -> str:
    """The client a `--client` value names: `auto` is `auto_kafka_client`'s choice."""
    return auto_kafka_client(settings) if kind == "auto" else kind


def group_timings(settings: Settings, client: str) -> tuple[int, int] | None:
    """(session timeout, heartbeat interval) in ms for a group consumer of `client`: short ones
    on the embedded broker, or None on a cluster, where each client keeps its defaults."""
    return EMBEDDED_GROUP_TIMINGS_MS[client] if embedded_broker(settings) else None


# librdkafka's codes for a connection the brokers refuse as configured: a refused login (the
# broker's SASL_AUTHENTICATION_FAILED reaches error_cb as _AUTHENTICATION) or a TLS handshake
# that failed. It retries them forever without raising. The same codes also carry passing
# faults, told apart by their text: a handshake cut by the network ("handshake failed: Local:")
# and a socket error under TLS ("SSL transport error").
_REFUSED = {"_AUTHENTICATION", "_SSL"}
_TRANSIENT = ("handshake failed: Local:", "SSL transport error")
# A refusal this long, reported again within REFUSAL_QUIET_S each time, stops a running client:
# a rolling restart or a credential still reaching one broker (a rotation) passes sooner.
# librdkafka reports an identical error from one broker at most once per 30 s (it suppresses
# the rest, rd_kafka_broker_set_error), and a retry waits up to 10 s more with jitter: a refusal
# that goes on is reported every 30-45 s, so the quiet that ends an episode is longer than that.
REFUSAL_PERSIST_S = 120.0
REFUSAL_QUIET_S = 75.0
# What a consumer's messages carry when the user's ACLs do not allow the topic or the group:
# they never reach error_cb, and kafka-python raises them, so the sink stops on them too.
AUTHORIZATION_FAILED = {"TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED"}
# The timing librdkafka appends differs on every retry.
_RETRY_TIMING = re.compile(r" \(after \d+ms in state \w+(, \d+ identical error\(s\) suppressed)?\)")


class LibrdkafkaErrors:
    """A confluent-kafka client's error callback (`error_cb`), kept for its owner to act on.

    librdkafka reports refused logins and unreachable brokers only through this callback and
    retries in the background, so a client without one sits up doing nothing: a sink with a
    wrong password would look alive. Every error is logged. A fatal error, or a refusal met
    when the client starts (`check_reachable`), is raised at once; while it runs, a refusal is
    raised once it has lasted REFUSAL_PERSIST_S (`raise_if_refused`)."""

    def __init__(self, servers: str) -> None:
        self.servers = servers
        self.refused: str | None = None  # the first refusal's text, while refusals go on
        self.refused_since = self.refused_last = 0.0
        self.fatal = False
        self.last: str | None = None

    def __call__(self, error: Any) -> None:
        text = _RETRY_TIMING.sub("", error.str())
        if text != self.last:  # librdkafka repeats itself on every retry
            log.warning("kafka: %s", text)
        self.last = text
        refusal = error.name() in _REFUSED and not any(t in text for t in _TRANSIENT)
        if not (error.fatal() or refusal):
            return
        now = time.monotonic()
        if self.refused is None or now - self.refused_last > REFUSAL_QUIET_S:
            self.refused, self.refused_since = text, now  # a new episode
        self.refused_last = now
        self.fatal = self.fatal or error.fatal()

    def refusing(self) -> bool:
        """A refusal that is fatal, or has lasted REFUSAL_PERSIST_S and is still going on."""
        if self.refused is None:
            return False
        now = time.monotonic()
        ongoing = now - self.refused_last <= REFUSAL_QUIET_S
        return self.fatal or (ongoing and now - self.refused_since >= REFUSAL_PERSIST_S)

    def raise_if_refused(self, at_start: bool = False) -> None:
        """Raise for a refusal: any at start, else only a fatal or persistent one."""
        if self.refused is not None and (at_start or self.refusing()):
            raise LakestreamError(
                f"Kafka at {self.servers} refused this client ({self.refused}); check "
                "KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME and its password, and "
                "KAFKA_SSL_CAFILE (`make env`)"
            )

    def check_reachable(self, client: Any, timeout_s: float, topic: str | None = None) -> None:
        """Metadata within `timeout_s`, or the reason it did not come, as one clear error: a
        refusal (as soon as it is reported), else `kafka_unreachable` with what librdkafka
        last said."""
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                wait = min(1.0, max(0.1, deadline - time.monotonic()))
                metadata = client.list_topics(topic, timeout=wait).topics.get(topic)
                break
            except KafkaException as exc:
                client.poll(0)  # serves the error callbacks: they say why
                self.raise_if_refused(at_start=True)
                if time.monotonic() >= deadline:
                    reason = self.last or str(exc.args[0])
                    raise kafka_unreachable(self.servers, reason) from None
        client.poll(0)
        self.raise_if_refused(at_start=True)  # metadata can come before a refusal is reported
        if metadata is not None:
            raise_if_unauthorized(metadata.error, self.servers, topic)


def raise_if_unauthorized(error: Any, servers: str, topic: str) -> None:
    """Raise for librdkafka's error (or None) if the user's ACLs refuse the topic or group."""
    if error is not None and error.name() in AUTHORIZATION_FAILED:
        raise LakestreamError(
            f"Kafka at {servers} refuses this client access to {topic} or its group: "
            f"{error.str()} (the user's ACLs)"
        )


def offset_and_metadata(offset: int) -> OffsetAndMetadata:
    """An OffsetAndMetadata for a commit (kafka-python 3: offset, metadata, leader epoch)."""
    return OffsetAndMetadata(offset, "", -1)


def error_code(exc: Exception) -> str:
    """An AWS error's code (`NoSuchKey`, `PreconditionFailed`, `404`, ...); "" if it has none."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


DELETE_OBJECTS_LIMIT = 1000  # keys per DeleteObjects request


def delete_objects(s3: Any, bucket: str, keys: list[str]) -> int:
    """Delete `keys`, a DeleteObjects request per thousand; how many were deleted. S3 answers
    200 even when it refuses some keys: those are in the response's Errors, and raise here."""
    deleted = 0
    for i in range(0, len(keys), DELETE_OBJECTS_LIMIT):
        part = [{"Key": k} for k in keys[i : i + DELETE_OBJECTS_LIMIT]]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": part, "Quiet": True})
        if errors := response.get("Errors"):
            first = errors[0]
            raise LakestreamError(
                f"s3://{bucket}: {len(errors)} of {len(part)} objects not deleted, e.g. "
                f"{first.get('Key')}: {first.get('Code')} ({first.get('Message')})"
            )
        deleted += len(part)
    return deleted


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under a prefix (Key, Size, ...), across list_objects_v2 pages."""
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects += page.get("Contents", [])
    return objects
