"""A dataset's curated table: its Iceberg schema and day partitioning, both derived from the
dataset catalog, created where missing and evolved (new optional columns) in place."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import NestedField

from lakestream.core import layout
from lakestream.core.datasets import LAKE_METADATA_COLUMNS, PARTITION_KEY, Dataset
from lakestream.core.settings import Settings
from lakestream.core.types import TYPES

PARTITION_FIELD_ID = 1000
# Set when the day column is added to a table that already holds rows: the next pass rewrites
# the days written without it (curation/maintain.py backfill_day), then removes the property.
DAY_BACKFILL_PROPERTY = "lakestream.day-column-backfill"
TABLE_PROPERTIES = {
    # No silent retry on a concurrent commit: pyiceberg would re-apply our append on top of the
    # other writer's, and a pass must re-read the watermark instead (curation/run.py).
    "commit.retry.num-retries": "0",
    "write.parquet.compression-codec": "zstd",
}


# The day of the event time, as a column: the raw tables' `dt` partition key, typed. A query
# that filters on it prunes raw partitions and, on the curated layer, reads a column that is one
# value per file (a few bytes) instead of the event time itself (issue #32: web_errors read 2.7
# bytes a row for its date range). Derived by `with_day`, never taken from a record.
DAY_COLUMN = (PARTITION_KEY, "date")


def record_columns(dataset: Dataset) -> list[tuple[str, str, bool]]:
    """(name, catalog type, required) of what a raw record carries: the catalog's columns,
    then the sink's own."""
    own = [(c.name, c.type, c.required) for c in dataset.columns]
    return own + [(n, t, True) for n, t in LAKE_METADATA_COLUMNS.items()]


def columns(dataset: Dataset) -> list[tuple[str, str, bool]]:
    """(name, catalog type, required) of every curated column, in table order: a record's, then
    the day column."""
    return [*record_columns(dataset), (*DAY_COLUMN, True)]


def iceberg_schema(dataset: Dataset) -> Schema:
    return Schema(
        *(
            NestedField(i, name, TYPES[type_].iceberg_type(), required=required)
            for i, (name, type_, required) in enumerate(columns(dataset), start=1)
        )
    )


def arrow_type(type_: str) -> pa.DataType:
    # Iceberg timestamps are microseconds (the raw Parquet keeps milliseconds).
    return pa.timestamp("us") if type_ == "timestamp" else TYPES[type_].arrow_type()


def arrow_schema(dataset: Dataset) -> pa.Schema:
    """The curated table's rows."""
    return _arrow(columns(dataset))


def record_schema(dataset: Dataset) -> pa.Schema:
    """A raw record, typed: what is read from the raw layer before `with_day`."""
    return _arrow(record_columns(dataset))


def _arrow(fields: list[tuple[str, str, bool]]) -> pa.Schema:
    return pa.schema(
        [
            pa.field(name, arrow_type(type_), nullable=not required)
            for name, type_, required in fields
        ]
    )


def with_day(rows: pa.Table, dataset: Dataset) -> pa.Table:
    """The rows with the day column set from their event time (added, or replaced where a file
    written before the column existed left it null)."""
    name, type_ = DAY_COLUMN
    day = pc.cast(rows[dataset.event_time_field], arrow_type(type_))
    field = pa.field(name, arrow_type(type_), nullable=False)
    if name in rows.column_names:
        return rows.set_column(rows.column_names.index(name), field, day)
    return rows.append_column(field, day)


def partition_spec(dataset: Dataset, schema: Schema) -> PartitionSpec:
    """Iceberg hidden partitioning by the day of the event time."""
    source = schema.find_field(dataset.event_time_field)
    return PartitionSpec(
        PartitionField(
            source_id=source.field_id,
            field_id=PARTITION_FIELD_ID,
            transform=DayTransform(),
            name=f"{dataset.event_time_field}_day",
        )
    )


def sort_order(dataset: Dataset, schema: Schema) -> SortOrder:
    """By the dataset's key: what compaction writes (curation/maintain.py), and what Glue's
    compaction optimizer may use on AWS."""
    source = schema.find_field(dataset.key_field)
    return SortOrder(SortField(source_id=source.field_id, transform=IdentityTransform()))


def identifier(settings: Settings, dataset: Dataset) -> str:
    return f"{settings.curated_database}.{dataset.table}"


def location(settings: Settings, dataset: Dataset) -> str:
    return layout.curated_location(settings.bucket(dataset), dataset.table)


def ensure_table(catalog: Catalog, settings: Settings, dataset: Dataset) -> Table:
    """The curated table, created if missing, else brought up to what the catalog says.

    On AWS, Terraform creates the table (infra/modules/curated_lake) with the catalog's columns
    but Glue cannot give it a partition spec or a sort order: the first pass adds the day
    partitioning, the sort order and our properties. Later, optional catalog columns it lacks
    are added. All of it is metadata only: no data file is rewritten. A table that gains the
    day column while it holds rows is marked for `backfill_day`, which the pass then runs."""
    name = identifier(settings, dataset)
    try:
        table = catalog.load_table(name)
    except NoSuchTableError:
        schema = iceberg_schema(dataset)
        return catalog.create_table(
            name,
            schema=schema,
            partition_spec=partition_spec(dataset, schema),
            sort_order=sort_order(dataset, schema),
            location=location(settings, dataset),
            properties=TABLE_PROPERTIES,
        )
    have = {f.name for f in table.schema().fields}
    missing = [(n, t) for n, t, _ in columns(dataset) if n not in have]
    properties = {k: v for k, v in TABLE_PROPERTIES.items() if table.properties.get(k) != v}
    unpartitioned = table.spec().is_unpartitioned()
    unsorted = table.sort_order().is_unsorted
    if DAY_COLUMN[0] in dict(missing):
        # Even on a table with no snapshot yet: a writer may append between this load and the
        # schema commit, and the backfill of an empty table is only the mark's removal.
        properties[DAY_BACKFILL_PROPERTY] = "pending"
    if not (missing or properties or unpartitioned or unsorted):
        return table
    with table.transaction() as tx:
        if missing:
            with tx.update_schema() as update:
                for name_, type_ in missing:
                    update.add_column(name_, TYPES[type_].iceberg_type())
        if unpartitioned:
            # Metadata only: files written before keep the old (no) spec; a new table has none.
            with tx.update_spec() as spec:
                spec.add_field(
                    dataset.event_time_field, DayTransform(), f"{dataset.event_time_field}_day"
                )
        if unsorted:
            with tx.update_sort_order() as order:
                order.asc(dataset.key_field, IdentityTransform())
        if properties:
            tx.set_properties(properties)
    return catalog.load_table(name)


def drop_table(catalog: Catalog, settings: Settings, dataset: Dataset) -> bool:
    try:
        catalog.drop_table(identifier(settings, dataset))
        return True
    except NoSuchTableError:
        return False
