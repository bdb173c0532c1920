"""The sink end to end: layout, stored columns, dead letters, formats, idle exit."""

from __future__ import annotations

import gzip
import re
import subprocess

import orjson
import pytest

from consumers.audit import read_rows
from consumers.cli import main as consumers_main
from consumers.groups import committed_offsets, group_id
from lakestream.core import clients
from lakestream.stack.processes import free_port
from simulator.simulation import SimulationConfig, Simulator
from tests.lake_helpers import catches, cli, finish
from tests.metrics_helpers import read_to_the_end, wait_until

pytestmark = pytest.mark.stack

KEY = re.compile(
    r"^(?P<table>[a-z_0-9]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/(?P<topic>[a-z_0-9]+)\+(?P<p>\d+)\+(?P<off>\d{20})\.jsonl\.gz$"
)
# Each Kafka client the sink offers lands the same objects, with either assignment.
CLIENTS = pytest.mark.parametrize(
    "client",
    [("--client", "kafka-python"), ("--client", "confluent", "--assignment", "manual")],
    ids=["kafka-python", "confluent-manual"],
)


@CLIENTS
def test_batches_land_in_the_documented_layout(lake, client):
    ds = lake.datasets.get("web_logs")
    produced = lake.produce("web_logs", 3_000, "--seed", "4")
    finish(lake.sink("web_logs", "--until-idle", "2", "--max-records", "1000", *client))

    s3 = clients.aws_client(lake.settings, "s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="kafka-ing-logs", Prefix=f"{ds.table}/")["Contents"]
    ]
    assert keys
    rows_seen = 0
    for key in keys:
        match = KEY.match(key)
        assert match, key
        assert match["table"] == ds.table
        assert match["topic"] == ds.topic
        rows = read_rows(s3.get_object(Bucket="kafka-ing-logs", Key=key)["Body"].read(), key)
        rows_seen += len(rows)
        for r in rows:
            assert r["Timestamp"].startswith(match["dt"])  # dt from the event time
            assert r["kafka_partition"] == int(match["p"])
            assert r["kafka_offset"] >= int(match["off"])
            assert r["kafka_topic"] == ds.topic
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}", r["ingested_at"])
            assert not any(k.startswith("_") for k in r)
        first = min(r["kafka_offset"] for r in rows)
        assert first == int(match["off"])  # named by the batch's first offset
    assert rows_seen == produced
    count = lake.count("web_logs")
    assert (count.rows, count.distinct, count.dead_letters) == (produced, produced, 0)
    assert count.objects < produced / 100  # batches, not one object per message


@CLIENTS
def test_malformed_records_become_dead_letters_and_good_ones_land(lake, client):
    ds = lake.datasets.get("transactions")
    # The injected faults are known in advance: the simulator is deterministic.
    sim = Simulator(SimulationConfig(seed=21, malformed_rate=0.05))
    injected = sum(len(b.faults) for b in sim.stream("transactions", batch_size=2000, limit=4_000))
    produced = lake.produce("transactions", 4_000, "--seed", "21", "--malformed-rate", "0.05")
    finish(lake.sink("transactions", "--until-idle", "2", *client))

    count = lake.count("transactions")
    assert injected > 100
    assert count.dead_letters == injected
    assert count.rows == count.distinct == produced - injected
    assert count.coordinates.isdisjoint(count.dead_coordinates)
    assert len(count.coordinates | count.dead_coordinates) == produced
    reasons = " ".join(count.dead_reasons)
    for expected in ("invalid JSON", "required field is missing", "expected "):
        assert expected in reasons

    s3 = clients.aws_client(lake.settings, "s3")
    listed = s3.list_objects_v2(Bucket="kafka-ing-transactions", Prefix=f"_dlq/{ds.topic}/")
    body = s3.get_object(Bucket="kafka-ing-transactions", Key=listed["Contents"][0]["Key"])
    letter = orjson.loads(gzip.decompress(body["Body"].read()).splitlines()[0])
    assert {"reason", "kafka_topic", "kafka_partition", "kafka_offset", "value"} <= set(letter)
    # Offsets were committed after the objects: a second run finds nothing left to land.
    again = lake.sink("transactions", "--until-idle", "1", "--json", *client)
    assert sum(s["records"] + s["dead_letters"] for s in orjson.loads(finish(again))) == 0


def test_parquet_objects_are_typed_from_the_catalog(lake):
    import pyarrow as pa

    produced = lake.produce("ad_campaigns", 500)
    finish(lake.sink("ad_campaigns", "--until-idle", "2", "--format", "parquet"))
    count = lake.count("ad_campaigns")
    assert count.rows == count.distinct == produced
    ds = lake.datasets.get("ad_campaigns")
    s3 = clients.aws_client(lake.settings, "s3")
    key = s3.list_objects_v2(Bucket="kafka-ing-ad-campaigns", Prefix=f"{ds.table}/")["Contents"][0][
        "Key"
    ]
    assert key.endswith(".parquet")
    import io

    import pyarrow.parquet as pq

    schema = pq.read_schema(
        io.BytesIO(s3.get_object(Bucket="kafka-ing-ad-campaigns", Key=key)["Body"].read())
    )
    assert schema.field("start_date").type == pa.date32()
    assert schema.field("clicks").type == pa.int64()
    assert schema.field("ctr").type == pa.float64()
    assert schema.field("kafka_offset").type == pa.int64()


