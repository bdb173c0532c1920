"""GET /api/stats/ against a lake this test fills: every figure equals what was produced,
landed, curated and dead-lettered, and the Kafka lag equals a backlog made on purpose."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from curation.run import curate
from lakestream.core import clients
from tests.lake_helpers import finish

pytestmark = pytest.mark.stack


def stats(api, lake, **params) -> dict:
    query = {"datasets": "transactions", "group_prefix": lake.group_prefix, **params}
    response = api.get(f"/api/stats/?{urlencode(query)}")
    assert response.status_code == 200, response.content[:300]
    [entry] = response.json()["datasets"]
    return entry


def test_stats_count_what_was_produced_landed_curated_and_dead_lettered(api, settings, lake):
    settings.LAKE = lake.settings
    produced = lake.land("transactions", 1_000, "--malformed-rate", "0.02")
    landed = lake.count("transactions")
    assert landed.dead_letters > 0
    ds = lake.datasets.get("transactions")
    curate(lake.settings, [ds], lake.group_prefix)

    downloaded: list[str] = []

    def record_download(params, **_):
        downloaded.append(params["Key"])

    events = clients._session().events
    events.register("provide-client-params.s3.GetObject", record_download)
    try:
        entry = stats(api, lake)
    finally:
        events.unregister("provide-client-params.s3.GetObject", record_download)
    # Dead letters are counted from their objects' metadata: none is downloaded.
    assert not [key for key in downloaded if key.startswith("_dlq/")], downloaded
    raw, cur = entry["layers"]
    assert raw["layer"] == "raw"
    assert raw["rows"] == landed.distinct == produced - landed.dead_letters
    assert raw["dead_letters"] == landed.dead_letters
    assert raw["objects"] == landed.objects
    listed = clients.list_objects(
        clients.aws_client(lake.settings, "s3"), lake.settings.bucket(ds), f"{ds.table}/"
    )
    days = sorted({o["Key"].split("/")[1][3:] for o in listed})
    assert raw["partitions"] == len(days)
    assert raw["newest_event_day"] == days[-1]
    assert raw["bytes"] > 0
    assert raw["last_landed_at"]
    assert cur["layer"] == "curated"
    assert cur["rows"] == landed.distinct
    assert cur["partitions"] == len(days)
    assert cur["newest_event_time"] == days[-1]  # a date column: its newest day
    assert cur["files"] >= cur["partitions"]
    assert cur["dead_letters"] == 0  # the sink set the malformed ones aside, not curation
    assert cur["lag_records"] == 0
    assert entry["kafka"]["lag"] == 0
    assert sum(p["committed"] for p in entry["kafka"]["partitions"]) == produced
    assert "audit" not in entry  # opt-in: it costs a HEAD per raw object
    audited = stats(api, lake, audit="true")["audit"]
    assert audited["unaccounted"] == 0
    assert sum(p["raw_records"] for p in audited["partitions"]) == landed.distinct
    assert sum(p["raw_dead_letters"] for p in audited["partitions"]) == landed.dead_letters
    assert sum(p["curated_rows"] for p in audited["partitions"]) == landed.distinct

    # A backlog on purpose: produced, not landed; then landed, not curated.
    backlog = lake.produce("transactions", 300, "--seed", "8")
    entry = stats(api, lake)
    assert entry["kafka"]["lag"] == backlog
    assert sum(p["lag"] for p in entry["kafka"]["partitions"]) == backlog
    assert entry["layers"][1]["lag_records"] == 0
    finish(lake.sink("transactions", "--until-idle", "1", "--assignment", "manual"))
    entry = stats(api, lake)
    assert entry["kafka"]["lag"] == 0
    assert entry["layers"][0]["rows"] == landed.distinct + backlog
    assert entry["layers"][1]["lag_records"] == backlog
    assert entry["layers"][1]["rows"] == landed.distinct


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"datasets": "nope"}, "datasets"),
        ({"group_prefix": "a b"}, "group_prefix"),
        ({"group_prefix": "x" * 200}, "group_prefix"),
        ({"table": "kafka_ing_logs"}, "table"),
    ],
)
def test_bad_stats_parameters_are_refused(api, params, param):
    response = api.get(f"/api/stats/?{urlencode(params)}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_stats_build_their_s3_and_glue_clients_once_per_worker(api):
    # The dashboard polls this route: building a boto3 client and the catalog's file system on
    # every call cost tens of milliseconds of CPU each time.
    built: list[str] = []

    def record(event_name, **_):
        built.append(event_name.rsplit(".", 1)[-1])

    events = clients._session().events
    clients._CLIENTS.clear()  # the process's clients (aws_client keeps them) would hide a build
    events.register("creating-client-class", record)
    try:
        answers = [api.get("/api/stats/?datasets=transactions") for _ in range(3)]
    finally:
        events.unregister("creating-client-class", record)
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert sorted(built) == ["glue", "s3"], built
    first, *others = [r.json()["datasets"][0]["layers"] for r in answers]
    assert all(layers == first for layers in others)  # nothing changed in between
