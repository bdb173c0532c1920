"""make maintain against the embedded stack: compaction, retention, snapshot expiry, orphans —
and the exactly-once guarantee of the passes that follow."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from curation.catalog import iceberg_catalog
from curation.cli import main as curation_main
from curation.maintain import files_per_day, maintain
from curation.run import count_curated, curate
from curation.tables import identifier
from curation.watermark import WATERMARK_PROPERTY, read_watermark
from lakestream.core import clients, layout

pytestmark = pytest.mark.stack


def land_and_curate(lake, dataset: str, count: int, seed: int) -> None:
    lake.land(dataset, count, "--seed", str(seed))
    curate(lake.settings, [lake.datasets.get(dataset)], lake.group_prefix)


def table(lake, dataset: str):
    ds = lake.datasets.get(dataset)
    return iceberg_catalog(lake.settings).load_table(identifier(lake.settings, ds))


def test_compaction_leaves_one_file_per_day_and_the_same_rows(lake):
    for seed in range(2):  # two passes: two small files in each day partition
        land_and_curate(lake, "ad_campaigns", 300, seed)
    ds = lake.datasets.get("ad_campaigns")
    before = files_per_day(table(lake, "ad_campaigns"))
    assert max(len(f) for f in before.values()) >= 2
    mark = table(lake, "ad_campaigns").properties[WATERMARK_PROPERTY]

    [result] = maintain(lake.settings, [ds], orphan_age=timedelta(0))
    after = files_per_day(table(lake, "ad_campaigns"))
    assert set(after) == set(before)
    assert all(len(f) == 1 for f in after.values()), after
    assert result.compacted
    # Rewritten in the table's sort order: within each day, by the dataset's key.
    compacted = table(lake, "ad_campaigns")
    for task in compacted.scan().plan_files():
        with compacted.io.new_input(task.file.file_path).open() as f:
            keys = pq.read_table(f, columns=[ds.key_field])[ds.key_field].to_pylist()
        assert keys == sorted(keys)
    count = count_curated(lake.settings, ds)
    assert count.rows == count.distinct == lake.count("ad_campaigns").distinct == 600
    assert table(lake, "ad_campaigns").properties[WATERMARK_PROPERTY] == mark
    # The replaced files stay while older snapshots (time travel) still refer to them.
    assert result.orphans_removed == 0

    land_and_curate(lake, "ad_campaigns", 100, 7)  # passes go on from the same watermark
    count = count_curated(lake.settings, ds)
    assert count.rows == count.distinct == 700


def test_retention_deletes_only_what_is_older(lake):
    land_and_curate(lake, "ad_campaigns", 600, 1)
    ds = lake.datasets.get("ad_campaigns")
    days = sorted(files_per_day(table(lake, "ad_campaigns")))
    cutoff = date.fromisoformat(days[len(days) // 2])
    rows = table(lake, "ad_campaigns").scan().to_arrow()
    keep = sum(1 for d in rows["start_date"].to_pylist() if d >= cutoff)
    assert 0 < keep < rows.num_rows

    [result] = maintain(lake.settings, [ds], retention_days=30, today=cutoff + timedelta(days=30))
    left = table(lake, "ad_campaigns").scan().to_arrow()
    assert left.num_rows == keep
    assert min(left["start_date"].to_pylist()) >= cutoff
    assert result.raw_partitions_deleted == [d for d in days if d < cutoff.isoformat()]
    s3 = clients.aws_client(lake.settings, "s3")
    raw_days = {
        o["Key"].split("/")[1][3:]
        for o in clients.list_objects(s3, lake.settings.bucket(ds), f"{ds.table}/")
    }
    assert raw_days == {d for d in days if d >= cutoff.isoformat()}


def test_snapshot_expiry_keeps_the_current_one_and_orphans_go(lake):
    for seed in range(2):
        land_and_curate(lake, "social_posts", 300, seed)
    ds = lake.datasets.get("social_posts")
    location = table(lake, "social_posts").location()
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    s3 = clients.aws_client(lake.settings, "s3")
    stray = f"{prefix}/data/post_date_day=2024-10-01/from-a-killed-pass.parquet"
    s3.put_object(Bucket=bucket, Key=stray, Body=b"PAR1")

    [result] = maintain(lake.settings, [ds], snapshot_age=timedelta(0), orphan_age=timedelta(0))
    current = table(lake, "social_posts")
    assert len(current.metadata.snapshots) == 1
    assert result.snapshots_expired >= 1
    assert result.orphans_removed >= 1
    keys = {o["Key"] for o in clients.list_objects(s3, bucket, prefix + "/")}
    assert stray not in keys
    assert current.scan().to_arrow().num_rows == 600


def test_retention_keeps_raw_objects_curation_has_not_applied(lake):
    land_and_curate(lake, "ad_campaigns", 600, 1)
    lake.land("ad_campaigns", 300, "--seed", "2")  # landed, not curated yet
    ds = lake.datasets.get("ad_campaigns")
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    days = sorted({k.dt for k in raw_keys(s3, bucket, ds)})
    cutoff = date.fromisoformat(days[len(days) // 2])
    applied = read_watermark(table(lake, "ad_campaigns"))
    uncurated = {
        k.key for k in raw_keys(s3, bucket, ds) if k.first_offset >= applied.of(k.partition)
    }
    assert uncurated
    sizes: list[int] = []

    def count_partitions(params, **_):
        sizes.append(len(params["PartitionsToDelete"]))

    events = clients._session().events
    events.register("provide-client-params.glue.BatchDeletePartition", count_partitions)
    try:
        [result] = maintain(
            lake.settings, [ds], retention_days=30, today=cutoff + timedelta(days=30)
        )
    finally:
        events.unregister("provide-client-params.glue.BatchDeletePartition", count_partitions)

    left = {k.key for k in raw_keys(s3, bucket, ds)}
    old_left = {k for k in left if layout.parse_key(k).dt < cutoff.isoformat()}
    assert result.raw_objects_kept == len(old_left) > 0
    assert old_left <= uncurated  # only what curation has not applied stayed behind
    assert all(size <= 25 for size in sizes), sizes  # AWS takes 25 partitions per call
    assert sum(sizes) == len(result.raw_partitions_deleted)

    curate(lake.settings, [ds], lake.group_prefix)  # what stayed reaches the curated table
    assert count_curated(lake.settings, ds).distinct == lake.count("ad_campaigns").distinct


def test_an_orphan_age_under_an_hour_is_refused_unless_no_pass_runs(capsys):
    assert curation_main(["maintain", "--orphan-age", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--orphan-age 0.5 could delete the files of a pass that has not committed yet" in err
    assert "add --no-pass-running" in err


def raw_keys(s3, bucket, ds):
    found = (layout.parse_key(o["Key"]) for o in clients.list_objects(s3, bucket, f"{ds.table}/"))
    return [k for k in found if k is not None and k.kind == "data"]
