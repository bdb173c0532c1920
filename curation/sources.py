"""Which raw objects a pass applies, and their records as a typed Arrow table.

A raw object is named after its batch's Kafka coordinates by the sink (`lakestream.core.layout`
builds and parses the names) and holds part of one batch. The sink commits a batch's offsets
only after all its objects are written, and re-reads start at the committed offset, so an object
whose first offset is below the sink's committed offset is final; one at or past it may still be
rewritten, and is left for a later pass.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.formats import JsonLinesGzip, format_of_key, json_lines_table
from lakestream.core.layout import LakeKey
from lakestream.core.types import TYPES


def pending_objects(
    s3: Any, bucket: str, dataset: Dataset, applied: dict[int, int], committed: dict[int, int]
) -> list[LakeKey]:
    """The dataset's data objects with applied[p] <= first offset < committed[p], in offset
    order."""
    found = []
    for obj in clients.list_objects(s3, bucket, layout.data_prefix(dataset.table)):
        raw = layout.parse_key(obj["Key"])
        if raw is None or raw.kind != "data" or raw.topic != dataset.topic:
            continue
        if applied.get(raw.partition, 0) <= raw.first_offset < committed.get(raw.partition, 0):
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


def typed_records(
    records: list[dict[str, Any]], schema: pa.Schema, types: dict[str, str]
) -> tuple[pa.Table, list[tuple[dict[str, Any], str]]]:
    """Record by record: (the ones that fit, as a table; (record, reason) for the others)."""
    good: list[dict[str, Any]] = []
    bad: list[tuple[dict[str, Any], str]] = []
    for record in records:
        try:
            row = {}
            for field in schema:
                value = record.get(field.name)
                if value is None:
                    if not field.nullable:
                        raise ValueError(f"{field.name}: required field is missing or null")
                    row[field.name] = None
                    continue
                kind = TYPES[types[field.name]]
                if not kind.check(value):
                    raise ValueError(f"{field.name}: expected {kind.name}, got {value!r}"[:200])
                row[field.name] = kind.to_arrow(value)
            good.append(row)
        except (ValueError, TypeError) as exc:
            bad.append((record, str(exc)))
    return pa.Table.from_pylist(good, schema=schema), bad
