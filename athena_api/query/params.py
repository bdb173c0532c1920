"""The query parameters of `/api/query-table/`, declared once: DRF validates them and drf-yasg
documents them from the same serializer (`query_serializer`).

Messages name the parameter and say what is accepted; a parameter the endpoint does not know is
refused rather than ignored, so a typo never silently returns unfiltered rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from rest_framework import serializers

from athena_api.query.builder import TABLE_NAME, BadRequest, parse_limit
from lakestream.core.settings import MAX_RESULT_AGE_S

LAYERS = ["raw", "curated"]


class StrictQuerySerializer(serializers.Serializer):
    """Refuses query parameters it does not declare."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            name = unknown[0][:40]
            raise serializers.ValidationError({name: [f"unknown parameter {name!r}"]})
        return super().to_internal_value(data)


def optional_text(help_text: str) -> serializers.CharField:
    """An optional query parameter taken as sent (blank allowed, spaces kept)."""
    return serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text=help_text
    )


def max_age_field() -> serializers.IntegerField:
    """`max_age`: how old a reused answer may be (athena_api/query/reuse.py)."""
    return serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_RESULT_AGE_S,
        help_text="Seconds: an answer already computed on the same data (the raw table's "
        "objects, the curated table's snapshot) may be returned if it is at most this old "
        "(default API_RESULT_MAX_AGE; 0 runs the query). The response says `reused` and "
        "`age_s`; its ETag, sent back as If-None-Match, gets 304 while the data is unchanged.",
        error_messages={
            "invalid": "max_age must be a whole number of seconds",
            "min_value": "max_age must be 0 or more seconds",
            "max_value": f"max_age must be at most {MAX_RESULT_AGE_S} seconds (7 days)",
            "max_string_length": "max_age must be a whole number of seconds",
        },
    )


class QueryTableParams(StrictQuerySerializer):
    format = serializers.ChoiceField(
        ["json", "athena"],
        default="json",
        help_text="athena: the original design's ResultSet shape",
        error_messages={"invalid_choice": "format must be json or athena"},
    )
    limit = optional_text("Rows to return (default 10, at most API_MAX_LIMIT)")
    table = serializers.CharField(
        trim_whitespace=False,
        help_text="A table of the Glue database, e.g. kafka_ing_social_data",
        error_messages={
            "required": "table is required, e.g. ?table=kafka_ing_social_data",
            "blank": "table is required, e.g. ?table=kafka_ing_social_data",
        },
    )
    filter = optional_text(
        "A condition: column='value', comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, "
        "IS [NOT] NULL, parentheses"
    )
    columns = optional_text("Comma-separated columns to return (default all)")
    order_by = optional_text("Comma-separated columns, each optionally asc or desc")

    layer = serializers.ChoiceField(
        LAYERS,
        default="raw",
        help_text="raw: the landed JSON lines (the original design's tables); curated: the "
        "typed Apache Iceberg tables",
        error_messages={"invalid_choice": "layer must be raw or curated"},
    )
    max_age = max_age_field()
    as_of = optional_text(
        "Time travel on layer=curated: the table as it was at this ISO timestamp, e.g. "
        "2026-11-23T10:00:00 (UTC)"
    )

    def validate_as_of(self, value: str) -> datetime | None:
        if value == "":
            return None
        if len(value) > 40:
            raise serializers.ValidationError("as_of must be an ISO timestamp")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError(
                "as_of must be an ISO timestamp, e.g. 2026-11-23T10:00:00"
            ) from None
        if parsed.tzinfo is not None:  # the lake's timestamps are UTC without a zone
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed.replace(microsecond=0)

    def validate_limit(self, value: str) -> int:
        try:
            return parse_limit(value, settings.API_DEFAULT_LIMIT, settings.API_MAX_LIMIT)
        except BadRequest as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_table(self, value: str) -> str:
        if not TABLE_NAME.match(value):
            raise serializers.ValidationError("table must be a table name (letters, digits, _)")
        return value.lower()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("limit", settings.API_DEFAULT_LIMIT)
        attrs.setdefault("max_age", settings.API_RESULT_MAX_AGE)
        if attrs.get("as_of") and attrs["layer"] != "curated":
            raise serializers.ValidationError(
                {"as_of": ["as_of needs layer=curated: only the Iceberg tables keep history"]}
            )
        return attrs


def database_of(layer: str) -> str:
    """The Glue database of a layer."""
    return settings.LAKE.curated_database if layer == "curated" else settings.LAKE.glue_database
