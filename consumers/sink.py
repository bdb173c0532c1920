"""The S3 sink worker: poll, batch, write every object, then commit. One thread per worker.

The worker owns the loop: polling, the open batch (closed on records, bytes or age), rebalance
callbacks, fencing and the commit. Writing a partition's share of a batch (manifest, objects) is
its PartitionWriter's job (consumers/writer.py). A flush writes every assigned partition's
segment and only then commits their offsets, and only for partitions still assigned to us.

Offsets live in Kafka, so a crash anywhere before the commit means the batch is read again from
its first offset and rewritten under the same names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaError

from consumers import metrics
from consumers.batch import Batch, BatchLimits, Segment
from consumers.clients import CommitFailed, SinkConsumer, make_consumer, resolve_client
from consumers.gaps import GapProbe
from consumers.groups import DEFAULT_GROUP_PREFIX, GroupInfo, describe_group, group_id
from consumers.leases import DEFAULT_TTL_S, Leases
from consumers.partitions import PartitionRegistrar
from consumers.storage import S3Storage, StorageError
from consumers.writer import PartitionWriter
from lakestream.core.datasets import Dataset
from lakestream.core.errors import describe
from lakestream.core.formats import DEFAULT_GZIP_LEVEL, FORMATS
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")

POLL_S = 0.5
UPLOAD_THREADS = 8  # objects of one flush go up concurrently (one per day and partition)
JOIN_GRACE_S = 30.0  # how long a sink waits for partitions before it looks into why
STALL_GRACE_S = 20.0  # a finite run idle with lag left waits this much longer, then fails
ASSIGNMENTS = ("auto", "group", "manual")
# Batches in a row that S3 refused (each after the storage's own retry budget) before the worker
# fails and ends the run: a transient outage is ridden out, a lasting one is not hidden.
MAX_WRITE_FAILURES = 5
# How long a worker keeps reconnecting after a retriable Kafka error (the broker restarting, its
# port refusing connections) without a commit in between, before it fails and ends the run.
RECONNECT_BUDGET_S = 180.0
RECONNECT_PAUSE_S = 2.0
LAG_EVERY_S = 5.0  # how often the consumer-lag gauge is refreshed from the last fetch


@dataclass
class SinkStats:
    """One topic's landing: records, dead letters, objects, bytes, batches, errors."""

    dataset: str
    topic: str
    records: int = 0
    dead_letters: int = 0
    objects: int = 0
    bytes: int = 0
    batches: int = 0
    state_writes: int = 0  # manifests written (only segments of several objects need one)
    errors: int = 0
    last_error: str | None = None
    first_record_at: float | None = None  # monotonic: when the first record was polled
    last_commit_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def busy_seconds(self) -> float | None:
        """From the first record polled to the last commit: the sink's working time."""
        if self.first_record_at is None or self.last_commit_at is None:
            return None
        return self.last_commit_at - self.first_record_at

    def fail(self, message: str) -> None:
        with self._lock:
            self.errors += 1
            self.last_error = message
        metrics.ERRORS.labels(self.topic).inc()


@dataclass(frozen=True)
class SinkOptions:
    limits: BatchLimits = field(default_factory=BatchLimits)
    format: str = "jsonl"
    group_prefix: str = DEFAULT_GROUP_PREFIX
    until_idle: float | None = None
    # auto: group management; on the embedded broker, a group that hands out no partition for
    # `join_grace_s` while it shows no member (its wedge, docs/broker-quirks.md) is taken over
    # by manual assignment.
    assignment: str = "auto"
    # How long a sink with no partition waits before it looks into why (`_no_partitions`).
    join_grace_s: float = JOIN_GRACE_S
    # Register each landed dt= partition in the raw table's Glue entry (consumers/partitions.py);
    # off where Athena's partition projection on dt makes it pointless.
    register_partitions: bool = True
    # auto (clients.auto_kafka_client: librdkafka on a cluster, kafka-python on the embedded
    # broker), confluent or kafka-python (consumers/clients.py)
    client: str = "auto"
    compression_level: int = DEFAULT_GZIP_LEVEL  # gzip level of JSON-lines objects
    # Manual assignment: how long a partition's lease outlives its sink's last renewal
    # (consumers/leases.py): a sink that died without releasing its share is replaced after it.
    lease_ttl_s: float = DEFAULT_TTL_S
    # A stable name (Kafka's group.instance.id): a sink restarted under it takes back its own
    # leases at once instead of waiting for them to lapse. Two running sinks never share one.
    instance_id: str | None = None


