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


def test_moto_routes_a_request_without_listing_its_folder(monkeypatch):
    """What moto's dispatcher calls per request is the kept list: a moto that imported the
    function by name would list again, and this would fail."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    moto_server.read_services_once()

    def no_listing(path):
        pytest.fail(f"moto's folder was listed for a request ({path})")

    monkeypatch.setattr(os, "listdir", no_listing)
    app = DomainDispatcherApplication(create_backend_app)
    assert app.get_backend_for_host("s3") == "s3"
    assert app.get_backend_for_host("glue.us-east-1.amazonaws.com") == "glue"
