"""Manual assignment's fencing: a lease per partition in S3 (moto over HTTP), one owner each."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import orjson
import pytest

from consumers.leases import Leases
from lakestream.core import clients
from lakestream.core.layout import lease_key
from tests.lake_helpers import SMALL_BATCHES, assert_exactly, finish

pytestmark = pytest.mark.stack

MANUAL = ("--assignment", "manual")


def leases_of(lake, dataset: str, owner: str, ttl: float = 30.0) -> Leases:
    ds = lake.datasets.get(dataset)
    s3 = clients.aws_client(lake.settings, "s3")
    return Leases(s3, lake.settings.bucket(ds), ds.topic, owner, ttl)


def lease_objects(lake, dataset: str) -> list[str]:
    ds = lake.datasets.get(dataset)
    s3 = clients.aws_client(lake.settings, "s3")
    listed = s3.list_objects_v2(Bucket=lake.settings.bucket(ds), Prefix=f"_state/{ds.topic}+")
    return sorted(o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".lease"))


def test_a_held_partition_is_refused_until_released(lake):
    a, b = leases_of(lake, "web_logs", "a"), leases_of(lake, "web_logs", "b")
    assert a.take({0, 1}) == {0, 1}
    assert b.take({0, 1, 2}) == {2}
    assert b.others[0].owner == "a"
    assert "a on " in b.others[0].describe()
    a.release()
    assert b.take({0, 1}) == {0, 1}
    assert set(b.held) == {0, 1, 2}


def test_a_lapsed_lease_is_taken_over_and_its_old_holder_fenced(lake):
    # A lease's age is S3's Date minus its LastModified, both in whole seconds: a lease read
    # within a second of its write can be a second old. A 1 s TTL made this test fail whenever
    # a second's boundary fell between the two (a loaded run on four workers met it).
    a = leases_of(lake, "web_logs", "a", ttl=2.0)
    b = leases_of(lake, "web_logs", "b")
    assert a.take({3}) == {3}
    assert b.take({3}) == set()  # live: renewed less than its TTL ago
    time.sleep(3.2)  # past the TTL even on S3's whole-second clock
    assert b.take({3}) == {3}  # a stopped renewing: its own 2 s TTL decides, not b's 30 s
    # a wakes up: its lease is past half its TTL, so it renews before writing, and learns
    assert a.confirm(3) is False
    assert 3 not in a.held
    assert b.confirm(3) is True
    a.release()  # releases nothing of b's
    assert lease_objects(lake, "web_logs") == [lease_key(b.topic, 3)]


def test_the_same_owner_takes_its_own_lease_back_after_half_its_ttl(lake):
    first = leases_of(lake, "web_logs", "sink-1/web_logs-0", ttl=2.0)
    assert first.take({0}) == {0}
    # Killed without releasing, or still alive: restarted under the same --instance-id.
    again = leases_of(lake, "web_logs", "sink-1/web_logs-0", ttl=2.0)
    assert again.take({0}) == set()  # the old one may still trust it (half the TTL)
    time.sleep(3.5)  # half the TTL, plus S3's whole-second clock
    assert again.take({0}) == {0}
    assert first.confirm(0) is False  # past half its TTL: it renews, and learns


def test_a_restart_on_the_same_host_takes_a_dead_process_lease_at_once(lake):
    ds = lake.datasets.get("web_logs")
    s3 = clients.aws_client(lake.settings, "s3")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for partition, pid in ((2, dead.pid), (3, os.getppid())):  # gone, and alive
        body = {"owner": "sink-1/web_logs-0", "host": socket.gethostname(), "pid": pid,
                "ttl_s": 30, "session": "the killed one"}  # fmt: skip
        s3.put_object(
            Bucket=lake.settings.bucket(ds), Key=lease_key(ds.topic, partition),
            Body=orjson.dumps(body),
        )  # fmt: skip
    again = leases_of(lake, "web_logs", "sink-1/web_logs-0")
    assert again.take({2, 3}) == {2}
    assert again.others[3].pid == os.getppid()


def test_a_renewal_whose_reply_was_lost_keeps_the_lease(lake):
    a = leases_of(lake, "web_logs", "a")
    assert a.take({1}) == {1}
    a._put(1, IfMatch=a.held[1].etag)  # a renewal lands; its new ETag never reaches us
    a.held[1].renewed_at -= 60  # force the next renewal
    assert a.confirm(1) is True  # the lease holds our session: it is ours, at its new ETag
    other = leases_of(lake, "web_logs", "b")
    assert other.take({1}) == set()


def test_two_manual_sinks_land_each_record_once(lake):
    produced = lake.produce("transactions", 8_000, "--seed", "3")
    sinks = [
        lake.sink("transactions", *MANUAL, *SMALL_BATCHES, "--until-idle", "3", "--json")
        for _ in range(2)
    ]
    reports = [json.loads(finish(s)) for s in sinks]
    landed = [sum(t["records"] for t in r) for r in reports]
    # Without fencing both sinks read every partition: 2x the records, written under names
    # that differ wherever their batches closed apart.
    assert sum(landed) == produced, landed
    assert_exactly(lake, "transactions", produced)
    assert lease_objects(lake, "transactions") == []  # released on the way out


def test_a_sink_that_loses_a_lease_stops_writing_that_partition_until_it_is_free(lake):
    ds = lake.datasets.get("social_posts")
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    sink = lake.sink("social_posts", *MANUAL, *SMALL_BATCHES, "--lease-ttl", "15")
    try:
        first = lake.produce("social_posts", 2_000, "--seed", "5")
        assert lake.wait_for_rows("social_posts", first).rows == first
        # Another sink takes partition 0 (its lease replaced, as after a lapse) and keeps it.
        intruder = orjson.dumps({"owner": "intruder", "host": "elsewhere", "ttl_s": 600})
        s3.put_object(Bucket=bucket, Key=lease_key(ds.topic, 0), Body=intruder)
        time.sleep(6)  # the sink's next renewal (every TTL/3) finds it
        before = partition_rows(lake, "social_posts", 0)
        second = lake.produce("social_posts", 2_000, "--seed", "6")
        others = first + second - (second // 4) * 2  # well short of all: partition 0 waits
        lake.wait_for_rows("social_posts", others, timeout=60)
        time.sleep(3)
        assert partition_rows(lake, "social_posts", 0) == before
        # The intruder lets go: the sink takes partition 0 back and lands what it held back.
        s3.delete_object(Bucket=bucket, Key=lease_key(ds.topic, 0))
        assert lake.wait_for_rows("social_posts", first + second, timeout=60).rows == (
            first + second
        )
    finally:
        sink.send_signal(signal.SIGTERM)
        finish(sink, timeout=60)
    assert_exactly(lake, "social_posts", first + second)
    assert lease_objects(lake, "social_posts") == []


def partition_rows(lake, dataset: str, partition: int) -> int:
    return sum(1 for _, p, _ in lake.count(dataset).coordinates if p == partition)
