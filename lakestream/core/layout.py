"""The raw lake's layout: every object key the sink and curation write, built and parsed here.

    s3://<bucket>/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset, 20 digits>.<ext>
    s3://<bucket>/_dlq/<topic>/<topic>+<partition>+<first offset>.jsonl.gz
    s3://<bucket>/_dlq/curated/<topic>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset>.jsonl.gz
    s3://<bucket>/_state/<topic>+<partition>.json
    s3://<bucket>/_state/<topic>+<partition>.lease
    s3://<bucket>/_state/replays/<topic>/<replay id>.json
    s3://<bucket>/curated/<table>/                        the curated Iceberg table (its own layout)

The first is a batch's records of one day (`<ext>` is its format's: `.jsonl.gz`, `.parquet`);
the second, the sink's dead letters of a batch; the third, curation's dead letters of one raw
object, named after it (its topic, `dt` and batch); the fourth, the manifest of a partition's
last batch (consumers/writer.py); the fifth, which sink holds a partition under manual
assignment (consumers/leases.py); the sixth, the ledger of one replay of dead letters
(consumers/replay.py).

Names depend only on Kafka coordinates (and the day of the records), so a batch re-read after a
crash (it starts at the last committed offset, which is its first offset) overwrites its own
earlier copy, and a curation pass run again overwrites its dead letters. Offsets are zero-padded
to 20 digits (the largest int64 has 19), so names sort in offset order. `dt` is the date part of
the record's event time, never the clock. Dead letters and manifests sit at the bucket root,
outside the `<table>/` path that the crawlers read. These names are a data contract: existing
lakes must stay readable, so a change here is a migration, not a refactoring.

Like pyiceberg's `LocationProvider`, this module is the one owner of the layout: the sink, the
audit, curation, maintenance, the crawler, the engines, the stats and the benchmark build and
parse keys only through it. It lives in the core because its users span every layer from the
local platform (the crawlers' targets) up to the API and the benchmark, and because curation,
not the sink, writes curation's dead letters: a stage package would make the other stages
depend on it for a contract they all share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from lakestream.core.datasets import PARTITION_KEY, Dataset
from lakestream.core.formats import FORMATS

OFFSET_DIGITS = 20  # the largest int64 offset has 19 digits: names sort in offset order
DEAD_LETTER_EXTENSION = FORMATS["jsonl"].extension  # dead letters are always JSON lines
MANIFEST_EXTENSION = ".json"
# User metadata of every object the sink and curation write (x-amz-meta-records): how many
# records or dead letters it holds, read with a HEAD instead of a download (`lakestream audit`,
# /api/stats/).
RECORD_COUNT = "records"
# On every object of a sink batch whose offsets have gaps (x-amz-meta-skipped-offsets): how many
# offsets between where the batch began reading and its end the broker delivered no message for
# (transaction markers, compaction, expired or lost batches). The audit tells these from losses.
SKIPPED_OFFSETS = "skipped-offsets"
# Gaps the sink could not check with the broker in time (x-amz-meta-unchecked-gaps, "a-b,c-d":
# offsets [a, b) and [c, d)): the audit asks the broker about them.
UNCHECKED_GAPS = "unchecked-gaps"
_MAX_GAPS_TEXT = 1500  # S3 keeps 2 KB of user metadata per object: what does not fit is unaccounted


def gaps_text(gaps: list[tuple[int, int]]) -> str:
    """Offset ranges as metadata text, as many as fit."""
    text = ""
    for start, end in gaps:
        item = f"{start}-{end}"
        if len(text) + len(item) + 1 > _MAX_GAPS_TEXT:
            break
        text = f"{text},{item}" if text else item
    return text


def parse_gaps(text: str | None) -> list[tuple[int, int]]:
    """The ranges of `gaps_text`; anything malformed is left out."""
    gaps = []
    for item in (text or "").split(","):
        start, _, end = item.partition("-")
        if start.isdigit() and end.isdigit() and int(start) < int(end):
            gaps.append((int(start), int(end)))
    return gaps


_DLQ = "_dlq"
_CURATED_DLQ = f"{_DLQ}/curated"
_STATE = "_state"
_CURATED = "curated"  # Terraform's dataset_catalog module names the same location

Kind = Literal["data", "dead_letter", "curated_dead_letter", "manifest"]


@dataclass(frozen=True)
class LakeKey:
    """A raw-lake object key, parsed (`parse_key`): what the name says about the object."""

    key: str
    kind: Kind
    topic: str
    partition: int
    first_offset: int | None = None  # None for a manifest: it names a partition, not a batch
    table: str | None = None  # data objects only
    dt: str | None = None  # data objects and curation's dead letters
    extension: str = DEAD_LETTER_EXTENSION


def batch_name(topic: str, partition: int, first_offset: int) -> str:
    return f"{topic}+{partition}+{first_offset:0{OFFSET_DIGITS}d}"


def _root(root: str) -> str:
    return root if not root or root.endswith("/") else f"{root}/"


def table_prefix(table: str) -> str:
    """Everything under a table: its data objects and anything else put there."""
    return _root(table)


def table_location(bucket: str, table: str) -> str:
    """The raw table's S3 location (Glue's table Location, the crawler's target)."""
    return f"s3://{bucket}/{table_prefix(table)}"


