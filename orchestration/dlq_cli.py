"""`lakestream dlq list|show|replay`: the dead letters, by reason; one of them whole; sending a
selection again once the data or the code is fixed (consumers/replay.py)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from rich.table import Table

from consumers.dead_letters import (
    DeadLetter,
    DeadLetterError,
    Origin,
    Selection,
    dead_letters,
    find,
    reason_kind,
)
from consumers.replay import Ledgers, provenance, replay
from lakestream.core.argtypes import non_negative, positive
from lakestream.core.console import err_console, out_console
from lakestream.core.options import add_datasets_option, add_json_option
from lakestream.core.settings import load_settings
from lakestream.stack.reachable import require_aws, require_kafka

console = out_console()
err = err_console()


def _selection(args: argparse.Namespace) -> Selection:
    first = last = None
    if args.offsets:
        low, sep, high = args.offsets.partition("-")
        try:
            first, last = int(low), int(high if sep else low)
        except ValueError:
            raise DeadLetterError(
                f"--offsets {args.offsets!r}: write FIRST-LAST or one OFFSET"
            ) from None
    return Selection(args.reason, args.partition, first, last, args.limit)


def cmd_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_aws(settings)
    rows: list[dict[str, Any]] = []
    for ds in settings.datasets.select(args.datasets):
        letters = _selection(args).apply(dead_letters(settings, [ds], args.layer))
        sent = provenance(settings, ds) if args.layer == "raw" else {}
        if args.letters:
            rows += [
                {
                    "dataset": ds.name,
                    "letter": str(x.origin),
                    "reason": x.reason,
                    "replayed_to": sent.get(str(x.origin), []),
                }
                for x in letters
            ]
            continue
        kinds = Counter(reason_kind(x.reason) for x in letters)
        replayed = Counter(reason_kind(x.reason) for x in letters if str(x.origin) in sent)
        rows += [
            {"dataset": ds.name, "reason": k, "letters": n, "replayed": replayed[k]}
            for k, n in kinds.most_common()
        ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        console.print(f"No dead letters on the {args.layer} layer.")
        return 0
    table = Table(title=f"Dead letters, {args.layer} layer", title_justify="left")
    for column in rows[0]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in row.values()))
    console.print(table)
    return 0


def _shown(letter: DeadLetter, sent: list[str]) -> dict[str, Any]:
    return {
        "layer": letter.layer,
        "object": letter.object_key,
        "replayed_to": sent,
        **letter.entry,
    }


def cmd_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_aws(settings)
    origin = Origin.parse(args.letter)
    found = find(settings, list(settings.datasets), origin)
    if not found:
        raise DeadLetterError(f"no dead letter for {origin} on either layer")
    sent = provenance(settings, found[0].dataset).get(str(origin), [])
    print(json.dumps([_shown(x, sent if x.layer == "raw" else []) for x in found], indent=2))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_aws(settings)
    ds = settings.datasets.get(args.dataset)
    if args.abandon:
        ledger = Ledgers(settings, ds).abandon(args.abandon)
        console.print(
            f"Replay {ledger.replay_id} abandoned: its {len(ledger.sent)} letters count as not "
            "replayed; check the lake for copies it may have sent before replaying them."
        )
        return 0
    every = list(dead_letters(settings, [ds], "raw"))
    chosen = _selection(args).apply(every)
    if not chosen:
        console.print(f"No dead letter of {ds.name} matches: nothing to replay.")
        return 0
    if args.dry_run:
        done = provenance(settings, ds)
        fresh = [x for x in chosen if args.again or str(x.origin) not in done]
        console.print(
            f"Would send {len(fresh)} of {len(chosen)} chosen dead letters to {ds.topic} "
            f"({len(chosen) - len(fresh)} already replayed; --again sends those too)."
        )
        return 0
    require_kafka(settings)  # before the ledger says the replay is under way
    result = replay(settings, ds, chosen, every, again=args.again)
    if result.settled:
        err.print(f"• settled an interrupted replay: {result.settled} letters")
    if result.replay_id is None:
        console.print(
            f"All {result.already} chosen dead letters were replayed before: nothing sent "
            "(--again sends them once more)."
        )
        return 0
    console.print(
        f"Sent {result.sent} dead letters to {ds.topic} (replay {result.replay_id}; "
        f"{result.already} already replayed, skipped). The sink lands them, or sets them "
        "aside again with their reason: `lakestream dlq list`."
    )
    return 0


def _selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", metavar="TEXT", help="letters whose reason contains TEXT")
    parser.add_argument(
        "--partition", type=non_negative(int), help="letters of this Kafka partition"
    )
    parser.add_argument(
        "--offsets", metavar="FIRST-LAST", help="letters whose original offsets lie in this range"
    )
    parser.add_argument(
        "--limit",
        type=positive(int),
        help="at most this many letters (in partition, then offset order)",
    )


def add_parser(sub: Any) -> None:
    dlq = sub.add_parser(
        "dlq",
        help="dead letters: list them by reason, show one, replay a selection",
        description="Messages the sink set aside (raw layer) or that curation could not fit "
        "(curated layer), each with its reason and Kafka coordinates.",
    )
    verbs = dlq.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = verbs.add_parser("list", help="count dead letters per dataset and reason")
    add_datasets_option(listing, "--dataset")
    listing.add_argument("--layer", choices=("raw", "curated"), default="raw")
    listing.add_argument(
        "--letters", action="store_true", help="one line per letter, with its coordinates"
    )
    add_json_option(listing, "the counts (with --letters, the letters)")
    _selection_options(listing)
    listing.set_defaults(func=cmd_list)

    show = verbs.add_parser(
        "show",
        help="print one dead letter whole (value, key, headers, reason) as JSON",
    )
    show.add_argument("letter", metavar="TOPIC:PARTITION:OFFSET")
    show.set_defaults(func=cmd_show)

    again = verbs.add_parser(
        "replay",
        help="send chosen dead letters of one dataset to their topic again, exactly once",
        description="Each letter goes back to its topic and partition with its key, headers "
        "and value, plus headers naming its origin. A letter is sent once: a later replay "
        "skips it unless --again; a replay that dies half way is finished by the next one. "
        "The raw layer's letters only (curation's are records already in raw).",
    )
    again.add_argument("--dataset", required=True, help="the dataset whose letters to send")
    _selection_options(again)
    again.add_argument("--again", action="store_true", help="send letters replayed before too")
    again.add_argument("--dry-run", action="store_true", help="say what would be sent, send none")
    again.add_argument(
        "--abandon",
        metavar="REPLAY_ID",
        help="give up a replay that died and cannot be settled (its ledger stays, marked so)",
    )
    again.set_defaults(func=cmd_replay)
