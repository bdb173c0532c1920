"""How an error reads in one line."""

from __future__ import annotations

from kafka.errors import KafkaTimeoutError

from lakestream.core.errors import describe


def test_an_error_is_described_by_its_type_once():
    assert describe(ValueError("bad value")) == "ValueError: bad value"
    # kafka-python's errors already start with their type's name: it is not said twice.
    assert describe(KafkaTimeoutError("no broker")) == "KafkaTimeoutError: no broker"
