"""One curation pass: the raw objects the sink has committed, past the curated table's watermark,
validated and cast, deduplicated by Kafka coordinates, appended in one commit per table.

Every Kafka record appears exactly once in the curated table, whatever happens:

- the pass is killed before its commit: the table is unchanged, the next pass starts from the
  same watermark (its data files, never referenced, are orphans that `make maintain` removes);
- two passes run at once: both work from the same watermark, one commit wins, the other is
  refused (the table's commit retries are off) and re-reads the new watermark, so it finds
  nothing left to apply;
- the sink rewrites raw objects after a restart: only objects below its committed offsets are
  read, and those are final; a batch re-read with different boundaries leaves objects whose
  records the watermark already covers, and duplicates within a pass are dropped by coordinates;
- nothing new: no snapshot is made.

Records that cannot be cast go to `_dlq/curated/<topic>/dt=<day>/`, one object per raw object
and named after it (`lakestream.core.layout.curated_dlq_key`), with their reason. If the sink's
committed offsets are below the watermark (a topic deleted and recreated, a group reset), the
pass stops and says so, rather than skip or overwrite.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException

from consumers.groups import DEFAULT_GROUP_PREFIX, committed_offsets, group_id
from consumers.storage import S3Storage
from curation.catalog import iceberg_catalog
from curation.maintain import backfill_day
from curation.sources import (
    OffsetRange,
    decoded_records,
    pending_objects,
    typed_records,
    typed_table,
)
from curation.tables import (
    DAY_BACKFILL_PROPERTY,
    drop_table,
    ensure_table,
    identifier,
    record_columns,
    record_schema,
    with_day,
)
from curation.watermark import (
    DEAD_LETTERS_PROPERTY,
    WATERMARK_PROPERTY,
    Watermark,
    read_watermark,
)
from lakestream.core import clients
from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.formats import JsonLinesGzip
from lakestream.core.layout import RECORD_COUNT, LakeKey, curated_dlq_key
from lakestream.core.settings import Settings

log = logging.getLogger("curation")

COMMIT_ATTEMPTS = 5
FETCH_THREADS = 4


class CurationError(LakestreamError):
    """A pass that must not go on; the message says why and what to do."""


@dataclass
class CurateResult:
    dataset: str
    table: str
    state: str = "unchanged"  # appended | unchanged | dead-letters-only
    records: int = 0
    dead_letters: int = 0
    duplicates_dropped: int = 0
    objects: int = 0
    watermark: dict[int, int] = field(default_factory=dict)
    committed: dict[int, int] = field(default_factory=dict)
    snapshot_id: int | None = None
    attempts: int = 0
    seconds: float = 0.0

    @property
    def lag(self) -> int:
        """Offsets the sink has committed that the table does not cover yet."""
        return Watermark(offsets=self.watermark).lag(self.committed)


def check_not_backwards(dataset: Dataset, mark: Watermark, committed: dict[int, int]) -> None:
    if mark.topic not in (None, dataset.topic):
        raise CurationError(
            f"{dataset.table}: the curated table was built from topic {mark.topic!r}, the catalog "
            f"now says {dataset.topic!r}. Nothing was written. Rebuild it from the raw data: "
            f"python -m curation --rebuild --datasets {dataset.name}"
        )
    for partition, applied in sorted(mark.offsets.items()):
        now = committed.get(partition, 0)
        if now < applied:
            raise CurationError(
                f"{dataset.topic} partition {partition}: the sink's committed offset is {now}, "
                f"below the {applied} the curated table {dataset.table} already applied. Offsets "
                "went backwards: was the topic deleted and recreated, or the sink's consumer "
                "group reset? Nothing was written. To rebuild the table from the raw data: "
                f"python -m curation --rebuild --datasets {dataset.name}"
            )


def _dedupe(table: pa.Table) -> tuple[pa.Table, int]:
    """Keep the first row of each (kafka_partition, kafka_offset)."""
    if table.num_rows == 0:
        return table, 0
    keys = (table["kafka_partition"].to_numpy().astype(np.int64) << 40) | table[
        "kafka_offset"
    ].to_numpy().astype(np.int64)
    _, first = np.unique(keys, return_index=True)
    if len(first) == table.num_rows:
        return table, 0
    return table.take(np.sort(first)), table.num_rows - len(first)


def _within(table: pa.Table, pending: OffsetRange) -> tuple[pa.Table, int]:
    """The rows whose coordinates are in `pending`, and how many were not.

    Objects are picked by their first offset, but one left by an attempt that failed after
    writing (its batch re-read and cut differently) can hold offsets already applied, or not
    committed yet, which a later object will bring again: either would be a duplicate."""
    if table.num_rows == 0:
        return table, 0
    keep = pending.mask(
        table["kafka_partition"].to_numpy().astype(np.int64),
        table["kafka_offset"].to_numpy().astype(np.int64),
    )
    if keep.all():
        return table, 0
    return table.filter(pa.array(keep)), int((~keep).sum())


def _dead_within(rows: list[dict[str, Any]], pending: OffsetRange) -> list[dict[str, Any]]:
    """Curation's dead letters in the same offset range (unknown coordinates are kept)."""

    def inside(row: dict[str, Any]) -> bool:
        partition, offset = row.get("kafka_partition"), row.get("kafka_offset")
        if not isinstance(partition, int) or not isinstance(offset, int):
            return True
        return (partition, offset) in pending

    return [row for row in rows if inside(row)]


