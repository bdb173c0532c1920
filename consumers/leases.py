"""Partition leases: one owner per partition when sinks assign partitions manually.

Group management fences a sink: a partition belongs to one member, and a member that lost it
cannot commit (its generation is stale). Manual assignment has no group, so two sinks started
with `--assignment manual` (or an `auto` sink that took over a wedged group) would both read a
partition, close batches at different offsets, write objects under different names and commit
over each other. A lease object per partition (`layout.lease_key`) gives it one owner:

- take: create the lease only if there is none (If-None-Match: *), or replace one whose holder
  has not renewed it for its TTL (If-Match: the ETag we read). Two contenders cannot both win.
- renew: every TTL/3, and before a batch of the partition is written or committed if the last
  renewal is older than TTL/2, replace our own (If-Match: our last ETag). 412 means another sink
  took it (unless the lease holds our session: a renewal whose reply was lost): the worker drops
  the partition, unwritten and uncommitted, and tries to take it again later.
- release: on a clean stop, delete it (If-Match: our ETag), so a restarted sink takes it at once.

A lease's age is read on S3's clock alone (the response's Date minus the object's LastModified),
so sinks on hosts whose clocks disagree still agree on when a lease has lapsed. A sink trusts its
own lease for half its TTL after a renewal (`deadline`): the sink's S3 writes stop retrying at
that deadline, and it checks again before it commits. A sink restarted under the same
`--instance-id` takes its own lease back at once if the process that wrote it is gone from this
host, else once it is older than half the TTL (the old process, if it still lives elsewhere, has
stopped trusting it by then).

What no object store can fence: a request already in flight when the deadline passes (a PUT
that S3 applies late, a commit the broker takes late, a process frozen between its check and
its request) lands once more. The next owner re-reads from the last commit and rewrites the
same names, so what such a straggler can cause is a duplicate, never a loss.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from consumers.storage import StorageError
from lakestream.core import clients
from lakestream.core.errors import describe
from lakestream.core.layout import lease_key

log = logging.getLogger("consumers")

DEFAULT_TTL_S = 30.0  # about Kafka's session timeout (45 s): how long a dead sink's share waits
MIN_TTL_S = 15.0  # renewals every TTL/3 on the poll thread need room for a slow poll or flush
SAME_OWNER_MARGIN_S = 2.0  # S3's clock counts whole seconds


@dataclass
class Held:
    etag: str
    renewed_at: float  # monotonic, taken before the request that confirmed it


@dataclass(frozen=True)
class Holder:
    """Another sink's live lease, as last read: for messages."""

    owner: str
    host: str
    age_s: float
    ttl_s: float
    pid: int | None = None

    def describe(self) -> str:
        return (
            f"{self.owner} on {self.host} (renewed {self.age_s:.0f}s ago; it lapses "
            f"{self.ttl_s:.0f}s after its last renewal)"
        )


