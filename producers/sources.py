"""Where messages come from: the simulator's stream, or seed files on disk.

A source is an iterator of chunks, each a list of (key, value) byte pairs. Files in the
original design's formats are read: CSV with a header (values typed from the catalog), a JSON
array of objects, or JSON lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.types import TYPES
from simulator.simulation import Simulator

Chunk = list[tuple[bytes, bytes]]

FILE_CHUNK = 2_000


class SourceError(LakestreamError):
    """Input that cannot be sent; the message names the file and the line."""


def simulator_source(
    sim: Simulator, dataset: Dataset, limit: int | None, batch_size: int = 2_000
) -> Iterator[Chunk]:
    for batch in sim.stream(dataset.name, batch_size=batch_size, limit=limit):
        yield list(zip(batch.keys, batch.values, strict=True))


def _key(record: dict[str, Any], dataset: Dataset, where: str) -> bytes:
    key = record.get(dataset.key_field) if isinstance(record, dict) else None
    if key is None or key == "":
        raise SourceError(f"{where}: the key field {dataset.key_field!r} is missing")
    return str(key).encode()


def _typed(value: str, type_name: str) -> Any:
    return None if value == "" else TYPES[type_name].parse_csv(value)


def _csv_records(path: Path, dataset: Dataset) -> Iterator[tuple[str, dict[str, Any]]]:
    types = {c.name: c.type for c in dataset.columns}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise SourceError(f"{path}: empty file, expected a header line")
        missing = [c.name for c in dataset.columns if c.required and c.name not in header]
        if missing:
            raise SourceError(f"{path}: the header lacks the columns {missing}")
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if not row:
                continue
            if len(row) != len(header):
                raise SourceError(f"{where}: {len(row)} fields, the header has {len(header)}")
            record = {}
            for name, raw in zip(header, row, strict=True):
                try:
                    record[name] = _typed(raw, types.get(name, "string"))
                except ValueError:
                    raise SourceError(f"{where}: {name} = {raw!r} is not a {types[name]}") from None
            yield where, record


def _json_records(path: Path) -> Iterator[tuple[str, Any]]:
    data = path.read_bytes()
    if data.lstrip()[:1] == b"[":
        try:
            records = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"{path}: not valid JSON ({exc})") from None
        for i, record in enumerate(records):
            yield f"{path}, record {i + 1}", record
        return
    for line_no, line in enumerate(data.splitlines(), start=1):  # JSON lines
        if not line.strip():
            continue
        try:
            yield f"{path}, line {line_no}", orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"{path}, line {line_no}: not valid JSON ({exc})") from None


def file_source(path: Path, dataset: Dataset, limit: int | None = None) -> Iterator[Chunk]:
    """Chunks of messages read from a seed file; the first bad row stops it with a SourceError."""
    try:
        records = (
            _csv_records(path, dataset) if path.suffix.lower() == ".csv" else _json_records(path)
        )
        chunk: Chunk = []
        for sent, (where, record) in enumerate(records):
            if limit is not None and sent >= limit:
                break
            if not isinstance(record, dict):
                raise SourceError(f"{where}: not a JSON object")
            chunk.append((_key(record, dataset, where), orjson.dumps(record)))
            if len(chunk) >= FILE_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{path}: unreadable ({exc})") from None


def prepared_source(chunks: list[Chunk]) -> Iterator[Chunk]:
    """Pre-built chunks, for the benchmark's raw ceiling (no generation on the hot path)."""
    yield from chunks
