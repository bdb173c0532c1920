"""Reading topics back in tests (by counts: the embedded broker's end offsets are unreliable),
and brokers of a test's own."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from kafka import TopicPartition

from consumers.groups import end_offsets
from lakestream.core import clients
from lakestream.core.datasets import DEFAULT_CATALOG_PATH, DatasetCatalog, load_catalog
from lakestream.core.settings import Settings
from lakestream.stack.embedded import tansu_binary
from lakestream.stack.processes import port_is_open


def consume_all(
    settings: Settings, topics: dict[str, int], expected: int, timeout: float = 60.0
) -> list:
    """Every record of `topics` ({name: partitions}) from the beginning, waiting for `expected`.

    After the expected count arrives it keeps polling a moment, so duplicates would show.
    """
    consumer = clients.kafka_consumer(settings, auto_offset_reset="earliest")
    parts = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records: list = []
    deadline = time.monotonic() + timeout
    settle_until = None
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if len(records) >= expected and settle_until is None:
                settle_until = time.monotonic() + 1.0
            if settle_until is not None and time.monotonic() >= settle_until:
                break
    finally:
        consumer.close()
    return records


def wait_for_records(settings: Settings, topic: str, partitions: int, timeout: float = 60) -> int:
    """Until `topic` holds a record (a producer is under way): the records it holds by then.

    A consumer's metadata request for a missing topic makes the broker create it with its own
    default partition count: the topic is awaited through the admin API first, which does not.
    """
    starts = dict.fromkeys(range(partitions), 0)
    deadline = time.monotonic() + timeout
    admin = clients.kafka_admin(settings)
    try:
        while topic not in admin.list_topics():
            assert time.monotonic() < deadline, f"{topic} was not created in {timeout:.0f}s"
            time.sleep(0.1)
    finally:
        admin.close()
    while True:
        held = sum(end or 0 for end in end_offsets(settings, topic, starts).values())
        if held or time.monotonic() > deadline:
            assert held, f"no record reached {topic} in {timeout:.0f}s"
            return held
        time.sleep(0.1)


def isolated_catalog(tmp_path: Path, rename_tables: bool = True) -> tuple[Path, DatasetCatalog]:
    """The packaged catalog with topics and tables renamed uniquely: tests never share data."""
    data = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    tag = uuid.uuid4().hex[:8]
    for entry in data["datasets"].values():
        entry["topic"] = f"{entry['topic']}_{tag}"
        if rename_tables:
            entry["table"] = f"{entry['table']}_{tag}"
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, load_catalog(path)


@contextmanager
def memory_broker(folder: Path, port: int, advertised_port: int | None = None) -> Iterator[str]:
    """A Tansu broker of its own, its log in memory (no S3 behind it); yields host:port."""
    log = (folder / f"tansu-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            tansu_binary(), "broker",
            "--listener-url", f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url", f"tcp://127.0.0.1:{advertised_port or port}",
            "--storage-engine", "memory://tansu/",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not port_is_open("127.0.0.1", port, timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tansu did not start: {Path(log.name).read_text()}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()
