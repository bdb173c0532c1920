"""Partition pruning judged from a statement's WHERE (pure logic: sqlglot trees, no engine)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from engines.pruning import placeholders_in_order, prune

DAYS = ["2024-01-05", "2024-01-10", "2024-02-01"]
ODD = "2024-1-7"  # a date to the engines, but not in ISO text order


def kept(sql: str, *params: str, days: list[str] = DAYS) -> list[str]:
    tree = sqlglot.parse_one(sql, read="trino")
    values = {id(p): v for p, v in zip(placeholders_in_order(tree), params, strict=True)}
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
        ("dt = DATE '2024-01-10'", ()),  # a date on one side is enough: DuckDB compares dates
        ("dt IN (DATE '2024-01-10')", ()),
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


SELECT_DT = "SELECT * FROM t WHERE dt = ?"


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        # DuckDB binds in text order; sqlglot's walk meets the LIMIT's ? before the WHERE's.
        ("SELECT * FROM t WHERE dt = ? AND k = ? LIMIT ?", ("2024-01-05", "x", 5), ["2024-01-05"]),
        (f"WITH c AS (SELECT ? AS v) {SELECT_DT}", ("2024-01-10", "2024-01-05"), ["2024-01-05"]),
    ],
)  # fmt: skip
def test_each_placeholder_gets_its_own_value(sql, params, expected):
    tree = sqlglot.parse_one(sql, read="trino")
    values = {id(p): v for p, v in zip(placeholders_in_order(tree), params, strict=True)}
    table = next(t for t in tree.find_all(exp.Table) if t.name == "t")
    assert prune(DAYS, table, values) == expected


def test_an_aliased_table_answers_to_its_alias_only():
    tree = sqlglot.parse_one(
        "SELECT * FROM t JOIN t AS b ON t.id = b.id WHERE t.dt = '2024-01-05'", read="trino"
    )
    plain, aliased = list(tree.find_all(exp.Table))
    assert prune(DAYS, plain, {}) == ["2024-01-05"]
    assert prune(DAYS, aliased, {}) == DAYS  # b's days are not t's