class Pass:
    """One dataset's pass; `run` retries from scratch when another writer commits first."""

    def __init__(self, settings: Settings, catalog: Catalog, dataset: Dataset, group: str):
        self.settings = settings
        self.catalog = catalog
        self.dataset = dataset
        self.group = group
        self.bucket = settings.bucket(dataset)
        self.storage = S3Storage(settings)
        self.s3 = clients.aws_client(settings, "s3")
        self.schema = record_schema(dataset)  # what a raw record holds; the day is derived
        self.types = {name: type_ for name, type_, _ in record_columns(dataset)}

    def run(self, before_commit: Callable[[], None] | None = None) -> CurateResult:
        started = time.monotonic()
        result = CurateResult(self.dataset.name, self.dataset.table)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            result.attempts = attempt
            table = ensure_table(self.catalog, self.settings, self.dataset)
            mark = read_watermark(table)  # decided again on every attempt
            committed = committed_offsets(self.settings, self.group, self.dataset.topic)
            check_not_backwards(self.dataset, mark, committed)
            result.watermark, result.committed = dict(mark.offsets), committed
            pending = OffsetRange(mark.offsets, committed)
            objects = pending_objects(self.s3, self.bucket, self.dataset, pending)
            if not objects:
                break
            data, dead, dropped = self._read(objects)
            data, outside = _within(data, pending)
            dead = {obj: _dead_within(rows, pending) for obj, rows in dead.items()}
            dead = {obj: rows for obj, rows in dead.items() if rows}
            result.objects, result.duplicates_dropped = len(objects), dropped + outside
            self._write_dead_letters(dead)
            result.dead_letters = sum(len(v) for v in dead.values())
            applied = {**mark.offsets, **committed}
            new_mark = Watermark(self.dataset.topic, applied)
            if data.num_rows == 0 and not result.dead_letters:
                break  # nothing new (duplicates of applied records): no commit at all
            dead_total = int(table.properties.get(DEAD_LETTERS_PROPERTY, "0"))
            marks = {
                WATERMARK_PROPERTY: new_mark.to_property(),
                DEAD_LETTERS_PROPERTY: str(dead_total + result.dead_letters),
            }
            if before_commit:
                before_commit()
            try:
                with table.transaction() as tx:  # data and watermark in one commit
                    if data.num_rows:
                        tx.append(with_day(data, self.dataset), snapshot_properties=marks)
                    # Only dead letters: the watermark moves past them without an empty
                    # snapshot, so the next pass does not read them again.
                    tx.set_properties(marks)
            except CommitFailedException:
                continue  # another pass committed first: start over from its watermark
            result.state = "appended" if data.num_rows else "dead-letters-only"
            result.records, result.watermark = data.num_rows, applied
            break
        else:
            raise CurationError(
                f"{self.dataset.table}: {COMMIT_ATTEMPTS} commits in a row lost to other writers"
            )
        self._backfill_day(table.name())
        snapshot = self.catalog.load_table(table.name()).current_snapshot()
        result.snapshot_id = snapshot.snapshot_id if snapshot else None
        result.seconds = time.monotonic() - started
        return result

    def _backfill_day(self, name: tuple[str, ...]) -> None:
        """After the pass's own commit: the day column of the rows written before it existed
        (`backfill_day`), one compaction batch (up to 512 MiB of input) per pass, so a long
        history does not hold the next pass up for long. Whatever is left, or a failure, leaves
        the table's mark for the next pass: the pass itself has committed and stands."""
        table = self.catalog.load_table(name)
        if DAY_BACKFILL_PROPERTY not in table.properties:
            return
        try:
            backfill_day(table, self.dataset, max_batches=1)
        except CommitFailedException:
            log.warning("%s: the day column's backfill lost a race; the next pass resumes it",
                        self.dataset.table)  # fmt: skip
        except Exception:  # never the pass's failure: its own commit is done
            log.exception("%s: the day column's backfill failed; the next pass tries again",
                          self.dataset.table)  # fmt: skip

    def _read(
        self, objects: list[LakeKey]
    ) -> tuple[pa.Table, dict[LakeKey, list[dict[str, Any]]], int]:
        parts: list[pa.Table] = []
        dead: dict[LakeKey, list[dict[str, Any]]] = {}
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            # Fetch ahead while this thread parses: each raw object is a GET round trip of a few
            # ms. map keeps the order, so the data stays in offset order.
            for obj, body in zip(objects, pool.map(self._fetch, objects), strict=True):
                good, bad = self._parse(obj, body)
                parts.append(good)
                if bad:
                    dead[obj] = bad
        data = pa.concat_tables(parts) if parts else self.schema.empty_table()
        data, dropped = _dedupe(data)
        return data, dead, dropped

    def _fetch(self, obj: LakeKey) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=obj.key)["Body"].read()

    def _parse(self, obj: LakeKey, body: bytes) -> tuple[pa.Table, list[dict[str, Any]]]:
        """The object's records that fit, and dead letters for those that do not."""
        try:
            return typed_table(body, obj.key, self.schema), []
        except (ValueError, TypeError, KeyError):  # pa.ArrowInvalid is a ValueError
            # Something in this object does not fit: find it record by record.
            records, refused = decoded_records(body, obj.key)
            good, bad = typed_records(records, self.schema, self.types)
            return good, [self._dead_letter(record, reason) for record, reason in refused + bad]

    def _dead_letter(self, record: dict[str, Any], reason: str) -> dict[str, Any]:
        return {
            "reason": f"curation: {reason}",
            "kafka_topic": record.get("kafka_topic"),
            "kafka_partition": record.get("kafka_partition"),
            "kafka_offset": record.get("kafka_offset"),
            "record": record,
        }

    def _write_dead_letters(self, dead: dict[LakeKey, list[dict[str, Any]]]) -> None:
        encoder = JsonLinesGzip()
        for obj, records in dead.items():
            # Named after the raw object (its dt and batch): a pass run again overwrites it.
            key = curated_dlq_key(obj.topic, obj.dt, obj.partition, obj.first_offset)
            self.storage.put(
                self.bucket,
                key,
                encoder.encode(records),
                "application/gzip",
                {RECORD_COUNT: str(len(records))},
            )


