"""The embedded stack as `make up` starts it (the broker's log in the embedded S3), for real: moto
over HTTP and Tansu over the Kafka protocol."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import psutil
import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic

from lakestream.core import clients
from lakestream.core.errors import StackError
from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack
from lakestream.stack.processes import free_port
from orchestration.cli import main as orchestration_main
from tests.conftest import stack_env
from tests.lake_helpers import cli

pytestmark = pytest.mark.stack

EXPECTED_KINDS = {
    "s3 bucket": 5,
    "kafka topic": 4,
    "glue database": 2,  # the raw layer and the curated layer
    "iam role": 1,
    "glue crawler": 4,
    "athena workgroup": 1,
}


def _new_topic(settings: Settings, partitions: int) -> str:
    name = f"test_{uuid.uuid4().hex[:10]}"
    admin = clients.kafka_admin(settings)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()
    return name


def test_first_up_created_every_resource(durable_stack):
    outcomes = durable_stack.first_up
    kinds: dict[str, int] = {}
    for o in outcomes:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    assert kinds == EXPECTED_KINDS
    assert {o.state for o in outcomes} == {"created"}, outcomes


def test_provisioned_resources_are_really_there(durable_stack):
    settings = durable_stack.settings
    s3 = clients.aws_client(settings, "s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {settings.bucket(ds) for ds in settings.datasets} <= buckets
    assert settings.results_bucket in buckets
    encryption = s3.get_bucket_encryption(Bucket="kafka-ing-logs")
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="kafka-ing-logs")["PublicAccessBlockConfiguration"]
    assert all(block.values())

    admin = clients.kafka_admin(settings)
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()
    for ds in settings.datasets:
        assert described[ds.topic] == ds.partitions

    glue = clients.aws_client(settings, "glue")
    assert glue.get_database(Name="kafka_ing")["Database"]["Name"] == "kafka_ing"
    crawler = glue.get_crawler(Name="kafka_ing_transactions_crawler")["Crawler"]
    assert crawler["DatabaseName"] == "kafka_ing"
    target = crawler["Targets"]["S3Targets"][0]
    assert target["Path"] == "s3://kafka-ing-transactions/kafka_ing_transactions/"
    # The catalog's list, which Terraform passes to its crawlers too (tests/infra).
    assert target["Exclusions"] == list(settings.datasets.crawler_exclusions)

    athena = clients.aws_client(settings, "athena")
    wg = athena.get_work_group(WorkGroup="lakestream")["WorkGroup"]["Configuration"]
    assert wg["ResultConfiguration"]["OutputLocation"] == "s3://kafka-ing-athena-results/results/"
    assert wg["EnforceWorkGroupConfiguration"] is True
    assert wg["BytesScannedCutoffPerQuery"] == 10 * 1024**3


def test_second_up_changes_nothing(durable_stack):
    stack = durable_stack.stack
    pids = (stack.moto.pid, stack.broker.pid)
    outcomes = stack.up(timeout=30)
    assert {o.state for o in outcomes} == {"exists"}
    assert len(outcomes) == sum(EXPECTED_KINDS.values())
    assert (stack.moto.pid, stack.broker.pid) == pids  # nothing restarted


def test_status_command_reports_a_healthy_stack(durable_stack):
    result = cli(orchestration_main, ["status", "--json"], {**os.environ, **durable_stack.env})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert [(s["name"], s["answering"]) for s in report["services"]] == [
        ("aws apis (moto)", True),
        ("kafka (tansu)", True),
        ("broker log retention", True),
    ]
    assert all(s["managed"] for s in report["services"])
    assert len(report["resources"]) == sum(EXPECTED_KINDS.values())


def test_s3_round_trip_with_plain_boto3(durable_stack):
    # No project code on this path: any AWS tool pointed at the endpoint must just work.
    s3 = boto3.client(
        "s3",
        endpoint_url=durable_stack.env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    body = b'{"ClientID": "C1", "Amount": 12.5}\n' * 100
    key = "kafka_ing_transactions/dt=2026-11-22/roundtrip.jsonl"
    s3.put_object(Bucket="kafka-ing-transactions", Key=key, Body=body)
    listed = s3.list_objects_v2(Bucket="kafka-ing-transactions", Prefix="kafka_ing_transactions/")
    assert [o["Key"] for o in listed["Contents"]] == [key]
    assert s3.get_object(Bucket="kafka-ing-transactions", Key=key)["Body"].read() == body
    s3.delete_object(Bucket="kafka-ing-transactions", Key=key)
    listed = s3.list_objects_v2(Bucket="kafka-ing-transactions", Prefix="kafka_ing_transactions/")
    assert listed["KeyCount"] == 0


def test_consumer_group_of_two_splits_the_partitions(durable_stack):
    settings = durable_stack.settings
    topic = _new_topic(settings, partitions=3)
    group = f"group_{uuid.uuid4().hex[:8]}"
    members = [
        clients.kafka_consumer(settings, topic, group_id=group, auto_offset_reset="earliest")
        for _ in range(2)
    ]
    received: list[list[bytes]] = [[], []]
    stop = threading.Event()

    def run(i: int) -> None:
        while not stop.is_set():
            for records in members[i].poll(timeout_ms=200).values():
                received[i].extend(r.value for r in records)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assignments = [m.assignment() for m in members]
            if all(assignments) and sum(len(a) for a in assignments) == 3:
                break
            time.sleep(0.2)
        parts = [{tp.partition for tp in m.assignment()} for m in members]
        assert parts[0], f"both members need partitions, got {parts}"
        assert parts[1], f"both members need partitions, got {parts}"
        assert parts[0].isdisjoint(parts[1])
        assert parts[0] | parts[1] == {0, 1, 2}

        producer = clients.kafka_producer(settings)
        sent = [f"message-{n}".encode() for n in range(90)]
        for n, value in enumerate(sent):
            producer.send(topic, key=f"key-{n % 30}".encode(), value=value)
        producer.flush(30)
        producer.close()

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(received[0]) + len(received[1]) < len(sent):
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for m in members:
            m.close()
    assert sorted(received[0] + received[1]) == sorted(sent)  # each message once, none lost
    assert received[0]
    assert received[1]


def test_broker_restart_keeps_messages_and_committed_offsets(durable_stack):
    settings, stack = durable_stack.settings, durable_stack.stack
    topic = _new_topic(settings, partitions=2)
    producer = clients.kafka_producer(settings)
    sent = {f"k{n}".encode(): f"value-{n}".encode() for n in range(60)}
    for key, value in sent.items():
        producer.send(topic, key=key, value=value)
    producer.flush(30)
    producer.close()

    group = f"restart_{uuid.uuid4().hex[:8]}"
    committer = clients.kafka_consumer(settings, group_id=group)
    committer.assign([TopicPartition(topic, 0)])
    committer.commit({TopicPartition(topic, 0): clients.offset_and_metadata(7)})
    committer.close()

    old_pid = stack.broker.pid
    stack.restart_broker(timeout=60)
    assert stack.broker.pid != old_pid

    consumer = clients.kafka_consumer(settings, auto_offset_reset="earliest")
    partitions = [TopicPartition(topic, p) for p in range(2)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    got: dict[bytes, bytes] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(got) < len(sent):
        for records in consumer.poll(timeout_ms=500).values():
            got.update((r.key, r.value) for r in records)
    consumer.close()
    assert got == sent

    checker = clients.kafka_consumer(settings, group_id=group)
    try:
        assert checker.committed(TopicPartition(topic, 0)) == 7
    finally:
        checker.close()


def test_external_endpoints_start_nothing(running_stack, tmp_path: Path):
    # LAKESTREAM_EMBEDDED=0: use what the endpoints serve, start no process of our own.
    settings = Settings(run_dir=tmp_path / "run", embedded=False)
    stack = EmbeddedStack(settings)
    outcomes = stack.up(timeout=30)
    assert {o.state for o in outcomes} == {"exists"}
    assert stack.moto.pid is None
    assert stack.broker.pid is None
    assert not list((tmp_path / "run").glob("*.pid"))
    assert [s.managed for s in stack.status()] == [False, False]


def test_endpoint_that_never_answers_is_a_one_line_error(tmp_path: Path):
    settings = Settings(
        aws_endpoint_url=f"http://127.0.0.1:{free_port()}", run_dir=tmp_path, embedded=False
    )
    with pytest.raises(StackError) as caught:
        EmbeddedStack(settings).up(timeout=1)
    message = str(caught.value)
    assert "did not answer within 1s" in message
    assert "\n" not in message


def test_taken_port_is_a_one_line_error(tmp_path: Path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**stack_env(tmp_path / "run"), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        result = subprocess.run(
            [sys.executable, "-m", "orchestration", "up", "--timeout", "10"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert error_lines == [
        f"lakestream: error: 127.0.0.1:{port} is already in use by another program, so the "
        "moto server cannot start there: stop that program, or choose another port in your "
        "settings"
    ]
    assert "Traceback" not in result.stderr


def test_missing_broker_binary_is_a_one_line_error(tmp_path: Path, monkeypatch):
    for name, value in stack_env(tmp_path / "run").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CALF_TANSU_BIN", str(tmp_path / "no-such-tansu"))
    stack = EmbeddedStack(Settings())
    try:
        with pytest.raises(
            StackError, match=r"the Tansu broker binary is not available .* set CALF_TANSU_BIN"
        ):
            stack.up(timeout=30)
    finally:
        stack.down()
    assert stack.moto.pid is None


def test_up_then_down_leaves_no_process(tmp_path: Path):
    env = stack_env(tmp_path / "run")
    run = {**os.environ, **env}
    up = subprocess.run(
        [sys.executable, "-m", "orchestration", "up"],
        env=run, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    pid_files = sorted((tmp_path / "run").glob("*.pid"))
    assert [p.name for p in pid_files] == ["broker-log.pid", "broker.pid", "moto.pid"]
    pids = [json.loads(p.read_text())["pid"] for p in pid_files]
    assert all(psutil.pid_exists(pid) for pid in pids)

    down = subprocess.run(
        [sys.executable, "-m", "orchestration", "down"],
        env=run, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert down.returncode == 0, down.stderr
    assert "Stack is down." in down.stdout
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not list((tmp_path / "run").glob("*.pid"))
    for port in (
        env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1],
        env["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1],
    ):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(port))) != 0
