"""`GET /api/stats/`: the lake at a glance, per dataset and layer, from metadata.

- raw: one S3 listing of the table prefix (objects, bytes, dt= partitions, newest event day, last
  landed at); rows from the sink group's committed offsets minus the dead letters; dead letters
  counted from each dead-letter object's metadata (`x-amz-meta-records`, one HEAD per object
  and ETag per process), read only for objects written before the sink set it.
- curated: the Iceberg table's current snapshot summary (rows, files, bytes), its manifests
  (partitions, newest event time from the files' upper bounds), the dead-letter count and the
  watermark kept in its properties; lag = what the sink committed and no pass applied yet.
- kafka: per partition, the sink group's committed offset, the end offset as the broker reports
  it through a fetch (the embedded broker's ListOffsets is wrong: docs/broker-quirks.md), and
  the lag between them.
- audit (with `audit=true`): curation/reconcile.py, as `lakestream audit` prints it.
No data file is read, nor any dead-letter object the sink wrote with its count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from drf_yasg.utils import swagger_auto_schema
from pyiceberg.conversions import from_bytes
from pyiceberg.exceptions import NoSuchTableError
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from athena_api.query import views
from athena_api.query.params import StrictQuerySerializer
from consumers.audit import object_records
from consumers.groups import DEFAULT_GROUP_PREFIX, group_id, groups_lag
from curation.catalog import iceberg_catalog
from curation.maintain import iso_day
from curation.reconcile import audit_dataset
from curation.tables import identifier
from curation.watermark import DEAD_LETTERS_PROPERTY, read_watermark
from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def dead_letters(s3: Any, bucket: str, prefix: str) -> int:
    return sum(object_records(s3, bucket, obj) for obj in clients.list_objects(s3, bucket, prefix))


def raw_stats(settings: Settings, s3: Any, dataset: Dataset, committed: dict[int, int]) -> dict:
    bucket = settings.bucket(dataset)
    objects = clients.list_objects(s3, bucket, layout.data_prefix(dataset.table))
    days = {raw.dt for raw in map(layout.parse_key, (o["Key"] for o in objects)) if raw}
    dead = dead_letters(s3, bucket, layout.dlq_prefix(dataset.topic))
    return {
        "layer": "raw",
        "database": settings.glue_database,
        "table": dataset.table,
        "rows": max(0, sum(committed.values()) - dead),
        "objects": len(objects),
        "bytes": sum(o["Size"] for o in objects),
        "partitions": len(days),
        "newest_event_day": max(days, default=None),
        "last_landed_at": _iso(max((o["LastModified"] for o in objects), default=None)),
        "dead_letters": dead,
    }


def curated_stats(settings: Settings, catalog: Any, dataset: Dataset, committed: dict) -> dict:
    base = {"layer": "curated", "database": settings.curated_database, "table": dataset.table}
    try:
        table = catalog.load_table(identifier(settings, dataset))
    except NoSuchTableError:
        return {**base, "exists": False, "rows": 0, "lag_records": sum(committed.values())}
    snapshot = table.current_snapshot()
    summary = snapshot.summary.additional_properties if snapshot and snapshot.summary else {}
    field = table.schema().find_field(dataset.event_time_field)
    days: set[int] = set()
    newest: Any = None
    if snapshot:
        for task in table.scan(selected_fields=(dataset.event_time_field,)).plan_files():
            days.add(int(task.file.partition[0]))
            bound = (task.file.upper_bounds or {}).get(field.field_id)
            if bound is not None:
                value = from_bytes(field.field_type, bound)
                newest = value if newest is None else max(newest, value)
    mark = read_watermark(table)
    lag = mark.lag(committed)
    newest_text = None
    if newest is not None:  # days since the epoch (date) or microseconds (timestamp)
        if dataset.column(dataset.event_time_field).type == "date":
            newest_text = iso_day(newest)
        else:
            newest_text = datetime.fromtimestamp(newest / 1e6, UTC).isoformat(timespec="seconds")
    return {
        **base,
        "exists": True,
        "rows": int(summary.get("total-records", 0)),
        "files": int(summary.get("total-data-files", 0)),
        "bytes": int(summary.get("total-files-size", 0)),
        "partitions": len(days),
        "newest_event_time": newest_text,
        "last_committed_at": _iso(
            datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC) if snapshot else None
        ),
        "snapshots": len(table.metadata.snapshots),
        "dead_letters": int(table.properties.get(DEAD_LETTERS_PROPERTY, "0")),
        "lag_records": lag,
    }


def lake_stats(
    settings: Settings,
    datasets: list[Dataset],
    group_prefix: str = DEFAULT_GROUP_PREFIX,
    with_audit: bool = False,
    readers: tuple[Any, Any] | None = None,
) -> dict[str, Any]:
    """`readers`: an S3 client and an Iceberg catalog to read with (built here if None)."""
    s3, catalog = readers or lake_readers(settings)
    out = []
    groups = {group_id(group_prefix, ds): (ds.topic, list(range(ds.partitions))) for ds in datasets}
    all_lags = groups_lag(settings, groups)
    for ds in datasets:
        group = group_id(group_prefix, ds)
        lags = all_lags[group]
        committed = {p.partition: p.committed for p in lags if p.committed is not None}
        known = [p.lag for p in lags if p.lag is not None]
        out.append(
            {
                "dataset": ds.name,
                "topic": ds.topic,
                "layers": [
                    raw_stats(settings, s3, ds, committed),
                    curated_stats(settings, catalog, ds, committed),
                ],
                **({"audit": _audit(settings, ds, group_prefix)} if with_audit else {}),
                "kafka": {
                    "group": group,
                    "lag": sum(known) if len(known) == len(lags) else None,
                    "partitions": [
                        {
                            "partition": p.partition,
                            "committed": p.committed,
                            "end": p.end,
                            "lag": p.lag,
                        }
                        for p in lags
                    ],
                },
            }
        )
    return {"generated_at": _iso(datetime.now(UTC)), "datasets": out}


def lake_readers(settings: Settings) -> tuple[Any, Any]:
    """An S3 client and an Iceberg catalog for `settings`. Neither keeps any answer: they hold
    a client each and its connections."""
    return clients.aws_client(settings, "s3"), iceberg_catalog(settings)


def _audit(settings: Settings, dataset: Dataset, group_prefix: str) -> dict[str, Any]:
    partitions = audit_dataset(settings, dataset, group_prefix)
    return {
        "unaccounted": sum(p.unaccounted for p in partitions),
        "skipped": sum(p.skipped for p in partitions),
        "partitions": [p.to_dict() for p in partitions],
    }


class StatsParams(StrictQuerySerializer):
    datasets = serializers.CharField(
        required=False,
        help_text="Comma-separated datasets or topics (default: all)",
    )
    group_prefix = serializers.RegexField(
        r"^[A-Za-z0-9._-]{1,100}$",
        required=False,
        default=DEFAULT_GROUP_PREFIX,
        help_text="The sink's --group-prefix (default lakestream-sink; make demo: lakestream-demo)",
        error_messages={"invalid": "group_prefix must be 1-100 letters, digits, '.', '_' or '-'"},
    )

    audit = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Add the reconciliation of `lakestream audit`: per partition, committed "
        "offsets against raw records and dead letters, applied offsets against curated rows "
        "and curation's dead letters; 'unaccounted' must be 0; 'skipped' counts the offsets the "
        "broker never delivered (gaps in its log). One HEAD per raw object, once per object and "
        "ETag.",
    )

    def validate_datasets(self, value: str) -> list[Dataset]:
        names = [n.strip() for n in value.split(",") if n.strip()]
        try:
            return settings.LAKE.datasets.select(names)
        except (KeyError, ValueError, LakestreamError) as exc:
            raise serializers.ValidationError(str(exc)[:200]) from None


class StatsView(APIView):
    @swagger_auto_schema(
        operation_id="lake_stats",
        operation_description="Per dataset and layer: rows, objects or files, bytes, partitions, "
        "newest event, last landed or committed, dead letters, curated lag; and the sink "
        "group's Kafka lag per partition. Read from metadata: listings, snapshot summaries, "
        "manifests, committed offsets, and the dead-letter objects' counts (a HEAD each, once "
        "per process).",
        query_serializer=StatsParams,
        responses={200: "stats", 400: "a parameter was refused", 502: "catalog failure"},
    )
    def get(self, request: Request) -> Response:
        params = StatsParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        lake = settings.LAKE
        datasets = q.get("datasets") or list(lake.datasets)
        # Built once per worker: each boto3 client (S3, and the catalog's Glue) costs tens of
        # milliseconds of CPU to build, on every call of a page that polls this route. They
        # keep no answer: pyiceberg reads Glue and the table's metadata on every load.
        secrets = (lake.aws_secret_access_key, lake.aws_session_token)
        key = ("stats readers", lake.aws_endpoint_url, lake.aws_region, lake.aws_access_key_id,
               *(s.get_secret_value() if s else None for s in secrets))  # fmt: skip
        readers = views.shared(key, lambda: lake_readers(lake))
        return Response(lake_stats(lake, datasets, q["group_prefix"], q["audit"], readers))
