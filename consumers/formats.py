"""Object formats: gzip'd JSON lines (default) and Parquet typed from the dataset catalog."""

from __future__ import annotations

import gzip
import io
from typing import Any, Protocol

import orjson

from lakestream.core.datasets import LAKE_METADATA_COLUMNS, Dataset


class Format(Protocol):
    extension: str

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes: ...


class JsonLinesGzip:
    extension = ".jsonl.gz"

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes:
        body = b"\n".join(orjson.dumps(r) for r in records) + b"\n"
        # mtime=0: the same records always give the same bytes (a rewrite is a true overwrite).
        return gzip.compress(body, compresslevel=6, mtime=0)


class Parquet:
    extension = ".parquet"

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = parquet_schema(dataset)
        columns = {}
        for field in schema:
            values = [r.get(field.name) for r in records]
            if pa.types.is_date32(field.type):
                from datetime import date

                values = [date.fromisoformat(v) if v else None for v in values]
            elif pa.types.is_timestamp(field.type):
                from datetime import datetime

                values = [datetime.fromisoformat(v) if v else None for v in values]
            columns[field.name] = pa.array(values, type=field.type)
        table = pa.table(columns, schema=schema)
        out = io.BytesIO()
        pq.write_table(table, out, compression="snappy")
        return out.getvalue()


def parquet_schema(dataset: Dataset) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("ms"),
    }
    fields = [pa.field(c.name, types[c.type], nullable=not c.required) for c in dataset.columns]
    fields += [pa.field(n, types[t], nullable=False) for n, t in LAKE_METADATA_COLUMNS.items()]
    return pa.schema(fields)


FORMATS: dict[str, Format] = {"jsonl": JsonLinesGzip(), "parquet": Parquet()}
