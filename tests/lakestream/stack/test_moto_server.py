"""The embedded stack's moto server lists moto's services once, not on every request."""

from __future__ import annotations

import os

import pytest
from moto import backends

from lakestream.stack import moto_server


def test_the_services_are_listed_once_and_stay_the_same(monkeypatch):
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    before = list(backends.list_of_moto_modules())
    assert "s3" in before
    assert "glue" in before
    moto_server.read_services_once()

    def no_listing(path):
        pytest.fail(f"moto's folder was listed again ({path})")

    monkeypatch.setattr(os, "listdir", no_listing)
    assert list(backends.list_of_moto_modules()) == before
    assert list(backends.list_of_moto_modules()) == before  # every request, the same answer


def test_a_moto_without_the_listing_runs_as_it_is(monkeypatch):
    monkeypatch.delattr(backends, "list_of_moto_modules")
    moto_server.read_services_once()  # nothing to keep: no error
    assert not hasattr(backends, "list_of_moto_modules")
