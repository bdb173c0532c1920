"""`python -m producers`: publish the datasets to their topics, one thread per topic."""

from __future__ import annotations

import argparse
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lakestream.core import clients
from lakestream.core.argtypes import positive
from lakestream.core.console import figures_table, out_console, with_progress
from lakestream.core.entry import stage_main
from lakestream.core.errors import LakestreamError
from lakestream.core.options import add_datasets_option
from lakestream.core.settings import load_settings
from lakestream.core.signals import replay_held, say_in_handler
from producers.clients import CLIENTS
from producers.produce import produce
from producers.run import DeliveryStats, ProduceRun, RunOptions
from producers.sources import file_source, simulator_source
from simulator.options import add_simulation_options, simulation_config
from simulator.simulation import Simulator

DEFAULT_COUNT = 1_000  # per topic, as in the original design

err = Console(stderr=True)
log = logging.getLogger("producers")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m producers",
        description=(
            "Publish the four datasets to their Kafka topics, one thread per topic, keyed so "
            "that one key stays in one partition. Messages come from the simulator (default) or "
            "from seed files. Nothing accepted is lost: the run always flushes and reports "
            "acknowledged and failed messages per topic; the exit code is 1 if any failed."
        ),
        epilog="benchmark: python -m producers bench --help",
    )
    what = parser.add_argument_group("what to send")
    add_datasets_option(what, "--topics")
    what.add_argument(
        "--from-files",
        type=Path,
        metavar="DIR",
        help="send the seed files in DIR (transactions.csv, web_logs.csv, social_data.json, "
        "ad_campaigns.json) instead of simulated data",
    )
    how_much = parser.add_argument_group("how much, how fast")
    how_much.add_argument(
        "--count",
        type=positive(int),
        help=f"messages per topic (default {DEFAULT_COUNT} unless --duration or --from-files)",
    )
    how_much.add_argument(
        "--duration", type=positive(float), metavar="SECONDS", help="stop after this long"
    )
    how_much.add_argument(
        "--rate", type=positive(float), help="messages per second per topic (default: no limit)"
    )
    client = parser.add_argument_group("client")
    client.add_argument(
        "--client",
        choices=CLIENTS,
        default="auto",
        help="Kafka client (default %(default)s: confluent, librdkafka, about 3x kafka-python's "
        "rate, on a Kafka cluster; kafka-python on the embedded broker)",
    )
    client.add_argument(
        "--no-create-topics",
        action="store_true",
        help="fail if a topic is missing instead of creating it with the catalog's partitions",
    )
    client.add_argument(
        "--flush-timeout",
        type=positive(float),
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for outstanding acknowledgements at the end (default 60)",
    )
    client.add_argument("--quiet", action="store_true", help="no live progress, summary only")
    add_simulation_options(parser, note="how the records are made (not used with --from-files)")
    return parser


def _table(stats: list[DeliveryStats], title: str) -> Table:
    table = figures_table(
        title,
        ("topic", "accepted", "acked", "failed", "pending", "msg/s", "note"),
        ("topic", "note"),
    )
    now = time.monotonic()
    for s in stats:
        note = s.error or (f"first failure: {s.first_failure}" if s.first_failure else "")
        table.add_row(
            s.topic,
            f"{s.accepted:,}",
            f"{s.acked:,}",
            f"[red]{s.failed:,}[/]" if s.failed else "0",
            f"{s.pending:,}",
            f"{s.rate(now):,.0f}",
            note,
            style="red" if s.error else None,
        )
    return table


def run_produce(args: argparse.Namespace) -> int:
    settings = load_settings()
    datasets = settings.datasets.select(args.datasets)
    if args.from_files:
        files = {ds.name: args.from_files / ds.seed_file for ds in datasets}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise LakestreamError(
                f"missing seed files: {', '.join(missing)} (write them with "
                f"`python -m simulator --out {args.from_files}`)"
            )
    count = args.count
    if count is None and args.duration is None and not args.from_files:
        count = DEFAULT_COUNT

    if args.from_files:
        source_for = lambda ds: file_source(files[ds.name], ds, count)  # noqa: E731
        source = f"files in {args.from_files}"
    else:
        sim = Simulator(simulation_config(args, settings.datasets), settings.datasets)
        source_for = lambda ds: simulator_source(sim, ds, count)  # noqa: E731
        source = "the simulator"

    def on_start(run: ProduceRun) -> None:
        def on_signal(signum: int, frame: Any) -> None:
            when = " (sent while the producers were starting)" if frame is None else ""
            name = signal.Signals(signum).name
            say_in_handler(f"• {name}{when}: stopping, flushing what was accepted")
            run.request_stop()
            signal.signal(signum, signal.SIG_DFL)  # a second one forces the exit

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        replay_held(on_signal)  # a stop that came while the producers were starting
        brokers = settings.kafka_bootstrap_servers
        client = clients.kafka_client_named(args.client, settings)
        err.print(f"• producing from {source} with {client} to {brokers}")

    options = RunOptions(args.duration, args.rate, flush_timeout=args.flush_timeout)
    produce_args = {
        "client": args.client,
        "options": options,
        "create_topics": not args.no_create_topics,
        "on_start": on_start,
    }
    result = with_progress(
        args.quiet,
        lambda st: _table(st, "producing"),
        lambda st: ", ".join(f"{s.topic} {s.acked:,} acked" for s in st),
        lambda tick: produce(settings, datasets, source_for, count, tick=tick, **produce_args),
    )
    for topic in result.created_topics:
        err.print(f"• created topic {topic}")
    stats = result.stats

    out_console().print(_table(stats, "summary"))
    total = {k: sum(getattr(s, k) for s in stats) for k in ("accepted", "acked", "failed")}
    print(
        f"{total['acked']:,} of {total['accepted']:,} messages acknowledged, "
        f"{total['failed']:,} failed, {total['accepted'] - total['acked'] - total['failed']:,} "
        "unanswered"
    )
    if not result.flushed:
        err.print(
            f"producers: error: {args.flush_timeout:.0f}s flush timeout: some messages were "
            "not acknowledged"
        )
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("producers", argv, lambda args: run_produce(build_parser().parse_args(args)))