def test_unreachable_broker_is_a_one_line_error(running_stack, lake):
    env = {**lake.env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    result = cli(consumers_main, ["--until-idle", "1"], env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("consumers: error: cannot reach Kafka at 127.0.0.1:")


def test_sigterm_writes_and_commits_the_open_batch_then_exits(lake):
    import signal

    produced = lake.produce("web_logs", 2_000)
    ds = lake.datasets.get("web_logs")
    # A batch that would never close on its own: only the signal ends it.
    port = free_port()
    sink = lake.sink(
        "web_logs", "--max-age", "600", "--max-records", "1000000", "--metrics-port", str(port)
    )

    wait_until(
        lambda: read_to_the_end(port, ds.topic, ds.partitions),
        120,
        "the sink holding every partition, read to the end",
    )
    assert lake.count("web_logs").rows == 0
    sink.send_signal(signal.SIGTERM)
    _, stderr = sink.communicate(timeout=60)
    assert sink.returncode == 0, stderr
    assert "SIGTERM: writing and committing open batches" in stderr
    count = lake.count("web_logs")
    assert count.rows == count.distinct == produced
    # Committed: a second run finds nothing new to write.
    again = lake.sink("web_logs", "--until-idle", "2")
    again.communicate(timeout=60)
    assert lake.count("web_logs").rows == produced


def test_a_stop_while_the_sink_is_still_starting_is_a_clean_stop(lake):
    """systemd or a test can stop a sink while it imports its libraries (seconds on a busy
    machine): the stop is kept until the sink can act on it, not the signal's default exit."""
    import signal

    sink = lake.sink("web_logs")
    catches(sink, signal.SIGTERM)  # what __main__ installs first, long before the sink's own
    sink.send_signal(signal.SIGTERM)
    stdout, stderr = sink.communicate(timeout=120)
    assert sink.returncode == 0, stderr
    assert (
        "SIGTERM (sent while the sink was starting): writing and committing open batches, "
        "then exiting" in stderr
    )
    assert "0 records and 0 dead letters landed in 0 objects" in stdout
    assert "Traceback" not in stderr


def test_a_worker_that_fails_ends_the_run_instead_of_stalling_its_topic(deployment_lake):
    lake = deployment_lake
    logs = lake.datasets.get("web_logs")
    clients.aws_client(lake.settings, "s3").delete_bucket(Bucket=lake.settings.bucket(logs))
    # The healthy worker holds an open batch (200 records, below --max-records, long before its
    # age) when web_logs' first batch (300 records) fails: the run must still write and commit it.
    # No --until-idle: without the failure this run would go on until it is stopped.
    held = lake.produce("transactions", 200)
    port = free_port()
    sink = lake.sink(
        ["transactions", "web_logs"], "--max-records", "300", "--max-age", "600",
        "--metrics-port", str(port),
    )  # fmt: skip
    transactions = lake.datasets.get("transactions")

    wait_until(
        lambda: read_to_the_end(port, transactions.topic, transactions.partitions),
        120,
        "the sink holding every transactions partition, read to the end",
    )
    assert lake.count("transactions").rows == 0
    lake.produce("web_logs", 300)
    try:
        _, stderr = sink.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        sink.kill()
        _, stderr = sink.communicate()
        raise AssertionError(stderr) from None
    assert sink.returncode == 1, stderr
    assert re.search(r"consumers: error: web_logs-0: StorageError: .*NoSuchBucket", stderr), stderr
    # The healthy worker wrote and committed what it held before the run ended.
    assert lake.count("transactions").rows == held


def test_librdkafka_in_group_mode_lands_and_commits_everything(lake):
    """What `--client auto` runs on a Kafka cluster: librdkafka with Kafka's group management
    (on the embedded broker with its longer session, docs/broker-quirks.md §4): the
    subscription, the assignment callback and the commits, for one sink at a modest rate."""
    ds = lake.datasets.get("social_posts")
    produced = lake.produce("social_posts", 2_000, "--seed", "6")
    group_mode = ("--client", "confluent", "--assignment", "group")
    finish(lake.sink("social_posts", "--until-idle", "2", "--max-records", "500", *group_mode))
    count = lake.count("social_posts")
    assert (count.rows, count.distinct, count.dead_letters) == (produced, produced, 0)
    committed = committed_offsets(lake.settings, group_id(lake.group_prefix, ds), ds.topic)
    assert sum(committed.values()) == produced  # every partition committed to its end
