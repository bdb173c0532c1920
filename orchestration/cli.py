"""`lakestream`: the product's command (stack lifecycle, status, configuration)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from consumers.groups import add_group_prefix_option, describe_group, group_id, groups_lag
from lakestream import __version__
from lakestream.core.console import err_console as stderr_console
from lakestream.core.console import out_console
from lakestream.core.entry import cli_args, command_main
from lakestream.core.errors import LakestreamError
from lakestream.core.options import add_datasets_option, add_json_option
from lakestream.core.settings import Settings, load_settings
from lakestream.core.signals import (
    TERMINATION_SIGNALS,
    handlers_restored,
    interrupt_on_termination,
)
from lakestream.stack.embedded import DEFAULT_READY_TIMEOUT, EmbeddedStack
from lakestream.stack.provision import Outcome, inspect
from lakestream.stack.reachable import require_aws, require_kafka
from orchestration import dlq_cli
from orchestration.bench import SECTIONS
from orchestration.envfile import (
    CA_FILE_NAME,
    DEFAULT_KAFKA_USER,
    kafka_client_settings,
    parse_outputs,
    parse_settings,
    terraform_output,
    write_ca_bundle,
    write_env,
)

STATE_STYLE = {"created": "green", "exists": "cyan", "missing": "red", "mismatch": "yellow"}

console = out_console()
err_console = stderr_console()


def _outcome_table(outcomes: Sequence[Outcome], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("kind", "name", "state", "detail"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        style = STATE_STYLE.get(o.state, "")
        table.add_row(o.kind, o.name, f"[{style}]{o.state}[/]", o.detail)
    return table


def cmd_up(args: argparse.Namespace) -> int:
    stack = EmbeddedStack(load_settings())
    outcomes = stack.up(timeout=args.timeout, progress=lambda msg: err_console.print(f"• {msg}"))
    console.print(_outcome_table(outcomes, "Provisioned"))
    created = sum(o.state == "created" for o in outcomes)
    console.print(f"{created} created, {len(outcomes) - created} already there. Stack is up.")
    return 0 if all(o.state in ("created", "exists") for o in outcomes) else 1


def sink_groups(settings: Settings, prefix: str, topics: set[str]) -> list[dict[str, Any]]:
    """Each dataset's sink group (of the `topics` that exist): its state and members as the
    broker says, and its lag per partition."""
    wanted = {
        group_id(prefix, ds): (ds.topic, list(range(ds.partitions)))
        for ds in settings.datasets
        if ds.topic in topics
    }
    groups = []
    for group, lags in groups_lag(settings, wanted).items():
        info = describe_group(settings, group)
        groups.append(
            {
                "group": group,
                "topic": wanted[group][0],
                "state": info.state,
                "members": info.members,
                "partitions": [{**asdict(p), "lag": p.lag} for p in lags],
                "lag": sum(p.lag or 0 for p in lags),
            }
        )
    return groups


def _groups_table(groups: list[dict[str, Any]]) -> Table:
    table = Table(title="Sink consumer groups (lag = end offset - committed offset)")
    for column in ("group", "state", "members", "lag per partition", "lag"):
        table.add_column(column, overflow="fold", justify="right" if column == "lag" else "left")
    for g in groups:
        per_partition = ", ".join(
            f"{p['partition']}: " + ("?" if p["lag"] is None else f"{p['lag']:,}")
            for p in g["partitions"]
        )
        table.add_row(
            g["group"], g["state"], ", ".join(g["members"]) or "-", per_partition, f"{g['lag']:,}"
        )
    return table


def cmd_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    stack = EmbeddedStack(settings)
    services = stack.status()
    reachable = all(s.answering for s in services)
    outcomes = inspect(settings) if reachable else []
    healthy = reachable and all(o.state == "exists" for o in outcomes)
    topics = {o.name for o in outcomes if o.kind == "kafka topic" and o.state == "exists"}
    # Without a broker that answers, the groups' read would wait out kafka-python's bootstrap.
    groups = sink_groups(settings, args.group_prefix, topics) if reachable else []
    if args.json:
        payload = {
            "healthy": healthy,
            "services": [{**asdict(s), "log_file": str(s.log_file or "")} for s in services],
            "resources": [asdict(o) for o in outcomes],
            "sink_groups": groups,
        }
        print(json.dumps(payload, indent=2))
        return 0 if healthy else 1
    table = Table(title="Services", title_justify="left")
    for column in ("service", "endpoint", "started by", "pid", "answering"):
        table.add_column(column, overflow="fold")
    for s in services:
        table.add_row(
            s.name,
            s.endpoint,
            "lakestream up" if s.managed else "external",
            str(s.pid or "-"),
            "[green]yes[/]" if s.answering else "[red]no[/]",
        )
    console.print(table)
    if not reachable:
        console.print("Not every service answers: run `lakestream up` (or `make up`).")
        return 1
    console.print(_outcome_table(outcomes, "Resources"))
    if groups:
        console.print(_groups_table(groups))
    return 0 if healthy else 1


def cmd_down(args: argparse.Namespace) -> int:
    stopped = EmbeddedStack(load_settings()).down(progress=lambda m: err_console.print(f"• {m}"))
    console.print("Stack is down." if stopped else "Nothing was running.")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = load_settings()
    table = Table(title="Effective configuration", title_justify="left")
    for column in ("variable", "value", "meaning"):
        table.add_column(column, overflow="fold")
    for row in settings.describe():
        table.add_row(*row)
    console.print(table)
    console.print(
        f"embedded: aws apis={'yes' if settings.embeds_aws else 'no'}, "
        f"kafka={'yes' if settings.embeds_kafka else 'no'}"
    )
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    if args.from_json == "-":
        document = sys.stdin.read()
    elif args.from_json:
        try:
            document = Path(args.from_json).read_text(encoding="utf-8")
        except OSError as exc:
            raise LakestreamError(f"cannot read {args.from_json}: {exc.strerror}") from None
    else:
        document = terraform_output(args.terraform_dir)
    outputs = parse_outputs(document)
    ca_path = args.output.parent / CA_FILE_NAME
    kafka, ca_bundle = kafka_client_settings(outputs, args.kafka_user, ca_path)
    values = parse_settings({**outputs.settings, **kafka})
    if ca_bundle and write_ca_bundle(ca_path, ca_bundle):
        err_console.print(f"• wrote the brokers' CA bundle to {ca_path}", highlight=False)
    changes = write_env(args.output, values)
    for change in changes:
        err_console.print(f"• {change}", highlight=False)
    if "KAFKA_SASL_PASSWORD" in kafka:
        console.print(
            f"Kafka user: {args.kafka_user} (its password stays in Secrets Manager; "
            "`--kafka-user` picks another)."
        )
    if changes:
        console.print(
            f"{args.output}: {len(changes)} change(s); `lakestream config` shows the result."
        )
    else:
        console.print(f"{args.output} already holds these settings; nothing changed.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.demo import run_demo  # imported on use: it loads Django, DuckDB, Kafka

    settings = load_settings()
    port = settings.api_port if args.port is None else args.port
    return run_demo(settings, args.records, serve=not args.no_serve, port=port)


def cmd_audit(args: argparse.Namespace) -> int:
    from curation.reconcile import audit  # imported on use: it loads pyiceberg

    settings = load_settings()
    require_aws(settings)
    require_kafka(settings)  # the groups' committed offsets
    rows = audit(settings, settings.datasets.select(args.datasets), args.group_prefix)
    unaccounted = sum(r.unaccounted for r in rows)
    skipped = sum(r.skipped for r in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "unaccounted": unaccounted,
                    "skipped": skipped,
                    "partitions": [r.to_dict() for r in rows],
                }
            )
        )
        return 0 if unaccounted == 0 else 1
    table = Table(title="Every committed offset, accounted for", title_justify="left")
    for column in (
        "dataset", "partition", "committed", "raw records", "raw dead letters", "skipped",
        "unaccounted",
        "past the commit", "curated up to", "curated rows", "curated dead letters",
        "unaccounted",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for r in rows:
        table.add_row(
            r.dataset, str(r.partition), f"{r.committed:,}", f"{r.raw_records:,}",
            f"{r.raw_dead_letters:,}", f"{r.skipped:,}", _flag(r.raw_unaccounted),
            _flag(r.raw_beyond),
            f"{r.applied:,}",
            f"{r.curated_rows:,}", f"{r.curated_dead_letters:,}", _flag(r.curated_unaccounted),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"unaccounted: {unaccounted:,}"
        + ("" if unaccounted == 0 else " (positive: lost; negative: duplicated)")
    )
    if skipped:
        console.print(
            f"skipped: {skipped:,} committed offsets the broker delivered no message for (gaps "
            "in its log: transaction markers, compaction, expired or lost batches)"
        )
    return 0 if unaccounted == 0 else 1


def _flag(value: int) -> str:
    return "0" if value == 0 else f"[red]{value:+,}[/]"


def cmd_soak(args: argparse.Namespace) -> int:
    from orchestration.soak import clean, show, soak  # imported on use: it loads every stage

    report = soak(args.minutes, args.rate, args.fault_every, args.out)
    show(report, console)
    console.print(f"Report: {args.out / 'soak.json'}; process logs beside it.")
    return 0 if clean(report) else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from orchestration.bench.run import run_bench  # imported on use: it loads every stage

    quick = args.quick or os.environ.get("BENCH_QUICK") == "1"
    return run_bench(args.out, quick, args.section or ())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakestream",
        description=(
            "Kafka -> S3 -> Glue -> Athena data lake toolkit. The embedded stack (moto for the "
            "AWS APIs, Tansu for Kafka) runs it all on this machine. Configuration comes from "
            "environment variables and an optional .env file; see `lakestream config`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser(
        "up",
        help="start the embedded stack and provision buckets, topics, Glue and Athena",
        description=(
            "Start the moto server and the Tansu broker (unless AWS_ENDPOINT_URL or "
            "KAFKA_BOOTSTRAP_SERVERS point elsewhere), wait until S3 and Kafka answer, then "
            "create what is missing. Running it again changes nothing."
        ),
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_READY_TIMEOUT,
        help="seconds to wait for each service to answer (default %(default)s)",
    )
    up.set_defaults(func=cmd_up)

    status = sub.add_parser(
        "status",
        help="show the services and the provisioned resources (exit 1 if anything is missing)",
    )
    add_json_option(status, "the status")
    add_group_prefix_option(status)
    status.set_defaults(func=cmd_status)

    down = sub.add_parser("down", help="stop the embedded processes started by `up`")
    down.set_defaults(func=cmd_down)

    demo = sub.add_parser(
        "demo",
        help="run the whole pipeline on the embedded stack, then serve the API",
        description="Start the stack, produce N simulated records per dataset, land them in S3, "
        "crawl, run the four saved analyses, print a summary, then serve the API until Ctrl-C. "
        "The stack is stopped at the end if the demo started it.",
    )
    demo.add_argument(
        "--records", type=int, default=5_000, help="per dataset (default %(default)s)"
    )
    demo.add_argument("--no-serve", action="store_true", help="exit after the summary")
    demo.add_argument("--port", type=int, help="the API's port (default: API_PORT, 8000)")
    demo.set_defaults(func=cmd_demo)

    bench = sub.add_parser(
        "bench",
        help="every benchmark in one run, each figure beside its baseline; a report and a chart",
    )
    bench.add_argument("--quick", action="store_true", help="small workloads (or BENCH_QUICK=1)")
    bench.add_argument("--out", type=Path, default=Path("bench-results"), help="report folder")
    bench.add_argument(
        "--section",
        action="append",
        choices=SECTIONS,
        metavar="NAME",
        help="run only this section (repeat for more; they run in the usual order): "
        + ", ".join(SECTIONS),
    )
    bench.set_defaults(func=cmd_bench)

    soak = sub.add_parser(
        "soak",
        help="the pipeline under faults for N minutes, then what was lost or duplicated",
        description="On a private embedded stack: produce at a steady rate while a sink, "
        "curation (--follow) and the API run, and every few seconds SIGKILL the sink, SIGKILL "
        "curation, restart the broker, stall S3 for 10 s or restart the API. Then drain, "
        "reconcile and print records produced, faults by kind, records lost and duplicated "
        "(raw and curated), dead letters by reason and each process's peak RSS. Exit 1 unless "
        "nothing was lost or duplicated.",
    )
    soak.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("SOAK_MINUTES", "10")),
        help="how long faults are injected (default SOAK_MINUTES or 10)",
    )
    soak.add_argument(
        "--rate", type=int, default=500, help="records/s per topic (default %(default)s)"
    )
    soak.add_argument(
        "--fault-every", type=float, default=15.0, help="seconds between faults (default 15)"
    )
    soak.add_argument("--out", type=Path, default=Path("soak-results"), help="report folder")
    soak.set_defaults(func=cmd_soak)

    env = sub.add_parser(
        "env",
        help="write .env from Terraform's outputs, so the tools use the provisioned resources",
        description=(
            "Read the outputs of `terraform apply` in infra/ (brokers, their security protocol, "
            "bucket suffix, Glue database, Athena workgroup, region), check them, and set those "
            "variables in the settings file: KAFKA_SASL_PASSWORD as a reference to the chosen "
            "user's secret in Secrets Manager, KAFKA_SSL_CAFILE as the brokers' CA bundle, "
            "written beside the file. Other lines of the file (API_KEY, comments) are kept."
        ),
    )
    env.add_argument(
        "--terraform-dir", type=Path, default=Path("infra"), help="Terraform root (default infra)"
    )
    env.add_argument(
        "--from-json",
        metavar="FILE",
        help="read `terraform output -json` (or its lakestream_settings alone) from FILE "
        "('-': stdin) instead of running Terraform",
    )
    env.add_argument(
        "--kafka-user",
        default=DEFAULT_KAFKA_USER,
        metavar="USER",
        help="whose Kafka credentials the tools use: producers (default), sink, curation or "
        "admin; "
        "KAFKA_SASL_PASSWORD refers to that user's secret, it is not copied",
    )
    env.add_argument(
        "--output", type=Path, default=Path(".env"), help="settings file (default .env)"
    )
    env.set_defaults(func=cmd_env)

    dlq_cli.add_parser(sub)

    audit = sub.add_parser(
        "audit",
        help="reconcile Kafka's committed offsets with the raw and curated layers "
        "(exit 1 unless every offset is accounted for)",
        description="Per dataset and partition: the offsets the sink group committed against "
        "the raw layer's records and dead letters, and the offsets curation applied against "
        "the curated rows and curation's dead letters. Counts come from object metadata (a "
        "HEAD per object) and the curated table's coordinate column, not from reading every "
        "object. 'unaccounted' must be 0: positive means lost, negative duplicated.",
    )
    add_datasets_option(audit)
    add_group_prefix_option(audit)
    add_json_option(audit, "the reconciliation")
    audit.set_defaults(func=cmd_audit)

    config = sub.add_parser("config", help="show the effective configuration (secrets masked)")
    config.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(cli_args(argv))
    # SIGTERM/SIGHUP unwind like Ctrl-C while a command runs: what it started is stopped. Put
    # back after, for a caller that runs it in-process (a test, a notebook).
    with handlers_restored(*TERMINATION_SIGNALS):
        interrupt_on_termination()
        return command_main("lakestream", lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
