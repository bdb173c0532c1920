"""When a finite sink run may end: idle long enough and read to the end of every partition.

Pure logic: the consumer is a stand-in that reports positions and high watermarks.
"""

from __future__ import annotations

import threading

import pytest
from kafka import TopicPartition

from consumers.clients import PythonSinkConsumer
from consumers.sink import STALL_GRACE_S, SinkOptions, SinkStats, SinkWorker
from lakestream.core.settings import Settings

UNTIL_IDLE = 2.0


class Positions:
    def __init__(self, ends: dict[int, int | None], positions: dict[int, int]) -> None:
        self.ends, self.positions = ends, positions

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", p) for p in self.ends}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends[tp.partition]

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        return self.positions[tp.partition]


def worker(ends: dict[int, int | None], positions: dict[int, int]) -> SinkWorker:
    settings = Settings(_env_file=None)
    ds = settings.datasets.get("transactions")
    w = SinkWorker(
        settings,
        ds,
        SinkOptions(until_idle=UNTIL_IDLE),
        SinkStats(ds.name, ds.topic),
        threading.Event(),
        threading.Event(),
        "t",
    )
    consumer = PythonSinkConsumer.__new__(PythonSinkConsumer)  # no broker: the stand-in inside
    consumer.topic, consumer.consumer = "t", Positions(ends, positions)
    w.consumer = consumer
    w.assigned_at = 0.0
    return w


def test_idle_and_caught_up_ends_the_run():
    w = worker({0: 10, 1: 0}, {0: 10, 1: 0})
    assert not w._finished(now=101.0, started=0.0, last_record=100.0)
    assert w._finished(now=102.0, started=0.0, last_record=100.0)
    assert w.incomplete is None


def test_idle_with_lag_left_waits_then_ends_incomplete():
    w = worker({0: 10, 1: 25}, {0: 10, 1: 20})
    assert w.lag() == {0: 0, 1: 5}
    assert not w._finished(now=103.0, started=0.0, last_record=100.0)
    assert w.incomplete is None
    assert w._finished(now=100.0 + UNTIL_IDLE + STALL_GRACE_S, started=0.0, last_record=100.0)
    assert "stopped with lag left on transactions_topic" in w.incomplete
    assert "partition 0: 0 records, partition 1: 5 records" in w.incomplete
    assert "run again" in w.incomplete


@pytest.mark.parametrize("last_record", [None, 50.0])
def test_an_unknown_end_is_not_taken_for_caught_up(last_record):
    w = worker({0: None}, {0: 0})
    since = last_record or 0.0  # no record yet: idle since the assignment
    assert not w._finished(now=since + UNTIL_IDLE + 1, started=0.0, last_record=last_record)
    end = since + UNTIL_IDLE + STALL_GRACE_S
    assert w._finished(now=end, started=0.0, last_record=last_record)
    assert "partition 0: unknown" in w.incomplete


def test_no_assignment_is_left_to_the_join_watchdog():
    w = worker({}, {})
    w.assigned_at = None
    assert not w._finished(now=1000.0, started=0.0, last_record=None)
