"""Schema inference as a Glue crawler does it: a type per value, merged across records and files.

Types are Glue/Hive type strings: boolean, bigint, double, string, date, timestamp,
struct<a:bigint,b:string>, array<string>. Merging widens (bigint + double = double, date +
timestamp = timestamp, anything else that disagrees = string) and never drops a field.
Column names are lowercased, as the Glue catalog stores them.
"""

from __future__ import annotations

from typing import Any

from lakestream.core.types import DATE, TIMESTAMP, split_fields

Schema = dict[str, str]  # lowercased column name -> Glue type, in first-seen order

NULL = "null"  # only seen nulls so far; becomes string if nothing better arrives


def infer(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        if DATE.match(value):
            return "date"
        if TIMESTAMP.match(value):
            return "timestamp"
        return "string"
    if isinstance(value, dict):
        fields = infer_record(value)
        return "struct<" + ",".join(f"{k}:{finish(t)}" for k, t in fields.items()) + ">"
    if isinstance(value, list):
        element = NULL
        for item in value:
            element = merge(element, infer(item))
        return f"array<{finish(element)}>"
    return "string"


def infer_record(record: dict[str, Any]) -> Schema:
    schema: Schema = {}
    for key, value in record.items():
        name = key.lower()
        schema[name] = merge(schema.get(name, NULL), infer(value))
    return schema


def merge(a: str, b: str) -> str:
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if {a, b} == {"bigint", "double"}:
        return "double"
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    if a.startswith("struct<") and b.startswith("struct<"):
        merged = merge_schemas(dict(split_fields(a[7:-1])), dict(split_fields(b[7:-1])))
        return "struct<" + ",".join(f"{k}:{t}" for k, t in merged.items()) + ">"
    if a.startswith("array<") and b.startswith("array<"):
        return f"array<{merge(a[6:-1], b[6:-1])}>"
    return "string"


def merge_schemas(old: Schema, new: Schema) -> Schema:
    """Every column of `old` (in order) then new ones; types widened where they disagree."""
    merged = dict(old)
    for name, type_ in new.items():
        merged[name] = merge(merged.get(name, NULL), type_)
    return merged


def finish(type_: str) -> str:
    """A type for the catalog: columns only ever seen as null are strings."""
    return "string" if type_ == NULL else type_


def from_arrow(arrow_type: Any) -> str:
    """The Glue type of a Parquet (pyarrow) column."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "double"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_struct(t):
        inner = ",".join(
            f"{t.field(i).name.lower()}:{from_arrow(t.field(i).type)}" for i in range(t.num_fields)
        )
        return f"struct<{inner}>"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array<{from_arrow(t.value_type)}>"
    return "string"
