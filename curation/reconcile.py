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
reported too. It must be 0. Kafka offsets are counted from 0. Offsets the broker never delivered
(a gap in its log: transaction markers or compaction on a real Kafka, a head that expired before
the group first read it, batches the embedded broker lost) are not losses of the pipeline: the
sink counts them per batch once the broker has confirmed it serves no record there
(x-amz-meta-skipped-offsets, consumers/gaps.py) and they are reported apart, as `skipped`.
Offsets that expired before the group read them, and raw data purged by `make maintain`'s
retention, show as unaccounted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow.compute as pc
from pyiceberg.exceptions import NoSuchTableError

from consumers.audit import object_counts
from consumers.gaps import GapProbe
from consumers.groups import DEFAULT_GROUP_PREFIX, committed_offsets, group_id
from curation.catalog import iceberg_catalog
from curation.tables import identifier
from curation.watermark import read_watermark
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings

AUDIT_PROBE_BUDGET_S = 30.0  # per batch with gaps its sink left unchecked


@dataclass(frozen=True)
class PartitionAudit:
    dataset: str
    partition: int
    committed: int  # offsets the sink group committed
    raw_records: int
    raw_dead_letters: int
    raw_beyond: int  # records in objects past the committed offset: no attempt should leave any
    skipped: int  # committed offsets the broker delivered no message for
    applied: int  # offsets curation applied (its watermark)
    raw_dead_letters_applied: int  # sink dead letters below the watermark: never curated
    skipped_applied: int  # of those, the ones below the watermark
    curated_rows: int
    curated_dead_letters: int

    @property
    def raw_unaccounted(self) -> int:
        return self.committed - self.raw_records - self.raw_dead_letters - self.skipped

    @property
    def curated_unaccounted(self) -> int:
        # Every applied offset is a curated row, a curation dead letter, or a sink dead letter
        # (never in raw). Curation keeps one row per coordinates, so a raw duplicate is not
        # counted twice here.
        return (
            self.applied
            - self.skipped_applied
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


@dataclass
class _RawCounts:
    """Records per partition in one kind of raw object: those whose batch starts below a
    partition's limit offset, and those whose batch starts past it (the batch starting at it is
    the one in flight); and, per batch (partition, first offset), the offsets it skipped."""

    below: Counter[int] = field(default_factory=Counter)
    beyond: Counter[int] = field(default_factory=Counter)
    skipped: dict[tuple[int, int], int] = field(default_factory=dict)
    unchecked: dict[tuple[int, int], tuple[tuple[int, int], ...]] = field(default_factory=dict)


def _raw_counts(s3: Any, bucket: str, prefix: str, kind: str, limits: dict[int, int]) -> _RawCounts:
    counts = _RawCounts()
    for obj in clients.list_objects(s3, bucket, prefix):
        key = layout.parse_key(obj["Key"])
        if key is None or key.kind != kind or key.first_offset is None:
            continue
        limit = limits.get(key.partition, 0)
        if key.first_offset == limit:
            continue
        found = object_counts(s3, bucket, obj)
        side = counts.below if key.first_offset < limit else counts.beyond
        side[key.partition] += found.records
        if found.skipped:  # every object of a batch says it: count each batch once
            counts.skipped[key.partition, key.first_offset] = found.skipped
        if found.unchecked:
            counts.unchecked[key.partition, key.first_offset] = found.unchecked
    return counts


def _skipped_below(skipped: dict[tuple[int, int], int], limits: dict[int, int]) -> Counter[int]:
    """Per partition, the skipped offsets of the batches that start below its limit."""
    below: Counter[int] = Counter()
    for (partition, first), n in skipped.items():
        if first < limits.get(partition, 0):
            below[partition] += n
    return below


def _check_now(
    settings: Settings,
    dataset: Dataset,
    unchecked: dict[tuple[int, int], tuple[tuple[int, int], ...]],
    committed: dict[int, int],
) -> dict[tuple[int, int], int]:
    """The gaps of committed batches that their sink could not check in time, asked of the
    broker now: per batch, the offsets it confirms it does not serve."""
    wanted = {b: g for b, g in unchecked.items() if b[1] < committed.get(b[0], 0)}
    if not wanted:
        return {}
    probe = GapProbe(settings, dataset.topic)
    try:
        return {
            batch: probe.count({batch[0]: list(ranges)}, AUDIT_PROBE_BUDGET_S)[batch[0]].confirmed
            for batch, ranges in wanted.items()
        }
    finally:
        probe.close()


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
    raw = _raw_counts(s3, bucket, table, "data", committed)
    raw_dead = _raw_counts(s3, bucket, dlq, "dead_letter", committed)
    dead_applied = _raw_counts(s3, bucket, dlq, "dead_letter", applied).below
    curated_dead = _raw_counts(s3, bucket, curated_dlq, "curated_dead_letter", applied).below
    gaps = {**raw.skipped, **raw_dead.skipped}
    unchecked = {**raw.unchecked, **raw_dead.unchecked}
    for batch, n in _check_now(settings, dataset, unchecked, committed).items():
        gaps[batch] = gaps.get(batch, 0) + n
    skipped, skipped_applied = _skipped_below(gaps, committed), _skipped_below(gaps, applied)
    partitions = sorted({*range(dataset.partitions), *committed, *applied})
    return [
        PartitionAudit(
            dataset=dataset.name,
            partition=p,
            committed=committed.get(p, 0),
            raw_records=raw.below[p],
            raw_dead_letters=raw_dead.below[p],
            raw_beyond=raw.beyond[p] + raw_dead.beyond[p],
            skipped=skipped[p],
            applied=applied.get(p, 0),
            raw_dead_letters_applied=dead_applied[p],
            skipped_applied=skipped_applied[p],
            curated_rows=curated_rows[p],
            curated_dead_letters=curated_dead[p],
        )
        for p in partitions
    ]


def audit(
    settings: Settings, datasets: list[Dataset], group_prefix: str = DEFAULT_GROUP_PREFIX
) -> list[PartitionAudit]:
    return [a for ds in datasets for a in audit_dataset(settings, ds, group_prefix)]
