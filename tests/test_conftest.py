"""The suite's own scheduling: the files conftest.py starts first exist (a stale name would
silently put a long file back at the end of the run)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONGEST_FIRST

TESTS = Path(__file__).parent


def test_every_file_started_first_exists_once() -> None:
    assert [name for name in LONGEST_FIRST if not (TESTS / name).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
