"""Termination signals handled like Ctrl-C, so `finally` blocks stop what a command started.

A closed terminal (SIGHUP), `timeout`, systemd or a CI cancel (SIGTERM) would otherwise end the
process at once and leave the embedded moto server and broker running.
"""

from __future__ import annotations

import signal
from types import FrameType

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_termination() -> None:
    """From now on SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread."""
    for signum in TERMINATION_SIGNALS:
        signal.signal(signum, _interrupt)
