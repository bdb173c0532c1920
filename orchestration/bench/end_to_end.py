"""`make bench`'s end-to-end section: saturation rate, then send → landed and send → queryable
latency at half of it, on one broker, next to that broker's raw produce ceiling."""

from __future__ import annotations

import gzip
import io
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import pyarrow as pa
import pyarrow.json as pj
from kafka import KafkaProducer

from consumers import SinkOptions, SinkRun
from consumers.run import sink_command
from curation.catalog import iceberg_catalog
from curation.maintain import maintain
from curation.run import curate
from curation.tables import identifier
from curation.watermark import read_watermark
from engines.tables import GlueCatalog
from glue.crawler import LocalCrawler
from lakestream.core import clients, layout
from lakestream.core.settings import Settings
from lakestream.stack.broker_log import BrokerLogRetention
from orchestration.bench.producers import bench_client, fastest_client
from orchestration.bench.report import Figure, percentile
from producers.clients import kafka_python_config, librdkafka_config
from simulator import SimulationConfig, Simulator

log = logging.getLogger(__name__)


def _coordinates(body: bytes) -> list[tuple[int, int]]:
    """(partition, offset) of every row of a JSON-lines object, parsed by Arrow (the watcher
    must keep up with the sink without taking the producer's CPU)."""
    schema = pa.schema([("kafka_partition", pa.int64()), ("kafka_offset", pa.int64())])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    table = pj.read_json(io.BytesIO(gzip.decompress(body)), parse_options=options)
    return list(
        zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True)
    )


