"""Producer clients behind one small interface: kafka-python and confluent-kafka (librdkafka).

Both are configured to lose nothing: acks from all in-sync replicas, idempotence (so retries
never duplicate), bounded in-flight requests, and generous delivery timeouts. Both partition
keys with murmur2, as the Java client does, so a key lands in the same partition whichever
client sent it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from lakestream.core import clients
from lakestream.core.errors import LakestreamError, describe, kafka_unreachable
from lakestream.core.settings import Settings

# Called once per message when the broker acknowledges it (None) or gives up (the reason).
Report = Callable[[str | None], None]

CLIENTS = ("auto", "kafka-python", "confluent")

# Shared tuning: ~20 ms of batching, 256 KiB batches, lz4 (cheap CPU, fewer bytes to the broker).
LINGER_MS = 20
BATCH_BYTES = 256 * 1024
COMPRESSION = "lz4"
DELIVERY_TIMEOUT_MS = 120_000


class ProducerError(LakestreamError):
    """The producer cannot run (unreachable broker, missing client library, ...)."""


class ProducerClient(ABC):
    name: str

    @abstractmethod
    def send(self, topic: str, key: bytes, value: bytes, report: Report) -> None:
        """Hand one message to the client; `report` is called once it is settled."""

    @abstractmethod
    def flush(self, timeout: float) -> bool:
        """Wait until everything handed over is settled; False if the timeout came first."""

    @abstractmethod
    def close(self) -> None: ...


def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """kafka-python's producer settings: delivery (acks, idempotence) and batching."""
    return {
        **clients.kafka_python_options(settings, "lakestream-producer"),
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": LINGER_MS,
        "batch_size": BATCH_BYTES,
        "compression_type": COMPRESSION,
        "delivery_timeout_ms": DELIVERY_TIMEOUT_MS,
        "max_block_ms": 60_000,
    }


def librdkafka_config(settings: Settings) -> dict[str, Any]:
    """librdkafka's producer settings, the same choices as `kafka_python_config`."""
    return {
        **clients.librdkafka_options(settings, "lakestream-producer"),
        "acks": "all",
        "enable.idempotence": True,
        "max.in.flight.requests.per.connection": 5,
        "linger.ms": LINGER_MS,
        "batch.size": BATCH_BYTES,
        "compression.type": COMPRESSION,
        "message.timeout.ms": DELIVERY_TIMEOUT_MS,
        # librdkafka's default (consistent_random, CRC32) would place keys differently.
        "partitioner": "murmur2_random",
    }


class KafkaPythonClient(ProducerClient):
    name = "kafka-python"

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        config = {**kafka_python_config(settings), **overrides}
        try:
            self._producer = KafkaProducer(**config)
        except KafkaError as exc:
            raise kafka_unreachable(settings.kafka_bootstrap_servers, type(exc).__name__) from None

    def send(self, topic: str, key: bytes, value: bytes, report: Report) -> None:
        try:
            future = self._producer.send(topic, key=key, value=value)
        except Exception as exc:  # buffer full past max_block_ms, closed producer, ...
            report(describe(exc))
            return
        future.add_callback(lambda _meta: report(None))
        future.add_errback(lambda exc: report(describe(exc)))

    def flush(self, timeout: float) -> bool:
        from kafka.errors import KafkaTimeoutError

        try:
            self._producer.flush(timeout=timeout)
            return True
        except KafkaTimeoutError:
            return False

    def close(self) -> None:
        self._producer.close(timeout=5)


class ConfluentClient(ProducerClient):
    name = "confluent"

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        from confluent_kafka import Producer

        config = {**librdkafka_config(settings), **overrides}
        self._errors = clients.LibrdkafkaErrors(settings.kafka_bootstrap_servers)
        self._producer = Producer({**config, "error_cb": self._errors})
        try:
            self._errors.check_reachable(self._producer, 5)
        except LakestreamError as exc:
            raise ProducerError(str(exc)) from None

    def send(self, topic: str, key: bytes, value: bytes, report: Report) -> None:
        def delivered(err: Any, _msg: Any) -> None:
            report(None if err is None else str(err))

        try:
            self._errors.raise_if_refused()  # else every message would wait out its timeout
        except LakestreamError as exc:
            raise ProducerError(str(exc)) from None
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=delivered)
                break
            except BufferError:  # local queue full: serve callbacks, then retry
                self._producer.poll(0.05)
            except Exception as exc:  # unknown topic in the client's view, oversize message
                report(describe(exc))
                return
        self._producer.poll(0)

    def flush(self, timeout: float) -> bool:
        return self._producer.flush(timeout) == 0

    def close(self) -> None:
        self._producer.flush(5)


def make_client(kind: str, settings: Settings, **overrides: Any) -> ProducerClient:
    kind = clients.kafka_client_named(kind, settings)
    if kind == "kafka-python":
        return KafkaPythonClient(settings, **overrides)
    if kind == "confluent":
        return ConfluentClient(settings, **overrides)
    raise ProducerError(f"unknown client {kind!r}; choose one of {', '.join(CLIENTS)}")
