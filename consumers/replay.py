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

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from botocore.exceptions import ClientError
from kafka import TopicPartition
from kafka.errors import KafkaError

from consumers.dead_letters import DeadLetter, DeadLetterError
from consumers.groups import end_offsets
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.errors import describe
from lakestream.core.settings import Settings

REPLAY_OF = "lakestream-replay-of"
REPLAY_ID = "lakestream-replay"
SEND_TIMEOUT_S = 60.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # bigger values are refused before anything is sent
LOCK_LEASE_S = 600.0  # a lock older than this belongs to a replay that died
SCAN_TIMEOUT_S = 60.0


@dataclass
class Ledger:
    replay_id: str
    topic: str
    state: str  # "pending" until every send was acknowledged, then "done" (or "abandoned")
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

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One replay of the topic at a time: S3 creates the lock only if it is absent."""
        key = layout.replay_lock_key(self.topic)
        body = orjson.dumps({"at": time.time(), "pid": os.getpid()})
        for attempt in range(2):
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*")
                break
            except ClientError as exc:
                if clients.error_code(exc) not in ("PreconditionFailed", "412"):
                    raise
                held = orjson.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                age = time.time() - float(held.get("at", 0))
                if attempt or age < LOCK_LEASE_S:
                    raise DeadLetterError(
                        f"another replay of {self.topic} is running (for {age:.0f}s); wait for "
                        f"it, or remove s3://{self.bucket}/{key} if it died over "
                        f"{LOCK_LEASE_S / 60:.0f} minutes ago"
                    ) from None
                self.s3.delete_object(Bucket=self.bucket, Key=key)  # its replay died: lease over
        try:
            yield
        finally:
            self.s3.delete_object(Bucket=self.bucket, Key=key)

    def abandon(self, replay_id: str) -> Ledger:
        found = [x for x in self.all() if x.replay_id == replay_id]
        if not found:
            raise DeadLetterError(f"no replay {replay_id!r} of {self.topic}")
        ledger = found[0]
        if ledger.state != "pending":
            raise DeadLetterError(f"replay {replay_id} is {ledger.state}, not pending")
        ledger.state = "abandoned"
        self.save(ledger)
        return ledger

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


def unsendable(letter: DeadLetter) -> str | None:
    """Why a letter cannot be sent as it was, or None."""
    if letter.value is None and letter.key is None:
        return "it has neither a value nor a key"
    if letter.value is not None and len(letter.value) > MAX_MESSAGE_BYTES:
        return f"its value has {len(letter.value):,} bytes, over {MAX_MESSAGE_BYTES:,}"
    return None


def _send(settings: Settings, letters: list[DeadLetter], replay_id: str) -> dict[str, str]:
    """Send and wait for every acknowledgement; origin => "partition:offset"."""
    if not letters:
        return {}
    biggest = max(len(x.value or b"") + len(x.key or b"") for x in letters)
    producer = clients.kafka_producer(
        settings,
        enable_idempotence=True,
        # A letter may be as big as the broker let it be (the sink refused it as oversized).
        max_request_size=max(1024 * 1024, biggest + 64 * 1024),
    )
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
    unknown = sorted(p for p in ledger.start_offsets if ends.get(p) is None)
    if unknown:
        raise DeadLetterError(
            f"the broker did not say where {ledger.topic} ends (partitions {unknown}) while "
            f"settling replay {ledger.replay_id}; nothing was sent again: retry"
        )
    found: dict[str, str] = {}
    first_seen: dict[int, int] = {}
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
                    first_seen.setdefault(r.partition, r.offset)
                    headers = dict(r.headers or [])
                    if headers.get(REPLAY_ID) == ledger.replay_id.encode() and REPLAY_OF in headers:
                        found[headers[REPLAY_OF].decode()] = f"{r.partition}:{r.offset}"
            pending = {tp for tp in pending if consumer.position(tp) < (ends[tp.partition] or 0)}
        if pending:
            raise DeadLetterError(
                f"could not read replay {ledger.replay_id}'s partitions to their end within "
                f"{SCAN_TIMEOUT_S:.0f}s; nothing was sent again: retry"
            )
        trimmed = sorted(p for p, o in first_seen.items() if o > ledger.start_offsets[p])
        if trimmed:
            # Retention removed the start of what this replay sent: what it finds is not all
            # it sent, so sending the rest could send some twice.
            raise DeadLetterError(
                f"replay {ledger.replay_id} died half way, and the broker no longer holds the "
                f"start of what it sent (partitions {trimmed}); check the lake for its copies "
                f"(`lakestream dlq show`), then `lakestream dlq replay --abandon "
                f"{ledger.replay_id}` and replay what is missing"
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
    refused = [(x, why) for x in chosen if (why := unsendable(x))]
    if refused:
        letter, why = refused[0]
        raise DeadLetterError(
            f"{len(refused)} chosen letters cannot be sent as they were (first {letter.origin}: "
            f"{why}); leave them out of the selection. Nothing sent"
        )
    ledgers = Ledgers(settings, dataset)
    with ledgers.locked():
        return _replay(settings, dataset, ledgers, chosen, every_letter, again)


def _replay(
    settings: Settings,
    dataset: Dataset,
    ledgers: Ledgers,
    chosen: list[DeadLetter],
    every_letter: list[DeadLetter],
    again: bool,
) -> ReplayResult:
    try:
        settled = settle(settings, ledgers, {str(x.origin): x for x in every_letter})
        done = replayed(ledgers.all())
        # A letter stored twice (a batch landed twice) is still one message: sent once.
        unique = list({str(x.origin): x for x in chosen}.values())
        todo = [x for x in unique if again or str(x.origin) not in done]
        if not todo:
            return ReplayResult(None, 0, len(unique), settled)
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
        # An idempotent retry the broker took for a duplicate is acknowledged without an
        # offset (-1): only a scan can tell where (or whether) it went; the next replay does.
        ledger.state = (
            "done" if all(not w.endswith(":-1") for w in ledger.sent.values()) else "pending"
        )
        ledgers.save(ledger)
    except (KafkaError, ValueError) as exc:  # kafka-python refuses some sends with ValueError
        raise DeadLetterError(
            f"Kafka refused the replay ({describe(exc)}); what was sent is settled "
            "by the next `lakestream dlq replay`"
        ) from None
    return ReplayResult(ledger.replay_id, len(todo), len(unique) - len(todo), settled)


def provenance(settings: Settings, dataset: Dataset) -> dict[str, list[str]]:
    """Origin => where its replays went, for `dlq list` and `dlq show`."""
    return replayed(Ledgers(settings, dataset).all())
