"""Answers reused while the data under them has not changed, as Athena's result reuse does.

An answer is kept under its query (the SQL as the engine gets it, its bound values, the layer's
database) and the *version* of the tables it read, taken from the very Glue descriptions the
query runs with:
- a raw table's version is its format, columns and registered partitions (a day is read once
  it is registered, which changes no object) and its object listing under the table's location
  (each key, ETag and size: a batch the sink lands, a replay or a retention delete changes it);
- a curated table's version is its current Iceberg metadata file: every commit changes it.

A request may take an answer at most `max_age` seconds old (the request's parameter, default
API_RESULT_MAX_AGE; 0 runs the query). Listings and descriptions are read at most once per
API_CATALOG_MAX_AGE, so a new batch, day or commit shows within that period. Requests that miss
the same answer at once run its query once.

The version makes the response's (weak) ETag: a client that sends it back in If-None-Match gets
304 Not Modified, with no query run, while nothing changed. On Athena, a query the API runs
asks for Athena's own reuse (`ResultReuseByAgeConfiguration`), which goes by query text and age
alone: for at most as long as this process has seen the data unchanged, less the query timeout,
so Athena never answers with a result computed before a change.

Each API process keeps its own answers (at most MAX_ANSWERS, least recently used first out).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from engines import QueryResult
from engines.tables import TableInfo
from lakestream.core import clients, layout
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

MAX_ANSWERS = 256  # answers kept per API process


def _release() -> str:
    """The installed version: a new release may shape its answers differently."""
    try:
        return version("lakestream")
    except PackageNotFoundError:
        return ""


RELEASE = _release()


class ListingFailure(LakestreamError):
    """S3 did not list a table's objects; the message names S3's error code, nothing else."""


@dataclass(frozen=True)
class DataVersion:
    tag: str  # changes whenever the data a query reads changes
    first_seen: float  # when this process first saw the tag (time.time()): no later change


def _description(info: TableInfo) -> str:
    """What the engines read of a table's Glue entry: its format, columns and partitions (a
    raw day is read once it is registered, which changes no object)."""
    return repr((info.format, info.columns, info.key_of, info.partitions, info.metadata_location))


class DataVersions:
    """Each table's version, its object listing read at most once per `max_age` seconds."""

    def __init__(self, settings: Settings, max_age: float) -> None:
        self.s3 = clients.aws_client(settings, "s3")
        self.max_age = max_age
        self._listings: dict[str, tuple[float, str]] = {}  # location -> (read at, digest)
        self._first_seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, tables: Iterable[TableInfo]) -> DataVersion:
        """The version of the data under an answer that reads `tables`, as described in the
        very TableInfo the query runs with."""
        parts = [
            f"{info.name}\0{_description(info)}\0"
            + ("" if info.is_iceberg else self._listing(info.location))
            for info in tables
        ]
        tag = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
        with self._lock:
            first_seen = self._first_seen.setdefault(tag, time.time())
            self._first_seen.move_to_end(tag)
            while len(self._first_seen) > 4 * MAX_ANSWERS:
                self._first_seen.popitem(last=False)
        return DataVersion(tag, first_seen)

    def _listing(self, location: str) -> str:
        """A digest of every object under the location: key, ETag and size."""
        with self._lock:
            hit = self._listings.get(location)
        if hit and time.monotonic() - hit[0] < self.max_age:
            return hit[1]
        bucket, prefix = layout.split_location(location)
        # The table's folder, not every key that starts with its name (`t/`, never `t2/`).
        prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
        try:
            objects = clients.list_objects(self.s3, bucket, prefix)
        except (BotoCoreError, ClientError) as exc:
            code = clients.error_code(exc) or type(exc).__name__
            raise ListingFailure(
                f"the table's objects could not be listed in S3 ({code})"
            ) from None
        digest = hashlib.sha256()
        for obj in objects:
            digest.update(f"{obj['Key']}\0{obj.get('ETag', '')}\0{obj['Size']}\n".encode())
        with self._lock:
            self._listings[location] = (time.monotonic(), digest.hexdigest())
        return digest.hexdigest()


