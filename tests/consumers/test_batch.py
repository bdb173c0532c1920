"""Batch accounting and object naming: pure logic, no services."""

from __future__ import annotations

import gzip
from collections import namedtuple

import orjson
import pytest

from consumers.batch import Batch, BatchLimits, Polled
from lakestream.core.datasets import default_catalog
from lakestream.core.formats import JsonLinesGzip
from lakestream.core.layout import data_key, dlq_key, event_date

Msg = namedtuple("Msg", "topic partition offset key value timestamp")
CATALOG = default_catalog()
TX = CATALOG.get("transactions")


def tx(offset: int, day: str = "2024-10-01", partition: int = 0, **change) -> Msg:
    record = {
        "ClientID": f"c{offset}",
        "ClientName": "Ann",
        "TransactionDate": day,
        "Product": "WidgetX",
        "Amount": 1.5,
        "PaymentMethod": "PayPal",
        **change,
    }
    return Msg("transactions_topic", partition, offset, b"k", orjson.dumps(record), 0)


def chunk(*messages: Msg) -> Polled:
    """Messages of one partition, as a consumer's poll hands them to the batch."""
    first = messages[0]
    return Polled(
        first.topic,
        first.partition,
        [m.offset for m in messages],
        [m.value for m in messages],
        [m.key for m in messages],
        [m.timestamp for m in messages],
    )


def lines(batch: Batch, partition: int = 0) -> dict[str, list[dict]]:
    """The records each day's object of a segment holds, decoded."""
    segment = batch.segments[partition]
    return {
        dt: [orjson.loads(x) for x in gzip.decompress(b.finish()).splitlines()]
        for dt, b in segment.objects.items()
    }


def test_object_keys_follow_the_contract():
    assert data_key(TX, "2024-10-01", "transactions_topic", 2, 1234, ".jsonl.gz") == (
        "kafka_ing_transactions/dt=2024-10-01/transactions_topic+2+00000000000000001234.jsonl.gz"
    )
    assert (
        dlq_key("logs_topic", 0, 7) == "_dlq/logs_topic/logs_topic+0+00000000000000000007.jsonl.gz"
    )
    logs = CATALOG.get("web_logs")
    assert event_date({"Timestamp": "2024-11-05 10:22:15"}, logs) == "2024-11-05"


def test_records_split_by_event_date_within_one_partition_segment():
    batch = Batch(TX, BatchLimits())
    days = ["2024-10-01", "2024-10-02", "2024-10-01", "2024-09-30"]
    batch.add(chunk(*(tx(100 + offset, day) for offset, day in enumerate(days[:2]))))
    batch.add(chunk(*(tx(102 + offset, day) for offset, day in enumerate(days[2:]))))
    segment = batch.segments[0]
    assert (segment.first_offset, segment.next_offset) == (100, 104)
    assert segment.first_dt == "2024-10-01"
    assert {dt: [r["kafka_offset"] for r in rows] for dt, rows in lines(batch).items()} == {
        "2024-10-01": [100, 102],
        "2024-10-02": [101],
        "2024-09-30": [103],
    }
    assert segment.counts == {"2024-10-01": 2, "2024-10-02": 1, "2024-09-30": 1}


def test_a_stored_line_is_the_record_with_its_coordinates_and_ingestion_time():
    batch = Batch(TX, BatchLimits())
    sent = tx(7)
    batch.add(chunk(sent))
    [[row]] = lines(batch).values()
    ingested = row.pop("ingested_at")
    assert row == {
        **orjson.loads(sent.value),
        "kafka_topic": "transactions_topic",
        "kafka_partition": 0,
        "kafka_offset": 7,
    }
    assert len(ingested) == len("2024-10-01 12:00:00.000")  # milliseconds, as Athena reads
    assert ingested[10] == " "


@pytest.mark.parametrize(
    "value",
    [
        b'{"ClientID": "c1", "ClientName": "Ann", "TransactionDate": "2024-10-01", '
        b'"Product": "W", "Amount": 2, "PaymentMethod": "PayPal", "Extra": {"a": [1]}}',
        b'{"ClientID": "c1",\n "ClientName": "Ann", "TransactionDate": "2024-10-01",\n'
        b'"Product": "W", "Amount": 2, "PaymentMethod": "PayPal"}  \n',
        b'{"ClientID": "c1",\r"ClientName": "Ann", "TransactionDate": "2024-10-01", '
        b'"Product": "W", "Amount": 2, "PaymentMethod": "PayPal"}',
    ],
    ids=["field beyond the catalog", "value over several lines", "carriage return (Hive splits)"],
)
def test_values_that_cannot_be_stored_as_sent_are_re_encoded_with_the_catalog_columns(value):
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(Msg("transactions_topic", 0, 3, None, value, 0)))
    [[row]] = lines(batch).values()
    assert set(row) == {*TX.column_names, "kafka_topic", "kafka_partition", "kafka_offset",
                        "ingested_at"}  # fmt: skip
    assert (row["ClientID"], row["Amount"], row["kafka_offset"]) == ("c1", 2, 3)


def test_good_and_bad_messages_of_one_poll_are_told_apart():
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(tx(0), tx(1, Amount="x"), Msg("t", 0, 2, None, None, 0), tx(3)))
    segment = batch.segments[0]
    assert [d["kafka_offset"] for d in segment.dead] == [1, 2]
    assert [r["kafka_offset"] for r in lines(batch)["2024-10-01"]] == [0, 3]
    assert (segment.messages, segment.records, segment.next_offset) == (4, 2, 4)


