"""S3 writes that retry with backoff until they succeed, the budget runs out, or we must stop.

Nothing is committed until a write returns, so a stalled or restarted endpoint only delays the
sink. The budget stays below Kafka's max poll interval: a consumer stuck longer than that would
lose its partitions while still holding their batch.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from lakestream.core import clients
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")
T = TypeVar("T")

RETRY_BUDGET_S = 240.0
BACKOFF_MAX_S = 5.0


class StorageError(LakestreamError):
    """A write that could not be done within the retry budget (or was abandoned on stop).
    `permanent`: S3 said no for good (no such bucket, access denied): retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class S3Storage:
    def __init__(
        self,
        settings: Settings,
        stop: threading.Event | None = None,
        budget: float = RETRY_BUDGET_S,
    ):
        # Short timeouts and no botocore retries: the loop below owns retrying, so a stalled
        # endpoint is noticed in seconds and retried with our backoff.
        self.s3 = clients.aws_client(
            settings,
            "s3",
            # Its own client: a sink's workers each upload on UPLOAD_THREADS threads, more at
            # once than one shared pool of connections holds.
            shared=False,
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
        )
        self.stop = stop or threading.Event()
        self.budget = budget
        # Monotonic time after which no attempt starts (a partition lease's trust runs out
        # then: consumers/leases.py); None: the budget alone.
        self.deadline: float | None = None
        self.retries = 0  # how many attempts failed and were retried, for the summary

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        deadline = started + self.budget
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        delay = 0.2
        while True:
            try:
                return call()
            except (BotoCoreError, ClientError) as exc:
                code = clients.error_code(exc)
                if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId"):
                    raise StorageError(f"{what}: {code}: {exc}", permanent=True) from None
                if time.monotonic() + delay > deadline:
                    raise StorageError(
                        f"{what}: gave up after {time.monotonic() - started:.0f}s: {exc}"
                    ) from None
                self.retries += 1
                if self.retries % 10 == 1:
                    log.warning("%s failed (%s); retrying", what, type(exc).__name__)
                if self.stop.wait(delay * (0.5 + random.random())):
                    raise StorageError(f"{what}: abandoned on stop") from None
                delay = min(BACKOFF_MAX_S, delay * 2)

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        extra = {"Metadata": metadata} if metadata else {}
        self._retrying(
            f"put s3://{bucket}/{key}",
            lambda: self.s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra
            ),
        )

    def get(self, bucket: str, key: str) -> bytes | None:
        def call() -> bytes | None:
            try:
                return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if clients.error_code(exc) in ("NoSuchKey", "404"):
                    return None
                raise

        return self._retrying(f"get s3://{bucket}/{key}", call)

    def delete(self, bucket: str, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):
            part = [{"Key": k} for k in keys[i : i + 1000]]
            self._retrying(
                f"delete {len(part)} objects in s3://{bucket}",
                lambda part=part: self.s3.delete_objects(Bucket=bucket, Delete={"Objects": part}),
            )