def _gone(pid: int) -> bool:
    """No process with this id on this host (a killed sink's)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class Leases:
    """The leases of one topic's partitions that one worker holds or wants."""

    def __init__(
        self, s3: Any, bucket: str, topic: str, owner: str, ttl_s: float = DEFAULT_TTL_S
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.topic = topic
        self.owner = owner
        self.ttl_s = ttl_s
        self.session = uuid.uuid4().hex  # this object's: a lease that holds it is ours
        self.held: dict[int, Held] = {}
        self.others: dict[int, Holder] = {}  # partitions we want that another sink holds
        self.last_error: str | None = None  # the last S3 error, for messages
        self.last_tended = 0.0

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    def deadline(self, partitions: set[int]) -> float:
        """Monotonic time until which every one of `partitions` is surely still ours."""
        return min(
            (self.held[p].renewed_at + self.ttl_s / 2 for p in partitions if p in self.held),
            default=time.monotonic(),
        )

    def _body(self) -> bytes:
        # A new ETag at every write (an ETag is the body's MD5): a renewal by a zombie of the
        # same owner must not match the lease its restarted self wrote.
        return orjson.dumps(
            {
                "owner": self.owner,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "ttl_s": self.ttl_s,
                "session": self.session,
                "write": uuid.uuid4().hex,
            }
        )

    def _put(self, partition: int, **condition: str) -> str | None:
        """Write our lease under `condition`; its new ETag, or None if the condition failed."""
        try:
            reply = self.s3.put_object(
                Bucket=self.bucket,
                Key=lease_key(self.topic, partition),
                Body=self._body(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as exc:
            # 412: the condition failed; 409: a concurrent conditional write won; 404: If-Match
            # on a lease deleted meanwhile. Each means: not ours now, look again later.
            if _status(exc) in (404, 409, 412) or clients.error_code(exc) in (
                "PreconditionFailed",
                "NoSuchKey",
            ):
                return None
            raise
        return str(reply["ETag"])

    def _read(self, partition: int) -> tuple[str, Holder, str | None] | None:
        """The current lease's ETag, holder (its age on S3's clock) and session, or None."""
        try:
            reply = self.s3.get_object(Bucket=self.bucket, Key=lease_key(self.topic, partition))
        except ClientError as exc:
            if _status(exc) == 404 or clients.error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        body = reply["Body"].read()
        try:
            info = orjson.loads(body)
        except orjson.JSONDecodeError:
            info = None
        if not isinstance(info, dict):
            info = {}  # not a lease we wrote: treated as anyone's, and lapsing like one
        now = parsedate_to_datetime(reply["ResponseMetadata"]["HTTPHeaders"]["date"])
        pid = info.get("pid")
        holder = Holder(
            str(info.get("owner", "?")),
            str(info.get("host", "?")),
            max(0.0, (now - reply["LastModified"]).total_seconds()),
            float(info.get("ttl_s", self.ttl_s)),
            pid if isinstance(pid, int) else None,
        )
        return str(reply["ETag"]), holder, info.get("session")

    def take(self, partitions: set[int]) -> set[int]:
        """Take the leases of `partitions` we do not hold that are free or lapsed; the ones taken.
        S3 errors leave a partition for the next try."""
        taken: set[int] = set()
        for p in sorted(partitions - set(self.held)):
            started = time.monotonic()
            try:
                current = self._read(p)
                if current is None:
                    etag = self._put(p, IfNoneMatch="*")
                else:
                    their_etag, holder, session = current
                    if session != self.session and holder.age_s < self._lapses_after(holder):
                        self.others[p] = holder
                        continue
                    etag = self._put(p, IfMatch=their_etag)
            except (BotoCoreError, ClientError) as exc:
                self.last_error = describe(exc)
                log.warning("%s: cannot take the lease of partition %d: %s", self.topic, p, exc)
                continue
            if etag is None:
                continue  # another sink took it between our read and our write
            if current is not None and current[2] != self.session:
                why = (
                    "our own name's earlier process is gone or past its trust"
                    if current[1].owner == self.owner
                    else "its lease had lapsed"
                )
                log.warning(
                    "%s: took partition %d from %s: %s", self.topic, p, current[1].describe(), why
                )
            self.held[p] = Held(etag, started)
            self.others.pop(p, None)
            taken.add(p)
        return taken

    def _lapses_after(self, holder: Holder) -> float:
        """Another session's lease is live for its TTL. Our own owner name's (a restart under
        the same --instance-id): at once if its process is gone from this host, else after half
        the TTL plus S3's clock granularity (the old process has stopped trusting it by then)."""
        if holder.owner != self.owner:
            return holder.ttl_s
        if holder.host == socket.gethostname() and holder.pid is not None and _gone(holder.pid):
            return 0.0
        return holder.ttl_s / 2 + SAME_OWNER_MARGIN_S

    def _renew(self, partition: int) -> bool:
        """Renew one lease: False if another sink holds it now (we dropped it). A transient S3
        error raises StorageError: the lease is neither confirmed nor known to be lost."""
        held = self.held[partition]
        started = time.monotonic()
        try:
            etag = self._put(partition, IfMatch=held.etag)
            if etag is None:  # our last renewal may have landed with its reply lost
                current = self._read(partition)
                if current is not None and current[2] == self.session:
                    etag = self._put(partition, IfMatch=current[0])
        except (BotoCoreError, ClientError) as exc:
            self.last_error = describe(exc)
            raise StorageError(
                f"renew the lease of {self.topic} partition {partition}: {exc}"
            ) from None
        if etag is None:
            del self.held[partition]
            log.warning(
                "%s: lost partition %d: another sink took its lease; its batch is dropped, "
                "unwritten and uncommitted",
                self.topic,
                partition,
            )
            return False
        self.held[partition] = Held(etag, started)
        return True

    def confirm(self, partition: int) -> bool:
        """Before writing or committing the partition: still ours for at least TTL/2?"""
        held = self.held.get(partition)
        if held is None:
            return False
        if time.monotonic() - held.renewed_at < self.ttl_s / 2:
            return True
        return self._renew(partition)

    def tend(self, wanted: set[int]) -> tuple[set[int], set[int]]:
        """Every TTL/3: renew what we hold and try what we want but do not hold (not what we
        just lost: its new holder has it). Returns (lost, taken)."""
        now = time.monotonic()
        if now - self.last_tended < self.renew_every_s:
            return set(), set()
        self.last_tended = now
        lost: set[int] = set()
        for p in sorted(self.held):
            try:
                if not self._renew(p):
                    lost.add(p)
            except StorageError as exc:
                log.warning("%s", exc)  # confirm() tries again before the next write
        return lost, self.take(wanted - lost)

    def release(self) -> None:
        """Delete our leases (If-Match: ours), so the next sink takes the partitions at once."""
        for p, held in sorted(self.held.items()):
            try:
                self.s3.delete_object(
                    Bucket=self.bucket, Key=lease_key(self.topic, p), IfMatch=held.etag
                )
            except (BotoCoreError, ClientError) as exc:  # it lapses on its own
                log.warning("%s: lease of partition %d not released: %s", self.topic, p, exc)
        self.held.clear()
