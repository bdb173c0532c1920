"""`python -m curation --follow` is a service: a failed pass is one line, and the next one runs."""

from __future__ import annotations

import argparse

import pytest

from curation import cli


def test_a_failed_pass_does_not_end_follow(monkeypatch, capsys):
    calls: list[int] = []

    def curate(*_args, **_kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("AWS Error NETWORK_CONNECTION during GetObject, key k-3cr3t-api-key")
        if len(calls) == 2:
            return []
        raise KeyboardInterrupt  # the signal that ends a service

    monkeypatch.setattr(cli, "curate", curate)
    monkeypatch.setattr(cli.time, "sleep", lambda _s: None)
    monkeypatch.setenv("API_KEY", "k-3cr3t-api-key")
    args = argparse.Namespace(
        datasets=None, group_prefix="p", rebuild=False, follow=5.0, json=True, metrics_port=0
    )
    with pytest.raises(KeyboardInterrupt):
        cli.run_curate(args)
    assert len(calls) == 3
    err = capsys.readouterr().err
    assert "curation: pass failed (OSError: AWS Error NETWORK_CONNECTION" in err
    assert "next pass in 5s" in err
    assert "k-3cr3t-api-key" not in err  # masked like every error line


def test_without_follow_a_failed_pass_is_the_commands_error(monkeypatch):
    def curate(*_args, **_kwargs):
        raise OSError("boom")

    monkeypatch.setattr(cli, "curate", curate)
    args = argparse.Namespace(
        datasets=None, group_prefix="p", rebuild=False, follow=None, json=True, metrics_port=0
    )
    with pytest.raises(OSError, match="boom"):
        cli.run_curate(args)
