"""Table maintenance of the curated layer (`make maintain`): what the Glue catalog's table
optimizers and S3 lifecycle rules do on AWS, done locally.

- retention: rows whose event day is older than N days are deleted from the curated table, and
  the raw layer's `dt=` partitions older than N days (objects and Glue partitions) with them —
  the purge job of the original designs — except raw objects curation has not applied yet,
  which stay until it has;
- compaction: a day partition held in more files than its size needs is rewritten, sorted by
  the dataset's key (the table's sort order), into files of up to the target size (128 MiB);
- snapshot expiry: snapshots older than an age are dropped from the table's history (the current
  one always stays);
- orphan removal: files under the table's location that no snapshot or metadata file refers to
  (a pass killed before its commit leaves some), once older than an age. A pass in progress has
  written files no snapshot refers to yet, so the command line refuses an age under an hour.

Every rewrite carries the table's watermark forward, and a commit that loses a race with a pass
is refused rather than merged: the next run does what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import reduce

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import (
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    Or,
)
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from consumers.partitions import partition_days
from curation.catalog import iceberg_catalog
from curation.tables import DAY_BACKFILL_PROPERTY, DAY_COLUMN, identifier, with_day
from curation.watermark import WATERMARK_PROPERTY, Watermark, read_watermark
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

TARGET_FILE_BYTES = 128 * 1024**2
COMPACTION_BATCH_BYTES = 512 * 1024**2  # input rewritten per commit, held in memory
EPOCH = date(1970, 1, 1)


def iso_day(days: int) -> str:
    """An Iceberg day (a day-partition value or a date's stored value: days since the epoch)."""
    return (EPOCH + timedelta(days=int(days))).isoformat()


@dataclass
class MaintainResult:
    table: str
    files_before: dict[str, int] = field(default_factory=dict)  # day -> data files
    files_after: dict[str, int] = field(default_factory=dict)
    compacted: list[str] = field(default_factory=list)
    retention_cutoff: str | None = None
    raw_partitions_deleted: list[str] = field(default_factory=list)
    raw_objects_kept: int = 0  # older than the cutoff but not curated yet: kept
    snapshots_expired: int = 0
    orphans_removed: int = 0
    skipped: list[str] = field(default_factory=list)  # steps that lost a race: run again


def _day_range(dataset: Dataset, column_type: str, day: date) -> BooleanExpression:
    name = dataset.event_time_field
    if column_type == "date":
        return EqualTo(name, day.isoformat())
    start = datetime.combine(day, datetime.min.time())
    return And(
        GreaterThanOrEqual(name, start.isoformat()),
        LessThan(name, (start + timedelta(days=1)).isoformat()),
    )


def files_per_day(table: Table) -> dict[str, list[DataFile]]:
    """Day partition (ISO date) -> its data files, from the current snapshot."""
    found: dict[str, list[DataFile]] = {}
    for task in table.scan().plan_files():
        day = iso_day(task.file.partition[0])
        found.setdefault(day, []).append(task.file)
    return dict(sorted(found.items()))


def lacks_day(table: Table, strict: bool = False) -> Callable[[DataFile], bool]:
    """Whether a data file was written without the day column's values (before the column
    existed). A file with no column metrics at all is given the benefit of the doubt, else
    compaction would rewrite it on every run, unless `strict` (the one-off backfill)."""
    try:
        field = table.schema().find_field(DAY_COLUMN[0], case_sensitive=False)
    except ValueError:  # not added yet: the next pass adds it (and backfills)
        return lambda file: False

    def lacks(file: DataFile) -> bool:
        counts = file.value_counts or {}
        nulls = file.null_value_counts or {}
        if not counts:
            return strict
        return field.field_id not in counts or nulls.get(field.field_id, 0) > 0

    return lacks


def _carry(table: Table) -> dict[str, str]:
    mark = table.properties.get(WATERMARK_PROPERTY)
    return {WATERMARK_PROPERTY: mark} if mark else {}


def compact(
    table: Table,
    dataset: Dataset,
    target_bytes: int = TARGET_FILE_BYTES,
    batch_bytes: int = COMPACTION_BATCH_BYTES,
    crowded: bool = True,
    strict: bool = False,
    max_batches: int | None = None,
) -> list[str]:
    """Rewrite each day partition that has more files than ceil(size / target) (unless not
    `crowded`), and each one with files written before the day column existed.

    Days are rewritten together, one commit per batch of up to `batch_bytes` of input: a commit
    costs a metadata round (manifests, metadata file, catalog update) whatever its size, and a
    live lake has many small days."""
    column_type = dataset.column(dataset.event_time_field).type
    lacks = lacks_day(table, strict)
    batches: list[list[str]] = [[]]
    batch_size = 0
    for day, files in files_per_day(table).items():
        sizes = [f.file_size_in_bytes for f in files]
        needed = max(1, -(-sum(sizes) // target_bytes))
        if not (crowded and len(sizes) > needed) and not any(lacks(f) for f in files):
            continue
        if batches[-1] and batch_size + sum(sizes) > batch_bytes:
            batches.append([])
            batch_size = 0
        batches[-1].append(day)
        batch_size += sum(sizes)
    done = []
    for days in [b for b in batches if b][:max_batches]:
        where = reduce(Or, [_day_range(dataset, column_type, date.fromisoformat(d)) for d in days])
        rows: pa.Table = with_day(table.scan(row_filter=where).to_arrow(), dataset)
        # In the table's sort order (the dataset's key): a key's rows sit together, so its
        # column compresses to runs and the others to less (a third fewer bytes read by the
        # analyses here). Passes append unsorted: a sort would cost a tenth of their speed.
        rows = rows.sort_by([(dataset.key_field, "ascending"), ("kafka_offset", "ascending")])
        table.overwrite(rows, overwrite_filter=where, snapshot_properties=_carry(table))
        done.extend(days)
    return done


def backfill_day(table: Table, dataset: Dataset, max_batches: int | None = None) -> list[str]:
    """Give the rows written before the day column existed their day: each such day partition
    is rewritten (and compacted on the way), then the table's backfill mark is removed. A commit
    lost to another writer raises CommitFailedException and leaves the mark for the next pass."""
    days = compact(table, dataset, crowded=False, strict=True, max_batches=max_batches)
    table.refresh()
    lacks = lacks_day(table, strict=True)
    if any(lacks(f) for files in files_per_day(table).values() for f in files):
        return days  # more than this run's share: the mark stays for the next
    left = table.scan(row_filter=IsNull(DAY_COLUMN[0]), selected_fields=(DAY_COLUMN[0],))
    if left.to_arrow().num_rows:  # a writer that left the column out since: the mark stays
        return days
    with table.transaction() as tx:
        tx.remove_properties(DAY_BACKFILL_PROPERTY)
    return days


def apply_retention(table: Table, dataset: Dataset, cutoff: date) -> None:
    column_type = dataset.column(dataset.event_time_field).type
    bound = cutoff.isoformat() if column_type == "date" else f"{cutoff.isoformat()}T00:00:00"
    table.delete(LessThan(dataset.event_time_field, bound), snapshot_properties=_carry(table))


GLUE_DELETE_PARTITIONS_LIMIT = 25  # BatchDeletePartition takes at most 25 partitions


def purge_raw(
    settings: Settings, dataset: Dataset, cutoff: date, applied: Watermark
) -> tuple[list[str], int]:
    """Delete the raw objects of `dt=` days older than `cutoff` that curation has applied, and
    the Glue partitions of the days left empty: (the days purged, the objects kept back).

    An object is applied when its first offset is below the table's watermark for its Kafka
    partition (a pass applies whole objects). One that is not stays whatever its age: retention
    must never take records out of raw before they reach the curated table."""
    s3 = clients.aws_client(settings, "s3")
    glue = clients.aws_client(settings, "glue")
    bucket = settings.bucket(dataset)
    # A watermark of another topic (the dataset's topic renamed) says nothing about these
    # objects: nothing counts as applied then.
    trusted = applied.topic in (None, dataset.topic)
    old: dict[str, list[str]] = {}
    kept: dict[str, int] = {}
    for obj in clients.list_objects(s3, bucket, layout.data_prefix(dataset.table)):
        raw = layout.parse_key(obj["Key"])
        if raw is None or raw.dt >= cutoff.isoformat():
            continue
        curated = raw.kind == "data" and raw.topic == dataset.topic and trusted
        if curated and raw.first_offset < applied.of(raw.partition):
            old.setdefault(raw.dt, []).append(raw.key)
        else:
            kept[raw.dt] = kept.get(raw.dt, 0) + 1
    clients.delete_objects(s3, bucket, [key for keys in old.values() for key in keys])
    # Every registered day before the cutoff that holds nothing any more, including days an
    # earlier run emptied before it could remove their partitions.
    emptied = sorted(
        day
        for day in set(old) | set(partition_days(glue, settings.glue_database, dataset.table))
        if day < cutoff.isoformat() and day not in kept
    )
    for i in range(0, len(emptied), GLUE_DELETE_PARTITIONS_LIMIT):
        chunk = emptied[i : i + GLUE_DELETE_PARTITIONS_LIMIT]
        try:
            response = glue.batch_delete_partition(
                DatabaseName=settings.glue_database,
                TableName=dataset.table,
                PartitionsToDelete=[{"Values": [dt]} for dt in chunk],
            )
        except glue.exceptions.EntityNotFoundException:
            break  # a table never crawled has no partitions to remove
        for error in response.get("Errors", []):
            detail = error.get("ErrorDetail", {})
            if detail.get("ErrorCode") != "EntityNotFoundException":
                raise LakestreamError(
                    f"{dataset.table}: Glue kept partition {error.get('PartitionValues')}: "
                    f"{detail.get('ErrorCode')} ({detail.get('ErrorMessage')})"
                )
    return emptied, sum(kept.values())


def referenced_files(table: Table) -> set[str]:
    """Every file the table's metadata refers to: data files and manifests of every snapshot,
    manifest lists, and the metadata files of its log."""
    io = table.io
    paths = {table.metadata_location}
    paths |= {entry.metadata_file for entry in table.metadata.metadata_log}
    for snapshot in table.metadata.snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            paths.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=False):
                paths.add(entry.data_file.file_path)
    return paths


def remove_orphans(settings: Settings, table: Table, older_than: timedelta) -> int:
    s3 = clients.aws_client(settings, "s3")
    bucket, prefix = layout.split_location(table.location())
    keep = referenced_files(table)
    horizon = datetime.now(UTC) - older_than
    orphans = [
        o["Key"]
        for o in clients.list_objects(s3, bucket, prefix.rstrip("/") + "/")
        if f"s3://{bucket}/{o['Key']}" not in keep and o["LastModified"] < horizon
    ]
    return clients.delete_objects(s3, bucket, orphans)


def maintain_dataset(
    settings: Settings,
    catalog: Catalog,
    dataset: Dataset,
    retention_days: int | None = None,
    snapshot_age: timedelta = timedelta(days=7),
    orphan_age: timedelta = timedelta(days=1),
    target_bytes: int = TARGET_FILE_BYTES,
    today: date | None = None,
) -> MaintainResult:
    name = identifier(settings, dataset)
    result = MaintainResult(dataset.table)
    table = catalog.load_table(name)
    result.files_before = {d: len(s) for d, s in files_per_day(table).items()}
    steps = []
    if retention_days is not None:
        cutoff = (today or datetime.now(UTC).date()) - timedelta(days=retention_days)
        result.retention_cutoff = cutoff.isoformat()
        steps.append(("retention", lambda t: apply_retention(t, dataset, cutoff)))
        result.raw_partitions_deleted, result.raw_objects_kept = purge_raw(
            settings, dataset, cutoff, read_watermark(table)
        )
    steps.append(
        ("compaction", lambda t: result.compacted.extend(compact(t, dataset, target_bytes)))
    )
    for step, run in steps:
        try:
            run(catalog.load_table(name))
        except CommitFailedException:
            result.skipped.append(step)
    table = catalog.load_table(name)
    current = table.current_snapshot()
    expired = [
        s.snapshot_id
        for s in table.metadata.snapshots
        if current is not None
        and s.snapshot_id != current.snapshot_id
        and s.timestamp_ms < (datetime.now(UTC) - snapshot_age).timestamp() * 1000
    ]
    if expired:
        try:
            table.maintenance.expire_snapshots().by_ids(expired).commit()
            result.snapshots_expired = len(expired)
        except CommitFailedException:
            result.skipped.append("snapshot expiry")
    table = catalog.load_table(name)
    result.orphans_removed = remove_orphans(settings, table, orphan_age)
    result.files_after = {d: len(s) for d, s in files_per_day(table).items()}
    return result


def maintain(
    settings: Settings, datasets: list[Dataset] | None = None, **options: object
) -> list[MaintainResult]:
    catalog = iceberg_catalog(settings)
    chosen = datasets if datasets is not None else list(settings.datasets)
    return [maintain_dataset(settings, catalog, ds, **options) for ds in chosen]  # type: ignore[arg-type]
