"""Answers reused while the data under them has not changed, as Athena's result reuse does.

An answer is kept under its query (the SQL as the engine gets it, its bound values, the layer's
database) and the *version* of the tables it read:
- a raw table's version is its object listing under the table's location (each key, ETag and
  size): a batch the sink lands, a replay or a retention delete changes it;
- a curated table's version is its current Iceberg metadata file: every commit changes it.

A request may take an answer at most `max_age` seconds old (the request's parameter, default
API_RESULT_MAX_AGE; 0 runs the query). Versions are read at most once per API_CATALOG_MAX_AGE,
like the tables' descriptions, so a new batch or commit shows within that period.

The same version makes the response's ETag: a client that sends it back in If-None-Match gets
304 Not Modified, with no query run, while nothing changed. On Athena, a query the API runs
passes `ResultReuseByAgeConfiguration` through, bounded by how long ago the data last changed,
so Athena itself never answers from before the change (it does not look at the data).

Each API process keeps its own answers (at most MAX_ANSWERS, least recently used first out).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engines import QueryResult
from engines.tables import TableInfo
from lakestream.core import clients
from lakestream.core.settings import Settings

MAX_ANSWERS = 256  # answers kept per API process
MAX_AGE_LIMIT_S = 7 * 24 * 3600  # Athena's bound for reuse: 7 days


@dataclass(frozen=True)
class DataVersion:
    tag: str  # changes whenever the data changes
    changed_at: datetime | None  # the last change (None: not known)


def _split_location(location: str) -> tuple[str, str]:
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    return bucket, prefix.rstrip("/") + "/"


class DataVersions:
    """Each table's version, read at most once per `max_age` seconds."""

    def __init__(self, settings: Settings, max_age: float) -> None:
        self.s3 = clients.aws_client(settings, "s3")
        self.max_age = max_age
        self._cache: dict[tuple[str, str], tuple[float, DataVersion]] = {}
        self._lock = threading.Lock()

    def of(self, tables: Iterable[TableInfo]) -> DataVersion:
        """The version of the data under an answer that reads `tables`."""
        versions = [self.table(info) for info in tables]
        tag = hashlib.sha256("\n".join(v.tag for v in versions).encode()).hexdigest()[:32]
        known = [v.changed_at for v in versions]
        changed_at = None if None in known or not known else max(known)  # type: ignore[type-var]
        return DataVersion(tag, changed_at)

    def table(self, info: TableInfo) -> DataVersion:
        if info.is_iceberg:  # the description is the catalog's, already cached
            return DataVersion(info.metadata_location or "", info.updated_at)
        key = (info.name, info.location)
        with self._lock:
            hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.max_age:
            return hit[1]
        version = self._listing(info.location)
        with self._lock:
            self._cache[key] = (time.monotonic(), version)
        return version

    def _listing(self, location: str) -> DataVersion:
        bucket, prefix = _split_location(location)
        digest = hashlib.sha256()
        newest: datetime | None = None
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                digest.update(f"{obj['Key']}\0{obj.get('ETag', '')}\0{obj['Size']}\n".encode())
                modified = obj["LastModified"]
                newest = modified if newest is None or modified > newest else newest
        return DataVersion(digest.hexdigest(), newest)


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
    """Answers by (query, data version), least recently used out first."""

    def __init__(self, versions: DataVersions, max_answers: int = MAX_ANSWERS) -> None:
        self.versions = versions
        self.max_answers = max_answers
        self._answers: OrderedDict[str, tuple[float, QueryResult]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def etag(query_key: tuple[Any, ...], version: DataVersion) -> str:
        body = repr(query_key).encode() + b"\0" + version.tag.encode()
        return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def answer(
        self,
        etag: str,
        version: DataVersion,
        max_age: float,
        run: Callable[[int], QueryResult],
    ) -> Answer:
        """The answer kept under `etag` if it is at most `max_age` old, or `run`'s.

        `run` gets the minutes the engine may reuse a result of its own (Athena): whole minutes
        since the data last changed, within `max_age`; 0 when that is not known or under one."""
        if max_age > 0:
            with self._lock:
                kept = self._answers.get(etag)
                if kept is not None and time.monotonic() - kept[0] <= max_age:
                    self._answers.move_to_end(etag)
                    return Answer(kept[1], True, time.monotonic() - kept[0], etag)
        minutes = engine_reuse_minutes(max_age, version.changed_at)
        result = run(minutes)
        # An answer Athena reused may be `minutes` old already: kept as that old.
        born = time.monotonic() - (minutes * 60 if result.reused else 0)
        with self._lock:
            self._answers[etag] = (born, result)
            self._answers.move_to_end(etag)
            while len(self._answers) > self.max_answers:
                self._answers.popitem(last=False)
        return Answer(result, False, 0.0, etag)


def engine_reuse_minutes(max_age: float, changed_at: datetime | None) -> int:
    """How old an engine's own reused result may be: never from before the data's last change,
    never older than `max_age`."""
    if max_age <= 0 or changed_at is None:
        return 0
    since_change = (datetime.now(UTC) - changed_at.astimezone(UTC)).total_seconds()
    return max(0, int(min(max_age, since_change) // 60))


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    sent = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in sent
