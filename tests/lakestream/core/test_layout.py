"""The raw lake's layout: every key built here parses back to its parts, the documented literal
formats hold (they are a data contract), and nothing else parses."""

from __future__ import annotations

import pytest

from lakestream.core import layout
from lakestream.core.datasets import default_catalog

TX = default_catalog().get("transactions")
TOPIC = TX.topic


def test_data_keys_are_the_documented_literal_and_parse_back() -> None:
    key = layout.data_key(TX, "2024-10-01", TOPIC, 2, 1234, ".parquet")
    assert key == (
        "kafka_ing_transactions/dt=2024-10-01/transactions_topic+2+00000000000000001234.parquet"
    )
    assert layout.parse_key(key) == layout.LakeKey(
        key, "data", TOPIC, 2, 1234, table=TX.table, dt="2024-10-01", extension=".parquet"
    )


def test_the_sinks_dead_letter_keys_parse_back() -> None:
    key = layout.dlq_key(TOPIC, 3, 7)
    assert key == "_dlq/transactions_topic/transactions_topic+3+00000000000000000007.jsonl.gz"
    assert key.startswith(layout.dlq_prefix(TOPIC))
    assert layout.parse_key(key) == layout.LakeKey(key, "dead_letter", TOPIC, 3, 7)


def test_curations_dead_letter_keys_are_named_after_the_raw_object_and_parse_back() -> None:
    key = layout.curated_dlq_key(TOPIC, "2024-10-01", 0, 500)
    assert key == (
        "_dlq/curated/transactions_topic/dt=2024-10-01/"
        "transactions_topic+0+00000000000000000500.jsonl.gz"
    )
    assert key.startswith(layout.curated_dlq_prefix(TOPIC))
    assert layout.parse_key(key) == layout.LakeKey(
        key, "curated_dead_letter", TOPIC, 0, 500, dt="2024-10-01"
    )


def test_manifest_keys_parse_back_without_an_offset() -> None:
    key = layout.manifest_key(TOPIC, 5)
    assert key == "_state/transactions_topic+5.json"
    assert layout.parse_key(key) == layout.LakeKey(key, "manifest", TOPIC, 5, extension=".json")


def test_a_topic_named_like_the_curated_folder_still_parses_to_the_right_kind() -> None:
    sink = layout.dlq_key("curated", 0, 1)
    curation = layout.curated_dlq_key("curated", "2024-10-01", 0, 1)
    assert layout.parse_key(sink) == layout.LakeKey(sink, "dead_letter", "curated", 0, 1)
    assert layout.parse_key(curation) == layout.LakeKey(
        curation, "curated_dead_letter", "curated", 0, 1, dt="2024-10-01"
    )


def test_prefixes_hold_the_keys_built_under_them() -> None:
    key = layout.data_key(TX, "2024-10-01", TOPIC, 0, 0, ".jsonl.gz")
    assert layout.table_prefix(TX.table) == "kafka_ing_transactions/"
    assert layout.data_prefix(TX.table) == "kafka_ing_transactions/dt="
    assert layout.day_prefix(TX.table, "2024-10-01") == "kafka_ing_transactions/dt=2024-10-01/"
    for prefix in (
        layout.table_prefix(TX.table),
        layout.data_prefix(TX.table),
        layout.day_prefix(layout.table_prefix(TX.table), "2024-10-01"),
    ):
        assert key.startswith(prefix)
    location = layout.table_location("kafka-ing-transactions", TX.table)
    assert location == "s3://kafka-ing-transactions/kafka_ing_transactions/"
    assert layout.day_prefix(location, "2024-10-01") == f"{location}dt=2024-10-01/"
    assert layout.days_glob(location) == f"{location}dt=*/*"
    assert layout.data_prefix("") == "dt="  # a table at the bucket's root


@pytest.mark.parametrize(
    "key",
    [
        "kafka_ing_transactions/",  # a folder marker
        "kafka_ing_transactions/dt=2024-10-01/",
        "kafka_ing_transactions/dt=2024-10-01/notes.jsonl.gz",  # put there by hand
        "kafka_ing_transactions/dt=2024-10-01/transactions_topic+0+1.csv",  # not a format
        "kafka_ing_transactions/transactions_topic+0+00000000000000000000.jsonl.gz",  # no day
        "kafka_ing_transactions/dt=2024-10-01/extra/transactions_topic+0+1.jsonl.gz",
        "_dlq/logs_topic/transactions_topic+0+00000000000000000000.jsonl.gz",  # other folder
        "_dlq/logs_topic/logs_topic+0+00000000000000000000.parquet",  # dead letters are JSON
        "_dlq/curated/logs_topic/logs_topic+0+00000000000000000000.jsonl.gz",  # no day
        "_state/logs_topic.json",
        "_state/logs_topic+0+1.json",
        "curated/kafka_ing_transactions/metadata/00000-abc.metadata.json",  # Iceberg
        "naive/kafka_ing_transactions/transactions_topic-0-1.json",  # the bench's baseline
        "",
    ],
)
def test_keys_that_are_not_the_layouts_parse_to_none(key: str) -> None:
    assert layout.parse_key(key) is None


def test_offsets_are_zero_padded_to_20_digits_so_names_sort_in_offset_order() -> None:
    offsets = [0, 9, 10, 999, 1_000, 2**31, 2**63 - 1]
    keys = [layout.data_key(TX, "2024-10-01", TOPIC, 0, o, ".jsonl.gz") for o in offsets]
    names = [k.rsplit("/", 1)[1] for k in keys]
    assert all(
        n.split("+")[2].startswith(f"{o:020d}.") for n, o in zip(names, offsets, strict=True)
    )
    assert sorted(keys) == keys
    assert sorted(reversed(keys)) == keys
    parsed = [layout.parse_key(k) for k in keys]
    assert [p.first_offset for p in parsed if p] == offsets


def test_gap_ranges_survive_metadata_and_what_does_not_fit_is_left_out():
    assert layout.parse_gaps(layout.gaps_text([(5, 9), (12, 13)])) == [(5, 9), (12, 13)]
    assert layout.parse_gaps(None) == []
    assert layout.parse_gaps("7-3,x-9,4-6") == [(4, 6)]  # malformed items are dropped
    many = [(i * 10, i * 10 + 1) for i in range(1000, 2000)]
    text = layout.gaps_text(many)
    assert len(text) <= 1500  # S3 keeps 2 KB of user metadata per object
    kept = layout.parse_gaps(text)
    assert 0 < len(kept) < len(many)
    assert kept == many[: len(kept)]
