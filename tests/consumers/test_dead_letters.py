"""Dead letters read back: coordinates as the commands write them, reasons grouped by kind,
selections, and the bytes of a letter as they were sent."""

from __future__ import annotations

import base64

import pytest

from consumers.dead_letters import (
    DeadLetter,
    DeadLetterError,
    Origin,
    Selection,
    reason_kind,
)
from lakestream.core.datasets import load_catalog


def test_coordinates_round_trip_and_a_bad_one_says_how_to_write_it():
    assert Origin.parse("social_data_topic:3:1200") == Origin("social_data_topic", 3, 1200)
    assert str(Origin("a.b-c", 0, 7)) == "a.b-c:0:7"
    with pytest.raises(DeadLetterError, match="write TOPIC:PARTITION:OFFSET"):
        Origin.parse("social_data_topic:x:1")


def test_reasons_of_one_kind_group_together():
    a = "likes: 18446744073709551615 is outside the bigint range (-2^63 to 2^63-1)"
    b = "likes: 9223372036854775808 is outside the bigint range (-2^63 to 2^63-1)"
    assert reason_kind(a) == reason_kind(b)
    assert reason_kind("duplicate key 'likes' in a JSON object") == (
        "duplicate key … in a JSON object"
    )
    assert reason_kind("oversized: 900 bytes > 300") != reason_kind(a)


def _letter(offset: int, partition: int = 0, reason: str = "r", **entry) -> DeadLetter:
    ds = next(iter(load_catalog()))
    return DeadLetter(ds, "raw", Origin(ds.topic, partition, offset), reason, entry, "k")


def test_a_selection_keeps_what_every_criterion_allows_in_partition_and_offset_order():
    letters = [
        _letter(5, reason="oversized: 900 bytes"),
        _letter(1, reason="Oversized: 800 bytes"),
        _letter(3, reason="invalid JSON"),
        _letter(2, partition=1, reason="oversized"),
    ]
    chosen = Selection(reason="oversized", partition=0).apply(letters)
    assert [x.origin.offset for x in chosen] == [1, 5]
    in_range = Selection(first_offset=2, last_offset=3).apply(letters)
    assert [(x.origin.partition, x.origin.offset) for x in in_range] == [(0, 3), (1, 2)]
    assert [x.origin.offset for x in Selection(limit=2).apply(letters)] == [1, 3]


def test_a_letter_gives_back_the_bytes_it_was_sent_with():
    raw = b"\xff\x00not utf-8"
    letter = _letter(
        0,
        value="{}",
        kafka_key_base64=base64.b64encode(raw).decode(),
        kafka_headers=[{"key": "trace", "value": "abc"}, {"key": "empty", "value": None}],
    )
    assert (letter.value, letter.key) == (b"{}", raw)
    assert letter.headers == [("trace", b"abc"), ("empty", None)]