def never_assigned(topic: str, group: str, info: GroupInfo | None, grace_s: float) -> str:
    """Why a finite run got no partition, and what to do about it."""
    if info is None:
        where = f"group {group} could not be described"
    else:
        members = ", ".join(info.members) or "no members"
        where = f"group {group} is {info.state} with {members}"
    return (
        f"got no partition of {topic} within {grace_s:g}s, so nothing was read: {where}. "
        "If other sinks hold the partitions, they land them. If the group shows no member, the "
        "broker did not hand them out: run again, or restart the broker (`make down`, `make "
        "up`: the embedded broker keeps its log). `lakestream status` shows the group and lag."
    )


def leased_elsewhere(
    topic: str, others: dict[int, Any], s3_error: str | None, grace_s: float
) -> str:
    """Why a finite run with manual assignment got no partition."""
    if not others:
        return (
            f"got no partition of {topic} within {grace_s:g}s: no partition lease could "
            f"be taken in S3 (last error: {s3_error or 'none'})"
        )
    held = "; ".join(f"partition {p}: {h.describe()}" for p, h in sorted(others.items()))
    return (
        f"got no partition of {topic} within {grace_s:g}s: other sinks hold their leases "
        f"({held}). They land them; a sink that stopped renewing loses its lease after its TTL, "
        "and a later run takes the partition."
    )


def lag_left(topic: str, group: str, lag: dict[int, int | None]) -> str:
    """Why a finite run ended with records still in Kafka."""
    parts = ", ".join(
        f"partition {p}: {'unknown' if n is None else f'{n:,} records'}"
        for p, n in sorted(lag.items())
    )
    return (
        f"stopped with lag left on {topic} after {STALL_GRACE_S:.0f}s without progress ({parts}); "
        f"group {group} keeps its offsets, so run again to land the rest; `lakestream status` "
        "shows the lag per partition."
    )


