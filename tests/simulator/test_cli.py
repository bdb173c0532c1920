"""`python -m simulator`: seed files, determinism across runs, samples, errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from lakestream.core.datasets import default_catalog
from simulator.cli import main
from tests.lake_helpers import CliRun, cli


def run(*args: str) -> CliRun:
    """`python -m simulator ARGS`, run in this process (tests/test_entrypoints.py starts it)."""
    return cli(main, args, dict(os.environ))


def test_export_writes_the_four_seed_files_with_default_counts(tmp_path: Path):
    result = run("--out", str(tmp_path), "--seed", "11")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ad_campaigns.json", "social_data.json", "transactions.csv", "web_logs.csv"]
    with open(tmp_path / "transactions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1_000
    assert list(rows[0])[:6] == default_catalog().get("transactions").column_names
    with open(tmp_path / "web_logs.csv", newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 1_000
    posts = json.loads((tmp_path / "social_data.json").read_text(encoding="utf-8"))
    campaigns = json.loads((tmp_path / "ad_campaigns.json").read_text(encoding="utf-8"))
    assert len(posts) == 1_000
    assert len(campaigns) == 100
    assert len({c["campaign_id"] for c in campaigns}) == 100
    assert set(posts[0]) == {"user", "message", "post_date", "likes", "retweets"}


def test_same_seed_gives_byte_identical_files(tmp_path: Path):
    # Two interpreters with different hash seeds: output that leaned on hash() or on a set's
    # order would differ between them, as it would between two users' runs.
    for folder, hash_seed in (("a", "1"), ("b", "2")):
        made = subprocess.run(
            [sys.executable, "-m", "simulator", "--out", str(tmp_path / folder), "--rows", "3000",
             "--campaigns", "40", "--seed", "5", "--late-fraction", "0.1"],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    for name in ("transactions.csv", "web_logs.csv", "social_data.json", "ad_campaigns.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_rows_and_campaigns_set_the_counts(tmp_path: Path):
    assert run("--out", str(tmp_path), "--rows", "25", "--campaigns", "7").returncode == 0
    assert len(json.loads((tmp_path / "social_data.json").read_text())) == 25
    assert len(json.loads((tmp_path / "ad_campaigns.json").read_text())) == 7
    assert len((tmp_path / "transactions.csv").read_text().splitlines()) == 26


def test_sample_prints_json_lines():
    result = run("sample", "ad_campaigns", "-n", "12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 12
    assert all(json.loads(line)["campaign_id"] for line in lines)


def test_bad_arguments_fail_with_a_clear_message(tmp_path: Path):
    result = run("--rows", "-3", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "argument --rows: -3 must be greater than 0" in result.stderr
    result = run("--late-fraction", "1.5")
    assert "1.5 is not between 0 and 1" in result.stderr
    result = run("--pace", "nope=2", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--pace names unknown datasets ['nope']" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_reports_ratios_as_json():
    result = run("bench", "--seconds", "0.2", "--datasets", "transactions", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [row] = report["results"]
    assert row["dataset"] == "transactions"
    assert row["naive_per_s"] > 0
    assert row["simulator_per_s"] > 0
    assert row["ratio"] == round(row["simulator_per_s"] / row["naive_per_s"], 1)
    assert report["machine"]["cpus"] >= 1
