"""`lakestream audit` against the embedded stack: every committed offset is a raw record or a
dead letter, every applied one a curated row or a curation dead letter; a lost object and a
duplicated one show up, and a batch in flight does not."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from consumers import gaps
from consumers.audit import read_rows
from curation.reconcile import audit_dataset
from curation.run import curate
from lakestream.core import clients, layout
from lakestream.core.formats import JsonLinesGzip
from lakestream.stack.broker_log import base_offset, records_prefix
from orchestration.cli import main as lakestream_main
from tests.lake_helpers import environment

pytestmark = pytest.mark.stack


def _send(lake, values: list[bytes]) -> None:
    topic = lake.datasets.get("social_posts").topic
    producer = clients.kafka_producer(lake.settings)
    for value in values:
        producer.send(topic, value=value)
    producer.flush(30)
    producer.close()


def _cli(lake, *argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    with environment(lake.env), contextlib.redirect_stdout(out):
        code = lakestream_main(["audit", "--datasets", "social_posts",
                                "--group-prefix", lake.group_prefix, "--json", *argv])  # fmt: skip
    return code, json.loads(out.getvalue())


def test_every_offset_is_accounted_for_and_a_loss_or_a_duplicate_is_not(lake):
    ds = lake.datasets.get("social_posts")
    _send(lake, [b"not json", b'{"user":"x"}'])  # two sink dead letters
    lake.land("social_posts", 400, "--seed", "2", sink=("--max-records", "100"))
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    # A record curation refuses: one raw object rewritten with a value the table cannot hold.
    data = sorted(o["Key"] for o in clients.list_objects(s3, bucket, f"{ds.table}/"))
    rows = read_rows(s3.get_object(Bucket=bucket, Key=data[0])["Body"].read(), data[0])
    rows[0]["likes"] = "many"
    s3.put_object(
        Bucket=bucket,
        Key=data[0],
        Body=JsonLinesGzip().encode(rows),
        Metadata={layout.RECORD_COUNT: str(len(rows))},
    )
    curate(lake.settings, [ds], lake.group_prefix)

    audited = audit_dataset(lake.settings, ds, lake.group_prefix)
    assert sum(a.committed for a in audited) == 402
    assert sum(a.raw_records for a in audited) == 400
    assert sum(a.raw_dead_letters for a in audited) == 2
    assert sum(a.curated_rows for a in audited) == 399
    assert sum(a.curated_dead_letters for a in audited) == 1
    assert all(a.raw_unaccounted == 0 and a.curated_unaccounted == 0 for a in audited)
    assert [a.applied for a in audited] == [a.committed for a in audited]
    code, report = _cli(lake)
    assert (code, report["unaccounted"]) == (0, 0)

    def rows_of(key: str) -> int:
        return len(read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key))

    # A batch in flight (written, not committed) is not counted.
    parsed = layout.parse_key(data[-1])
    top = max(a.committed for a in audited if a.partition == parsed.partition)
    in_flight = layout.data_key(ds, parsed.dt, ds.topic, parsed.partition, top, ".jsonl.gz")
    s3.copy_object(Bucket=bucket, Key=in_flight, CopySource={"Bucket": bucket, "Key": data[-1]})
    assert _cli(lake)[1]["unaccounted"] == 0
    # An object past the batch in flight: no attempt should leave one.
    stray = layout.data_key(ds, parsed.dt, ds.topic, parsed.partition, top + 5, ".jsonl.gz")
    s3.copy_object(Bucket=bucket, Key=stray, CopySource={"Bucket": bucket, "Key": data[-1]})
    code, report = _cli(lake)
    assert code == 1
    [stray_row] = [p for p in report["partitions"] if p["partition"] == parsed.partition]
    assert stray_row["raw_beyond"] == rows_of(data[-1])
    s3.delete_object(Bucket=bucket, Key=stray)

    # A committed object lost, and one of another partition written twice under a second name.
    lost = layout.parse_key(data[1])
    twice = next(
        layout.parse_key(k) for k in data[2:-1] if layout.parse_key(k).partition != lost.partition
    )
    lost_rows, twice_rows = rows_of(lost.key), rows_of(twice.key)
    s3.delete_object(Bucket=bucket, Key=lost.key)
    copy = layout.data_key(ds, twice.dt, ds.topic, twice.partition, twice.first_offset + 1,
                           ".jsonl.gz")  # fmt: skip
    s3.copy_object(Bucket=bucket, Key=copy, CopySource={"Bucket": bucket, "Key": twice.key})
    code, report = _cli(lake)
    assert code == 1
    by_partition = {p["partition"]: p for p in report["partitions"]}
    assert by_partition[lost.partition]["raw_unaccounted"] == lost_rows  # lost
    assert by_partition[twice.partition]["raw_unaccounted"] == -twice_rows  # duplicated
    assert report["unaccounted"] >= lost_rows + twice_rows


@pytest.mark.parametrize("sink_budget_s", [5.0, 0.0], ids=["sink-checks", "audit-checks"])
def test_offsets_the_broker_never_delivers_are_skipped_not_unaccounted(
    durable_lake, monkeypatch, sink_budget_s
):
    """A gap in the broker's log (here: one of the embedded broker's batch objects removed, as
    a restart mid-produce leaves; on a real Kafka, transaction markers) is counted by the sink
    and reported as skipped; every other offset is still a record, once. The gap starts right
    at the group's commit, so only where the sink began reading tells it from a loss."""
    ds = durable_lake.datasets.get("social_posts")
    durable_lake.land("social_posts", 60, "--seed", "1")
    committed = {
        a.partition: a.committed
        for a in audit_dataset(durable_lake.settings, ds, durable_lake.group_prefix)
    }
    for seed in ("2", "3"):  # two more produce runs: each its own batches per partition
        durable_lake.produce("social_posts", 60, "--seed", seed)
    s3 = clients.aws_client(durable_lake.settings, "s3")
    log_bucket = durable_lake.settings.broker_log_bucket
    batches = sorted(
        (base_offset(o["Key"]), o["Key"])
        for o in clients.list_objects(s3, log_bucket, records_prefix(ds.topic, 0))
    )
    after = [(base, key) for base, key in batches if base >= committed[0]]
    assert len(after) >= 2, batches
    assert after[0][0] == committed[0], (batches, committed)
    (gap_start, gap_key), (gap_end, _) = after[0], after[1]
    s3.delete_object(Bucket=log_bucket, Key=gap_key)
    gap = gap_end - gap_start

    # With no time to check (a broker restarting, say), the sink writes the gap down as
    # unchecked and the audit asks the broker itself.
    monkeypatch.setattr(gaps, "PROBE_BUDGET_S", sink_budget_s)
    durable_lake.catch_up("social_posts")
    curate(durable_lake.settings, [ds], durable_lake.group_prefix)
    metadata = [
        s3.head_object(Bucket=durable_lake.settings.bucket(ds), Key=o["Key"])["Metadata"]
        for o in clients.list_objects(s3, durable_lake.settings.bucket(ds), f"{ds.table}/")
        if layout.parse_key(o["Key"]).partition == 0
    ]
    noted = {m.get(layout.SKIPPED_OFFSETS) or m.get(layout.UNCHECKED_GAPS) for m in metadata}
    expected_note = str(gap) if sink_budget_s else f"{gap_start}-{gap_end}"
    assert expected_note in noted, metadata

    audited = {
        a.partition: a for a in audit_dataset(durable_lake.settings, ds, durable_lake.group_prefix)
    }
    assert (audited[0].skipped, audited[0].skipped_applied) == (gap, gap)
    assert sum(a.skipped for a in audited.values()) == gap
    assert audited[0].raw_records == audited[0].committed - gap
    assert all(a.raw_unaccounted == 0 and a.curated_unaccounted == 0 for a in audited.values())
    code, report = _cli(durable_lake)
    assert (code, report["unaccounted"], report["skipped"]) == (0, 0, gap)
