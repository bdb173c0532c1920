"""What the broker says about a sink's consumer group: its state, its members, and its lag.

End offsets come from the high watermark that every Fetch response carries, not from
ListOffsets: the embedded broker (Tansu 0.6) answers ListOffsets wrongly (docs/broker-quirks.md).
A probe consumer outside any group fetches once per partition, from the committed offset, and
reads the high watermark off the response.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError

from lakestream.core import clients
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings

# One consumer group per dataset: `<prefix>-<dataset name>`. Curation and the stats read the
# sink's committed offsets through the same name.
DEFAULT_GROUP_PREFIX = "lakestream-sink"


def add_group_prefix_option(
    parser: argparse.ArgumentParser, whose: str = "the sinks' consumer groups"
) -> None:
    """`--group-prefix PREFIX`: which sink groups a command runs as or reads the offsets of."""
    parser.add_argument(
        "--group-prefix",
        default=DEFAULT_GROUP_PREFIX,
        metavar="PREFIX",
        help=f"{whose} are PREFIX-<dataset> (default %(default)s)",
    )


def group_id(prefix: str, dataset: Dataset) -> str:
    return f"{prefix}-{dataset.name}"


PROBE_TIMEOUT_S = 10.0
PROBE_POLL_MS = 20


@dataclass(frozen=True)
class GroupInfo:
    group: str
    state: str  # Stable, Empty, PreparingRebalance, Dead, ... as the broker says
    members: list[str] = field(default_factory=list)  # "client-id@host"

    def others(self, client_id: str) -> list[str]:
        """Members that are not the consumer whose client id is `client_id`."""
        # A member is `<client id>@<host>`, or its member id `<client id>-<uuid>` (`_member`):
        # the client id alone as a prefix would take pid 12's sink for pid 123's.
        return [m for m in self.members if not m.startswith((f"{client_id}@", f"{client_id}-"))]


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed: int | None  # None: the group never committed this partition
    end: int | None  # None: the broker did not answer in time

    @property
    def lag(self) -> int | None:
        """Records past the committed offset (all of them when nothing was committed)."""
        if self.end is None:
            return None
        return max(0, self.end - (self.committed or 0))


def describe_group(settings: Settings, group: str) -> GroupInfo:
    admin = clients.kafka_admin(settings)
    try:
        info = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    members = [_member(m) for m in info.get("members", [])]
    return GroupInfo(group, str(info.get("group_state") or "Unknown"), members)


def _member(member: dict[str, Any]) -> str:
    # The embedded broker leaves client_id and client_host empty; the member id starts with
    # the client id either way.
    if member.get("client_id"):
        return f"{member['client_id']}@{str(member.get('client_host', '')).lstrip('/')}"
    return str(member.get("member_id") or "?")


COMMITTED_ATTEMPTS = 3  # a broker that timed out once (busy, its log on a stalled S3) answers next


def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets for `topic`, per partition. An error Kafka calls retriable
    (a request timed out, the coordinator moved) is asked again, up to COMMITTED_ATTEMPTS
    times: one slow answer no longer fails a whole curation pass."""
    return retrying(lambda: _committed_once(settings, group, topic), COMMITTED_ATTEMPTS)


def retrying(call: Any, attempts: int, pause_s: float = 1.0) -> Any:
    """`call()`, again after a retriable KafkaError, at most `attempts` times in all."""
    for _ in range(attempts - 1):
        try:
            return call()
        except KafkaError as exc:
            if not exc.retriable:
                raise
        time.sleep(pause_s)
    return call()


def _committed_once(settings: Settings, group: str, topic: str) -> dict[int, int]:
    admin = clients.kafka_admin(settings)
    try:
        return _committed(admin, group, topic)
    finally:
        admin.close()


def _committed(admin: Any, group: str, topic: str) -> dict[int, int]:
    offsets = admin.list_group_offsets(group).get(group, {})
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic}


def topic_partitions(consumer: Any, topic: str, fallback: int, timeout: float = 10.0) -> list[int]:
    """The topic's partitions from the broker's metadata (the catalog's count if it is slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = consumer.partitions_for_topic(topic)
        if found:
            return sorted(found)
        consumer.poll(timeout_ms=100)  # lets the client refresh its metadata
    return list(range(fallback))


def end_offsets(
    settings: Settings, topic: str, start: dict[int, int], timeout: float = PROBE_TIMEOUT_S
) -> dict[int, int | None]:
    """Each partition's end (high watermark), fetched from `start` (e.g. committed offsets)."""
    return topics_end_offsets(settings, {topic: start}, timeout)[topic]


def topics_end_offsets(
    settings: Settings, starts: dict[str, dict[int, int]], timeout: float = PROBE_TIMEOUT_S
) -> dict[str, dict[int, int | None]]:
    """`end_offsets` of several topics at once: one probe consumer fetches them all."""
    # A Fetch at the end of a partition waits fetch.max.wait.ms (500 by default) for data before
    # it answers with the high watermark: a probe waits 20 ms (0 gets no answer from Tansu).
    consumer = clients.kafka_consumer(
        settings, max_partition_fetch_bytes=1024, fetch_max_wait_ms=20
    )
    try:
        parts = [TopicPartition(topic, p) for topic, start in starts.items() for p in start]
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, starts[tp.topic][tp.partition])
        deadline = time.monotonic() + timeout
        # A poll that gets an empty fetch (the probe stands at the end) still waits out its
        # whole timeout: short polls see each partition's high watermark as it arrives.
        while time.monotonic() < deadline:
            known = [tp for tp in parts if consumer.highwater(tp) is not None]
            if len(known) == len(parts):
                break
            # kafka-python reads one partition's fetched batch at a time and hands out its
            # records before it reads the next one's (and its high watermark): from a group far
            # behind, a probe of one record per poll went through whole batches, a poll a record
            # (~0.5 s of CPU per /api/stats/ call on a 1,000-record lake). A paused partition's
            # records are set aside unread, so each poll reaches the next partition.
            consumer.pause(*known)
            consumer.poll(timeout_ms=PROBE_POLL_MS, max_records=1)
        return {
            topic: {p: consumer.highwater(TopicPartition(topic, p)) for p in start}
            for topic, start in starts.items()
        }
    finally:
        consumer.close()


def group_lag(
    settings: Settings, group: str, topic: str, partitions: list[int]
) -> list[PartitionLag]:
    """Per partition: committed offset, end offset and the lag between them."""
    return groups_lag(settings, {group: (topic, partitions)})[group]


def groups_lag(
    settings: Settings, groups: dict[str, tuple[str, list[int]]]
) -> dict[str, list[PartitionLag]]:
    """`group_lag` of several groups, each reading its own topic: one admin client reads the
    committed offsets of them all, one probe consumer the ends."""
    admin = clients.kafka_admin(settings)
    try:
        committed = {g: _committed(admin, g, topic) for g, (topic, _) in groups.items()}
    finally:
        admin.close()
    starts = {
        topic: {p: committed[g].get(p, 0) for p in partitions}
        for g, (topic, partitions) in groups.items()
    }
    try:
        ends = topics_end_offsets(settings, starts)
    except KafkaError:
        ends = {}
    return {
        g: [PartitionLag(p, committed[g].get(p), ends.get(topic, {}).get(p)) for p in partitions]
        for g, (topic, partitions) in groups.items()
    }
