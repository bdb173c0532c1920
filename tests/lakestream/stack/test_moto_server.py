"""The embedded stack's moto server lists moto's services once, not on every request, and reads
the timestamps it writes without dateutil's general parser."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from botocore.utils import parse_to_aware_datetime
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


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-07T14:22:27.000Z",  # what moto writes for an S3 key
        "2026-12-07T14:22:27Z",
        "2026-12-07T14:22:27.123456Z",
        "2026-12-07T14:22:27+02:00",  # not moto's form: botocore's parser, as before
        "2026-12-07",
        "1700000000",  # epoch seconds as text
        "٢٠٢٦-12-07T14:22:27Z",  # other scripts' digits: dateutil reads them, fromisoformat not
        datetime(2026, 12, 7, 14, 22, 27),
    ],
)
def test_timestamps_are_read_as_botocore_reads_them(value):
    read = moto_server.aware_datetime_reader(parse_to_aware_datetime)
    assert read(value) == parse_to_aware_datetime(value)
    assert read(value).tzinfo is not None


def test_a_time_that_does_not_exist_is_refused_in_botocores_words():
    read = moto_server.aware_datetime_reader(parse_to_aware_datetime)
    with pytest.raises(ValueError, match="Invalid timestamp"):
        read("2026-12-07T14:22:60Z")


def test_the_iso_form_skips_the_general_parser(monkeypatch):
    def general(value):
        assert isinstance(value, datetime), f"the general parser got the text {value!r}"
        return parse_to_aware_datetime(value)

    read = moto_server.aware_datetime_reader(general)
    assert read("2026-12-07T14:22:27.000Z").isoformat() == "2026-12-07T14:22:27+00:00"


def test_moto_serializes_its_timestamps_without_the_general_parser(monkeypatch):
    """The serializer moto uses for a listing calls the reader installed in its module: a moto
    that imported botocore's function elsewhere would still parse the text, and this would fail."""
    import botocore.utils
    from moto.core import serialize

    monkeypatch.setattr(serialize, "parse_to_aware_datetime", serialize.parse_to_aware_datetime)
    moto_server.read_timestamps_directly()

    def no_text_parsing(value):
        pytest.fail(f"dateutil's parser was asked for {value!r}")

    monkeypatch.setattr(botocore.utils, "parse_timestamp", no_text_parsing)
    wrapper: dict = {}
    serialize.TimestampSerializer("iso8601").serialize(
        wrapper, "2026-12-07T14:22:27.000Z", _Shape(), "t"
    )
    assert wrapper["t"] == "2026-12-07T14:22:27Z"


class _Shape:
    serialization: dict = {}  # noqa: RUF012 - a stand-in for botocore's shape, read only


def test_only_failed_requests_are_logged(monkeypatch):
    from werkzeug import serving
    from werkzeug.serving import WSGIRequestHandler

    logged: list[str] = []
    monkeypatch.setattr(
        WSGIRequestHandler, "log_request", lambda self, code="-", size="-": logged.append(code)
    )
    monkeypatch.setattr(serving, "_log_add_style", True)  # restored after the test
    moto_server.log_failed_requests_only()
    handler = object.__new__(WSGIRequestHandler)  # no socket: only the log decision is tried
    for code in (200, "204", 304, 404, "403", 500, 503):
        handler.log_request(code, 10)
    assert logged == [404, "403", 500, 503]


def test_the_request_log_is_plain_text(monkeypatch):
    from werkzeug import serving

    monkeypatch.setattr(serving, "_log_add_style", True)
    monkeypatch.setattr(
        serving.WSGIRequestHandler, "log_request", serving.WSGIRequestHandler.log_request
    )
    moto_server.log_failed_requests_only()
    assert serving._ansi_style("GET /bucket HTTP/1.1", "bold", "red") == "GET /bucket HTTP/1.1"


# Keys that XML and URL encoding each have to treat: markup, quotes, spaces, non-ASCII, `%`.
LISTED_KEYS = [
    "t/dt=2024-10-01/part-0.jsonl.gz",
    "t/dt=2024-10-01/a&b<c>\"d'.json",
    "t/dt=2024-10-02/space and ü €.json",
    "t/dt=2024-10-02/100%.json",
    "t/other/x",
    "t/top",
    "u/elsewhere",
]


