"""Fault tests: kill or stall real processes mid-stream, then count.

After each, the distinct (kafka_topic, kafka_partition, kafka_offset) in the lake must equal what
was produced, and rows must equal distinct: zero loss, zero duplicates.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.lake_helpers import SMALL_BATCHES, acked, assert_exactly, finish

pytestmark = pytest.mark.stack


def test_sigkill_mid_batch_then_restart(lake):
    # Records keep arriving while the sink is killed twice, so each kill lands mid-stream.
    producer = lake.produce_in_background("transactions", 24_000, "--rate", "2400")
    for _ in range(2):
        sink = lake.sink("transactions", "--max-records", "500", "--max-age", "1")
        before = lake.count("transactions").rows
        lake.wait_for_rows("transactions", before + 1, timeout=60)
        time.sleep(0.5)  # batches are being written and committed by now
        sink.send_signal(signal.SIGKILL)
        sink.wait(10)
    produced = acked(finish(producer))
    assert produced == 24_000
    landed_before_recovery = lake.count("transactions").distinct
    assert 0 < landed_before_recovery < produced  # the crashes really were mid-stream
    finish(lake.sink("transactions", *SMALL_BATCHES, "--until-idle", "3"))
    assert_exactly(lake, "transactions", produced)


def test_broker_restart_mid_stream(lake, running_stack):
    producer = lake.produce_in_background("web_logs", 12_000, "--rate", "2000")
    sink = lake.sink("web_logs", *SMALL_BATCHES, "--until-idle", "8")
    lake.wait_for_rows("web_logs", 2_000, timeout=60)
    running_stack.stack.restart_broker(timeout=60)
    produced = acked(finish(producer))
    assert produced == 12_000
    finish(sink, timeout=240)
    # A sink that gave up during the restart would leave records behind; count them all.
    assert_exactly(lake, "web_logs", produced)


def test_s3_endpoint_stalled_for_ten_seconds(lake, running_stack):
    produced = lake.produce("social_posts", 15_000, "--client", "confluent")
    sink = lake.sink("social_posts", *SMALL_BATCHES, "--until-idle", "5")
    lake.wait_for_rows("social_posts", 1_500, timeout=60)
    moto = running_stack.stack.moto.pid
    os.kill(moto, signal.SIGSTOP)  # stopping moto would lose its in-memory state
    try:
        time.sleep(10)
    finally:
        os.kill(moto, signal.SIGCONT)
    finish(sink, timeout=300)
    assert_exactly(lake, "social_posts", produced)
