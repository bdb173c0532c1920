"""The local crawler: what a Glue crawler does for our layout, through the Glue API.

For each dataset it lists `s3://<bucket>/<table>/`, groups the batch objects by `dt` partition
(`lakestream.core.layout` parses their keys; anything else there is skipped), samples objects
(JSON lines or Parquet) to infer the schema, merges it with the table's current columns (never
dropping one), and creates or updates the table and its partitions. Column names are lowercased
as the catalog stores them; JSON keys that differ from their column name are mapped through the
OpenX JSON SerDe's `mapping.<column>` properties, which Athena honours too.

On AWS (`LAKESTREAM_TARGET=aws`) the real crawlers run instead (`run_aws_crawlers`).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from consumers.partitions import create_partitions, partition_days
from glue import schema as sch
from lakestream.core import clients, layout
from lakestream.core.datasets import PARTITION_KEY, Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.formats import BY_CLASSIFICATION, format_of_key
from lakestream.core.settings import Settings

log = logging.getLogger("glue")

SAMPLE_OBJECTS_PER_PARTITION = 3
SAMPLE_ROWS_PER_OBJECT = 2_000


class CrawlError(LakestreamError):
    pass


@dataclass
class CrawlResult:
    table: str
    state: str  # created | updated | unchanged | empty
    columns: list[tuple[str, str]] = field(default_factory=list)
    partitions: int = 0
    new_partitions: int = 0
    new_columns: list[str] = field(default_factory=list)
    objects: int = 0


def _sample(s3: Any, bucket: str, key: str) -> tuple[sch.Schema, dict[str, str]]:
    """(schema, {column: original key}) of one object."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    names: dict[str, str] = {}
    fmt = format_of_key(key)
    if fmt.classification == "parquet":
        # The file's own schema types the columns better than values can.
        arrow = pq.read_schema(io.BytesIO(body))
        for f in arrow:
            names.setdefault(f.name.lower(), f.name)
        return {f.name.lower(): sch.from_arrow(f.type) for f in arrow}, names
    schema: sch.Schema = {}
    for record in fmt.decode(body)[:SAMPLE_ROWS_PER_OBJECT]:
        for k in record:
            names.setdefault(k.lower(), k)
        schema = sch.merge_schemas(schema, sch.infer_record(record))
    return schema, names


def _table_input(
    dataset: Dataset,
    location: str,
    fmt: str | None,
    columns: list[tuple[str, str]],
    serde_params: dict[str, str],
) -> dict[str, Any]:
    """The Glue TableInput of a raw table: its columns, `dt` partitions and storage format."""
    spec = BY_CLASSIFICATION[fmt or "json"]
    return {
        "Name": dataset.table,
        "Description": dataset.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": spec.classification,
            "compressionType": spec.compression,
            "typeOfData": "file",
            "lakestream.source_topic": dataset.topic,
        },
        "PartitionKeys": [{"Name": PARTITION_KEY, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": location,
            "InputFormat": spec.storage["InputFormat"],
            "OutputFormat": spec.storage["OutputFormat"],
            "Compressed": spec.compression != "none",
            "SerdeInfo": {**spec.storage["SerdeInfo"], "Parameters": serde_params},
        },
    }


