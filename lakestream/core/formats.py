"""Storage formats of the raw lake, each one object: how records are encoded and decoded, how the
Glue catalog describes the table (SerDe, input/output formats, classification), and how DuckDB
reads the objects. The sink, the audit, the local crawler and the local engine all use these
instead of branching on a file extension.
"""

from __future__ import annotations

import gzip
import io
from typing import Any, ClassVar, Protocol

import orjson

from lakestream.core.datasets import LAKE_METADATA_COLUMNS, Dataset
from lakestream.core.types import TYPES


class Format(Protocol):
    name: str  # jsonl | parquet: the sink's --format
    classification: str  # the Glue table's classification: json | parquet
    extension: str
    compression: str  # the Glue table's compressionType
    storage: dict[str, Any]  # the Glue StorageDescriptor's formats and SerDe

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes: ...

    def decode(self, body: bytes) -> list[dict[str, Any]]: ...

    def duckdb_source(self, files: str, options: str, columns: str) -> str: ...


class JsonLinesGzip:
    name = "jsonl"
    classification = "json"
    extension = ".jsonl.gz"
    compression = "gzip"
    storage: ClassVar[dict[str, Any]] = {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    }

    def encode(self, records: list[dict[str, Any]], dataset: Dataset | None = None) -> bytes:
        body = b"\n".join(orjson.dumps(r) for r in records) + b"\n"
        # mtime=0: the same records always give the same bytes (a rewrite is a true overwrite).
        return gzip.compress(body, compresslevel=6, mtime=0)

    def text(self, body: bytes) -> bytes:
        """The JSON lines themselves (gzip'd or not)."""
        return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body

    def decode(self, body: bytes) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.text(body).splitlines() if line.strip()]

    def duckdb_source(self, files: str, options: str, columns: str) -> str:
        """`columns` is a DuckDB struct literal {'key': 'TYPE', ...} of the JSON keys to read."""
        return f"read_json({files}, format = 'newline_delimited', {options}, columns = {columns})"


class Parquet:
    name = "parquet"
    classification = "parquet"
    extension = ".parquet"
    compression = "none"
    storage: ClassVar[dict[str, Any]] = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        },
    }

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = parquet_schema(dataset)
        kinds = {c.name: TYPES[c.type] for c in dataset.columns}
        kinds.update({n: TYPES[t] for n, t in LAKE_METADATA_COLUMNS.items()})
        columns = {}
        for field in schema:
            convert = kinds[field.name].to_arrow
            values = [r.get(field.name) for r in records]
            columns[field.name] = pa.array(
                [None if v is None else convert(v) for v in values], type=field.type
            )
        out = io.BytesIO()
        pq.write_table(pa.table(columns, schema=schema), out, compression="snappy")
        return out.getvalue()

    def decode(self, body: bytes) -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(body)).to_pylist()

    def duckdb_source(self, files: str, options: str, columns: str) -> str:
        return f"read_parquet({files}, {options}, union_by_name = true)"


def parquet_schema(dataset: Dataset) -> Any:
    import pyarrow as pa

    fields = [
        pa.field(c.name, TYPES[c.type].arrow_type(), nullable=not c.required)
        for c in dataset.columns
    ]
    fields += [
        pa.field(n, TYPES[t].arrow_type(), nullable=False) for n, t in LAKE_METADATA_COLUMNS.items()
    ]
    return pa.schema(fields)


FORMATS: dict[str, Format] = {"jsonl": JsonLinesGzip(), "parquet": Parquet()}
BY_CLASSIFICATION: dict[str, Format] = {f.classification: f for f in FORMATS.values()}


def format_of_key(key: str) -> Format:
    """The format of a lake object, from its name."""
    return FORMATS["parquet"] if key.endswith(".parquet") else FORMATS["jsonl"]
