"""`make bench` keeps going: a failed section is reported with its error and its subprocess's
stderr, the sections after it still run, and the report holds what was measured so far."""

from __future__ import annotations

import subprocess

import pytest

from orchestration.bench.report import Figure
from orchestration.bench.run import run_sections


def test_a_failing_section_is_reported_and_the_run_goes_on(tmp_path):
    seen_by_third: list[str] = []
    figures: list[Figure] = []

    def broken() -> list[Figure]:
        raise subprocess.CalledProcessError(
            1, ["python", "-m", "consumers"], stderr=b"early noise\n" * 400 + b"stopped with lag"
        )

    def third() -> list[Figure]:
        seen_by_third.extend(f.name for f in figures)
        return [Figure("third", "later rate", 20.0, "rec/s", 10.0, "baseline")]

    failures = run_sections(
        {
            "first": lambda: [Figure("first", "some rate", 5.0, "rec/s")],
            "broken": broken,
            "third": third,
        },
        tmp_path,
        figures,
    )

    assert [f.name for f in figures if f.section != "run"] == ["some rate", "later rate"]
    # Every section's time is reported, the failed one's too.
    assert [f.name for f in figures if f.section == "run"] == [
        "first: section time",
        "broken: section time",
        "third: section time",
    ]
    assert seen_by_third == ["some rate", "first: section time", "broken: section time"]
    [failure] = failures
    assert failure.section == "broken"
    assert "CalledProcessError" in failure.error
    assert failure.stderr.endswith("stopped with lag")
    assert len(failure.stderr) <= 3000
    report = (tmp_path / "report.md").read_text()
    assert "| first | some rate | 5.0 rec/s |" in report
    assert "| third | later rate | 20.0 rec/s | 10 (baseline) | 2.0x |" in report
    assert "## broken: failed" in report
    assert "stopped with lag" in report


def test_the_report_is_written_before_a_later_section_dies(tmp_path):
    def interrupted() -> list[Figure]:
        raise KeyboardInterrupt

    figures: list[Figure] = []
    with pytest.raises(KeyboardInterrupt):
        run_sections(
            {"first": lambda: [Figure("first", "kept", 1.0, "x")], "second": interrupted},
            tmp_path,
            figures,
        )
    assert "| first | kept | 1.0 x |" in (tmp_path / "report.md").read_text()


def test_a_timed_out_section_keeps_its_stderr_and_brackets_print_as_text(tmp_path):
    def slow() -> list[Figure]:
        raise subprocess.TimeoutExpired(["sink"], 1800, stderr=b"[/bold] still draining")

    failures = run_sections({"slow": slow}, tmp_path, [])
    [failure] = failures
    assert failure.stderr == "[/bold] still draining"
    assert "TimeoutExpired" in failure.error
