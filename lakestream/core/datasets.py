"""The dataset catalog: loads and validates ``datasets.yaml``, the one description of the datasets.

Terraform reads the same file, so every rule checked here protects the infrastructure too: a bad
bucket name fails here, with the dataset and field named, instead of halfway through an apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakestream.core.errors import CatalogError
from lakestream.core.types import TYPES

DEFAULT_CATALOG_PATH = Path(__file__).with_name("datasets.yaml")


# Columns the sink adds to every stored record (Kafka coordinates and ingestion time) and the
# Hive partition key. Dataset columns may not reuse these names. Athena rejects column names
# that start with an underscore, hence plain names.
LAKE_METADATA_COLUMNS: dict[str, str] = {
    "kafka_topic": "string",
    "kafka_partition": "bigint",
    "kafka_offset": "bigint",
    "ingested_at": "timestamp",
}
PARTITION_KEY = "dt"

_DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,254}$")
_COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str  # a row of lakestream.core.types.TYPES
    required: bool = True

    @field_validator("type")
    @classmethod
    def _type_is_known(cls, value: str) -> str:
        if value not in TYPES:
            raise ValueError(f"{value!r} is not a column type; known: {', '.join(TYPES)}")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_athena_safe(cls, value: str) -> str:
        if not _COLUMN_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid column name: start with a letter, then letters, "
                "digits or '_' (Athena rejects a leading underscore)"
            )
        reserved = {*LAKE_METADATA_COLUMNS, PARTITION_KEY}
        if value.lower() in reserved:
            raise ValueError(
                f"{value!r} is reserved for the lake's own columns ({sorted(reserved)})"
            )
        return value


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    topic: str
    bucket: str
    table: str
    key_field: str
    event_time_field: str
    partitions: int = Field(ge=1, le=1000)
    seed_file: str
    columns: tuple[Column, ...] = Field(min_length=1)

    @field_validator("topic")
    @classmethod
    def _topic_is_legal(cls, value: str) -> str:
        if not _TOPIC_NAME.match(value) or value in {".", ".."}:
            raise ValueError(f"{value!r} is not a legal Kafka topic name ([A-Za-z0-9._-], 1-249)")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket_is_legal(cls, value: str) -> str:
        if not _BUCKET_NAME.match(value) or ".." in value:
            raise ValueError(
                f"{value!r} is not a legal S3 bucket name "
                "(3-63 lowercase letters, digits, '-' or '.')"
            )
        return value

    @field_validator("table")
    @classmethod
    def _table_is_legal(cls, value: str) -> str:
        if not _TABLE_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a legal Glue table name (lowercase letters, digits and '_')"
            )
        return value

    @model_validator(mode="after")
    def _fields_refer_to_columns(self) -> Dataset:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns: duplicate column names {duplicates}")
        by_name = {c.name: c for c in self.columns}
        for field in ("key_field", "event_time_field"):
            value = getattr(self, field)
            if value not in by_name:
                raise ValueError(f"{field}: {value!r} is not one of its columns {names}")
            if not by_name[value].required:
                raise ValueError(f"{field}: column {value!r} must be required")
        if by_name[self.event_time_field].type not in ("date", "timestamp"):
            raise ValueError(
                f"event_time_field: column {self.event_time_field!r} must be of type date or "
                f"timestamp, not {by_name[self.event_time_field].type}"
            )
        return self

    def bucket_name(self, suffix: str = "") -> str:
        """The bucket's full name: the catalog name plus the deployment's uniqueness suffix."""
        full = f"{self.bucket}{suffix}"
        if not _BUCKET_NAME.match(full):
            raise CatalogError(
                f"dataset {self.name!r}: bucket {full!r} (with suffix {suffix!r}) is not a legal "
                "S3 bucket name; shorten or fix LAKESTREAM_BUCKET_SUFFIX"
            )
        return full

    @property
    def crawler(self) -> str:
        """The Glue crawler's name, derived from the table so it needs no entry of its own."""
        return f"{self.table}_crawler"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


class DatasetCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    datasets: dict[str, Dataset] = Field(min_length=1)
    # Glob patterns relative to a crawler's path (s3://<bucket>/<table>/) that it skips.
    crawler_exclusions: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _name_each_dataset(cls, data: object) -> object:
        # The name is the mapping key; copy it into each entry so a Dataset knows who it is.
        if isinstance(data, dict) and isinstance(data.get("datasets"), dict):
            named = {}
            for key, entry in data["datasets"].items():
                if isinstance(entry, dict):
                    entry = {**entry, "name": key}
                named[key] = entry
            data = {**data, "datasets": named}
        return data

    @model_validator(mode="after")
    def _names_are_unique(self) -> DatasetCatalog:
        for name in self.datasets:
            if not _DATASET_NAME.match(name):
                raise ValueError(f"dataset name {name!r} must be lowercase letters, digits and '_'")
        for field in ("topic", "bucket", "table", "seed_file"):
            seen: dict[str, str] = {}
            for ds in self.datasets.values():
                value = getattr(ds, field)
                if value in seen:
                    raise ValueError(
                        f"datasets {seen[value]!r} and {ds.name!r} share the {field} {value!r}"
                    )
                seen[value] = ds.name
        return self

    def __iter__(self) -> Iterator[Dataset]:  # type: ignore[override]
        return iter(self.datasets.values())

    def __len__(self) -> int:
        return len(self.datasets)

    def get(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise CatalogError(
                f"unknown dataset {name!r}; known: {', '.join(self.datasets)}"
            ) from None

    def find(self, name: str) -> Dataset | None:
        """The dataset with this dataset or topic name, if any."""
        return next((ds for ds in self if name in (ds.name, ds.topic)), None)

    def select(self, names: list[str] | None) -> list[Dataset]:
        """Datasets named by dataset or topic name (comma-separated allowed); all when none."""
        if not names:
            return list(self)
        chosen: list[Dataset] = []
        for name in [n for arg in names for n in arg.split(",") if n]:
            found = self.find(name)
            if found is None:
                known = ", ".join(f"{ds.name} ({ds.topic})" for ds in self)
                raise CatalogError(f"unknown topic or dataset {name!r}; known: {known}")
            if found not in chosen:
                chosen.append(found)
        return chosen

    def by_topic(self, topic: str) -> Dataset:
        for ds in self:
            if ds.topic == topic:
                return ds
        raise CatalogError(f"no dataset has the topic {topic!r}")

    def by_table(self, table: str) -> Dataset:
        for ds in self:
            if ds.table == table:
                return ds
        raise CatalogError(f"no dataset has the table {table!r}")


def _describe(error: dict) -> str:
    """Turn one pydantic error into 'dataset X, field Y: message'."""
    loc = list(error["loc"])
    where = []
    if len(loc) >= 2 and loc[0] == "datasets":
        where.append(f"dataset {loc[1]!r}")
        loc = loc[2:]
    if loc:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        where.append(f"field {path!r}")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required but missing"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field (check its spelling)"
    return f"{', '.join(where) or 'catalog'}: {message}"


def parse_catalog(data: object, source: str = "<catalog>") -> DatasetCatalog:
    """Validate already-parsed catalog data; raise CatalogError naming the dataset and field."""
    try:
        return DatasetCatalog.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise CatalogError(f"{source}: {problems}") from None


def load_catalog(path: Path | str | None = None) -> DatasetCatalog:
    """Load and validate the catalog file (the packaged ``datasets.yaml`` by default). The file
    is read on every call, so an edit shows at once; a text read before is not parsed again."""
    path = Path(path) if path else DEFAULT_CATALOG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read the dataset catalog {path}: {exc.strerror}") from None
    return _parsed_catalog(text, str(path))


# Each Settings reads the catalog, and a process makes many (the API, a test run: ~10 ms each
# with PyYAML's pure-Python parser, most of a Settings' cost). The catalog is frozen, so one
# parse of a text serves every reader of it.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, 10x faster, if built


@lru_cache(maxsize=16)
def _parsed_catalog(text: str, source: str) -> DatasetCatalog:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader, C or Python)
    except yaml.YAMLError:
        # The pure-Python parser says more (the character it met, the line and a caret).
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CatalogError(f"{source}: not valid YAML: {exc}".replace("\n", " ")) from None
        raise CatalogError(f"{source}: not valid YAML") from None
    return parse_catalog(data, source=source)


@cache
def default_catalog() -> DatasetCatalog:
    """The packaged catalog, parsed once per process."""
    return load_catalog()