class LocalCrawler:
    def __init__(self, settings: Settings, progress: Callable[[str], None] | None = None):
        self.settings = settings
        self.s3 = clients.aws_client(settings, "s3")
        self.glue = clients.aws_client(settings, "glue")
        self.progress = progress or (lambda _msg: None)

    def crawl(self, dataset: Dataset) -> CrawlResult:
        bucket = self.settings.bucket(dataset)
        partitions, fmt = self._scan(bucket, dataset.table)
        result = CrawlResult(
            dataset.table, "empty", objects=sum(len(v) for v in partitions.values())
        )
        if not partitions:
            return result
        self.progress(f"{dataset.table}: sampling {len(partitions)} partitions")
        inferred, names = self._infer(bucket, partitions)

        existing = self._table(dataset.table)
        old_columns: sch.Schema = {}
        old_params: dict[str, str] = {}
        if existing:
            sd = existing["StorageDescriptor"]
            old_columns = {c["Name"]: c["Type"] for c in sd.get("Columns", [])}
            old_params = sd.get("SerdeInfo", {}).get("Parameters", {}) or {}
        merged = sch.merge_schemas(old_columns, inferred)
        columns = [(n, sch.finish(t)) for n, t in merged.items()]
        result.columns = columns
        result.new_columns = [n for n, _ in columns if n not in old_columns] if existing else []

        location = layout.table_location(bucket, dataset.table)
        serde_params = dict(old_params)
        for column, key in names.items():
            if key != column and fmt == "json":
                serde_params[f"mapping.{column}"] = key
        table_input = _table_input(dataset, location, fmt, columns, serde_params)
        db = self.settings.glue_database
        if existing is None:
            self.glue.create_table(DatabaseName=db, TableInput=table_input)
            result.state = "created"
        elif (
            old_columns != dict(columns)
            or old_params != serde_params
            or existing["StorageDescriptor"].get("Location") != location
        ):
            self.glue.update_table(DatabaseName=db, TableInput=table_input)
            result.state = "updated"
        else:
            result.state = "unchanged"

        known, added = self._register(dataset.table, sorted(partitions), table_input)
        result.partitions = known + added
        result.new_partitions = added
        if added and result.state == "unchanged":
            result.state = "updated"
        return result

    def _scan(self, bucket: str, table: str) -> tuple[dict[str, list[str]], str | None]:
        """The table prefix's objects by `dt` partition, and their one format."""
        partitions: dict[str, list[str]] = {}
        fmt = None
        listed = clients.list_objects(self.s3, bucket, layout.data_prefix(table))
        for key in [o["Key"] for o in listed]:
            raw = layout.parse_key(key)
            if raw is None:
                continue  # not in our layout: a crawler skips what it cannot classify
            partitions.setdefault(raw.dt, []).append(key)
            this = format_of_key(key).classification
            if fmt is None:
                fmt = this
            elif fmt != this:
                raise CrawlError(
                    f"{layout.table_location(bucket, table)} mixes JSON and Parquet objects; "
                    "one table needs one format"
                )
        return partitions, fmt

    def _infer(
        self, bucket: str, partitions: dict[str, list[str]]
    ) -> tuple[sch.Schema, dict[str, str]]:
        """The merged schema of a sample of every partition, and each column's original key."""
        inferred: sch.Schema = {}
        names: dict[str, str] = {}
        for dt in sorted(partitions):
            # The newest objects carry new fields first: sample from the end of each partition.
            for key in sorted(partitions[dt])[-SAMPLE_OBJECTS_PER_PARTITION:]:
                object_schema, object_names = _sample(self.s3, bucket, key)
                inferred = sch.merge_schemas(inferred, object_schema)
                for k, v in object_names.items():
                    names.setdefault(k, v)
        inferred.pop(PARTITION_KEY, None)
        return inferred, names

    def _register(
        self, table: str, partitions: list[str], table_input: dict[str, Any]
    ) -> tuple[int, int]:
        """Create the partitions the catalog lacks; (how many it had, how many were added)."""
        known = set(partition_days(self.glue, self.settings.glue_database, table))
        missing = [dt for dt in partitions if dt not in known]
        sd = table_input["StorageDescriptor"]
        created, _ = create_partitions(
            self.glue, self.settings.glue_database, table, sd, sd["Location"], missing
        )
        return len(known), len(created)

    def _table(self, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=self.settings.glue_database, Name=name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "EntityNotFoundException":
                return None
            raise


def awaiting_a_crawl(settings: Settings, datasets: list[Dataset]) -> list[Dataset]:
    """The datasets whose raw table is not in the Glue database yet although their raw prefix
    holds data: what a first crawl would register. A crawl costs a run whatever it finds, so
    a dataset with no data yet waits, and one with its table needs no crawler again (the sink
    registers each new day's partition itself, consumers/partitions.py)."""
    glue, s3 = clients.aws_client(settings, "glue"), clients.aws_client(settings, "s3")
    waiting = []
    for ds in datasets:
        try:
            glue.get_table(DatabaseName=settings.glue_database, Name=ds.table)
            continue
        except glue.exceptions.EntityNotFoundException:
            pass
        listed = s3.list_objects_v2(
            Bucket=settings.bucket(ds), Prefix=layout.data_prefix(ds.table), MaxKeys=1
        )
        if listed.get("KeyCount", 0):
            waiting.append(ds)
    return waiting


def run_aws_crawlers(
    settings: Settings,
    datasets: list[Dataset],
    progress: Callable[[str], None],
    timeout: float = 1800.0,
    poll_s: float = 10.0,
) -> dict[str, str]:
    """Start the real crawlers and wait until each is READY again (asking every `poll_s`: a
    crawl takes a minute or more); their last crawl status."""
    glue = clients.aws_client(settings, "glue")
    names = [settings.crawler(ds) for ds in datasets]
    for name in names:
        try:
            glue.start_crawler(Name=name)
            progress(f"started {name}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "CrawlerRunningException":
                raise CrawlError(f"cannot start {name}: {exc}") from None
            progress(f"{name} was already running")
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    pending = set(names)
    while pending:
        if time.monotonic() > deadline:
            raise CrawlError(f"crawlers still running after {timeout:.0f}s: {sorted(pending)}")
        time.sleep(poll_s)
        for name in sorted(pending):
            crawler = glue.get_crawler(Name=name)["Crawler"]
            if crawler["State"] == "READY":
                status[name] = crawler.get("LastCrawl", {}).get("Status", "UNKNOWN")
                pending.discard(name)
                progress(f"{name}: {status[name]}")
            else:
                progress(f"{name}: {crawler['State'].lower()}")
    return status
