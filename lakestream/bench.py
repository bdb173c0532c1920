"""`lakestream bench`: every figure beside its baseline, in one run, with a report and a chart.

Sections: simulator (vs a naive Faker loop), producers (vs each client's raw ceiling), sink (each
client's drain rate and RSS vs the raw produce ceiling, and vs one object per message), end to
end (saturation rate, then send → landed/queryable latency at half of it; with the broker's log
in moto as `make up` runs it, and in memory), API latency (JSON lines vs Parquet, 1 vs 16
clients), curated layer. Each runs against a private embedded stack on free ports.
BENCH_QUICK=1 shrinks every workload so the whole run takes a few minutes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import matplotlib
import pyarrow as pa
import pyarrow.json as pj
from django.test import Client
from django.test.utils import override_settings
from rich.console import Console

from athena_api import setup_django
from consumers import SinkOptions, SinkRun
from consumers.audit import count_lake
from consumers.run import sink_command
from curation.maintain import maintain
from curation.run import curate
from engines import LocalEngine
from engines.tables import GlueCatalog
from glue.crawler import LocalCrawler
from glue.queries import saved_queries
from lakestream.core import clients, layout
from lakestream.core.console import figures_table, out_console
from lakestream.core.settings import Settings
from lakestream.stack.embedded import private_stack
from lakestream.stack.processes import free_port, port_is_open
from lakestream.stack.provision import provision
from producers import produce_simulated
from producers.bench import available_clients, bench_client, fastest_client
from producers.run import RunOptions
from simulator import SimulationConfig, Simulator
from simulator import bench as simulator_bench
from simulator.bench import machine

matplotlib.use("Agg")  # the report's chart is a file: no display needed

err = Console(stderr=True)


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    lower_is_better: bool = False

    @property
    def ratio(self) -> str:
        if not self.baseline or not self.value:
            return ""
        if self.lower_is_better:
            if self.value > self.baseline:
                return f"{self.value / self.baseline:.1f}x more"
            return f"{self.baseline / self.value:.1f}x less"
        return f"{self.value / self.baseline:.1f}x"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def simulator_section(quick: bool) -> list[Figure]:
    results = simulator_bench.run(
        [ds for ds in ("transactions", "web_logs", "social_posts", "ad_campaigns")],
        seconds=0.5 if quick else 2.0,
    )
    return [
        Figure(
            "simulator",
            f"{r.dataset} records/s",
            r.simulator_per_s,
            "rec/s",
            r.naive_per_s,
            "naive Faker loop",
        )
        for r in results
    ]


SINK_RSS_GOAL_MB = 150.0  # issue #17: at the default batch bound, whatever the volume


def producer_section(settings: Settings, quick: bool) -> list[Figure]:
    figures = []
    for client in available_clients():
        r = bench_client(settings, client, 5_000 if quick else 25_000, seed=1)
        figures.append(
            Figure(
                "producers",
                f"{client} msg/s (4 topics)",
                r.pipeline_per_s,
                "msg/s",
                r.raw_per_s,
                f"{client} raw ceiling",
            )
        )
    return figures


def sink_section(quick: bool, ceiling: float | None) -> list[Figure]:
    """Each sink's drain rate next to the broker's raw produce ceiling: the higher of the
    producers section's (4 topics at once) and the sink bench's own (one topic, its broker)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "consumers",
            "bench",
            "--json",
            "--records",
            "30000" if quick else "300000",
            "--naive-records",
            "300" if quick else "3000",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    ).stdout
    report = json.loads(out)
    naive, *sinks = report["results"]
    own = report["ceiling"]["messages_per_s"]
    client = report["ceiling"]["client"]
    # The ceiling moves a lot between runs on two shared cores: compare with the higher one.
    base, base_name = (
        (ceiling, f"{client} raw produce ceiling, 4 topics")
        if ceiling and ceiling > own
        else (own, f"{client} raw produce ceiling, 1 topic")
    )
    figures = [
        Figure("sink", f"{client} raw produce ceiling, 1 topic (the sinks' broker)", own, "msg/s")
    ]
    for sink in sinks:
        figures += [
            Figure(
                "sink", f"{sink['name']}: records/s into S3", sink["records_per_s"], "rec/s",
                base, base_name,
            ),
            Figure(
                "sink", f"{sink['name']}: peak RSS", sink["peak_rss_mb"], "MiB",
                SINK_RSS_GOAL_MB, "goal", lower_is_better=True,
            ),
        ]  # fmt: skip
    default = sinks[0]
    state_writes = default["state_writes"] / max(1, default["batches"])
    return [
        *figures,
        Figure(
            "sink",
            "records/s into S3 (default sink)",
            default["records_per_s"],
            "rec/s",
            naive["records_per_s"],
            "one object per message",
        ),
        Figure(
            "sink",
            "S3 objects per 1M records",
            default["objects_per_million"],
            "objects",
            naive["objects_per_million"],
            "one object per message",
            lower_is_better=True,
        ),
        Figure("sink", "state (manifest) writes per batch", state_writes, "writes"),
    ]


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
    flush(). librdkafka when installed: the Python client would take the CPU being measured."""
    if fastest_client() == "confluent":
        from confluent_kafka import Producer

        config = {**clients.librdkafka_options(settings), "linger.ms": 5,
                  "acks": "all", "partitioner": "murmur2_random"}  # fmt: skip
        producer = Producer(config)

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
    fallback = clients.kafka_producer(settings, linger_ms=5)

    def send_python(key: bytes, value: bytes) -> None:
        t = time.monotonic()
        fallback.send(topic, key=key, value=value).add_callback(
            lambda meta, t=t: sent.__setitem__((meta.partition, meta.offset), t)
        )

    def flush_python() -> None:
        fallback.flush(120)
        fallback.close()

    return send_python, flush_python


class LandingWatcher:
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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> LandingWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

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


def _sink_process(settings: Settings, ds: Any, *options: str) -> subprocess.Popen[bytes]:
    """The sink in a process of its own, as deployed: in the bench's process it would share the
    GIL with the producer and the watcher. The fastest client installed, manual assignment."""
    client = fastest_client()
    return subprocess.Popen(
        sink_command(ds.name, 600, "bench-e2e", "--assignment", "manual", "--client", client,
                     *options),
        env={**os.environ, **settings.child_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _stop(sink: subprocess.Popen[bytes]) -> None:
    sink.terminate()  # SIGTERM: it writes and commits what it holds, then exits
    sink.wait(60)


def end_to_end_section(settings: Settings, quick: bool) -> list[Figure]:
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
    records = 30_000 if quick else 500_000
    sim = Simulator(SimulationConfig(start=datetime(2031, 1, 1, tzinfo=UTC)))  # new days only
    prepared = sim.messages(ds.name, records)  # serialised before the clock starts

    # 1-2. Saturation.
    sink = _sink_process(settings, ds, "--max-age", "1")
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
    saturation = len(landed) / (max(landed) - first_sent) if landed else 0.0
    watcher.stop()

    # 3. Latency at half the saturation rate, batch age 1 s.
    sink = _sink_process(settings, ds, "--max-age", "1")
    time.sleep(5)
    watcher = LandingWatcher(settings, ds).start()
    sent = {}
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
    return [
        Figure(
            "end to end",
            f"{log}: saturation, records/s sent → landed ({len(landed):,} of {records:,})",
            saturation,
            "rec/s",
            ceiling,
            base_name,
        ),
        *(
            Figure(
                "end to end",
                f"{log}: latency p{q} send → {what}{note}",
                _pct(values, q / 100) * 1000,
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


def api_section(settings: Settings, quick: bool) -> list[Figure]:
    """API latency for limit and filter queries on one table, JSON lines vs Parquet."""
    rows = 100_000 if quick else 1_000_000
    ds = settings.datasets.get("transactions")
    parquet = settings.model_copy(
        update={"bucket_suffix": "-parquet", "glue_database": "kafka_ing_parquet"}
    )
    provision(parquet)
    kind = fastest_client()
    produce_simulated(settings, rows, [ds], client=kind, options=RunOptions(flush_timeout=600))
    for fmt, target in (("jsonl", settings), ("parquet", parquet)):
        subprocess.run(
            sink_command("transactions", 3, f"bench-api-{fmt}", "--format", fmt),
            env={**os.environ, **target.child_env()},
            check=True,
            capture_output=True,
            timeout=1800,
        )
        LocalCrawler(target).crawl(ds)

    setup_django(debug=True)
    from athena_api.query import views  # DRF reads Django's settings on import

    figures = []
    queries = {
        "limit 10": "table=kafka_ing_transactions&limit=10",
        "filter": "table=kafka_ing_transactions&limit=100&"
        + urlencode({"filter": "paymentmethod='PayPal' AND amount > 100"}),
    }
    repeats = 10 if quick else 30
    for fmt, target in (("jsonl", settings), ("parquet", parquet)):
        s3 = clients.aws_client(target, "s3")
        objects = clients.list_objects(s3, target.bucket(ds), layout.table_prefix(ds.table))
        size = sum(o["Size"] for o in objects)
        landed = count_lake(target, ds).rows if quick else rows
        with override_settings(LAKE=target, API_KEY=None, API_ENGINE="local"):
            views._shared.clear()
            api = Client()
            for label, query in queries.items():
                timings = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    response = api.get(f"/api/query-table/?{query}")
                    timings.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200, response.content[:200]
                figures.append(
                    Figure("api", f"{fmt} {label} p50 ({landed:,} rows)", _pct(timings, 0.5), "ms")
                )
                figures.append(Figure("api", f"{fmt} {label} p99", _pct(timings, 0.99), "ms"))
        figures.append(
            Figure("api", f"{fmt} bytes in the table (scanned by a full read)", size, "bytes")
        )
        views._shared.clear()
    curate(settings, [ds], group_prefix="bench-api-jsonl")
    figures += concurrency_figures(settings, rows, quick)
    return figures


CONCURRENT_CLIENTS = 16


def concurrency_figures(settings: Settings, rows: int, quick: bool) -> list[Figure]:
    """The API under gunicorn (API_WORKERS x API_THREADS as configured), one client and then 16
    at once: p50, p99 and requests/s of each, and how many requests failed."""
    port = free_port()
    key = "bench-key"
    env = {**os.environ, **settings.child_env(), "API_KEY": key, "API_DEBUG": "0",
           "API_ENGINE": "local", "API_THROTTLE_RATE": "1000000/min"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "athena_api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)

        def call(path: str) -> tuple[float, bool]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": key}
            )
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - http://127.0.0.1
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            return (time.perf_counter() - t) * 1000, ok

        paths = {
            "limit 10": "/api/query-table/?table=kafka_ing_transactions&limit=10",
            "analysis sales_by_product_and_payment (curated)": (
                "/api/analyses/sales_by_product_and_payment/?layer=curated"
            ),
        }
        per_client = 5 if quick else 10
        figures = []
        for label, path in paths.items():
            with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:  # every thread's database
                list(pool.map(call, [path] * CONCURRENT_CLIENTS * 2))
            measured = {}
            for clients_ in (1, CONCURRENT_CLIENTS):
                with ThreadPoolExecutor(clients_) as pool:
                    started = time.perf_counter()
                    results = list(pool.map(call, [path] * (clients_ * per_client)))
                    wall = time.perf_counter() - started
                timings = [ms for ms, _ in results]
                errors = sum(1 for _, ok in results if not ok)
                measured[clients_] = (len(results) / wall, timings, errors)
            (one_rps, one_ms, _), (many_rps, many_ms, errors) = measured[1], measured[16]
            figures += [
                Figure(
                    "api",
                    f"{label}: requests/s, {CONCURRENT_CLIENTS} clients ({rows:,} rows)",
                    many_rps,
                    "req/s",
                    one_rps,
                    "one client",
                ),
                Figure(
                    "api",
                    f"{label}: p50, {CONCURRENT_CLIENTS} clients",
                    _pct(many_ms, 0.5),
                    "ms",
                    _pct(one_ms, 0.5),
                    "one client",
                    lower_is_better=True,
                ),
                Figure(
                    "api",
                    f"{label}: p99, {CONCURRENT_CLIENTS} clients",
                    _pct(many_ms, 0.99),
                    "ms",
                    _pct(one_ms, 0.99),
                    "one client",
                    lower_is_better=True,
                ),
                Figure(
                    "api",
                    f"{label}: failed requests, {CONCURRENT_CLIENTS} clients",
                    errors,
                    "requests",
                ),
            ]
        return figures
    finally:
        server.terminate()
        server.wait(30)


def curated_section(settings: Settings, quick: bool) -> list[Figure]:
    """The four analyses on raw JSON lines and on curated Iceberg: bytes the engine read from
    S3 (its HTTP log) and latency; curation's throughput; data files per day before and after
    maintenance."""
    rows = 50_000 if quick else 1_000_000
    repeats = 5 if quick else 15
    kind = fastest_client()
    names = ",".join(ds.name for ds in settings.datasets)
    waves, seconds, curated_records = 4, 0.0, 0
    for wave in range(waves):  # a pass per wave: several files per day, as a live lake has
        produce_simulated(
            settings,
            rows // waves,
            config=SimulationConfig(seed=wave),
            client=kind,
            options=RunOptions(flush_timeout=900),
        )
        subprocess.run(
            sink_command(names, 3, "bench-curated"),
            env={**os.environ, **settings.child_env()},
            check=True,
            capture_output=True,
            timeout=3600,
        )
        started = time.perf_counter()
        curated_records += sum(r.records for r in curate(settings, group_prefix="bench-curated"))
        seconds += time.perf_counter() - started
    crawler = LocalCrawler(settings)
    for ds in settings.datasets:
        crawler.crawl(ds)
    figures = [
        Figure(
            "curated",
            f"curation records/s ({curated_records:,} records, {waves} passes)",
            curated_records / seconds,
            "rec/s",
        )
    ]
    # The steady state a lake is queried in: compacted by make maintain.
    before = after = 0
    for ds, maintained in zip(
        settings.datasets, maintain(settings, orphan_age=timedelta(0)), strict=True
    ):
        before = max(before, max(maintained.files_before.values(), default=0))
        after = max(after, max(maintained.files_after.values(), default=0))
        err.print(f"  {ds.table}: {len(maintained.compacted)} day partitions compacted")
    figures.append(
        Figure(
            "curated",
            "data files per day partition after make maintain (max)",
            after,
            "files",
            before,
            "before",
            lower_is_better=True,
        )
    )
    engine = LocalEngine(settings, file_cache=False)  # every run reads from S3, as Athena does
    try:
        for query in saved_queries().values():
            measured: dict[str, tuple[int, list[float]]] = {}
            for layer, database in (
                ("raw", settings.glue_database),
                ("curated", settings.curated_database),
            ):
                timings, scanned = [], 0
                for _ in range(repeats):
                    t = time.perf_counter()
                    result = engine.execute(query.sql, query.bind(), database=database)
                    timings.append((time.perf_counter() - t) * 1000)
                    scanned = max(scanned, result.data_scanned_bytes or 0)
                measured[layer] = (scanned, timings)
            (raw_bytes, raw_ms), (cur_bytes, cur_ms) = measured["raw"], measured["curated"]
            figures += [
                Figure(
                    "curated",
                    f"{query.name}: bytes read from S3",
                    cur_bytes,
                    "bytes",
                    raw_bytes,
                    "raw JSON lines",
                    lower_is_better=True,
                ),
                Figure(
                    "curated",
                    f"{query.name}: latency p50",
                    _pct(cur_ms, 0.5),
                    "ms",
                    _pct(raw_ms, 0.5),
                    "raw JSON lines",
                    lower_is_better=True,
                ),
                Figure(
                    "curated",
                    f"{query.name}: latency p99",
                    _pct(cur_ms, 0.99),
                    "ms",
                    _pct(raw_ms, 0.99),
                    "raw JSON lines",
                    lower_is_better=True,
                ),
            ]
    finally:
        engine.close()
    return figures


def write_report(figures: list[Figure], out: Path, machine: dict[str, Any]) -> tuple[Path, Path]:
    import matplotlib.pyplot as plt  # after matplotlib.use("Agg") at import, and only here

    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# lakestream benchmark",
        "",
        f"Machine: {machine['processor']}, {machine['cpus']} CPUs, Python {machine['python']}; "
        f"run at {time.strftime('%Y-%m-%d %H:%M:%S')}.",
        "",
        "| section | figure | value | baseline | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        base = f"{f.baseline:,.0f} ({f.baseline_name})" if f.baseline else ""
        lines.append(f"| {f.section} | {f.name} | {f.value:,.1f} {f.unit} | {base} | {f.ratio} |")
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ratios = [f for f in figures if f.baseline and not f.lower_is_better]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(ratios) + 1.5))
    ax.barh([f"{f.section}: {f.name}" for f in ratios], [f.value / f.baseline for f in ratios])  # type: ignore[operator]
    ax.axvline(1, color="grey", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("ratio to the baseline measured in the same run (log)")
    ax.invert_yaxis()
    fig.tight_layout()
    chart = out / "chart.png"
    fig.savefig(chart, dpi=110)
    return report, chart


def run_bench(out: Path, quick: bool) -> int:
    started = time.monotonic()
    figures: list[Figure] = []
    err.print("• simulator")
    figures += simulator_section(quick)
    err.print("• producers")
    with private_stack(progress=lambda m: err.print(f"  {m}")) as settings:
        figures += producer_section(settings, quick)
    err.print("• sink")
    ceiling = next(
        (f.baseline for f in figures if f.baseline_name == "confluent raw ceiling"), None
    )
    figures += sink_section(quick, ceiling)
    err.print("• end to end")
    # Once as `make up` runs the broker (its log in moto, which every produce and fetch then
    # also calls) and once with its log in memory: the pipeline's own capacity.
    for storage in ("s3", "memory"):
        with private_stack(broker_storage=storage) as settings:
            figures += end_to_end_section(settings, quick)
    err.print("• api")
    with private_stack() as settings:
        figures += api_section(settings, quick)
    err.print("• curated layer")
    with private_stack() as settings:
        figures += curated_section(settings, quick)
    table = figures_table(
        "lakestream bench",
        ("section", "figure", "value", "baseline", "ratio"),
        ("section", "figure"),
    )
    for f in figures:
        base = f"{f.baseline:,.0f} {f.baseline_name}" if f.baseline else ""
        table.add_row(f.section, f.name, f"{f.value:,.1f} {f.unit}", base, f.ratio)
    out_console(150).print(table)
    report, chart = write_report(figures, out, machine())
    m = machine()
    print(
        f"machine: {m['processor']}, {m['cpus']} cpus, Python {m['python']}; "
        f"took {time.monotonic() - started:.0f}s; report {report}, chart {chart}"
    )
    return 0
