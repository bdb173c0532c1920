"""consumers.groups.retrying: a broker's retriable error is asked again, any other is not."""

from __future__ import annotations

import pytest
from kafka.errors import GroupAuthorizationFailedError, RequestTimedOutError

from consumers.groups import retrying


def _failing(errors: list[Exception]):
    calls: list[int] = []

    def call() -> dict[int, int]:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return {0: 42}

    return call, calls


def test_a_timed_out_request_is_asked_again_until_it_answers():
    call, calls = _failing([RequestTimedOutError(), RequestTimedOutError()])
    assert retrying(call, 3, pause_s=0) == {0: 42}
    assert len(calls) == 3


def test_the_last_attempts_error_is_raised():
    call, calls = _failing([RequestTimedOutError()] * 3)
    with pytest.raises(RequestTimedOutError):
        retrying(call, 3, pause_s=0)
    assert len(calls) == 3


def test_an_error_that_retrying_cannot_mend_is_raised_at_once():
    call, calls = _failing([GroupAuthorizationFailedError()])
    with pytest.raises(GroupAuthorizationFailedError):
        retrying(call, 3, pause_s=0)
    assert len(calls) == 1
