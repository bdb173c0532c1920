"""Termination signals handled like Ctrl-C, so `finally` blocks stop what a command started.

A closed terminal (SIGHUP), `timeout`, systemd or a CI cancel (SIGTERM) would otherwise end the
process at once and leave the embedded moto server and broker running.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from types import FrameType
from typing import Any, NoReturn

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def say_in_handler(text: str) -> None:
    """One line on stderr from a signal handler: plain bytes, no rich. A handler runs between
    two bytecodes of the main thread, maybe in the middle of an import that rich makes lazily
    (its emoji table), and rich would then import a half-initialised module (seen: a sink's
    SIGTERM reported as an internal ImportError)."""
    sys.stderr.flush()
    os.write(2, (text + "\n").encode("utf-8", "replace"))


# Stop signals that came before the command's own handlers were ready (`hold_stop_signals`), and
# the handlers the hold replaced, put back by `release_stop_signals` and `stop_holding`.
_held: list[int] = []
_replaced: dict[int, Any] = {}


def _hold(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if signum in _held:  # the same signal twice before the command could answer: stop now
        raise KeyboardInterrupt(name)
    _held.append(signum)
    say_in_handler(f"• {name}: stopping as soon as the command has started (again: at once)")


def hold_stop_signals() -> None:
    """Until the command installs its own handlers, SIGINT and SIGTERM are kept, not fatal.

    A long-running command takes seconds to import its libraries and build its clients on a
    busy machine, and a stop can come in that time: systemd's, a test's, a user's Ctrl-C. Without
    this, it would end the process by the signal's default action (exit -15) instead of the
    command's clean stop. The same signal a second time still stops it at once. A `__main__`
    calls this before anything else; the command hands what was kept to its handler with
    `replay_held` as soon as that is installed. A signal the process was started ignoring (a
    job started with `&` by a script, `nohup`) stays ignored."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if current is not signal.SIG_IGN:
            _replaced[signum] = current
            signal.signal(signum, _hold)


def replay_held(handler: Callable[[int, FrameType | None], object]) -> None:
    """Each stop signal kept by `hold_stop_signals`, in the order it came, to `handler`, with
    None for the frame (a handler can say the stop came while the command was starting)."""
    while _held:
        handler(_held.pop(0), None)


def _put_back() -> None:
    for signum, handler in _replaced.items():
        if signal.getsignal(signum) is _hold:
            signal.signal(signum, handler)


def release_stop_signals() -> None:
    """For a command with no handler of its own (a benchmark, a single pass): the handlers the
    hold replaced again, and a stop kept so far acted on now, as it would have been. Nothing
    changes where `hold_stop_signals` did not run (a command called in-process keeps its
    caller's handlers)."""
    _put_back()
    while _held:
        os.kill(os.getpid(), _held.pop(0))


def stop_holding() -> None:
    """The command has returned: a stop from now on (its process still exiting: uploads and
    clients closing) acts as it would have without the hold. What was kept is dropped: the
    command has already stopped."""
    _put_back()
    _held.clear()


def run_holding_stops(package: str) -> NoReturn:
    """`python -m <package>` for a long-running command: hold the stop signals, import
    `<package>.cli` (the seconds a stop is kept for), run its `main`, and exit with its code,
    the handlers as they were while the process exits. Only this module's light imports come
    before the hold."""
    hold_stop_signals()
    try:
        main = import_module(f"{package}.cli").main
    except KeyboardInterrupt:  # the same stop signal twice while it imported its libraries
        sys.stderr.write(f"{package}: interrupted\n")
        sys.exit(130)
    code = main()
    stop_holding()
    sys.exit(code)


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
