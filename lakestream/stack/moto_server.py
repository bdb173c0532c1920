"""moto's server as the embedded stack runs it: `python -m lakestream.stack.moto_server` takes
moto.server's own arguments (`-H HOST -p PORT`) and runs it, with four costs taken out, all
found with py-spy on the process that holds both the lake and the broker's log.

- moto 5 finds the service a request is for by listing its own package folder on every request
  (`moto.backends.list_of_moto_modules`: a listdir and an isdir per entry, about 150 of them).
  Under the sink's load that was a fifth of the server's CPU. The folder does not change while
  the server runs, so its list is read at start and kept.
- moto's response serializer turns every timestamp it writes, such as each listed object's
  LastModified, back into a datetime with botocore's `parse_to_aware_datetime`, which hands the
  text moto itself wrote to dateutil's general parser: about 110 µs a key. The broker lists its
  log on every fetch, so under a steady load that parser took an eighth of the server's CPU.
  The ISO-8601 UTC form moto writes is now read by `datetime.fromisoformat` (about 2 µs);
  anything else still goes to botocore's parser, and the datetime ends in the same function.
- moto writes each ListObjectsV2 answer with its generic, model-driven serializer: for every
  listed key it looks each attribute up through alias providers and then writes it with
  xmltodict. That was half of the server's CPU per request in a mix of listings, reads and
  writes. Answers of the shape moto's S3 code builds (keys, their times, ETags, sizes, storage
  class and checksum algorithm; prefixes; tokens) are now written straight into the same XML,
  byte for byte (a test compares the two on real listings); any other shape still goes to
  moto's serializer.
- werkzeug wrote a line to `moto.log` for every request: 7% of the server's CPU under that
  load, and a log that grew by the broker's every fetch as long as the stack ran. Only the
  requests answered with an error (4xx, 5xx) are logged now; tracebacks are logged as before.

Should a moto release drop the services listing, the timestamp function or the S3 response's
`serialized` method, the server runs without that change.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape


def read_services_once() -> None:
    """moto's list of services, read now and kept for every later request (this process)."""
    from moto import backends

    listing = getattr(backends, "list_of_moto_modules", None)
    if listing is None:
        return
    modules = tuple(listing())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules


# What moto writes for a time (`%Y-%m-%dT%H:%M:%S.000Z` for S3's keys), and only that: ASCII
# digits (`\d` would take other scripts' digits, which fromisoformat refuses and dateutil reads).
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
_ISO_UTC = re.compile(_DATE_TIME + r"(\.[0-9]{1,6})?Z")


def aware_datetime_reader(general: Callable[[Any], datetime]) -> Callable[[Any], datetime]:
    """`general` (botocore's parse_to_aware_datetime), with moto's own ISO-8601 UTC text read by
    `datetime.fromisoformat` first: the same instant, without dateutil's general parser."""

    def parse_to_aware_datetime(value: Any) -> datetime:
        if isinstance(value, str) and _ISO_UTC.fullmatch(value):
            # No such time (a 60th second): botocore words the refusal, as before.
            with suppress(ValueError):
                value = datetime.fromisoformat(value)  # aware: Python 3.11 reads the Z as UTC
        return general(value)

    return parse_to_aware_datetime


def read_timestamps_directly() -> None:
    """moto's response serializer reads the timestamps it writes without dateutil."""
    from moto.core import serialize

    general = getattr(serialize, "parse_to_aware_datetime", None)
    if general is not None:
        serialize.parse_to_aware_datetime = aware_datetime_reader(general)


# ListObjectsV2's output members in the order of S3's model, which is the order moto writes
# them in (a test checks this against botocore's model); lists are flattened, one element each.
_LISTING_ORDER = ("IsTruncated", "Contents", "Name", "Prefix", "Delimiter", "MaxKeys",
                  "CommonPrefixes", "EncodingType", "KeyCount", "ContinuationToken",
                  "NextContinuationToken", "StartAfter")  # fmt: skip
_OBJECT_ORDER = ("Key", "LastModified", "ETag", "ChecksumAlgorithm", "Size", "StorageClass")
_LISTING_MEMBERS = frozenset(_LISTING_ORDER)
_OBJECT_MEMBERS = frozenset(_OBJECT_ORDER)
# The one form of `_ISO_UTC` that moto's timestamp serializer writes back unchanged for S3.
_MOTO_TIME = re.compile(_DATE_TIME + r"\.000Z")


