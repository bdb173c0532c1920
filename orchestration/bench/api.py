"""`make bench`'s API section: query latency on JSON lines and on Parquet, and the API under
gunicorn with one client and with 16 at once."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from django.test import Client
from django.test.utils import override_settings

from athena_api import setup_django
from consumers.audit import count_lake
from consumers.run import sink_command
from curation.run import curate
from glue.crawler import LocalCrawler
from lakestream.core import clients, layout
from lakestream.core.settings import Settings
from lakestream.stack.processes import free_port, port_is_open
from lakestream.stack.provision import provision
from orchestration.bench.producers import fastest_client
from orchestration.bench.report import Figure, percentile
from producers import produce_simulated
from producers.run import RunOptions


def section(settings: Settings, quick: bool) -> list[Figure]:
    """API latency for limit and filter queries on one table, JSON lines vs Parquet."""
    rows = 100_000 if quick else 150_000  # a full run stays within 15 minutes (issue #33)
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
    queries = {  # max_age=0: each request runs its query (reuse is measured below)
        "limit 10": "table=kafka_ing_transactions&limit=10&max_age=0",
        "filter": "table=kafka_ing_transactions&limit=100&max_age=0&"
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
                    if response.status_code != 200:
                        raise RuntimeError(f"{query}: {response.content[:200]!r}")
                figures.append(
                    Figure(
                        "api",
                        f"{fmt} {label} p50 ({landed:,} rows)",
                        percentile(timings, 0.5),
                        "ms",
                    )
                )
                figures.append(Figure("api", f"{fmt} {label} p99", percentile(timings, 0.99), "ms"))
        figures.append(
            Figure("api", f"{fmt} bytes in the table (scanned by a full read)", size, "bytes")
        )
        views._shared.clear()
    curate(settings, [ds], group_prefix="bench-api-jsonl")
    figures += concurrency_figures(settings, rows, quick)
    return figures


CONCURRENT_CLIENTS = 16
# One client, then 16, each for a window of seconds, ROUNDS times. A fixed number of requests
# (it was 5 or 10 a client) made the one client's figure a few dozen milliseconds of work, and
# one slow request moved the ratio by half.
ROUNDS = 3


def _answered(results: list[tuple[float, bool, bool]]) -> int:
    """The requests answered 200: a failure, however fast, is not a request served."""
    return sum(1 for _, ok, _ in results if ok)


def _load(
    call: Callable[[str], tuple[float, bool, bool]],
    path_of: Callable[[int], str],
    numbers: Iterator[int],
    clients_: int,
    seconds: float,
) -> tuple[list[tuple[float, bool, bool]], float]:
    """`clients_` threads, each sending one request after another for `seconds`: what they got
    back, and the seconds until the last answer."""
    deadline = time.perf_counter() + seconds

    def client(_: int) -> list[tuple[float, bool, bool]]:
        done = []
        while time.perf_counter() < deadline:
            done.append(call(path_of(next(numbers))))
        return done

    with ThreadPoolExecutor(clients_) as pool:
        started = time.perf_counter()
        results = [r for done in pool.map(client, range(clients_)) for r in done]
        return results, time.perf_counter() - started


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

        def call(path: str) -> tuple[float, bool, bool]:
            """(milliseconds, answered 200, the answer was reused)."""
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": key}
            )
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - http://127.0.0.1
                    reused = bool(json.loads(response.read()).get("reused"))
                    ok = response.status == 200
            except (OSError, ValueError):
                ok = reused = False
            return (time.perf_counter() - t) * 1000, ok, reused

        # Repeated: what a dashboard sends, reused while the data is unchanged (the default
        # API_RESULT_MAX_AGE). Distinct: every request another query, reuse off (max_age=0).
        table = "/api/query-table/?table=kafka_ing_transactions"
        cases: dict[str, Callable[[int], str]] = {
            "limit 10, repeated": lambda i: f"{table}&limit=10",
            "analysis sales_by_product_and_payment (curated), repeated": lambda i: (
                "/api/analyses/sales_by_product_and_payment/?layer=curated"
            ),
            # 90 texts in turn; with max_age=0 nothing is reused, so each one runs its query.
            "limit 10-99, distinct, reuse off": lambda i: f"{table}&limit={10 + i % 90}&max_age=0",
        }
        window = 2.0 if quick else 4.0
        figures = []
        for label, path_of in cases.items():
            numbers = itertools.count()  # the case's request numbers, on across its rounds
            with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:  # every thread's database
                list(pool.map(call, [path_of(next(numbers)) for _ in range(CONCURRENT_CLIENTS)]))
            runs: dict[int, list[tuple[list[tuple[float, bool, bool]], float]]] = {
                1: [],
                CONCURRENT_CLIENTS: [],
            }
            for _ in range(ROUNDS):  # alternated, so the machine's moods fall on both
                for clients_ in runs:
                    runs[clients_].append(_load(call, path_of, numbers, clients_, window))
            measured = {}
            for clients_, rounds in runs.items():
                results = [r for done, _ in rounds for r in done]
                rate = _answered(results) / sum(wall for _, wall in rounds)
                timings = [ms for ms, _, _ in results]
                errors = len(results) - _answered(results)
                reused = sum(1 for _, _, r in results if r) / len(results)
                measured[clients_] = (rate, timings, errors, reused)
            (one_rps, one_ms, one_errors, _), (many_rps, many_ms, errors, reused) = (
                measured[1],
                measured[CONCURRENT_CLIENTS],
            )
            ratios = [
                (_answered(many) / many_wall) / max(_answered(one) / one_wall, 1e-9)
                for (one, one_wall), (many, many_wall) in zip(
                    runs[1], runs[CONCURRENT_CLIENTS], strict=True
                )
            ]
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
                    percentile(many_ms, 0.5),
                    "ms",
                    percentile(one_ms, 0.5),
                    "one client",
                    lower_is_better=True,
                ),
                Figure(
                    "api",
                    f"{label}: p99, {CONCURRENT_CLIENTS} clients",
                    percentile(many_ms, 0.99),
                    "ms",
                    percentile(one_ms, 0.99),
                    "one client",
                    lower_is_better=True,
                ),
                Figure(
                    "api",
                    f"{label}: failed requests, one client and {CONCURRENT_CLIENTS}",
                    one_errors + errors,
                    "requests",
                ),
                Figure(
                    "api",
                    f"{label}: answers reused, {CONCURRENT_CLIENTS} clients",
                    reused * 100,
                    "%",
                ),
                Figure(
                    "api",
                    f"{label}: lowest of the {ROUNDS} rounds' ratios, {CONCURRENT_CLIENTS} "
                    "clients to one",
                    min(ratios),
                    "x",
                ),
            ]
        return figures
    finally:
        server.terminate()
        server.wait(30)
