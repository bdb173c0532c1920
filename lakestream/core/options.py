"""The options several command lines share, each defined once: its spelling, its aliases, its help.

Choosing some of the datasets is `--datasets` wherever a command takes several. The spellings a
command took before stay as its aliases (`--topics` for the producers and the sink, `--dataset`
for `glue crawl` and `lakestream dlq list`), so scripts written against them keep working, and
every one lands in `args.datasets`. Only a shortened spelling that now fits two of them (`--data`
for `--dataset`) has to be written out. `lakestream dlq replay --dataset` names one dataset: it
is another option.
"""

from __future__ import annotations

import argparse


def add_datasets_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *aliases: str
) -> None:
    """`--datasets NAME...` (and its `aliases`) into `args.datasets`: None means all of them.
    The names are resolved by `DatasetCatalog.select`, which also takes topic names."""
    parser.add_argument(
        "--datasets",
        *aliases,
        dest="datasets",
        nargs="+",
        metavar="NAME",
        help="datasets or topics, by name, space- or comma-separated (default: all)",
    )


def add_json_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "the results"
) -> None:
    """`--json`: what the command prints goes to stdout as one JSON document instead."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")