# What each member is in the answers moto's S3 code builds; a value of another exact type is
# left to moto's serializer, whose text for it (`str()` of a subclass, an int as a boolean)
# this writer does not copy.
_BOOLEANS = {"IsTruncated"}
_INTEGERS = {"MaxKeys", "KeyCount", "Size"}


class _Unknown(Exception):
    """A value this writer does not know how moto's serializer writes."""


def _text(name: str, value: Any) -> str:
    if name in _BOOLEANS:
        if type(value) is not bool:
            raise _Unknown(name)
        text = "true" if value else "false"
    elif name in _INTEGERS:
        if type(value) is not int:
            raise _Unknown(name)
        text = str(value)
    elif type(value) is str:
        text = escape(value)
    else:
        raise _Unknown(name)
    return f"<{name}>{text}</{name}>" if text else f"<{name}/>"  # xmltodict's empty element


def _listed_object(item: Any) -> str:
    if type(item) is not dict or "Key" not in item or not item.keys() <= _OBJECT_MEMBERS:
        raise _Unknown("Contents")
    parts = []
    for name in _OBJECT_ORDER:
        if name not in item:
            continue
        value = item[name]
        if name == "ChecksumAlgorithm":
            if type(value) is not list:
                raise _Unknown(name)
            parts += [_text(name, algorithm) for algorithm in value]
            continue
        if name == "LastModified":
            # moto's timestamp serializer reads the text back and writes it again: only its own
            # form of a real instant comes out unchanged.
            if not (type(value) is str and _MOTO_TIME.fullmatch(value)):
                raise _Unknown(name)
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise _Unknown(name) from None
        parts.append(_text(name, value))
    return "<Contents>" + "".join(parts) + "</Contents>"


def listing_xml(result: Any) -> str | None:
    """ListObjectsV2's answer as moto's serializer writes it, or None for a shape this does not
    know (fetch-owner's Owner, a restore status, a value of an unexpected type): moto then
    writes it."""
    if type(result) is not dict or not result.keys() <= _LISTING_MEMBERS:
        return None
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n'
             '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">']  # fmt: skip
    try:
        for name in _LISTING_ORDER:
            if name not in result or result[name] is None:
                continue
            value = result[name]
            if name in ("Contents", "CommonPrefixes") and type(value) is not list:
                raise _Unknown(name)
            if name == "Contents":
                parts += [_listed_object(item) for item in value]
            elif name == "CommonPrefixes":
                for folder in value:
                    if not (type(folder) is dict and set(folder) == {"Prefix"}):
                        raise _Unknown(name)
                    parts.append(f"<{name}>{_text('Prefix', folder['Prefix'])}</{name}>")
            else:
                parts.append(_text(name, value))
    except _Unknown:
        return None
    parts.append("</ListBucketResult>")
    return "".join(parts)


def write_listings_directly() -> None:
    """moto's S3 answers to ListObjectsV2 written by `listing_xml` where it knows the shape."""
    from moto import settings
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    general = getattr(S3Response, "serialized", None)
    if general is None:
        return

    def serialized(self: Any, action_result: Any) -> Any:
        # The operation as moto's serializer finds it (its router), not only moto's dispatch:
        # `?list-type=2&replication` runs the listing but is answered as GetBucketReplication.
        if (
            type(action_result) is ActionResult
            and self.data.get("Action") == "ListObjectsV2"
            and not settings.PRETTIFY_RESPONSES
            and self._get_action() == "ListObjectsV2"
        ):
            try:
                body = listing_xml(action_result.result)
            except Exception:  # never a 500 of this writer's: moto's serializer answers instead
                body = None
            if body is not None:
                headers = {"Content-Type": "application/xml", **self.response_headers}
                headers["status"] = 200
                return 200, headers, body
        return general(self, action_result)

    S3Response.serialized = serialized


def log_failed_requests_only() -> None:
    """werkzeug's request log keeps the requests answered 4xx or 5xx and drops the rest, in
    plain text: the log is a file (`moto.log`), where terminal colour codes are noise."""
    from werkzeug import serving
    from werkzeug.serving import WSGIRequestHandler

    serving._log_add_style = False  # werkzeug's switch for its ANSI colours

    every_request = WSGIRequestHandler.log_request

    def log_request(self: WSGIRequestHandler, code: int | str = "-", size: int | str = "-") -> None:
        if str(code)[:1] in ("4", "5"):
            every_request(self, code, size)

    WSGIRequestHandler.log_request = log_request  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    read_services_once()
    read_timestamps_directly()
    write_listings_directly()
    log_failed_requests_only()
    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
