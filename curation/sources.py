"""Which raw objects a pass applies, and their records as a typed Arrow table.

A raw object is named after its batch's Kafka coordinates by the sink (`lakestream.core.layout`
builds and parses the names) and holds part of one batch. The sink commits a batch's offsets
only after all its objects are written, and re-reads start at the committed offset, so an object
whose first offset is below the sink's committed offset is final; one at or past it may still be
rewritten, and is left for a later pass.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.formats import JsonLinesGzip, format_of_key, json_lines_table
from lakestream.core.layout import LakeKey
from lakestream.core.records import RecordError, check_unique_keys, value_problem
from lakestream.core.types import TYPES

Refused = tuple[dict[str, Any], str]  # a record set aside, and why


@dataclass(frozen=True)
class OffsetRange:
    """Per Kafka partition, the offsets a pass applies: applied[p] <= offset < committed[p]
    (what the table covers, up to what the sink has made final)."""

    applied: dict[int, int]
    committed: dict[int, int]

    def __contains__(self, coordinates: tuple[int, int]) -> bool:
        partition, offset = coordinates
        return self.applied.get(partition, 0) <= offset < self.committed.get(partition, 0)

    def mask(self, partitions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Which rows (parallel arrays of partition and offset) are in the range."""
        keep = np.zeros(len(offsets), dtype=bool)
        for partition in np.unique(partitions):  # a handful: one vectorised test each
            rows = partitions == partition
            low, high = self.applied.get(int(partition), 0), self.committed.get(int(partition), 0)
            keep |= rows & (offsets >= low) & (offsets < high)
        return keep


def pending_objects(s3: Any, bucket: str, dataset: Dataset, pending: OffsetRange) -> list[LakeKey]:
    """The dataset's data objects whose first offset is in `pending`, in offset order."""
    found = []
    for obj in clients.list_objects(s3, bucket, layout.data_prefix(dataset.table)):
        raw = layout.parse_key(obj["Key"])
        if raw is None or raw.kind != "data" or raw.topic != dataset.topic:
            continue
        if (raw.partition, raw.first_offset) in pending:
            found.append(raw)
    return sorted(found, key=lambda o: (o.partition, o.first_offset, o.key))


def typed_table(body: bytes, key: str, schema: pa.Schema) -> pa.Table:
    """The object's records, cast to the curated schema in one vectorised step.

    Raises ValueError (pa.ArrowInvalid is one), TypeError or KeyError if any record does not
    fit: the caller then goes record by record to find and set aside the ones that do not."""
    fmt = format_of_key(key)
    if fmt.classification == "parquet":
        table = pq.read_table(io.BytesIO(body))
        return table.select(schema.names).cast(schema)  # a null in a required field fails too
    # The JSON reader itself refuses a required field that is absent or null.
    return json_lines_table(JsonLinesGzip().text(body), schema)


def decoded_records(body: bytes, key: str) -> tuple[list[dict[str, Any]], list[Refused]]:
    """The object's records one by one, and those refused as they are decoded: a line that
    repeats a key (stored before the sink refused them) is set aside, not guessed at."""
    fmt = format_of_key(key)
    if fmt.classification == "parquet":
        return fmt.decode(body), []  # a Parquet row cannot repeat a column
    records: list[dict[str, Any]] = []
    refused: list[Refused] = []
    for line in JsonLinesGzip().text(body).splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            refused.append(({"line": line[:1000].decode("utf-8", "replace")}, f"{exc}"))
            continue
        try:
            check_unique_keys(line, record)
        except RecordError as exc:
            refused.append((record, str(exc)))
            continue
        records.append(record)
    return records, refused


def _arrow_table(rows: list[dict[str, Any]], schema: pa.Schema) -> tuple[pa.Table, list[Refused]]:
    """The rows as a table; if Arrow refuses the lot, each row alone, so one that still does not
    fit (a rule the type table missed) is set aside with Arrow's reason instead of halting."""
    try:
        return pa.Table.from_pylist(rows, schema=schema), []
    except (pa.ArrowException, OverflowError, ValueError, TypeError):
        pass
    kept: list[pa.Table] = []
    refused: list[Refused] = []
    for row in rows:
        try:
            kept.append(pa.Table.from_pylist([row], schema=schema))
        except (pa.ArrowException, OverflowError, ValueError, TypeError) as exc:
            refused.append((row, f"does not fit the curated schema: {exc}"[:300]))
    return (pa.concat_tables(kept) if kept else schema.empty_table()), refused


def typed_records(
    records: list[dict[str, Any]], schema: pa.Schema, types: dict[str, str]
) -> tuple[pa.Table, list[Refused]]:
    """Record by record: (the ones that fit, as a table; (record, reason) for the others)."""
    good: list[dict[str, Any]] = []
    bad: list[Refused] = []
    for record in records:
        row = {}
        problems = []
        for field in schema:
            value = record.get(field.name)
            type_ = types[field.name]
            if problem := value_problem(field.name, type_, value, not field.nullable):
                problems.append(problem)
                continue
            try:
                row[field.name] = None if value is None else TYPES[type_].to_arrow(value)
            except (ValueError, TypeError, OverflowError) as exc:
                problems.append(f"{field.name}: {exc}"[:200])
        if problems:
            bad.append((record, "; ".join(problems)))
        else:
            good.append(row)
    table, unfit = _arrow_table(good, schema)
    return table, bad + unfit
