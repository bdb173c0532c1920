"""Background processes with pid and log files under a run folder.

A pid file records the pid *and* the process's creation time: a pid the OS has since reused
for another program never matches, so `down` can only ever stop what `up` started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from lakestream.core.errors import StackError


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 3) -> str:
    """The last lines of a log file, joined on one line (for one-line error messages)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    last = [line.strip() for line in text.strip().splitlines()[-lines:] if line.strip()]
    return " | ".join(last)


@dataclass
class ManagedProcess:
    """One background process of the embedded stack, known by its name in the run folder."""

    name: str
    run_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    label: str = ""  # how messages name it ("moto server"); defaults to the name

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def _record(self) -> dict | None:
        try:
            return json.loads(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def process(self) -> psutil.Process | None:
        """The live process this pid file describes, or None (stale files are removed)."""
        record = self._record()
        if not record:
            return None
        try:
            proc = psutil.Process(record["pid"])
            same = abs(proc.create_time() - record["create_time"]) < 0.01
            if same and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except (psutil.Error, KeyError, TypeError):
            pass
        self.pid_file.unlink(missing_ok=True)
        return None

    @property
    def pid(self) -> int | None:
        proc = self.process()
        return proc.pid if proc else None

    def start(self) -> int:
        """Start the process in its own session; return its pid. The caller waits for readiness."""
        if self.process():
            raise StackError(f"the {self.label} is already running (pid file {self.pid_file})")
        if port_is_open(self.host, self.port):
            raise StackError(
                f"{self.host}:{self.port} is already in use by another program, so the "
                f"{self.label} cannot start there: stop that program, or choose another port "
                "in your settings"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            child = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.run_dir,
                start_new_session=True,  # Ctrl-C in the caller's terminal must not kill it
            )
        except OSError as exc:
            raise StackError(f"cannot start the {self.label} ({self.argv[0]}): {exc}") from None
        finally:
            log.close()
        record = {
            "pid": child.pid,
            "create_time": psutil.Process(child.pid).create_time(),
            "argv": self.argv,
            "host": self.host,
            "port": self.port,
            "started_at": time.time(),
        }
        self.pid_file.write_text(json.dumps(record), encoding="utf-8")
        return child.pid

    def exited_early(self) -> str | None:
        """If the process died after start, a one-line account of why (from its log)."""
        if self.process():
            return None
        return f"the {self.label} exited; last log lines: {tail(self.log_file) or '(empty)'}"

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the process (SIGTERM, then SIGKILL); True if there was one to stop."""
        proc = self.process()
        if proc is None:
            return False
        self._signal(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            self._signal(proc, signal.SIGKILL)
            proc.wait(5)
        except psutil.NoSuchProcess:
            pass
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL without a chance to clean up (fault tests use this)."""
        proc = self.process()
        if proc is None:
            return False
        self._signal(proc, signal.SIGKILL)
        with contextlib.suppress(psutil.Error):
            proc.wait(5)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _signal(proc: psutil.Process, sig: int) -> None:
        # The child leads its own session, so its process group holds any helpers it spawned.
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
