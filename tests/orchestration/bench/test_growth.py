"""The growth section's figures: every wave beside the first, and the two goals' ratios."""

from __future__ import annotations

from orchestration.bench.growth import Wave, figures


def test_each_later_wave_is_set_beside_the_first():
    waves = [
        Wave(1_000_000, 160, 40.0, {"moto": 200.0, "broker": 30.0, "sink": 230.0}),
        Wave(1_000_000, 170, 50.0, {"moto": 280.0, "broker": 31.0, "sink": 231.0}),
    ]
    by_name = {f.name: f for f in figures(waves, 1_000_000)}

    first = by_name["wave 1 of 1M records: drain records/s"]
    assert (first.value, first.baseline) == (25_000.0, None)
    second = by_name["wave 2 of 1M records: drain records/s"]
    assert (second.value, second.baseline, second.ratio) == (20_000.0, 25_000.0, "0.8x")
    assert by_name["wave 2: peak RSS moto"].value == 280.0
    assert by_name["last wave's drain rate (2 waves; goal ≥ 0.8x)"].ratio == "0.8x"
    objects = by_name["last wave's objects (goal ≤ 1.5x more)"]
    assert objects.ratio == "1.1x more"