def test_the_first_destination_is_the_dead_letters_when_the_first_message_is_bad():
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(tx(0, Amount="x"), tx(1)))
    segment = batch.segments[0]
    assert segment.first_dt is None
    assert segment.first_key(TX, ".jsonl.gz") == dlq_key("transactions_topic", 0, 0)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (Msg("t", 0, 5, None, b"{not json", 0), "invalid JSON"),
        (Msg("t", 0, 5, None, b"\xff\xfe", 0), "invalid JSON"),
        (Msg("t", 0, 5, None, None, 0), "empty message"),
        (tx(5, Amount="12"), "Amount: expected double"),
        (tx(5, ClientID=None), "ClientID: required field is missing"),
        (Msg("t", 0, 5, None, b"x" * 2000, 0), "oversized: 2000 bytes > 1000"),
    ],
)
def test_bad_messages_become_dead_letters_with_reason_and_coordinates(message, reason):
    batch = Batch(TX, BatchLimits(max_record_bytes=1000))
    batch.add(chunk(message))
    [letter] = batch.segments[0].dead
    assert reason in letter["reason"]
    assert (letter["kafka_partition"], letter["kafka_offset"]) == (0, 5)
    assert batch.segments[0].records == 0
    assert batch.segments[0].next_offset == 6  # a dead letter is consumed, not skipped over


def test_a_dead_letter_keeps_the_whole_value_its_key_and_its_headers():
    big = b'{"ClientID": "' + b"x" * 300_000 + b'"'  # not JSON: cut off, 300 kB
    message = Polled(
        "t", 0, [7], [big], [b"\xffkey"], [1_700_000_000_000],
        [[("trace-id", b"abc"), ("bin", b"\x00\xff"), ("empty", None)]],
    )  # fmt: skip
    batch = Batch(TX, BatchLimits())
    batch.add(message)
    [letter] = batch.segments[0].dead
    assert letter["value"].encode() == big
    assert letter["value_bytes"] == len(big)
    assert letter["kafka_key_base64"] == "/2tleQ=="
    assert letter["kafka_timestamp"] == 1_700_000_000_000
    assert letter["kafka_headers"] == [
        {"key": "trace-id", "value": "abc"},
        {"key": "bin", "value_base64": "AP8="},
        {"key": "empty", "value": None},
    ]


def test_non_utf8_values_are_kept_in_base64():
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(Msg("t", 0, 1, None, b"\xff\xfe", 0)))
    assert batch.segments[0].dead[0]["value_base64"] == "//4="


def test_batch_closes_on_records_bytes_or_age():
    batch = Batch(TX, BatchLimits(max_records=3, max_bytes=10_000, max_age_s=5))
    assert batch.close_reason() is None
    batch.add(chunk(tx(0)))
    opened = batch.opened_at
    assert batch.close_reason(opened + 1) is None
    assert batch.close_reason(opened + 5) == "age"  # by the clock, even with no new record
    batch.add(chunk(tx(1), tx(2)))
    assert batch.close_reason(opened) == "records"
    small = Batch(TX, BatchLimits(max_bytes=200))
    small.add(chunk(tx(0)))
    small.add(chunk(tx(1)))
    assert small.close_reason(small.opened_at) == "bytes"


def test_revoked_partitions_are_dropped():
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(tx(0, partition=0)))
    batch.add(chunk(tx(0, partition=1)))
    batch.drop_partitions({0})
    assert list(batch.segments) == [1]
    assert batch.records == 1
    batch.drop_partitions({1})
    assert not batch
    assert batch.opened_at is None


def test_jsonl_gzip_is_deterministic():
    rows = [{"a": 1}, {"a": 2}]
    encoded = JsonLinesGzip().encode(rows, TX)
    assert encoded == JsonLinesGzip().encode(rows, TX)
    assert gzip.decompress(encoded) == b'{"a":1}\n{"a":2}\n'


def test_a_segment_lists_the_offsets_it_was_not_delivered():
    batch = Batch(TX, BatchLimits())
    batch.positions[0] = 10  # where reading began (the group's commit)
    batch.add(chunk(tx(12), tx(13)))  # 10 and 11 never came
    batch.add(chunk(tx(15)))  # nor 14
    segment = batch.segments[0]
    assert (segment.start_offset, segment.first_offset, segment.next_offset) == (10, 12, 16)
    assert segment.gaps == [(10, 12), (14, 15)]
    assert segment.skipped == 0  # until the broker confirms them (consumers/gaps.py)
    # The next batch starts where this one ended: no gap.
    batch.reset()
    batch.add(chunk(tx(16), tx(17), tx(20)))
    assert (batch.segments[0].start_offset, batch.segments[0].gaps) == (16, [(18, 20)])


def test_no_gap_is_claimed_where_reading_began_is_unknown():
    batch = Batch(TX, BatchLimits())
    batch.add(chunk(tx(7), tx(9)))
    assert (batch.segments[0].start_offset, batch.segments[0].gaps) == (7, [(8, 9)])
    batch.drop_partitions({0})  # revoked: its next owner starts from the commit
    assert 0 not in batch.positions
    batch.positions[0] = 8  # a position past a message delivered again: no gap, none negative
    batch.add(chunk(tx(7)))
    assert (batch.segments[0].start_offset, batch.segments[0].gaps) == (7, [])
