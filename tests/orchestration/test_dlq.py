"""`lakestream dlq`: dead letters listed by reason and shown whole; a replay, once the cause is
fixed, lands and curates each letter exactly once, even when a replay died half way."""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from kafka import TopicPartition

from consumers.cli import main as consumers_main
from consumers.dead_letters import DeadLetterError, dead_letters
from consumers.groups import end_offsets
from consumers.replay import REPLAY_ID, REPLAY_OF, Ledger, Ledgers, _send, replay
from curation.run import count_curated, curate
from lakestream.core import clients, layout
from orchestration.cli import main as lakestream_main
from tests.lake_helpers import environment, run_in_process

pytestmark = pytest.mark.stack

GOOD = 60
POST = b'{"user":"%b","message":"%b","post_date":"2024-10-01","likes":%b,"retweets":1}'
LONG = [POST % (b"long-%d" % i, b"x" * 600, b"1") for i in range(3)]  # valid, but > 300 bytes
POISON = [POST % (b"u64", b"hi", b"18446744073709551615"), POST.replace(b"1}", b'1,"likes":2}')]


def _send_values(lake, values: list[bytes]) -> None:
    topic = lake.datasets.get("social_posts").topic
    producer = clients.kafka_producer(lake.settings)
    for i, value in enumerate(values):
        producer.send(topic, key=b"k-%d" % i, value=value, headers=[("trace", b"t-%d" % i)])
    producer.flush(30)
    producer.close()


def _sink(lake, *extra: str) -> None:
    argv = [*lake.sink_argv("social_posts"), "--until-idle", "1", "--assignment", "manual"]
    run_in_process(consumers_main, [*argv, *extra], lake.env)


def _dlq(lake, *argv: str) -> str:
    return run_in_process(lakestream_main, ["dlq", *argv], lake.env)


def _replay_copies(lake) -> list[str]:
    """The origin of every replayed message in the topic."""
    topic = lake.datasets.get("social_posts").topic
    ends = end_offsets(lake.settings, topic, {p: 0 for p in range(4)})
    consumer = clients.kafka_consumer(lake.settings, auto_offset_reset="earliest")
    parts = [TopicPartition(topic, p) for p in ends if ends[p]]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    origins: list[str] = []
    while any(consumer.position(tp) < ends[tp.partition] for tp in parts):
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                headers = dict(r.headers or [])
                if REPLAY_OF in headers:
                    origins.append(headers[REPLAY_OF].decode())
    consumer.close()
    return sorted(origins)


