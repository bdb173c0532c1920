"""Kafka clients' security: the standard KAFKA_* settings become the same options for
kafka-python and librdkafka; a Secrets Manager reference is read from the moto server over
HTTP; TLS is exercised end to end against a broker reached only through TLS.

SASL itself is not exercised against a broker: Tansu 0.6's in-memory and S3 storage keep no
SCRAM credentials (docs/broker-quirks.md), so the SASL options are checked as built.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError
from kafka.admin import NewTopic
from pydantic import ValidationError

from consumers.clients import ConfluentSinkConsumer, PythonSinkConsumer
from lakestream.core import clients
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings
from lakestream.stack.processes import free_port
from orchestration.cli import main
from producers.clients import CLIENTS, make_client
from producers.topics import ensure_topics
from tests.tls_broker import TlsBroker, make_ca, tls_broker

SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_USERNAME": "sink",
    "KAFKA_SASL_PASSWORD": "correct-horse",
}


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def fresh_secrets():
    clients._SECRETS.clear()
    yield
    clients._SECRETS.clear()


# --- the options each library gets ----------------------------------------------------------


def test_a_process_makes_one_aws_client_per_service_endpoint_credentials_and_options(
    monkeypatch,
) -> None:
    values = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    s3 = clients.aws_client(settings(**values), "s3")
    assert clients.aws_client(settings(**values), "s3") is s3  # another Settings, the same values
    assert clients.aws_client(settings(**values), "glue") is not s3
    assert clients.aws_client(settings(**values), "s3", read_timeout=5) is not s3
    assert clients.aws_client(settings(**{**values, "AWS_ACCESS_KEY_ID": "b"}), "s3") is not s3
    elsewhere = settings(**{**values, "AWS_ENDPOINT_URL": "http://127.0.0.1:4567"})
    assert clients.aws_client(elsewhere, "s3").meta.endpoint_url == "http://127.0.0.1:4567"
    assert clients.aws_client(settings(**values), "s3", shared=False) is not s3
    # A forked child (another process id) never uses its parent's client and connections.
    monkeypatch.setattr(clients.os, "getpid", lambda: -1)
    assert clients.aws_client(settings(**values), "s3") is not s3


def test_a_client_whose_call_got_no_answer_is_not_given_out_again() -> None:
    values = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    once = {"retries": {"mode": "standard", "max_attempts": 1}, "connect_timeout": 1}
    s3 = clients.aws_client(settings(**values), "s3", **once)
    assert clients.aws_client(settings(**values), "s3", **once) is s3
    with pytest.raises(EndpointConnectionError):
        s3.list_buckets()
    # Its retry quota may be spent: the next caller gets a new client, kept in its place.
    fresh = clients.aws_client(settings(**values), "s3", **once)
    assert fresh is not s3
    assert clients.aws_client(settings(**values), "s3", **once) is fresh


def test_a_client_that_found_no_credentials_is_not_kept(monkeypatch, tmp_path) -> None:
    # No keys anywhere: a client made now signs nothing, even once credentials appear (an
    # instance role can answer a second late), so the next caller must get a new client.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(clients, "_SESSION", None)  # a session that has found none yet
    anonymous = settings(LAKESTREAM_TARGET="aws", AWS_REGION="eu-west-1")
    first = clients.aws_client(anonymous, "s3")
    assert clients.aws_client(anonymous, "s3") is not first


def test_plaintext_adds_no_credentials() -> None:
    plain = settings()
    assert clients.kafka_python_security(plain) == {"security_protocol": "PLAINTEXT"}
    assert clients.librdkafka_security(plain) == {"security.protocol": "plaintext"}


def test_sasl_ssl_builds_the_same_options_for_both_libraries(tmp_path) -> None:
    ca, _ = make_ca(tmp_path)
    secure = settings(**SASL, KAFKA_SSL_CAFILE=str(ca))
    assert clients.kafka_python_security(secure) == {
        "security_protocol": "SASL_SSL",
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "sink",
        "sasl_plain_password": "correct-horse",
    }
    assert clients.librdkafka_security(secure) == {
        "security.protocol": "sasl_ssl",
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.ca.location": str(ca),
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "sink",
        "sasl.password": "correct-horse",
    }
    options = clients.kafka_python_options(secure, "lakestream-producer")
    assert options["client_id"] == "lakestream-producer"
    assert options["sasl_plain_password"] == "correct-horse"


def test_a_missing_ca_file_is_named() -> None:
    missing = settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE="/nowhere/ca.pem")
    with pytest.raises(LakestreamError, match=r"KAFKA_SSL_CAFILE '/nowhere/ca.pem' is not a file"):
        clients.librdkafka_options(missing)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_PASSWORD"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": "x"},
            "needs KAFKA_SASL_USERNAME",
        ),
        ({"KAFKA_SASL_USERNAME": "sink"}, "KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        ({"KAFKA_SSL_CAFILE": "ca.pem"}, "TLS is used only with SSL or SASL_SSL"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({**SASL, "KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
    ],
)
def test_incomplete_security_settings_are_refused(values, message) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_protocol_and_mechanism_are_case_insensitive() -> None:
    lower = settings(
        **{**SASL, "KAFKA_SECURITY_PROTOCOL": "sasl_ssl"}, KAFKA_SASL_MECHANISM="scram-sha-256"
    )
    assert (lower.kafka_security_protocol, lower.kafka_sasl_mechanism) == (
        "SASL_SSL",
        "SCRAM-SHA-256",
    )


# --- passwords from Secrets Manager (the moto server) -------------------------------------------


def _secret(running_stack, value: str) -> str:
    sm = clients.aws_client(running_stack.settings, "secretsmanager")
    return sm.create_secret(Name=f"lakestream-kafka/{uuid.uuid4().hex[:8]}", SecretString=value)[
        "ARN"
    ]


def _referring(running_stack, reference: str, **values: str) -> Settings:
    return Settings(
        _env_file=None,
        AWS_ENDPOINT_URL=running_stack.settings.aws_endpoint_url,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_PASSWORD=f"secretsmanager:{reference}",
        **values,
    )


def test_user_and_password_come_from_the_referenced_secret(running_stack) -> None:
    arn = _secret(running_stack, json.dumps({"username": "sink", "password": "from-the-vault"}))
    referring = _referring(running_stack, arn)
    assert referring.kafka_sasl_secret == arn
    assert clients.kafka_credentials(referring) == ("sink", "from-the-vault")
    assert clients.librdkafka_security(referring)["sasl.password"] == "from-the-vault"
    assert clients.kafka_python_security(referring)["sasl_plain_username"] == "sink"
    # Read once per process: a second client does not ask again (the secret is gone now).
    clients.aws_client(running_stack.settings, "secretsmanager").delete_secret(
        SecretId=arn, ForceDeleteWithoutRecovery=True
    )
    assert clients.kafka_credentials(referring) == ("sink", "from-the-vault")


def test_a_plain_secret_is_the_password_and_the_setting_names_the_user(running_stack) -> None:
    arn = _secret(running_stack, "only-a-password")
    referring = _referring(running_stack, arn, KAFKA_SASL_USERNAME="producers")
    assert clients.kafka_credentials(referring) == ("producers", "only-a-password")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "could not be read: ResourceNotFoundException"),
        (json.dumps({"username": "sink"}), 'JSON without a "password" field'),
    ],
)
def test_an_unusable_secret_is_a_clear_error(running_stack, value, message) -> None:
    reference = _secret(running_stack, value) if value else "lakestream-kafka/no-such-secret"
    with pytest.raises(LakestreamError, match=message):
        clients.kafka_python_security(_referring(running_stack, reference))


def test_config_masks_the_password_and_shows_a_reference(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in SASL.items():
        monkeypatch.setenv(name, value)
    assert main(["config"]) == 0
    shown = capsys.readouterr().out
    assert "correct-horse" not in shown
    assert "KAFKA_SASL_PASSWORD" in shown
    assert "****" in shown
    assert "SASL_SSL" in shown
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secretsmanager:lakestream-kafka/sink")
    assert main(["config"]) == 0
    assert "secretsmanager:lakestream-kafka/sink" in capsys.readouterr().out


# --- TLS end to end -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> TlsBroker:
    with tls_broker(tmp_path_factory.mktemp("tls")) as running:
        yield running


def _tls(broker: TlsBroker, ca_file: Path | None = None) -> Settings:
    return settings(
        LAKESTREAM_EMBEDDED="0",
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CAFILE=str(ca_file or broker.ca_file),
    )


@pytest.mark.parametrize("producer", [c for c in CLIENTS if c != "auto"])
def test_records_travel_over_tls_with_every_client(broker, producer) -> None:
    secure = _tls(broker)
    topic = f"tls-{producer}-{uuid.uuid4().hex[:6]}"
    admin = clients.kafka_admin(secure)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    before = broker.proxy.handshakes
    client = make_client(producer, secure)
    reports: list[str | None] = []
    for i in range(25):
        client.send(topic, b"key", f"record-{i}".encode(), reports.append)
    assert client.flush(15)
    client.close()
    assert reports == [None] * 25
    # Both sink consumers read them back through the same TLS listener.
    for consumer_class in (PythonSinkConsumer, ConfluentSinkConsumer):
        consumer = consumer_class(secure, topic, f"tls-{uuid.uuid4().hex[:6]}", "test")
        consumer.assign([0])  # a new group: from the earliest offset
        values: list[bytes] = []
        for _ in range(40):
            values += [v for polled in consumer.poll(0.5) for v in polled.values]
            if len(values) >= 25:
                break
        consumer.close()
        assert values == [f"record-{i}".encode() for i in range(25)], consumer_class.name
    assert broker.proxy.handshakes > before  # every connection was a TLS session


def test_a_broker_signed_by_another_ca_is_refused_with_the_reason(broker, tmp_path) -> None:
    other_ca, _ = make_ca(tmp_path, "someone-else")
    untrusting = _tls(broker, other_ca)
    before = broker.proxy.refused
    with pytest.raises(LakestreamError) as refused:
        ensure_topics(untrusting, [])
    message = str(refused.value)
    assert "certificate verify failed" in message
    assert str(other_ca) in message
    assert broker.proxy.refused > before
    assert clients.kafka_tls_problem(_tls(broker)) is None


def _refused_settings(broker: TlsBroker, tmp_path: Path, case: str) -> Settings:
    if case == "login":  # Tansu 0.6 keeps no SCRAM users: any login is refused
        return settings(
            LAKESTREAM_EMBEDDED="0",
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            KAFKA_SSL_CAFILE=str(broker.ca_file),
            **SASL,
        )
    other_ca, _ = make_ca(tmp_path, "someone-else")
    return _tls(broker, other_ca)


@pytest.mark.parametrize(
    ("case", "reason"),
    [("login", "Unsupported SASL mechanism"), ("certificate", "certificate verify failed")],
)
def test_librdkafka_clients_stop_on_a_refusal_with_its_reason(broker, tmp_path, case, reason):
    """librdkafka retries a refused connection forever and raises nothing: without its error
    callback a sink or producer with a wrong password would sit up doing nothing."""
    refused = _refused_settings(broker, tmp_path, case)
    with pytest.raises(LakestreamError) as sink:
        ConfluentSinkConsumer(refused, "transactions_topic", "g", "test")
    with pytest.raises(LakestreamError) as producer:
        make_client("confluent", refused)
    for raised in (sink, producer):
        message = str(raised.value)
        assert f"Kafka at {broker.bootstrap} refused this client" in message
        assert reason in message
        assert SASL["KAFKA_SASL_PASSWORD"] not in message


def test_a_refused_sink_exits_with_one_line_and_no_secret(broker, tmp_path):
    env = {
        **os.environ,
        "LAKESTREAM_EMBEDDED": "0",
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "KAFKA_SSL_CAFILE": str(broker.ca_file),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never reached: Kafka refuses first
        **SASL,
    }
    run = subprocess.run(
        [sys.executable, "-m", "consumers", "--topics", "transactions"],  # --client auto
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert SASL["KAFKA_SASL_PASSWORD"] not in run.stderr + run.stdout
    [last] = run.stderr.strip().splitlines()[-1:]
    assert last.startswith("consumers: error: transactions-0: LakestreamError: Kafka at ")
    assert "refused this client" in last
    assert "Unsupported SASL mechanism" in last


def test_no_kafka_client_is_built_around_the_option_builders() -> None:
    """A client given its brokers by hand would miss the security settings: only the builders
    in lakestream/core/clients.py name them."""
    root = Path(__file__).resolve().parents[3]
    packages = (
        "lakestream",
        "producers",
        "consumers",
        "curation",
        "glue",
        "engines",
        "athena_api",
        "simulator",
    )
    by_hand = re.compile(r'"bootstrap[._]servers"|(?<!\w)bootstrap_servers=')
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for package in packages
        for path in (root / package).rglob("*.py")
        if path != root / "lakestream" / "core" / "clients.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert not offenders, offenders


def test_a_client_shared_by_every_api_thread_keeps_a_connection_for_each(
    running_stack, caplog
) -> None:
    """The API's workers share their boto3 clients between their API_THREADS threads. With
    botocore's pool of 10, more threads at once each dropped a connection after its call
    ("Connection pool is full") and opened a new one next time."""
    threads = 16
    lake = running_stack.settings.model_copy(update={"api_threads": threads})
    s3 = clients.aws_client(lake, "s3")
    assert s3.meta.config.max_pool_connections == threads
    start = threading.Barrier(threads)

    def call() -> None:
        start.wait()
        for _ in range(3):
            s3.list_buckets()

    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        workers = [threading.Thread(target=call) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
