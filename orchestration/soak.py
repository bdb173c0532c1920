"""`make soak` (`lakestream soak`): the pipeline under faults, then a count of what was lost.

On a private embedded stack, for SOAK_MINUTES (10 by default): the producers send the four
datasets at a steady rate (a few malformed messages among them, for the dead letters), a sink
lands them, curation follows every few seconds and the API serves. Every few seconds a fault
injector, in turn: SIGKILLs the sink, SIGKILLs curation wherever it is in its pass (often mid-
commit), restarts the broker, stalls the S3 endpoint (moto, SIGSTOP) for 10 s, or restarts the
API. A killed process is started again at once, as systemd's `Restart=always` would.

Then it drains (the producers stop, the sink is stopped with SIGTERM and a last sink runs until
idle, a last curation pass runs) and counts: records produced (the broker's end offsets;
acknowledged sends beside them), faults by kind, records lost and duplicated in raw and in
curated, dead letters by reason, `lakestream audit`'s unaccounted, and each process's peak RSS
in the first and the last third of the run. Exit 0 only if nothing was lost or duplicated.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from kafka import TopicPartition
from rich.console import Console

from consumers.audit import count_lake
from consumers.dead_letters import dead_letters, reason_kind
from consumers.groups import end_offsets
from consumers.run import sink_command
from curation.reconcile import audit
from curation.run import count_curated
from lakestream.core import clients
from lakestream.core.errors import describe
from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack, private_stack
from lakestream.stack.processes import free_port, port_is_open
from orchestration.bench.producers import fastest_client
from orchestration.bench.report import Figure

err = Console(stderr=True)

GROUP_PREFIX = "soak"
FAULTS = ("kill sink", "kill curation", "restart broker", "stall s3", "restart api")
STALL_S = 10.0


@dataclass
class Child:
    """One long-running process of the soak, started again whenever it is killed."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)  # exit codes of deaths we did not cause

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.start()

    def check(self) -> None:
        """A process that ended by itself is recorded (no fault should stop one) and restarted."""
        if self.proc is not None and self.proc.poll() is not None:
            self.exits.append(self.proc.returncode)
            self.start()

    def stop(self, timeout: float = 60) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None


