"""A lake of its own for a test: isolated topics and tables (or a whole deployment), and helpers."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from consumers.audit import LakeCount, count_lake
from consumers.cli import main as consumers_main
from lakestream.core.datasets import DatasetCatalog
from lakestream.core.settings import Settings
from lakestream.core.signals import TERMINATION_SIGNALS, handlers_restored
from lakestream.stack.processes import free_port, port_is_open
from lakestream.stack.provision import provision
from producers.cli import main as producers_main
from tests.kafka_helpers import isolated_catalog

Names = str | Sequence[str]  # one dataset, or several for one producer or sink
ACKED = re.compile(r"([\d,]+) of ([\d,]+) messages acknowledged, 0 failed, 0 unanswered")


@dataclass
class Lake:
    env: dict[str, str]
    datasets: DatasetCatalog
    settings: Settings
    group_prefix: str

    def produce(self, dataset: Names, count: int, *args: str) -> int:
        """Produce with the real producer CLI, in this process; the number acknowledged."""
        argv = ["--quiet", "--topics", *_names(dataset), "--count", str(count), *args]
        return acked(run_in_process(producers_main, argv, self.env))

    def produce_in_background(self, dataset: Names, count: int, *args: str) -> subprocess.Popen:
        argv = ["--quiet", "--topics", *_names(dataset), "--count", str(count), *args]
        return subprocess.Popen(
            [sys.executable, "-m", "producers", *argv],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def land(self, dataset: Names, count: int, *args: str, sink: tuple[str, ...] = ()) -> int:
        """Produce `count` per dataset (one producer CLI), then land it all (one sink CLI that
        exits once caught up); the number of acknowledged messages.

        The sink takes its partitions by manual assignment: tests/consumers exercise group
        membership, and here a group join would only add seconds per run."""
        produced = self.produce(dataset, count, *args)
        self.catch_up(dataset, *sink)
        return produced

    def catch_up(self, dataset: Names, *sink: str) -> None:
        """Land what the topics hold (one sink CLI, manual assignment, ends once caught up)."""
        run_in_process(
            consumers_main,
            [*self.sink_argv(dataset), "--until-idle", "1", "--assignment", "manual", *sink],
            self.env,
        )

    def sink_argv(self, dataset: Names) -> list[str]:
        return ["--quiet", "--topics", *_names(dataset), "--group-prefix", self.group_prefix]

    def sink(self, dataset: Names, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "consumers", *self.sink_argv(dataset), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def count(self, dataset: str) -> LakeCount:
        return count_lake(self.settings, self.datasets.get(dataset))

    def wait_for_rows(self, dataset: str, rows: int, timeout: float = 60) -> LakeCount:
        deadline = time.monotonic() + timeout
        while True:
            count = self.count(dataset)
            if count.rows >= rows or time.monotonic() > deadline:
                return count
            time.sleep(0.3)


def _names(dataset: Names) -> list[str]:
    return [dataset] if isinstance(dataset, str) else list(dataset)


def ended(proc: subprocess.Popen, timeout: float = 180) -> tuple[str, str]:
    """(stdout, stderr) of `proc` once it ends. One still running after `timeout` is a failure
    that says where it hung: with PYTHONFAULTHANDLER set (stack_env sets it), SIGABRT makes a
    Python child print every thread's stack before it dies."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        try:
            _, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        raise AssertionError(
            f"{' '.join(map(str, proc.args))} still ran {timeout:g}s on; its stacks:\n"
            f"{(stderr or '')[-6000:]}"
        ) from None


def catches(proc: subprocess.Popen, signum: int, timeout: float = 30) -> None:
    """Wait until `proc` has a handler of its own for `signum` (its SigCgt mask in /proc): from
    then on the signal no longer ends it by the default action."""
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & bit:
            return
        time.sleep(0.002)
    raise AssertionError(f"process {proc.pid} never caught signal {signum} (exit {proc.poll()})")