@dataclass(frozen=True)
class CuratedCount:
    rows: int
    distinct: int  # distinct (kafka_partition, kafka_offset)

    @property
    def duplicates(self) -> int:
        return self.rows - self.distinct


def count_curated(settings: Settings, dataset: Dataset) -> CuratedCount:
    """Rows and distinct Kafka coordinates in a curated table (reads only those two columns)."""
    table = iceberg_catalog(settings).load_table(identifier(settings, dataset))
    coords = table.scan(selected_fields=("kafka_partition", "kafka_offset")).to_arrow()
    _, dropped = _dedupe(coords)
    return CuratedCount(coords.num_rows, coords.num_rows - dropped)


def curate(
    settings: Settings,
    datasets: list[Dataset] | None = None,
    group_prefix: str = DEFAULT_GROUP_PREFIX,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[CurateResult]:
    """One pass over `datasets` (all by default); `rebuild` recreates each table from raw."""
    catalog = iceberg_catalog(settings)
    results = []
    for ds in datasets if datasets is not None else list(settings.datasets):
        if rebuild and drop_table(catalog, settings, ds):
            progress(f"{ds.table}: dropped, rebuilding from the raw data")
        result = Pass(settings, catalog, ds, group_id(group_prefix, ds)).run()
        progress(
            f"{ds.table}: {result.records:,} records appended, {result.dead_letters} dead "
            f"letters, from {result.objects} raw objects"
        )
        results.append(result)
    return results
