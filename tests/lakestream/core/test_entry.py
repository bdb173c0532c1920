"""The one error boundary of every command line: one line on stderr, never a traceback and
never a secret; the exit code says what happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from lakestream.core.entry import command_main, stage_main
from lakestream.core.errors import LakestreamError, UnknownTable
from lakestream.core.settings import Settings

SECRET = "hunter2-do-not-print"


def fails(exc: BaseException):
    def run() -> int:
        raise exc

    return run


def refused_settings() -> int:
    Settings(KAFKA_SECURITY_PROTOCOL="PLAINTEXT", KAFKA_SASL_PASSWORD=SECRET)
    return 0


@pytest.mark.parametrize(
    ("run", "expected", "code", "line"),
    [
        (lambda: 0, (), 0, ""),
        (lambda: 3, (), 3, ""),
        (fails(LakestreamError("no stack")), (), 1, "tool: error: no stack"),
        (fails(UnknownTable("no table 'x'")), (), 1, "tool: error (unknown_table): no table 'x'"),
        (fails(FileNotFoundError("no file f")), (OSError,), 1, "tool: error: no file f"),
        (fails(KeyboardInterrupt()), (), 130, "tool: interrupted"),
    ],
    ids=["ok", "own-code", "lakestream-error", "query-error", "expected", "ctrl-c"],
)
def test_what_the_user_sees(capsys, run, expected, code, line) -> None:
    assert command_main("tool", run, expected) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == line


def test_a_refused_setting_is_named_and_its_value_never_shown(capsys) -> None:
    assert command_main("tool", refused_settings) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tool: error: invalid settings: KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD")
    assert SECRET not in err
    assert "\n" not in err


def test_an_unexpected_error_is_not_hidden() -> None:
    """Only what a command declares expected is turned into a line: a bug stays a traceback."""
    with pytest.raises(ValueError, match="bug"):
        command_main("tool", fails(ValueError("bug")), (OSError,))


@pytest.mark.parametrize("stage", ["consumers", "curation", "producers", "glue", "athena_api"])
def test_every_stage_refuses_a_setting_in_one_line_without_the_secret(stage) -> None:
    env = {**os.environ, "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "KAFKA_SASL_PASSWORD": SECRET}
    argv = {"glue": ["tables"], "athena_api": ["serve"]}.get(stage, [])
    result = subprocess.run(
        [sys.executable, "-m", stage, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{stage}: error: invalid settings: KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but "
        "KAFKA_SECURITY_PROTOCOL is PLAINTEXT: set it to SASL_SSL (or unset the credentials)"
    ]
    assert SECRET not in result.stdout + result.stderr


def test_a_message_quoting_brackets_is_printed_as_written(capsys) -> None:
    assert command_main("tool", fails(LakestreamError("bad value '[/x]' in row 3"))) == 1
    assert capsys.readouterr().err.strip() == "tool: error: bad value '[/x]' in row 3"


def test_a_stage_run_in_process_leaves_the_callers_signal_handlers_as_they_were() -> None:
    """The sink and the producer install their own Ctrl-C and SIGTERM handlers."""

    def mine(_signum, _frame) -> None:
        pass

    def run(_args: list[str]) -> int:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return 0

    before = signal.getsignal(signal.SIGINT)
    previous_term = signal.signal(signal.SIGTERM, mine)
    try:
        assert stage_main("tool", [], run) == 0
        assert signal.getsignal(signal.SIGINT) is before
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous_term)
