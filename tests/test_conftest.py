"""The suite's own scheduling list names files that exist: a renamed file would silently lose
its place at the front (tests/conftest.py LONGEST_FIRST)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONGEST_FIRST

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_scheduled_first_exists_once():
    missing = [path for path in LONGEST_FIRST if not (ROOT / path).is_file()]
    assert missing == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