def curated_location(bucket: str, table: str) -> str:
    """The curated Iceberg table's location: under the dataset's bucket, outside the raw
    crawler's `<table>/` path. Inside it, Iceberg lays out its data and metadata files."""
    return f"s3://{bucket}/{_CURATED}/{table}"


def split_location(location: str) -> tuple[str, str]:
    """An s3:// location as (bucket, key prefix)."""
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    return bucket, prefix


def data_prefix(root: str) -> str:
    """The prefix of every day's objects under `root`: a table's name or prefix, or its
    s3:// location."""
    return f"{_root(root)}{PARTITION_KEY}="


def day_prefix(root: str, dt: str) -> str:
    """One day's folder under `root` (as `data_prefix`); a Glue partition's Location when
    `root` is the table's location."""
    return f"{data_prefix(root)}{dt}/"


def days_glob(root: str) -> str:
    """Every object of every day under `root` (as `data_prefix`), as a glob (DuckDB's)."""
    return f"{data_prefix(root)}*/*"


def data_key(
    dataset: Dataset, dt: str, topic: str, partition: int, first_offset: int, extension: str
) -> str:
    return f"{day_prefix(dataset.table, dt)}{batch_name(topic, partition, first_offset)}{extension}"


def dlq_prefix(topic: str) -> str:
    """The sink's dead letters of a topic."""
    return f"{_DLQ}/{topic}/"


def dlq_key(topic: str, partition: int, first_offset: int) -> str:
    name = batch_name(topic, partition, first_offset)
    return f"{dlq_prefix(topic)}{name}{DEAD_LETTER_EXTENSION}"


def curated_dlq_prefix(topic: str) -> str:
    """Curation's dead letters of a topic."""
    return f"{_CURATED_DLQ}/{topic}/"


def curated_dlq_key(topic: str, dt: str, partition: int, first_offset: int) -> str:
    """Curation's dead letters of one raw object, named after it: a pass run again overwrites
    them."""
    name = batch_name(topic, partition, first_offset)
    return f"{day_prefix(curated_dlq_prefix(topic), dt)}{name}{DEAD_LETTER_EXTENSION}"


def manifest_key(topic: str, partition: int) -> str:
    return f"{_STATE}/{topic}+{partition}{MANIFEST_EXTENSION}"


def lease_key(topic: str, partition: int) -> str:
    """Which sink holds the partition under manual assignment, and since when (its LastModified):
    manual assignment has no group to fence a second sink (consumers/leases.py)."""
    return f"{_STATE}/{topic}+{partition}.lease"


def replay_ledger_prefix(topic: str) -> str:
    """The ledgers of `lakestream dlq replay` for a topic: which dead letters were sent again,
    and where they went (consumers/replay.py)."""
    return f"{_STATE}/replays/{topic}/"


def replay_ledger_key(topic: str, replay_id: str) -> str:
    return f"{replay_ledger_prefix(topic)}{replay_id}{MANIFEST_EXTENSION}"


def replay_lock_key(topic: str) -> str:
    """Held while a replay of the topic runs: two at once could send a letter twice."""
    return f"{_STATE}/replays/{topic}.lock"


# Topics hold neither '/' nor '+' (the catalog allows [A-Za-z0-9._-]), so each part is found
# without ambiguity. Offsets and days are read as loosely as they were ever written.
_BATCH = r"(?P<topic>[^/+]+)\+(?P<partition>\d+)\+(?P<first_offset>\d+)"
_DAY = rf"{PARTITION_KEY}=(?P<dt>[^/]+)"
_DATA_EXTENSIONS = "|".join(re.escape(f.extension) for f in FORMATS.values())
_DEAD_EXTENSION = re.escape(DEAD_LETTER_EXTENSION)
_MANIFEST_EXTENSION = re.escape(MANIFEST_EXTENSION)
_PATTERNS: dict[Kind, re.Pattern[str]] = {
    "manifest": re.compile(
        rf"^{_STATE}/(?P<topic>[^/+]+)\+(?P<partition>\d+)(?P<extension>{_MANIFEST_EXTENSION})$"
    ),
    "dead_letter": re.compile(
        rf"^{_DLQ}/(?P<folder>[^/]+)/{_BATCH}(?P<extension>{_DEAD_EXTENSION})$"
    ),
    "curated_dead_letter": re.compile(
        rf"^{_CURATED_DLQ}/(?P<folder>[^/]+)/{_DAY}/{_BATCH}(?P<extension>{_DEAD_EXTENSION})$"
    ),
    "data": re.compile(
        rf"^(?P<table>[^/_][^/]*)/{_DAY}/{_BATCH}(?P<extension>{_DATA_EXTENSIONS})$"
    ),
}


def parse_key(key: str) -> LakeKey | None:
    """The parts of a key this module builds; None for any other object (a folder marker, a
    file put there by hand, an Iceberg file)."""
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(key)
        if match is None:
            continue
        parts = match.groupdict()
        if parts.pop("folder", parts["topic"]) != parts["topic"]:
            continue  # a dead letter sits in its own topic's folder
        first = parts.pop("first_offset", None)
        return LakeKey(
            key,
            kind,
            topic=parts["topic"],
            partition=int(parts["partition"]),
            first_offset=None if first is None else int(first),
            table=parts.get("table"),
            dt=parts.get("dt"),
            extension=parts["extension"],
        )
    return None


def event_date(record: dict[str, Any], dataset: Dataset) -> str:
    """The record's `dt`: the date part of its event-time field (already validated)."""
    return str(record[dataset.event_time_field])[:10]
