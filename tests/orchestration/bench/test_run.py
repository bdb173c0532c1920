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


def test_the_command_lines_section_names_are_the_runs(monkeypatch, tmp_path, capsys):
    """`lakestream bench --section NAME`: the names offered are the run's sections; only the
    ones named run, in the run's order; an unknown name is refused before anything starts."""
    from orchestration import cli
    from orchestration.bench import SECTIONS, run

    assert tuple(run.bench_sections(True, list, tmp_path)) == SECTIONS
    ran: list[str] = []

    def fake_sections(quick, figures_so_far, out):
        return {name: (lambda name=name: ran.append(name) or []) for name in SECTIONS}

    monkeypatch.setattr(run, "bench_sections", fake_sections)
    monkeypatch.setattr(run, "write_chart", lambda figures, out: out / "chart.png")
    argv = ["bench", "--out", str(tmp_path), "--section", "api", "--section", "end-to-end"]
    assert cli.main(argv) == 0
    assert ran == ["end-to-end", "api"]
    assert "end-to-end: section time" in (tmp_path / "report.md").read_text()

    with pytest.raises(SystemExit) as refused:
        cli.main(["bench", "--section", "end to end"])
    assert refused.value.code == 2
    assert "invalid choice: 'end to end'" in capsys.readouterr().err
