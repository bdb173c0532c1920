"""`lakestream demo`: the whole pipeline on the embedded stack, then the API until Ctrl-C.

stack up → simulate and produce → consume until drained → crawl → the four saved analyses →
summary → serve the API (optional) → stop the stack if the demo started it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from rich.table import Table

from lakestream.console import out_console
from lakestream.settings import Settings
from lakestream.stack.embedded import EmbeddedStack

DEMO_SEED = 42
DEMO_MALFORMED_RATE = 0.005  # a few dead letters, so the summary shows that path too


@dataclass
class TableSummary:
    table: str
    produced: int
    landed: int
    duplicates: int
    objects: int
    dead_letters: int
    partitions: int


def _produce(settings: Settings, records: int, say: Callable[[str], None]) -> dict[str, int]:
    from producers.clients import make_client
    from producers.run import ProduceRun, RunOptions, TopicPlan
    from producers.sources import simulator_source
    from producers.topics import ensure_topics
    from simulator.simulation import SimulationConfig, Simulator

    datasets = list(settings.catalog)
    ensure_topics(settings, datasets)
    sim = Simulator(SimulationConfig(seed=DEMO_SEED, malformed_rate=DEMO_MALFORMED_RATE))
    client = make_client("kafka-python", settings)
    try:
        plans = [TopicPlan(ds, simulator_source(sim, ds, records), records) for ds in datasets]
        stats = ProduceRun(client, plans, RunOptions()).run()
    finally:
        client.close()
    for s in stats:
        say(f"produced {s.acked:,} messages to {s.topic}")
    return {s.dataset: s.acked for s in stats}


def _consume(settings: Settings, say: Callable[[str], None]) -> None:
    from consumers.batch import BatchLimits
    from consumers.sink import SinkOptions, SinkWorker, TopicStats

    stop, abort = threading.Event(), threading.Event()
    options = SinkOptions(
        limits=BatchLimits(max_age_s=5), group_prefix="lakestream-demo", until_idle=3
    )
    workers = [
        SinkWorker(
            settings, ds, options, TopicStats(ds.name, ds.topic), stop, abort, f"demo-{ds.name}"
        )
        for ds in settings.catalog
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        say(f"landed {w.stats.records:,} records of {w.dataset.topic} in {w.stats.objects} objects")
        if w.error:
            raise RuntimeError(f"the sink for {w.dataset.topic} failed: {w.error}")


def pipeline(
    settings: Settings, records: int, say: Callable[[str], None] = lambda _m: None
) -> list[TableSummary]:
    """Produce, land and crawl `records` per dataset on a running stack; a summary per table."""
    from consumers.audit import count_lake
    from glue.crawler import LocalCrawler

    produced = _produce(settings, records, say)
    _consume(settings, say)
    crawler = LocalCrawler(settings)
    summaries = []
    for ds in settings.catalog:
        crawl = crawler.crawl(ds)
        count = count_lake(settings, ds)
        summaries.append(
            TableSummary(
                ds.table,
                produced.get(ds.name, 0),
                count.distinct,
                count.duplicates,
                count.objects,
                count.dead_letters,
                crawl.partitions,
            )
        )
    say("crawled the lake into the Glue database " + settings.glue_database)
    return summaries


def run_demo(settings: Settings, records: int, serve: bool, port: int) -> int:
    from glue.engine import LocalAthena
    from glue.queries import saved_queries

    console = out_console()
    say = lambda msg: console.print(f"• {msg}", highlight=False)  # noqa: E731
    stack = EmbeddedStack(settings)
    started_here = settings.embeds_aws and stack.moto.pid is None
    try:
        stack.up(progress=say)
        summaries = pipeline(settings, records, say)

        engine = LocalAthena(settings)
        for query in saved_queries().values():
            result = engine.execute(query.sql)
            table = Table(title=f"{query.name}: {query.description}", title_justify="left")
            for column in result.columns:
                table.add_column(column)
            for row in result.rows[:5]:
                table.add_row(*(str(v) for v in row))
            console.print(table)
        engine.close()

        summary = Table(title="Summary", title_justify="left")
        for column in (
            "table",
            "produced",
            "landed",
            "duplicates",
            "objects",
            "dead letters",
            "partitions",
            "check",
        ):
            summary.add_column(column, justify="left" if column in ("table", "check") else "right")
        ok = True
        for s in summaries:
            good = s.landed + s.dead_letters == s.produced and s.duplicates == 0
            ok &= good
            summary.add_row(
                s.table,
                f"{s.produced:,}",
                f"{s.landed:,}",
                str(s.duplicates),
                str(s.objects),
                str(s.dead_letters),
                str(s.partitions),
                "ok" if good else "MISMATCH",
            )
        console.print(summary)
        console.print(
            "landed + dead letters = produced, no duplicates" if ok else "counts do not add up"
        )
        if serve:
            _serve(settings, port, say)
        return 0 if ok else 1
    finally:
        if started_here:
            say("stopping the embedded stack")
            stack.down()


def _serve(settings: Settings, port: int, say: Callable[[str], None]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "athena_api.settings")
    os.environ.setdefault("API_DEBUG", "1")
    import django
    from django.core.management import call_command

    django.setup()
    say(f"serving the API on http://127.0.0.1:{port}/ — Swagger UI at /swagger/ (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a demo ends
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