def finish(proc: subprocess.Popen, timeout: float = 180) -> str:
    stdout, stderr = ended(proc, timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {stderr[-2000:]}"
    if stderr.strip():
        print(stderr[-3000:])  # shown by pytest when the test fails
    return stdout


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ is `env` inside, as a subprocess started with `env` would see it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class CliRun:
    """What a command line run in this process gave: as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


def cli(main: Callable[[list[str]], int], argv: Sequence[str], env: dict[str, str]) -> CliRun:
    """A command line run in this process: the same parsing, settings, work, output, log lines
    and exit code as `python -m <stage>` (argparse's exit included), without a new
    interpreter's 1.5-2.5 s of imports. Tests about processes (signals, kills, restarts, what
    a new interpreter loads) start real ones."""
    out, err = _Stream(), _Stream()
    with (
        environment(env),
        redirect_stdout(out),
        redirect_stderr(err),
        _own_root_logger(),
        handlers_restored(signal.SIGINT, *TERMINATION_SIGNALS),
    ):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return CliRun(code, out.text(), err.text())


class _Stream(io.TextIOWrapper):
    """A captured standard stream with the `buffer` a command may write bytes to."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


@contextmanager
def _own_root_logger() -> Iterator[None]:
    """The root logger as a new process has it (no handler), so the command's own logging set-up
    writes its lines to the captured stderr; pytest's handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


def run_in_process(main: Callable[[list[str]], int], argv: list[str], env: dict[str, str]) -> str:
    """`cli`, which must succeed; its standard output. Tests about processes start real ones
    with `sink` and `produce_in_background`."""
    run = cli(main, argv, env)
    if run.stderr.strip():
        print(run.stderr[-3000:])  # shown by pytest when the test fails
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    return run.stdout


def acked(stdout: str) -> int:
    match = ACKED.search(stdout)
    assert match, stdout
    return int(match.group(1).replace(",", ""))


def make_lake(running_stack, tmp_path: Path, deployment: bool = False) -> Lake:
    """Own topics and table prefixes; with `deployment`, also own buckets and Glue database
    (tables then keep their catalog names, which the saved queries use)."""
    path, catalog = isolated_catalog(tmp_path, rename_tables=not deployment)
    env = {**os.environ, **running_stack.env, "LAKESTREAM_CATALOG": str(path)}
    if deployment:
        tag = uuid.uuid4().hex[:6]
        env["LAKESTREAM_BUCKET_SUFFIX"] = f"-t{tag}"
        env["LAKESTREAM_GLUE_DATABASE"] = f"kafka_ing_t{tag}"
        env["LAKESTREAM_CURATED_DATABASE"] = f"kafka_ing_curated_t{tag}"
    with environment(env):  # the lake's stack, which need not be the session's os.environ
        settings = Settings()
    if deployment:
        provision(settings)
    return Lake(env, catalog, settings, f"test-{uuid.uuid4().hex[:8]}")


@contextmanager
def gunicorn_api(
    env: dict[str, str], key: str, **extra: str
) -> Iterator[tuple[int, subprocess.Popen]]:
    """`python -m athena_api serve` (gunicorn) on a free port with the environment `env` (a
    lake's), API key `key` and the local engine; `extra` adds settings. Yields (port, process);
    SIGTERM at the end."""
    port = free_port()
    environment = {**os.environ, **env, "API_KEY": key, "API_DEBUG": "0",
                   "API_ENGINE": "local", **extra}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "athena_api", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.2)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


# Fault tests: small batches, so a kill lands mid-stream with several batches committed.
SMALL_BATCHES = ("--max-records", "1500", "--max-age", "1")


def assert_exactly(lake: Lake, dataset: str, produced: int) -> None:
    """Zero loss, zero duplicates, no dead letter."""
    count = lake.count(dataset)
    assert count.distinct == produced, f"lost {produced - count.distinct} records"
    assert count.rows == count.distinct, f"{count.duplicates} duplicate rows"
    assert count.dead_letters == 0
