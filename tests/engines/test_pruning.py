"""Partition pruning judged from a statement's WHERE (pure logic: sqlglot trees, no engine)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from engines.pruning import prune

DAYS = ["2024-01-05", "2024-01-10", "2024-02-01"]
ODD = "2024-1-7"  # a date to the engines, but not in ISO text order


def kept(sql: str, *params: str, days: list[str] = DAYS) -> list[str]:
    tree = sqlglot.parse_one(sql, read="trino")
    placeholders = list(tree.find_all(exp.Placeholder))
    values = {id(p): v for p, v in zip(placeholders, params, strict=True)}
    return prune(days, next(tree.find_all(exp.Table)), values)


@pytest.mark.parametrize(
    ("where", "params", "expected"),
    [
        ("dt = '2024-01-10'", (), ["2024-01-10"]),
        ("dt BETWEEN ? AND ?", ("2024-01-06", "2024-01-31"), ["2024-01-10"]),
        # The saved analyses' form: the partition key cast to a date, the bounds bound as dates.
        (
            "CAST(dt AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            ("2024-01-01", "2024-01-10"),
            ["2024-01-05", "2024-01-10"],
        ),
        ("CAST(dt AS DATE) >= CAST(? AS DATE)", ("2024-01-06",), ["2024-01-10", "2024-02-01"]),
        ("CAST(? AS DATE) > CAST(dt AS DATE)", ("2024-01-06",), ["2024-01-05"]),
        ("CAST(dt AS DATE) IN (DATE '2024-02-01')", (), ["2024-02-01"]),
        # A date the engine reads but whose text does not sort as a date: every day is kept.
        ("CAST(dt AS DATE) > '2024-1-5'", (), DAYS),
        (
            "CAST(dt AS DATE) BETWEEN CAST('2024-1-1' AS DATE) AND CAST(? AS DATE)",
            ("2024-01-31",),
            DAYS,
        ),
        ("CAST(dt AS VARCHAR) = '2024-01-10'", (), DAYS),  # other casts are not judged
        ("CAST(dt AS DATE) = '2024-01-10' OR status = 1", (), DAYS),
    ],
)
def test_kept_partitions(where, params, expected):
    assert kept(f"SELECT * FROM t WHERE {where}", *params) == expected


@pytest.mark.parametrize(
    ("where", "params"),
    [
        (
            "CAST(dt AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            ("2024-01-06", "2024-01-31"),
        ),
        ("CAST(dt AS DATE) = CAST(? AS DATE)", ("2024-01-10",)),
        ("CAST(dt AS DATE) IN (DATE '2024-01-10')", ()),
    ],
)
def test_a_partition_that_is_not_an_iso_date_is_never_pruned_under_the_cast(where, params):
    assert ODD in kept(f"SELECT * FROM t WHERE {where}", *params, days=[*DAYS, ODD])


def test_values_the_engine_reads_differently_prune_nothing():
    # A trailing newline: DuckDB still casts it to the date, so nothing may be dropped for it.
    assert kept("SELECT * FROM t WHERE CAST(dt AS DATE) = CAST(? AS DATE)", "2024-01-05\n") == DAYS
    # BETWEEN SYMMETRIC takes the bounds in either order.
    symmetric = "CAST(dt AS DATE) BETWEEN SYMMETRIC DATE '2024-01-31' AND DATE '2024-01-06'"
    assert kept(f"SELECT * FROM t WHERE {symmetric}") == DAYS
