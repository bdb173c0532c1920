"""The Iceberg catalog of the curated layer: pyiceberg's Glue catalog, pointed where the settings
say (the moto server locally, AWS otherwise), with pyarrow's S3 filesystem for the files."""

from __future__ import annotations

from typing import Any

from pyiceberg.catalog import Catalog, load_catalog

from lakestream.core.settings import Settings


def iceberg_catalog(settings: Settings) -> Catalog:
    properties: dict[str, Any] = {
        "type": "glue",
        "glue.region": settings.aws_region,
        "s3.region": settings.aws_region,
        # pyiceberg's s3fs IO does not resolve here; pyarrow's S3 filesystem does the job.
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
    }
    if settings.aws_endpoint_url:
        properties["glue.endpoint"] = settings.aws_endpoint_url
        properties["s3.endpoint"] = settings.aws_endpoint_url
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        secret = settings.aws_secret_access_key.get_secret_value()
        for prefix in ("glue", "s3"):
            properties[f"{prefix}.access-key-id"] = settings.aws_access_key_id
            properties[f"{prefix}.secret-access-key"] = secret
        if settings.aws_session_token:
            token = settings.aws_session_token.get_secret_value()
            properties["glue.session-token"] = properties["s3.session-token"] = token
    return load_catalog("lakestream", **properties)