class Memory:
    """Peak RSS per process name, in the first and the last third of the run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.first: Counter[str] = Counter()
        self.last: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    def sample(self, pids: dict[str, int | None]) -> None:
        elapsed = time.monotonic() - self.started
        for name, pid in pids.items():
            if pid is None:
                continue
            try:
                rss = psutil.Process(pid).memory_info().rss / 2**20
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak[name], rss)
            if elapsed < self.seconds / 3:
                self.first[name] = max(self.first[name], rss)
            elif elapsed > 2 * self.seconds / 3:
                self.last[name] = max(self.last[name], rss)


def _wait_for_port(port: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open("127.0.0.1", port):
            return True
        time.sleep(0.2)
    return False


def _api_answers(port: int, key: str) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/health/", headers={"X-API-Key": key}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status == 200
    except OSError:
        return False


def _children(settings: Settings, seconds: float, rate: int, logs: Path) -> dict[str, Child]:
    env = {**os.environ, **settings.child_env()}
    key = os.urandom(12).hex()
    api_port = free_port()
    api_env = {
        **env, "API_KEY": key, "API_DEBUG": "0", "API_ENGINE": "local", "API_PORT": str(api_port),
    }  # fmt: skip
    py = sys.executable
    names = ",".join(ds.name for ds in settings.datasets)
    children = {
        "producers": Child(
            "producers",
            [
                py,
                "-m",
                "producers",
                "--quiet",
                "--duration",
                f"{seconds:g}",
                "--rate",
                str(rate),
                "--malformed-rate",
                "0.001",
                "--client",
                fastest_client(),
                "--seed",
                "42",
            ],
            env,
            logs / "producers.log",
        ),
        "sink": Child(
            "sink",
            [
                py,
                "-m",
                "consumers",
                "--quiet",
                "--topics",
                names,
                "--group-prefix",
                GROUP_PREFIX,
                "--assignment",
                "manual",
                "--instance-id",
                "soak-sink",  # restarted after each kill, it takes its leases back at once
                "--max-age",
                "2",
                "--log-level",
                "info",  # every batch written and committed, for the post-mortem
            ],
            env,
            logs / "sink.log",
        ),
        "curation": Child(
            "curation",
            [py, "-m", "curation", "--follow", "5", "--group-prefix", GROUP_PREFIX],
            env,
            logs / "curation.log",
        ),
        "api": Child(
            "api",
            [py, "-m", "athena_api", "serve", "--port", str(api_port)],
            api_env,
            logs / "api.log",
        ),
    }
    return children


def _inject(kind: str, stack: EmbeddedStack, children: dict[str, Child]) -> None:
    if kind == "kill sink":
        children["sink"].kill()
    elif kind == "kill curation":
        children["curation"].kill()
    elif kind == "restart broker":
        stack.restart_broker(timeout=60)
    elif kind == "stall s3":
        pid = stack.moto.pid
        if pid is not None:
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(STALL_S)
            finally:
                os.kill(pid, signal.SIGCONT)
    elif kind == "restart api":
        children["api"].kill()


def _drain(settings: Settings, children: dict[str, Child], out: Path) -> None:
    """Producers done, the running stages stopped, then a last sink until idle and a last
    curation pass; their output goes beside the report."""
    env = {**os.environ, **settings.child_env()}
    if children["producers"].proc is not None:
        children["producers"].proc.wait(600)
    for name in ("sink", "curation", "api"):
        children[name].stop()
    names = ",".join(ds.name for ds in settings.datasets)
    for name, argv in (
        (
            "drain-sink",
            # The running sink's replacement: its instance id takes the leases back at once.
            # Another id would have to wait out the TTL of a lease the sink renewed last, and
            # a finite run leaves a partition leased elsewhere to its holder.
            sink_command(
                names,
                5,
                GROUP_PREFIX,
                "--assignment",
                "manual",
                "--instance-id",
                "soak-sink",
                "--log-level",
                "info",
            ),
        ),
        ("drain-curation", [sys.executable, "-m", "curation", "--group-prefix", GROUP_PREFIX]),
    ):
        with open(out / f"{name}.log", "wb") as log:
            subprocess.run(argv, env=env, check=True, stdout=log, stderr=subprocess.STDOUT,
                           timeout=1800)  # fmt: skip


_ACKED = re.compile(rb"([\d,]+) of ([\d,]+) messages acknowledged")


def acknowledged(log: Path) -> int | None:
    """What the producers said the broker acknowledged (their summary line)."""
    found = _ACKED.findall(log.read_bytes()) if log.exists() else []
    return int(found[-1][0].replace(b",", b"")) if found else None


def _missing(
    topic: str, ends: dict[int, int | None], landed: set[tuple[str, int, int]]
) -> dict[int, list[int]]:
    """Per partition, the offsets below the end that are neither a raw row nor a dead letter."""
    return {
        p: [o for o in range(end or 0) if (topic, p, o) not in landed] for p, end in ends.items()
    }


def _not_served(settings: Settings, topic: str, missing: dict[int, list[int]]) -> int:
    """How many of the missing offsets the broker holds no record for: it assigned them (its
    end counts them) but serves the next record instead, so no consumer could have read them."""
    gaps = 0
    consumer = clients.kafka_consumer(settings, max_partition_fetch_bytes=1024 * 1024)
    try:
        for partition, offsets in missing.items():
            if not offsets:
                continue
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            for offset in offsets:
                consumer.seek(tp, offset)
                records = consumer.poll(timeout_ms=5000, max_records=1).get(tp, [])
                if not records or records[0].offset != offset:
                    gaps += 1
    finally:
        consumer.close()
    return gaps


def _count(settings: Settings) -> dict[str, Any]:
    """What the lake holds against what the broker holds, per layer."""
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for ds in settings.datasets:
        ends = end_offsets(settings, ds.topic, dict.fromkeys(range(ds.partitions), 0))
        if any(e is None for e in ends.values()):
            raise RuntimeError(f"the broker did not say where {ds.topic} ends: cannot count")
        in_kafka = sum(e or 0 for e in ends.values())
        raw = count_lake(settings, ds)
        curated = count_curated(settings, ds)
        cured_dead = [x for x in dead_letters(settings, [ds], "curated")]
        missing = _missing(ds.topic, ends, raw.coordinates | raw.dead_coordinates)
        gaps = _not_served(settings, ds.topic, missing)
        totals["produced"] += in_kafka
        totals["raw rows"] += raw.rows
        totals["raw lost"] += sum(len(m) for m in missing.values()) - gaps
        totals["offsets the broker does not serve"] += gaps
        totals["raw duplicated"] += raw.duplicates
        totals["raw dead letters"] += raw.dead_letters
        totals["curated rows"] += curated.rows
        totals["curated lost"] += raw.distinct - curated.distinct - len(cured_dead)
        totals["curated duplicated"] += curated.rows - curated.distinct
        reasons.update(reason_kind(r) for r in raw.dead_reasons)
        reasons.update(f"curation: {reason_kind(x.reason)}" for x in cured_dead)
    audited = audit(settings, list(settings.datasets), GROUP_PREFIX)
    return {
        "totals": dict(totals),
        "dead_letters_by_reason": dict(reasons),
        "unaccounted": sum(a.unaccounted for a in audited),
        # The gaps the sink confirmed with the broker, inside its committed batches.
        "audit_skipped": sum(a.skipped for a in audited),
    }


def soak(
    minutes: float,
    rate: int,
    fault_every: float,
    out: Path,
    seed: int = 7,
    progress: Callable[[str], None] = lambda m: err.print(m, markup=False, highlight=False),
) -> dict[str, Any]:
    seconds = minutes * 60
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # The broker keeps its whole log: every offset the lake misses can then be asked of it.
    with private_stack(progress=lambda m: progress(f"  {m}"), broker_log_trim=False) as settings:
        stack = EmbeddedStack(settings)
        children = _children(settings, seconds, rate, out)
        key = children["api"].env["API_KEY"]
        api_port = int(children["api"].env["API_PORT"])
        for child in children.values():
            child.start()
        _wait_for_port(api_port)
        memory = Memory(seconds)
        faults: Counter[str] = Counter()
        api_checks: Counter[str] = Counter()
        counted: dict[str, Any] = {"totals": {}, "dead_letters_by_reason": {}, "unaccounted": None}
        failure: str | None = None
        stop = threading.Event()
        draining = threading.Event()  # the API is stopped on purpose: its checks no longer count

        def sampler() -> None:  # beside the injector, whose faults block for seconds
            while not stop.wait(1.0):
                memory.sample(
                    {"moto": stack.moto.pid, "broker": stack.broker.pid}
                    | {name: c.pid for name, c in children.items()}
                )
                answered = _api_answers(api_port, key)
                if not draining.is_set():
                    api_checks["answered" if answered else "unanswered"] += 1

        thread = threading.Thread(target=sampler, daemon=True)
        started = time.monotonic()
        thread.start()
        next_fault = started + fault_every
        order = list(FAULTS)
        ran = 0.0  # seconds of faults: a fault that blocks runs past `seconds`
        try:
            while time.monotonic() - started < seconds:
                for name in ("sink", "curation", "api"):
                    children[name].check()
                if time.monotonic() >= next_fault:
                    if not order:
                        order = list(FAULTS)
                    kind = order.pop(rng.randrange(len(order)))  # each kind once per round
                    progress(f"  {time.monotonic() - started:5.0f}s  {kind}")
                    _inject(kind, stack, children)
                    faults[kind] += 1
                    next_fault = max(next_fault + fault_every, time.monotonic() + 1.0)
                time.sleep(0.5)
            draining.set()
            ran = time.monotonic() - started
            progress("  draining")
            _drain(settings, children, out)
            progress("  counting")
            counted = _count(settings)
        except Exception as exc:  # a report is written whatever happened; it says what failed
            failure = describe(exc)
            progress(f"  failed: {failure}")
        finally:
            if not draining.is_set():  # the loop failed: the checks from here on do not count
                draining.set()
                ran = time.monotonic() - started
            stop.set()
            thread.join(5)
            for child in children.values():
                child.stop(10)
    acked = acknowledged(out / "producers.log")
    report = {
        "minutes": minutes,
        "run_seconds": round(ran, 1),
        "rate_per_topic": rate,
        "faults": dict(faults),
        "faults_total": sum(faults.values()),
        "unexpected_exits": {n: c.exits for n, c in children.items() if c.exits},
        "producers_exit_code": children["producers"].proc.returncode
        if children["producers"].proc
        else None,
        "producers_acknowledged": acked,
        "acknowledged_not_in_broker": max(
            0,
            (acked or 0)
            - (
                counted["totals"].get("produced", 0)
                - counted["totals"].get("offsets the broker does not serve", 0)
            ),
        ),
        "failure": failure,
        "api_health_checks": dict(api_checks),
        **counted,
        "peak_rss_mib": {
            name: {
                "first_third": round(memory.first[name]),
                "last_third": round(memory.last[name]),
                "peak": round(memory.peak[name]),
            }
            for name in sorted(memory.peak)
        },
    }
    (out / "soak.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def clean(report: dict[str, Any]) -> bool:
    """The pipeline lost and duplicated nothing on any layer, and no process stopped by itself.

    Offsets the broker assigned but serves no record for (its own loss: no consumer could read
    them) are reported apart, as are records the producers saw acknowledged that the broker does
    not hold (`acknowledged_not_in_broker`); the audit tells the first from the pipeline's own
    losses with the gaps the sink counted (`audit_skipped`)."""
    t = report["totals"]
    if report["failure"] or not t:
        return False
    return (
        report["unaccounted"] == 0
        # The sink's confirmed gaps are among the broker's (a gap after the last record read
        # is the broker's but in no batch).
        and report.get("audit_skipped", 0) <= t.get("offsets the broker does not serve", 0)
        and report["producers_exit_code"] == 0
        and not report["unexpected_exits"]
        and all(t[k] == 0 for k in ("raw lost", "raw duplicated", "curated lost",
                                      "curated duplicated"))
    )  # fmt: skip


def _exits(report: dict[str, Any]) -> int:
    return sum(len(codes) for codes in report["unexpected_exits"].values())


def show(report: dict[str, Any], console: Any) -> None:
    """The soak's figures as a table."""
    from rich.table import Table

    table = Table(title=f"Soak, {report['minutes']:g} minutes", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    totals = report["totals"]
    if report["failure"] or not totals:
        console.print(f"The soak failed before its count: {report['failure']}")
        return
    rows = [
        ("records produced (in Kafka)", f"{totals['produced']:,}"),
        ("records the producers saw acknowledged", f"{report['producers_acknowledged'] or 0:,}"),
        ("  of which the broker holds no record", f"{report['acknowledged_not_in_broker']:,}"),
        ("faults injected", f"{report['faults_total']} in {report['run_seconds']:g} s"),
        *((f"  {kind}", str(n)) for kind, n in sorted(report["faults"].items())),
        *((k, f"{totals[k]:,}") for k in ("raw lost", "raw duplicated", "curated lost",
                                          "curated duplicated",
                                          "offsets the broker does not serve")),
        ("  of which the sink counted as skipped", f"{report.get('audit_skipped', 0):,}"),
        ("unaccounted (lakestream audit)", f"{report['unaccounted']:,}"),
        ("processes that stopped by themselves", str(_exits(report))),
        ("API health checks answered / not, while the faults run",
         "{answered} / {unanswered}".format(
             answered=report["api_health_checks"].get("answered", 0),
             unanswered=report["api_health_checks"].get("unanswered", 0))),
        *((f"dead letters: {reason}", f"{n:,}")
          for reason, n in sorted(report["dead_letters_by_reason"].items())),
        *((f"peak RSS {name} (first third / last third)",
           f"{m['first_third']} / {m['last_third']} MiB")
          for name, m in report["peak_rss_mib"].items()),
    ]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    console.print(table)


def figures(report: dict[str, Any]) -> list[Figure]:
    """The soak as `make bench` reports it."""
    t = report["totals"]
    if not t:
        return []
    out = [
        Figure("soak", f"records produced ({report['minutes']:g} min)", t["produced"], "records"),
        Figure("soak", "faults injected", report["faults_total"], "faults"),
        *(
            Figure("soak", name, t[name], "records")
            for name in ("raw lost", "raw duplicated", "curated lost", "curated duplicated")
        ),
        Figure("soak", "unaccounted (lakestream audit)", report["unaccounted"], "records"),
    ]
    for name, m in report["peak_rss_mib"].items():
        out.append(
            Figure(
                "soak",
                f"peak RSS {name}, last third of the run",
                m["last_third"],
                "MiB",
                m["first_third"] or None,
                "first third",
                lower_is_better=True,
            )
        )
    return out