def _timed_sender(
    settings: Settings, topic: str, sent: dict[tuple[int, int], float]
) -> tuple[Callable[[bytes, bytes], None], Callable[[], None]]:
    """send(key, value) recording each message's send time under its (partition, offset), and
    flush(). librdkafka when installed: the Python client would take the CPU being measured.
    It sends as the project's producers do (`producers/clients.py`: idempotent, batched,
    compressed), as in the raw ceiling these figures are compared with: each batch is an object
    in the broker's log, and each idempotent batch also updates the broker's state there."""
    if fastest_client() == "confluent":
        from confluent_kafka import Producer

        producer = Producer(librdkafka_config(settings))

        def send(key: bytes, value: bytes) -> None:
            t = time.monotonic()

            def delivered(err: Any, msg: Any) -> None:
                if err is None:
                    sent[(msg.partition(), msg.offset())] = t

            while True:
                try:
                    producer.produce(topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:  # the local queue is full: at full speed, it fills
                    producer.poll(0.05)
            producer.poll(0)

        return send, lambda: producer.flush(120)
    fallback = KafkaProducer(**kafka_python_config(settings))

    def send_python(key: bytes, value: bytes) -> None:
        t = time.monotonic()
        fallback.send(topic, key=key, value=value).add_callback(
            lambda meta, t=t: sent.__setitem__((meta.partition, meta.offset), t)
        )

    def flush_python() -> None:
        fallback.flush(120)
        fallback.close()

    return send_python, flush_python


class _Watcher:
    """A thread that polls until stopped (`_watch`)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _watch(self) -> None:
        raise NotImplementedError


class LandingWatcher(_Watcher):
    """Watches the table's prefix: when each (partition, offset) first appears in an object
    (landed), and when its day is also a partition of the Glue table (queryable: what the next
    query reads). Objects are parsed by Arrow, so the watcher keeps up without taking the CPU
    being measured."""

    def __init__(self, settings: Settings, ds: Any) -> None:
        self.s3 = clients.aws_client(settings, "s3")
        self.bucket, self.prefix = settings.bucket(ds), layout.data_prefix(ds.table)
        self.table = ds.table
        self.catalog = GlueCatalog(settings)  # what the engines read: the table's days
        self.landed: dict[tuple[int, int], float] = {}
        self.queryable: dict[tuple[int, int], float] = {}
        self._pending: dict[str, list[tuple[int, int]]] = {}  # day -> landed, not registered
        # Objects already there belong to earlier steps: never downloaded, never counted.
        self._done = {o["Key"] for o in clients.list_objects(self.s3, self.bucket, self.prefix)}
        super().__init__()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for obj in clients.list_objects(self.s3, self.bucket, self.prefix):
                if obj["Key"] in self._done:
                    continue
                self._done.add(obj["Key"])
                raw = layout.parse_key(obj["Key"])
                if raw is None:
                    continue  # not a batch object
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                now = time.monotonic()
                coordinates = _coordinates(body)
                for c in coordinates:
                    self.landed.setdefault(c, now)
                self._pending.setdefault(raw.dt, []).extend(coordinates)
            days = set(self.catalog.table(self.table).partitions)
            now = time.monotonic()
            for day in [d for d in self._pending if d in days]:
                for c in self._pending.pop(day):
                    self.queryable.setdefault(c, now)
            time.sleep(0.2)

    def wait_for(self, sent: dict[tuple[int, int], float], seen: dict, timeout: float) -> None:
        """Until every sent record is in `seen` (landed or queryable). Only this step's records
        land while it waits, so counting is enough (and costs no CPU the sink needs)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(seen) < len(sent):
            time.sleep(0.2)


class CuratedWatcher(_Watcher):
    """Polls the curated table's watermark, which each pass commits with its rows: once a
    record's offset is under it, a query on layer=curated reads the record."""

    def __init__(self, settings: Settings, ds: Any) -> None:
        self.catalog = iceberg_catalog(settings)
        self.name = identifier(settings, ds)
        self.last = dict(read_watermark(self.catalog.load_table(self.name)).offsets)
        self.advances: dict[int, list[tuple[int, float]]] = {}  # partition -> (watermark, when)
        super().__init__()

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            try:
                offsets = read_watermark(self.catalog.load_table(self.name)).offsets
            except Exception as exc:  # a commit under way, moto busy: look again
                log.debug("curated watermark not read: %s", exc)
                continue
            now = time.monotonic()
            for partition, offset in offsets.items():
                if offset > self.last.get(partition, 0):
                    self.advances.setdefault(partition, []).append((offset, now))
                    self.last[partition] = offset

    def covered_at(self, partition: int, offset: int) -> float | None:
        """When the watermark first passed `offset` (None: not yet)."""
        return next((t for w, t in self.advances.get(partition, []) if offset < w), None)

    def wait_for(self, sent: dict[tuple[int, int], float], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(o >= self.last.get(p, 0) for p, o in list(sent)):
            time.sleep(0.5)


def _curation_process(settings: Settings, ds: Any, follow: float) -> subprocess.Popen[bytes]:
    """`python -m curation --follow`, as the service runs it, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "curation", "--datasets", ds.name, "--group-prefix", "bench-e2e",
         "--follow", str(follow), "--json"],
        env={**os.environ, **settings.child_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


FASTEST = ("--assignment", "manual", "--client", fastest_client())


def _sink_process(
    settings: Settings, ds: Any, *options: str, choice: tuple[str, ...] = FASTEST
) -> subprocess.Popen[bytes]:
    """The sink in a process of its own, as deployed: in the bench's process it would share the
    GIL with the producer and the watcher. By default the fastest client with manual
    assignment; `choice=()` is the sink's own defaults (`--client auto --assignment auto`)."""
    return subprocess.Popen(
        sink_command(ds.name, 600, "bench-e2e", *choice, *options),
        env={**os.environ, **settings.child_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _saturation(
    settings: Settings, ds: Any, prepared: Any, choice: tuple[str, ...]
) -> tuple[float, int]:
    """(records/s sent → landed, records landed): everything sent at full speed while the sink
    runs with batch age 1 s."""
    _trim_broker_log(settings, ds)
    sink = _sink_process(settings, ds, "--max-age", "1", choice=choice)
    time.sleep(5)  # the sink process starts and takes its partitions before the clock starts
    watcher = LandingWatcher(settings, ds).start()
    sent: dict[tuple[int, int], float] = {}
    send, flush = _timed_sender(settings, ds.topic, sent)
    first_sent = time.monotonic()
    for key, value in zip(prepared.keys, prepared.values, strict=True):
        send(key, value)
    flush()
    watcher.wait_for(sent, watcher.landed, timeout=300)
    _stop(sink)
    landed = [watcher.landed[k] for k in sent if k in watcher.landed]
    watcher.stop()
    return (len(landed) / (max(landed) - first_sent) if landed else 0.0), len(landed)


def _stop(sink: subprocess.Popen[bytes]) -> None:
    sink.terminate()  # SIGTERM: it writes and commits what it holds, then exits
    sink.wait(60)


def section(settings: Settings, quick: bool) -> list[Figure]:
    """End to end on one broker, in three steps, after measuring its raw produce ceiling:

    1. N records sent at full speed while the sink runs (batch age 1 s, so the last partial
       batch's wait does not dominate; the other limits are the defaults);
    2. the rate: N ÷ (last landed - first sent);
    3. half that rate, steady, with a 1 s batch age: send → landed and send → queryable (no
       crawl: the sink registers each day), p50 and p99.

    Each rate is printed next to that ceiling (the fastest client, pre-serialised messages to
    the four topics). Figures are labelled with where the broker keeps its log."""
    ds = settings.datasets.get("transactions")
    log = f"{settings.broker_storage} log"
    client = fastest_client()
    ceiling = bench_client(settings, client, 5_000 if quick else 25_000, seed=7).raw_per_s
    base_name = f"{client} raw produce ceiling, same broker"
    # The warm-up drains what the ceiling sent, so the steps below start with no backlog.
    warm = SinkOptions(group_prefix="bench-e2e", until_idle=1.0, assignment="manual")
    SinkRun(settings, [ds], warm, name="e2e-warm").start().wait()
    LocalCrawler(settings).crawl(ds)  # the table exists; every day after is the sink's to add
    records = 30_000 if quick else 300_000
    sim = Simulator(SimulationConfig(start=datetime(2031, 1, 1, tzinfo=UTC)))  # new days only
    prepared = sim.messages(ds.name, records)  # serialised before the clock starts

    # 1-2. Saturation: the fastest sink, then the sink as a user starts it (its defaults).
    saturation, landed = _saturation(settings, ds, prepared, FASTEST)
    default_rate, default_landed = _saturation(settings, ds, prepared, ())
    default_client = clients.auto_kafka_client(settings)

    # 3. Latency at half the saturation rate, batch age 1 s.
    _trim_broker_log(settings, ds)
    sink = _sink_process(settings, ds, "--max-age", "1")
    time.sleep(5)
    watcher = LandingWatcher(settings, ds).start()
    sent: dict[tuple[int, int], float] = {}
    send, flush = _timed_sender(settings, ds.topic, sent)
    seconds, rate = (8, int(saturation / 2)) if quick else (20, int(saturation / 2))
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        tick = time.monotonic()
        batch = sim.messages(ds.name, max(1, rate // 10))
        for key, value in zip(batch.keys, batch.values, strict=True):
            send(key, value)
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    flush()
    watcher.wait_for(sent, watcher.queryable, timeout=120)
    _stop(sink)
    watcher.stop()
    to_landed = [watcher.landed[k] - t for k, t in sent.items() if k in watcher.landed]
    to_query = [watcher.queryable[k] - t for k, t in sent.items() if k in watcher.queryable]
    figures = [
        Figure(
            "end to end",
            f"{log}: saturation, records/s sent → landed ({landed:,} of {records:,})",
            saturation,
            "rec/s",
            ceiling,
            base_name,
        ),
        Figure(
            "end to end",
            f"{log}: saturation with the sink's defaults (--client auto: {default_client}), "
            f"records/s sent → landed ({default_landed:,} of {records:,})",
            default_rate,
            "rec/s",
            ceiling,
            base_name,
        ),
        *(
            Figure(
                "end to end",
                f"{log}: latency p{q} send → {what}{note}",
                percentile(values, q / 100) * 1000,
                "ms",
            )
            for what, values in (("landed", to_landed), ("queryable (no crawl)", to_query))
            for q, note in ((50, f" ({rate:,}/s = half of saturation, age 1 s)"), (99, ""))
        ),
        Figure(
            "end to end",
            f"{log}: records/s sustained at half saturation ({len(to_landed):,} of {len(sent):,})",
            len(to_landed) / (max(watcher.landed[k] for k in sent if k in watcher.landed) - started)
            if to_landed
            else 0.0,
            "rec/s",
            float(rate),
            "offered rate",
        ),
    ]
    _trim_broker_log(settings, ds)
    return figures + curated_freshness(settings, ds, sim, quick)


def _trim_broker_log(settings: Settings, ds: Any) -> None:
    """Each step starts from the log a steady stack keeps, not from the floods of the steps
    before it: what every group has read of the topic leaves the broker's log now, as the
    stack's retention process would within about 70 s, its 60 s plus a 10 s pass (with the log
    in S3, each fetch lists its partition's share of it: docs/broker-quirks.md §6). In a full
    run without it, step 4 measured a curated p99 of 20.4 s, and 4.8 s with it."""
    if settings.broker_storage == "s3":
        BrokerLogRetention(settings, timedelta(0)).run_once(topics={ds.topic})


CURATED_RATE = 5_000  # records/s: issue #32's steady load
CURATION_FOLLOW_S = 1.0  # `curate --follow`'s pause between passes


def curated_freshness(settings: Settings, ds: Any, sim: Simulator, quick: bool) -> list[Figure]:
    """4. A steady 5,000 records/s with the sink (batch age 1 s) and `curate --follow 1`
    running beside it: send → queryable on the raw layer and on the curated one, p50 and p99;
    then the curated table's data files per day, before and after `maintain`."""
    log = f"{settings.broker_storage} log"
    curate(settings, [ds], "bench-e2e")  # the table exists and holds what came before
    # Long enough in a full run to show a pipeline that falls behind: 30 s once hid a p99
    # that kept growing (docs/broker-quirks.md §6, "Steady state").
    seconds = 15 if quick else 60
    tick_records = CURATED_RATE // 10
    prepared = sim.messages(ds.name, CURATED_RATE * seconds)  # serialised before the clock
    sink = _sink_process(settings, ds, "--max-age", "1")
    curation = _curation_process(settings, ds, CURATION_FOLLOW_S)
    time.sleep(5)
    watcher = LandingWatcher(settings, ds).start()
    curated = CuratedWatcher(settings, ds).start()
    sent: dict[tuple[int, int], float] = {}
    send, flush = _timed_sender(settings, ds.topic, sent)
    started = time.monotonic()
    for i in range(0, len(prepared.keys), tick_records):  # a tenth of a second's records a tick
        for key, value in zip(
            prepared.keys[i : i + tick_records], prepared.values[i : i + tick_records], strict=True
        ):
            send(key, value)
        time.sleep(max(0.0, started + (i + tick_records) / CURATED_RATE - time.monotonic()))
    flush()
    offered = len(sent) / (time.monotonic() - started)
    watcher.wait_for(sent, watcher.queryable, timeout=120)
    curated.wait_for(sent, timeout=180)
    for process in (curation, sink):
        _stop(process)
    watcher.stop()
    curated.stop()
    to_raw = [watcher.queryable[k] - t for k, t in sent.items() if k in watcher.queryable]
    to_curated = [
        at - t for (p, o), t in sent.items() if (at := curated.covered_at(p, o)) is not None
    ]
    [maintained] = maintain(settings, [ds], orphan_age=timedelta(0))
    label = f"{CURATED_RATE:,}/s steady, age 1 s, curate --follow {CURATION_FOLLOW_S:g}"
    return [
        *(
            Figure(
                "end to end",
                f"{log}: latency p{q} send → queryable on {layer}{note}",
                percentile(values, q / 100) * 1000 if values else 0.0,
                "ms",
            )
            for layer, values in (("raw", to_raw), ("curated", to_curated))
            for q, note in ((50, f" ({label})"), (99, f" ({len(values):,} of {len(sent):,})"))
        ),
        Figure("end to end", f"{log}: offered rate of the freshness step", offered, "rec/s"),
        Figure(
            "end to end",
            f"{log}: curated data files per day after maintain (max; before: the passes')",
            max(maintained.files_after.values(), default=0),
            "files",
            max(maintained.files_before.values(), default=0),
            "before maintain",
            lower_is_better=True,
        ),
    ]