class SinkWorker(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        dataset: Dataset,
        options: SinkOptions,
        stats: SinkStats,
        stop: threading.Event,
        abort: threading.Event,
        name: str,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.settings = settings
        self.dataset = dataset
        self.options = options
        self.stats = stats
        self.stop_event = stop
        self.abort = abort
        self.bucket = settings.bucket(dataset)
        self.format = FORMATS[options.format]
        self.batch = Batch(dataset, options.limits, self.format, options.compression_level)
        self.storage = S3Storage(settings, stop=abort)
        self.writers: dict[int, PartitionWriter] = {}  # one per partition assigned to us
        self.registrar = (
            PartitionRegistrar(settings, dataset) if options.register_partitions else None
        )
        self.assigned_at: float | None = None  # when the first partitions were assigned
        # revoked partition -> (first uncommitted offset, where its reading began)
        self.restart_at: dict[int, tuple[int, int]] = {}
        self.gaps = GapProbe(
            settings,
            dataset.topic,
            # librdkafka reads committed records only; kafka-python, as the sink uses it, all.
            read_committed=resolve_client(options.client, settings) == "confluent",
            stopping=abort.is_set,
        )
        self.consumer: SinkConsumer | None = None
        self.uploads: ThreadPoolExecutor | None = None
        self.error: str | None = None  # the worker failed
        self.incomplete: str | None = None  # a finite run ended with data left in Kafka
        self.share = share  # (index, count): this worker's share of a manual assignment
        self.mode = "group"  # or "manual"
        self.leases: Leases | None = None  # manual assignment's fencing
        self.wanted: set[int] = set()  # manual assignment: our share of the partitions
        self.group = group_id(options.group_prefix, dataset)
        # Unique per process and thread: the group's member ids start with it, so a sink can
        # tell itself from the group's other members.
        self.client_id = f"lakestream-sink-{name}-{os.getpid()}"
        self.commit_failed = False
        self.write_failures = 0  # batches in a row whose objects could not be written
        self.failing_since: float | None = None  # when the current Kafka outage began
        self.last_failure = 0.0  # monotonic: the last retriable Kafka error
        self.progress_at = 0.0  # monotonic: the last record polled or commit made

    # -- rebalance callbacks (they run inside poll, on this thread) ----------------------------

    def on_partitions_revoked(self, parts: set[int]) -> None:
        for p in parts & set(self.batch.segments):
            # kafka-python keeps the fetch position of a partition that comes straight back to
            # us; without a seek we would skip the dropped records. Remember where to restart.
            segment = self.batch.segments[p]
            self.restart_at[p] = (segment.first_offset, segment.start_offset)
        log.info(
            "%s: revoked %s, dropping uncommitted %s",
            self.name,
            sorted(parts),
            {p: self.restart_at[p][0] for p in parts if p in self.restart_at},
        )
        self.batch.drop_partitions(parts)
        for p in parts:
            self.writers.pop(p, None)
        metrics.forget_partitions(self.dataset.topic, parts)

    def on_partitions_assigned(self, assigned: set[int]) -> None:
        log.info("%s: assigned %s", self.name, sorted(assigned))
        if assigned and self.assigned_at is None:
            self.assigned_at = time.monotonic()
        for p in assigned:
            self.writers.pop(p, None)  # a fresh writer re-checks the manifest
            self.batch.positions.pop(p, None)  # read again where the group committed
            if p in self.restart_at:
                self._seek(p, *self.restart_at[p])
        self.restart_at.clear()  # partitions that went elsewhere restart at their commit there

    # -- the loop ------------------------------------------------------------------------------

    @property
    def _consumer(self) -> SinkConsumer:
        if self.consumer is None:
            raise RuntimeError("the sink worker has no consumer yet")
        return self.consumer

    def _make_consumer(self) -> SinkConsumer:
        return make_consumer(
            self.options.client, self.settings, self.dataset.topic, self.group, self.client_id
        )

    def _start(self, mode: str) -> None:
        self.mode = mode
        if mode == "group":
            self._consumer.subscribe(self)
            return
        index, count = self.share
        partitions = self._consumer.partitions(self.dataset.partitions)
        self.wanted = {p for p in partitions if p % count == index}
        # Named for messages and for --instance-id restarts; whose lease it is, the session says.
        owner = f"{self.options.instance_id or socket.gethostname()}/{self.name}"
        if self.leases is None:  # a reconnect keeps the leases it holds
            self.leases = Leases(
                self.storage.s3,
                self.bucket,
                self.dataset.topic,
                owner if self.options.instance_id else f"{owner}/{os.getpid()}",
                self.options.lease_ttl_s,
            )
        self.leases.take(self.wanted)
        taken = set(self.leases.held)
        self._consumer.assign(sorted(taken))
        self.on_partitions_assigned(taken)
        self.leases.last_tended = time.monotonic()

    def _describe_group(self) -> GroupInfo | None:
        try:
            return describe_group(self.settings, self.group)
        except KafkaError as exc:
            log.warning("%s: cannot describe group %s: %s", self.name, self.group, exc)
            return None

    def run(self) -> None:
        try:
            self.uploads = ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix=f"{self.name}-up")
            # auto starts with group management, so sinks started together share the partitions;
            # only a group that hands out nothing while it shows no member is taken over.
            self.mode = "manual" if self.options.assignment == "manual" else "group"
            while True:
                try:
                    if self.consumer is None:
                        self.consumer = self._make_consumer()
                        self._start(self.mode)
                    self._loop()
                    break
                except KafkaError as exc:
                    if not self._worth_reconnecting(exc):
                        raise
                    self._drop_consumer()
        except Exception as exc:  # report, never die silently
            self.error = describe(exc)
            self.stats.fail(self.error)
            log.error("%s: %s", self.name, self.error)
        finally:
            if self.leases is not None:
                self.leases.release()
            if self.consumer is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    self.consumer.close()
            if self.uploads is not None:
                self.uploads.shutdown(wait=False)
            with contextlib.suppress(Exception):  # closing is best effort
                self.gaps.close()

    def _worth_reconnecting(self, exc: KafkaError) -> bool:
        """A retriable Kafka error (the broker restarting, its port refusing connections, the
        consumer's bootstrap timing out): reconnect, unless the outage has lasted
        RECONNECT_BUDGET_S with no progress (a record polled or a commit made) since it began."""
        now = time.monotonic()
        if not exc.retriable or self.abort.is_set() or self.stop_event.is_set():
            return False
        new_outage = (
            self.failing_since is None
            or self.progress_at > self.last_failure
            or now - self.last_failure > RECONNECT_BUDGET_S
        )
        if new_outage:
            self.failing_since = now
        self.last_failure = now
        if now - (self.failing_since or now) > RECONNECT_BUDGET_S:
            return False
        self.stats.fail(describe(exc))
        log.warning(
            "%s: %s; reconnecting, the open batch will be re-read", self.name, describe(exc)
        )
        return True

    def _drop_consumer(self) -> None:
        """Drop the consumer and the open batch, never committed: the next consumer (same mode,
        same leases) reads from the last commit."""
        self.batch.reset()
        self.batch.positions.clear()
        self.writers.clear()
        self.restart_at.clear()
        if self.consumer is not None:
            with contextlib.suppress(Exception):  # the old one may be half broken
                self.consumer.close()
        self.consumer = None
        self.stop_event.wait(RECONNECT_PAUSE_S)

    def _loop(self) -> None:
        until_idle = self.options.until_idle
        started = waited = time.monotonic()
        last_record = None
        lag_at = 0.0
        while not self.stop_event.is_set():
            polled = self._consumer.poll(POLL_S)
            now = time.monotonic()
            if now - lag_at >= LAG_EVERY_S:
                lag_at = now
                self._report_lag()
            unknown = {c.partition for c in polled} - set(self.batch.positions)
            if unknown:
                self._start_positions(unknown)
            for chunk in polled:
                self.batch.add(chunk)
                last_record = self.progress_at = now
                if self.stats.first_record_at is None:
                    self.stats.first_record_at = now
            if self.leases is not None:
                self._tend_leases()
            if self.batch.close_reason(now):
                self.flush()
            if self.assigned_at is None and now - waited >= self.options.join_grace_s:
                waited = now
                if not self._no_partitions(finite=until_idle is not None):
                    break
                started = now
            if until_idle is not None and self._finished(now, started, last_record):
                break
        # Graceful end (idle, stop signal): write and commit what is open. An abort skips it.
        if self.batch and not self.abort.is_set():
            self.flush()
        if until_idle is not None and self.commit_failed and not self.incomplete:
            self.incomplete = (
                f"the last commit on {self.dataset.topic} failed; the next run re-reads that "
                "batch and overwrites its objects, so nothing is lost: run it again"
            )

    def _tend_leases(self) -> None:
        """Manual assignment: renew our leases, drop the ones another sink took, and take the
        ones of our share that became free."""
        assert self.leases is not None
        lost, taken = self.leases.tend(self.wanted)
        if lost:
            self._fence(lost)
        if taken:
            # Commit what is open first: librdkafka's assign() restarts every partition at its
            # committed offset (kafka-python keeps the positions of partitions it keeps).
            if self.batch:
                self.flush()
            self._consumer.assign(sorted(self.leases.held))
            self.on_partitions_assigned(taken)

    def _fence(self, lost: set[int]) -> None:
        """Another sink took these partitions' leases: drop their open batch, unwritten and
        uncommitted (their new owner reads them from the last commit), and stop reading them."""
        self.batch.drop_partitions(lost)
        if self.batch:
            self.flush()
        self._stop_reading(lost)

    def _no_partitions(self, finite: bool) -> bool:
        """No partition after the join grace: recover, keep waiting (True), or give up (False)."""
        if self.leases is not None:  # manual: other sinks hold our share's leases
            if not finite:
                log.warning(
                    "%s: every partition of %s is leased by another sink; waiting",
                    self.name,
                    self.dataset.topic,
                )
                return True
            self.incomplete = leased_elsewhere(
                self.dataset.topic,
                self.leases.others,
                self.leases.last_error,
                self.options.join_grace_s,
            )
            return False
        group = self._describe_group()
        # Stuck: nobody else is in the group (at most this sink, which got nothing). A group
        # with this sink as its only member would have handed it every partition.
        stuck = group is not None and not group.others(self.client_id)
        if stuck and self.settings.embeds_kafka and self.options.assignment == "auto":
            # The embedded broker's group can wedge: empty, yet it assigns nothing to anyone.
            log.warning(
                "%s: no partitions after %gs and group %s is %s with no other member: taking "
                "the partitions by manual assignment (docs/broker-quirks.md)",
                self.name,
                self.options.join_grace_s,
                self.group,
                group.state,
            )
            with contextlib.suppress(Exception):  # leaving a stuck group is best effort
                self._consumer.close()
            self.consumer = self._make_consumer()
            self._start("manual")
            return True
        if not finite:
            log.warning("%s: still no partitions of %s", self.name, self.dataset.topic)
            return True
        self.incomplete = never_assigned(
            self.dataset.topic, self.group, group, self.options.join_grace_s
        )
        return False

    def _finished(self, now: float, started: float, last_record: float | None) -> bool:
        """A finite run ends once idle long enough and read to the end of every partition it
        holds; idle with lag left, it waits STALL_GRACE_S more and then ends as incomplete."""
        until_idle = self.options.until_idle or 0.0
        if self.assigned_at is None:
            return False  # _no_partitions decides
        since = last_record if last_record is not None else max(started, self.assigned_at)
        idle = now - since
        if idle < until_idle:
            return False
        lag = self.lag()
        if all(v == 0 for v in lag.values()):
            return True
        if idle >= until_idle + STALL_GRACE_S:
            self.incomplete = lag_left(self.dataset.topic, self.group, lag)
            return True
        return False

    def _report_lag(self) -> None:
        """The lag gauge, from the last fetch: a figure, never a reason to stop reading."""
        try:
            metrics.lag(self.dataset.topic, self.lag())
        except Exception as exc:
            log.debug("%s: no lag for the metrics: %s", self.name, describe(exc))

    def lag(self) -> dict[int, int | None]:
        """Per partition held now: records between our position and the end (None: unknown).

        The end is the high watermark of the last Fetch response, which the embedded broker
        answers correctly (its ListOffsets does not)."""
        return self._consumer.lag()

    # -- flushing ------------------------------------------------------------------------------

    def _writer(self, partition: int) -> PartitionWriter:
        if partition not in self.writers:
            self.writers[partition] = PartitionWriter(
                self.dataset, partition, self.bucket, self.storage, self.format
            )
        return self.writers[partition]

    def flush(self) -> None:
        with metrics.FLUSH_SECONDS.labels(self.dataset.topic).time():
            self._flush()

    def _flush(self) -> None:
        batch = self.batch
        assigned = self._consumer.assignment()
        written: list[Segment] = []
        sizes: dict[int, int] = {}  # bytes written per partition, for the metrics
        lost: set[int] = set()
        self._count_gaps(assigned)  # before any lease is confirmed: it may take seconds
        try:
            for segment in list(batch.segments.values()):
                if segment.partition not in assigned:
                    continue  # fenced: no longer ours, the new owner will rewrite it
                if self.leases is not None:
                    if not self.leases.confirm(segment.partition):
                        lost.add(segment.partition)  # another sink took its lease
                        continue
                    # Retries stop where our trust in the lease does.
                    self.storage.deadline = self.leases.deadline({segment.partition})
                done = self._writer(segment.partition).write(segment, self.uploads)
                self.stats.add(
                    records=segment.records,
                    dead_letters=len(segment.dead),
                    objects=done.objects,
                    bytes=done.bytes,
                    state_writes=int(done.manifest),
                )
                sizes[segment.partition] = done.bytes
                written.append(segment)
                log.info(
                    "%s: wrote partition %d offsets [%d, %d)%s",
                    self.name,
                    segment.partition,
                    segment.first_offset,
                    segment.next_offset,
                    f"; the broker serves no record at {segment.skipped} offsets of it"
                    if segment.skipped
                    else "",
                )
            if self.registrar:  # the objects are durable: make their days queryable, then commit
                self.registrar.register({dt for s in written for dt in s.objects})
            if self.leases is not None:  # last thing before the commit: still ours?
                lost |= {s.partition for s in written if not self.leases.confirm(s.partition)}
                written = [s for s in written if s.partition not in lost]
        except StorageError as exc:
            self.write_failures += 1
            if exc.permanent or self.write_failures >= MAX_WRITE_FAILURES:
                # Nothing was committed: the run ends (the others commit what they hold) rather
                # than stall this topic in a loop; a restart reads the batch again.
                raise
            self.stats.fail(str(exc))
            log.error("%s: %s; the batch will be re-read", self.dataset.topic, exc)
            self._rewind(batch.segments.values())
            batch.reset()
            self._stop_reading(lost)
            return
        finally:
            self.storage.deadline = None
        self.write_failures = 0
        self._commit(written, sizes)
        batch.reset()
        self._stop_reading(lost)

    def _count_gaps(self, assigned: set[int]) -> None:
        """Each segment's gaps that the broker confirms it does not serve (consumers/gaps.py)."""
        gaps = {
            s.partition: s.gaps
            for s in self.batch.segments.values()
            if s.gaps and s.partition in assigned
        }
        if gaps:
            checked = self.gaps.count(gaps)
            for partition, segment_gaps in checked.items():
                segment = self.batch.segments[partition]
                segment.skipped, segment.unchecked = segment_gaps.confirmed, segment_gaps.unchecked

    def _stop_reading(self, lost: set[int]) -> None:
        """Partitions whose lease another sink took during a flush: read no further."""
        if lost and self.leases is not None:
            metrics.forget_partitions(self.dataset.topic, lost)  # the new owner reports them
            for p in lost:
                self.writers.pop(p, None)
                self.batch.positions.pop(p, None)
            self._consumer.assign(sorted(self.leases.held))

    def _commit(self, segments: list[Segment], sizes: dict[int, int]) -> None:
        if not segments:
            return
        offsets = {s.partition: s.next_offset for s in segments}
        try:
            self._consumer.commit(offsets)
            for s in segments:  # landed: durable and committed, never counted twice
                reasons = [d["reason"] for d in s.dead]
                metrics.landed(self.dataset.topic, s.records, sizes.get(s.partition, 0), reasons)
            self.commit_failed = False
            self.progress_at = time.monotonic()
            self.stats.add(batches=1)
            self.stats.last_commit_at = time.monotonic()
            log.info("%s: committed %s", self.name, offsets)
        except CommitFailed as exc:
            self.commit_failed = True
            metrics.COMMIT_FAILURES.labels(self.dataset.topic).inc()
            # Typically a rebalance while we wrote. Whoever owns the partitions next (maybe us)
            # must read from the last commit: rewind, so this consumer never skips the batch.
            # The rewrite overwrites the same object names, so nothing is lost or doubled.
            self.stats.fail(f"commit failed: {exc}")
            log.warning("%s: commit failed (%s); the batch will be re-read", self.name, exc)
            self._rewind(segments)

    def _rewind(self, segments: Any) -> None:
        assigned = self._consumer.assignment()
        for s in segments:
            # The re-read may close elsewhere and split into other days: a fresh writer reads
            # the manifest of this attempt again and deletes what the next one will not
            # overwrite (the soak found raw duplicates when the old writer was kept).
            self.writers.pop(s.partition, None)
            if s.partition in assigned:
                self._seek(s.partition, s.first_offset, s.start_offset)

    def _seek(self, partition: int, offset: int, began: int) -> None:
        """Read `partition` again from `offset`; `began` (at most `offset`): where the reading
        that reached it began, so that a gap before it is still counted."""
        self._consumer.seek(partition, offset)
        self.batch.positions[partition] = began

    def _start_positions(self, partitions: set[int]) -> None:
        """Where reading newly assigned partitions began: the group's committed offsets, one
        request under one deadline. The first batch then checks the offsets between there and
        its first message with the broker (consumers/gaps.py). With no commit, or no answer, no
        position is set and no gap before the first message is claimed."""
        try:
            committed = self._consumer.committed(sorted(partitions))
        except Exception as exc:  # a figure for the audit only: never stop reading for it
            log.warning(
                "%s: no committed offsets for partitions %s (%s); gaps before their first "
                "messages are not counted",
                self.name,
                sorted(partitions),
                describe(exc),
            )
            return
        for partition, offset in committed.items():
            if offset is not None:
                self.batch.positions[partition] = offset
