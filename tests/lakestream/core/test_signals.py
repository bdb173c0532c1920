"""Stop signals kept while a command starts, then handed to its handler or acted on."""

from __future__ import annotations

import os
import signal

import pytest

from lakestream.core import signals
from lakestream.core.signals import (
    handlers_restored,
    hold_stop_signals,
    release_stop_signals,
    replay_held,
    stop_holding,
)


@pytest.fixture(autouse=True)
def _fresh_hold(monkeypatch):
    """Each test starts with nothing kept, and leaves nothing for the next one in this worker,
    whose in-process commands would take a kept signal for a stop."""
    monkeypatch.setattr(signals, "_held", [])
    monkeypatch.setattr(signals, "_replaced", {})
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        yield


def test_a_stop_before_the_handler_is_kept_then_handed_over() -> None:
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        hold_stop_signals()
        os.kill(os.getpid(), signal.SIGTERM)  # delivered before os.kill returns to Python
        os.kill(os.getpid(), signal.SIGINT)
        seen: list[int] = []
        replay_held(lambda signum, _frame: seen.append(signum))
        assert seen == [signal.SIGTERM, signal.SIGINT]
        replay_held(lambda signum, _frame: seen.append(signum))
        assert seen == [signal.SIGTERM, signal.SIGINT]  # each handed over once


def test_the_same_signal_twice_stops_at_once() -> None:
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        hold_stop_signals()
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
        replay_held(lambda *_: None)


def test_released_a_kept_ctrl_c_interrupts_as_python_would(capfd) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    hold_stop_signals()
    os.kill(os.getpid(), signal.SIGINT)
    assert "SIGINT: stopping as soon as the command has started" in capfd.readouterr().err
    with pytest.raises(KeyboardInterrupt):
        release_stop_signals()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_signal_the_process_ignores_stays_ignored() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    hold_stop_signals()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    os.kill(os.getpid(), signal.SIGTERM)  # ignored, as before the hold
    release_stop_signals()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


def test_once_the_command_returned_a_stop_acts_as_without_the_hold() -> None:
    def mine(*_):
        return None

    signal.signal(signal.SIGTERM, mine)
    hold_stop_signals()
    os.kill(os.getpid(), signal.SIGTERM)
    stop_holding()
    assert signal.getsignal(signal.SIGTERM) is mine
    seen: list[int] = []
    replay_held(lambda signum, _frame: seen.append(signum))
    assert seen == []  # dropped: the command had stopped already


def test_in_process_callers_keep_their_handlers() -> None:
    """No hold (a test or a notebook calls main() itself): release and replay change nothing."""

    def mine(*_):
        return None

    signal.signal(signal.SIGINT, mine)
    release_stop_signals()
    replay_held(lambda *_: pytest.fail("nothing was kept"))
    assert signal.getsignal(signal.SIGINT) is mine
