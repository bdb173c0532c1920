"""Partition pruning judged from a statement's WHERE (pure logic: sqlglot trees, no engine)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from engines.pruning import prune

DAYS = ["2024-01-05", "2024-01-10", "2024-02-01"]


def kept(sql: str, *params: str) -> list[str]:
    tree = sqlglot.parse_one(sql, read="trino")
    placeholders = list(tree.find_all(exp.Placeholder))
    values = {id(p): v for p, v in zip(placeholders, params, strict=True)}
    return prune(DAYS, next(tree.find_all(exp.Table)), values)


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
