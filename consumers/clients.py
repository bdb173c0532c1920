"""The sink's Kafka consumer behind one interface: librdkafka (confluent-kafka) or kafka-python.

kafka-python decodes every message in Python: on this project's bench it reads about 65,000
messages/s from the embedded broker, below what the producers send. librdkafka fetches and
decodes in C threads (over 300,000/s): what `--client auto` (the default) runs on a Kafka
cluster, where its error callback turns a refused login into an error instead of silent retries
(`clients.LibrdkafkaErrors`). On the embedded broker auto runs kafka-python
(`clients.auto_kafka_client` says why); `--client confluent` works there too, with a longer
group session than kafka-python's (`clients.group_timings`, docs/broker-quirks.md §4).

Both hand the batch the same `Polled` chunks, run the rebalance callbacks on the polling thread,
commit synchronously and read the end of a partition from the last fetch's high watermark (the
embedded broker's ListOffsets is wrong).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.errors import KafkaError

from consumers.batch import Polled
from consumers.groups import topic_partitions
from lakestream.core import clients
from lakestream.core.errors import LakestreamError, describe
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")

SINK_CLIENTS = ("auto", "confluent", "kafka-python")
MAX_POLL_RECORDS = 10_000
COMMITTED_TIMEOUT_S = 5
STARTUP_TIMEOUT_S = 15  # metadata from the brokers when a librdkafka sink starts
# librdkafka's prefetch, bounded: by default it queues up to 64 MiB or 100,000 messages per
# partition and fetches 1 MiB per partition, which cost the sink ~80 MiB of RSS. These bounds
# (measured by `python -m consumers bench`) keep ~10,000 messages ahead per partition, enough to
# read while a flush uploads, for ~25 MiB; a full queue is re-checked every 5 ms, not 1 s.
PREFETCH = {
    "queued.max.messages.kbytes": 4096,
    "queued.min.messages": 10_000,
    "max.partition.fetch.bytes": 512 * 1024,
    "fetch.max.bytes": 2 * 1024 * 1024,
    "fetch.queue.backoff.ms": 5,
}


class CommitFailed(LakestreamError):
    """The group refused or lost a commit (typically a rebalance while the batch was written)."""


class Rebalance(Protocol):
    def on_partitions_revoked(self, partitions: set[int]) -> None: ...

    def on_partitions_assigned(self, partitions: set[int]) -> None: ...


class SinkConsumer(Protocol):
    name: str

    def subscribe(self, listener: Rebalance) -> None: ...

    def assign(self, partitions: list[int]) -> None: ...

    def partitions(self, fallback: int) -> list[int]: ...

    def poll(self, timeout_s: float) -> list[Polled]: ...

    def seek(self, partition: int, offset: int) -> None: ...

    def committed(self, partitions: list[int]) -> dict[int, int | None]: ...

    def assignment(self) -> set[int]: ...

    def commit(self, offsets: dict[int, int]) -> None: ...

    def lag(self) -> dict[int, int | None]: ...

    def close(self) -> None: ...


def resolve_client(kind: str, settings: Settings) -> str:
    """The client `kind` names (`clients.kafka_client_named`), once `kind` is checked."""
    if kind not in SINK_CLIENTS:
        raise ValueError(f"unknown sink client {kind!r}; choose one of {', '.join(SINK_CLIENTS)}")
    return clients.kafka_client_named(kind, settings)


def make_consumer(
    kind: str, settings: Settings, topic: str, group: str, client_id: str
) -> SinkConsumer:
    if resolve_client(kind, settings) == "confluent":
        return ConfluentSinkConsumer(settings, topic, group, client_id)
    return PythonSinkConsumer(settings, topic, group, client_id)


class PythonSinkConsumer:
    name = "kafka-python"

    def __init__(self, settings: Settings, topic: str, group: str, client_id: str) -> None:
        self.topic = topic
        self.consumer = clients.kafka_consumer(
            settings,
            group_id=group,
            client_id=client_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_poll_records=MAX_POLL_RECORDS,
            max_poll_interval_ms=300_000,
        )

    def _tp(self, partition: int) -> TopicPartition:
        return TopicPartition(self.topic, partition)

    def subscribe(self, listener: Rebalance) -> None:
        topic = self.topic

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                mine = {tp.partition for tp in revoked if tp.topic == topic}
                listener.on_partitions_revoked(mine)

            def on_partitions_assigned(self, assigned: Any) -> None:
                listener.on_partitions_assigned({tp.partition for tp in assigned})

        self.consumer.subscribe([self.topic], listener=Listener())

    def assign(self, partitions: list[int]) -> None:
        self.consumer.assign([self._tp(p) for p in partitions])

    def partitions(self, fallback: int) -> list[int]:
        return topic_partitions(self.consumer, self.topic, fallback)

    def poll(self, timeout_s: float) -> list[Polled]:
        polled = self.consumer.poll(timeout_ms=int(timeout_s * 1000))
        return [
            Polled(
                tp.topic,
                tp.partition,
                [m.offset for m in messages],
                [m.value for m in messages],
                [m.key for m in messages],
                [m.timestamp for m in messages],
                [m.headers for m in messages],
            )
            for tp, messages in polled.items()
            if messages
        ]

    def seek(self, partition: int, offset: int) -> None:
        self.consumer.seek(self._tp(partition), offset)

    def committed(self, partitions: list[int]) -> dict[int, int | None]:
        """The group's committed offsets (None: none), all within COMMITTED_TIMEOUT_S."""
        deadline = time.monotonic() + COMMITTED_TIMEOUT_S
        found: dict[int, int | None] = {}
        for p in partitions:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                break  # what was fetched in time is kept
            try:
                found[p] = self.consumer.committed(self._tp(p), timeout_ms=left_ms)
            except KafkaError:
                if not found:
                    raise
                break
        return found

    def assignment(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def commit(self, offsets: dict[int, int]) -> None:
        try:
            self.consumer.commit(
                {self._tp(p): clients.offset_and_metadata(o) for p, o in offsets.items()}
            )
        except KafkaError as exc:
            raise CommitFailed(describe(exc)) from None

    def lag(self) -> dict[int, int | None]:
        lag: dict[int, int | None] = {}
        for tp in self.consumer.assignment():
            end = self.consumer.highwater(tp)
            position = self.consumer.position(tp, timeout_ms=1000)
            known = end is not None and position is not None
            lag[tp.partition] = max(0, end - position) if known else None
        return lag

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def confluent_config(settings: Settings, group: str, client_id: str) -> dict[str, Any]:
    """The librdkafka consumer's configuration (without its error callback)."""
    config = {
        **clients.librdkafka_options(settings, client_id),
        "group.id": group,
        # The classic rebalance protocol, whatever librdkafka's default becomes: the callbacks
        # and the fault tests are written for it (KIP-848's protocol needs a 4.0 broker).
        "group.protocol": "classic",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # Committed records only (librdkafka's default, said here): the gap probe reads at the
        # same level (consumers/gaps.py), so an aborted transaction is not taken for a loss.
        "isolation.level": "read_committed",
        "max.poll.interval.ms": 300_000,
        # How long the broker may hold a fetch when no record is there: the latency a quiet
        # partition adds (default 500 ms). Not much lower: fetches with a 10 ms wait got no
        # records at all from the embedded broker in our tries.
        "fetch.wait.max.ms": 100,
        **PREFETCH,
    }
    if timings := clients.group_timings(settings, "confluent"):
        config["session.timeout.ms"], config["heartbeat.interval.ms"] = timings
    return config


class ConfluentSinkConsumer:
    name = "confluent"

    def __init__(self, settings: Settings, topic: str, group: str, client_id: str) -> None:
        from confluent_kafka import Consumer, TopicPartition

        self.topic = topic
        self._TP = TopicPartition
        self.servers = settings.kafka_bootstrap_servers
        self.errors = clients.LibrdkafkaErrors(self.servers)
        self.consumer = Consumer(
            {**confluent_config(settings, group, client_id), "error_cb": self.errors}
        )
        # kafka-python fails at once on brokers it cannot reach; librdkafka would retry quietly.
        try:
            self.errors.check_reachable(self.consumer, STARTUP_TIMEOUT_S, topic)
        except LakestreamError:
            self.consumer.close()
            raise
        self._seeks: dict[int, int] | None = None  # collected while an assignment is applied

    def subscribe(self, listener: Rebalance) -> None:
        def on_assign(consumer: Any, assigned: list[Any]) -> None:
            # Seeks asked for inside the callback become the assignment's start offsets: a
            # partition is not fetchable (so not seekable) until it is assigned.
            self._seeks = {}
            try:
                listener.on_partitions_assigned({tp.partition for tp in assigned})
                for tp in assigned:
                    if tp.partition in self._seeks:
                        tp.offset = self._seeks[tp.partition]
            finally:
                self._seeks = None
            consumer.assign(assigned)

        def on_revoke(consumer: Any, revoked: list[Any]) -> None:
            listener.on_partitions_revoked({tp.partition for tp in revoked})

        self.consumer.subscribe(
            [self.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke
        )

    def assign(self, partitions: list[int]) -> None:
        self.consumer.assign([self._TP(self.topic, p) for p in partitions])

    def partitions(self, fallback: int) -> list[int]:
        try:
            meta = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
        except Exception as exc:  # confluent's KafkaException: metadata is best effort here
            log.warning("no metadata for %s (%s); using %d partitions", self.topic, exc, fallback)
            return list(range(fallback))
        if meta is None or meta.error is not None or not meta.partitions:
            return list(range(fallback))
        return sorted(meta.partitions)

    def poll(self, timeout_s: float) -> list[Polled]:
        messages = self.consumer.consume(MAX_POLL_RECORDS, timeout_s)
        self.errors.raise_if_refused()  # a login refused for a minute since (rotated secret)
        by_partition: dict[int, list[Any]] = {}
        for m in messages:
            error = m.error()
            if error is not None:
                if error.fatal():
                    raise LakestreamError(f"Kafka consumer failed: {error.str()}")
                clients.raise_if_unauthorized(error, self.servers, self.topic)
                log.warning("consumer: %s", error.str())
                continue
            by_partition.setdefault(m.partition(), []).append(m)
        return [
            Polled(
                self.topic,
                partition,
                [m.offset() for m in ms],
                [m.value() for m in ms],
                [m.key() for m in ms],
                [m.timestamp()[1] for m in ms],
                [m.headers() for m in ms],
            )
            for partition, ms in by_partition.items()
        ]

    def seek(self, partition: int, offset: int) -> None:
        if self._seeks is not None:
            self._seeks[partition] = offset
            return
        self.consumer.seek(self._TP(self.topic, partition, offset))

    def committed(self, partitions: list[int]) -> dict[int, int | None]:
        """The group's committed offsets (None: none), in one request."""
        wanted = [self._TP(self.topic, p) for p in partitions]
        found: dict[int, int | None] = {}
        for tp in self.consumer.committed(wanted, timeout=COMMITTED_TIMEOUT_S):
            if tp.error is not None:
                raise KafkaError(f"partition {tp.partition}: {tp.error}")
            found[tp.partition] = tp.offset if tp.offset >= 0 else None
        return found

    def assignment(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def commit(self, offsets: dict[int, int]) -> None:
        from confluent_kafka import KafkaException

        wanted = [self._TP(self.topic, p, o) for p, o in offsets.items()]
        try:
            done = self.consumer.commit(offsets=wanted, asynchronous=False)
        except KafkaException as exc:
            raise CommitFailed(str(exc.args[0] if exc.args else exc)) from None
        failed = [tp for tp in done or [] if tp.error is not None]
        if failed:
            raise CommitFailed(", ".join(f"partition {tp.partition}: {tp.error}" for tp in failed))

    def lag(self) -> dict[int, int | None]:
        assigned = self.consumer.assignment()
        positions = {tp.partition: tp.offset for tp in self.consumer.position(assigned)}
        unread = [tp for tp in assigned if positions.get(tp.partition, -1) < 0]
        if unread:  # nothing consumed there yet: it starts at its committed offset
            for tp in self.consumer.committed(unread, timeout=5):
                positions[tp.partition] = tp.offset
        lag: dict[int, int | None] = {}
        for tp in assigned:
            # cached: the high watermark of the last fetch, no ListOffsets request
            _, end = self.consumer.get_watermark_offsets(tp, cached=True)
            if end < 0:
                lag[tp.partition] = None  # no fetch answered yet
                continue
            # No position and no commit after a fetch: the fetches found nothing to read.
            position = positions.get(tp.partition, -1)
            lag[tp.partition] = max(0, end - position) if position >= 0 else 0
        return lag

    def close(self) -> None:
        self.consumer.close()
