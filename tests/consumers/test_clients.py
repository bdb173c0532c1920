"""The sink's Kafka clients as configured (pure logic: no broker). What they do against a real
broker, refusals included, is in tests/lakestream/core/test_clients.py and the sink tests."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError

from consumers.clients import confluent_config, resolve_client
from lakestream.core import clients
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

EMBEDDED = Settings(_env_file=None, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092")
CLUSTER = Settings(
    _env_file=None,
    LAKESTREAM_EMBEDDED="0",
    KAFKA_BOOTSTRAP_SERVERS="b-1.lake.internal:9096,b-2.lake.internal:9096",
    KAFKA_SECURITY_PROTOCOL="SASL_SSL",
    KAFKA_SASL_USERNAME="sink",
    KAFKA_SASL_PASSWORD="correct-horse",
)


def test_the_embedded_brokers_short_group_timings_stay_off_a_cluster():
    local = confluent_config(EMBEDDED, "g", "c")
    assert (local["session.timeout.ms"], local["heartbeat.interval.ms"]) == (15000, 1000)
    cluster = confluent_config(CLUSTER, "g", "c")
    assert "session.timeout.ms" not in cluster  # librdkafka's 45 s / 3 s
    assert "heartbeat.interval.ms" not in cluster
    assert clients.group_timings(EMBEDDED, "kafka-python") == (6000, 1000)
    assert clients.group_timings(CLUSTER, "kafka-python") is None
    tunnel = Settings(_env_file=None, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9096",
                      KAFKA_SECURITY_PROTOCOL="SSL")  # fmt: skip
    assert clients.group_timings(tunnel, "confluent") is None  # a secured broker is a cluster


@pytest.mark.parametrize("settings", [EMBEDDED, CLUSTER])
def test_the_protocol_and_isolation_are_pinned(settings):
    config = confluent_config(settings, "lakestream-sink-transactions", "c")
    assert config["group.protocol"] == "classic"
    assert config["isolation.level"] == "read_committed"  # what the gap probe reads at
    assert config["enable.auto.commit"] is False
    assert config["group.id"] == "lakestream-sink-transactions"


@pytest.mark.parametrize(
    ("bootstrap", "protocol", "client"),
    [
        ("127.0.0.1:9092", "PLAINTEXT", "kafka-python"),  # the embedded broker
        ("localhost:19092", "PLAINTEXT", "kafka-python"),
        ("b-1.lake.internal:9096", "SASL_SSL", "confluent"),
        ("127.0.0.1:9092,127.0.0.1:9093", "PLAINTEXT", "confluent"),  # several brokers
        ("127.0.0.1:9094", "SSL", "confluent"),  # secured: a cluster through a tunnel
    ],
)
def test_auto_is_librdkafka_on_a_cluster_and_kafka_python_on_the_embedded_broker(
    bootstrap, protocol, client
):
    values = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_SECURITY_PROTOCOL": protocol}
    if protocol.startswith("SASL"):
        values |= {"KAFKA_SASL_USERNAME": "sink", "KAFKA_SASL_PASSWORD": "correct-horse"}
    settings = Settings(_env_file=None, **values)
    assert resolve_client("auto", settings) == client
    assert resolve_client("kafka-python", CLUSTER) == "kafka-python"  # a named client is kept
    with pytest.raises(ValueError, match="unknown sink client"):
        resolve_client("rdkafka", CLUSTER)


@pytest.mark.parametrize(
    ("code", "fatal", "refused"),
    [
        (KafkaError._AUTHENTICATION, False, True),  # SASL handshake or credentials refused
        (KafkaError.SASL_AUTHENTICATION_FAILED, False, True),
        (KafkaError._SSL, False, True),  # a certificate the CA file does not trust
        (KafkaError._TRANSPORT, False, False),  # a broker restarting: librdkafka retries
        (KafkaError._ALL_BROKERS_DOWN, False, False),
        (KafkaError._FATAL, True, True),
    ],
)
def test_a_refusal_is_raised_and_a_transient_error_only_logged(code, fatal, refused, caplog):
    errors = clients.LibrdkafkaErrors("b-1:9096")
    caplog.set_level(logging.WARNING, "lakestream.clients")
    for after in (0, 1, 2):  # librdkafka repeats itself on every retry
        errors(
            KafkaError(
                code, f"b-1:9096/bootstrap: it failed (after {after}ms in state UP)", fatal=fatal
            )
        )
    assert [r.getMessage() for r in caplog.records] == ["kafka: b-1:9096/bootstrap: it failed"]
    if not refused:
        errors.raise_if_refused()
        return
    with pytest.raises(LakestreamError) as raised:
        errors.raise_if_refused()
    message = str(raised.value)
    assert message.startswith(
        "Kafka at b-1:9096 refused this client (b-1:9096/bootstrap: it failed)"
    )
    assert "KAFKA_SASL_USERNAME" in message
