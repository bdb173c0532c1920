"""The sink registers each `dt=` partition it lands in the raw table's Glue entry, so new data is
queryable seconds after it is written, with no crawl. Crawlers stay for schema changes.

A partition is registered once per process (then remembered), with the table's own storage
descriptor and its S3 folder: what the crawler would register. A table that does not exist yet
(never crawled) is left to the first crawl, which registers every partition it finds. A failure
here never fails a batch: the data is durable and the next crawl registers the partition.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")
MISSING_TABLE_RECHECK_S = 30.0  # how long a missing table is believed missing
BATCH_LIMIT = 100  # BatchCreatePartition takes at most 100 partitions


class PartitionRegistrar:
    def __init__(self, settings: Settings, dataset: Dataset) -> None:
        self.glue = clients.aws_client(settings, "glue")
        self.database = settings.glue_database
        self.table = dataset.table
        self.location = layout.table_location(settings.bucket(dataset), dataset.table)
        self.known: set[str] = set()
        self._descriptor: dict[str, Any] | None = None
        self._missing_until = 0.0
        self._lock = threading.Lock()

    def register(self, days: Iterable[str]) -> list[str]:
        """Create the partitions of `days` that the table lacks; the ones created."""
        with self._lock:
            new = sorted(set(days) - self.known)
            if not new:
                return []
            try:
                created = self._create(new)
            except Exception as exc:
                log.warning("%s: partitions %s not registered (%s)", self.table, new, exc)
                return []
            return created

    def _table_descriptor(self) -> dict[str, Any] | None:
        if self._descriptor is None and time.monotonic() >= self._missing_until:
            try:
                table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
            except self.glue.exceptions.EntityNotFoundException:
                self._missing_until = time.monotonic() + MISSING_TABLE_RECHECK_S
                return None
            self._descriptor = table["StorageDescriptor"]
        return self._descriptor

    def _create(self, days: list[str]) -> list[str]:
        descriptor = self._table_descriptor()
        if descriptor is None:
            return []  # not crawled yet: the first crawl registers every partition
        created, there = create_partitions(
            self.glue, self.database, self.table, descriptor, self.location, days
        )
        self.known.update(created, there)
        return created


def partition_days(glue: Any, database: str, table: str) -> list[str]:
    """The `dt` values a table's Glue partitions hold; none if the table does not exist."""
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    try:
        return [p["Values"][0] for page in pages for p in page.get("Partitions", [])]
    except glue.exceptions.EntityNotFoundException:
        return []  # never crawled


def create_partitions(
    glue: Any, database: str, table: str, descriptor: dict[str, Any], location: str, days: list[str]
) -> tuple[list[str], list[str]]:
    """BatchCreatePartition for `days`, each with the table's storage descriptor and its own
    S3 folder, 100 at a time: (the days created, the days that already existed). A day refused
    for another reason is logged and left out of both, to be tried again."""
    created: list[str] = []
    there: list[str] = []
    for i in range(0, len(days), BATCH_LIMIT):
        chunk = days[i : i + BATCH_LIMIT]
        inputs = []
        for day in chunk:
            sd = copy.deepcopy(descriptor)
            sd["Location"] = layout.day_prefix(location, day)
            inputs.append({"Values": [day], "StorageDescriptor": sd})
        response = glue.batch_create_partition(
            DatabaseName=database, TableName=table, PartitionInputList=inputs
        )
        errors = {e["PartitionValues"][0]: e["ErrorDetail"] for e in response.get("Errors", [])}
        for day in chunk:
            detail = errors.get(day)
            if detail is None:
                created.append(day)
            elif detail.get("ErrorCode") == "AlreadyExistsException":
                there.append(day)
            else:
                log.warning("%s: partition %s not registered (%s)", table, day, detail)
    return created, there