@dataclass(frozen=True)
class Answer:
    result: QueryResult
    kept: bool  # an answer this process kept (else the engine was asked)
    age_s: float  # 0 for an answer computed for this request
    etag: str

    @property
    def reused(self) -> bool:
        """Kept here, or reused by the engine itself (Athena)."""
        return self.kept or self.result.reused


class ResultCache:
    """Answers by ETag (the query and its data's version), least recently used out first;
    concurrent requests for the same missing answer run its query once."""

    def __init__(
        self, versions: DataVersions, query_timeout: float, max_answers: int = MAX_ANSWERS
    ) -> None:
        self.versions = versions
        self.query_timeout = query_timeout
        self.max_answers = max_answers
        self._answers: OrderedDict[str, tuple[float, QueryResult]] = OrderedDict()
        self._running: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @staticmethod
    def etag(query_key: tuple[Any, ...], version: DataVersion) -> str:
        """Weak: the rows are the same while the tag holds, not every byte (query_id,
        elapsed_ms, reused and age_s differ)."""
        body = repr((RELEASE, query_key)).encode() + b"\0" + version.tag.encode()
        return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def _kept(self, etag: str, max_age: float) -> Answer | None:
        with self._lock:
            kept = self._answers.get(etag)
            if kept is None or time.monotonic() - kept[0] > max_age:
                return None
            self._answers.move_to_end(etag)
        return Answer(kept[1], True, time.monotonic() - kept[0], etag)

    def answer(
        self,
        etag: str,
        version: DataVersion,
        max_age: float,
        run: Callable[[int], QueryResult],
    ) -> Answer:
        """The answer kept under `etag` if it is at most `max_age` old, or `run`'s.

        `run` gets the minutes the engine may reuse a result of its own (Athena's reuse, which
        does not look at the data): `engine_reuse_minutes`."""
        if max_age <= 0:
            return self._run(etag, version, max_age, run)
        with self._lock:
            running = self._running.setdefault(etag, threading.Lock())
        try:
            with running:  # one query per missing answer; the others wait for it
                return self._kept(etag, max_age) or self._run(etag, version, max_age, run)
        finally:
            with self._lock:  # a failed query leaves no lock behind either
                self._running.pop(etag, None)

    def _run(
        self, etag: str, version: DataVersion, max_age: float, run: Callable[[int], QueryResult]
    ) -> Answer:
        minutes = engine_reuse_minutes(max_age, version.first_seen, self.query_timeout)
        started = time.monotonic()
        result = run(minutes)
        # An answer is as old as its query's start; one Athena reused, `minutes` more at most.
        born = started - (minutes * 60 if result.reused else 0)
        with self._lock:
            self._answers[etag] = (born, result)
            self._answers.move_to_end(etag)
            while len(self._answers) > self.max_answers:
                self._answers.popitem(last=False)
        return Answer(result, False, 0.0, etag)


def engine_reuse_minutes(max_age: float, unchanged_since: float, query_timeout: float) -> int:
    """How old a result the engine reuses may be: never from a query that could have started
    before the data last changed (a query runs up to `query_timeout`), never older than
    `max_age`. `unchanged_since` is when this process first saw the data's version (a
    time.time()): after a restart, the engine's own reuse waits a while."""
    if max_age <= 0:
        return 0
    since_change = time.time() - unchanged_since - query_timeout
    return max(0, int(min(max_age, since_change) // 60))


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    sent = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in sent


class NotModifiedHeaders:
    """Middleware, outside CommonMiddleware (which gives every response a Content-Length): a
    304 carries none, as RFC 9110 8.6 asks of a response that has no content."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if response.status_code == 304 and response.has_header("Content-Length"):
            del response["Content-Length"]
        return response
