"""The curated layer against the embedded stack: every Kafka record exactly once, whatever happens.

Each test lands data with the real producer and sink (their own topics and tables), then runs
curation passes against moto's Glue and S3 and counts coordinates in the Iceberg table.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import orjson
import pyarrow as pa
import pytest
import yaml
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField

from consumers.audit import read_rows
from consumers.groups import committed_offsets, group_id
from curation import run as curation_run
from curation import tables as curation_tables
from curation.catalog import iceberg_catalog
from curation.maintain import maintain
from curation.run import CurationError, Pass, curate
from curation.tables import (
    DAY_BACKFILL_PROPERTY,
    TABLE_PROPERTIES,
    columns,
    ensure_table,
    identifier,
    location,
    record_columns,
)
from curation.watermark import DEAD_LETTERS_PROPERTY, WATERMARK_PROPERTY, read_watermark
from lakestream.core import clients
from lakestream.core.formats import JsonLinesGzip
from lakestream.core.layout import data_key
from lakestream.core.types import TYPES
from tests.lake_helpers import finish

pytestmark = pytest.mark.stack


def land(lake, dataset: str, count: int, *args: str) -> int:
    return lake.land(dataset, count, *args, sink=("--max-records", "1000"))


def _table(lake, ds):
    return iceberg_catalog(lake.settings).load_table(identifier(lake.settings, ds))


def curated(lake, dataset: str) -> pa.Table:
    return _table(lake, lake.datasets.get(dataset)).scan().to_arrow()


def coordinates(table: pa.Table) -> list[tuple[int, int]]:
    return list(
        zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True)
    )


def assert_exactly_once(lake, dataset: str) -> pa.Table:
    """The curated table holds each landed record once, and nothing else."""
    raw = lake.count(dataset)
    table = curated(lake, dataset)
    coords = coordinates(table)
    assert len(coords) == len(set(coords)), f"{len(coords) - len(set(coords))} duplicates"
    assert {(p, o) for _, p, o in raw.coordinates} == set(coords)
    return table


def test_a_pass_applies_what_the_sink_committed_typed_and_partitioned(lake):
    produced = land(lake, "transactions", 3_000, "--malformed-rate", "0.01")
    ds = lake.datasets.get("transactions")
    [result] = curate(lake.settings, [ds], lake.group_prefix)
    raw = lake.count("transactions")
    assert result.state == "appended"
    assert result.records == raw.distinct == produced - raw.dead_letters
    table = assert_exactly_once(lake, "transactions")
    assert table.schema.field("TransactionDate").type == pa.date32()
    assert table.schema.field("Amount").type == pa.float64()
    assert table.schema.field("ingested_at").type == pa.timestamp("us")
    assert table.schema.field("dt").type == pa.date32()  # the raw layer's day, typed
    assert table["dt"].to_pylist() == table["TransactionDate"].to_pylist()
    iceberg = iceberg_catalog(lake.settings).load_table(identifier(lake.settings, ds))
    assert [f.name for f in iceberg.spec().fields] == ["TransactionDate_day"]
    assert iceberg.location().endswith(f"/curated/{ds.table}")
    mark = read_watermark(iceberg)
    assert mark.topic == ds.topic
    assert sum(mark.offsets.values()) == produced  # every committed offset, dead letters too
    assert result.lag == 0


def test_nothing_new_makes_no_snapshot_and_new_data_one_more(lake):
    land(lake, "social_posts", 1_000)
    ds = lake.datasets.get("social_posts")
    [first] = curate(lake.settings, [ds], lake.group_prefix)
    [again] = curate(lake.settings, [ds], lake.group_prefix)
    assert again.state == "unchanged"
    assert again.records == 0
    assert again.snapshot_id == first.snapshot_id
    land(lake, "social_posts", 500, "--seed", "9")
    [more] = curate(lake.settings, [ds], lake.group_prefix)
    assert more.records == 500
    assert more.snapshot_id != first.snapshot_id
    assert curated(lake, "social_posts").num_rows == 1_500
    assert_exactly_once(lake, "social_posts")


def test_two_passes_at_once_apply_each_record_once(lake):
    land(lake, "web_logs", 2_000)
    ds = lake.datasets.get("web_logs")
    catalog = iceberg_catalog(lake.settings)
    group = f"{lake.group_prefix}-web_logs"
    other = Pass(lake.settings, catalog, ds, group)
    # The second pass commits while the first is about to: the first must be refused, re-read
    # the watermark and find nothing left, instead of appending on top.
    first = Pass(lake.settings, catalog, ds, group).run(before_commit=lambda: other.run())
    assert first.attempts == 2
    assert first.records == 0
    assert curated(lake, "web_logs").num_rows == 2_000
    assert_exactly_once(lake, "web_logs")


def test_only_committed_raw_objects_are_read(lake):
    """An object past the sink's committed offset (a crash between write and commit) is left
    alone; once the sink rewrites and commits it, the next pass applies it once."""
    land(lake, "ad_campaigns", 400)
    ds = lake.datasets.get("ad_campaigns")
    committed = curate(lake.settings, [ds], lake.group_prefix)[0].committed
    partition = min(committed)
    stray = data_key(ds, "2031-01-01", ds.topic, partition, committed[partition], ".jsonl.gz")
    body = JsonLinesGzip().encode([{"campaign_id": "uncommitted"}])
    s3 = clients.aws_client(lake.settings, "s3")
    s3.put_object(Bucket=lake.settings.bucket(ds), Key=stray, Body=body)
    [result] = curate(lake.settings, [ds], lake.group_prefix)
    assert result.records == 0
    assert "uncommitted" not in curated(lake, "ad_campaigns")["campaign_id"].to_pylist()
    s3.delete_object(Bucket=lake.settings.bucket(ds), Key=stray)
    land(lake, "ad_campaigns", 100, "--seed", "3")
    curate(lake.settings, [ds], lake.group_prefix)
    assert curated(lake, "ad_campaigns").num_rows == 500
    assert_exactly_once(lake, "ad_campaigns")


def test_records_that_do_not_fit_go_to_dead_letters_with_their_reason(lake):
    """A raw object written under an older catalog (or by hand) with records the table's types
    refuse: those become curation dead letters, the rest of the object is applied."""
    land(lake, "transactions", 600)
    ds = lake.datasets.get("transactions")
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    key = next(o["Key"] for o in clients.list_objects(s3, bucket, f"{ds.table}/"))
    rows = read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
    rows[0]["Amount"] = "twelve"
    rows[1]["TransactionDate"] = "01/02/2024"
    del rows[2]["ClientID"]
    s3.put_object(Bucket=bucket, Key=key, Body=JsonLinesGzip().encode(rows))

    [result] = curate(lake.settings, [ds], lake.group_prefix)
    assert result.dead_letters == 3
    assert result.records == 600 - 3
    dlq = [o["Key"] for o in clients.list_objects(s3, bucket, "_dlq/curated/")]
    assert len(dlq) == 1
    assert dlq[0].startswith(f"_dlq/curated/{ds.topic}/{key.split('/')[1]}/")
    letters = read_rows(s3.get_object(Bucket=bucket, Key=dlq[0])["Body"].read(), dlq[0])
    reasons = {(d["kafka_offset"], d["reason"].split(":")[1].strip()) for d in letters}
    assert reasons == {
        (rows[0]["kafka_offset"], "Amount"),
        (rows[1]["kafka_offset"], "TransactionDate"),
        (rows[2]["kafka_offset"], "ClientID"),
    }
    assert all(d["record"]["kafka_topic"] == ds.topic for d in letters)
    assert _table(lake, ds).properties[DEAD_LETTERS_PROPERTY] == "3"
    [again] = curate(lake.settings, [ds], lake.group_prefix)
    assert again.dead_letters == 0  # the watermark moved past them: not set aside twice
    refused = {(r["kafka_partition"], r["kafka_offset"]) for r in rows[:3]}
    assert not refused & set(coordinates(curated(lake, "transactions")))


def test_raw_rewritten_with_other_boundaries_adds_nothing_and_rebuild_dedupes(lake):
    land(lake, "transactions", 1_500)
    ds = lake.datasets.get("transactions")
    curate(lake.settings, [ds], lake.group_prefix)
    # A sink that re-read a committed range with other batch boundaries (a reset group, other
    # limits) leaves the same records under another name: copy one object's tail to the name
    # a batch starting mid-way would have.
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    key = next(o["Key"] for o in clients.list_objects(s3, bucket, f"{ds.table}/"))
    rows = read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
    tail = rows[len(rows) // 2 :]
    first = tail[0]
    again = data_key(ds, key.split("/")[1][3:], ds.topic, first["kafka_partition"],
                     first["kafka_offset"], ".jsonl.gz")  # fmt: skip
    s3.put_object(Bucket=bucket, Key=again, Body=JsonLinesGzip().encode(tail))
    assert lake.count("transactions").duplicates == len(tail)

    [result] = curate(lake.settings, [ds], lake.group_prefix)
    assert result.records == 0  # the watermark already covers those offsets
    [rebuilt] = curate(lake.settings, [ds], lake.group_prefix, rebuild=True)
    assert rebuilt.records == 1_500
    assert rebuilt.duplicates_dropped == len(tail)
    assert_exactly_once(lake, "transactions")


def test_offsets_going_backwards_stop_the_pass(lake):
    land(lake, "web_logs", 600)
    ds = lake.datasets.get("web_logs")
    [before] = curate(lake.settings, [ds], lake.group_prefix)
    admin = clients.kafka_admin(lake.settings)
    group = f"{lake.group_prefix}-web_logs"
    try:  # as if the topic had been recreated and the sink started over
        offsets = admin.list_group_offsets(group)[group]
        admin.alter_group_offsets(group, {tp: clients.offset_and_metadata(0) for tp in offsets})
    finally:
        admin.close()
    with pytest.raises(CurationError, match="went backwards"):
        curate(lake.settings, [ds], lake.group_prefix)
    table = iceberg_catalog(lake.settings).load_table(identifier(lake.settings, ds))
    assert table.current_snapshot().snapshot_id == before.snapshot_id  # nothing written


def test_a_new_optional_column_is_added_without_rewriting_data(lake, tmp_path, monkeypatch):
    land(lake, "transactions", 500)
    ds = lake.datasets.get("transactions")
    curate(lake.settings, [ds], lake.group_prefix)
    files_before = {f.file.file_path for f in _table(lake, ds).scan().plan_files()}

    doc = yaml.safe_load(lake.settings.catalog_path.read_text())
    doc["datasets"]["transactions"]["columns"].append(
        {"name": "Coupon", "type": "string", "required": False}
    )
    path = tmp_path / "with_coupon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    settings = lake.settings.model_copy(update={"catalog_path": path})
    settings.__dict__.pop("datasets", None)  # the catalog is read once per Settings
    [result] = curate(settings, [settings.datasets.get("transactions")], lake.group_prefix)
    table = _table(lake, ds)
    assert "Coupon" in table.schema().column_names
    assert {f.file.file_path for f in table.scan().plan_files()} == files_before
    rows = table.scan().to_arrow()
    assert rows.num_rows == 500
    assert rows["Coupon"].null_count == 500
    assert result.records == 0


@pytest.mark.parametrize("delay", [0.3, 1.5])
def test_a_pass_killed_at_any_point_then_rerun_lands_each_record_once(lake, delay):
    produced = land(lake, "web_logs", 12_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "curation", "--datasets", "web_logs", "--group-prefix",
         lake.group_prefix],
        env=lake.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    finish(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "curation",
                "--datasets",
                "web_logs",
                "--group-prefix",
                lake.group_prefix,
                "--json",
            ],
            env=lake.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    table = assert_exactly_once(lake, "web_logs")
    assert table.num_rows == produced
    snapshot = _table(lake, lake.datasets.get("web_logs")).current_snapshot()
    offsets = orjson.loads(snapshot.summary.additional_properties[WATERMARK_PROPERTY])["offsets"]
    assert sum(offsets.values()) == produced


def test_a_table_terraform_created_gets_its_day_partitioning_on_the_first_pass(lake):
    """What Glue builds from infra/modules/curated_lake: the columns, all optional, no partition
    spec, none of our properties. The first pass completes it and appends."""
    land(lake, "transactions", 800)
    ds = lake.datasets.get("transactions")
    glue_made = Schema(
        *(
            NestedField(i, name, TYPES[type_].iceberg_type(), required=False)
            for i, (name, type_, _) in enumerate(columns(ds), start=1)
        )
    )
    iceberg_catalog(lake.settings).create_table(
        identifier(lake.settings, ds), schema=glue_made, location=location(lake.settings, ds)
    )
    [result] = curate(lake.settings, [ds], lake.group_prefix)
    table = _table(lake, ds)
    assert [f.name for f in table.spec().fields] == ["TransactionDate_day"]
    [key] = table.sort_order().fields
    assert table.schema().find_column_name(key.source_id) == ds.key_field
    assert {k: table.properties.get(k) for k in TABLE_PROPERTIES} == TABLE_PROPERTIES
    assert result.records == 800
    assert {f.file.partition[0] for f in table.scan().plan_files()}  # partitioned by day
    assert_exactly_once(lake, "transactions")


def test_rows_outside_applied_and_committed_offsets_are_not_applied(lake):
    """A raw object left by an attempt that failed after writing starts below the committed
    offset but holds offsets past it (and offsets already applied): those rows would come
    again in the objects that later land them."""
    produced = land(lake, "web_logs", 600)
    ds = lake.datasets.get("web_logs")
    committed = committed_offsets(lake.settings, group_id(lake.group_prefix, ds), ds.topic)
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    some = clients.list_objects(s3, bucket, f"{ds.table}/")[0]["Key"]
    first = read_rows(s3.get_object(Bucket=bucket, Key=some)["Body"].read(), some)[0]
    partition = first["kafka_partition"]
    end = committed[partition]
    # Offsets end-3 .. end+2: three already landed (duplicates), three not committed yet.
    leftover = [{**first, "kafka_offset": offset} for offset in range(end - 3, end + 3)]
    key = data_key(ds, "2024-10-01", ds.topic, partition, end - 3, ".jsonl.gz")
    s3.put_object(Bucket=bucket, Key=key, Body=JsonLinesGzip().encode(leftover))

    [result] = curate(lake.settings, [ds], lake.group_prefix)
    rows = coordinates(curated(lake, "web_logs"))
    assert len(rows) == len(set(rows)) == produced
    assert all(offset < committed[p] for p, offset in rows)
    assert result.records == produced


def _curated_by_the_previous_release(lake, ds, monkeypatch) -> None:
    """A pass as the release before the day column made it: the record's columns only."""
    with monkeypatch.context() as m:
        m.setattr(curation_tables, "columns", record_columns)
        m.setattr(curation_run, "with_day", lambda rows, dataset: rows)
        [result] = curate(lake.settings, [ds], lake.group_prefix)
    assert result.records > 0
    assert "dt" not in _table(lake, ds).schema().column_names


