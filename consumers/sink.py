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
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.errors import KafkaError

from consumers.batch import Batch, BatchLimits, Segment
from consumers.storage import S3Storage, StorageError
from consumers.writer import PartitionWriter
from lakestream.core import clients
from lakestream.core.datasets import Dataset
from lakestream.core.formats import FORMATS
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")

DEFAULT_GROUP_PREFIX = "lakestream-sink"
POLL_MS = 500
JOIN_GRACE_S = 30.0  # how long --until-idle waits for a first assignment
FIRST_FETCH_GRACE_S = 10.0  # and then for a first record


@dataclass
class TopicStats:
    dataset: str
    topic: str
    records: int = 0
    dead_letters: int = 0
    objects: int = 0
    bytes: int = 0
    batches: int = 0
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


@dataclass(frozen=True)
class SinkOptions:
    limits: BatchLimits = field(default_factory=BatchLimits)
    format: str = "jsonl"
    group_prefix: str = DEFAULT_GROUP_PREFIX
    until_idle: float | None = None


def group_id(prefix: str, dataset: Dataset) -> str:
    return f"{prefix}-{dataset.name}"


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class SinkWorker(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        dataset: Dataset,
        options: SinkOptions,
        stats: TopicStats,
        stop: threading.Event,
        abort: threading.Event,
        name: str,
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
        self.batch = Batch(dataset, options.limits)
        self.storage = S3Storage(settings, stop=abort)
        self.writers: dict[int, PartitionWriter] = {}  # one per partition assigned to us
        self.assigned_at: float | None = None  # when the first partitions were assigned
        self.restart_at: dict[int, int] = {}  # revoked partition -> first uncommitted offset
        self.consumer: Any = None
        self.error: str | None = None

    # -- rebalance callbacks (they run inside poll, on this thread) ----------------------------

    def on_partitions_revoked(self, revoked: Any) -> None:
        parts = {tp.partition for tp in revoked if tp.topic == self.dataset.topic}
        for p in parts & set(self.batch.segments):
            # kafka-python keeps the fetch position of a partition that comes straight back to
            # us; without a seek we would skip the dropped records. Remember where to restart.
            self.restart_at[p] = self.batch.segments[p].first_offset
        log.info(
            "%s: revoked %s, dropping uncommitted %s",
            self.name,
            sorted(parts),
            {p: self.restart_at[p] for p in parts if p in self.restart_at},
        )
        self.batch.drop_partitions(parts)
        for p in parts:
            self.writers.pop(p, None)

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("%s: assigned %s", self.name, sorted(tp.partition for tp in assigned))
        if assigned and self.assigned_at is None:
            self.assigned_at = time.monotonic()
        for tp in assigned:
            self.writers.pop(tp.partition, None)  # a fresh writer re-checks the manifest
            if tp.partition in self.restart_at:
                self.consumer.seek(tp, self.restart_at[tp.partition])
        self.restart_at.clear()  # partitions that went elsewhere restart at their commit there

    # -- the loop ------------------------------------------------------------------------------

    def _make_consumer(self) -> Any:

        worker = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                worker.on_partitions_revoked(revoked)

            def on_partitions_assigned(self, assigned: Any) -> None:
                worker.on_partitions_assigned(assigned)

        consumer = clients.kafka_consumer(
            self.settings,
            group_id=group_id(self.options.group_prefix, self.dataset),
            client_id=f"lakestream-sink-{self.name}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_poll_records=5_000,
            max_poll_interval_ms=300_000,
        )
        consumer.subscribe([self.dataset.topic], listener=Listener())
        return consumer

    def run(self) -> None:
        try:
            self.consumer = self._make_consumer()
            self._loop()
        except Exception as exc:  # report, never die silently
            self.error = f"{type(exc).__name__}: {exc}"
            self.stats.fail(self.error)
            log.error("%s: %s", self.name, self.error)
        finally:
            if self.consumer is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    self.consumer.close(autocommit=False)

    def _loop(self) -> None:
        until_idle = self.options.until_idle
        started = time.monotonic()
        last_record = None
        while not self.stop_event.is_set():
            polled = self.consumer.poll(timeout_ms=POLL_MS)
            now = time.monotonic()
            for messages in polled.values():
                for message in messages:
                    self.batch.add(message)
                last_record = now
                if self.stats.first_record_at is None:
                    self.stats.first_record_at = now
            if self.batch.close_reason(now):
                self.flush()
            if until_idle is not None and self._idle_long_enough(now, started, last_record):
                break
        # Graceful end (idle, stop signal): write and commit what is open. An abort skips it.
        if self.batch and not self.abort.is_set():
            self.flush()

    def _idle_long_enough(self, now: float, started: float, last_record: float | None) -> bool:
        until_idle = self.options.until_idle or 0.0
        if last_record is not None:
            return now - last_record >= until_idle
        # Nothing read yet: the first fetch after joining can take a while, so an empty start
        # waits at least FIRST_FETCH_GRACE_S after the assignment (JOIN_GRACE_S without one).
        if self.assigned_at is None:
            return now - started >= max(JOIN_GRACE_S, until_idle)
        return now - self.assigned_at >= max(FIRST_FETCH_GRACE_S, until_idle)

    # -- flushing ------------------------------------------------------------------------------

    def _writer(self, partition: int) -> PartitionWriter:
        if partition not in self.writers:
            self.writers[partition] = PartitionWriter(
                self.dataset, partition, self.bucket, self.storage, self.format
            )
        return self.writers[partition]

    def flush(self) -> None:
        batch = self.batch
        assigned = {tp.partition for tp in self.consumer.assignment()}
        ingested_at = _utc_now()
        written: list[Segment] = []
        try:
            for segment in list(batch.segments.values()):
                if segment.partition not in assigned:
                    continue  # fenced: no longer ours, the new owner will rewrite it
                done = self._writer(segment.partition).write(segment, ingested_at)
                self.stats.add(
                    records=segment.records,
                    dead_letters=len(segment.dead),
                    objects=done.objects,
                    bytes=done.bytes,
                )
                written.append(segment)
                log.info(
                    "%s: wrote partition %d offsets [%d, %d)",
                    self.name,
                    segment.partition,
                    segment.first_offset,
                    segment.next_offset,
                )
        except StorageError as exc:
            self.stats.fail(str(exc))
            log.error("%s: %s; the batch will be re-read", self.dataset.topic, exc)
            self._rewind(batch.segments.values())
            batch.reset()
            return
        self._commit(written)
        batch.reset()

    def _commit(self, segments: list[Segment]) -> None:
        if not segments:
            return

        offsets = {
            TopicPartition(self.dataset.topic, s.partition): clients.offset_and_metadata(
                s.next_offset
            )
            for s in segments
        }
        try:
            self.consumer.commit(offsets)
            self.stats.add(batches=1)
            self.stats.last_commit_at = time.monotonic()
            log.info(
                "%s: committed %s", self.name, {tp.partition: o.offset for tp, o in offsets.items()}
            )
        except KafkaError as exc:
            # Typically a rebalance while we wrote. Whoever owns the partitions next (maybe us)
            # must read from the last commit: rewind, so this consumer never skips the batch.
            # The rewrite overwrites the same object names, so nothing is lost or doubled.
            self.stats.fail(f"commit failed: {type(exc).__name__}")
            log.warning("%s: commit failed (%s); the batch will be re-read", self.name, exc)
            self._rewind(segments)

    def _rewind(self, segments: Any) -> None:

        assigned = self.consumer.assignment()
        for s in segments:
            tp = TopicPartition(self.dataset.topic, s.partition)
            if tp in assigned:
                self.consumer.seek(tp, s.first_offset)
