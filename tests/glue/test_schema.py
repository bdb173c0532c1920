"""Schema inference and merging, as a crawler does it."""

from __future__ import annotations

import pytest

from glue import schema as sch


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "boolean"),
        (3, "bigint"),
        (2.5, "double"),
        ("x", "string"),
        ("2024-10-01", "date"),
        ("2024-10-01 10:22:15", "timestamp"),
        ("2024-10-01T10:22:15.123", "timestamp"),
        ("2024-13", "string"),
        ({"a": 1, "B": "x"}, "struct<a:bigint,b:string>"),
        ([1, 2.5], "array<double>"),
        ([], "array<string>"),
        (None, sch.NULL),
    ],
)
def test_infer(value, expected):
    assert sch.infer(value) == expected


def test_merge_widens_and_keeps_every_column():
    old = {"a": "bigint", "b": "date", "c": "string"}
    new = {"a": "double", "b": "timestamp", "d": "boolean", "c": sch.NULL}
    assert sch.merge_schemas(old, new) == {
        "a": "double",
        "b": "timestamp",
        "c": "string",
        "d": "boolean",
    }
    assert sch.merge("bigint", "string") == "string"
    assert sch.merge("struct<a:bigint>", "struct<b:string>") == "struct<a:bigint,b:string>"
    assert sch.merge("array<bigint>", "array<double>") == "array<double>"


def test_column_names_are_lowercased():
    assert sch.infer_record({"ClientID": "x", "Amount": 1}) == {
        "clientid": "string",
        "amount": "bigint",
    }
