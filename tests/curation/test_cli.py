"""`python -m curation --follow` is a service: a failed pass is one line, and the next one runs;
Ctrl-C or SIGTERM end it after the pass under way."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

import pytest

from curation import cli
from tests.lake_helpers import catches


def _follow(monkeypatch, curate) -> argparse.Namespace:
    monkeypatch.setattr(cli, "curate", curate)
    return argparse.Namespace(
        datasets=None, group_prefix="p", rebuild=False, follow=0.05, json=True, metrics_port=0
    )


def test_a_failed_pass_does_not_end_follow_and_ctrl_c_ends_it_after_the_pass(monkeypatch, capfd):
    calls: list[int] = []
    before = signal.getsignal(signal.SIGINT)

    def curate(*_args, **_kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("AWS Error NETWORK_CONNECTION during GetObject, key k-3cr3t-api-key")
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the third pass
        return []

    monkeypatch.setenv("API_KEY", "k-3cr3t-api-key")
    assert cli.run_curate(_follow(monkeypatch, curate)) == 0
    assert len(calls) == 3  # the pass under way ended, and no other began
    err = capfd.readouterr().err
    assert "curation: pass failed (OSError: AWS Error NETWORK_CONNECTION" in err
    assert "next pass in 0.05s" in err
    assert "k-3cr3t-api-key" not in err  # masked like every error line
    assert "SIGINT: stopping after this pass" in err
    assert signal.getsignal(signal.SIGINT) is before  # the caller's Ctrl-C is put back


@pytest.mark.parametrize(
    "library",
    ["lets it through", "turns it into an error", "swallows it"],
)
def test_a_second_signal_stops_follow_in_the_middle_of_a_pass(monkeypatch, capfd, library):
    """Whatever the library under way does with the second signal's KeyboardInterrupt (DuckDB
    raises RuntimeError('Query interrupted'), kafka-python's event loop logs and drops it), the
    command stops as interrupted, and no failed pass is reported."""

    def curate(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            if library == "turns it into an error":
                raise RuntimeError("Query interrupted") from None
            if library == "swallows it":
                return []
            raise
        raise AssertionError("the second SIGTERM should have interrupted the pass")

    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        cli.run_curate(_follow(monkeypatch, curate))
    assert "pass failed" not in capfd.readouterr().err


def test_without_follow_a_failed_pass_is_the_commands_error(monkeypatch):
    def curate(*_args, **_kwargs):
        raise OSError("boom")

    monkeypatch.setattr(cli, "curate", curate)
    for probe in ("require_aws", "require_kafka"):  # no stack here: the pass itself fails
        monkeypatch.setattr(cli, probe, lambda settings: None)
    args = argparse.Namespace(
        datasets=None, group_prefix="p", rebuild=False, follow=None, json=True, metrics_port=0
    )
    with pytest.raises(OSError, match="boom"):
        cli.run_curate(args)


def test_a_stop_while_the_service_starts_runs_no_pass():
    """systemd may stop `curate --follow` while it still imports pyiceberg and DuckDB: the stop
    is kept by __main__ and acted on once the service can, with no pass and exit code 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "curation", "--follow", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    catches(proc, signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "SIGTERM (sent while curation was starting): no pass, stopping" in stderr
    assert "curated" not in stderr
