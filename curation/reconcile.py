"""`lakestream audit`: every offset Kafka has committed is a record or a dead letter, once.

Per dataset and Kafka partition:

- raw: the offsets the sink group committed, against the records its committed batches hold in
  the raw layer and the dead letters it set aside. A batch object is named by its first offset
  (lakestream/core/layout.py), and offsets are committed at batch boundaries, so the objects
  whose first offset is below the committed offset are exactly the committed batches; objects of
  a batch in flight are left out. Counts come from each object's metadata (a HEAD, once per
  object and ETag), not from its contents.
- curated: the offsets curation applied (its watermark, in the table's properties), against the
  rows the table holds and curation's dead letters, for the raw records below that watermark.
  Curated rows per partition come from a scan of the table's two coordinate columns.

`unaccounted` is what should be there and is not (positive: lost) or is there twice (negative:
duplicated); records in objects past the committed offset (other than the batch in flight) are
reported too. It must be 0. Kafka offsets are counted from 0 and taken as contiguous: a topic
whose head expired before the sink ever read it, raw data purged by `make maintain`'s
retention, or gaps in the offsets (transaction markers on a real Kafka) show as unaccounted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow.compute as pc
from pyiceberg.exceptions import NoSuchTableError

from consumers.audit import object_records
from consumers.groups import DEFAULT_GROUP_PREFIX, committed_offsets, group_id
from curation.catalog import iceberg_catalog
from curation.tables import identifier
from curation.watermark import read_watermark
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings


@dataclass(frozen=True)
class PartitionAudit:
    dataset: str
    partition: int
    committed: int  # offsets the sink group committed
    raw_records: int
    raw_dead_letters: int
    raw_beyond: int  # records in objects past the committed offset: no attempt should leave any
    applied: int  # offsets curation applied (its watermark)
    raw_dead_letters_applied: int  # sink dead letters below the watermark: never curated
    curated_rows: int
    curated_dead_letters: int

    @property
    def raw_unaccounted(self) -> int:
        return self.committed - self.raw_records - self.raw_dead_letters

    @property
    def curated_unaccounted(self) -> int:
        # Every applied offset is a curated row, a curation dead letter, or a sink dead letter
        # (never in raw). Curation keeps one row per coordinates, so a raw duplicate is not
        # counted twice here.
        return (
            self.applied
            - self.raw_dead_letters_applied
            - self.curated_rows
            - self.curated_dead_letters
        )

    @property
    def unaccounted(self) -> int:
        """What the audit's total adds up: every discrepancy, whatever its sign."""
        return abs(self.raw_unaccounted) + abs(self.curated_unaccounted) + self.raw_beyond

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "raw_unaccounted": self.raw_unaccounted,
            "curated_unaccounted": self.curated_unaccounted,
        }


def _raw_counts(
    s3: Any, bucket: str, prefix: str, kind: str, below: dict[int, int]
) -> tuple[Counter[int], Counter[int]]:
    """Records per partition in `kind` objects under `prefix`: those whose batch starts below
    the partition's `below` offset, and those whose batch starts past it (the batch starting at
    it is the one in flight)."""
    counts: Counter[int] = Counter()
    beyond: Counter[int] = Counter()
    for obj in clients.list_objects(s3, bucket, prefix):
        key = layout.parse_key(obj["Key"])
        if key is None or key.kind != kind or key.first_offset is None:
            continue
        limit = below.get(key.partition, 0)
        if key.first_offset < limit:
            counts[key.partition] += object_records(s3, bucket, obj)
        elif key.first_offset > limit:
            beyond[key.partition] += object_records(s3, bucket, obj)
    return counts, beyond


def _curated(settings: Settings, dataset: Dataset) -> tuple[dict[int, int], Counter[int]]:
    """The watermark and the rows per partition of the curated table (none if no table)."""
    try:
        table = iceberg_catalog(settings).load_table(identifier(settings, dataset))
    except NoSuchTableError:
        return {}, Counter()
    if table.current_snapshot() is None:
        return read_watermark(table).offsets, Counter()
    parts = table.scan(selected_fields=("kafka_partition",)).to_arrow()["kafka_partition"]
    counted = pc.value_counts(parts).to_pylist()
    return read_watermark(table).offsets, Counter({c["values"]: c["counts"] for c in counted})


def audit_dataset(
    settings: Settings, dataset: Dataset, group_prefix: str = DEFAULT_GROUP_PREFIX
) -> list[PartitionAudit]:
    # Read in this order so that each count covers what the one before it promised: the
    # watermark and the curated rows first, then the committed offsets, then the objects.
    applied, curated_rows = _curated(settings, dataset)
    committed = committed_offsets(settings, group_id(group_prefix, dataset), dataset.topic)
    s3 = clients.aws_client(settings, "s3")
    bucket = settings.bucket(dataset)
    table, dlq = layout.data_prefix(dataset.table), layout.dlq_prefix(dataset.topic)
    curated_dlq = layout.curated_dlq_prefix(dataset.topic)
    raw, raw_beyond = _raw_counts(s3, bucket, table, "data", committed)
    raw_dead, dead_beyond = _raw_counts(s3, bucket, dlq, "dead_letter", committed)
    dead_applied, _ = _raw_counts(s3, bucket, dlq, "dead_letter", applied)
    curated_dead, _ = _raw_counts(s3, bucket, curated_dlq, "curated_dead_letter", applied)
    partitions = sorted({*range(dataset.partitions), *committed, *applied})
    return [
        PartitionAudit(
            dataset.name,
            p,
            committed.get(p, 0),
            raw[p],
            raw_dead[p],
            raw_beyond[p] + dead_beyond[p],
            applied.get(p, 0),
            dead_applied[p],
            curated_rows[p],
            curated_dead[p],
        )
        for p in partitions
    ]


def audit(
    settings: Settings, datasets: list[Dataset], group_prefix: str = DEFAULT_GROUP_PREFIX
) -> list[PartitionAudit]:
    return [a for ds in datasets for a in audit_dataset(settings, ds, group_prefix)]