def test_dead_letters_are_listed_shown_and_replayed_exactly_once(deployment_lake):
    lake = deployment_lake
    ds = lake.datasets.get("social_posts")
    lake.produce("social_posts", GOOD, "--seed", "5")
    _send_values(lake, LONG + POISON)
    _sink(lake, "--max-record-bytes", "300")  # too strict: the long posts are set aside

    listed = json.loads(_dlq(lake, "list", "--json"))
    by_reason = {row["reason"]: row["letters"] for row in listed if row["dataset"] == ds.name}
    assert by_reason["oversized: N bytes > N"] == 3
    assert sum(by_reason.values()) == 5
    assert all(row["replayed"] == 0 for row in listed)

    letters = list(dead_letters(lake.settings, [ds]))
    long_one = next(x for x in letters if x.value == LONG[0])
    [shown] = json.loads(_dlq(lake, "show", str(long_one.origin)))
    assert shown["value"] == LONG[0].decode()
    assert shown["kafka_headers"] == [{"key": "trace", "value": "t-0"}]
    assert shown["replayed_to"] == []

    # The cause is fixed (the limit was too strict): the long posts are sent again and land.
    out = _dlq(lake, "replay", "--dataset", "social_posts", "--reason", "oversized")
    assert "Sent 3 dead letters" in out
    _sink(lake)
    count = lake.count("social_posts")
    assert (count.rows, count.distinct) == (GOOD + 3, GOOD + 3)

    again = _dlq(lake, "replay", "--dataset", "social_posts", "--reason", "oversized")
    assert "All 3 chosen dead letters were replayed before: nothing sent" in again
    [shown] = json.loads(_dlq(lake, "show", str(long_one.origin)))
    assert len(shown["replayed_to"]) == 1

    # A replay that died after sending one of its two letters and before writing "done".
    u64, dup = (next(x for x in letters if x.value == v) for v in POISON)
    ledgers = Ledgers(lake.settings, ds)
    starts = end_offsets(
        lake.settings, ds.topic, {u64.origin.partition: 0, dup.origin.partition: 0}
    )
    dying = Ledger(
        "died-1",
        ds.topic,
        "pending",
        datetime.now(UTC).isoformat(),
        {p: int(o or 0) for p, o in starts.items()},
        {str(u64.origin): None, str(dup.origin): None},
    )
    ledgers.save(dying)
    _send(lake.settings, [u64], dying.replay_id)

    out = _dlq(lake, "replay", "--dataset", "social_posts")  # every letter
    assert "nothing sent" in out  # the settled replay sent the rest; the others were sent before
    [settled] = [x for x in ledgers.all() if x.replay_id == "died-1"]
    assert settled.state == "done"
    assert None not in settled.sent.values()
    copies = _replay_copies(lake)
    assert copies == sorted({*(str(x.origin) for x in letters if x.value in LONG),
                             str(u64.origin), str(dup.origin)})  # fmt: skip

    # Still poison: the replayed copies are dead letters again, naming their origin.
    _sink(lake)
    again_dead = [
        x for x in dead_letters(lake.settings, [ds]) if x.origin not in {y.origin for y in letters}
    ]
    assert sorted(dict(x.headers)[REPLAY_OF].decode() for x in again_dead) == sorted(
        [str(u64.origin), str(dup.origin)]
    )
    assert all(dict(x.headers)[REPLAY_ID] for x in again_dead)

    # Curated: one row per record, replayed ones included.
    curate(lake.settings, [ds], group_prefix=lake.group_prefix)
    assert count_curated(lake.settings, ds).rows == GOOD + 3


def _dlq_failing(lake, *argv: str) -> str:
    """A `lakestream dlq` run that must fail: its one error line."""
    err = io.StringIO()
    with (
        environment(lake.env),
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        code = lakestream_main(["dlq", *argv])
    assert code == 2, err.getvalue()
    [line] = [x for x in err.getvalue().splitlines() if x.strip()]
    return line


def test_one_replay_at_a_time_unsendable_letters_refused_and_a_dead_replay_abandoned(lake):
    ds = lake.datasets.get("social_posts")
    _send_values(lake, [b"not json", b"{}"])
    _sink(lake)
    ledgers = Ledgers(lake.settings, ds)
    s3 = ledgers.s3
    lock = layout.replay_lock_key(ds.topic)
    s3.put_object(Bucket=ledgers.bucket, Key=lock, Body=b'{"at": %f}' % time.time())
    line = _dlq_failing(lake, "replay", "--dataset", "social_posts")
    assert f"another replay of {ds.topic} is running" in line
    s3.delete_object(Bucket=ledgers.bucket, Key=lock)

    [letter, *_] = dead_letters(lake.settings, [ds])
    with pytest.raises(DeadLetterError, match="neither a value nor a key"):
        replay(lake.settings, ds, [replace(letter, entry={"kafka_key": None})], [])

    ledgers.save(Ledger("died-2", ds.topic, "pending", "2026-12-06T00:00:00+00:00", {0: 0},
                        {str(letter.origin): None}))  # fmt: skip
    out = _dlq(lake, "replay", "--dataset", "social_posts", "--abandon", "died-2")
    assert "Replay died-2 abandoned" in out
    assert [x.state for x in ledgers.all() if x.replay_id == "died-2"] == ["abandoned"]
    assert "Sent 2 dead letters" in _dlq(lake, "replay", "--dataset", "social_posts")
    assert not list(clients.list_objects(s3, ledgers.bucket, lock))  # released
