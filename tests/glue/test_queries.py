"""The saved queries' file format: description, @param lines, `?` placeholders (pure parsing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glue.queries import QueryFileError, parse_query_file, saved_queries

GOOD = """-- Revenue per product.
-- @param from date = 1970-01-01: first day included
-- @param min_amount double = 0: smallest amount counted
SELECT product, SUM(amount) FROM kafka_ing_transactions
WHERE transactiondate >= CAST(? AS DATE) AND amount >= CAST(? AS DOUBLE)
GROUP BY product
"""


def write(tmp_path: Path, text: str, name: str = "revenue.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_query_file_gives_its_description_and_typed_parameters(tmp_path) -> None:
    query = parse_query_file(write(tmp_path, GOOD))
    assert query.name == "revenue"
    assert query.description == "Revenue per product."
    assert [(p.name, p.type, p.default) for p in query.params] == [
        ("from", "date", "1970-01-01"),
        ("min_amount", "double", "0"),
    ]
    assert query.bind() == ["1970-01-01", 0.0]
    assert query.bind({"min_amount": "12.5"}) == ["1970-01-01", 12.5]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"from": "yesterday"}, "from must be a date, e.g. 2024-10-01"),
        ({"min_amount": "1e999"}, "min_amount must be a double"),
        ({"to": "2024-01-01"}, "revenue has no parameter 'to' (it has: from, min_amount)"),
    ],
)
def test_values_that_do_not_fit_are_refused_by_name(tmp_path, values, message) -> None:
    query = parse_query_file(write(tmp_path, GOOD))
    with pytest.raises(ValueError, match=re.escape(message)):
        query.bind(values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("-- @param min_amount double = 0:", "-- @param min_amount = 0:"), "revenue.sql:3: write"),
        (("min_amount double", "min_amount money"), "'money' is not one of"),
        (("min_amount double = 0", "min_amount double = zero"), "the default does not parse"),
        (("min_amount double", "limit double"), "'limit' is taken"),
        (("AND amount >= CAST(? AS DOUBLE)", ""), "1 '?' placeholders but 2 @param lines"),
        (("GROUP BY product", "GROUP BY product )"), "not valid Athena SQL"),
    ],
)
def test_a_file_that_breaks_the_form_is_refused_with_the_line(tmp_path, change, message) -> None:
    old, new = change
    with pytest.raises(QueryFileError, match=re.escape(message)):
        parse_query_file(write(tmp_path, GOOD.replace(old, new)))


def test_every_shipped_analysis_takes_a_from_to_range_of_dates() -> None:
    queries = saved_queries()
    assert len(queries) == 4
    for query in queries.values():
        assert [(p.name, p.type) for p in query.params] == [("from", "date"), ("to", "date")]
        assert query.description


def test_a_new_file_in_the_folder_is_a_new_analysis(tmp_path) -> None:
    write(tmp_path, GOOD)
    assert list(saved_queries(tmp_path)) == ["revenue"]
    write(tmp_path, GOOD.replace("Revenue per product.", "Top products."), "top.sql")
    assert list(saved_queries(tmp_path)) == ["revenue", "top"]
