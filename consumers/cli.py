"""`python -m consumers`: land the topics in S3 as partitioned batches, committing after upload."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from consumers import metrics
from consumers.batch import BatchLimits
from consumers.clients import SINK_CLIENTS, resolve_client
from consumers.groups import add_group_prefix_option
from consumers.leases import DEFAULT_TTL_S, MIN_TTL_S
from consumers.run import SinkRun
from consumers.sink import ASSIGNMENTS, JOIN_GRACE_S, SinkOptions, SinkStats
from lakestream.core.argtypes import at_least, positive
from lakestream.core.console import figures_table, out_console, with_progress
from lakestream.core.entry import stage_main
from lakestream.core.formats import DEFAULT_GZIP_LEVEL, FORMATS
from lakestream.core.metrics import add_metrics_option, start_reporting
from lakestream.core.options import add_datasets_option, add_json_option
from lakestream.core.settings import load_settings
from lakestream.core.signals import replay_held, say_in_handler
from lakestream.stack.reachable import require_kafka

err = Console(stderr=True)


def build_parser() -> argparse.ArgumentParser:
    defaults = BatchLimits()
    parser = argparse.ArgumentParser(
        prog="python -m consumers",
        description=(
            "Consume the dataset topics and land them in S3 as batches: "
            "s3://<bucket>/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset>.jsonl.gz. "
            "Offsets are committed only after every object of a batch is written; bad records "
            "go to s3://<bucket>/_dlq/<topic>/ with their reason. One consumer group per dataset. "
            "With --until-idle, the exit code is 0 only if every partition was read to its end."
        ),
        epilog="benchmark: python -m consumers bench --help",
    )
    add_datasets_option(parser, "--topics")
    parser.add_argument(
        "--threads-per-topic",
        type=positive(int),
        default=1,
        help="consumers per topic (default 1)",
    )
    parser.add_argument(
        "--until-idle",
        type=positive(float),
        metavar="SECONDS",
        help="drain, write, commit and exit 0 once no record arrived for this long "
        "(default: run until stopped)",
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="jsonl", help="object format")
    group = parser.add_argument_group("batching: a batch closes on whichever limit comes first")
    group.add_argument(
        "--max-records",
        type=positive(int),
        default=defaults.max_records,
        help="messages per batch (default %(default)s)",
    )
    group.add_argument(
        "--max-bytes",
        type=positive(int),
        default=defaults.max_bytes,
        help="message bytes per batch, the memory bound (default %(default)s)",
    )
    group.add_argument(
        "--max-age",
        type=positive(float),
        default=defaults.max_age_s,
        metavar="SECONDS",
        help="age of a batch (default %(default)s)",
    )
    group.add_argument(
        "--max-record-bytes",
        type=positive(int),
        default=defaults.max_record_bytes,
        help="larger messages are dead letters (default %(default)s)",
    )
    add_group_prefix_option(parser, "its consumer groups")
    parser.add_argument(
        "--assignment",
        choices=ASSIGNMENTS,
        default="auto",
        help="group: Kafka's group management (scale out by adding sinks); manual: take every "
        "partition of the topic, committing under the group id; auto (default): group, but on "
        "the embedded broker a sink that a group showing no member gives no partition for "
        "--join-grace takes them manually. Manual sinks fence each other with a lease per "
        "partition in the bucket's _state/: a second sink takes only what no live sink holds "
        "(group and auto sinks do not take leases: do not mix them with manual sinks on one "
        "topic)",
    )
    parser.add_argument(
        "--join-grace",
        type=at_least(float, 1.0),
        default=JOIN_GRACE_S,
        metavar="SECONDS",
        help="how long a sink that got no partition waits before it looks into why (default "
        "%(default)s): a finite run then ends and says why, unless the auto assignment takes "
        "over a wedged group; a sink that runs on keeps waiting and says so",
    )
    parser.add_argument(
        "--lease-ttl",
        type=at_least(float, MIN_TTL_S),
        default=DEFAULT_TTL_S,
        metavar="SECONDS",
        help=f"manual assignment: a partition's lease lapses this long after its sink's last "
        f"renewal, and another sink may take it (default %(default)s, at least {MIN_TTL_S:g}). "
        "Sinks renew every third of it (one S3 PUT per partition) and release their leases "
        "when they stop cleanly",
    )
    parser.add_argument(
        "--instance-id",
        metavar="NAME",
        help="manual assignment: a stable name for this sink, like Kafka's group.instance.id. "
        "Restarted under the same name (by systemd, after a crash), it takes back its own "
        "leases at once if the process that held them is gone from this host, else after half "
        "the TTL instead of the whole TTL. Never give two running sinks the same name",
    )
    parser.add_argument(
        "--no-register-partitions",
        dest="register_partitions",
        action="store_false",
        help="do not add each new dt= partition to the raw table's Glue entry (new days are "
        "then queryable after the next crawl, or through partition projection on AWS)",
    )
    parser.add_argument(
        "--client",
        choices=SINK_CLIENTS,
        default="auto",
        help="Kafka client (default %(default)s: confluent, librdkafka, ~3x kafka-python's "
        "drain rate, on a Kafka cluster, where a refused login or TLS handshake stops the sink "
        "with its reason; kafka-python on the embedded broker: docs/broker-quirks.md §4)",
    )
    parser.add_argument(
        "--compression-level",
        type=int,
        choices=range(1, 10),
        metavar="1-9",
        default=DEFAULT_GZIP_LEVEL,
        help="gzip level of JSON-lines objects (default %(default)s: fastest; 6 makes objects "
        "~20%% smaller for ~2x the compression time)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live progress, summary only")
    add_metrics_option(parser)
    add_json_option(parser, "the summary")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="warning",
        help="how much the sink logs to stderr (default warning)",
    )
    return parser


def _table(stats: list[SinkStats], title: str) -> Table:
    table = figures_table(
        title,
        ("topic", "records", "dead letters", "objects", "bytes", "batches", "errors"),
        ("topic",),
    )
    for s in stats:
        table.add_row(
            s.topic,
            f"{s.records:,}",
            f"{s.dead_letters:,}",
            f"{s.objects:,}",
            f"{s.bytes:,}",
            f"{s.batches:,}",
            f"[red]{s.errors}[/]" if s.errors else "0",
        )
    return table


def run_sink(args: argparse.Namespace) -> int:
    logging.getLogger("consumers").setLevel(args.log_level.upper())
    settings = load_settings()
    datasets = settings.datasets.select(args.datasets)
    require_kafka(settings)
    options = SinkOptions(
        limits=BatchLimits(args.max_records, args.max_bytes, args.max_age, args.max_record_bytes),
        format=args.format,
        group_prefix=args.group_prefix,
        until_idle=args.until_idle,
        assignment=args.assignment,
        join_grace_s=args.join_grace,
        register_partitions=args.register_partitions,
        client=args.client,
        compression_level=args.compression_level,
        lease_ttl_s=args.lease_ttl,
        instance_id=args.instance_id,
    )
    run = SinkRun(settings, datasets, options, args.threads_per_topic)
    stats = run.stats

    def on_signal(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if run.stop.is_set():
            say_in_handler(f"• {name} again: abandoning unwritten batches")
            run.abort.set()
            return
        when = " (sent while the sink was starting)" if frame is None else ""
        say_in_handler(f"• {name}{when}: writing and committing open batches, then exiting")
        run.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    replay_held(on_signal)  # a stop that came while the sink was starting
    err.print(
        f"• consuming {', '.join(ds.topic for ds in datasets)} "
        f"with {resolve_client(args.client, settings)} "
        f"from {settings.kafka_bootstrap_servers}"
        f" into S3 at {settings.aws_endpoint_url or 'AWS'}"
        + (f"; exiting after {args.until_idle:g}s idle" if args.until_idle else "; Ctrl-C stops")
    )
    exporter = start_reporting(settings, "sink", args.metrics_port)
    metrics.UP.set(1)
    run.start()
    try:
        with_progress(
            args.quiet,
            lambda st: _table(st or stats, "consuming"),
            lambda st: ", ".join(f"{s.topic} {s.records:,} landed" for s in st),
            run.wait,
        )
    finally:
        metrics.UP.set(0)
        if exporter is not None:
            exporter.close()  # what landed since the last minute, before the service stops

    line = (
        f"{run.records:,} records and {run.dead_letters:,} "
        f"dead letters landed in {run.objects:,} objects"
    )
    if args.json:
        fields = (
            "dataset",
            "topic",
            "records",
            "dead_letters",
            "objects",
            "bytes",
            "batches",
            "state_writes",
            "errors",
            "last_error",
        )
        report = [
            {k: getattr(s, k) for k in fields} | {"busy_seconds": s.busy_seconds()} for s in stats
        ]
        print(json.dumps(report, indent=2))
        err.print(line, highlight=False)
    else:
        out_console().print(_table(stats, "summary"))
        print(line)
    for error in run.errors:
        err.print(f"consumers: error: {error}", highlight=False, soft_wrap=True)
    return 1 if run.errors or run.abort.is_set() else 0


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("consumers", argv, lambda args: run_sink(build_parser().parse_args(args)))
