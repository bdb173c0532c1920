"""`python -m glue`: crawl the lake into the Glue catalog, and run Athena SQL against it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from engines import local_engine_class
from engines.values import json_value
from glue.crawler import LocalCrawler, awaiting_a_crawl, run_aws_crawlers
from glue.queries import saved_queries
from lakestream.core.console import out_console
from lakestream.core.entry import cli_args, command_main
from lakestream.core.errors import LakestreamError
from lakestream.core.options import add_datasets_option, add_json_option
from lakestream.core.settings import load_settings
from lakestream.stack.reachable import require_aws

err = Console(stderr=True)


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_aws(settings)
    datasets = settings.datasets.select(args.datasets)
    if args.missing:
        if settings.target != "aws":
            raise LakestreamError("--missing is for the crawlers on AWS (LAKESTREAM_TARGET=aws)")
        datasets = awaiting_a_crawl(settings, datasets)
        if not datasets:
            err.print("• every table with data is in the catalog: no crawler to run")
            return 0
    if settings.target == "aws":
        statuses = run_aws_crawlers(settings, datasets, lambda m: err.print(f"• {m}"))
        failed = [name for name, status in statuses.items() if status != "SUCCEEDED"]
        for name, status in statuses.items():
            print(f"{name}\t{status}")
        return 1 if failed else 0
    crawler = LocalCrawler(settings, lambda m: err.print(f"• {m}"))
    table = Table(title=f"Glue database {settings.glue_database}", title_justify="left")
    for column in ("table", "state", "partitions", "new", "objects", "columns"):
        table.add_column(column, overflow="fold")
    for ds in datasets:
        r = crawler.crawl(ds)
        columns = ", ".join(f"{n} {t}" for n, t in r.columns)
        new = ", ".join(r.new_columns) if r.new_columns else ""
        new = f"{r.new_partitions} partitions" + (f"; columns {new}" if new else "")
        table.add_row(r.table, r.state, str(r.partitions), new, str(r.objects), columns)
    out_console().print(table)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    if sum(bool(x) for x in (args.query, args.file, args.saved)) != 1:
        raise LakestreamError("give exactly one of: a query, --file PATH, --saved NAME")
    params: list[Any] = list(args.param or [])
    if args.file:
        sql = Path(args.file).read_text(encoding="utf-8")
    elif args.saved:
        queries = saved_queries()
        if args.saved not in queries:
            raise LakestreamError(f"no saved query {args.saved!r}; known: {', '.join(queries)}")
        query = queries[args.saved]
        sql = query.sql
        # A saved query's parameters are named (its @param lines): --param from=2024-10-01.
        if any("=" not in p for p in params):
            raise LakestreamError("for --saved, give parameters as --param NAME=VALUE")
        named = dict(p.partition("=")[::2] for p in params)
        try:
            params = query.bind(named)
        except ValueError as exc:
            raise LakestreamError(str(exc)) from None
    else:
        sql = args.query
    settings = load_settings()
    require_aws(settings)
    engine = local_engine_class()(settings, timeout=args.timeout)
    result = engine.execute(sql, params)
    rows = result.rows[: args.max_rows]
    if args.json:
        doc = {
            "columns": result.columns,
            "column_types": result.column_types,
            "rows": [[json_value(v) for v in row] for row in rows],
            "row_count": len(result.rows),
            "truncated": len(result.rows) > len(rows),
            "scanned_partitions": result.scanned_partitions,
        }
        print(json.dumps(doc, indent=2))
        return 0
    table = Table(title_justify="left")
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("NULL" if v is None else str(json_value(v)) for v in row))
    out_console().print(table)
    more = f" (showing {len(rows)})" if len(rows) < len(result.rows) else ""
    scanned = ", ".join(f"{t}: {len(p)}" for t, p in result.scanned_partitions.items())
    err.print(
        f"{len(result.rows)} rows{more}; partitions read: {scanned or 'none'}", highlight=False
    )
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_aws(settings)
    engine = local_engine_class()(settings)
    for name in engine.tables():
        info = engine.table(name)
        print(f"{name}\t{info.format}\t{len(info.partitions)} partitions\t{info.location}")
    return 0


def cmd_queries(args: argparse.Namespace) -> int:
    for q in saved_queries().values():
        params = ", ".join(f"{p.name} {p.type} = {p.default}" for p in q.params)
        print(f"{q.name}\t{q.description}\t{params}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m glue",
        description="Register the lake's tables in the Glue catalog (crawl) and query them with "
        "Athena SQL. Locally a crawler of our own fills the catalog (moto's crawlers do not "
        "crawl) and DuckDB runs the SQL; with LAKESTREAM_TARGET=aws the real crawlers run.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    crawl = sub.add_parser("crawl", help="crawl the lake: tables, columns, partitions")
    add_datasets_option(crawl, "--dataset")
    crawl.add_argument(
        "--missing",
        action="store_true",
        help="on AWS, crawl only the datasets whose raw table is not in the catalog yet and "
        "whose prefix holds data (what the curation instance runs every 10 minutes: once the "
        "tables exist it starts nothing, and the sink registers each new day)",
    )
    crawl.set_defaults(func=cmd_crawl)

    sql = sub.add_parser(
        "sql",
        help="run Athena (Trino) SQL against the local lake",
        description="Run one SELECT in Athena's (Trino) dialect against the tables of the Glue "
        "database. Values for '?' placeholders are given with --param, in order, and bound, never "
        "pasted into the SQL.",
    )
    sql.add_argument("query", nargs="?", help="the SQL text")
    sql.add_argument("--file", help="read the SQL from a file")
    sql.add_argument(
        "--saved", metavar="NAME", help="run a saved query (see `python -m glue queries`)"
    )
    sql.add_argument(
        "--param",
        action="append",
        metavar="VALUE",
        help="a '?' value, in order (repeatable); with --saved, NAME=VALUE of its @param lines",
    )
    add_json_option(sql, "the answer (columns, rows, row_count)")
    sql.add_argument("--max-rows", type=int, default=100, help="rows shown (default %(default)s)")
    sql.add_argument("--timeout", type=float, default=60.0, help="seconds (default %(default)s)")
    sql.set_defaults(func=cmd_sql)

    tables = sub.add_parser("tables", help="list the Glue tables with format and partitions")
    tables.set_defaults(func=cmd_tables)
    queries = sub.add_parser("queries", help="list the saved queries")
    queries.set_defaults(func=cmd_queries)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(cli_args(argv))
    return command_main("glue", lambda: args.func(args), expected=(OSError,))
