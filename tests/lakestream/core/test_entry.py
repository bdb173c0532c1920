"""The one error boundary of every command line: one line on stderr, never a traceback and
never a secret; the exit code says what happened."""

from __future__ import annotations

import importlib
import io
import json
import os
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from botocore.exceptions import EndpointConnectionError

from lakestream.core.entry import cli_args, command_main, stage_main
from lakestream.core.errors import LakestreamError, UnknownTable
from lakestream.core.settings import Settings
from lakestream.stack.processes import free_port
from tests.lake_helpers import environment

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
        (fails(LakestreamError("no stack")), (), 2, "tool: error: no stack"),
        (fails(UnknownTable("no table 'x'")), (), 2, "tool: error (unknown_table): no table 'x'"),
        (fails(FileNotFoundError("no file f")), (OSError,), 2, "tool: error: no file f"),
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
    assert command_main("tool", refused_settings) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tool: error: invalid settings: KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD")
    assert SECRET not in err
    assert "\n" not in err


def test_an_unexpected_error_is_one_line_that_says_how_to_see_more(capsys) -> None:
    cli_args([])
    assert command_main("tool", fails(ValueError("bug here")), (OSError,)) == 2
    err = capsys.readouterr().err
    assert err.strip() == "tool: internal error: ValueError: bug here (--debug shows the traceback)"


def test_debug_shows_the_traceback_with_every_secret_masked(capsys, monkeypatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", SECRET)
    monkeypatch.setenv("API_KEY", "api-key-never-shown")
    assert cli_args(["--json", "--debug"]) == ["--json"]
    try:
        failing = fails(RuntimeError(f"connect with {SECRET} and api-key-never-shown"))
        assert command_main("tool", failing) == 2
    finally:
        cli_args([])
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: connect with *** and ***" in err
    assert SECRET not in err
    assert "api-key-never-shown" not in err


API_KEY = "api-key-never-shown"
STAGES = ["consumers", "curation", "producers", "glue", "athena_api", "orchestration"]


def run_command(stage: str, argv: list[str], env: dict[str, str], process: bool) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `python -m <stage> argv`: in a new interpreter, or its
    `main` in this one (the same parsing and error boundary, without 2 s of imports)."""
    if process:
        result = subprocess.run(
            [sys.executable, "-m", stage, *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr
    main = importlib.import_module(f"{stage}.cli").main
    out = io.StringIO()
    try:
        with environment(env), redirect_stdout(out), redirect_stderr(out):
            code = main(argv)
    finally:
        cli_args([])  # --debug holds for the process's command line: not for the next test
    return code, out.getvalue()


@pytest.mark.parametrize("debug", [False, True], ids=["one-line", "debug"])
@pytest.mark.parametrize("stage", STAGES)
def test_every_command_refuses_a_setting_without_showing_a_secret(stage, debug) -> None:
    env = {**os.environ, "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "KAFKA_SASL_PASSWORD": SECRET,
           "API_KEY": API_KEY}  # fmt: skip
    argv = {"glue": ["tables"], "athena_api": ["serve"], "orchestration": ["status"]}.get(stage, [])
    # The API's in real processes (Django's settings are loaded once per process: in this one,
    # an earlier test's would serve); one more real process, and the others' `main` in this one.
    process = stage == "athena_api" or (stage == "consumers" and not debug)
    code, output = run_command(stage, [*argv, *(["--debug"] if debug else [])], env, process)
    assert code == 2, output
    prog = "lakestream" if stage == "orchestration" else stage
    last = output.strip().splitlines()[-1]
    assert last == (
        f"{prog}: error: invalid settings: KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but "
        "KAFKA_SECURITY_PROTOCOL is PLAINTEXT: set it to SASL_SSL (or unset the credentials)"
    )
    assert ("Traceback (most recent call last)" in output) == debug
    for secret in (SECRET, API_KEY):
        assert secret not in output


def test_a_service_that_does_not_answer_is_not_an_internal_error(capsys) -> None:
    down = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/kafka-ing-x?list-type=2")
    assert command_main("tool", fails(down)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tool: error: cannot reach AWS at http://127.0.0.1:9 (no connection); ")
    assert "`lakestream up`" in err


# Each command that needs the lake or the brokers, run while the stack is down.
NEEDS_THE_STACK = [
    ("curation", []),
    ("curation", ["maintain"]),
    ("glue", ["crawl"]),
    ("glue", ["tables"]),
    ("glue", ["sql", "SELECT 1"]),
    ("orchestration", ["dlq", "list"]),
    ("producers", ["--count", "1"]),
    ("consumers", ["--until-idle", "1"]),
]


@pytest.mark.parametrize(
    ("stage", "argv"), NEEDS_THE_STACK, ids=[" ".join([s, *a]) for s, a in NEEDS_THE_STACK]
)
def test_a_command_run_while_the_stack_is_down_says_so_at_once(stage, argv, tmp_path) -> None:
    # Before: `internal error: EndpointConnectionError` (or the broker's bootstrap timeout)
    # after the clients' 30 s of retries.
    env = {**os.environ, "LAKESTREAM_TARGET": "local", "LAKESTREAM_RUN_DIR": str(tmp_path),
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}  # fmt: skip
    code, output = run_command(stage, argv, env, process=False)
    assert code == 2, output
    prog = "lakestream" if stage == "orchestration" else stage
    [line] = output.strip().splitlines()[-1:]
    where = "Kafka at " if stage in ("producers", "consumers") else "AWS at http://"
    assert line.startswith(f"{prog}: error: cannot reach {where}127.0.0.1:"), output
    assert "is the stack up? Run `lakestream up`" in line


def test_status_while_the_stack_is_down_says_what_to_run(tmp_path) -> None:
    env = {**os.environ, "LAKESTREAM_TARGET": "local", "LAKESTREAM_RUN_DIR": str(tmp_path),
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}  # fmt: skip
    code, output = run_command("orchestration", ["status", "--json"], env, process=False)
    assert code == 1, output
    report = json.loads(output)
    assert report["healthy"] is False
    assert not any(s["answering"] for s in report["services"])
    assert report["sink_groups"] == []  # not read from brokers that do not answer


def test_a_message_quoting_brackets_is_printed_as_written(capsys) -> None:
    assert command_main("tool", fails(LakestreamError("bad value '[/x]' in row 3"))) == 2
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
