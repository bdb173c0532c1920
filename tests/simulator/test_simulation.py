"""Determinism, event time, late events and fault injection."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from lakestream.core.datasets import default_catalog
from lakestream.core.records import RecordError, parse_record
from simulator.clock import DEFAULT_START, EventClock
from simulator.simulation import SimulationConfig, Simulator
from simulator.world import WorldSize, world_for

CATALOG = default_catalog()


def _bytes(seed: int, name: str, n: int = 3_000, **config) -> list[bytes]:
    sim = Simulator(SimulationConfig(seed=seed, **config))
    return [v for batch in sim.stream(name, batch_size=700, limit=n) for v in batch.values]


@pytest.mark.parametrize("name", [ds.name for ds in CATALOG])
def test_same_seed_gives_identical_bytes(name):
    config = {"late_fraction": 0.1, "malformed_rate": 0.05}
    assert _bytes(7, name, **config) == _bytes(7, name, **config)
    assert _bytes(7, name) != _bytes(8, name)


def test_stream_honours_limit_and_batch_size():
    sim = Simulator()
    sizes = [len(b) for b in sim.stream("transactions", batch_size=400, limit=1_000)]
    assert sizes == [400, 400, 200]
    batches = list(Simulator().stream("transactions", batch_size=400, limit=1_000))
    assert [b.first_index for b in batches] == [0, 400, 800]


def test_event_times_progress_at_the_configured_pace():
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    sim = Simulator(SimulationConfig(start=start, pace={"web_logs": 10.0}))
    stamps = [r["Timestamp"] for r in sim.records("web_logs", 1_000)]
    assert stamps[0] == "2025-03-01 12:00:00"
    assert stamps[1] == "2025-03-01 12:00:10"
    assert stamps[-1] == "2025-03-01 14:46:30"  # 999 * 10 s later
    assert stamps == sorted(stamps)


def test_late_fraction_makes_that_share_out_of_order():
    sim = Simulator(SimulationConfig(late_fraction=0.2, max_lateness=3_600))
    times = [
        datetime.fromisoformat(r["Timestamp"]).replace(tzinfo=UTC).timestamp()
        for r in sim.records("web_logs", 20_000)
    ]
    start = DEFAULT_START.timestamp()
    expected = [start + i * 0.25 for i in range(len(times))]  # web_logs' default pace
    lateness = [e - t for e, t in zip(expected, times, strict=True)]
    late = [x for x in lateness if x > 1.0]
    assert 0.17 < len(late) / len(times) < 0.23
    assert max(lateness) <= 3_600 + 1


def test_clock_rejects_nonsense():
    with pytest.raises(ValueError, match="late_fraction"):
        EventClock(late_fraction=1.5)
    with pytest.raises(ValueError, match="pace"):
        EventClock(pace=-1)


def _rejection(value: bytes, dataset) -> str | None:
    try:
        parse_record(value, dataset)
    except RecordError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", [ds.name for ds in CATALOG])
def test_malformed_rate_is_honoured_and_faults_are_real(name):
    dataset = CATALOG.get(name)
    sim = Simulator(SimulationConfig(seed=3, malformed_rate=0.05))
    n, bad, kinds = 20_000, 0, Counter()
    expected_reason = {
        "invalid_json": "invalid JSON",
        "missing_field": "required field is missing",
        "wrong_type": "expected ",
    }
    for batch in sim.stream(name, batch_size=5_000, limit=n):
        for i, value in enumerate(batch.values):
            reason = _rejection(value, dataset)
            if reason is None:
                assert i not in batch.faults
                continue
            kind = batch.faults[i]  # every invalid message was injected on purpose
            assert expected_reason[kind] in reason
            kinds[kind] += 1
            bad += 1
    assert 0.04 < bad / n < 0.06
    assert set(kinds) == {"invalid_json", "missing_field", "wrong_type"}


def test_faults_are_off_by_default():
    batch = Simulator().messages("social_posts", 10_000)
    assert batch.faults == {}
    assert all(isinstance(orjson.loads(v), dict) for v in batch.values)


def test_config_rejects_bad_rates():
    with pytest.raises(ValueError, match="malformed_rate"):
        SimulationConfig(malformed_rate=2)


@pytest.mark.parametrize("name", [ds.name for ds in CATALOG])
def test_stream_does_not_depend_on_batch_sizes(name):
    config = {"late_fraction": 0.2, "malformed_rate": 0.03}
    whole = _bytes(11, name, n=9_000, **config)
    sim = Simulator(SimulationConfig(seed=11, **config))
    pieces = [v for size in (1, 999, 4_096, 3_904) for v in sim.messages(name, size).values]
    assert pieces == whole


def test_a_world_is_built_once_per_seed_and_cannot_change():
    size = WorldSize(campaigns=7)
    world = world_for(1234, size)
    assert world_for(1234, WorldSize(campaigns=7)) is world  # shared, not built again
    assert world_for(1235, size) is not world
    with pytest.raises(ValueError, match="read-only"):
        world.campaign_budgets[0] = 0.0  # a simulator that wrote to it would change the others'
    first = Simulator(SimulationConfig(seed=1234, campaigns=7)).records("ad_campaigns", 5)
    again = Simulator(SimulationConfig(seed=1234, campaigns=7)).records("ad_campaigns", 5)
    assert first == again
