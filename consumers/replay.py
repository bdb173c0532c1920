"""`lakestream dlq replay`: send dead letters again, once the data or the code is fixed.

Each replayed message goes to its original topic and partition with its original key, headers
and value, plus two headers: `lakestream-replay-of` (its original `topic:partition:offset`, the
provenance) and `lakestream-replay` (the replay's id). The sink then treats it as any message:
it lands if it now passes, or becomes a new dead letter that names its origin in its headers.

Exactly once, even if the command dies half way. A replay writes its ledger
(`_state/replays/<topic>/<id>.json`, lakestream/core/layout.py) before it sends anything: the
letters chosen and each partition's end offset. After every send is acknowledged it writes the
ledger again as done, with where each letter went. A ledger found pending (a replay that died)
is settled first, by reading its partitions from the recorded offsets for the replay's id:
letters found there were sent; only the others are sent now. A letter in a done ledger is not
sent again unless asked (`--again`). The sink lands each Kafka message once and curation keeps
one row per Kafka coordinates, so a replayed record lands and curates exactly once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaError

from consumers.dead_letters import DeadLetter, DeadLetterError
from consumers.groups import end_offsets
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings

REPLAY_OF = "lakestream-replay-of"
REPLAY_ID = "lakestream-replay"
SEND_TIMEOUT_S = 60.0
SCAN_TIMEOUT_S = 60.0


@dataclass
class Ledger:
    replay_id: str
    topic: str
    state: str  # "pending" until every send was acknowledged, then "done"
    started_at: str
    start_offsets: dict[int, int]  # each partition's end before anything was sent
    # origin => where the replayed copy went ("partition:offset"), None until known
    sent: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "replay_id": self.replay_id,
                "topic": self.topic,
                "state": self.state,
                "started_at": self.started_at,
                "start_offsets": {str(p): o for p, o in self.start_offsets.items()},
                "sent": self.sent,
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, body: bytes) -> Ledger:
        data = orjson.loads(body)
        return cls(
            replay_id=data["replay_id"],
            topic=data["topic"],
            state=data["state"],
            started_at=data["started_at"],
            start_offsets={int(p): int(o) for p, o in data["start_offsets"].items()},
            sent=dict(data["sent"]),
        )


@dataclass(frozen=True)
class ReplayResult:
    replay_id: str | None
    sent: int
    already: int  # chosen letters an earlier replay sent (skipped)
    settled: int  # letters of a replay that had died, found sent or sent now


class Ledgers:
    """The replay ledgers of one dataset, in its bucket."""

    def __init__(self, settings: Settings, dataset: Dataset) -> None:
        self.s3 = clients.aws_client(settings, "s3")
        self.bucket = settings.bucket(dataset)
        self.topic = dataset.topic

    def all(self) -> list[Ledger]:
        prefix = layout.replay_ledger_prefix(self.topic)
        return [
            Ledger.from_json(self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read())
            for o in clients.list_objects(self.s3, self.bucket, prefix)
        ]

    def save(self, ledger: Ledger) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=layout.replay_ledger_key(self.topic, ledger.replay_id),
            Body=ledger.to_json(),
            ContentType="application/json",
        )


def replayed(ledgers: Iterable[Ledger]) -> dict[str, list[str]]:
    """Origin => where each done replay sent it (one entry per replay)."""
    out: dict[str, list[str]] = {}
    for ledger in ledgers:
        if ledger.state == "done":
            for origin, where in ledger.sent.items():
                out.setdefault(origin, []).append(where or "?")
    return out


def _headers(letter: DeadLetter, replay_id: str) -> list[tuple[str, bytes]]:
    kept = [
        (k, v or b"") for k, v in letter.headers if k not in (REPLAY_OF, REPLAY_ID)
    ]  # a letter replayed before carries the last replay's headers: they are replaced
    return [*kept, (REPLAY_OF, str(letter.origin).encode()), (REPLAY_ID, replay_id.encode())]


def _send(settings: Settings, letters: list[DeadLetter], replay_id: str) -> dict[str, str]:
    """Send and wait for every acknowledgement; origin => "partition:offset"."""
    producer = clients.kafka_producer(settings, enable_idempotence=True)
    try:
        futures = [
            (
                letter,
                producer.send(
                    letter.origin.topic,
                    value=letter.value,
                    key=letter.key,
                    headers=_headers(letter, replay_id),
                    partition=letter.origin.partition,
                ),
            )
            for letter in letters
        ]
        producer.flush(SEND_TIMEOUT_S)
        placed = {}
        for letter, future in futures:
            meta = future.get(timeout=SEND_TIMEOUT_S)
            placed[str(letter.origin)] = f"{meta.partition}:{meta.offset}"
        return placed
    finally:
        producer.close()


def _scan(settings: Settings, ledger: Ledger) -> dict[str, str]:
    """Messages of this replay found in its partitions since it started: origin => where."""
    ends = end_offsets(settings, ledger.topic, ledger.start_offsets)
    found: dict[str, str] = {}
    consumer = clients.kafka_consumer(settings, auto_offset_reset="earliest")
    try:
        parts = [TopicPartition(ledger.topic, p) for p in ledger.start_offsets]
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, ledger.start_offsets[tp.partition])
        deadline = time.monotonic() + SCAN_TIMEOUT_S
        pending = {tp for tp in parts if (ends.get(tp.partition) or 0) > consumer.position(tp)}
        while pending and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    headers = dict(r.headers or [])
                    if headers.get(REPLAY_ID) == ledger.replay_id.encode() and REPLAY_OF in headers:
                        found[headers[REPLAY_OF].decode()] = f"{r.partition}:{r.offset}"
            pending = {tp for tp in pending if consumer.position(tp) < (ends[tp.partition] or 0)}
        if pending:
            raise DeadLetterError(
                f"could not read replay {ledger.replay_id}'s partitions to their end within "
                f"{SCAN_TIMEOUT_S:.0f}s; nothing was sent again: retry"
            )
    finally:
        consumer.close()
    return found


def settle(settings: Settings, ledgers: Ledgers, letters: dict[str, DeadLetter]) -> int:
    """Finish every pending replay of this dataset: what it sent is found, the rest sent now.
    Returns how many letters those replays held."""
    settled = 0
    for ledger in ledgers.all():
        if ledger.state != "pending":
            continue
        found = _scan(settings, ledger)
        missing = [o for o in ledger.sent if o not in found]
        absent = [o for o in missing if o not in letters]
        if absent:
            raise DeadLetterError(
                f"replay {ledger.replay_id} died before it finished, and {len(absent)} of its "
                f"dead letters (first {absent[0]}) are no longer in the lake: nothing sent"
            )
        found |= _send(settings, [letters[o] for o in missing], ledger.replay_id)
        ledger.sent, ledger.state = {o: found[o] for o in ledger.sent}, "done"
        ledgers.save(ledger)
        settled += len(ledger.sent)
    return settled


def replay(
    settings: Settings,
    dataset: Dataset,
    chosen: list[DeadLetter],
    every_letter: list[DeadLetter],
    again: bool = False,
) -> ReplayResult:
    """Send `chosen` (dead letters of `dataset`'s raw layer) again, exactly once each."""
    if any(x.layer != "raw" or x.dataset != dataset for x in chosen):
        raise DeadLetterError("only the sink's dead letters of one dataset are replayed at once")
    ledgers = Ledgers(settings, dataset)
    try:
        settled = settle(settings, ledgers, {str(x.origin): x for x in every_letter})
        done = replayed(ledgers.all())
        todo = [x for x in chosen if again or str(x.origin) not in done]
        if not todo:
            return ReplayResult(None, 0, len(chosen), settled)
        partitions = sorted({x.origin.partition for x in todo})
        starts = end_offsets(settings, dataset.topic, dict.fromkeys(partitions, 0))
        if any(starts[p] is None for p in partitions):
            raise DeadLetterError(
                f"the broker did not say where {dataset.topic} ends: is Kafka up? Nothing sent"
            )
        ledger = Ledger(
            replay_id=f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
            topic=dataset.topic,
            state="pending",
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            start_offsets={p: int(starts[p] or 0) for p in partitions},
            sent=dict.fromkeys((str(x.origin) for x in todo), None),
        )
        ledgers.save(ledger)  # before the first send: a replay that dies is settled next time
        ledger.sent = _send(settings, todo, ledger.replay_id)
        ledger.state = "done"
        ledgers.save(ledger)
    except KafkaError as exc:
        raise DeadLetterError(
            f"Kafka refused the replay ({type(exc).__name__}: {exc}); what was sent is settled "
            "by the next `lakestream dlq replay`"
        ) from None
    return ReplayResult(ledger.replay_id, len(todo), len(chosen) - len(todo), settled)


def provenance(settings: Settings, dataset: Dataset) -> dict[str, list[str]]:
    """Origin => where its replays went, for `dlq list` and `dlq show`."""
    return replayed(Ledgers(settings, dataset).all())