def test_listings_are_written_as_moto_writes_them(monkeypatch):
    """Every ListObjectsV2 answer moto builds for boto3 here is written by `listing_xml`
    byte for byte as by moto's own serializer: delimiters, prefixes, pages, start-after, with
    and without URL encoding, with and without checksums, an empty bucket."""
    import boto3
    from botocore.handlers import set_list_objects_encoding_type_url
    from moto import mock_aws
    from moto.s3.responses import S3Response

    # moto's in-process mock, not the session stack's server that AWS_ENDPOINT_URL names.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    general = S3Response.serialized
    monkeypatch.setattr(S3Response, "serialized", general)
    moto_server.write_listings_directly()
    direct = S3Response.serialized
    compared: list[str] = []

    def both(self, action_result):
        answer = general(self, action_result)
        if self.data.get("Action") == "ListObjectsV2":
            assert moto_server.listing_xml(action_result.result) is not None  # written directly
            status, headers, body = direct(self, action_result)
            assert body == answer[2]
            assert (status, headers.keys()) == (answer[0], answer[1].keys())
            assert [headers[h] for h in headers if h != "date"] == [
                answer[1][h] for h in answer[1] if h != "date"
            ]
            compared.append(body)
        return answer

    monkeypatch.setattr(S3Response, "serialized", both)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        s3.create_bucket(Bucket="empty")
        for i, key in enumerate(LISTED_KEYS):
            extra = {"ChecksumAlgorithm": "SHA256"} if i % 2 else {}
            s3.put_object(Bucket="lake", Key=key, Body=b"x" * i, **extra)
        plain = boto3.client("s3", region_name="us-east-1")  # no encoding-type=url
        plain.meta.events.unregister(
            "before-parameter-build.s3.ListObjectsV2", set_list_objects_encoding_type_url
        )
        for client in (s3, plain):
            client.list_objects_v2(Bucket="empty")
            client.list_objects_v2(Bucket="lake")
            client.list_objects_v2(Bucket="lake", Prefix="t/", Delimiter="/")
            client.list_objects_v2(Bucket="lake", Prefix="t/dt=2024-10-02/")
            client.list_objects_v2(Bucket="lake", StartAfter="t/dt=2024-10-01/z")
            client.list_objects_v2(Bucket="lake", Prefix="nothing/")
            page = client.list_objects_v2(Bucket="lake", MaxKeys=2)
            client.list_objects_v2(
                Bucket="lake", MaxKeys=2, ContinuationToken=page["NextContinuationToken"]
            )
            client.list_objects_v2(Bucket="lake", Delimiter="=", MaxKeys=1)
    assert len(compared) == 18
    assert any("<NextContinuationToken>" in body for body in compared)
    assert any("&amp;" in body and "&lt;" in body for body in compared)  # escaped, unencoded
    assert any("%26" in body for body in compared)  # URL-encoded


class _Text(str):
    def __str__(self) -> str:
        return "other"


@pytest.mark.parametrize(
    "result",
    [
        {"Name": "b", "Contents": [{"Key": "k", "Owner": {}}]},  # fetch-owner
        {"Name": "b", "Surprise": "x"},
        {"Name": "b", "Prefix": 1.5},
        {"Name": "b", "IsTruncated": 1},  # moto writes `false` for it
        {"Name": "b", "MaxKeys": True},  # and `1` for this
        {"Name": "b", "Prefix": _Text("p")},  # and str() of it
        {"Name": "b", "Contents": [{}]},  # moto leaves an item with no key out
        {"Name": "b", "Contents": ({"Key": "k"},)},
        {"Name": "b", "Contents": [{"Key": "k", "LastModified": "2024-02-30T00:00:00.000Z"}]},
        {"Name": "b", "Contents": [{"Key": "k", "LastModified": "2024-02-03T00:00:00Z"}]},
    ],
)
def test_a_shape_the_writer_does_not_know_goes_to_moto(result):
    assert moto_server.listing_xml(result) is None


def test_a_request_moto_answers_as_another_operation_is_left_to_moto(monkeypatch):
    """`?list-type=2&replication` runs moto's listing, but its serializer answers it as
    GetBucketReplication: the direct writer must not answer it as a listing."""
    from moto.moto_server.werkzeug_app import create_backend_app
    from moto.s3.responses import S3Response
    from werkzeug.test import Client

    monkeypatch.setattr(S3Response, "serialized", S3Response.serialized)
    moto_server.write_listings_directly()
    client = Client(create_backend_app("s3"))
    host = {"Host": "localhost"}
    assert client.put("/routed-lake", headers=host).status_code == 200
    assert client.put("/routed-lake/k", data=b"x", headers=host).status_code == 200
    plain = client.get("/routed-lake?list-type=2", headers=host).get_data(as_text=True)
    both = client.get("/routed-lake?list-type=2&replication", headers=host).get_data(as_text=True)
    assert "<Key>k</Key>" in plain, plain[:300]
    assert "<ListBucketResult" not in both, both[:300]
