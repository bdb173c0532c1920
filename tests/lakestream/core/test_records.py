"""What a well-formed record is: each column's rule holds what every engine can hold, and an
object that repeats a key is refused (DuckDB and Arrow cannot read one)."""

from __future__ import annotations

import pytest

from lakestream.core.datasets import load_catalog
from lakestream.core.records import RecordError, RecordParser, parse_record

POSTS = load_catalog().get("social_posts")


def post(
    likes: str = "1", user: str = '"ada"', date: str = '"2024-10-01"', extra: str = ""
) -> bytes:
    return (
        f'{{"user":{user},"message":"hi","post_date":{date},"likes":{likes},"retweets":2{extra}}}'
    ).encode()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (post(likes="18446744073709551615"), "likes: 18446744073709551615 is outside the bigint"),
        (post(likes="9223372036854775808"), "likes: 9223372036854775808 is outside the bigint"),
        (post(likes="true"), "likes: expected bigint, got True"),
        (post(likes="1e400"), "invalid JSON"),
        (post(date='"2024-02-30"'), "post_date: expected date"),
        (post(user='"\\ud800"'), "invalid JSON"),  # a lone surrogate
        (b'{"user":"\xed\xa0\x80"}', "invalid JSON"),  # the same, as raw bytes
        (post(extra=',"likes":5'), "duplicate key 'likes' in a JSON object"),
        (post(extra=',"x":{"k":1,"k" :2}'), "duplicate key 'k' in a JSON object"),
    ],
)
def test_what_no_engine_can_hold_is_refused_with_its_reason(value, reason):
    with pytest.raises(RecordError) as refused:
        parse_record(value, POSTS)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        post(likes="9223372036854775807"),
        post(likes="-9223372036854775808"),
        post(user='"a \\" : quoted colon"'),  # a key-like text inside a string is not a key
        post(user='"\\ud83d\\ude00"'),  # a surrogate pair is one character
        post(extra=',"x":[{"k":1},{"k":2}]'),  # the same key in two objects is no repeat
    ],
)
def test_the_edges_of_each_rule_are_accepted(value):
    assert parse_record(value, POSTS)["retweets"] == 2


def test_a_deeply_nested_value_is_a_dead_letter_not_a_crash():
    deep = b'{"user":"a","message":"m","post_date":"2024-10-01","likes":1,"retweets":2,"x":'
    deep += b"[" * 1000 + b"]" * 1000 + b"}"
    deep_and_repeated = deep[:-1] + b',"x":1}'
    assert parse_record(deep, POSTS)["likes"] == 1  # orjson's 1,024 levels: no recursion here
    with pytest.raises(RecordError, match=r"duplicate key 'x'|nested too deeply"):
        parse_record(deep_and_repeated, POSTS)


@pytest.mark.parametrize(
    "value",
    [
        # Colons in the text (a time, a URL) leave the colon count above the keys: the key
        # endings are counted next, and still find the repeat.
        post(user='"12:30 http://x"', extra=',"likes":5'),
        # An escaped colon is no colon in the text: a count of the decoded values' colons would
        # have hidden this repeat.
        post(user='"\\u003a"', extra=',"user":"b"'),
        post(extra=',"user" :"b"'),  # a blank before the colon
    ],
)
def test_a_repeated_key_is_found_whatever_colons_the_text_holds(value):
    with pytest.raises(RecordError, match="duplicate key"):
        parse_record(value, POSTS)


def test_a_record_with_several_problems_names_each_of_them():
    value = post(likes='"many"', date='"2024-13-01"', user="null")
    with pytest.raises(RecordError) as refused:
        parse_record(value, POSTS)
    reason = str(refused.value)
    for part in ("user: required field", "post_date: expected date", "likes: expected bigint"):
        assert part in reason


def test_one_parser_checks_many_values_alike():
    parse = RecordParser(POSTS)
    assert parse(post())["likes"] == 1
    with pytest.raises(RecordError, match="post_date: expected date"):
        parse(post(date='"2024-02-30"'))
    assert parse(post(likes="2"))["likes"] == 2  # a refusal leaves nothing behind
