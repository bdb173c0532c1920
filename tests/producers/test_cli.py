"""`python -m producers` against the embedded broker: counts, keys, partitions, rate, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict

import pytest
from kafka.partitioner.default import murmur2

from lakestream.core.settings import Settings
from lakestream.stack.processes import free_port
from producers.cli import main as producers_main
from simulator.cli import main as simulator_main
from tests.kafka_helpers import consume_all, isolated_catalog, wait_for_records
from tests.lake_helpers import CliRun, catches, cli

pytestmark = pytest.mark.stack

SUMMARY = re.compile(
    r"([\d,]+) of ([\d,]+) messages acknowledged, ([\d,]+) failed, ([\d,]+) unanswered"
)


@pytest.fixture
def catalog_env(running_stack, tmp_path):
    path, catalog = isolated_catalog(tmp_path)
    env = {**os.environ, **running_stack.env, "LAKESTREAM_CATALOG": str(path)}
    settings = Settings(catalog_path=path)
    return env, catalog, settings


def produce(env: dict, *args: str) -> CliRun:
    """`python -m producers --quiet ARGS`, run in this process (signals are tested with a real
    one below)."""
    return cli(producers_main, ["--quiet", *args], env)


def summary(stdout: str) -> tuple[int, int, int, int]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    return tuple(int(g.replace(",", "")) for g in match.groups())  # type: ignore[return-value]


@pytest.mark.parametrize("client", ["kafka-python", "confluent"])
def test_counts_arrive_keyed_in_stable_partitions(catalog_env, client):
    env, catalog, settings = catalog_env
    result = produce(env, "--count", "300", "--client", client, "--seed", "9")
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout) == (1200, 1200, 0, 0)

    topics = {ds.topic: ds.partitions for ds in catalog}
    records = consume_all(settings, topics, expected=1200)
    per_topic = defaultdict(int)
    partitions_of_key: dict[tuple[str, bytes], set[int]] = defaultdict(set)
    for r in records:
        ds = catalog.by_topic(r.topic)
        per_topic[ds.name] += 1
        value = json.loads(r.value)
        assert r.key == str(value[ds.key_field]).encode()
        # murmur2, as the Java client: the same key lands in the same partition for any client.
        assert r.partition == (murmur2(r.key) & 0x7FFFFFFF) % ds.partitions
        partitions_of_key[(r.topic, r.key)].add(r.partition)
    assert dict(per_topic) == {ds.name: 300 for ds in catalog}
    assert all(len(p) == 1 for p in partitions_of_key.values())
    repeated = sum(1 for (t, _), _p in partitions_of_key.items() if "transactions" in t)
    assert repeated < 300  # repeat customers share a key, hence a partition


def test_rate_mode_stays_near_its_rate(catalog_env):
    env, _catalog, _settings = catalog_env
    result = produce(env, "--topics", "transactions", "--rate", "200", "--duration", "4")
    assert result.returncode == 0, result.stderr
    acked = summary(result.stdout)[0]
    assert 500 <= acked <= 1000  # 800 expected; loose for a shared 2-core machine


def test_sigint_flushes_what_was_accepted(catalog_env):
    env, catalog, settings = catalog_env
    proc = subprocess.Popen(
        [sys.executable, "-m", "producers", "--quiet", "--topics", "web_logs",
         "--rate", "3000", "--duration", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ds = catalog.get("web_logs")
    wait_for_records(settings, ds.topic, ds.partitions)  # under way: records are in flight
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr
    assert "SIGINT: stopping, flushing what was accepted" in stderr
    acked, accepted, failed, unanswered = summary(stdout)
    assert accepted > 0
    assert (acked, failed, unanswered) == (accepted, 0, 0)
    records = consume_all(settings, {ds.topic: ds.partitions}, expected=accepted)
    assert len(records) == accepted
    assert len({(r.partition, r.offset) for r in records}) == accepted


def test_a_stop_while_starting_sends_nothing_and_says_so(catalog_env):
    """A SIGTERM that comes while the producers still import their libraries is kept until
    they can act on it: a clean stop (130, the summary) instead of the signal's default exit."""
    env, _, _ = catalog_env
    proc = subprocess.Popen(
        [sys.executable, "-m", "producers", "--quiet", "--datasets", "web_logs",
         "--rate", "3000", "--duration", "120"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    catches(proc, signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr
    assert "SIGTERM (sent while the producers were starting): stopping, flushing" in stderr
    assert summary(stdout) == (0, 0, 0, 0)
    assert "Traceback" not in stderr


def test_files_are_sent_as_typed_records(catalog_env, tmp_path):
    env, catalog, settings = catalog_env
    data = tmp_path / "seed"
    made = cli(simulator_main, ["--out", str(data), "--rows", "150", "--campaigns", "20"], env)
    assert made.returncode == 0, made.stderr
    result = produce(env, "--from-files", str(data))
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)[:3] == (470, 470, 0)
    records = consume_all(settings, {ds.topic: ds.partitions for ds in catalog}, expected=470)
    sent = {}
    for r in records:
        sent.setdefault(r.topic, []).append(json.loads(r.value))
    campaigns = json.loads((data / "ad_campaigns.json").read_text())
    key = lambda c: c["campaign_id"]  # noqa: E731
    assert sorted(sent[catalog.get("ad_campaigns").topic], key=key) == sorted(campaigns, key=key)
    tx = sent[catalog.get("transactions").topic]
    assert len(tx) == 150
    assert all(isinstance(t["Amount"], float) for t in tx)  # CSV text typed from the catalog
    logs = sent[catalog.get("web_logs").topic]
    assert all(isinstance(log["Status_Code"], int) for log in logs)


def test_malformed_csv_row_is_named_and_fails_the_run(catalog_env, tmp_path):
    env, _catalog, _settings = catalog_env
    data = tmp_path / "seed"
    data.mkdir()
    (data / "transactions.csv").write_text(
        "ClientID,ClientName,TransactionDate,Product,Amount,PaymentMethod\n"
        "c1,Ann,2024-10-01,WidgetX,10.5,PayPal\n"
        "c2,Bob,2024-10-01,WidgetX,ten,PayPal\n",
        encoding="utf-8",
    )
    result = produce(env, "--from-files", str(data), "--topics", "transactions")
    assert result.returncode == 1
    assert f"{data / 'transactions.csv'}, line 3: Amount = 'ten' is not a double" in result.stderr


def test_missing_files_and_unknown_topics_are_one_line_errors(catalog_env, tmp_path):
    env, _, _ = catalog_env
    result = produce(env, "--from-files", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith("producers: error: missing seed files:")
    result = produce(env, "--topics", "nope")
    assert result.returncode == 2
    assert "unknown topic or dataset 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_simulation_options_are_the_simulators(catalog_env):
    """--pace and --start reach the records sent, as `python -m simulator sample` prints them;
    a share outside 0..1 is refused before anything is sent."""
    env, catalog, settings = catalog_env
    options = ["--seed", "3", "--start", "2030-05-01", "--pace", "transactions=86400"]
    result = produce(env, "--datasets", "transactions", "--count", "4", *options)
    assert result.returncode == 0, result.stderr
    topic = catalog.get("transactions").topic
    sent = consume_all(settings, {topic: catalog.get("transactions").partitions}, expected=4)
    days = sorted(json.loads(r.value)["TransactionDate"] for r in sent)
    assert days == ["2030-05-01", "2030-05-02", "2030-05-03", "2030-05-04"]
    sample = cli(simulator_main, ["sample", "transactions", "-n", "4", *options], env)
    assert sorted(r.value for r in sent) == sorted(sample.stdout.encode().splitlines())

    refused = produce(env, "--datasets", "transactions", "--late-fraction", "3")
    assert refused.returncode == 2
    assert "argument --late-fraction: 3 is not between 0 and 1" in refused.stderr


def test_missing_topic_with_creation_disabled_fails_clearly(catalog_env):
    env, catalog, _ = catalog_env
    result = produce(env, "--no-create-topics", "--topics", "social_posts", "--count", "5")
    assert result.returncode == 2
    topic = catalog.get("social_posts").topic
    assert f"topic '{topic}' does not exist; create it with 3 partitions" in result.stderr


@pytest.mark.parametrize("client", ["kafka-python", "confluent"])
def test_unreachable_broker_is_a_readable_error(running_stack, client):
    env = {**os.environ, **running_stack.env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    result = produce(env, "--count", "5", "--client", client)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("producers: error: cannot reach Kafka at 127.0.0.1:")
    assert "lakestream up" in lines[-1]
    assert "Traceback" not in result.stderr
