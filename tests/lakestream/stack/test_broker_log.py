"""The embedded broker's log retention: batches every group has committed past are deleted,
nothing a group still needs is, and the broker serves what is left."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from kafka import TopicPartition
from kafka.admin import NewTopic

from lakestream.core import clients
from lakestream.stack.broker_log import (
    Batch,
    BrokerLogRetention,
    base_offset,
    committed_floors,
    deletable,
    records_prefix,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _batches(*offsets: int, age_s: float = 600) -> list[Batch]:
    return [Batch(f"k{o}", o, NOW - timedelta(seconds=age_s)) for o in offsets]


def test_a_batch_goes_only_when_all_its_records_are_below_the_floor():
    batches = _batches(0, 10, 20, 30)
    assert [b.offset for b in deletable(batches, 20, NOW)] == [0, 10]
    # 25 is inside the batch starting at 20: it stays.
    assert [b.offset for b in deletable(batches, 25, NOW)] == [0, 10]
    # The last batch holds the log's end: it is never deleted, whatever the floor.
    assert [b.offset for b in deletable(batches, 10**9, NOW)] == [0, 10, 20]
    assert deletable(batches, 0, NOW) == []


def test_young_batches_stay_even_when_committed():
    old, young = _batches(0, 10, age_s=600), _batches(20, 30, age_s=5)
    assert [b.offset for b in deletable(old + young, 40, NOW - timedelta(seconds=60))] == [0, 10]


def test_the_floor_is_the_slowest_group_and_a_partition_a_reader_never_committed_has_none():
    groups = {
        "sink": {("t", 0): 100, ("t", 1): 50},
        "audit": {("t", 0): 40},  # reads t, has committed nothing on partition 1 yet
        "other": {("u", 0): 7},
    }
    assert committed_floors(groups) == {("t", 0): 40, ("u", 0): 7}


def test_tansu_record_keys_parse_and_others_do_not():
    key = records_prefix("logs_topic", 3) + f"{1234:0>20}.batch"
    assert key == (
        "clusters/tansu_cluster/topics/logs_topic/partitions/0000000003/records/"
        "00000000000000001234.batch"
    )
    assert base_offset(key) == 1234
    assert base_offset("clusters/tansu_cluster/topics/t/watermark.json") is None
    assert base_offset("records/12.batch") is None


def _produce_batches(settings, topic: str, batches: int, per_batch: int) -> None:
    producer = clients.kafka_producer(settings)
    try:
        for b in range(batches):
            for n in range(per_batch):
                producer.send(topic, value=f"{b}-{n}".encode(), partition=0)
            producer.flush(30)  # one produce request, so one batch object, per loop
    finally:
        producer.close()


def _commit(settings, group: str, topic: str, offset: int) -> None:
    consumer = clients.kafka_consumer(settings, group_id=group)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.commit({TopicPartition(topic, 0): clients.offset_and_metadata(offset)})
    finally:
        consumer.close()


def _read_all(settings, topic: str) -> list[int]:
    consumer = clients.kafka_consumer(settings, auto_offset_reset="earliest")
    tp = TopicPartition(topic, 0)
    offsets: list[int] = []
    try:
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not offsets or offsets[-1] < 49):
            for records in consumer.poll(timeout_ms=500).values():
                offsets += [r.offset for r in records]
    finally:
        consumer.close()
    return offsets


def test_retention_deletes_what_every_group_read_and_the_broker_serves_the_rest(durable_stack):
    settings = durable_stack.settings
    topic = f"test_{uuid.uuid4().hex[:10]}"
    admin = clients.kafka_admin(settings)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    _produce_batches(settings, topic, batches=5, per_batch=10)
    _commit(settings, f"fast_{uuid.uuid4().hex[:6]}", topic, 50)
    _commit(settings, f"slow_{uuid.uuid4().hex[:6]}", topic, 30)

    keeper = BrokerLogRetention(settings, timedelta(seconds=3600))
    assert keeper.run_once(topics={topic}).deleted == 0  # committed, but not old enough
    # Each flush ends a batch (kafka-python may also split one), so batches start at 0, 10, ...
    before = [b.offset for b in keeper.batches(topic, 0)]
    assert {0, 10, 20, 30, 40} <= set(before)

    keeper.retention = timedelta(0)
    done = keeper.run_once(topics={topic})
    # The slow group's 30 is the floor: every batch wholly below it goes, the rest stays.
    assert done.deleted == len([o for o in before if o < 30])
    assert [b.offset for b in keeper.batches(topic, 0)] == [o for o in before if o >= 30]
    assert _read_all(settings, topic) == list(range(30, 50))
