"""Hostile but plausible messages among good ones, sent by a producer of our own: none halts the
sink (JSON lines or Parquet) or curation, each lands in the dead letters with its reason, and
both layers answer queries over the good ones."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
import pytest

from consumers.audit import count_lake
from consumers.cli import main as consumers_main
from curation.run import count_curated, curate
from glue.crawler import LocalCrawler
from lakestream.core import clients, layout
from lakestream.core.formats import JsonLinesGzip
from tests.lake_helpers import run_in_process

pytestmark = pytest.mark.stack

GOOD = 150
POST = b'{"user":"mallory","message":"hi #x","post_date":"2024-10-01","likes":%b,"retweets":1%b}'
POISON = {  # value -> the reason the dead letter must give
    POST % (b"18446744073709551615", b""): "outside the bigint range",  # a u64
    POST % (b"9223372036854775808", b""): "outside the bigint range",  # 2^63
    POST % (b"1", b',"likes":2'): "duplicate key 'likes'",
    POST % (b"true", b""): "expected bigint, got True",
    POST.replace(b"2024-10-01", b"2024-02-30") % (b"1", b""): "expected date",
    POST.replace(b"mallory", b"\\ud800") % (b"1", b""): "invalid JSON",  # a lone surrogate
    POST.replace(b"mallory", b"\xed\xa0\x80") % (b"1", b""): "invalid JSON",  # the same, raw
}


def send_poison(lake) -> None:
    topic = lake.datasets.get("social_posts").topic
    producer = clients.kafka_producer(lake.settings)
    for i, value in enumerate(POISON):
        producer.send(topic, key=b"poison-%d" % i, value=value)
    producer.flush(30)
    producer.close()


def dead_letters(lake) -> list[dict]:
    s3 = clients.aws_client(lake.settings, "s3")
    ds = lake.datasets.get("social_posts")
    bucket = lake.settings.bucket(ds)
    found = []
    for obj in clients.list_objects(s3, bucket, layout.dlq_prefix(ds.topic)):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        found += JsonLinesGzip().decode(body)
    return found


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_no_message_halts_the_pipeline_and_each_says_why(api, settings, deployment_lake, fmt):
    lake = deployment_lake
    ds = lake.datasets.get("social_posts")
    lake.produce("social_posts", GOOD // 2, "--seed", "3")
    send_poison(lake)
    lake.produce("social_posts", GOOD // 2, "--seed", "4")

    out = run_in_process(
        consumers_main,
        [*lake.sink_argv("social_posts"), "--until-idle", "1", "--format", fmt],
        lake.env,
    )
    assert f"{GOOD} records and {len(POISON)} dead letters landed" in out, out
    landed = count_lake(lake.settings, ds)
    assert (landed.rows, landed.distinct, landed.dead_letters) == (GOOD, GOOD, len(POISON))
    reasons = [d["reason"] for d in dead_letters(lake)]
    for value, why in POISON.items():
        assert sum(why in r for r in reasons) >= 1, (value, why, reasons)

    LocalCrawler(lake.settings).crawl(ds)
    [result] = curate(lake.settings, [ds], lake.group_prefix)
    assert result.records == GOOD
    assert count_curated(lake.settings, ds).rows == GOOD

    settings.LAKE = lake.settings
    for layer in ("raw", "curated"):
        query = {"table": ds.table, "layer": layer, "limit": "1000", "columns": "user,likes"}
        response = api.get(f"/api/query-table/?{urlencode(query)}")
        assert response.status_code == 200, (layer, response.content[:300])
        body = orjson.loads(response.content)
        assert body["row_count"] == GOOD
        assert "mallory" not in {r["user"] for r in body["rows"]}
