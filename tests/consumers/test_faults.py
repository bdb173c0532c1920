"""Fault tests: kill or stall real processes mid-stream, then count.

After each, the distinct (kafka_topic, kafka_partition, kafka_offset) in the lake must equal what
was produced, and rows must equal distinct: zero loss, zero duplicates.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from consumers import sink
from consumers.batch import BatchLimits
from consumers.sink import SinkOptions, SinkStats, SinkWorker
from tests.lake_helpers import SMALL_BATCHES, acked, assert_exactly, finish

pytestmark = pytest.mark.stack


def test_sigkill_mid_batch_then_restart(lake):
    # Records keep arriving while the sink is killed twice, each time after it has landed some,
    # so each kill lands mid-stream. The producer has far more to send than the test lasts and
    # is stopped only after the second kill: however slow a loaded machine makes the sinks
    # (each join waits out the killed member's session), they are never killed after the
    # stream has ended. The recovering sink then has records no sink has read.
    producer = lake.produce_in_background("transactions", 1_000_000, "--rate", "1000")
    sink = None
    try:
        for _ in range(2):
            sink = lake.sink("transactions", "--max-records", "500", "--max-age", "1")
            before = lake.count("transactions").rows
            landed = lake.wait_for_rows("transactions", before + 1, timeout=90).rows
            assert landed > before, "the sink landed nothing before the kill"
            time.sleep(0.5)  # batches are being written and committed by now
            assert producer.poll() is None, "the producer finished before the kill"
            sink.send_signal(signal.SIGKILL)
            sink.wait(10)
        time.sleep(1)  # more records the killed sink never saw
        producer.send_signal(signal.SIGTERM)  # stops sending, flushes what was accepted
        stdout, stderr = producer.communicate(timeout=60)
    finally:
        for proc in (producer, sink):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert producer.returncode == 130, stderr[-2000:]  # interrupted, everything flushed
    produced = acked(stdout)
    assert lake.count("transactions").distinct < produced  # the recovery has work to do
    finish(lake.sink("transactions", *SMALL_BATCHES, "--until-idle", "3"))
    assert_exactly(lake, "transactions", produced)


def test_broker_restart_mid_stream(durable_lake, durable_stack):
    producer = durable_lake.produce_in_background("web_logs", 12_000, "--rate", "2000")
    sink = durable_lake.sink("web_logs", *SMALL_BATCHES, "--until-idle", "8")
    durable_lake.wait_for_rows("web_logs", 2_000, timeout=60)
    durable_stack.stack.restart_broker(timeout=60)
    produced = acked(finish(producer))
    assert produced == 12_000
    finish(sink, timeout=240)
    # A sink that gave up during the restart would leave records behind; count them all.
    assert_exactly(durable_lake, "web_logs", produced)


def test_s3_endpoint_stalled_for_ten_seconds(durable_lake, durable_stack):
    produced = durable_lake.produce("social_posts", 15_000, "--client", "confluent")
    sink = durable_lake.sink("social_posts", *SMALL_BATCHES, "--until-idle", "5")
    durable_lake.wait_for_rows("social_posts", 1_500, timeout=60)
    moto = durable_stack.stack.moto.pid
    # The broker's log is in this moto, as `make up` runs it: the broker stalls too, and the
    # sink's group session must outlive it. Stopping moto would lose its in-memory state.
    os.kill(moto, signal.SIGSTOP)
    try:
        time.sleep(10)
    finally:
        os.kill(moto, signal.SIGCONT)
    finish(sink, timeout=300)
    assert_exactly(durable_lake, "social_posts", produced)


def test_broker_down_for_seconds_mid_stream(durable_lake, durable_stack):
    # Connections refused for 8 s while the sink lands a backlog: polls, commits and metadata
    # requests fail meanwhile. The sink keeps running (no supervisor needed) and loses nothing.
    # Manual: its leases must survive the outage too (the group case is the test above).
    sink = durable_lake.sink("transactions", *SMALL_BATCHES, "--assignment", "manual")
    try:
        produced = durable_lake.produce("transactions", 3_000, "--seed", "11")
        assert durable_lake.wait_for_rows("transactions", produced, timeout=60).rows == produced
        produced += durable_lake.produce("transactions", 9_000, "--seed", "12")
        durable_stack.stack.restart_broker(timeout=60, down_for=8)
        produced += durable_lake.produce("transactions", 3_000, "--seed", "13")
        durable_lake.wait_for_rows("transactions", produced, timeout=120)
        assert sink.poll() is None, "the sink ended on a broker outage"
    finally:
        sink.send_signal(signal.SIGTERM)
    finish(sink, timeout=60)
    assert_exactly(durable_lake, "transactions", produced)


class FlakyConsumer:
    """A real consumer whose poll raises a refused connection once `fail_after` polls have
    returned records: the open batch then holds records that were never committed."""

    def __init__(self, real, fail_after: int, times: int) -> None:
        self.real, self.fail_after, self.times = real, fail_after, times

    def poll(self, timeout_s):
        if self.fail_after <= 0 and self.times > 0:
            self.times -= 1
            raise KafkaConnectionError("111 ECONNREFUSED")
        polled = self.real.poll(timeout_s)
        self.fail_after -= bool(polled)
        return polled

    def __getattr__(self, name):
        return getattr(self.real, name)


def flaky_worker(lake, dataset: str, fail_after: int, times: int) -> SinkWorker:
    ds = lake.datasets.get(dataset)
    options = SinkOptions(
        BatchLimits(max_records=100_000, max_age_s=30),  # the batch is open when poll fails
        group_prefix=lake.group_prefix,
        until_idle=2,
        assignment="manual",
    )
    worker = SinkWorker(
        lake.settings, ds, options, SinkStats(ds.name, ds.topic), threading.Event(),
        threading.Event(), "flaky",
    )  # fmt: skip
    made = []

    def make():
        made.append(worker.options)
        real = SinkWorker._make_consumer(worker)
        return FlakyConsumer(real, fail_after, times) if len(made) == 1 else real

    worker._make_consumer = make
    return worker


def test_a_refused_connection_mid_batch_reconnects_and_rereads_the_batch(lake):
    produced = lake.produce("social_posts", 3_000, "--seed", "21")
    worker = flaky_worker(lake, "social_posts", fail_after=1, times=1)
    worker.run()
    assert worker.error is None
    assert worker.incomplete is None
    assert worker.stats.errors == 1
    assert "KafkaConnectionError" in (worker.stats.last_error or "")
    assert_exactly(lake, "social_posts", produced)


def test_a_broker_that_stays_unreachable_ends_the_worker(lake, monkeypatch):
    monkeypatch.setattr(sink, "RECONNECT_BUDGET_S", 1.0)
    monkeypatch.setattr(sink, "RECONNECT_PAUSE_S", 0.3)
    lake.produce("social_posts", 500, "--seed", "22")
    worker = flaky_worker(lake, "social_posts", fail_after=1, times=1)
    # The first reconnect gets a real consumer; make that one fail at once, and for good.
    real_make = worker._make_consumer
    worker._make_consumer = lambda: FlakyConsumer(real_make(), fail_after=0, times=10**6)
    worker.run()
    assert worker.error == "KafkaConnectionError: 111 ECONNREFUSED"
    assert worker.stats.errors >= 3  # it did reconnect, for about the budget


def test_a_reconnect_that_cannot_reach_the_broker_at_first_tries_again(lake, monkeypatch):
    monkeypatch.setattr(sink, "RECONNECT_PAUSE_S", 0.3)
    produced = lake.produce("social_posts", 2_000, "--seed", "24")
    worker = flaky_worker(lake, "social_posts", fail_after=1, times=1)
    first_make = worker._make_consumer
    refusals = [KafkaTimeoutError("bootstrap"), KafkaTimeoutError("bootstrap")]

    def make():
        if worker.consumer is None and refusals and worker.stats.errors:
            raise refusals.pop()  # KafkaConsumer() gave up on the bootstrap servers
        return first_make()

    worker._make_consumer = make
    worker.run()
    assert worker.error is None
    assert refusals == []
    assert worker.stats.errors == 3  # the poll, then two bootstraps
    assert_exactly(lake, "social_posts", produced)
