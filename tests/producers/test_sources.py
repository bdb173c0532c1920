"""Sources: files in the original formats become keyed, typed messages; bad rows are named."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from lakestream.core.datasets import default_catalog
from producers.sources import SourceError, file_source

CATALOG = default_catalog()


def messages(path: Path, name: str, limit: int | None = None) -> list[tuple[bytes, dict]]:
    return [
        (k, orjson.loads(v))
        for chunk in file_source(path, CATALOG.get(name), limit)
        for k, v in chunk
    ]


def test_csv_values_are_typed_from_the_catalog(tmp_path: Path):
    path = tmp_path / "web_logs.csv"
    path.write_text(
        "IP_Address,URL,Status_Code,Timestamp\n10.0.0.1,/home,200,2024-11-05 10:22:15\n",
        encoding="utf-8",
    )
    assert messages(path, "web_logs") == [
        (
            b"10.0.0.1",
            {"IP_Address": "10.0.0.1", "URL": "/home", "Status_Code": 200,
             "Timestamp": "2024-11-05 10:22:15"},
        )
    ]  # fmt: skip


def test_json_array_and_json_lines_are_both_read(tmp_path: Path):
    post = {"user": "alice123", "message": "hi #X", "post_date": "2024-10-20", "likes": 1,
            "retweets": 0}  # fmt: skip
    array = tmp_path / "a.json"
    array.write_bytes(orjson.dumps([post, post]))
    lines = tmp_path / "b.jsonl"
    lines.write_bytes(orjson.dumps(post) + b"\n\n" + orjson.dumps(post) + b"\n")
    assert messages(array, "social_posts") == [(b"alice123", post)] * 2
    assert messages(lines, "social_posts", limit=1) == [(b"alice123", post)]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            "IP_Address,URL,Status_Code,Timestamp\n1.1.1.1,/,200\n",
            "line 2: 3 fields, the header has 4",
        ),
        ("IP_Address,URL,Timestamp\n", "the header lacks the columns ['Status_Code']"),
        ("", "empty file, expected a header line"),
        (
            "IP_Address,URL,Status_Code,Timestamp\n,/,200,2024-11-05 10:00:00\n",
            "line 2: the key field 'IP_Address' is missing",
        ),
    ],
)  # fmt: skip
def test_bad_csv_is_named_by_file_and_line(tmp_path: Path, content: str, error: str):
    path = tmp_path / "web_logs.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=error.replace("[", r"\[").replace("]", r"\]")):
        messages(path, "web_logs")


def test_bad_json_and_unreadable_files(tmp_path: Path):
    path = tmp_path / "x.json"
    path.write_text("[{]", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid JSON"):
        messages(path, "ad_campaigns")
    with pytest.raises(SourceError, match="cannot read"):
        messages(tmp_path / "missing.json", "ad_campaigns")
