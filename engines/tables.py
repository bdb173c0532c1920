"""Reading the Glue catalog: a table's location, columns, format and partitions.

Both query engines (local DuckDB and Athena) and the REST API resolve tables here, so a table
means the same thing everywhere: what the crawlers registered.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from lakestream.core import clients
from lakestream.core.errors import UnknownTable
from lakestream.core.settings import Settings


@dataclass
class TableInfo:
    name: str
    location: str
    columns: list[tuple[str, str]]
    partitions: list[str]
    format: str  # json | parquet | iceberg
    key_of: dict[str, str]  # column -> key in the JSON objects (the Iceberg column's name)
    metadata_location: str | None = None  # Iceberg tables: their current metadata file

    @property
    def is_iceberg(self) -> bool:
        return self.format == "iceberg"


class GlueCatalog:
    """`max_age` > 0 keeps each table's description that many seconds: a server answering many
    requests asks Glue once per table and period instead of two or three times per request, and
    a new partition or curated commit still shows within that period."""

    def __init__(self, settings: Settings, max_age: float = 0.0) -> None:
        self.settings = settings
        self.glue = clients.aws_client(settings, "glue")
        self.max_age = max_age
        self._cache: dict[tuple[str, str], tuple[float, TableInfo]] = {}
        self._lock = threading.Lock()

    def table(self, name: str, database: str | None = None) -> TableInfo:
        db = database or self.settings.glue_database
        if self.max_age <= 0:
            return self._read(name, db)
        key = (db, name.lower())
        with self._lock:
            hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.max_age:
            return hit[1]
        info = self._read(name, db)
        with self._lock:
            self._cache[key] = (time.monotonic(), info)
        return info

    def _read(self, name: str, db: str) -> TableInfo:
        try:
            table = self.glue.get_table(DatabaseName=db, Name=name.lower())["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "EntityNotFoundException":
                raise UnknownTable(
                    f"table {name!r} is not in the Glue database {db!r} (run `make crawl`?)"
                ) from None
            raise
        sd = table["StorageDescriptor"]
        parameters = table.get("Parameters", {}) or {}
        if parameters.get("table_type", "").upper() == "ICEBERG":
            # A curated table: no Hive partitions; its columns keep their catalog spelling,
            # and the SQL names them in lower case, as for the raw tables.
            columns = [(c["Name"].lower(), c["Type"]) for c in sd.get("Columns", [])]
            key_of = {c["Name"].lower(): c["Name"] for c in sd.get("Columns", [])}
            return TableInfo(
                table["Name"],
                sd.get("Location", ""),
                columns,
                [],
                "iceberg",
                key_of,
                parameters["metadata_location"],
            )
        parts: list[str] = []
        for page in self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=db, TableName=table["Name"]
        ):
            parts += [p["Values"][0] for p in page["Partitions"]]
        serde = sd.get("SerdeInfo", {})
        params = serde.get("Parameters", {}) or {}
        fmt = "parquet" if "parquet" in serde.get("SerializationLibrary", "").lower() else "json"
        columns = [(c["Name"], c["Type"]) for c in sd.get("Columns", [])]
        key_of = {n: params.get(f"mapping.{n}", n) for n, _ in columns}
        return TableInfo(table["Name"], sd["Location"], columns, sorted(parts), fmt, key_of)

    def tables(self, database: str | None = None) -> list[str]:
        """The database's tables; none if the database does not exist (yet)."""
        names: list[str] = []
        try:
            for page in self.glue.get_paginator("get_tables").paginate(
                DatabaseName=database or self.settings.glue_database
            ):
                names += [t["Name"] for t in page["TableList"]]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityNotFoundException":
                raise
        return sorted(names)