def _assert_every_row_has_its_day(lake, ds) -> pa.Table:
    rows = curated(lake, ds.name)
    days = [ts.date() for ts in rows[ds.event_time_field].to_pylist()]
    assert rows["dt"].null_count == 0
    assert rows["dt"].to_pylist() == days
    return rows


def test_a_table_curated_before_the_day_column_gets_it_on_every_row(lake, monkeypatch):
    """Upgrading keeps the curated layer honest: the next pass adds the column and rewrites the
    days written without it, so a date range on `dt` misses no older row."""
    land(lake, "web_logs", 600)
    ds = lake.datasets.get("web_logs")
    _curated_by_the_previous_release(lake, ds, monkeypatch)
    mark = _table(lake, ds).properties[WATERMARK_PROPERTY]

    [result] = curate(lake.settings, [ds], lake.group_prefix)  # nothing new to apply
    assert result.records == 0
    table = _table(lake, ds)
    assert DAY_BACKFILL_PROPERTY not in table.properties
    assert table.properties[WATERMARK_PROPERTY] == mark  # the rewrite carries it forward
    assert _assert_every_row_has_its_day(lake, ds).num_rows == 600
    assert_exactly_once(lake, "web_logs")

    land(lake, "web_logs", 200, "--seed", "5")
    [more] = curate(lake.settings, [ds], lake.group_prefix)
    assert more.records == 200
    assert _assert_every_row_has_its_day(lake, ds).num_rows == 800


def test_maintain_backfills_the_day_column_a_lost_race_left_behind(lake, monkeypatch):
    land(lake, "web_logs", 400)
    ds = lake.datasets.get("web_logs")
    _curated_by_the_previous_release(lake, ds, monkeypatch)
    table = ensure_table(iceberg_catalog(lake.settings), lake.settings, ds)
    assert table.properties[DAY_BACKFILL_PROPERTY] == "pending"
    with table.transaction() as tx:  # as if the pass's rewrite had lost its commit
        tx.remove_properties(DAY_BACKFILL_PROPERTY)
    assert curated(lake, "web_logs")["dt"].null_count == 400

    [result] = maintain(lake.settings, [ds])
    assert result.compacted
    assert _assert_every_row_has_its_day(lake, ds).num_rows == 400
    [again] = maintain(lake.settings, [ds])
    assert again.compacted == []  # filled days are not rewritten again
