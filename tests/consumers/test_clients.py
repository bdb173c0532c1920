"""The sink's Kafka clients as configured (pure logic: no broker). What they do against a real
broker, refusals included, is in tests/lakestream/core/test_clients.py and the sink tests."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError

from consumers.clients import ConfluentSinkConsumer, confluent_config, resolve_client
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
        ("127.0.0.1:9092 not embedded", "PLAINTEXT", "confluent"),  # LAKESTREAM_EMBEDDED=0
    ],
)
def test_auto_is_librdkafka_on_a_cluster_and_kafka_python_on_the_embedded_broker(
    bootstrap, protocol, client
):
    bootstrap, _, embedded = bootstrap.partition(" ")
    values = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_SECURITY_PROTOCOL": protocol}
    if embedded:
        values["LAKESTREAM_EMBEDDED"] = "0"
    if protocol.startswith("SASL"):
        values |= {"KAFKA_SASL_USERNAME": "sink", "KAFKA_SASL_PASSWORD": "correct-horse"}
    settings = Settings(_env_file=None, **values)
    assert resolve_client("auto", settings) == client
    assert resolve_client("kafka-python", CLUSTER) == "kafka-python"  # a named client is kept
    with pytest.raises(ValueError, match="unknown sink client"):
        resolve_client("rdkafka", CLUSTER)


CUT = "Local: Broker transport failure"


@pytest.mark.parametrize(
    ("code", "text", "refused"),
    [
        (KafkaError._AUTHENTICATION, "SASL authentication error: Authentication failed", True),
        (KafkaError._SSL, "SSL handshake failed: certificate verify failed", True),
        # The same codes for passing faults: told apart by their text.
        (KafkaError._AUTHENTICATION, f"SASL mechanism handshake failed: {CUT}", False),
        (KafkaError._SSL, "SSL transport error: Connection reset by peer", False),
        (KafkaError._TRANSPORT, "Connect to ipv4#10.0.0.1:9096 failed: Connection refused", False),
        (KafkaError._ALL_BROKERS_DOWN, "3/3 brokers are down", False),
    ],
)  # fmt: skip
def test_a_refusal_stops_a_client_at_start_and_a_passing_fault_never(code, text, refused, caplog):
    errors = clients.LibrdkafkaErrors("b-1:9096")
    caplog.set_level(logging.WARNING, "lakestream.clients")
    for after in (0, 1):  # librdkafka repeats itself on every retry
        errors(KafkaError(code, f"b-1:9096/bootstrap: {text} (after {after}ms in state UP)"))
    suppressed = "(after 2ms in state UP, 4 identical error(s) suppressed)"
    errors(KafkaError(code, f"b-1:9096/bootstrap: {text} {suppressed}"))
    assert [r.getMessage() for r in caplog.records] == [f"kafka: b-1:9096/bootstrap: {text}"]
    if not refused:
        errors.raise_if_refused(at_start=True)
        return
    with pytest.raises(LakestreamError) as raised:
        errors.raise_if_refused(at_start=True)
    message = str(raised.value)
    assert message.startswith(f"Kafka at b-1:9096 refused this client (b-1:9096/bootstrap: {text})")
    assert "KAFKA_SASL_USERNAME" in message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refusal() -> KafkaError:
    return KafkaError(KafkaError._AUTHENTICATION, "b-1:9096/bootstrap: Authentication failed")


def test_a_running_client_stops_only_on_a_refusal_that_lasts(monkeypatch):
    """A credential still reaching one broker after a rotation, or a broker rolling, passes;
    a wrong password goes on being refused, and stops the client after REFUSAL_PERSIST_S.
    librdkafka reports an identical error from one broker once per 30 s at most, so a refusal
    that goes on arrives every 30-45 s."""
    clock = Clock()
    monkeypatch.setattr(clients.time, "monotonic", clock)
    errors = clients.LibrdkafkaErrors("b-1:9096")
    errors(_refusal())
    errors.raise_if_refused()  # one refusal: not yet
    clock.now += clients.REFUSAL_QUIET_S + 1  # then quiet: the episode is over
    errors.raise_if_refused()
    start = clock.now
    errors(_refusal())  # a new episode starts its own clock
    while clock.now - start < clients.REFUSAL_PERSIST_S:
        errors.raise_if_refused()
        clock.now += 44  # the slowest cadence librdkafka reports at
        errors(_refusal())
    with pytest.raises(LakestreamError, match="refused this client"):
        errors.raise_if_refused()


def test_a_fatal_error_stops_a_running_client_at_once():
    errors = clients.LibrdkafkaErrors("b-1:9096")
    errors(KafkaError(KafkaError._FATAL, "b-1:9096: producer fenced", fatal=True))
    with pytest.raises(LakestreamError, match="producer fenced"):
        errors.raise_if_refused()


# --- ACL refusals: Tansu has no ACLs, so these stand in for librdkafka's objects -------------


class _Message:
    def __init__(self, error: KafkaError) -> None:
        self._error = error

    def error(self) -> KafkaError:
        return self._error


class _Consumer:
    """What librdkafka's consume() and list_topics() return when the user's ACLs refuse."""

    def __init__(self, error: KafkaError) -> None:
        self.error = error

    def consume(self, _count: int, _timeout: float) -> list[_Message]:
        return [_Message(self.error)]

    def list_topics(self, topic: str, timeout: float) -> object:
        metadata = type("TopicMetadata", (), {"error": self.error})()
        return type("ClusterMetadata", (), {"topics": {topic: metadata}})()

    def poll(self, _timeout: float) -> None:
        return None


@pytest.mark.parametrize(
    "code", [KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED]
)
def test_an_acl_refusal_stops_the_librdkafka_sink_as_kafka_python_does(code):
    error = KafkaError(code)
    sink = object.__new__(ConfluentSinkConsumer)  # its state, without a broker
    sink.topic, sink.consumer, sink.servers = "transactions_topic", _Consumer(error), "b-1:9096"
    sink.errors = clients.LibrdkafkaErrors(sink.servers)
    with pytest.raises(LakestreamError, match="refuses this client access to transactions_topic"):
        sink.poll(0.1)
    if code == KafkaError.TOPIC_AUTHORIZATION_FAILED:  # the metadata says so at start
        with pytest.raises(
            LakestreamError, match=r"access to transactions_topic or its group: .*ACLs"
        ):
            sink.errors.check_reachable(sink.consumer, 1, "transactions_topic")


def test_an_unknown_topic_is_not_an_acl_refusal():
    sink = object.__new__(ConfluentSinkConsumer)
    sink.topic = "transactions_topic"
    sink.consumer = _Consumer(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
    sink.servers = "b-1:9096"
    sink.errors = clients.LibrdkafkaErrors(sink.servers)
    assert sink.poll(0.1) == []  # logged; the group's grace decides (consumers/sink.py)
    sink.errors.check_reachable(sink.consumer, 1, "transactions_topic")


def test_kafka_python_checks_record_crcs_with_the_crc32c_package():
    """kafka-python's documented `crc32c` extra: without it, every fetched batch's CRC-32C is
    computed in pure Python, a quarter of the sink's CPU (py-spy, 2026-12-07)."""
    import crc32c
    from kafka.record import util

    assert util.calc_crc32c.__defaults__ == (crc32c.crc32c,)
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283  # CRC-32C's check value
