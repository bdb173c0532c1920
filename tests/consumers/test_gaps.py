"""The gap probe against the embedded broker: a gap is counted only when the broker confirms it
serves no record there; a range it does serve, which the sink would then have missed, is not."""

from __future__ import annotations

import pytest

from consumers.gaps import GapProbe
from lakestream.core import clients
from lakestream.stack.broker_log import base_offset, records_prefix

pytestmark = pytest.mark.stack


def test_only_ranges_the_broker_does_not_serve_are_confirmed(lake):
    ds = lake.datasets.get("social_posts")
    for seed in ("1", "2", "3"):  # three produce runs: batches of their own per partition
        lake.produce("social_posts", 40, "--seed", seed)
    s3 = clients.aws_client(lake.settings, "s3")
    log_bucket = lake.settings.broker_log_bucket
    keys = {
        base_offset(o["Key"]): o["Key"]
        for o in clients.list_objects(s3, log_bucket, records_prefix(ds.topic, 0))
    }
    batches = sorted(keys)
    assert len(batches) >= 3, batches
    gap_start, gap_end = batches[1], batches[2]
    s3.delete_object(Bucket=log_bucket, Key=keys[gap_start])

    probe = GapProbe(lake.settings, ds.topic)
    try:
        assert probe.not_served(0, gap_start, gap_end)
        assert probe.count(0, [(gap_start, gap_end)]) == gap_end - gap_start
        # Offsets the broker serves: a sink that was not delivered them missed them.
        assert not probe.not_served(0, batches[0], gap_start)
        assert probe.count(0, [(batches[0], gap_start), (gap_start, gap_end)]) == (
            gap_end - gap_start
        )
    finally:
        probe.close()
