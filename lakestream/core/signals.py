"""Termination signals handled like Ctrl-C, so `finally` blocks stop what a command started.

A closed terminal (SIGHUP), `timeout`, systemd or a CI cancel (SIGTERM) would otherwise end the
process at once and leave the embedded moto server and broker running.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def say_in_handler(text: str) -> None:
    """One line on stderr from a signal handler: plain bytes, no rich. A handler runs between
    two bytecodes of the main thread, maybe in the middle of an import that rich makes lazily
    (its emoji table), and rich would then import a half-initialised module (seen: a sink's
    SIGTERM reported as an internal ImportError)."""
    sys.stderr.flush()
    os.write(2, (text + "\n").encode("utf-8", "replace"))


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_termination() -> None:
    """From now on SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread."""
    for signum in TERMINATION_SIGNALS:
        signal.signal(signum, _interrupt)


@contextmanager
def handlers_restored(*signums: signal.Signals) -> Iterator[None]:
    """Whatever a command installs for these signals is undone when it returns, so a command
    run in-process (a test, a notebook) leaves the caller's Ctrl-C as it found it."""
    saved = {signum: signal.getsignal(signum) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:  # None: installed outside Python, nothing to put back
                signal.signal(signum, handler)
