"""Storage formats of the raw lake, each one object: how records are encoded and decoded, how the
Glue catalog describes the table (SerDe, input/output formats, classification), and how DuckDB
reads the objects. The sink, the audit, the local crawler and the local engine all use these
instead of branching on a file extension.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Any, ClassVar, Protocol

import orjson

from lakestream.core.datasets import LAKE_METADATA_COLUMNS, Dataset
from lakestream.core.types import TYPES


class ObjectBuilder(Protocol):
    """One object being built from JSON lines as they arrive; `finish` gives its bytes."""

    def add(self, lines: bytes) -> None: ...

    def finish(self) -> bytes: ...


class Format(Protocol):
    name: str  # jsonl | parquet: the sink's --format
    classification: str  # the Glue table's classification: json | parquet
    extension: str
    compression: str  # the Glue table's compressionType
    storage: dict[str, Any]  # the Glue StorageDescriptor's formats and SerDe

    def encode(self, records: list[dict[str, Any]], dataset: Dataset) -> bytes: ...

    def builder(self, dataset: Dataset, level: int) -> ObjectBuilder: ...

    def decode(self, body: bytes) -> list[dict[str, Any]]: ...

    def duckdb_source(self, files: str, options: str, columns: str) -> str: ...


# The sink's gzip level. Level 1 compresses ~2x faster than 6 for ~20% larger raw objects; the
# raw layer is read once by curation, which rewrites it as Parquet (`make bench` weighs both).
DEFAULT_GZIP_LEVEL = 1


class _GzipLines:
    """Compresses as lines arrive, so an open object costs its compressed size in memory."""

    def __init__(self, level: int) -> None:
        self._zip = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip stream (mtime 0)
        self._parts: list[bytes] = []
        self._body: bytes | None = None

    def add(self, lines: bytes) -> None:
        self._parts.append(self._zip.compress(lines))

    def finish(self) -> bytes:
        if self._body is None:
            self._body = b"".join([*self._parts, self._zip.flush()])
            self._parts = []
        return self._body


def _built(builder: ObjectBuilder, records: list[dict[str, Any]]) -> bytes:
    """One object of these records, as JSON lines through `builder`."""
    builder.add(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return builder.finish()


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
        # Level 6: dead letters and tests, small and rare. The stream's gzip header has mtime 0,
        # so the same records always give the same bytes (a rewrite is a true overwrite).
        return _built(_GzipLines(6), records)

    def builder(self, dataset: Dataset, level: int = DEFAULT_GZIP_LEVEL) -> ObjectBuilder:
        return _GzipLines(level)

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
        return _built(self.builder(dataset), records)

    def builder(self, dataset: Dataset, level: int = 0) -> ObjectBuilder:
        return _ParquetLines(dataset)

    def decode(self, body: bytes) -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(body)).to_pylist()

    def duckdb_source(self, files: str, options: str, columns: str) -> str:
        return f"read_parquet({files}, {options}, union_by_name = true)"


class _ParquetLines:
    """Keeps the lines (about the size of the messages) and types them all at once at the end:
    Arrow's JSON reader, then one Parquet write."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._parts: list[bytes] = []
        self._body: bytes | None = None

    def add(self, lines: bytes) -> None:
        self._parts.append(lines)

    def finish(self) -> bytes:
        if self._body is None:
            import pyarrow.parquet as pq

            table = json_lines_table(b"".join(self._parts), parquet_schema(self.dataset))
            out = io.BytesIO()
            pq.write_table(table, out, compression="snappy")
            self._body, self._parts = out.getvalue(), []
        return self._body


def json_lines_table(lines: bytes, schema: Any) -> Any:
    """JSON lines read straight into `schema` by Arrow; fields beyond it are ignored. Raises
    ValueError (pa.ArrowInvalid) if a line does not fit, a required field included."""
    import pyarrow as pa
    import pyarrow.json as pj

    # Arrow's JSON reader takes dates only as numbers (days): read as text, cast after.
    readable = pa.schema(
        [f.with_type(pa.string()) if pa.types.is_date(f.type) else f for f in schema]
    )
    options = pj.ParseOptions(explicit_schema=readable, unexpected_field_behavior="ignore")
    read = pj.ReadOptions(block_size=len(lines) + 1)  # one block: no line straddles two
    return pj.read_json(pa.BufferReader(lines), read_options=read, parse_options=options).cast(
        schema
    )


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
