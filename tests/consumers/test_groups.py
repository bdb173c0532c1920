"""Group state and lag read from the real embedded broker; finite runs that cannot finish say why.

End offsets come from Fetch high watermarks: the broker's ListOffsets answers wrongly
(docs/broker-quirks.md), so these tests make a backlog on purpose and check the figure.
"""

from __future__ import annotations

import json
import threading

import pytest
from kafka import KafkaConsumer

from consumers.batch import BatchLimits
from consumers.cli import main as consumers_main
from consumers.groups import GroupInfo, describe_group, end_offsets, group_id, group_lag
from consumers.run import SinkRun
from consumers.sink import SinkOptions, SinkStats, SinkWorker
from orchestration.cli import main as orchestration_main
from tests.kafka_helpers import consume_all
from tests.lake_helpers import cli, finish, run_in_process

pytestmark = pytest.mark.stack


def _per_partition(lake, dataset: str, expected: int) -> dict[int, int]:
    ds = lake.datasets.get(dataset)
    counts: dict[int, int] = {}
    for record in consume_all(lake.settings, {ds.topic: ds.partitions}, expected):
        counts[record.partition] = counts.get(record.partition, 0) + 1
    return counts


def test_lag_is_the_backlog_made_on_purpose(lake):
    ds = lake.datasets.get("web_logs")
    produced = lake.produce("web_logs", 900)
    per_partition = _per_partition(lake, "web_logs", produced)
    group = group_id(lake.group_prefix, ds)
    before = group_lag(lake.settings, group, ds.topic, list(range(ds.partitions)))
    assert {p.partition: p.lag for p in before} == {
        p: per_partition.get(p, 0) for p in range(ds.partitions)
    }
    assert all(p.committed is None for p in before)

    finish(lake.sink("web_logs", "--until-idle", "2"))
    more = lake.produce("web_logs", 300, "--seed", "7")
    after = group_lag(lake.settings, group, ds.topic, list(range(ds.partitions)))
    assert sum(p.lag for p in after) == more
    assert sum(p.committed for p in after) == produced
    assert describe_group(lake.settings, group).members == []


def test_the_end_probe_reads_no_backlog(lake, monkeypatch):
    """A group far behind (here: none committed) is probed from its committed offsets. The
    probe reads each partition's high watermark, not the records behind it: kafka-python hands
    a fetched batch out before it reads the next partition's, one record per probe poll."""
    ds = lake.datasets.get("transactions")
    produced = lake.produce("transactions", 3_000)
    handed_out: list[int] = []
    real_poll = KafkaConsumer.poll

    def poll(self, *args, **kwargs):
        records = real_poll(self, *args, **kwargs)
        handed_out.append(sum(len(r) for r in records.values()))
        return records

    monkeypatch.setattr(KafkaConsumer, "poll", poll)
    ends = end_offsets(lake.settings, ds.topic, {p: 0 for p in range(ds.partitions)})
    assert sum(ends.values()) == produced
    assert sum(handed_out) <= ds.partitions  # at most the record each first fetch hands out


def test_a_member_is_told_from_others_by_its_whole_client_id():
    group = GroupInfo("g", "Stable", ["sink-12@127.0.0.1", "sink-123-0f1e", "sink-12-9a8b"])
    assert group.others("sink-12") == ["sink-123-0f1e"]  # not pid 12's, though it starts so
    assert group.others("sink-123") == ["sink-12@127.0.0.1", "sink-12-9a8b"]


def test_end_offsets_of_empty_partitions_are_zero(lake):
    ds = lake.datasets.get("ad_campaigns")
    lake.produce("ad_campaigns", 1)  # creates the topic; one partition stays empty
    ends = end_offsets(lake.settings, ds.topic, {p: 0 for p in range(ds.partitions)})
    assert sorted(ends.values()) == [0, 1]


def test_a_drain_that_gets_no_partition_fails_and_says_why(lake):
    # Its topic does not exist, so the group (real, on the real broker) assigns it nothing.
    # The embedded broker makes a missing topic when a client asks for its metadata (whatever
    # the client's allow_auto_create_topics), and the group then assigns its partitions after
    # a few seconds: the grace is shorter than that.
    ds = lake.datasets.get("social_posts").model_copy(update={"topic": "no_such_topic_here"})
    options = SinkOptions(
        group_prefix=lake.group_prefix, until_idle=1, assignment="group", join_grace_s=1.0
    )
    run = SinkRun(lake.settings, [ds], options).run()
    [error] = run.errors
    assert "got no partition of no_such_topic_here within 1s, so nothing was read" in error
    assert f"group {group_id(lake.group_prefix, ds)} is " in error
    assert "with lakestream-sink-social_posts-0" in error  # the group's members are named
    assert "`lakestream status`" in error


def test_a_group_that_never_assigns_is_taken_over_by_manual_assignment(lake, monkeypatch):
    """The broker's wedge (an empty group that hands out nothing) cannot be forced, so the
    group description is replaced; the consumer, the broker and the commits are real."""
    ds = lake.datasets.get("transactions")
    produced = lake.produce("transactions", 600)
    worker = SinkWorker(
        lake.settings,
        ds,
        SinkOptions(BatchLimits(max_age_s=1), group_prefix=lake.group_prefix, until_idle=2),
        SinkStats(ds.name, ds.topic),
        threading.Event(),
        threading.Event(),
        "wedged",
    )
    worker.consumer = worker._make_consumer()  # no subscription: as if the join never answered
    worker.consumer.consumer.subscribe(["a-topic-nobody-writes"])  # kafka-python's own

    class Stuck:
        state, members = "Empty", []

        def others(self, client_id):
            return []

    monkeypatch.setattr(worker, "_describe_group", lambda: Stuck())
    assert worker._no_partitions(finite=True)
    assert worker.mode == "manual"
    assert worker.consumer.assignment() == set(range(ds.partitions))
    worker._loop()
    worker.consumer.close()
    assert worker.incomplete is None
    assert worker.stats.records == produced
    assert lake.count("transactions").distinct == produced


def test_status_shows_each_sink_group_with_its_lag(lake):
    produced = lake.produce("web_logs", 500)
    # A group that has committed nothing: it joins, finds no record and leaves.
    run_in_process(consumers_main, [*lake.sink_argv("transactions"), "--until-idle", "1"], lake.env)
    result = cli(
        orchestration_main, ["status", "--json", "--group-prefix", lake.group_prefix], lake.env
    )
    report = json.loads(result.stdout)  # unhealthy: this lake's other topics were never made
    groups = {g["topic"]: g for g in report["sink_groups"]}
    logs = groups[lake.datasets.get("web_logs").topic]
    assert logs["group"] == f"{lake.group_prefix}-web_logs"
    assert logs["lag"] == produced
    assert sum(p["lag"] for p in logs["partitions"]) == produced
    assert all(p["committed"] is None for p in logs["partitions"])
    assert groups[lake.datasets.get("transactions").topic]["lag"] == 0
    assert set(groups) == {lake.datasets.get(n).topic for n in ("web_logs", "transactions")}

    text = cli(orchestration_main, ["status", "--group-prefix", lake.group_prefix], lake.env).stdout
    assert "Sink consumer groups" in text
    assert f"{lake.group_prefix}-web_logs" in text
