"""Client factories: the only place that builds boto3 and Kafka clients from the settings.

Every component asks here, so the embedded stack and real AWS differ only in settings.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ACLOperation, KafkaAdminClient
from kafka.structs import OffsetAndMetadata

from lakestream.core.settings import Settings

# Against Tansu, kafka-python's default group timings (10 s session, 3 s heartbeat) made a
# group's first join take ~23 s; 6 s / 1 s joins in ~3 s and still tolerates a GC pause.
CONSUMER_GROUP_DEFAULTS: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
}


# One boto3 session for the process: a session loads each service's model (JSON files of
# several MB) once and caches it, so a fresh session per client cost ~0.2 s per client. The
# settings' credentials and region go to each client, not to the shared session. Sessions are
# not thread-safe, so clients are created under a lock (using them needs none).
_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


def aws_client(settings: Settings, service: str, **config: Any) -> Any:
    """A boto3 client for `service` pointed at the configured endpoint and credentials."""
    secret, token = settings.aws_secret_access_key, settings.aws_session_token
    base = {"retries": {"mode": "standard", "max_attempts": 5}}
    if settings.aws_endpoint_url:
        # moto serves every bucket under one host: path-style addressing avoids DNS tricks.
        base["s3"] = {"addressing_style": "path"}
    with _SESSION_LOCK:
        return _session().client(
            service,
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url or None,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            aws_session_token=token.get_secret_value() if token else None,
            config=Config(**{**base, **config}),
        )


def _kafka_common(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "client_id": "lakestream",
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
    return _KafkaAdmin(**{**_kafka_common(settings), "request_timeout_ms": 15000, **overrides})


def kafka_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    return KafkaProducer(**{**_kafka_common(settings), "acks": "all", **overrides})


def kafka_consumer(settings: Settings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A consumer; with `group_id` in overrides, group timings suited to the broker apply."""
    options = {**_kafka_common(settings), "enable_auto_commit": False}
    if overrides.get("group_id"):
        options.update(CONSUMER_GROUP_DEFAULTS)
    return KafkaConsumer(*topics, **{**options, **overrides})


def offset_and_metadata(offset: int) -> OffsetAndMetadata:
    """An OffsetAndMetadata for a commit (kafka-python 3: offset, metadata, leader epoch)."""
    return OffsetAndMetadata(offset, "", -1)


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under a prefix (Key, Size, ...), across list_objects_v2 pages."""
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects += page.get("Contents", [])
    return objects
