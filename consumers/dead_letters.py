"""Reading the dead letters back: what `lakestream dlq list|show` prints and `replay` sends.

The sink's dead letters (`_dlq/<topic>/…`) hold whole messages: value, key and headers (as text,
or base64 when they are not UTF-8), their Kafka coordinates, timestamp and reason
(consumers/batch.py `dead_letter`). Curation's (`_dlq/curated/<topic>/…`) hold raw records that
did not fit the curated table, with their coordinates and reason.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.formats import FORMATS
from lakestream.core.settings import Settings

Layer = Literal["raw", "curated"]
_DECODER = FORMATS["jsonl"]


class DeadLetterError(LakestreamError):
    """A dead letter that was asked for and is not there, or a selection that is wrong."""


@dataclass(frozen=True, order=True)
class Origin:
    """A message's Kafka coordinates, written `topic:partition:offset`."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def parse(cls, text: str) -> Origin:
        topic, _, rest = text.rpartition(":")
        topic, _, partition = topic.rpartition(":")
        try:
            return cls(topic, int(partition), int(rest))
        except ValueError:
            raise DeadLetterError(
                f"{text!r} is not a dead letter's coordinates: write TOPIC:PARTITION:OFFSET, "
                "as `lakestream dlq list --letters` prints them"
            ) from None


def _bytes(entry: dict[str, Any], name: str) -> bytes | None:
    if f"{name}_base64" in entry:
        return base64.b64decode(entry[f"{name}_base64"])
    value = entry.get(name)
    return None if value is None else str(value).encode("utf-8")


@dataclass(frozen=True)
class DeadLetter:
    dataset: Dataset
    layer: Layer
    origin: Origin
    reason: str
    entry: dict[str, Any]  # as stored
    object_key: str

    @property
    def value(self) -> bytes | None:
        """The message's value as it was sent (raw layer), or the refused record (curated)."""
        if self.layer == "curated":
            record = self.entry.get("record")
            return None if record is None else orjson.dumps(record)
        return _bytes(self.entry, "value")

    @property
    def key(self) -> bytes | None:
        return _bytes(self.entry, "kafka_key")

    @property
    def headers(self) -> list[tuple[str, bytes | None]]:
        return [(h["key"], _bytes(h, "value")) for h in self.entry.get("kafka_headers") or []]


# Numbers and quoted text vary from one letter to the next; what is left names the kind.
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d+(\.\d+)?")


def reason_kind(reason: str) -> str:
    """A reason with its values taken out, so letters refused for the same cause group
    together: `likes: N is outside the bigint range (-N^N to N^N-N)`."""
    return _VARYING.sub(lambda m: "…" if m.group(0)[0] in "'\"" else "N", reason)[:160]


def _prefix(dataset: Dataset, layer: Layer) -> str:
    if layer == "raw":
        return layout.dlq_prefix(dataset.topic)
    return layout.curated_dlq_prefix(dataset.topic)


def dead_letters(
    settings: Settings, datasets: Iterable[Dataset], layer: Layer = "raw"
) -> Iterator[DeadLetter]:
    """Every dead letter of these datasets on one layer, object by object in key order."""
    s3 = clients.aws_client(settings, "s3")
    wanted = "dead_letter" if layer == "raw" else "curated_dead_letter"
    for ds in datasets:
        bucket = settings.bucket(ds)
        for obj in clients.list_objects(s3, bucket, _prefix(ds, layer)):
            parsed = layout.parse_key(obj["Key"])
            if parsed is None or parsed.kind != wanted:
                continue
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            for entry in _DECODER.decode(body):
                yield DeadLetter(
                    dataset=ds,
                    layer=layer,
                    origin=Origin(
                        str(entry.get("kafka_topic") or ds.topic),
                        int(entry.get("kafka_partition") or 0),
                        int(entry.get("kafka_offset") or 0),
                    ),
                    reason=str(entry.get("reason") or ""),
                    entry=entry,
                    object_key=obj["Key"],
                )


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command acts on; every criterion given must hold."""

    reason: str | None = None  # a case-insensitive part of the reason
    partition: int | None = None
    first_offset: int | None = None  # inclusive
    last_offset: int | None = None  # inclusive
    limit: int | None = None

    def matches(self, letter: DeadLetter) -> bool:
        o = letter.origin
        return (
            (self.reason is None or self.reason.lower() in letter.reason.lower())
            and (self.partition is None or o.partition == self.partition)
            and (self.first_offset is None or o.offset >= self.first_offset)
            and (self.last_offset is None or o.offset <= self.last_offset)
        )

    def apply(self, letters: Iterable[DeadLetter]) -> list[DeadLetter]:
        chosen = sorted((x for x in letters if self.matches(x)), key=lambda x: x.origin)
        return chosen if self.limit is None else chosen[: self.limit]


def find(settings: Settings, datasets: Iterable[Dataset], origin: Origin) -> list[DeadLetter]:
    """The dead letters of one message, on both layers (a replayed message may have both)."""
    by_topic = [ds for ds in datasets if ds.topic == origin.topic]
    if not by_topic:
        known = ", ".join(sorted(ds.topic for ds in datasets))
        raise DeadLetterError(f"no dataset reads the topic {origin.topic!r} (topics: {known})")
    return [
        letter
        for layer in ("raw", "curated")
        for letter in dead_letters(settings, by_topic, layer)  # type: ignore[arg-type]
        if letter.origin == origin
    ]
