"""The gap probe against the embedded broker: a gap is counted only when the broker confirms it
serves no record there; a range it does serve, which the sink would then have missed, is not."""

from __future__ import annotations

import time

import pytest

from consumers.gaps import PROBE_BUDGET_S, Checked, GapProbe
from lakestream.core import clients
from lakestream.stack.broker_log import base_offset, records_prefix

pytestmark = pytest.mark.stack


def test_only_ranges_the_broker_does_not_serve_are_confirmed(durable_lake):
    ds = durable_lake.datasets.get("social_posts")
    for seed in ("1", "2", "3"):  # three produce runs: batches of their own per partition
        durable_lake.produce("social_posts", 40, "--seed", seed)
    s3 = clients.aws_client(durable_lake.settings, "s3")
    log_bucket = durable_lake.settings.broker_log_bucket
    keys = {
        base_offset(o["Key"]): o["Key"]
        for o in clients.list_objects(s3, log_bucket, records_prefix(ds.topic, 0))
    }
    batches = sorted(keys)
    assert len(batches) >= 3, batches
    gap_start, gap_end = batches[1], batches[2]
    s3.delete_object(Bucket=log_bucket, Key=keys[gap_start])

    probe = GapProbe(durable_lake.settings, ds.topic)
    try:
        assert probe.count({0: [(gap_start, gap_end)]}) == {0: Checked(gap_end - gap_start)}
        # Offsets the broker serves: a sink that was not delivered them missed them.
        assert probe.count({0: [(batches[0], gap_start)]}) == {0: Checked(0)}
        assert probe.count({0: [(batches[0], gap_start), (gap_start, gap_end)]}) == {
            0: Checked(gap_end - gap_start)
        }
        # No time left: nothing confirmed, every range handed back unchecked.
        assert probe.count({0: [(gap_start, gap_end)]}, budget_s=0) == {
            0: Checked(0, [(gap_start, gap_end)])
        }
    finally:
        probe.close()


def test_an_unreachable_broker_confirms_nothing_and_costs_one_budget(lake):
    """No broker: every gap stays unchecked (so unaccounted, never hidden), within the budget,
    and the next flush does not wait for it again."""
    unreachable = lake.settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:9"})
    probe = GapProbe(unreachable, "transactions_topic")
    started = time.monotonic()
    assert probe.count({0: [(0, 5)], 1: [(3, 4)]}) == {
        0: Checked(0, [(0, 5)]),
        1: Checked(0, [(3, 4)]),
    }
    assert time.monotonic() - started < PROBE_BUDGET_S + 2
    started = time.monotonic()
    assert probe.count({0: [(0, 5)]}) == {0: Checked(0, [(0, 5)])}
    assert time.monotonic() - started < 1  # it waits RETRY_AFTER_S before trying again
    probe.close()
